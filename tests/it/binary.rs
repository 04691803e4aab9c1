//! End to end: the `gatehouse` binary on a real socket, as a user runs it.

use crate::support::{EXAMPLE_CONFIG, TestDb, example_env};
use gatehouse::store::{self, Store};
use gatehouse::tokens::{Jwks, Signer};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// A running `gatehouse serve`, stopped with SIGTERM when dropped.
pub(crate) struct Running {
    child: Child,
    pub(crate) base: String,
    lines: mpsc::Receiver<String>,
    printed: Vec<String>,
    started_in: Duration,
}

pub(crate) fn gatehouse(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("GATEHOUSE_LISTEN")
        .env_remove("GATEHOUSE_PUBLIC_URL")
        .env_remove("GATEHOUSE_ENCRYPTION_KEY_FILE")
        .env_remove("GATEHOUSE_PREVIOUS_ENCRYPTION_KEY_FILES")
        // PostgreSQL needs a key; tests of the SQLite default remove it.
        .env("GATEHOUSE_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
        .env("GATEHOUSE_LOG", "warn");
    command
}

/// The key every server started by a test is given, unless the test says otherwise.
pub(crate) const TEST_ENCRYPTION_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

impl Running {
    /// Starts `command` on a free port.
    pub(crate) fn start(command: Command) -> Running {
        Self::start_on(command, "127.0.0.1:0")
    }

    pub(crate) fn start_on(mut command: Command, listen: &str) -> Running {
        let started = Instant::now();
        let mut child = command
            .args(["--listen", listen])
            .stdout(Stdio::piped())
            .spawn()
            .expect("gatehouse starts");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut printed = Vec::new();
        let base = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .expect("gatehouse prints where it listens");
            printed.push(line.clone());
            if let Some(rest) = line.strip_prefix("Gatehouse listening on ") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        Running {
            child,
            base,
            lines,
            printed,
            started_in: started.elapsed(),
        }
    }

    /// Lines printed so far (after the listening line, waits briefly for the rest).
    pub(crate) fn output(&mut self) -> String {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(300)) {
            self.printed.push(line);
        }
        self.printed.join("\n")
    }

    pub(crate) fn stop(self) -> ExitStatus {
        self.stop_with("-TERM")
    }

    /// Sends `signal` (`-TERM`, `-INT`) and waits for the process to end.
    pub(crate) fn stop_with(mut self, signal: &str) -> ExitStatus {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "graceful shutdown within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn http() -> reqwest::blocking::Client {
    gatehouse::tokens::signer::install_crypto_providers();
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn serve_without_config_prints_the_demo_whose_discovery_answers() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = gatehouse(dir.path());
    command.args(["serve", "--public-url", &format!("http://127.0.0.1:{port}")]);
    let mut running = Running::start_on(command, &format!("127.0.0.1:{port}"));
    let output = running.output();
    let issuer = line_value(&output, "Issuer:");
    assert_eq!(issuer, format!("http://127.0.0.1:{port}/local_DemoPool1"));
    assert!(
        output.contains("Client id: democlient0000000000000000"),
        "{output}"
    );
    assert!(
        output.contains("User:      demo / Demo-Passw0rd"),
        "{output}"
    );
    let start = line_value(&output, "Sign in:");
    assert_eq!(start, format!("http://127.0.0.1:{port}/demo/"));
    assert!(
        output.contains(&format!("callback {start}callback)")),
        "{output}"
    );

    let discovery_url = line_value(&output, "Discovery:");
    let doc: Value = http().get(&discovery_url).send().unwrap().json().unwrap();
    assert_eq!(doc["issuer"], issuer.as_str());
    let jwks: Value = http()
        .get(doc["jwks_uri"].as_str().unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    demo_api_key_signs_calls(&output, port);
    // The embedded default database lands in the working directory.
    assert!(dir.path().join("gatehouse.db").exists());
    eprintln!("demo: start to listening {:?}", running.started_in);
    assert!(running.stop().success(), "SIGTERM shuts down cleanly");
}

/// The banner's API key signs an admin call on the demo pool (and on no other).
fn demo_api_key_signs_calls(output: &str, port: u16) {
    let key_line = line_value(output, "API key:");
    let field = |name: &str| {
        key_line
            .split_whitespace()
            .find_map(|part| part.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in {key_line}"))
            .to_owned()
    };
    let (key, secret) = (field("AWS_ACCESS_KEY_ID"), field("AWS_SECRET_ACCESS_KEY"));
    assert!(
        line_value(output, "API call:").contains("--user-pool-id local_DemoPool1"),
        "{output}"
    );
    let call = |pool: &str| {
        let body = format!(r#"{{"UserPoolId":"{pool}"}}"#).into_bytes();
        let headers = vec![
            ("host".to_owned(), format!("127.0.0.1:{port}")),
            (
                "x-amz-target".to_owned(),
                "AWSCognitoIdentityProviderService.GetUserPoolMfaConfig".to_owned(),
            ),
        ];
        let request = gatehouse::api::sigv4::SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: &body,
        };
        let signed =
            gatehouse::api::sigv4::sign(&key, &secret, "local", &request, gatehouse::store::now());
        let mut builder = http()
            .post(format!("http://127.0.0.1:{port}/"))
            .body(body.clone());
        for (name, value) in headers.iter().skip(1).cloned().chain(signed) {
            builder = builder.header(name, value);
        }
        let response = builder.send().unwrap();
        (response.status(), response.json::<Value>().unwrap())
    };
    let (status, answer) = call("local_DemoPool1");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["MfaConfiguration"], "OFF");
    let (status, answer) = call("local_Elsewhere1");
    assert_eq!(status, 400);
    assert_eq!(answer["__type"], "AccessDeniedException");
}

pub(crate) fn line_value(output: &str, label: &str) -> String {
    output
        .lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("`{label}` in:\n{output}"))
        .trim()
        .to_owned()
}

pub(crate) fn write_example(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("gatehouse.toml");
    std::fs::write(&path, EXAMPLE_CONFIG).unwrap();
    path
}

pub(crate) fn with_example_env(command: &mut Command) {
    command.envs(crate::support::example_env_vars());
}

fn decode_with_jwks(token: &str, jwks: &Jwks) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or("kid not published")?;
    let key = DecodingKey::from_rsa_components(&jwk.n, &jwk.e).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&["http://localhost:7070/local_Example01"]);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

