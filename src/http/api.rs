//! API endpoints for clients and resource servers: /oauth2/token, /oauth2/userInfo,
//! /oauth2/revoke and /oauth2/introspect.
//!
//! How apps call them: docs/integrating.md.

use super::pool::PoolSite;
use super::respond::{self, form_params, run_flow, run_read_flow, run_short_flow};
use crate::flows;
use crate::http::AppState;
use crate::oauth::client_auth::strip_scheme;
use crate::oauth::{OAuthError, Params};
use crate::store::now;
use actix_web::{HttpRequest, HttpResponse, web};

/// Notes the client a token, revocation or introspection request names, for the request log.
fn log_client(req: &HttpRequest, auth: Option<&str>, form: &Params) {
    if let Ok(credentials) = crate::oauth::client_auth::extract(auth, form) {
        super::log_client(req, credentials.client_id());
    }
}

fn authorization(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

pub async fn token(
    state: web::Data<AppState>,
    pool: PoolSite,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form = match form_params(&req, &body) {
        Ok(form) => form,
        Err(error) => return respond::oauth_error(&error),
    };
    let (site, services, auth) = (pool.site(), state.services.clone(), authorization(&req));
    log_client(&req, auth.as_deref(), &form);
    // A pool with a pre token generation hook waits on it: its grants run on the blocking pool
    // with a connection they give back while the hook thinks.
    if flows::pre_token::needs_lease(&site) {
        let result = respond::run_leased_flow(&state, move |db| {
            flows::token::grant(db, &services, &site, auth.as_deref(), &form, now())
        })
        .await;
        return match result {
            Ok(tokens) => respond::no_store(HttpResponse::Ok()).json(tokens),
            Err(error) => respond::oauth_error(&error),
        };
    }
    // Client credentials only read (cached) client data and sign; the other grants write one
    // short transaction, and never wait on anything but the database.
    let reads_only = form.get("grant_type") == Some("client_credentials");
    let grant = move |conn: &mut crate::store::AnyConnection| {
        flows::token::grant(conn, &services, &site, auth.as_deref(), &form, now())
    };
    let result = if reads_only {
        run_read_flow(&state, grant).await
    } else {
        run_short_flow(&state, grant).await
    };
    match result {
        Ok(tokens) => respond::no_store(HttpResponse::Ok()).json(tokens),
        Err(error) => respond::oauth_error(&error),
    }
}

/// The bearer token of a userInfo request: the Authorization header, or (POST) the form.
fn bearer_token(req: &HttpRequest, body: &[u8]) -> Result<String, OAuthError> {
    let form = (!body.is_empty()).then(|| form_params(req, body));
    let in_body = match &form {
        Some(Ok(form)) => form.get("access_token").map(str::to_owned),
        _ => None,
    };
    if let Some(header) = authorization(req) {
        // RFC 6750 §2: a client uses one method to send its token.
        if in_body.is_some() {
            return Err(OAuthError::invalid_request(
                "send the access token in the Authorization header or the body, not both",
            ));
        }
        return strip_scheme(&header, "Bearer")
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                OAuthError::invalid_request(
                    "the Authorization header must be `Bearer <access token>`",
                )
            });
    }
    if let Some(Err(error)) = form {
        return Err(error);
    }
    if let Some(token) = in_body {
        return Ok(token);
    }
    Err(OAuthError::invalid_request(
        "Bad OAuth2 request at UserInfo Endpoint: no access token",
    ))
}

pub async fn user_info(
    state: web::Data<AppState>,
    pool: PoolSite,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let token = match bearer_token(&req, &body) {
        Ok(token) => token,
        Err(error) => {
            return respond::no_store(HttpResponse::BadRequest())
                .insert_header(("WWW-Authenticate", respond::bearer_challenge(&error)))
                .json(serde_json::json!({ "error": error.code.as_str(), "error_description": error.description }));
        }
    };
    let (site, services) = (pool.site(), state.services.clone());
    match run_read_flow(&state, move |conn| {
        flows::userinfo::user_info(conn, &services, &site, &token, now())
    })
    .await
    {
        Ok(answer) => {
            super::log_client(&req, &answer.client_id);
            respond::no_store(HttpResponse::Ok()).json(answer.claims)
        }
        Err(error) => respond::oauth_error(&error),
    }
}

async fn with_form<T, F>(
    state: web::Data<AppState>,
    pool: PoolSite,
    req: HttpRequest,
    body: web::Bytes,
    flow: F,
) -> Result<T, OAuthError>
where
    F: FnOnce(
            &mut crate::store::AnyConnection,
            &flows::Services,
            &flows::Site,
            Option<&str>,
            &Params,
        ) -> Result<T, OAuthError>
        + Send
        + 'static,
    T: Send + 'static,
{
    let form = form_params(&req, &body)?;
    let (site, auth, services) = (pool.site(), authorization(&req), state.services.clone());
    log_client(&req, auth.as_deref(), &form);
    run_flow(&state, move |conn| {
        flow(conn, &services, &site, auth.as_deref(), &form)
    })
    .await
}

pub async fn revoke(
    state: web::Data<AppState>,
    pool: PoolSite,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    match with_form(
        state,
        pool,
        req,
        body,
        |conn, services, site, auth, form| {
            flows::revoke::revoke(conn, services, site, auth, form, now())
        },
    )
    .await
    {
        Ok(()) => respond::no_store(HttpResponse::Ok()).finish(),
        Err(error) => respond::oauth_error(&error),
    }
}

pub async fn introspect(
    state: web::Data<AppState>,
    pool: PoolSite,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    match with_form(
        state,
        pool,
        req,
        body,
        |conn, services, site, auth, form| {
            flows::introspect::introspect(conn, services, site, auth, form, now())
        },
    )
    .await
    {
        Ok(answer) => respond::no_store(HttpResponse::Ok()).json(answer),
        Err(error) => respond::oauth_error(&error),
    }
}
