//! What an operator relies on, against the real binary (docs/deployment.md): JSON logs with a
//! request id and no secret in any line, SIGINT draining requests in flight like SIGTERM, the
//! keep-alive timeout, and the example configuration passing `gatehouse check` as shipped.

use crate::binary::{Running, gatehouse, http};
use crate::on_both_backends;
use crate::support::{TestDb, example_env_vars};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const POOL: &str = "local_OpsPool01";
const CLIENT: &str = "opsclient00000000000000000";
const CLIENT_SECRET: &str = "ops-client-secret-9f8e7d6c5b4a39281706";
const CALLBACK: &str = "http://localhost:3000/callback";
const OLGA_PASSWORD: &str = "Olga-Passw0rd-secret";

const CONFIG: &str = r#"
[[pool]]
id = "local_OpsPool01"
name = "ops"
auto_verified_attributes = ["email"]
[pool.password_policy]
minimum_length = 8
require_symbols = false

[[pool.client]]
id = "opsclient00000000000000000"
name = "ops"
secret = "env:OPS_CLIENT_SECRET"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email", "profile"]

[[pool.user]]
username = "olga"
password = "env:OLGA_PASSWORD"
attributes = { email = "olga@example.com", email_verified = "true" }
"#;

/// `gatehouse serve --log-format json` on the test's database, its stderr in a file.
struct Logged {
    running: Running,
    stderr: PathBuf,
    outbox: PathBuf,
    _dir: tempfile::TempDir,
}

fn serve_logged(db: &TestDb, level: &str) -> Logged {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ops.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let (stderr, outbox) = (
        dir.path().join("stderr.log"),
        dir.path().join("outbox.jsonl"),
    );
    let mut command = gatehouse(dir.path());
    command
        .args(["serve", "--config", config.to_str().unwrap()])
        .args(["--database-url", &db.url, "--log-format", "json"])
        .args(["--outbox", outbox.to_str().unwrap()])
        .env("GATEHOUSE_LOG", level)
        .env("OPS_CLIENT_SECRET", CLIENT_SECRET)
        .env("OLGA_PASSWORD", OLGA_PASSWORD)
        .stderr(std::fs::File::create(&stderr).unwrap());
    Logged {
        running: Running::start(command),
        stderr,
        outbox,
        _dir: dir,
    }
}

fn browser() -> Client {
    gatehouse::tokens::signer::install_crypto_providers();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

fn page(base: &str, page: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", CLIENT),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email profile"),
        ])
        .finish();
    format!("{base}/{POOL}/{page}?{query}")
}

fn location(response: &reqwest::blocking::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn param(location: &str, name: &str) -> String {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} in {location}"))
}