fn sign_with_active_key(store: &Store) -> (String, String) {
    let mut conn = store.conn().unwrap();
    let key = store::keys::active(&mut conn, "local_Example01")
        .unwrap()
        .unwrap();
    let claims = json!({
        "iss": "http://localhost:7070/local_Example01",
        "sub": "00000000-0000-4000-8000-000000000000",
        "token_use": "access",
        "iat": store::now(),
        "exp": store::now() + 3600,
    });
    (
        Signer::new().sign(&key.private_key(), &claims).unwrap(),
        key.kid,
    )
}

fn tamper(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let payload =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &parts[1])
            .unwrap();
    let forged = String::from_utf8(payload)
        .unwrap()
        .replace("\"access\"", "\"id\"");
    parts[1] = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, forged);
    parts.join(".")
}

fn stored_key_signs_tokens_the_jwks_verifies(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_example(dir.path());
    let mut command = gatehouse(dir.path());
    command.args([
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--database-url",
        &db.url,
    ]);
    with_example_env(&mut command);
    let running = Running::start(command);
    eprintln!(
        "{} start to listening: {:?}",
        db.store.backend(),
        running.started_in
    );
    let jwks_url = format!("{}/local_Example01/.well-known/jwks.json", running.base);
    let jwks: Jwks = http().get(&jwks_url).send().unwrap().json().unwrap();
    assert_eq!(jwks.keys.len(), 1);

    let (token, first_kid) = sign_with_active_key(&db.store);
    let claims = decode_with_jwks(&token, &jwks).expect("verifies against the published key");
    assert_eq!(claims["token_use"], "access");
    assert!(
        decode_with_jwks(&tamper(&token), &jwks).is_err(),
        "a tampered token fails"
    );

    let rotated = gatehouse(dir.path())
        .args([
            "keys",
            "rotate",
            "--pool",
            "local_Example01",
            "--database-url",
            &db.url,
        ])
        .output()
        .unwrap();
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let jwks: Jwks = http().get(&jwks_url).send().unwrap().json().unwrap();
    let kids: Vec<&str> = jwks.keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert!(kids.contains(&first_kid.as_str()));
    let (new_token, second_kid) = sign_with_active_key(&db.store);
    assert_ne!(first_kid, second_kid);
    assert!(String::from_utf8_lossy(&rotated.stdout).contains(&second_kid));
    assert!(decode_with_jwks(&new_token, &jwks).is_ok());
    assert!(
        decode_with_jwks(&token, &jwks).is_ok(),
        "tokens of the previous key still verify"
    );

    let unknown = gatehouse(dir.path())
        .args([
            "keys",
            "rotate",
            "--pool",
            "local_Missing00",
            "--database-url",
            &db.url,
        ])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no pool `local_Missing00`"));
    assert!(running.stop().success());
}

