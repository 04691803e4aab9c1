//! HTTP: one route table (routes.rs), thin handlers, request logging. Handlers extract, call one core
//! function and map the outcome.
//!
//! See docs/architecture.md.

pub mod api;
pub mod browser;
pub mod cookies;
pub mod csrf;
pub mod errors;
pub mod forwarded;
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
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
pub use state::AppState;
use std::time::Instant;

/// The whole route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/static/gatehouse.css", web::get().to(default_css))
        .route("/static/gatehouse.js", web::get().to(script))
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
    let (req, _) = res.into_parts();
    let response = if routes::is_api(req.path()) {
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

/// One log line per request: method, path (never the query, which may carry codes), status
/// and latency.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let host = req.connection_info().host().to_owned();
    let response = next.call(req).await;
    let status = match &response {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    if let Ok(res) = &response
        && let Some(error) = res.response().extensions().get::<errors::ErrorDetail>()
    {
        // The pool: the path's `/{pool_id}`, or the host of a pool served on its domain.
        let pool = res.request().match_info().get("pool_id").unwrap_or(&host);
        tracing::error!(
            method = %method,
            path = %path,
            pool = %pool,
            status,
            error = error.code,
            detail = %error.detail,
            "request failed"
        );
    }
    tracing::info!(
        method = %method,
        path = %path,
        status,
        latency_ms = format_args!("{:.2}", started.elapsed().as_secs_f64() * 1000.0),
        "request"
    );
    response
}
