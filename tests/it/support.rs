//! Test support: a fresh database per test (a temporary SQLite file, or a PostgreSQL schema of
//! its own), an in-process server on a free port, and the example configuration.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use gatehouse::app::{self, AppState};
use gatehouse::settings::Settings;
use gatehouse::store::Store;
use std::net::SocketAddr;
use std::path::PathBuf;

pub const POSTGRES_URL_VAR: &str = "GATEHOUSE_TEST_POSTGRES_URL";
pub const REQUIRE_POSTGRES_VAR: &str = "GATEHOUSE_REQUIRE_POSTGRES";

/// A database that exists for one test only.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, schema } = &self.cleanup
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

impl TestDb {
    /// A migrated SQLite database in a temporary directory.
    pub fn sqlite() -> Self {
        gatehouse::tokens::signer::install_crypto_providers();
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("gatehouse.db").display());
        let store = Store::connect(&url).expect("sqlite opens");
        store.migrate().expect("sqlite migrates");
        Self {
            store,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A migrated PostgreSQL schema of its own, or `None` (the test reports itself skipped)
    /// when no server is configured. CI sets `GATEHOUSE_REQUIRE_POSTGRES`, so there it fails.
    pub fn postgres() -> Option<Self> {
        gatehouse::tokens::signer::install_crypto_providers();
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            if std::env::var_os(REQUIRE_POSTGRES_VAR).is_some() {
                panic!("{REQUIRE_POSTGRES_VAR} is set but {POSTGRES_URL_VAR} is not");
            }
            eprintln!("skipped: PostgreSQL half needs {POSTGRES_URL_VAR}");
            return None;
        };
        let schema = format!("gh_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("cannot reach {POSTGRES_URL_VAR}: {e}"));
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .expect("schema created");
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema}");
        let store = Store::connect(&url).expect("postgres opens");
        store.migrate().expect("postgres migrates");
        Some(Self {
            store,
            url,
            cleanup: Cleanup::Postgres { admin_url, schema },
        })
    }
}

/// Declares each listed test function (taking `&TestDb`) once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(&$crate::support::TestDb::sqlite()); } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                if let Some(db) = $crate::support::TestDb::postgres() { super::$name(&db); }
            } )*
        }
    };
}

/// Declares each listed async test function (taking a harness built by `$harness::start(db)`)
/// once per backend.
#[macro_export]
macro_rules! on_both_backends_with {
    ($harness:ident; $($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[actix_web::test] async fn $name() {
                super::$name(super::$harness::start($crate::support::TestDb::sqlite()).await).await;
            } )*
        }
        mod postgres {
            $( #[actix_web::test] async fn $name() {
                if let Some(db) = $crate::support::TestDb::postgres() {
                    super::$name(super::$harness::start(db).await).await;
                }
            } )*
        }
    };
}

/// The configuration file from the foundation issue, exactly as written there.
pub const EXAMPLE_CONFIG: &str = include_str!("../../examples/gatehouse.toml");

/// The development values of the variables the example reads, from examples/gatehouse.env
/// (the one place they are written).
pub const EXAMPLE_ENV: &str = include_str!("../../examples/gatehouse.env");

/// `NAME=value` lines of examples/gatehouse.env.
pub fn example_env_vars() -> impl Iterator<Item = (&'static str, &'static str)> {
    EXAMPLE_ENV
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.split_once('=').expect("NAME=value"))
}

pub fn example_env(name: &str) -> Option<String> {
    example_env_vars()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

pub fn example_declaration() -> gatehouse::config::Declaration {
    gatehouse::config::parse(
        EXAMPLE_CONFIG,
        &PathBuf::from("gatehouse.toml"),
        &PathBuf::from("examples"),
        &example_env,
    )
    .unwrap_or_else(|e| panic!("example config is valid:\n{e}"))
}

/// A server on a free loopback port, running in this test's actix system.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
}

pub fn spawn_server(store: Store) -> TestServer {
    spawn_server_with_outbox(
        store,
        std::env::temp_dir().join("gatehouse-test-outbox.jsonl"),
    )
}

