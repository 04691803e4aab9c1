//! The demo's own app at `/demo/`, served only when the server runs without a file: a relying
//! party doing the authorization code flow with PKCE (RFC 7636 §4), `state` (RFC 6749 §10.12)
//! and `nonce`, checking the ID token as OpenID Connect Core §3.1.3.7 asks, and ending on a page
//! that shows what the pool issued.
//!
//! What a newcomer sees: docs/integrating.md, "The demo app".

use super::AppState;
use super::cookies::{DEMO_PENDING_COOKIE, DEMO_REFRESH_COOKIE};
use super::pages::page_response_to;
use super::respond::{self, run_flow};
use crate::flows::{self, Services, Site, token::TokenResponse};
use crate::oauth::discovery::PoolUrls;
use crate::oauth::{OAuthError, Params, pkce};
use crate::secrets::random_token;
use crate::settings::DemoApp;
use crate::store::{self, AnyConnection, StoreError, now};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::{Map, Value};

/// How long a sign-in may take from `/demo/` to the callback.
const PENDING_SECONDS: i64 = 600;
const SCOPE: &str = "openid email profile";
/// Both cookies are scoped to the demo app's paths.
const COOKIE_PATH: &str = "/demo/";

/// The demo app's routes; registered only when the server runs the demo.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/demo", web::get().to(to_start))
        .route("/demo/", web::get().to(start))
        .route("/demo/callback", web::get().to(callback))
        .route("/demo/refresh", web::post().to(refresh))
        .route("/demo/logout", web::post().to(logout));
}

/// Where the demo app is, derived from the settings.
struct App<'a> {
    public_url: &'a str,
    app: &'a DemoApp,
}

impl App<'_> {
    fn issuer(&self) -> String {
        format!("{}/{}", self.public_url, self.app.pool_id)
    }
    fn callback(&self) -> String {
        crate::provision::demo_callback_url(self.public_url)
    }
    /// The public URL's origin: forms here may end in redirects to it (CSP `form-action`).
    fn origin(&self) -> String {
        url::Url::parse(self.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

fn app(state: &AppState) -> Option<App<'_>> {
    state.settings.demo.as_ref().map(|app| App {
        public_url: &state.settings.public_url,
        app,
    })
}

/// The sign-in in flight, kept in an HttpOnly cookie of the demo's paths only: the verifier
/// never travels through the authorization server, and `state` ties the callback to the browser
/// that started it.
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
}

impl Pending {
    fn new() -> Self {
        Self {
            state: random_token(16),
            nonce: random_token(16),
            verifier: random_token(32),
        }
    }
    // The three values are base64url, which has no '.'.
    fn encode(&self) -> String {
        format!("{}.{}.{}", self.state, self.nonce, self.verifier)
    }
    fn decode(value: &str) -> Option<Self> {
        let mut parts = value.split('.');
        let (state, nonce, verifier) = (parts.next()?, parts.next()?, parts.next()?);
        (parts.next().is_none() && pkce::is_well_formed(verifier)).then(|| Self {
            state: state.to_owned(),
            nonce: nonce.to_owned(),
            verifier: verifier.to_owned(),
        })
    }
}

async fn to_start() -> HttpResponse {
    respond::redirect(COOKIE_PATH).finish()
}

/// `GET /demo/`: a new sign-in, sent to the pool's authorization endpoint.
async fn start(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(app) = app(&state) else {
        return super::not_found(state.clone(), req).await;
    };
    let pending = Pending::new();
    let location = url::Url::parse_with_params(
        &format!("{}/oauth2/authorize", app.issuer()),
        &[
            ("response_type", "code"),
            ("client_id", app.app.client_id.as_str()),
            ("redirect_uri", app.callback().as_str()),
            ("scope", SCOPE),
            ("state", pending.state.as_str()),
            ("nonce", pending.nonce.as_str()),
            (
                "code_challenge",
                pkce::challenge(&pending.verifier).as_str(),
            ),
            ("code_challenge_method", "S256"),
        ],
    );
    let Ok(location) = location else {
        return problem(
            &app,
            StatusCode::INTERNAL_SERVER_ERROR,
            "The public URL is not a URL.",
            None,
        );
    };
    respond::redirect(location.as_str())
        .cookie(respond::cookie(
            &state,
            COOKIE_PATH,
            DEMO_PENDING_COOKIE,
            pending.encode(),
            Some(PENDING_SECONDS),
        ))
        .finish()
}

