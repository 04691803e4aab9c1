//! Cognito's own client libraries against the built binary (tests/api-clients/README.md): boto3,
//! pycognito, the AWS CLI, amazon-cognito-identity-js and the AWS SDK for JavaScript v3 call
//! `gatehouse serve` over real HTTP, with the configuration in tests/api-clients/gatehouse.toml.

use crate::binary::{Running, free_port, gatehouse, npm_packages};
use crate::support::TestDb;
use std::path::{Path, PathBuf};
use std::process::Command;

const CONFIG: &str = include_str!("../api-clients/gatehouse.toml");
const ADMIN_KEY: &str = "AKIAGATEHOUSECLIENTS1";
const READ_KEY: &str = "AKIAGATEHOUSEREADONLY";
const ADMIN_SECRET: &str = "clients-admin-secret-0123456789abcdef";
const CLIENT_SECRET: &str = "clients-confidential-secret-0123456789";
const USER_PASSWORD: &str = "Correct-Horse-9";

/// A server for the suites: its own temporary directory, database and outbox file.
struct Server {
    running: Running,
    outbox: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(db: &TestDb) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("gatehouse.toml");
        std::fs::write(&config, CONFIG).unwrap();
        let outbox = dir.path().join("outbox.jsonl");
        let port = free_port();
        let mut command = gatehouse(dir.path());
        command
            .args(["serve", "--config", config.to_str().unwrap()])
            .args(["--database-url", &db.url])
            .args(["--outbox", outbox.to_str().unwrap()])
            .args(["--public-url", &format!("http://127.0.0.1:{port}")])
            .env("GATEHOUSE_TEST_API_SECRET", ADMIN_SECRET)
            .env("GATEHOUSE_TEST_CLIENT_SECRET", CLIENT_SECRET)
            .env("GATEHOUSE_TEST_USER_PASSWORD", USER_PASSWORD);
        let running = Running::start_on(command, &format!("127.0.0.1:{port}"));
        Server {
            running,
            outbox,
            _dir: dir,
        }
    }

    /// What every suite reads from its environment.
    fn env(&self, command: &mut Command) {
        command
            .env("GATEHOUSE_ENDPOINT", format!("{}/", self.running.base))
            .env("GATEHOUSE_POOL_ID", "local_Example01")
            .env("GATEHOUSE_PUBLIC_CLIENT_ID", "apiclientspublicclient0001")
            .env("GATEHOUSE_LEGACY_CLIENT_ID", "apiclientslegacyclient0001")
            .env(
                "GATEHOUSE_CONFIDENTIAL_CLIENT_ID",
                "apiclientssecretclient0001",
            )
            .env("GATEHOUSE_CONFIDENTIAL_CLIENT_SECRET", CLIENT_SECRET)
            .env("GATEHOUSE_ADMIN_KEY_ID", ADMIN_KEY)
            .env("GATEHOUSE_ADMIN_SECRET", ADMIN_SECRET)
            .env("GATEHOUSE_READ_KEY_ID", READ_KEY)
            .env("GATEHOUSE_USER_PASSWORD", USER_PASSWORD)
            .env("GATEHOUSE_OUTBOX", &self.outbox)
            // The suites must never reach for real AWS credentials or configuration.
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_EC2_METADATA_DISABLED", "true");
    }
}

fn suites_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api-clients")
}

