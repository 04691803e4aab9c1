//! The production mailer: SMTP through lettre, with implicit TLS, STARTTLS or (for a local
//! relay) plain connections, optional credentials and a timeout so a dead server fails fast.
//!
//! Configured under `[mail.smtp]` (docs/configuration.md, "`[mail]`").

use super::{Email, MailError, Mailer};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout_seconds: u64,
}

// By hand, so that a settings dump never shows the password.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(redacted)"))
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

pub struct Smtp {
    transport: SmtpTransport,
}

impl Smtp {
    pub fn new(settings: &SmtpSettings) -> Result<Self, MailError> {
        let builder = match settings.security {
            SmtpSecurity::Tls => SmtpTransport::relay(&settings.host),
            SmtpSecurity::StartTls => SmtpTransport::starttls_relay(&settings.host),
            SmtpSecurity::None => Ok(SmtpTransport::builder_dangerous(&settings.host)),
        }
        .map_err(|e| MailError(format!("SMTP {}: {e}", settings.host)))?;
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(Duration::from_secs(settings.timeout_seconds)));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
        })
    }
}

fn mailbox(address: &str, what: &str) -> Result<Mailbox, MailError> {
    address
        .parse()
        .map_err(|e| MailError(format!("{what} address `{address}`: {e}")))
}

impl Mailer for Smtp {
    fn send(&self, id: &str, email: &Email) -> Result<(), MailError> {
        let from = mailbox(&email.from, "from")?;
        // The outbox id names the message on every attempt, so a repeat can be recognised.
        let message_id = format!("<{id}@{}>", from.email.domain());
        let mut message = Message::builder()
            .message_id(Some(message_id))
            .from(from)
            .to(mailbox(&email.to, "recipient")?)
            .subject(email.subject.clone());
        if let Some(reply_to) = &email.reply_to {
            message = message.reply_to(mailbox(reply_to, "reply-to")?);
        }
        let content_type = if email.html {
            ContentType::TEXT_HTML
        } else {
            ContentType::TEXT_PLAIN
        };
        let message = message
            .header(content_type)
            .body(email.body.clone())
            .map_err(|e| MailError(e.to_string()))?;
        self.transport
            .send(&message)
            .map_err(|e| MailError(format!("SMTP: {e}")))?;
        Ok(())
    }
}
