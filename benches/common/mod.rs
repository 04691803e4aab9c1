//! What the protocol benches share: the example configuration with a rotating client, a
//! server started on its own SQLite file and pinned to a core, and small parsing helpers.
// Each bench uses part of this module.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const POOL: &str = "local_Example01";
pub const WEB: &str = "exampleclientid0000000000a";
pub const ROTATING: &str = "rotatingclient000000000000";
pub const SECRET: &str = "example-client-secret-0123456789abcdefghijklmnop";
pub const CALLBACK: &str = "http://localhost:3000/callback";
pub const CONCURRENCY: usize = 16;
/// RFC 7636 appendix B's pair: the rotating client is public, and public clients send PKCE.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

const EXTRA: &str = r#"
[[pool.client]]
id = "rotatingclient000000000000"
name = "rotating"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
rotate_refresh_tokens = true
"#;

/// Users the sign-in timing comparison fails against (a few failures each, under the lock).
pub const TIMING_USERS: usize = 40;

fn timing_users() -> String {
    (0..TIMING_USERS)
        .map(|i| {
            format!("[[pool.user]]\nusername = \"timing{i}\"\npassword = \"Timing-Passw0rd{i}\"\n")
        })
        .collect()
}

/// A release server on its own SQLite file, pinned to one CPU; stopped when dropped.
pub struct Server {
    child: Child,
    port: u16,
    database: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `binary` (the example configuration plus a rotating client) pinned to `cpu`, and
    /// waits until it answers.
    pub async fn start(binary: &str, cpu: usize) -> Self {
        Self::start_with_config(binary, cpu, "", "").await
    }

    /// Like `start`, with top-level tables `before` the example (API keys) and `after` it
    /// (more clients and users of its pool).
    pub async fn start_with_config(binary: &str, cpu: usize, before: &str, after: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("gatehouse.toml");
        let example = include_str!("../../examples/gatehouse.toml");
        std::fs::write(
            &config,
            format!("{before}{example}{EXTRA}{}{after}", timing_users()),
        )
        .unwrap();
        let database = format!("sqlite://{}", dir.path().join("bench.db").display());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new("taskset")
            .args(["-c", &cpu.to_string(), binary, "serve", "--config"])
            .arg(&config)
            .args(["--database-url", &database, "--listen", &listen])
            .args(["--public-url", &format!("http://{listen}")])
            // The load comes from loopback: X-Forwarded-For lets it stand for many browsers.
            // (An environment variable, which older builds under comparison ignore.)
            .env("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1")
            .env("EXAMPLE_CLIENT_SECRET", SECRET)
            .env("ALICE_PASSWORD", "Alice-Passw0rd")
            .env("UPSTREAM_SECRET", "upstream-secret")
            .env("GATEHOUSE_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("taskset and the gatehouse binary");
        let server = Self {
            child,
            port,
            database,
            _dir: dir,
        };
        let health = format!("http://{listen}/health");
        for _ in 0..400 {
            if reqwest::get(&health).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// The pool's issuer: `http://127.0.0.1:<port>/<pool>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}/{POOL}", self.port)
    }

    /// CPU seconds the server has used so far.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(self.pid())
    }
}

/// CPU seconds a process has used, all its threads (ended ones too), read from its CPU clock
/// (nanoseconds; /proc's figures count in 10 ms ticks).
pub fn cpu_seconds_of(pid: u32) -> f64 {
    let mut clock: libc::clockid_t = 0;
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: both calls only write to the locals passed by pointer.
    let read = unsafe {
        libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) == 0
            && libc::clock_gettime(clock, &mut now) == 0
    };
    if read {
        now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
    } else {
        0.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// The load generator's runtime: one worker thread (the benches pin it to CPU 1).
pub fn load_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Moves every thread of this process to `cpu`.
pub fn pin_self_to(cpu: usize) {
    let _ = Command::new("taskset")
        .args([
            "-a",
            "-cp",
            &cpu.to_string(),
            &std::process::id().to_string(),
        ])
        .stdout(Stdio::null())
        .status();
}

/// The hidden CSRF field of a server-rendered form.
pub fn form_csrf(html: &str) -> String {
    let start = html.find("name=\"_csrf\" value=\"").unwrap() + 20;
    html[start..].split('"').next().unwrap().to_owned()
}

/// A query parameter of a redirect's Location.
pub fn param(location: &str, name: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
