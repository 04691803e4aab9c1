//! The development mailer (README.md, "Hosted pages"): every message is appended to a file as
//! one JSON line (`{"id":…,"from":…,"to":…,"subject":…,"body":…}`), so a developer or a test
//! can read the codes there; the log names only the message, its recipient and the file.
//!
//! Configured under `[mail]` (docs/configuration.md).

use super::{Email, MailError, Mailer};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

pub const DEFAULT_PATH: &str = "gatehouse-outbox.jsonl";

pub struct Outbox {
    path: PathBuf,
    /// Serializes appends so lines never interleave.
    lock: Mutex<()>,
}

impl Outbox {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }
}

impl Mailer for Outbox {
    fn send(&self, id: &str, email: &Email) -> Result<(), MailError> {
        #[derive(serde::Serialize)]
        struct Line<'a> {
            id: &'a str,
            #[serde(flatten)]
            email: &'a Email,
        }
        let line =
            serde_json::to_string(&Line { id, email }).map_err(|e| MailError(e.to_string()))?;
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| MailError(format!("outbox {}: {e}", self.path.display())))?;
        writeln!(file, "{line}")
            .map_err(|e| MailError(format!("outbox {}: {e}", self.path.display())))?;
        // Never the body or the subject: both may carry a code or a temporary password
        // (`{####}` is allowed in subjects too). Read them from the file.
        tracing::info!(
            message = %id,
            to = %email.to,
            outbox = %self.path.display(),
            "email written to the outbox"
        );
        Ok(())
    }
}