#[test]
fn sqlite_stored_key_signs_tokens_the_jwks_verifies() {
    stored_key_signs_tokens_the_jwks_verifies(TestDb::sqlite());
}

#[test]
fn postgres_stored_key_signs_tokens_the_jwks_verifies() {
    if let Some(db) = TestDb::postgres() {
        stored_key_signs_tokens_the_jwks_verifies(db);
    }
}

/// Two processes started at the same moment on one new SQLite file both start: they take turns
/// to migrate and apply the file, and the pool gets one signing key, not one each.
#[test]
fn two_servers_started_at_once_on_one_sqlite_file_both_start() {
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let config = write_example(dir.path());
        let database = format!("sqlite://{}", dir.path().join("shared.db").display());
        let start = || {
            let mut command = gatehouse(dir.path());
            command.args(["serve", "--config"]).arg(&config);
            command.args(["--database-url", &database]);
            with_example_env(&mut command);
            command
        };
        let (first, second) = (start(), start());
        let first = std::thread::spawn(move || Running::start(first));
        let second = Running::start(second);
        let first = first.join().expect("the first server starts");
        for running in [&first, &second] {
            let jwks: Value = http()
                .get(format!(
                    "{}/local_Example01/.well-known/jwks.json",
                    running.base
                ))
                .send()
                .unwrap()
                .json()
                .unwrap();
            assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "{jwks}");
        }
        assert!(first.stop().success());
        assert!(second.stop().success());
    }
}

#[test]
fn a_bad_file_refuses_to_start_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        EXAMPLE_CONFIG.replacen(
            r#"callback_urls = ["myapp://callback"]"#,
            r#"callback_urls = ["http://evil.example/cb"]"#,
            1,
        ),
    )
    .unwrap();
    let db = dir.path().join("g.db");
    let mut command = gatehouse(dir.path());
    command.args([
        "serve",
        "--config",
        path.to_str().unwrap(),
        "--database-url",
        &format!("sqlite://{}", db.display()),
    ]);
    with_example_env(&mut command);
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: pool[0].client[1].callback_urls[0]: `http://evil.example/cb` is not https",
            path.display()
        )),
        "{stderr}"
    );
    assert!(!db.exists(), "nothing was written");

    let checked = gatehouse(dir.path())
        .args(["check", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(checked.status.code(), Some(2));
    let good = write_example(dir.path());
    let mut check = gatehouse(dir.path());
    check.args(["check", "--config", good.to_str().unwrap()]);
    with_example_env(&mut check);
    assert!(check.output().unwrap().status.success());
}

#[test]
fn migrate_applies_once_and_bad_urls_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let run = || {
        gatehouse(dir.path())
            .args(["migrate", "--database-url", &url])
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success());
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        format!(
            "{} migrations applied (sqlite)",
            crate::support::migration_count("sqlite")
        )
    );
    assert_eq!(
        String::from_utf8_lossy(&run().stdout).trim(),
        "0 migrations applied (sqlite)"
    );
    let bad = gatehouse(dir.path())
        .args(["migrate", "--database-url", "host=localhost user=x"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("must start with sqlite:// or postgres://")
    );
    let unreachable = gatehouse(dir.path())
        .args([
            "migrate",
            "--database-url",
            "postgres://nobody:secret@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert!(
        !stderr.contains("secret"),
        "passwords are never printed: {stderr}"
    );
}

#[test]
fn serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut command = gatehouse(dir.path());
    command.args(["serve", "--public-url", "https://localhost"]);
    command
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key);
    command
        .arg("--database-url")
        .arg(format!("sqlite://{}", dir.path().join("t.db").display()));
    let running = Running::start(command);
    assert!(
        running.base.starts_with("https://127.0.0.1:"),
        "{}",
        running.base
    );
    let port = running.base.rsplit(':').next().unwrap();
    gatehouse::tokens::signer::install_crypto_providers();
    let trusted = reqwest::blocking::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
    let doc: Value = trusted
        .get(format!(
            "https://localhost:{port}/local_DemoPool1/.well-known/openid-configuration"
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(doc["issuer"], "https://localhost/local_DemoPool1");
    // On https every cookie is Secure (the sign-in page sets the CSRF cookie).
    let page = trusted
        .get(format!(
            "https://localhost:{port}/local_DemoPool1/login?response_type=code&client_id={}&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
            gatehouse::provision::DEMO_CLIENT_ID,
            url::form_urlencoded::byte_serialize(gatehouse::provision::DEMO_CALLBACK.as_bytes())
                .collect::<String>(),
            gatehouse::oauth::pkce::challenge("a-verifier-of-at-least-43-characters-0123456789"),
        ))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookies: Vec<&str> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(!cookies.is_empty());
    for cookie in cookies {
        assert!(cookie.contains("; Secure"), "{cookie}");
        assert!(cookie.contains("; HttpOnly"), "{cookie}");
    }
    // A client that does not trust the certificate is refused.
    assert!(
        http()
            .get(format!("https://localhost:{port}/health"))
            .send()
            .is_err()
    );
    assert!(running.stop().success());
}

/// A directory of the repository with its locked npm packages installed (`.ci/run` installs
/// them beforehand; locally the first test to need them does). Both node tests share one lock.
pub(crate) fn npm_packages(relative: &str) -> std::path::PathBuf {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if !dir.join("node_modules/.package-lock.json").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .status()
            .expect("npm is installed (Node 20): the node tests need it");
        assert!(status.success(), "npm ci in {relative} failed");
    }
    dir
}