/// `GET /demo/callback`: checks `state`, redeems the code with the verifier through the token
/// endpoint's own use case, checks the ID token and asks userInfo.
async fn callback(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(app) = app(&state) else {
        return super::not_found(state.clone(), req).await;
    };
    let pending = req
        .cookie(DEMO_PENDING_COOKIE)
        .and_then(|c| Pending::decode(c.value()));
    // A sign-in is answered once, whatever the answer.
    let spent = respond::cookie(
        &state,
        COOKIE_PATH,
        DEMO_PENDING_COOKIE,
        String::new(),
        Some(0),
    );
    let mut response = match Params::parse(req.query_string()) {
        Err(e) => problem(
            &app,
            StatusCode::BAD_REQUEST,
            "The callback's query is malformed.",
            Some(e.description),
        ),
        Ok(params) => answer(&state, &app, &params, pending).await,
    };
    let _ = response.add_cookie(&spent);
    response
}

async fn answer(
    state: &AppState,
    app: &App<'_>,
    params: &Params,
    pending: Option<Pending>,
) -> HttpResponse {
    if let Some(error) = params.get("error") {
        let detail = match params.get("error_description") {
            Some(description) => format!("{error}: {description}"),
            None => error.to_owned(),
        };
        return problem(
            app,
            StatusCode::BAD_REQUEST,
            "The pool did not sign you in.",
            Some(detail),
        );
    }
    let Some(pending) = pending else {
        return problem(
            app,
            StatusCode::BAD_REQUEST,
            "This sign-in was not started here (in this browser, at this address), or it took longer than ten minutes.",
            None,
        );
    };
    if params.get("state") != Some(pending.state.as_str()) {
        return problem(
            app,
            StatusCode::BAD_REQUEST,
            "The answer's state is not the one this browser sent: it is not the answer to this sign-in.",
            None,
        );
    }
    let Some(code) = params.get("code") else {
        return problem(
            app,
            StatusCode::BAD_REQUEST,
            "The answer has no code.",
            None,
        );
    };
    let mut form = Params::default();
    form.insert("grant_type", "authorization_code");
    form.insert("client_id", &app.app.client_id);
    form.insert("code", code);
    form.insert("redirect_uri", &app.callback());
    form.insert("code_verifier", &pending.verifier);
    let outcome = tokens(state, app, form, Some(pending.nonce)).await;
    signed_in_page(state, app, outcome, None)
}

