//! Triggers as webhooks (docs/triggers.md): the event JSON of Cognito's Lambda triggers,
//! POSTed to the pool's hook signed with the Standard Webhooks scheme, and the answer read back
//! as the event's `response`. Failures become Cognito's errors (`HookError`).
//!
//! `invoke` blocks its thread for the hook's answer: call it from a use case on the blocking
//! pool with the database connection released (`store::Lease::release`), never inside a
//! transaction.

pub mod event;
pub mod signature;
pub mod webhook;

pub use event::Event;

use crate::model::triggers::{HookTarget, TriggerKind};
use crate::sealing::Sealer;
use serde_json::{Map, Value};
use std::time::Duration;

/// How a hook failed, in the three ways Cognito tells apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The hook answered with an error status: it refused (Lambda's raised error).
    Rejected(String),
    /// The hook answered 2xx with something that is not an event, or a field of the wrong type.
    InvalidResponse(String),
    /// No answer in time after every attempt, or no connection.
    Unreachable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookError {
    pub trigger: TriggerKind,
    pub failure: Failure,
}

impl HookError {
    pub fn new(trigger: TriggerKind, failure: Failure) -> Self {
        Self { trigger, failure }
    }

    /// A field of the answer had the wrong type or value.
    pub fn invalid(trigger: TriggerKind, detail: impl Into<String>) -> Self {
        Self::new(trigger, Failure::InvalidResponse(detail.into()))
    }

    /// Cognito's exception name for this failure.
    pub fn code(&self) -> &'static str {
        match self.failure {
            Failure::Rejected(_) => "UserLambdaValidationException",
            Failure::InvalidResponse(_) => "InvalidLambdaResponseException",
            Failure::Unreachable(_) => "UnexpectedLambdaException",
        }
    }

    /// Cognito's message for this failure.
    pub fn message(&self) -> String {
        let name = self.trigger.lambda_name();
        match &self.failure {
            Failure::Rejected(message) => format!("{name} failed with error {message}."),
            Failure::InvalidResponse(_) => format!("Unrecognizable lambda output ({name})."),
            Failure::Unreachable(_) => {
                format!("{name} invocation failed due to error: the hook did not answer.")
            }
        }
    }
}

impl std::fmt::Display for HookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.failure {
            Failure::Rejected(m) | Failure::InvalidResponse(m) | Failure::Unreachable(m) => {
                write!(f, "{}: {}: {m}", self.trigger.lambda_name(), self.code())
            }
        }
    }
}

/// One signed delivery, as a transport sends it.
pub struct Delivery<'a> {
    pub trigger: TriggerKind,
    pub url: &'a str,
    pub key: &'a [u8],
    pub body: &'a [u8],
    pub timeout: Duration,
}

/// How events reach hooks. The one transport is the webhook (`webhook::Webhooks`); tests may
/// count deliveries through it.
pub trait Transport: Send + Sync {
    /// Delivers one event and returns the answer's body, or how delivery failed.
    fn deliver(&self, delivery: &Delivery<'_>) -> Result<Vec<u8>, Failure>;
}

/// The hooks service every use case reaches through `Services::hooks`.
pub struct Hooks {
    transport: Box<dyn Transport>,
}

impl Default for Hooks {
    fn default() -> Self {
        Self::new(Box::new(webhook::Webhooks::default()))
    }
}

impl Hooks {
    pub fn new(transport: Box<dyn Transport>) -> Self {
        Self { transport }
    }

    /// Sends `event` to the pool's hook for `kind` and returns the answer's `response` object
    /// (empty when the hook sent `null`). Blocks up to the hook's timeout times its attempts.
    pub fn invoke(
        &self,
        sealer: &Sealer,
        pool_id: &str,
        kind: TriggerKind,
        target: &HookTarget,
        event: &Value,
    ) -> Result<Map<String, Value>, HookError> {
        let fail = |failure| HookError::new(kind, failure);
        let secret = sealer
            .open_string(&secret_purpose(pool_id, kind), &target.sealed_secret)
            .map_err(|e| fail(Failure::Unreachable(format!("hook secret unreadable: {e}"))))?;
        let key = signature::parse_secret(&secret).map_err(|e| fail(Failure::Unreachable(e)))?;
        let body = serde_json::to_vec(event).expect("an event serializes");
        let answer = self.transport.deliver(&Delivery {
            trigger: kind,
            url: &target.url,
            key: &key,
            body: &body,
            timeout: Duration::from_millis(target.timeout_ms),
        });
        let answer = answer.map_err(fail)?;
        event::response_of(&answer).map_err(|detail| fail(Failure::InvalidResponse(detail)))
    }
}

/// The sealing purpose of a hook's secret.
pub fn secret_purpose(pool_id: &str, kind: TriggerKind) -> String {
    format!("hook:{pool_id}:{}", kind.key())
}