/// Follows GET redirects from `url`; returns the last URL and its body.
fn follow(browser: &reqwest::blocking::Client, mut url: String) -> (String, String) {
    for _ in 0..10 {
        let response = browser.get(&url).send().unwrap();
        match response.headers().get("location") {
            Some(location) => {
                let next = reqwest::Url::parse(&url)
                    .unwrap()
                    .join(location.to_str().unwrap());
                url = next.unwrap().to_string();
            }
            None => return (url, response.text().unwrap()),
        }
    }
    panic!("more than 10 redirects from {url}");
}

/// openid-client (a certified relying party) against the real binary: discovery, code + PKCE +
/// nonce with a custom-scheme callback, userInfo, refresh, revocation, replay, the implicit
/// flow and client credentials with introspection.
fn certified_relying_party_passes(db: TestDb) {
    let e2e = npm_packages("tests/e2e");
    let dir = tempfile::tempdir().unwrap();
    let config = write_example(dir.path());
    let port = free_port();
    let mut command = gatehouse(dir.path());
    command.args([
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--database-url",
        &db.url,
    ]);
    command.args(["--public-url", &format!("http://127.0.0.1:{port}")]);
    with_example_env(&mut command);
    let running = Running::start_on(command, &format!("127.0.0.1:{port}"));
    let output = Command::new("node")
        .arg(e2e.join("relying_party.mjs"))
        .env(
            "GATEHOUSE_ISSUER",
            format!("{}/local_Example01", running.base),
        )
        .env("E2E_PUBLIC_CLIENT_ID", "examplepublicclient0000000")
        .env("E2E_CONFIDENTIAL_CLIENT_ID", "exampleclientid0000000000a")
        .env(
            "E2E_CONFIDENTIAL_CLIENT_SECRET",
            example_env("EXAMPLE_CLIENT_SECRET").unwrap(),
        )
        .env("E2E_REDIRECT_URI", "myapp://callback")
        .env("E2E_USERNAME", "alice")
        .env("E2E_PASSWORD", example_env("ALICE_PASSWORD").unwrap())
        .env("E2E_CUSTOM_SCOPE", "https://api.example.com/read")
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "relying party failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("31 passed, 0 failed"), "{stdout}");
    assert!(running.stop().success());
}

#[test]
fn sqlite_certified_relying_party_passes() {
    certified_relying_party_passes(TestDb::sqlite());
}

#[test]
fn postgres_certified_relying_party_passes() {
    if let Some(db) = TestDb::postgres() {
        certified_relying_party_passes(db);
    }
}

