//! Outgoing email: confirmation and password-reset codes (docs/hosted-ui.md). Use cases write
//! messages to the database outbox (`store::mail_outbox`) in their transaction; `sender`
//! delivers them through one `Mailer`: SMTP for production, or an outbox file for development
//! and tests.
//!
//! Configured under `[mail]` (docs/configuration.md).

pub mod outbox;
pub mod sender;
pub mod smtp;

use std::path::PathBuf;
use std::sync::Arc;

pub use crate::model::Email;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MailError(pub String);

pub trait Mailer: Send + Sync {
    /// Delivers one message. `id` is its outbox id, the same on every attempt, so that a
    /// receiver can recognise a repeat.
    fn send(&self, id: &str, email: &Email) -> Result<(), MailError>;
}

/// How the server sends email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailSettings {
    /// Append every message to a file (JSON lines) and log it. The default.
    Outbox(PathBuf),
    Smtp(smtp::SmtpSettings),
}

impl Default for MailSettings {
    fn default() -> Self {
        Self::Outbox(PathBuf::from(outbox::DEFAULT_PATH))
    }
}

impl MailSettings {
    pub fn mailer(&self) -> Result<Arc<dyn Mailer>, MailError> {
        Ok(match self {
            Self::Outbox(path) => Arc::new(outbox::Outbox::new(path.clone())),
            Self::Smtp(settings) => Arc::new(smtp::Smtp::new(settings)?),
        })
    }
}

/// `{####}` → the code, `{username}` → the username (Cognito's placeholders).
pub fn fill(template: &str, username: &str, code: &str) -> String {
    template
        .replace("{####}", code)
        .replace("{username}", username)
}

/// A message body from its template: HTML when the template is (it has a `<`), and then the
/// username is escaped, so a username cannot put markup into the pool's own emails.
pub fn body(template: &str, username: &str, code: &str) -> (String, bool) {
    let html = template.contains('<');
    let username = if html {
        username
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    } else {
        username.to_owned()
    };
    (fill(template, &username, code), html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_cannot_add_markup_to_html_messages() {
        let (text, html) = body("Code {####} for {username}", "<a>x</a>", "1");
        assert_eq!((text.as_str(), html), ("Code 1 for <a>x</a>", false));
        let (markup, html) = body("<p>Code {####} for {username}</p>", "<a href=x>", "1");
        assert!(html);
        assert_eq!(markup, "<p>Code 1 for &lt;a href=x&gt;</p>");
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill("Hi {username}, your code is {####}.", "ann", "123456"),
            "Hi ann, your code is 123456."
        );
    }
}
