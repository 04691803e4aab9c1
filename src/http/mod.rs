//! HTTP: one route table (routes.rs), thin handlers, request logging. Handlers extract, call one core
//! function and map the outcome.
//!
//! See docs/architecture.md.

pub mod api;
pub mod browser;
pub mod cognito;
pub mod cookies;
pub mod csrf;
pub mod demo;
pub mod errors;
pub mod forwarded;
pub mod import;
pub mod index;
pub mod metrics;
pub mod pages;
pub mod pool;
pub mod respond;
pub mod routes;
pub mod state;
pub mod well_known;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde::Serialize;
pub use state::AppState;
use std::time::Instant;
use tracing::Instrument;

/// The whole route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/static/gatehouse.css", web::get().to(default_css))
        .route("/static/gatehouse.js", web::get().to(script))
        .configure(import::routes)
        .configure(routes::pool_routes)
        .service(web::scope("/{pool_id}").configure(routes::pool_routes));
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
    backend: &'static str,
}

async fn health(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.clone();
    let reachable = web::block(move || store.ping())
        .await
        .is_ok_and(|r| r.is_ok());
    let body = Health {
        status: if reachable { "ok" } else { "unavailable" },
        database: if reachable {
            "reachable"
        } else {
            "unreachable"
        },
        backend: state.store.backend(),
    };
    let status = if reachable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

async fn default_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(pages::DEFAULT_CSS)
}

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(pages::SCRIPT)
}

/// Unknown paths: a readable page for browsers, JSON for everyone else.
pub async fn not_found(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let wants_html = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        readable_error(
            &state,
            &req,
            StatusCode::NOT_FOUND,
            "page.not_found_title",
            "page.not_found",
        )
    } else {
        respond::oauth_error(&crate::oauth::OAuthError::not_found("no such endpoint"))
    }
}

/// An error page in the browser's language, for requests that reach no pool's pages.
fn readable_error(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    title: &'static str,
    text: &'static str,
) -> HttpResponse {
    let catalogue = &state.services.catalogue;
    let accept_language = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok());
    let lang = catalogue.negotiate(None, accept_language);
    pages::error_page(
        catalogue,
        &lang,
        status,
        title,
        &crate::ui::i18n::Text::new(text),
    )
}

/// Bodies over the limit (`BODY_LIMIT`) are refused before they are read. They get the same
/// answer as any other bad request: the protocol's JSON at the API endpoints, a page elsewhere.
pub fn body_too_large<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    // The import URLs answer as S3 does, with their own error document (http::import).
    if res.request().path().starts_with("/_import/") {
        return Ok(actix_web::middleware::ErrorHandlerResponse::Response(
            res.map_into_left_body(),
        ));
    }
    let (req, _) = res.into_parts();
    let response = if cognito::is_api_call(&req) {
        cognito::too_large(&req)
    } else if routes::is_api(req.path()) {
        respond::oauth_error(&crate::oauth::OAuthError::new(
            crate::oauth::ErrorCode::RequestTooLarge,
            format!("the request body is larger than {} KiB", BODY_LIMIT / 1024),
        ))
    } else {
        match req.app_data::<web::Data<AppState>>() {
            Some(state) => readable_error(
                state,
                &req,
                StatusCode::PAYLOAD_TOO_LARGE,
                "page.invalid_title",
                "page.too_large",
            ),
            None => HttpResponse::PayloadTooLarge().finish(),
        }
    };
    Ok(actix_web::middleware::ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}

/// The largest request body read: every body is a small form.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The header that names a request in the logs: taken from the caller when it is a short,
/// plain token (a proxy's or load balancer's id), else made here; echoed on the response.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The pool a request was for, once `PoolSite` has found it.
#[derive(Clone)]
pub struct LoggedPool(pub String);

/// The client id a request names (query, form or Basic credentials; not necessarily
/// authenticated), for the request log.
#[derive(Clone)]
pub struct LoggedClient(pub String);

/// Records the client a request names for its log line; ids that could not be a client id
/// (too long, odd characters) are left out rather than copied into the log.
pub fn log_client(req: &HttpRequest, client_id: &str) {
    if is_plain_token(client_id, 128) {
        req.extensions_mut()
            .insert(LoggedClient(client_id.to_owned()));
    }
}