/// The runnable example app (examples/web-app) signs a user in against the real binary, so the
/// example cannot drift from the server.
#[test]
fn example_web_app_signs_a_user_in() {
    let app_dir = npm_packages("examples/web-app");
    let dir = tempfile::tempdir().unwrap();
    let (port, app_port) = (free_port(), free_port());
    let app = format!("http://127.0.0.1:{app_port}");
    let config = dir.path().join("app.toml");
    std::fs::write(
        &config,
        format!(
            r#"[[pool]]
id = "local_WebAppEx1"
name = "webapp"
[[pool.client]]
id = "webappexampleclient0000000"
name = "web app"
callback_urls = ["{app}/callback"]
logout_urls = ["{app}/"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
[[pool.user]]
username = "erin"
password = "Erin-Passw0rd"
attributes = {{ email = "erin@example.com", email_verified = "true" }}
"#
        ),
    )
    .unwrap();
    let mut command = gatehouse(dir.path());
    command.args(["serve", "--config", config.to_str().unwrap()]);
    command.args([
        "--database-url",
        &format!("sqlite://{}", dir.path().join("w.db").display()),
    ]);
    command.args(["--public-url", &format!("http://127.0.0.1:{port}")]);
    let running = Running::start_on(command, &format!("127.0.0.1:{port}"));
    /// Stops the app even when an assertion fails first.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let node = Command::new("node")
        .arg(app_dir.join("server.mjs"))
        .env("ISSUER", format!("{}/local_WebAppEx1", running.base))
        .env("CLIENT_ID", "webappexampleclient0000000")
        .env("REDIRECT_URI", format!("{app}/callback"))
        .env("LOGOUT_URI", format!("{app}/"))
        .env("PORT", app_port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .expect("node runs the example");
    let _node = Stop(node);
    gatehouse::tokens::signer::install_crypto_providers();
    let browser = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser.get(format!("{app}/")).send().is_err() {
        assert!(Instant::now() < deadline, "the example app listens");
        std::thread::sleep(Duration::from_millis(100));
    }
    // From the app's sign-in link to the hosted page.
    let (url, page) = follow(&browser, format!("{app}/login"));
    assert!(url.contains("/local_WebAppEx1/login?"), "{url}");
    let csrf = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let signed_in = browser
        .post(&url)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "erin"),
            ("password", "Erin-Passw0rd"),
        ])
        .send()
        .unwrap();
    let callback = signed_in.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        callback.starts_with(&format!("{app}/callback?code=")),
        "{callback}"
    );
    let (_, home) = follow(&browser, callback);
    assert!(home.contains("Signed in as erin"), "{home}");
    assert!(home.contains("erin@example.com"));
    assert!(running.stop().success());
}

/// Runs one of the node suites (`dir/script`) against the test build of the binary; each prints
/// one line per check and ends with `N passed, M failed`.
fn node_suite_passes(dir: &str, script: &str) {
    let dir = npm_packages(dir);
    let output = Command::new("node")
        .arg(dir.join(script))
        .env("GATEHOUSE_BIN", env!("CARGO_BIN_EXE_gatehouse"))
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

/// The hosted pages in a real browser (tests/browser/hosted_ui.mjs): Debian's chromium through
/// playwright-core signs up with a code read from a real SMTP server (aiosmtpd), resets a
/// password, sets up and answers TOTP, and checks a client's CSS in computed styles.
#[test]
fn hosted_pages_work_in_a_real_browser() {
    node_suite_passes("tests/browser", "hosted_ui.mjs");
}

/// Federation against a real, certified OpenID Provider (tests/federation/oidc_e2e.mjs): the
/// `oidc-provider` package runs upstream; the chain app → authorize → upstream sign-in and
/// consent → idpresponse → app → token exchange yields an ID token with the mapped attributes
/// and `identities`; cancellation, replay, a forged state and a dead upstream are refused.
#[test]
fn federation_with_a_real_openid_provider() {
    node_suite_passes("tests/federation", "oidc_e2e.mjs");
}

/// Federation with Facebook, Login with Amazon and Sign in with Apple through local stand-ins
/// of their documented APIs, and an OpenID Provider that misbehaves on demand (wrong issuer,
/// audience or nonce, expired or badly signed tokens, rotated keys, malformed or slow answers):
/// tests/federation/social_e2e.mjs.
#[test]
fn federation_with_social_providers_and_a_misbehaving_one() {
    node_suite_passes("tests/federation", "social_e2e.mjs");
}

/// Federation in Chromium (tests/federation/browser_e2e.mjs): the provider button and the
/// corporate-email form lead through a real OpenID Provider back to the app, with no CSP
/// violation on the way.
#[test]
fn federation_in_a_real_browser() {
    node_suite_passes("tests/federation", "browser_e2e.mjs");
}