/// A server whose emails go to `outbox` (one JSON line per message).
pub fn spawn_server_with_outbox(store: Store, outbox: std::path::PathBuf) -> TestServer {
    spawn_server_with_mail(store, gatehouse::mail::MailSettings::Outbox(outbox))
}

pub fn spawn_server_with_mail(store: Store, mail: gatehouse::mail::MailSettings) -> TestServer {
    spawn_server_with(store, |settings| settings.mail = mail)
}

/// A server whose settings `adjust` changes first.
pub fn spawn_server_with(store: Store, adjust: impl FnOnce(&mut Settings)) -> TestServer {
    let mut settings = Settings::new(
        "127.0.0.1:0".to_owned(),
        "http://localhost:7070",
        "unused".to_owned(),
        None,
    )
    .expect("settings");
    settings.mail = gatehouse::mail::MailSettings::Outbox(
        std::env::temp_dir().join("gatehouse-test-outbox.jsonl"),
    );
    adjust(&mut settings);
    let state = AppState::new(store, settings).expect("state");
    let (server, addrs) = app::bind(state).expect("server binds");
    actix_web::rt::spawn(server);
    let addr: SocketAddr = addrs[0];
    TestServer {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
    }
}

/// Waits (up to 15 s) until the server's mail sender has delivered every queued message.
pub async fn wait_for_mail(store: &Store) {
    for _ in 0..300 {
        let pending = gatehouse::store::mail_outbox::pending_count(&mut store.conn().unwrap())
            .expect("outbox readable");
        if pending == 0 {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("mail still queued after 15 s");
}

/// A real SMTP server (aiosmtpd, tests/browser/smtp_sink.py) on a loopback port, writing every
/// message it accepts to a JSON-lines file; stopped when dropped.
pub struct SmtpSink {
    child: std::process::Child,
    pub port: u16,
    pub file: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts on `port`; every DATA command waits `stall_seconds` before it is answered.
    pub fn start_on(port: u16, stall_seconds: f64) -> SmtpSink {
        use std::io::BufRead;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
        assert!(
            root.join(".pydeps/aiosmtpd").exists() || root.join(".venv").exists(),
            "aiosmtpd is not installed: python3 -m pip install --target tests/browser/.pydeps \
             -r tests/browser/requirements.txt (.ci/run does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("smtp.jsonl");
        let mut child = std::process::Command::new("python3")
            .arg(root.join("smtp_sink.py"))
            .args([
                port.to_string(),
                file.display().to_string(),
                stall_seconds.to_string(),
            ])
            .env("PYTHONPATH", root.join(".pydeps"))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs smtp_sink.py");
        let stdout = child.stdout.take().unwrap();
        let mut first = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut first)
            .unwrap();
        assert_eq!(first.trim(), "READY", "smtp_sink.py did not start");
        SmtpSink {
            child,
            port,
            file,
            _dir: dir,
        }
    }

    pub fn start(stall_seconds: f64) -> SmtpSink {
        Self::start_on(free_port(), stall_seconds)
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.file)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Messages received so far for `to`.
    pub fn messages_to(&self, to: &str) -> Vec<serde_json::Value> {
        self.messages()
            .into_iter()
            .filter(|m| {
                m["to"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|t| t == to))
            })
            .collect()
    }

    /// The settings of a server that delivers here.
    pub fn mail_settings(&self) -> gatehouse::mail::MailSettings {
        smtp_settings(self.port)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Plain SMTP to `port` on loopback (nothing need listen there).
pub fn smtp_settings(port: u16) -> gatehouse::mail::MailSettings {
    use gatehouse::mail::smtp::{SmtpSecurity, SmtpSettings};
    gatehouse::mail::MailSettings::Smtp(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        timeout_seconds: 30,
    })
}

/// A loopback port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How many migrations a new database gets on `backend` (`sqlite` or `postgres`).
pub fn migration_count(backend: &str) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().join("up.sql").exists())
        .count()
}