/// GETs the page at `url`, then posts its form with `fields` and the page's CSRF token.
fn submit(b: &Client, url: &str, fields: &[(&str, &str)]) -> reqwest::blocking::Response {
    let html = b.get(url).send().unwrap().text().unwrap();
    let marker = "name=\"_csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("csrf in {html}"))
        + marker.len();
    let csrf = html[start..].split('"').next().unwrap().to_owned();
    let mut form = vec![("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post(url).form(&form).send().unwrap()
}

/// The six-digit code of the newest email to `to` in the outbox file (waits for it).
fn code_for(outbox: &Path, to: &str, seen: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = std::fs::read_to_string(outbox).unwrap_or_default();
        let emails: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|e: &Value| e["to"] == to)
            .collect();
        if emails.len() > seen {
            let body = emails.last().unwrap()["body"].as_str().unwrap().to_owned();
            let chars: Vec<char> = body.chars().collect();
            return chars
                .windows(6)
                .find(|w| w.iter().all(char::is_ascii_digit))
                .map(|w| w.iter().collect())
                .unwrap_or_else(|| panic!("a code in {body}"));
        }
        assert!(Instant::now() < deadline, "an email to {to}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn grant(base: &str, form: &[(&str, &str)]) -> Value {
    let response = http()
        .post(format!("{base}/{POOL}/oauth2/token"))
        .basic_auth(CLIENT, Some(CLIENT_SECRET))
        .form(form)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().unwrap()
}

/// Drives sign-up, confirmation, sign-in, grants, userInfo, a failed sign-in and a password
/// reset; returns every secret used or received.
fn exercise(base: &str, outbox: &Path) -> Vec<String> {
    let mut secrets = vec![CLIENT_SECRET.to_owned(), OLGA_PASSWORD.to_owned()];
    let (password, new_password) = ("Pat-Passw0rd-secret", "Pat-Renewed-Passw0rd");
    secrets.extend([password.to_owned(), new_password.to_owned()]);
    let b = browser();
    let signed_up = submit(
        &b,
        &page(base, "signup"),
        &[
            ("username", "pat"),
            ("email", "pat@example.com"),
            ("password", password),
        ],
    );
    assert_eq!(signed_up.status(), StatusCode::FOUND);
    let confirm = format!("{base}{}", location(&signed_up));
    let code = code_for(outbox, "pat@example.com", 0);
    let confirmed = submit(&b, &confirm, &[("username", "pat"), ("code", &code)]);
    let at_app = location(&confirmed);
    assert!(at_app.starts_with(CALLBACK), "{at_app}");
    let authorization_code = param(&at_app, "code");
    secrets.extend([code, authorization_code.clone()]);

    let tokens = grant(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &authorization_code),
            ("redirect_uri", CALLBACK),
        ],
    );
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = grant(
        base,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    );
    for set in [&tokens, &refreshed] {
        for kind in ["access_token", "id_token", "refresh_token"] {
            if let Some(token) = set[kind].as_str() {
                secrets.push(token.to_owned());
            }
        }
    }
    let access = refreshed["access_token"].as_str().unwrap();
    let info = http()
        .get(format!("{base}/{POOL}/oauth2/userInfo"))
        .bearer_auth(access)
        .send()
        .unwrap();
    assert_eq!(info.status(), StatusCode::OK);

    let wrong = "Wrong-Passw0rd-secret";
    secrets.push(wrong.to_owned());
    let failed = submit(
        &browser(),
        &page(base, "login"),
        &[("username", "olga"), ("password", wrong)],
    );
    assert!(
        failed
            .text()
            .unwrap()
            .contains("Incorrect username or password.")
    );
    let signed_in = submit(
        &browser(),
        &page(base, "login"),
        &[("username", "olga"), ("password", OLGA_PASSWORD)],
    );
    let at_app = location(&signed_in);
    assert!(at_app.starts_with(CALLBACK), "{at_app}");
    secrets.push(param(&at_app, "code"));

    let b = browser();
    let asked = submit(&b, &page(base, "forgotPassword"), &[("username", "pat")]);
    assert_eq!(asked.status(), StatusCode::FOUND);
    let reset_code = code_for(outbox, "pat@example.com", 1);
    let reset = submit(
        &b,
        &format!("{base}{}", location(&asked)),
        &[
            ("username", "pat"),
            ("code", &reset_code),
            ("password", new_password),
            ("confirm_password", new_password),
        ],
    );
    assert!(location(&reset).contains("notice=password_reset"));
    secrets.push(reset_code);

    // A caller's own request id is kept when it is plain, replaced when it is not.
    let echoed = |sent: &str| {
        let response = http()
            .get(format!("{base}/health"))
            .header("x-request-id", sent)
            .send()
            .unwrap();
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(echoed("lb-7f3a.42"), "lb-7f3a.42");
    let replaced = echoed("no spaces, please");
    assert!(
        !replaced.is_empty() && !replaced.contains(' '),
        "{replaced}"
    );
    secrets
}

/// Every stderr line is a JSON object; request lines carry their fields; no secret appears.
fn check_log(stderr: &str, secrets: &[String]) {
    let mut requests = Vec::new();
    // What is searched for secrets: every line without its timestamp, whose microseconds could
    // match a six-digit code by chance.
    let mut searched = String::new();
    for line in stderr.lines() {
        let mut entry: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            entry["level"].is_string() && entry["timestamp"].is_string(),
            "{line}"
        );
        entry.as_object_mut().unwrap().remove("timestamp");
        searched.push_str(&entry.to_string());
        searched.push('\n');
        if let Some(span_id) = entry["span"]["request_id"].as_str()
            && let Some(own) = entry["request_id"].as_str()
        {
            assert_eq!(span_id, own, "{line}");
        }
        if entry["message"] == "request" {
            requests.push(entry);
        }
    }
    for secret in secrets {
        assert!(
            !searched.contains(secret.as_str()),
            "`{secret}` is in the log:\n{stderr}"
        );
    }
    for request in &requests {
        assert!(
            request["request_id"]
                .as_str()
                .is_some_and(|id| !id.is_empty()),
            "{request}"
        );
        assert!(
            request["method"].is_string() && request["route"].is_string(),
            "{request}"
        );
        assert!(
            request["status"].is_u64() && request["latency_ms"].is_number(),
            "{request}"
        );
        assert!(
            !request["route"].as_str().unwrap().contains(POOL),
            "the route template, not the path: {request}"
        );
        if request["route"]
            .as_str()
            .unwrap()
            .starts_with("/{pool_id}/")
        {
            assert_eq!(request["pool"], POOL, "{request}");
        }
    }
    let routes = |route: &str| -> Vec<&Value> {
        let template = format!("/{{pool_id}}{route}");
        requests.iter().filter(|r| r["route"] == template).collect()
    };
    for route in ["/oauth2/token", "/oauth2/userInfo", "/login", "/signup"] {
        let lines = routes(route);
        assert!(!lines.is_empty(), "a {route} line");
        for request in lines {
            assert_eq!(request["client"], CLIENT, "{request}");
        }
    }
    let ids: Vec<&str> = requests
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"lb-7f3a.42"));
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert!(unique.len() >= ids.len() - 1, "one id per request");
}

