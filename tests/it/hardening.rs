//! Transport and request hardening over a real socket, on SQLite and on PostgreSQL: PKCE for
//! public clients (RFC 9700 §2.1.1), HSTS on https (RFC 6797 §6.1) and the Origin of hosted
//! form posts (RFC 6454 §5).

use crate::hosted::{browser, location, param};
use crate::on_both_backends_with;
use crate::support::{TestDb, example_declaration, example_env, spawn_server_with};
use gatehouse::provision;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;

const POOL: &str = "local_Example01";
const MOBILE: &str = "examplepublicclient0000000";
const LEGACY: &str = "legacypublicclient00000000";
const WEB: &str = "exampleclientid0000000000a";
const CALLBACK: &str = "http://localhost:3000/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A public client that opted out of PKCE, as an app moving from Cognito might.
const LEGACY_CLIENT: &str = r#"
[[pool.client]]
id = "legacypublicclient00000000"
name = "legacy"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]
require_pkce = false
"#;

/// The example pool (with the domain `auth.example.test` and the legacy client) on a server.
struct Site {
    _db: TestDb,
    /// The server's own address, `http://127.0.0.1:PORT`.
    root: String,
}

impl Site {
    async fn start(db: TestDb) -> Site {
        Self::start_with(db, "http://localhost:7070", false).await
    }

    async fn start_with(db: TestDb, public_url: &str, include_subdomains: bool) -> Site {
        let text = format!("{}{LEGACY_CLIENT}", crate::support::EXAMPLE_CONFIG);
        let mut declaration =
            gatehouse::config::parse(&text, Path::new("t.toml"), Path::new("."), &example_env)
                .unwrap();
        declaration.pools[0].pool.domain = Some("auth.example.test".into());
        provision::apply(&mut db.store.conn().unwrap(), &declaration).unwrap();
        let public_url = public_url.to_owned();
        let server = spawn_server_with(db.store.clone(), |settings| {
            settings.public_url = public_url;
            settings.hsts_include_subdomains = include_subdomains;
        });
        Site {
            _db: db,
            root: server.base,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{POOL}{path}", self.root)
    }
}

fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().copied())
        .finish()
}

fn authorize_pairs<'a>(client: &'a str, redirect_uri: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", redirect_uri),
        ("scope", "openid"),
        ("state", "st"),
    ]
}

