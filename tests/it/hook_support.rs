//! The real hook service of the trigger tests (tests/hooks/service.py): a Python web service
//! that checks each request's Standard Webhooks signature with the published library, records
//! the events it verified, and answers with the test's handlers.
#![allow(dead_code)] // Shared by every trigger test module; not each uses every helper.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The hooks' signing secret in test configurations (`env:TEST_HOOK_SECRET` resolves to it).
pub const HOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub struct HookService {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

fn hooks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hooks")
}

/// tests/api-clients/.pydeps, where .ci/run installs the hook services' packages.
pub fn python_deps() -> PathBuf {
    let deps = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api-clients/.pydeps");
    assert!(
        deps.join("standardwebhooks").exists(),
        "standardwebhooks is not installed: python3 -m pip install --target \
         tests/api-clients/.pydeps -r tests/api-clients/requirements.txt (.ci/run does)"
    );
    deps
}

impl HookService {
    /// Starts the service with the handler modules `handlers` (e.g. `["basics", "lifecycle"]`)
    /// and extra environment for them.
    pub fn start(handlers: &[&str], env: &[(&str, &str)]) -> HookService {
        Self::start_with_secret(handlers, env, HOOK_SECRET)
    }

    /// As `start`, checking signatures against another secret.
    pub fn start_with_secret(handlers: &[&str], env: &[(&str, &str)], secret: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls.jsonl");
        let port_file = dir.path().join("port");
        let mut command = Command::new("python3");
        command
            .arg(hooks_dir().join("service.py"))
            .args(["--secret", secret, "--handlers", &handlers.join(",")])
            .arg("--log")
            .arg(&log)
            .arg("--port-file")
            .arg(&port_file)
            .env("PYTHONPATH", python_deps())
            .stdin(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("python3 runs");
        let started = Instant::now();
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                break text.trim().parse().unwrap();
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the hook service exited: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the hook service did not start"
            );
            std::thread::sleep(Duration::from_millis(25));
        };
        HookService {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    /// The URL of one of the service's paths.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request the service received, in order: `{"path", "trigger", "event"}`, or
    /// `{"path", "error"}` for one whose signature did not verify.
    pub fn calls(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The verified events sent to `path`.
    pub fn events(&self, path: &str) -> Vec<Value> {
        let calls = self.calls();
        for call in &calls {
            assert!(
                call.get("error").is_none(),
                "a request failed verification: {call}"
            );
        }
        calls
            .into_iter()
            .filter(|call| call["path"] == path)
            .map(|call| call["event"].clone())
            .collect()
    }
}

impl Drop for HookService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `[pool.triggers]` line: `name = { url = "<url>", secret = "env:TEST_HOOK_SECRET" }`.
pub fn trigger_line(name: &str, url: &str, extra: &str) -> String {
    format!("{name} = {{ url = \"{url}\", secret = \"env:TEST_HOOK_SECRET\"{extra} }}\n")
}