/// `POST /demo/refresh`: new tokens from the refresh token. Posting keeps other sites from
/// doing it: the SameSite=Lax cookie is not sent with another site's form.
async fn refresh(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(app) = app(&state) else {
        return super::not_found(state.clone(), req).await;
    };
    let Some(refresh_token) = req
        .cookie(DEMO_REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
    else {
        return problem(
            &app,
            StatusCode::BAD_REQUEST,
            "There is no refresh token here: sign in first.",
            None,
        );
    };
    let mut form = Params::default();
    form.insert("grant_type", "refresh_token");
    form.insert("client_id", &app.app.client_id);
    form.insert("refresh_token", &refresh_token);
    let mut outcome = tokens(&state, &app, form, None).await;
    // Without rotation the refresh token stays the same.
    if let Ok(Ok(signed)) = &mut outcome
        && signed.tokens.refresh_token.is_none()
    {
        signed.tokens.refresh_token = Some(refresh_token);
    }
    signed_in_page(
        &state,
        &app,
        outcome,
        Some("New tokens, from the refresh token."),
    )
}

/// `POST /demo/logout`: revokes the refresh token, forgets it, and signs out of the pool's
/// hosted pages, which send the browser back to `/demo/`.
async fn logout(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(app) = app(&state) else {
        return super::not_found(state.clone(), req).await;
    };
    if let Some(token) = req
        .cookie(DEMO_REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
    {
        let (services, client_id) = (state.services.clone(), app.app.client_id.clone());
        let (public_url, pool_id) = (app.public_url.to_owned(), app.app.pool_id.clone());
        let revoked = run_flow(&state, move |conn| {
            let site = site(conn, &public_url, &pool_id)?;
            let mut form = Params::default();
            form.insert("token", &token);
            form.insert("client_id", &client_id);
            flows::revoke::revoke(conn, &services, &site, None, &form, now())
        })
        .await;
        if let Err(error) = revoked {
            tracing::warn!(error = %error.description, "the demo app could not revoke its refresh token");
        }
    }
    let location = url::Url::parse_with_params(
        &format!("{}/logout", app.issuer()),
        &[
            ("client_id", app.app.client_id.as_str()),
            (
                "logout_uri",
                crate::provision::demo_start_url(app.public_url).as_str(),
            ),
        ],
    )
    .map(String::from)
    .unwrap_or_else(|_| COOKIE_PATH.to_owned());
    respond::no_store(HttpResponse::SeeOther())
        .insert_header(("Location", location))
        .cookie(respond::cookie(
            &state,
            COOKIE_PATH,
            DEMO_REFRESH_COOKIE,
            String::new(),
            Some(0),
        ))
        .finish()
}

/// The demo pool as flows see it.
fn site(conn: &mut AnyConnection, public_url: &str, pool_id: &str) -> Result<Site, OAuthError> {
    let pool = match store::pools::get(conn, pool_id) {
        Ok(pool) => pool,
        Err(StoreError::NotFound) => {
            return Err(OAuthError::not_found("the demo pool no longer exists"));
        }
        Err(e) => return Err(e.into()),
    };
    let urls = PoolUrls::new(public_url, pool_id, pool.domain.as_deref());
    Ok(Site { pool, urls })
}

/// What a successful grant shows.
struct SignedIn {
    tokens: TokenResponse,
    claims: Map<String, Value>,
    user_info: Result<Map<String, Value>, OAuthError>,
}

/// A grant's outcome: refused by the pool, or granted with tokens this app does (`Ok`) or does
/// not (`Err`, why) accept.
type Granted = Result<Result<SignedIn, String>, OAuthError>;

/// Runs the token endpoint's use case with `form`, then checks the ID token and calls userInfo.
async fn tokens(state: &AppState, app: &App<'_>, form: Params, nonce: Option<String>) -> Granted {
    let (services, client_id) = (state.services.clone(), app.app.client_id.clone());
    let (public_url, pool_id) = (app.public_url.to_owned(), app.app.pool_id.clone());
    run_flow(state, move |conn| {
        let site = site(conn, &public_url, &pool_id)?;
        let tokens = flows::token::grant(conn, &services, &site, None, &form, now())?;
        let Some(id_token) = &tokens.id_token else {
            return Ok(Err("the pool issued no ID token".to_owned()));
        };
        let claims = match check_id_token(
            conn,
            &services,
            &site,
            &client_id,
            id_token,
            nonce.as_deref(),
        )? {
            Ok(claims) => claims,
            Err(why) => return Ok(Err(why.to_owned())),
        };
        let user_info =
            flows::userinfo::user_info(conn, &services, &site, &tokens.access_token, now())
                .map(|answer| answer.claims);
        Ok(Ok(SignedIn {
            tokens,
            claims,
            user_info,
        }))
    })
    .await
}

/// OpenID Connect Core §3.1.3.7: signature by one of the pool's published keys, issuer, expiry,
/// audience (this client), and the nonce this browser sent (absent from refreshed ID tokens).
fn check_id_token(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    client_id: &str,
    token: &str,
    nonce: Option<&str>,
) -> Result<Result<Map<String, Value>, &'static str>, StoreError> {
    let claims: Option<Map<String, Value>> =
        services
            .keys
            .verify(conn, site.pool_id(), &site.urls.issuer, token, true, now())?;
    let Some(claims) = claims else {
        return Ok(Err(
            "the ID token's signature, issuer or expiry did not verify",
        ));
    };
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a == client_id),
        _ => false,
    };
    if !audience_ok {
        return Ok(Err("the ID token is not for this client"));
    }
    if claims.get("token_use").and_then(Value::as_str) != Some("id") {
        return Ok(Err("the token is not an ID token"));
    }
    if let Some(nonce) = nonce
        && claims.get("nonce").and_then(Value::as_str) != Some(nonce)
    {
        return Ok(Err("the ID token's nonce is not the one this browser sent"));
    }
    Ok(Ok(claims))
}

