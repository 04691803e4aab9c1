//! Server-rendered pages and the headers every page carries.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use askama::Template;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub lang: &'a str,
    pub title: &'a str,
    pub message: &'a str,
}

/// Headers of every HTML page: no framing, no referrer, no caching, no inline script.
pub fn page_response(status: StatusCode) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Cache-Control", "no-store"));
    builder
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let page = ErrorPage {
        lang: "en",
        title,
        message,
    };
    match page.render() {
        Ok(html) => page_response(status).body(html),
        Err(e) => {
            tracing::error!("error page failed to render: {e}");
            HttpResponse::InternalServerError().finish()
        }
    }
}

pub const DEFAULT_CSS: &str = include_str!("../../static/gatehouse.css");
