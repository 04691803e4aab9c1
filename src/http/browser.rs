//! Browser endpoints: /oauth2/authorize, /login (GET and POST) and /logout.

use super::pages::{self, LoginPage, SignedOutPage};
use super::pool::PoolSite;
use super::respond::{self, run_flow};
use crate::app::AppState;
use crate::flows::authorize::AuthorizeOutcome;
use crate::flows::login::{self, LoginOutcome, Submission};
use crate::flows::logout::LogoutOutcome;
use crate::flows::session::{self, CSRF_COOKIE, SESSION_COOKIE};
use crate::flows::{self, Site};
use crate::oauth::OAuthError;
use crate::secrets;
use crate::store::now;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

fn cookie_value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

fn invalid_request_page(message: &str) -> HttpResponse {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        "This sign-in request is not valid",
        message,
    )
}

fn unavailable_page(error: &OAuthError) -> HttpResponse {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    pages::error_page(
        status,
        "Something went wrong",
        "The sign-in service could not complete the request. Please try again.",
    )
}

fn login_location(site: &Site, req: &HttpRequest, query: &str) -> String {
    let path = respond::cookie_path(site, req);
    let base = if path == "/" { String::new() } else { path };
    format!("{base}/login?{query}")
}

pub async fn authorize(
    state: web::Data<AppState>,
    pool: PoolSite,
    req: HttpRequest,
) -> HttpResponse {
    let site = pool.site();
    let (query, cookie, services, flow_site) = (
        req.query_string().to_owned(),
        cookie_value(&req, SESSION_COOKIE),
        state.services.clone(),
        site.clone(),
    );
    let outcome = run_flow(&state, move |conn| {
        flows::authorize::start(
            conn,
            &services,
            &flow_site,
            &query,
            cookie.as_deref(),
            now(),
        )
    })
    .await;
    match outcome {
        Ok(AuthorizeOutcome::Page(message)) => invalid_request_page(&message),
        Ok(AuthorizeOutcome::Redirect(location)) => respond::redirect(&location).finish(),
        Ok(AuthorizeOutcome::SignIn(query)) => {
            respond::redirect(&login_location(&site, &req, &query)).finish()
        }
        Err(error) => unavailable_page(&error),
    }
}

/// The page for a login outcome; sets the CSRF cookie when the browser had none.
fn login_response(
    state: &AppState,
    site: &Site,
    req: &HttpRequest,
    outcome: Result<LoginOutcome, OAuthError>,
    csrf_cookie: Option<String>,
) -> HttpResponse {
    let path = respond::cookie_path(site, req);
    match outcome {
        Ok(LoginOutcome::Show { view, session }) => {
            let (csrf_value, fresh) = match csrf_cookie {
                Some(value) => (value, false),
                None => (secrets::random_token(32), true),
            };
            let page = LoginPage {
                lang: &view.lang,
                step: view.step,
                client_name: &view.client_name,
                username: &view.username,
                error: view.error.as_deref(),
                csrf: &session::csrf_token(&csrf_value),
                password_rules: &view.password_rules,
            };
            let mut response = pages::render(StatusCode::OK, &page);
            if fresh {
                let _ = response.add_cookie(&respond::cookie(
                    state,
                    &path,
                    CSRF_COOKIE,
                    csrf_value,
                    None,
                ));
            }
            if let Some(session) = session {
                let _ = response.add_cookie(&respond::session_cookie(state, &path, session));
            }
            response
        }
        Ok(LoginOutcome::Redirect { location, session }) => {
            let mut response = respond::redirect(&location);
            if let Some(session) = session {
                response.cookie(respond::session_cookie(state, &path, session));
            }
            response.finish()
        }
        Ok(LoginOutcome::Page(message)) => invalid_request_page(&message),
        Err(error) => unavailable_page(&error),
    }
}

pub async fn login_page(
    state: web::Data<AppState>,
    pool: PoolSite,
    req: HttpRequest,
) -> HttpResponse {
    let site = pool.site();
    let (query, flow_site, services) = (
        req.query_string().to_owned(),
        site.clone(),
        state.services.clone(),
    );
    let outcome = run_flow(&state, move |conn| {
        login::show(conn, &services, &flow_site, &query)
    })
    .await;
    login_response(
        &state,
        &site,
        &req,
        outcome,
        cookie_value(&req, CSRF_COOKIE),
    )
}

pub async fn login_submit(
    state: web::Data<AppState>,
    pool: PoolSite,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let site = pool.site();
    let form = match respond::form_params(&req, &body) {
        Ok(form) => form,
        Err(error) => return invalid_request_page(&error.description),
    };
    let csrf_cookie = cookie_value(&req, CSRF_COOKIE);
    let session_cookie = cookie_value(&req, SESSION_COOKIE);
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let (query, services, flow_site, csrf) = (
        req.query_string().to_owned(),
        state.services.clone(),
        site.clone(),
        csrf_cookie.clone(),
    );
    let outcome = run_flow(&state, move |conn| {
        let input = Submission {
            query: &query,
            form: &form,
            csrf_cookie: csrf.as_deref(),
            session_cookie: session_cookie.as_deref(),
            address: &address,
            now: now(),
        };
        login::submit(conn, &services, &flow_site, input)
    })
    .await;
    login_response(&state, &site, &req, outcome, csrf_cookie)
}

pub async fn logout(state: web::Data<AppState>, pool: PoolSite, req: HttpRequest) -> HttpResponse {
    let site = pool.site();
    let path = respond::cookie_path(&site, &req);
    let (query, cookie, services, flow_site) = (
        req.query_string().to_owned(),
        cookie_value(&req, SESSION_COOKIE),
        state.services.clone(),
        site.clone(),
    );
    let outcome = run_flow(&state, move |conn| {
        flows::logout::logout(
            conn,
            &services,
            &flow_site,
            &query,
            cookie.as_deref(),
            now(),
        )
    })
    .await;
    let clear = respond::expired_session_cookie(&state, &path);
    match outcome {
        Ok(LogoutOutcome::Redirect(location)) => {
            respond::redirect(&location).cookie(clear).finish()
        }
        Ok(LogoutOutcome::SignIn(query)) => respond::redirect(&login_location(&site, &req, &query))
            .cookie(clear)
            .finish(),
        Ok(LogoutOutcome::SignedOut) => {
            let mut response = pages::render(StatusCode::OK, &SignedOutPage { lang: "en" });
            let _ = response.add_cookie(&clear);
            response
        }
        Ok(LogoutOutcome::Page(message)) => pages::error_page(
            StatusCode::BAD_REQUEST,
            "This sign-out request is not valid",
            &message,
        ),
        Err(error) => unavailable_page(&error),
    }
}
