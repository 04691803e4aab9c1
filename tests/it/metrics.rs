//! Prometheus metrics over real sockets, on SQLite and PostgreSQL (docs/deployment.md,
//! "Metrics"): the counters move after a hosted sign-in, failed and locked sign-ins, token
//! grants, a refresh token's reuse and a delivered email; every page is read by the Prometheus
//! project's own Python parsers (tests/browser/metrics_check.py); `--metrics-listen` keeps the
//! page off the public listener.

use crate::hosted::{CALLBACK, authorize_query, browser, input_value, location, param};
use crate::on_both_backends_with;
use crate::support::{
    SmtpSink, TestDb, free_port, smtp_settings, spawn_server_with, wait_for_mail,
};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const POOL: &str = "local_Metered01";
const CLIENT: &str = "meteredwebclient0000000000";

const CONFIG: &str = r#"
[[pool]]
id = "local_Metered01"
name = "metered"
auto_verified_attributes = ["email"]
[pool.messages]
email_from = "Metered <no-reply@metered.test>"

[[pool.client]]
id = "meteredwebclient0000000000"
name = "Metered web"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email"]
rotate_refresh_tokens = true

[[pool.user]]
username = "mia"
password = "Mia-Passw0rd1"
attributes = { email = "mia@example.com", email_verified = "true" }
"#;

/// A server whose mail goes to a real SMTP sink; `metrics` is where its page is served.
struct Metered {
    db: TestDb,
    root: String,
    metrics: String,
    sink: SmtpSink,
}

/// The same server with `--metrics-listen` set, and its mail going to a port where nothing
/// listens.
struct Private(Metered);

impl Metered {
    async fn start(db: TestDb) -> Self {
        Self::start_with(db, false)
    }

    fn start_with(db: TestDb, own_listener: bool) -> Self {
        let sink = SmtpSink::start(0.0);
        let declaration =
            gatehouse::config::parse(CONFIG, Path::new("t.toml"), Path::new("."), &|_| None)
                .unwrap();
        gatehouse::provision::apply(&mut db.store.conn().unwrap(), &declaration).unwrap();
        let metrics_addr = format!("127.0.0.1:{}", free_port());
        let mail = if own_listener {
            smtp_settings(free_port())
        } else {
            sink.mail_settings()
        };
        let server = spawn_server_with(db.store.clone(), |settings| {
            settings.mail = mail;
            if own_listener {
                settings.metrics_listen = Some(metrics_addr.clone());
            }
        });
        let metrics = if own_listener {
            format!("http://{metrics_addr}/metrics")
        } else {
            format!("{}/metrics", server.base)
        };
        Metered {
            db,
            root: server.base,
            metrics,
            sink,
        }
    }

    fn login_url(&self) -> String {
        format!("{}/{POOL}/login?{}", self.root, authorize_query(CLIENT))
    }

    /// Posts the sign-in form (with its CSRF token) in browser `b`.
    async fn sign_in(&self, b: &reqwest::Client, username: &str, password: &str) -> String {
        let url = self.login_url();
        let html = b.get(&url).send().await.unwrap().text().await.unwrap();
        let csrf = input_value(&html, "_csrf");
        let response = b
            .post(&url)
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        let to = location(&response);
        if to.is_empty() {
            response.text().await.unwrap()
        } else {
            to
        }
    }