/// The sign-in page's `_csrf` token for `login`, as `browser` gets it.
async fn page_token(browser: &reqwest::Client, login: &str) -> String {
    let html = browser
        .get(login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("form has _csrf") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Signs alice in on the hosted page, with `origin` as the form's Origin when given.
async fn sign_in(site: &Site, pairs: &[(&str, &str)], origin: Option<&str>) -> reqwest::Response {
    let b = browser();
    let login = format!("{}?{}", site.url("/login"), query(pairs));
    let token = page_token(&b, &login).await;
    let mut post = b.post(&login).form(&[
        ("_csrf", token.as_str()),
        ("username", "alice"),
        ("password", "Alice-Passw0rd"),
    ]);
    if let Some(origin) = origin {
        post = post.header("origin", origin);
    }
    post.send().await.unwrap()
}

async fn exchange(site: &Site, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(site.url("/oauth2/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap_or_default())
}

async fn public_clients_must_send_a_pkce_challenge(site: Site) {
    // Without a challenge the public client's request goes back to it as invalid_request.
    let pairs = authorize_pairs(MOBILE, "myapp://callback");
    let refused = browser()
        .get(format!(
            "{}?{}",
            site.url("/oauth2/authorize"),
            query(&pairs)
        ))
        .send()
        .await
        .unwrap();
    let to = location(&refused);
    assert!(to.starts_with("myapp://callback?"), "{to}");
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"));
    assert_eq!(
        param(&to, "error_description").as_deref(),
        Some("code_challenge is required")
    );
    assert_eq!(param(&to, "state").as_deref(), Some("st"));
    // The sign-in page refuses it the same way, before anyone types a password.
    let page = browser()
        .get(format!("{}?{}", site.url("/login"), query(&pairs)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        param(&location(&page), "error_description").as_deref(),
        Some("code_challenge is required")
    );

    // With an S256 challenge it signs in, and only the verifier redeems the code.
    let mut with_pkce = pairs.clone();
    with_pkce.extend([
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let signed_in = sign_in(&site, &with_pkce, None).await;
    let code = param(&location(&signed_in), "code").expect("a code");
    let (status, tokens) = exchange(
        &site,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", MOBILE),
            ("code", &code),
            ("redirect_uri", "myapp://callback"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["id_token"].is_string());

    // A public client that opted out signs in without one.
    let legacy = sign_in(&site, &authorize_pairs(LEGACY, CALLBACK), None).await;
    let code = param(&location(&legacy), "code").expect("a code without PKCE");
    let (status, tokens) = exchange(
        &site,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", LEGACY),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    // A confidential client authenticates at the token endpoint: no challenge needed.
    let confidential = sign_in(&site, &authorize_pairs(WEB, CALLBACK), None).await;
    assert!(
        param(&location(&confidential), "code").is_some(),
        "{}",
        location(&confidential)
    );
}

async fn hsts_only_when_the_public_url_is_https(db: TestDb) {
    let declaration = example_declaration();
    provision::apply(&mut db.store.conn().unwrap(), &declaration).unwrap();
    let cases = [
        ("https://id.example.com", false, Some("max-age=31536000")),
        (
            "https://id.example.com",
            true,
            Some("max-age=31536000; includeSubDomains"),
        ),
        ("http://localhost:7070", false, None),
        ("http://localhost:7070", true, None),
    ];
    for (public_url, include_subdomains, expected) in cases {
        let server = spawn_server_with(db.store.clone(), |settings| {
            settings.public_url = public_url.to_owned();
            settings.hsts_include_subdomains = include_subdomains;
        });
        // A page, a JSON document, an error and the health check all carry it.
        for path in [
            format!("/{POOL}/.well-known/openid-configuration"),
            format!("/{POOL}/login?client_id={WEB}"),
            "/no/such/path".to_owned(),
            "/health".to_owned(),
        ] {
            let response = server
                .client
                .get(format!("{}{path}", server.base))
                .send()
                .await
                .unwrap();
            let hsts = response
                .headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(
                hsts.as_deref(),
                expected,
                "{public_url} {include_subdomains} {path}"
            );
        }
    }
}

/// The bare database, for tests that start servers with public URLs of their own.
struct Db;

impl Db {
    async fn start(db: TestDb) -> TestDb {
        db
    }
}

async fn form_posts_must_come_from_one_of_the_pools_origins(site: Site) {
    let pairs = authorize_pairs(WEB, CALLBACK);
    let own = site.root.clone();
    let own_https = own.replacen("http://", "https://", 1);
    for (origin, accepted) in [
        ("http://localhost:7070", true),
        ("http://auth.example.test", true),
        (own.as_str(), true),
        // The same hosts with another scheme or port are other origins.
        ("https://localhost:7070", false),
        ("http://localhost:9999", false),
        ("http://localhost", false),
        ("https://auth.example.test", false),
        ("http://auth.example.test:8080", false),
        (own_https.as_str(), false),
        ("http://evil.example", false),
        ("myapp://callback", false),
        ("null", false),
    ] {
        let posted = sign_in(&site, &pairs, Some(origin)).await;
        assert_eq!(
            param(&location(&posted), "code").is_some(),
            accepted,
            "{origin}: {}",
            location(&posted)
        );
    }
}

async fn an_https_public_url_accepts_only_its_https_origin(db: TestDb) {
    let site = Site::start_with(db, "https://localhost:7070", false).await;
    let pairs = authorize_pairs(WEB, CALLBACK);
    for (origin, accepted) in [
        ("https://localhost:7070", true),
        ("https://auth.example.test", true),
        ("http://localhost:7070", false),
        ("http://auth.example.test", false),
    ] {
        let posted = sign_in(&site, &pairs, Some(origin)).await;
        assert_eq!(
            param(&location(&posted), "code").is_some(),
            accepted,
            "{origin}"
        );
    }
}

mod on_site {
    use super::*;
    on_both_backends_with!(Site;
        public_clients_must_send_a_pkce_challenge,
        form_posts_must_come_from_one_of_the_pools_origins,
    );
}

mod on_db {
    use super::*;
    on_both_backends_with!(Db;
        hsts_only_when_the_public_url_is_https,
        an_https_public_url_accepts_only_its_https_origin,
    );
}