/// 1 to `max` characters of `[A-Za-z0-9._:+-]`: safe to log and to echo in a header.
fn is_plain_token(value: &str, max: usize) -> bool {
    (1..=max).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'+' | b'-'))
}

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_plain_token(id, 64))
        .map(str::to_owned)
        .unwrap_or_else(new_request_id)
}

/// A random prefix drawn once per process and a sequence number: unique across instances
/// without a system call per request (a random id per request cost one `getrandom`).
fn new_request_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(rand::random::<u64>);
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!("{prefix:016x}{sequence:016x}")
}

/// One log line per request, inside a span that carries its request id (so an error logged
/// while answering it carries the same id): method, route template (never the path or query,
/// which may carry codes), pool, client, status and latency.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let span = tracing::info_span!("request", request_id = %id);
    let method = req.method().clone();
    // Errors are answered as responses further in; an `Err` here has no request to read.
    let mut response = match next.call(req).instrument(span.clone()).await {
        Ok(response) => response,
        Err(error) => {
            let status = error.as_response_error().status_code().as_u16();
            let _entered = span.enter();
            tracing::info!(request_id = %id, method = %method, route = "unmatched", status, latency_ms = latency(started), "request");
            return Err(error);
        }
    };
    let _entered = span.enter();
    let req = response.request();
    let status = response.status().as_u16();
    let route = route_template(req);
    let route = route.as_deref().unwrap_or("unmatched");
    let pool = req.extensions().get::<LoggedPool>().map(|p| p.0.clone());
    let pool = pool.or_else(|| {
        // An unknown pool: the path's id if it could be one.
        req.match_info()
            .get("pool_id")
            .filter(|id| is_plain_token(id, 64))
            .map(str::to_owned)
    });
    let client = req
        .extensions()
        .get::<LoggedClient>()
        .map(|c| c.0.clone())
        .or_else(|| query_client_id(req.query_string()));
    if let Some(error) = response
        .response()
        .extensions()
        .get::<errors::ErrorDetail>()
    {
        tracing::error!(
            request_id = %id,
            method = %method,
            route,
            pool = pool.as_deref(),
            client = client.as_deref(),
            status,
            error = error.code,
            detail = %error.detail,
            "request failed"
        );
    }
    tracing::info!(
        request_id = %id,
        method = %method,
        route,
        pool = pool.as_deref(),
        client = client.as_deref(),
        status,
        latency_ms = latency(started),
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

/// The matched route's template (`/{pool_id}/oauth2/token`), looked up once per request: the
/// log line and the metrics both need it, and the lookup walks the whole route table.
pub(crate) fn route_template(req: &HttpRequest) -> Option<String> {
    #[derive(Clone)]
    struct Template(Option<String>);
    if let Some(Template(route)) = req.extensions().get::<Template>() {
        return route.clone();
    }
    let route = req.match_pattern();
    req.extensions_mut().insert(Template(route.clone()));
    route
}

/// Milliseconds since `started`, to two decimals.
fn latency(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0
}

/// The `client_id` of a query (authorization requests, the hosted pages), if it is one.
fn query_client_id(query: &str) -> Option<String> {
    if !query.contains("client_id=") {
        return None;
    }
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "client_id")
        .map(|(_, value)| value.into_owned())
        .filter(|id| is_plain_token(id, 128))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_and_safe_to_echo() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(is_plain_token(&a, 64));
        assert_eq!(a[..16], b[..16], "one prefix per process");
    }

    #[test]
    fn only_plain_short_request_ids_are_taken() {
        assert!(is_plain_token("req-1.a_b:c+d", 64));
        assert!(!is_plain_token("", 64));
        assert!(!is_plain_token(&"a".repeat(65), 64));
        assert!(!is_plain_token("a b", 64));
        assert!(!is_plain_token("a\nb", 64));
        assert!(!is_plain_token("a\"b", 64));
    }

    #[test]
    fn the_client_id_is_read_from_the_query() {
        assert_eq!(
            query_client_id("response_type=code&client_id=abc123&state=x").as_deref(),
            Some("abc123")
        );
        assert_eq!(query_client_id("state=x"), None);
        assert_eq!(query_client_id("client_id=a%0Ab"), None);
    }
}