    /// Signs `username` up, which queues a confirmation code to `{username}@example.com`.
    async fn sign_up(&self, username: &str) {
        let b = browser();
        let signup = format!("{}/{POOL}/signup?{}", self.root, authorize_query(CLIENT));
        let html = b.get(&signup).send().await.unwrap().text().await.unwrap();
        let csrf = input_value(&html, "_csrf");
        let email = format!("{username}@example.com");
        let signed_up = b
            .post(&signup)
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", username),
                ("email", &email),
                ("password", "Newbie-Passw0rd1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_up.status(), StatusCode::FOUND);
    }

    async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/{POOL}/oauth2/token", self.root))
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// The page's samples, read by tests/browser/metrics_check.py.
    async fn scrape(&self) -> Samples {
        let url = self.metrics.clone();
        actix_web::rt::task::spawn_blocking(move || scrape(&url))
            .await
            .unwrap()
    }
}

impl Private {
    async fn start(db: TestDb) -> Self {
        Private(Metered::start_with(db, true))
    }
}

type Samples = BTreeMap<String, f64>;

fn scrape(url: &str) -> Samples {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let deps: PathBuf = root.join(".pydeps");
    assert!(
        deps.join("prometheus_client").exists() || root.join(".venv").exists(),
        "prometheus_client is not installed: python3 -m pip install --target \
         tests/browser/.pydeps -r tests/browser/requirements.txt (.ci/run does)"
    );
    let output = std::process::Command::new("python3")
        .arg(root.join("metrics_check.py"))
        .arg(url)
        .env("PYTHONPATH", deps)
        .output()
        .expect("python3 runs metrics_check.py");
    assert!(
        output.status.success(),
        "metrics_check.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("metrics_check.py prints JSON")
}

fn value(samples: &Samples, key: &str) -> f64 {
    samples.get(key).copied().unwrap_or_default()
}

/// How much `key` grew between two scrapes.
fn grew(before: &Samples, after: &Samples, key: &str) -> f64 {
    assert!(after.contains_key(key), "no {key} in {after:#?}");
    value(after, key) - value(before, key)
}

on_both_backends_with!(
    Metered;
    counters_move_with_sign_ins_grants_and_mail,
);

async fn counters_move_with_sign_ins_grants_and_mail(site: Metered) {
    let before = site.scrape().await;
    assert_eq!(
        value(&before, "gatehouse_build_info{version=\"0.1.0\"}"),
        1.0,
        "{before:#?}"
    );

    // A right password: straight back to the app with a code, exchanged for tokens.
    let b = browser();
    let back = site.sign_in(&b, "mia", "Mia-Passw0rd1").await;
    assert!(back.starts_with(CALLBACK), "{back}");
    let code = param(&back, "code").unwrap();
    let (status, tokens) = site
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    // A refresh rotates the token; using the old one again is a reuse.
    let first = tokens["refresh_token"].as_str().unwrap();
    let refresh = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT),
        ("refresh_token", first),
    ];
    let (status, refreshed) = site.token(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let (status, reused) = site.token(&refresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reused}");
    // The same code again is a replay.
    let (status, replayed) = site
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{replayed}");

    // A wrong password, then an unknown name until it is throttled.
    let wrong = site.sign_in(&browser(), "mia", "not-her-password").await;
    assert!(wrong.contains("Incorrect username or password."), "{wrong}");
    let mut locked = false;
    for _ in 0..8 {
        let page = site.sign_in(&browser(), "nobody", "whatever-1A").await;
        if page.contains("Password attempts exceeded") {
            locked = true;
            break;
        }
    }
    assert!(locked, "the sixth failure is throttled");

    // A sign-up code, delivered to the SMTP sink.
    site.sign_up("newbie").await;
    wait_for_mail(&site.db.store).await;
    assert_eq!(site.sink.messages_to("newbie@example.com").len(), 1);

    // A path no route knows is counted under one label, never under its own path.
    let stray = reqwest::get(format!("{}/no/such-place-42", site.root))
        .await
        .unwrap();
    assert_eq!(stray.status(), StatusCode::NOT_FOUND);

    let after = site.scrape().await;
    let count = |key: &str| grew(&before, &after, key);
    assert_eq!(count("gatehouse_sign_ins_total{result=\"success\"}"), 1.0);
    assert!(count("gatehouse_sign_ins_total{result=\"wrong_password\"}") >= 6.0);
    assert_eq!(count("gatehouse_sign_ins_total{result=\"locked\"}"), 1.0);
    assert_eq!(
        count("gatehouse_tokens_issued_total{grant=\"authorization_code\"}"),
        1.0
    );
    assert_eq!(
        count("gatehouse_tokens_issued_total{grant=\"refresh_token\"}"),
        1.0
    );
    assert_eq!(count("gatehouse_refresh_token_reuse_total{}"), 1.0);
    assert_eq!(count("gatehouse_authorization_code_replays_total{}"), 1.0);
    assert_eq!(
        count("gatehouse_mail_deliveries_total{result=\"sent\"}"),
        1.0
    );
    assert_eq!(value(&after, "gatehouse_mail_outbox_depth{}"), 0.0);
    assert_eq!(value(&after, "gatehouse_database_up{}"), 1.0);
    let token_route = "method=\"POST\",route=\"/{pool_id}/oauth2/token\"";
    assert_eq!(
        count(&format!(
            "gatehouse_http_requests_total{{{token_route},status=\"200\"}}"
        )),
        2.0
    );
    assert_eq!(
        count(&format!(
            "gatehouse_http_requests_total{{{token_route},status=\"400\"}}"
        )),
        2.0,
        "the reused refresh token and the replayed code"
    );
    assert_eq!(
        count(&format!(
            "gatehouse_http_request_duration_seconds_count{{{token_route}}}"
        )),
        4.0
    );
    assert!(count("gatehouse_database_pool_wait_seconds_count{}") > 0.0);
    assert!(
        after
            .keys()
            .any(|k| k.contains("route=\"unmatched\"") && k.contains("status=\"404\"")),
        "{after:#?}"
    );
    assert!(
        !after.keys().any(|k| k.contains("such-place")),
        "{after:#?}"
    );
}

/// With `--metrics-listen`: the page on its own listener only.
mod own_listener {
    use super::*;

    on_both_backends_with!(
        Private;
        a_metrics_listener_keeps_the_page_off_the_public_one,
    );

    async fn a_metrics_listener_keeps_the_page_off_the_public_one(site: Private) {
        let site = site.0;
        let public = reqwest::get(format!("{}/metrics", site.root))
            .await
            .unwrap();
        assert_eq!(public.status(), StatusCode::NOT_FOUND);
        let health = reqwest::get(format!("{}/health", site.root)).await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        // The private listener serves the page and nothing else.
        let private_health = reqwest::get(site.metrics.replace("/metrics", "/health"))
            .await
            .unwrap();
        assert_eq!(private_health.status(), StatusCode::NOT_FOUND);
        // Mail that cannot go out: queued, retried, counted.
        site.sign_up("stuck").await;
        let mut samples = site.scrape().await;
        for _ in 0..100 {
            if value(
                &samples,
                "gatehouse_mail_deliveries_total{result=\"retrying\"}",
            ) >= 1.0
            {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
            samples = site.scrape().await;
        }
        assert!(
            value(
                &samples,
                "gatehouse_mail_deliveries_total{result=\"retrying\"}"
            ) >= 1.0,
            "{samples:#?}"
        );
        assert_eq!(
            value(&samples, "gatehouse_mail_deliveries_total{result=\"sent\"}"),
            0.0
        );
        assert_eq!(value(&samples, "gatehouse_mail_outbox_depth{}"), 1.0);
        assert_eq!(
            value(
                &samples,
                "gatehouse_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"}"
            ),
            1.0,
            "{samples:#?}"
        );
    }
}
