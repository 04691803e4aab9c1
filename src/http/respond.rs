//! Turns flow results into HTTP: OAuth errors as JSON (RFC 6749 §5.2) with the headers the RFCs
//! ask for, redirects, cookies, and running a flow on the database's blocking pool.

use crate::flows::{SESSION_SECONDS, Site};
use crate::http::AppState;
use crate::oauth::{ErrorCode, OAuthError};
use crate::store::AnyConnection;
use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

/// Runs a flow with a connection; database trouble becomes an OAuth error.
pub async fn run_flow<T, F>(state: &AppState, flow: F) -> Result<T, OAuthError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, OAuthError> + Send + 'static,
    T: Send + 'static,
{
    match state.store.run(move |conn| Ok(flow(conn))).await {
        Ok(result) => result,
        Err(e) => Err(e.into()),
    }
}

/// Like `run_flow`, for flows that give their connection back while they hash a password
/// (see `Store::run_leased`).
pub async fn run_leased_flow<T, F>(state: &AppState, flow: F) -> Result<T, OAuthError>
where
    F: FnOnce(&mut crate::store::Lease) -> Result<T, OAuthError> + Send + 'static,
    T: Send + 'static,
{
    match state.store.run_leased(flow).await {
        Ok(result) => result,
        Err(e) => Err(e.into()),
    }
}

/// Like `run_flow`, for flows that only read (see `Store::run_read`).
pub async fn run_read_flow<T, F>(state: &AppState, flow: F) -> Result<T, OAuthError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, OAuthError> + Send + 'static,
    T: Send + 'static,
{
    match state.store.run_read(move |conn| Ok(flow(conn))).await {
        Ok(result) => result,
        Err(e) => Err(e.into()),
    }
}

/// Like `run_flow`, for short flows that only wait on the database: token grants, whose writes
/// are one transaction (or one statement) that a busy database refuses before anything is
/// written. On SQLite they run on the async worker (`Store::try_inline`); when another writer
/// holds the lock, they run again on the blocking pool, which waits for it.
pub async fn run_short_flow<T, F>(state: &AppState, flow: F) -> Result<T, OAuthError>
where
    F: Fn(&mut AnyConnection) -> Result<T, OAuthError> + Send + 'static,
    T: Send + 'static,
{
    match state.store.try_inline(|conn| Ok(flow(conn))) {
        Some(Ok(Err(error))) if error.code == ErrorCode::TemporarilyUnavailable => {}
        Some(Ok(outcome)) => return outcome,
        Some(Err(_)) | None => {}
    }
    run_flow(state, flow).await
}

/// `{error, error_description}` with the error's status; `invalid_client` after HTTP Basic
/// carries `WWW-Authenticate: Basic`, bearer-token errors carry `WWW-Authenticate: Bearer`.
pub fn oauth_error(error: &OAuthError) -> HttpResponse {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = no_store(HttpResponse::build(status));
    match error.code {
        ErrorCode::InvalidClientBasic => {
            response.insert_header(("WWW-Authenticate", "Basic realm=\"gatehouse\""));
        }
        ErrorCode::InvalidToken | ErrorCode::InsufficientScope => {
            response.insert_header(("WWW-Authenticate", bearer_challenge(error)));
        }
        _ => {}
    }
    let mut response = response.json(error.body());
    super::errors::attach_detail(&mut response, error);
    response
}

/// RFC 6750 §3: `Bearer error="…", error_description="…"` (quotes and backslashes removed).
pub fn bearer_challenge(error: &OAuthError) -> String {
    let clean = |s: &str| s.replace(['"', '\\'], "");
    format!(
        "Bearer error=\"{}\", error_description=\"{}\"",
        error.code.as_str(),
        clean(&error.description)
    )
}

pub fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"));
    builder
}

pub fn redirect(location: &str) -> HttpResponseBuilder {
    let mut builder = no_store(HttpResponse::Found());
    builder
        .insert_header(("Location", location))
        .insert_header(("Referrer-Policy", "no-referrer"));
    builder
}

/// The path cookies of this pool are scoped to: `/{pool_id}` under the issuer, `/` on a domain.
pub fn cookie_path(site: &Site, req: &HttpRequest) -> String {
    let prefix = format!("/{}", site.pool_id());
    if req.path().starts_with(&format!("{prefix}/")) {
        prefix
    } else {
        "/".to_owned()
    }
}

pub fn cookie(
    state: &AppState,
    path: &str,
    name: &'static str,
    value: String,
    max_age: Option<i64>,
) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, value)
        .path(path.to_owned())
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies())
        .finish();
    if let Some(seconds) = max_age {
        cookie.set_max_age(Duration::seconds(seconds));
    }
    cookie
}

pub fn session_cookie(state: &AppState, path: &str, value: String) -> Cookie<'static> {
    cookie(
        state,
        path,
        super::cookies::SESSION_COOKIE,
        value,
        Some(SESSION_SECONDS),
    )
}

pub fn expired_session_cookie(state: &AppState, path: &str) -> Cookie<'static> {
    cookie(
        state,
        path,
        super::cookies::SESSION_COOKIE,
        String::new(),
        Some(0),
    )
}

/// The request body as form parameters; anything but `application/x-www-form-urlencoded`
/// is `invalid_request`.
pub fn form_params(req: &HttpRequest, body: &[u8]) -> Result<crate::oauth::Params, OAuthError> {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| OAuthError::invalid_request("the body is not UTF-8"))?;
    crate::oauth::Params::parse(text)
}