/// Runs `command` to its end; the suite's output unless every step passed.
fn run(name: &str, mut command: Command) -> Result<(), String> {
    let output = command.output().unwrap_or_else(|e| panic!("{name}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    if output.status.success() && stdout.contains(" 0 failed") {
        return Ok(());
    }
    Err(format!(
        "{name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// A Python suite with the packages of tests/api-clients/requirements.txt (installed by .ci/run
/// into tests/api-clients/.pydeps, as the browser test's are).
fn python_suite(db: TestDb, script: &str) -> Result<(), String> {
    let root = suites_dir();
    let deps = root.join(".pydeps");
    assert!(
        deps.join("boto3").exists() && deps.join("pycognito").exists(),
        "the API client packages are not installed: python3 -m pip install --target \
         tests/api-clients/.pydeps -r tests/api-clients/requirements.txt (.ci/run does)"
    );
    let server = Server::start(&db);
    let mut command = Command::new("python3");
    command.arg(root.join(script)).env("PYTHONPATH", &deps);
    server.env(&mut command);
    let result = run(script, command);
    assert!(server.running.stop().success());
    result
}

/// A node suite with the locked packages of tests/api-clients/package.json.
fn node_suite(db: TestDb, script: &str) -> Result<(), String> {
    let root = npm_packages("tests/api-clients");
    let server = Server::start(&db);
    let mut command = Command::new("node");
    command.arg(root.join(script));
    server.env(&mut command);
    let result = run(script, command);
    assert!(server.running.stop().success());
    result
}

/// boto3: admin actions signed with SigV4, public ones from an UNSIGNED client, ListUsers
/// filters and paging, and every P0 error by code.
#[test]
fn boto3_against_the_binary() {
    python_suite(TestDb::sqlite(), "boto3_suite.py").unwrap_or_else(|e| panic!("{e}"));
}

/// pycognito: USER_SRP_AUTH as its AWSSRP computes it, with and without a client secret, the
/// new-password challenge after SRP, refresh, GetUser and GlobalSignOut.
#[test]
fn pycognito_srp_against_the_binary() {
    python_suite(TestDb::sqlite(), "pycognito_srp.py").unwrap_or_else(|e| panic!("{e}"));
}

/// The AWS CLI (v1): admin-create-user, list-users (filter and its own paging), admin-get-user,
/// with `--endpoint-url` and with `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`.
#[test]
fn aws_cli_against_the_binary() {
    python_suite(TestDb::sqlite(), "aws_cli.py").unwrap_or_else(|e| panic!("{e}"));
}

/// amazon-cognito-identity-js: SRP authenticateUser, newPasswordRequired, refreshSession,
/// attributes, changePassword, globalSignOut and signUp.
#[test]
fn cognito_identity_js_against_the_binary() {
    node_suite(TestDb::sqlite(), "identity_js.mjs").unwrap_or_else(|e| panic!("{e}"));
}

/// The AWS SDK for JavaScript v3 (`@aws-sdk/client-cognito-identity-provider`).
#[test]
fn sdk_v3_against_the_binary() {
    node_suite(TestDb::sqlite(), "sdk_v3.mjs").unwrap_or_else(|e| panic!("{e}"));
}

/// The boto3 and amazon-cognito-identity-js suites (admin directory, sign-in flows, codes) once
/// more on PostgreSQL; both run, and the failures of both are shown.
#[test]
fn client_suites_on_postgres() {
    let (Some(first), Some(second)) = (TestDb::postgres(), TestDb::postgres()) else {
        return;
    };
    let failures: Vec<String> = [
        python_suite(first, "boto3_suite.py"),
        node_suite(second, "identity_js.mjs"),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    assert!(
        failures.is_empty(),
        "on PostgreSQL:\n{}",
        failures.join("\n")
    );
}

/// The runnable examples of docs/api.md (examples/api): the boto3 admin script creates and signs
/// in a user, the amazon-cognito-identity-js script signs in with SRP, so neither can drift.
#[test]
fn api_examples_run_against_the_binary() {
    let deps = suites_dir().join(".pydeps");
    assert!(
        deps.join("boto3").exists(),
        "boto3 is not installed: python3 -m pip install --target tests/api-clients/.pydeps \
         -r tests/api-clients/requirements.txt (.ci/run does)"
    );
    let examples = npm_packages("examples/api");
    let db = TestDb::sqlite();
    let server = Server::start(&db);
    let mut admin = Command::new("python3");
    admin
        .arg(examples.join("admin.py"))
        .args(["grace", "Grace-Passw0rd", "grace@example.com"])
        .env("PYTHONPATH", &deps);
    server.env(&mut admin);
    admin
        .env("GATEHOUSE_CLIENT_ID", "apiclientspublicclient0001")
        .env("AWS_ACCESS_KEY_ID", ADMIN_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ADMIN_SECRET);
    let output = admin.output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("as expected: UserNotFoundException"),
        "examples/api/admin.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut sign_in = Command::new("node");
    sign_in
        .arg(examples.join("sign_in.mjs"))
        .args(["grace", "Grace-Passw0rd"]);
    server.env(&mut sign_in);
    sign_in.env("GATEHOUSE_CLIENT_ID", "apiclientspublicclient0001");
    let output = sign_in.output().expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("signed in as grace grace@example.com"),
        "examples/api/sign_in.mjs failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(server.running.stop().success());
}
