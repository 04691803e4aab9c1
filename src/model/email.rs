//! An outgoing email as the use cases write it and the outbox stores it (docs/hosted-ui.md,
//! "Email"); delivery is `mail`'s business.

use serde::{Deserialize, Serialize};

/// One message, rendered from a pool's templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub from: String,
    pub reply_to: Option<String>,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Templates may contain HTML (Cognito allows it); such bodies are sent as text/html.
    pub html: bool,
}

/// What the outbox holds: an email for the mailer, or a message a pool's sender hook
/// (`custom_email_sender`) delivers in its place (docs/triggers.md, "Custom email and SMS
/// senders").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Outgoing {
    Hook { hook: HookMessage },
    Email(Email),
}

/// A message for a sender hook: its event without the code, and the code sealed, so the
/// outbox never holds it in clear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookMessage {
    pub trigger: crate::model::triggers::TriggerKind,
    /// The event as the hook receives it, with `request.code` still empty.
    pub event: serde_json::Value,
    /// The code (a temporary password for invitations), sealed for the pool
    /// (`flows::messages::code_purpose`).
    pub sealed_code: String,
    /// Where the message goes, for the logs.
    pub to: String,
}

impl Outgoing {
    /// The recipient, for the logs.
    pub fn to(&self) -> &str {
        match self {
            Outgoing::Hook { hook } => &hook.to,
            Outgoing::Email(email) => &email.to,
        }
    }
}
