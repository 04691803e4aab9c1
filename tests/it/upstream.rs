//! Upstream providers never hold a database connection (docs/architecture.md, "Upstream HTTP
//! never holds a connection"): with a pool of two connections, five federated sign-ins stalled
//! at a provider's token endpoint leave the token endpoint answering, on both backends. The
//! provider is a stand-in served over a real socket: discovery, JWKS and a token endpoint that
//! holds every answer until the test releases it (or 5 s pass).

use crate::on_both_backends_with;
use crate::support::{TestDb, spawn_server};
use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const POOL: &str = "local_SlowUp001";
const CLIENT: &str = "slowclient0000000000000000";
const SECRET: &str = "slow-client-secret-0123456789abcdefghijklmn";
const CALLBACK: &str = "http://localhost:3000/callback";
/// How long the token endpoint holds an answer the test does not release.
const STALL: Duration = Duration::from_secs(5);
const SIGN_INS: usize = 5;

fn config(issuer: &str) -> String {
    format!(
        r#"
[[pool]]
id = "{POOL}"
name = "slow"

[[pool.resource_server]]
identifier = "https://api.example.com"
name = "API"
scopes = [ {{ name = "read", description = "Read" }} ]

[[pool.client]]
id = "{CLIENT}"
name = "web"
secret = "{SECRET}"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code", "client_credentials"]
allowed_oauth_scopes = ["openid", "https://api.example.com/read"]
supported_identity_providers = ["Slow"]

[[pool.identity_provider]]
name = "Slow"
type = "OIDC"
attribute_mapping = {{ username = "sub" }}
[pool.identity_provider.details]
client_id = "gatehouse"
client_secret = "upstream-secret"
authorize_scopes = "openid"
oidc_issuer = "{issuer}"
"#
    )
}

/// What the stand-in provider shares with the test.
pub(crate) struct Provider {
    pub(crate) issuer: OnceLock<String>,
    key: OnceLock<(jsonwebtoken::EncodingKey, Value)>,
    /// Token requests waiting for their answer.
    stalled: AtomicUsize,
    /// Whether any token request has been answered.
    answered: AtomicBool,
    /// Let go of every held answer.
    pub(crate) release: tokio::sync::Semaphore,
}