#[derive(Template)]
#[template(path = "demo_signed_in.html")]
struct SignedInPage {
    title: String,
    notice: Option<&'static str>,
    pool_id: String,
    claims: Vec<(String, String)>,
    user_info: String,
    id_token: String,
    access_token: String,
    refresh_token: Option<String>,
}

#[derive(Template)]
#[template(path = "demo_problem.html")]
struct ProblemPage {
    title: String,
    message: &'static str,
    detail: Option<String>,
    /// `/demo/` at the public URL: a sign-in started at another address of the server would
    /// keep its cookie there, and never match the callback.
    start: String,
}

fn signed_in_page(
    state: &AppState,
    app: &App<'_>,
    outcome: Granted,
    notice: Option<&'static str>,
) -> HttpResponse {
    let signed = match outcome {
        Ok(Ok(signed)) => signed,
        Ok(Err(why)) => {
            return problem(
                app,
                StatusCode::BAD_GATEWAY,
                "This app did not accept the pool's tokens.",
                Some(why),
            );
        }
        Err(error) => {
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let detail = format!("{}: {}", error.code.as_str(), error.description);
            return problem(
                app,
                status,
                "The pool refused to give this app tokens.",
                Some(detail),
            );
        }
    };
    let username = signed
        .claims
        .get("cognito:username")
        .and_then(Value::as_str)
        .unwrap_or("someone")
        .to_owned();
    let claims = signed
        .claims
        .iter()
        .map(|(name, value)| {
            let shown = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (name.clone(), shown)
        })
        .collect();
    let user_info = match &signed.user_info {
        Ok(info) => serde_json::to_string_pretty(info).unwrap_or_default(),
        Err(error) => format!("{}: {}", error.code.as_str(), error.description),
    };
    let page = SignedInPage {
        title: format!("It worked — you are signed in as {username}"),
        notice,
        pool_id: app.app.pool_id.clone(),
        claims,
        user_info,
        id_token: signed.tokens.id_token.clone().unwrap_or_default(),
        access_token: signed.tokens.access_token.clone(),
        refresh_token: signed.tokens.refresh_token.clone(),
    };
    let mut response = render(app, StatusCode::OK, &page);
    // The refresh token waits here for the refresh and sign-out buttons. A cookie is fine for a
    // local demo: HttpOnly (no script reads it), SameSite=Lax, on the demo's paths only, and
    // the page shows the same token anyway.
    if let Some(refresh_token) = signed.tokens.refresh_token {
        let cookie = respond::cookie(state, COOKIE_PATH, DEMO_REFRESH_COOKIE, refresh_token, None);
        let _ = response.add_cookie(&cookie);
    }
    response
}

/// A readable page with a way to start again.
fn problem(
    app: &App<'_>,
    status: StatusCode,
    message: &'static str,
    detail: Option<String>,
) -> HttpResponse {
    let page = ProblemPage {
        title: "Not signed in".to_owned(),
        message,
        detail,
        start: crate::provision::demo_start_url(app.public_url),
    };
    render(app, status, &page)
}

fn render(app: &App<'_>, status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => page_response_to(status, Some(&app.origin())).body(html),
        Err(e) => {
            tracing::error!("demo page failed to render: {e}");
            HttpResponse::InternalServerError().finish()
        }
    }
}
