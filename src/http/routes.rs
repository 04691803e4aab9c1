//! The pool's endpoints in one table: their paths, methods and kind. Registration, the 405
//! answers and the API paths (JSON errors rather than pages) are all read from it, so a new
//! endpoint is one line here and one handler in `handler`.
//!
//! The endpoints: https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-userpools-server-contract-reference.html

use super::{api, browser, well_known};
use actix_web::{HttpRequest, HttpResponse, Route, web};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Called by apps and resource servers; errors are the protocol's JSON.
    Api,
    /// Visited by browsers; errors are pages.
    Page,
    /// Discovery documents.
    WellKnown,
    /// A client's look (logo, stylesheet); other methods are simply not found.
    Asset,
}

pub struct Endpoint {
    pub path: &'static str,
    pub methods: &'static [Verb],
    pub kind: Kind,
}

const fn endpoint(path: &'static str, methods: &'static [Verb], kind: Kind) -> Endpoint {
    Endpoint {
        path,
        methods,
        kind,
    }
}

use Kind::{Api, Asset, Page, WellKnown};
use Verb::{Get, Post};

/// Every endpoint a pool serves, under `/{pool_id}` and, for pools with a domain, at the root.
pub static ENDPOINTS: &[Endpoint] = &[
    endpoint("/.well-known/openid-configuration", &[Get], WellKnown),
    endpoint("/.well-known/jwks.json", &[Get], WellKnown),
    endpoint("/oauth2/authorize", &[Get], Page),
    endpoint("/login", &[Get, Post], Page),
    endpoint("/signup", &[Get, Post], Page),
    endpoint("/confirm", &[Get, Post], Page),
    endpoint("/forgotPassword", &[Get, Post], Page),
    endpoint("/confirmForgotPassword", &[Get, Post], Page),
    endpoint("/logout", &[Get], Page),
    endpoint("/ui/{client}/{file}", &[Get], Asset),
    endpoint("/oauth2/idpresponse", &[Get, Post], Page),
    endpoint("/oauth2/token", &[Post], Api),
    endpoint("/oauth2/userInfo", &[Get, Post], Api),
    endpoint("/oauth2/revoke", &[Post], Api),
    endpoint("/oauth2/introspect", &[Post], Api),
];

/// The handler of `path` for `verb`, or `None` if the table lists one that has none.
fn handler(path: &str, verb: Verb) -> Option<Route> {
    let route = match verb {
        Get => web::get(),
        Post => web::post(),
    };
    Some(match (path, verb) {
        ("/.well-known/openid-configuration", Get) => route.to(well_known::openid_configuration),
        ("/.well-known/jwks.json", Get) => route.to(well_known::jwks),
        ("/oauth2/authorize", Get) => route.to(browser::authorize),
        ("/login", Get) => route.to(browser::login_page),
        ("/login", Post) => route.to(browser::login_submit),
        ("/signup", Get) => route.to(browser::signup_page),
        ("/signup", Post) => route.to(browser::signup_submit),
        ("/confirm", Get) => route.to(browser::confirm_page),
        ("/confirm", Post) => route.to(browser::confirm_submit),
        ("/forgotPassword", Get) => route.to(browser::forgot_page),
        ("/forgotPassword", Post) => route.to(browser::forgot_submit),
        ("/confirmForgotPassword", Get) => route.to(browser::reset_page),
        ("/confirmForgotPassword", Post) => route.to(browser::reset_submit),
        ("/logout", Get) => route.to(browser::logout),
        ("/ui/{client}/{file}", Get) => route.to(browser::ui_file),
        ("/oauth2/idpresponse", Get | Post) => route.to(browser::idp_response),
        ("/oauth2/token", Post) => route.to(api::token),
        ("/oauth2/userInfo", Get | Post) => route.to(api::user_info),
        ("/oauth2/revoke", Post) => route.to(api::revoke),
        ("/oauth2/introspect", Post) => route.to(api::introspect),
        _ => return None,
    })
}

/// Registers every endpoint of the table; any other method on its path gets 405 rather than
/// "no such endpoint" (but a client's files, which are simply not found).
pub fn pool_routes(cfg: &mut web::ServiceConfig) {
    for endpoint in ENDPOINTS {
        for &verb in endpoint.methods {
            match handler(endpoint.path, verb) {
                Some(route) => {
                    cfg.route(endpoint.path, route);
                }
                // The unit test below keeps the table and the handlers in step.
                None => tracing::error!(path = endpoint.path, ?verb, "endpoint without handler"),
            }
        }
        if endpoint.kind != Asset {
            cfg.route(endpoint.path, web::route().to(method_not_allowed));
        }
    }
}

/// Whether `path` (with or without the pool's prefix) is an API endpoint.
pub fn is_api(path: &str) -> bool {
    ENDPOINTS
        .iter()
        .any(|e| e.kind == Api && path.ends_with(e.path))
}

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({
            "error": "invalid_request",
            "error_description": format!("{} is not allowed here", req.method()),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_of_the_table_has_its_handlers() {
        for endpoint in ENDPOINTS {
            assert!(!endpoint.methods.is_empty(), "{}", endpoint.path);
            for &verb in endpoint.methods {
                assert!(
                    handler(endpoint.path, verb).is_some(),
                    "{} {verb:?} has no handler",
                    endpoint.path
                );
            }
            let same = ENDPOINTS.iter().filter(|e| e.path == endpoint.path);
            assert_eq!(same.count(), 1, "{} listed twice", endpoint.path);
        }
        assert!(is_api("/local_Example01/oauth2/token"));
        assert!(is_api("/oauth2/introspect"));
        assert!(!is_api("/local_Example01/login"));
        assert!(!is_api("/oauth2/authorize"));
    }

    /// Over a real socket: every API path answers a method it does not take with 405 and the
    /// protocol's JSON error.
    #[actix_web::test]
    async fn api_paths_refuse_other_methods_with_json() {
        crate::tokens::signer::install_crypto_providers();
        let server = actix_web::HttpServer::new(|| {
            actix_web::App::new().service(web::scope("/{pool_id}").configure(pool_routes))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let address = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let client = reqwest::Client::new();
        let mut checked = 0;
        for endpoint in ENDPOINTS.iter().filter(|e| e.kind == Api) {
            let url = format!("http://{address}/local_Example01{}", endpoint.path);
            for (verb, method) in [(Get, "GET"), (Post, "POST")] {
                if endpoint.methods.contains(&verb) {
                    continue;
                }
                let response = client
                    .request(method.parse().unwrap(), &url)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 405, "{method} {url}");
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["error"], "invalid_request", "{method} {url}");
                checked += 1;
            }
            let response = client.delete(&url).send().await.unwrap();
            assert_eq!(response.status(), 405, "DELETE {url}");
            checked += 1;
        }
        assert!(checked >= 7);
        handle.stop(false).await;
    }
}