async fn discovery(provider: web::Data<Provider>) -> HttpResponse {
    let issuer = provider.issuer.get().cloned().unwrap_or_default();
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(provider: web::Data<Provider>) -> HttpResponse {
    let jwk = provider.key.get().map(|(_, jwk)| jwk.clone());
    HttpResponse::Ok().json(json!({ "keys": [jwk] }))
}

/// The code is `<subject>.<nonce>` (the subject may hold dots): the test makes it from the
/// authorization request.
async fn token(
    provider: web::Data<Provider>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    provider.stalled.fetch_add(1, Ordering::SeqCst);
    let _ = actix_web::rt::time::timeout(STALL, provider.release.acquire()).await;
    provider.stalled.fetch_sub(1, Ordering::SeqCst);
    provider.answered.store(true, Ordering::SeqCst);
    let code = form.get("code").cloned().unwrap_or_default();
    let (subject, nonce) = code.rsplit_once('.').unwrap_or_default();
    let now = gatehouse::store::now();
    let mut claims = json!({
        "iss": provider.issuer.get(),
        "aud": "gatehouse",
        "sub": subject,
        "nonce": nonce,
        "iat": now,
        "exp": now + 300,
    });
    // A subject shaped like an email is also the identity's verified email.
    if subject.contains('@') {
        claims["email"] = json!(subject);
        claims["email_verified"] = json!(true);
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".into());
    let (key, _) = provider.key.get().expect("the key is made first");
    let id_token = jsonwebtoken::encode(&header, &claims, key).expect("the ID token signs");
    HttpResponse::Ok().json(json!({
        "access_token": format!("at-{subject}"),
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
}

/// The provider on a free loopback port; its issuer is its base URL.
pub(crate) fn start_provider() -> Arc<Provider> {
    let provider = Arc::new(Provider {
        issuer: OnceLock::new(),
        key: OnceLock::new(),
        stalled: AtomicUsize::new(0),
        answered: AtomicBool::new(false),
        release: tokio::sync::Semaphore::new(0),
    });
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key");
    let pem = private
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .expect("PEM");
    let jwk = json!({
        "kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
    });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).expect("encoding key");
    let _ = provider.key.set((key, jwk));
    let data = web::Data::from(provider.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route(
                "/.well-known/openid-configuration",
                web::get().to(discovery),
            )
            .route("/jwks", web::get().to(jwks))
            .route("/token", web::post().to(token))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("the provider binds");
    let addr = server.addrs()[0];
    let _ = provider.issuer.set(format!("http://{addr}"));
    actix_web::rt::spawn(server.run());
    provider
}

struct Stalled {
    _db: TestDb,
    provider: Arc<Provider>,
    base: String,
    http: reqwest::Client,
}

impl Stalled {
    async fn start(db: TestDb) -> Self {
        let provider = start_provider();
        let text = config(provider.issuer.get().unwrap());
        let declaration =
            gatehouse::config::parse(&text, Path::new("t.toml"), Path::new("."), &|_| None)
                .unwrap_or_else(|e| panic!("the test's configuration is valid:\n{e}"));
        gatehouse::provision::apply(&mut db.store.conn().unwrap(), &declaration).unwrap();
        // The server gets a store of its own with two connections.
        let store = gatehouse::store::Store::connect_with(&db.url, Some(2)).expect("store");
        let server = spawn_server(store);
        Self {
            _db: db,
            provider,
            base: format!("{}/{POOL}", server.base),
            http: server.client,
        }
    }

    /// `/oauth2/authorize?identity_provider=Slow`: the provider's URL (its state and nonce)
    /// and the cookie that binds the answer to this browser.
    async fn leave(&self, app_state: &str) -> (String, String, String) {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(
            b"verifier-of-the-app-0123456789-abcdefghijklmn",
        ));
        let response = self
            .http
            .get(format!("{}/oauth2/authorize", self.base))
            .query(&[
                ("response_type", "code"),
                ("client_id", CLIENT),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
                ("state", app_state),
                ("identity_provider", "Slow"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        assert_eq!(
            location.as_str().split('?').next(),
            Some(format!("{}/authorize", self.provider.issuer.get().unwrap()).as_str())
        );
        let pairs: HashMap<String, String> = location.query_pairs().into_owned().collect();
        let cookie = response
            .cookies()
            .find(|c| c.name() == "gatehouse_federation")
            .expect("the binding cookie")
            .value()
            .to_owned();
        (pairs["state"].clone(), pairs["nonce"].clone(), cookie)
    }
}

async fn token_endpoint_answers_while_sign_ins_wait_upstream(slow: Stalled) {
    let mut answers = Vec::new();
    for i in 0..SIGN_INS {
        let (state, nonce, cookie) = slow.leave(&format!("app-{i}")).await;
        let request = slow
            .http
            .get(format!("{}/oauth2/idpresponse", slow.base))
            .query(&[("code", format!("user-{i}.{nonce}")), ("state", state)])
            .header("cookie", format!("gatehouse_federation={cookie}"));
        answers.push(actix_web::rt::spawn(request.send()));
    }
    // All five at the provider at once: more than the pool's two connections.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while slow.provider.stalled.load(Ordering::SeqCst) < SIGN_INS {
        assert!(
            std::time::Instant::now() < deadline && !slow.provider.answered.load(Ordering::SeqCst),
            "only {} of {SIGN_INS} sign-ins reached the provider before it answered",
            slow.provider.stalled.load(Ordering::SeqCst)
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let granted = slow
        .http
        .post(format!("{}/oauth2/token", slow.base))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://api.example.com/read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), StatusCode::OK);
    assert!(
        !slow.provider.answered.load(Ordering::SeqCst),
        "the token endpoint answered only after the provider let go"
    );
    assert_eq!(slow.provider.stalled.load(Ordering::SeqCst), SIGN_INS);
    let tokens: Value = granted.json().await.unwrap();
    assert!(tokens["access_token"].is_string(), "{tokens}");
    // Let go: every sign-in completes with a code for the app and its own state.
    slow.provider.release.add_permits(SIGN_INS);
    for (i, answer) in answers.into_iter().enumerate() {
        let response = answer.await.unwrap().unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        assert!(location.as_str().starts_with(CALLBACK), "{location}");
        let pairs: HashMap<String, String> = location.query_pairs().into_owned().collect();
        assert!(pairs.contains_key("code"), "{location}");
        assert_eq!(pairs["state"], format!("app-{i}"));
    }
    // Every upstream call was counted, by provider type and call (docs/deployment.md).
    let root = slow.base.trim_end_matches(&format!("/{POOL}"));
    let metrics = slow
        .http
        .get(format!("{root}/metrics"))
        .send()
        .await
        .unwrap();
    let page = metrics.text().await.unwrap();
    for line in [
        "gatehouse_upstream_requests_total{provider=\"oidc\",call=\"authorize\",result=\"ok\"} 5",
        "gatehouse_upstream_requests_total{provider=\"oidc\",call=\"exchange\",result=\"ok\"} 5",
        "gatehouse_upstream_request_duration_seconds_count{provider=\"oidc\",call=\"exchange\"} 5",
        "gatehouse_tokens_issued_total{grant=\"client_credentials\"} 1",
    ] {
        assert!(page.lines().any(|l| l == line), "{line} in {page}");
    }
}

on_both_backends_with!(Stalled; token_endpoint_answers_while_sign_ins_wait_upstream);
