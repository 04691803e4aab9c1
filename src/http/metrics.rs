//! `GET /metrics` and the request counting behind it (docs/deployment.md, "Metrics"; the text
//! formats: https://prometheus.io/docs/instrumenting/exposition_formats/). The page is served on
//! the main listener, or only on `--metrics-listen`'s when that is set.

use super::AppState;
use crate::metrics::{OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use std::net::SocketAddr;
use std::time::Instant;

/// The page's path.
pub const PATH: &str = "/metrics";

/// Counts and times every request by its route template (never its raw path), method and
/// status.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    let method = req.method().clone();
    // Taken before the call: an error answer no longer carries the request.
    let route = super::route_template(req.request());
    let response = next.call(req).await;
    let status = match &response {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    state
        .services
        .metrics
        .http_request(route, method.as_str(), status, started.elapsed());
    response
}

/// GET /metrics: OpenMetrics text when the scraper asks for it (Prometheus does), else the
/// classic text format. The outbox depth is read from the database now, so it is the same
/// whichever process of an installation is scraped.
pub async fn scrape(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let depth = state
        .store
        .run_read(crate::store::mail_outbox::pending_count)
        .await;
    if let Err(error) = &depth {
        tracing::warn!("metrics: the outbox depth could not be read: {error}");
    }
    let metrics = &state.services.metrics;
    metrics.outbox_depth(depth.ok());
    let openmetrics = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/openmetrics-text"));
    let content_type = if openmetrics {
        OPENMETRICS_CONTENT_TYPE
    } else {
        TEXT_CONTENT_TYPE
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "no-store"))
        .body(metrics.encode(openmetrics))
}

/// The separate listener of `--metrics-listen`: `/metrics` and nothing else, over plain HTTP,
/// on one worker. Returns the server (to be spawned) and the addresses it listens on.
pub fn listener(
    listen: &str,
    data: web::Data<AppState>,
) -> std::io::Result<(Server, Vec<SocketAddr>)> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(from_fn(track))
            .route(PATH, web::get().to(scrape))
            .default_service(web::to(HttpResponse::NotFound))
    })
    .workers(1)
    // Stopped with the main listener (app::Serving), never by a signal of its own.
    .disable_signals()
    .shutdown_timeout(1)
    .bind(listen)?;
    let addrs = server.addrs();
    Ok((server.run(), addrs))
}
