//! How the `gatehouse` binary starts (docs/deployment.md): several processes at the same moment
//! on one new PostgreSQL database take turns to migrate and to apply the file, and every one
//! comes up; the HSTS setting reaches the server from its flag and its environment variable.

use crate::binary::{Running, gatehouse, http, with_example_env, write_example};
use crate::support::{POSTGRES_URL_VAR, REQUIRE_POSTGRES_VAR};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::Value;
use std::process::Output;
use std::sync::{Arc, Barrier};

const PROCESSES: usize = 3;

/// An empty PostgreSQL schema of its own (not migrated), dropped at the end.
struct EmptySchema {
    admin_url: String,
    schema: String,
    url: String,
}

impl EmptySchema {
    fn new() -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            if std::env::var_os(REQUIRE_POSTGRES_VAR).is_some() {
                panic!("{REQUIRE_POSTGRES_VAR} is set but {POSTGRES_URL_VAR} is not");
            }
            eprintln!("skipped: needs {POSTGRES_URL_VAR}");
            return None;
        };
        let schema = format!("gh_start_{}", uuid::Uuid::new_v4().simple());
        PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("cannot reach {POSTGRES_URL_VAR}: {e}"))
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .unwrap();
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema}");
        Some(Self {
            admin_url,
            schema,
            url,
        })
    }
}

impl Drop for EmptySchema {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// Runs `make(i)` for each process on threads released together, and collects the results.
fn all_at_once<T: Send + 'static>(make: impl Fn(usize) -> Box<dyn FnOnce() -> T + Send>) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(PROCESSES));
    let threads: Vec<_> = (0..PROCESSES)
        .map(|i| {
            let (barrier, work) = (barrier.clone(), make(i));
            std::thread::spawn(move || {
                barrier.wait();
                work()
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn migrate(dir: &std::path::Path, url: &str) -> Output {
    gatehouse(dir)
        .args(["migrate", "--database-url", url])
        .output()
        .unwrap()
}

/// Starts the processes together, with the example file or (`None`) the demo, and checks that
/// each answers /health and publishes the pool's one signing key.
fn serve_all(db: &EmptySchema, with_file: bool) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_example(dir.path());
    let pool = if with_file {
        "local_Example01"
    } else {
        "local_DemoPool1"
    };
    let running = all_at_once(|_| {
        let mut command = gatehouse(dir.path());
        command.arg("serve");
        if with_file {
            command.arg("--config").arg(&config);
        }
        command.args(["--database-url", &db.url]);
        with_example_env(&mut command);
        Box::new(move || Running::start(command))
    });
    for server in &running {
        let health = http()
            .get(format!("{}/health", server.base))
            .send()
            .unwrap();
        assert_eq!(health.status(), reqwest::StatusCode::OK);
        let health: Value = health.json().unwrap();
        assert_eq!(health["backend"], "postgres", "{health}");
        let jwks: Value = http()
            .get(format!("{}/{pool}/.well-known/jwks.json", server.base))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "{jwks}");
    }
    for server in running {
        assert!(server.stop().success());
    }
}

#[test]
fn postgres_migrations_run_once_when_started_together() {
    for _ in 0..3 {
        let Some(db) = EmptySchema::new() else { return };
        let dir = tempfile::tempdir().unwrap();
        let url = Arc::new(db.url.clone());
        let path = Arc::new(dir.path().to_owned());
        let outputs = all_at_once(|_| {
            let (url, path) = (url.clone(), path.clone());
            Box::new(move || migrate(&path, &url))
        });
        let mut applied = Vec::new();
        for output in &outputs {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{stderr}");
            applied.push(String::from_utf8_lossy(&output.stdout).trim().to_owned());
        }
        applied.sort();
        assert_eq!(
            applied,
            [
                "0 migrations applied (postgres)",
                "0 migrations applied (postgres)",
                &format!(
                    "{} migrations applied (postgres)",
                    crate::support::migration_count("postgres")
                ),
            ],
        );
    }
}

#[test]
fn postgres_servers_started_together_on_a_new_database_all_come_up() {
    for with_file in [true, true, false] {
        let Some(db) = EmptySchema::new() else { return };
        serve_all(&db, with_file);
    }
}

#[test]
fn postgres_servers_started_together_after_migrate_all_come_up() {
    for _ in 0..3 {
        let Some(db) = EmptySchema::new() else { return };
        let dir = tempfile::tempdir().unwrap();
        assert!(migrate(dir.path(), &db.url).status.success());
        serve_all(&db, true);
    }
}

/// `--hsts-include-subdomains` and `GATEHOUSE_HSTS_INCLUDE_SUBDOMAINS` (RFC 6797 §6.1.2).
#[test]
fn the_hsts_setting_comes_from_its_flag_or_environment() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("g.db").display());
    let cases: [(&[&str], Option<&str>, &str); 4] = [
        (&[], None, "max-age=31536000"),
        (
            &["--hsts-include-subdomains"],
            None,
            "max-age=31536000; includeSubDomains",
        ),
        (&[], Some("true"), "max-age=31536000; includeSubDomains"),
        (&[], Some("false"), "max-age=31536000"),
    ];
    for (flags, env, expected) in cases {
        let mut command = gatehouse(dir.path());
        command.args(["serve", "--public-url", "https://id.example.com"]);
        command.args(["--database-url", &database]).args(flags);
        command.env_remove("GATEHOUSE_HSTS_INCLUDE_SUBDOMAINS");
        if let Some(value) = env {
            command.env("GATEHOUSE_HSTS_INCLUDE_SUBDOMAINS", value);
        }
        let server = Running::start(command);
        let health = http()
            .get(format!("{}/health", server.base))
            .send()
            .unwrap();
        assert_eq!(
            health
                .headers()
                .get("strict-transport-security")
                .and_then(|v| v.to_str().ok()),
            Some(expected),
            "{flags:?} {env:?}"
        );
        assert!(server.stop().success());
    }
}
