//! `GET /`: a page listing the pools with their issuer and discovery URLs (OpenID Connect
//! Discovery 1.0 §4), and the demo app when the server runs the demo. `--no-index-page` turns it
//! off (docs/configuration.md, "Flags and environment").

use super::AppState;
use super::pages::page_response;
use super::pool::PoolSite;
use crate::oauth::discovery::PoolUrls;
use crate::store;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// The pages outside any pool: the stylesheet they share, the demo app when `demo`, and `GET /`
/// when `index`. Registered before the pools' routes, whose `/{pool_id}` would take `/demo/`.
pub fn routes(cfg: &mut web::ServiceConfig, demo: bool, index: bool) {
    cfg.route("/static/wide.css", web::get().to(css));
    if demo {
        super::demo::routes(cfg);
    }
    if index {
        cfg.route("/", web::get().to(index_page));
    }
}

const CSS: &str = include_str!("../../static/wide.css");

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(CSS)
}

struct PoolRow {
    id: String,
    name: String,
    issuer: String,
    discovery: String,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    title: &'static str,
    pools: Vec<PoolRow>,
    demo: Option<String>,
}

async fn index_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    own_domain: Option<PoolSite>,
) -> HttpResponse {
    // At the root of a pool's own domain, `/` stays what it was: not found.
    if own_domain.is_some() {
        return super::not_found(state, req).await;
    }
    let pools = match state.store.run_read(store::pools::list).await {
        Ok(pools) => pools,
        Err(e) => {
            tracing::error!("listing the pools failed: {e}");
            return page_response(StatusCode::SERVICE_UNAVAILABLE)
                .body("The pools cannot be listed right now; try again.");
        }
    };
    let public_url = &state.settings.public_url;
    let pools = pools
        .into_iter()
        .map(|pool| {
            let urls = PoolUrls::new(public_url, pool.id.as_str(), pool.domain.as_deref());
            PoolRow {
                id: pool.id.to_string(),
                name: pool.name,
                discovery: format!("{}/.well-known/openid-configuration", urls.issuer),
                issuer: urls.issuer,
            }
        })
        .collect();
    let page = IndexPage {
        title: "User pools",
        pools,
        demo: state
            .settings
            .demo
            .as_ref()
            .map(|_| crate::provision::demo_start_url(public_url)),
    };
    match page.render() {
        Ok(html) => page_response(StatusCode::OK).body(html),
        Err(e) => {
            tracing::error!("index page failed to render: {e}");
            HttpResponse::InternalServerError().finish()
        }
    }
}