fn json_logs_carry_requests_and_no_secrets(db: &TestDb) {
    let logged = serve_logged(db, "info");
    let secrets = exercise(&logged.running.base.clone(), &logged.outbox);
    assert!(logged.running.stop().success());
    let stderr = std::fs::read_to_string(&logged.stderr).unwrap();
    check_log(&stderr, &secrets);
    assert!(!stderr.contains(&db.url), "the database URL is not logged");
}

on_both_backends!(json_logs_carry_requests_and_no_secrets);

/// Dependencies log more at debug; still no secret (SQLite only: the same code paths).
#[test]
fn debug_json_logs_carry_no_secrets() {
    let db = TestDb::sqlite();
    let logged = serve_logged(&db, "debug");
    let secrets = exercise(&logged.running.base.clone(), &logged.outbox);
    assert!(logged.running.stop().success());
    let stderr = std::fs::read_to_string(&logged.stderr).unwrap();
    check_log(&stderr, &secrets);
}

/// SIGINT while sign-ins (argon2, tens of milliseconds each) are in flight: every request sent
/// before the signal gets its whole answer, and the process exits 0.
#[test]
fn sigint_lets_requests_in_flight_finish() {
    const REQUESTS: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let mut command = gatehouse(dir.path());
    command.args(["serve", "--outbox", "outbox.jsonl"]);
    let running = Running::start(command);
    let login = format!(
        "{}/local_DemoPool1/login?response_type=code&client_id=democlient0000000000000000\
         &redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback&scope=openid\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        running.base
    );
    // Each browser has its page (cookie, CSRF token) before the burst.
    let forms: Vec<(Client, String)> = (0..REQUESTS)
        .map(|_| {
            let b = browser();
            let html = b.get(&login).send().unwrap().text().unwrap();
            let marker = "name=\"_csrf\" value=\"";
            let start = html.find(marker).unwrap() + marker.len();
            (b, html[start..].split('"').next().unwrap().to_owned())
        })
        .collect();
    let go = Arc::new(Barrier::new(REQUESTS + 1));
    let (finished, first) = std::sync::mpsc::channel();
    let threads: Vec<_> = forms
        .into_iter()
        .map(|(b, csrf)| {
            let (go, login, finished) = (go.clone(), login.clone(), finished.clone());
            std::thread::spawn(move || {
                go.wait();
                let sent = Instant::now();
                let form = [
                    ("_csrf", csrf.as_str()),
                    ("username", "demo"),
                    ("password", "Demo-Passw0rd"),
                ];
                let answer = b.post(&login).form(&form).send().map(|r| {
                    let status = r.status();
                    (status, location(&r), r.bytes().is_ok())
                });
                let _ = finished.send(());
                (sent, answer, Instant::now())
            })
        })
        .collect();
    go.wait();
    let burst = Instant::now();
    // The first answer means the server is hashing; by a moment later it has read every
    // request, and most are still being answered.
    first.recv_timeout(Duration::from_secs(60)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    let status = running.stop_with("-INT");
    let mut after_signal = 0;
    for thread in threads {
        let (sent, answer, done) = thread.join().unwrap();
        if sent > signalled {
            continue;
        }
        let (status, next, whole) = answer.expect("an answer to a request sent before SIGINT");
        assert_eq!(status, StatusCode::FOUND);
        assert!(
            next.starts_with("http://localhost:3000/callback?code="),
            "{next}"
        );
        assert!(whole);
        if done > signalled {
            after_signal += 1;
        }
    }
    eprintln!(
        "signal {:?} into the burst; {after_signal} of {REQUESTS} answered after it",
        signalled - burst
    );
    assert!(
        after_signal > 0,
        "the signal came while requests were in flight"
    );
    assert!(status.success(), "exit status {status:?}");
}

/// Reads one HTTP/1.1 answer (headers and a Content-Length body); `None` on a closed stream.
fn read_answer(stream: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return Some(text);
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// `--keep-alive-seconds 2`: an idle connection is served again after 1 s and closed by the
/// server after 2.
#[test]
fn idle_connections_are_kept_for_the_keep_alive_setting() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = gatehouse(dir.path());
    command
        .args(["serve", "--outbox", "outbox.jsonl"])
        .env("GATEHOUSE_KEEP_ALIVE_SECONDS", "2");
    let running = Running::start(command);
    let addr = running.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    for pause in [0, 1] {
        std::thread::sleep(Duration::from_secs(pause));
        stream.write_all(request.as_bytes()).unwrap();
        let answer = read_answer(&mut stream).expect("the connection is still open");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    std::thread::sleep(Duration::from_millis(3500));
    // The server has closed its end: the next read sees the end of the stream (or a reset).
    let _ = stream.write_all(request.as_bytes());
    let mut buf = [0u8; 64];
    let closed = matches!(stream.read(&mut buf), Ok(0) | Err(_));
    assert!(
        closed,
        "the idle connection was closed after the keep-alive timeout"
    );
    assert!(running.stop().success());
}

/// The example configuration passes `gatehouse check` with the variables of
/// examples/gatehouse.env, and names each one it misses without them.
#[test]
fn the_example_configuration_checks_with_its_documented_variables() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let check = |with_env: bool| {
        let mut command = gatehouse(root);
        command.args(["check", "--config", "examples/gatehouse.toml"]);
        for (name, _) in example_env_vars() {
            command.env_remove(name);
        }
        if with_env {
            command.envs(example_env_vars());
        }
        command
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap()
    };
    let output = check(true);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let without = check(false);
    assert_eq!(without.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&without.stderr);
    for (name, _) in example_env_vars() {
        assert!(stderr.contains(name), "{name} in {stderr}");
    }
    // The toml's header names every variable the env file sets.
    let toml = std::fs::read_to_string(root.join("examples/gatehouse.toml")).unwrap();
    let header: String = toml
        .lines()
        .take_while(|l| l.starts_with('#') || l.is_empty())
        .collect();
    for (name, _) in example_env_vars() {
        assert!(header.contains(name), "{name} in the header");
    }
}
