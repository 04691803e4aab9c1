//! Server-rendered pages and the headers every page carries.

use crate::flows::login::Step;
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

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub lang: &'a str,
    pub step: Step,
    pub client_name: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
    pub csrf: &'a str,
    pub password_rules: &'a [String],
}

#[derive(Template)]
#[template(path = "signed_out.html")]
pub struct SignedOutPage<'a> {
    pub lang: &'a str,
}

/// Renders a page, or a plain 500 if the template fails (it cannot for valid input).
pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => page_response(status).body(html),
        Err(e) => {
            tracing::error!("page failed to render: {e}");
            HttpResponse::InternalServerError().finish()
        }
    }
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    render(
        status,
        &ErrorPage {
            lang: "en",
            title,
            message,
        },
    )
}

pub const DEFAULT_CSS: &str = include_str!("../../static/gatehouse.css");
