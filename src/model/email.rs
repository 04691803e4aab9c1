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
