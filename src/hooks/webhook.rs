//! The webhook transport (docs/triggers.md, "Requests"): `POST <url>` with the event as JSON,
//! Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) and
//! `X-Gatehouse-Trigger`; Lambda's rules of time: each attempt has the hook's timeout, and a
//! hook that does not answer is tried three times in all. An answer with an error status is not
//! retried: the hook refused.

use super::{Delivery, Failure, Transport, signature};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Attempts before a hook that does not answer fails the operation (Lambda's three).
pub const ATTEMPTS: u32 = 3;
/// The most of an answer read; a hook's answer is an event, a few kilobytes.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// The most of a refusal's text put into an error message.
const MAX_MESSAGE_CHARS: usize = 512;

#[derive(Default)]
pub struct Webhooks {
    http: OnceLock<reqwest::Client>,
}

impl Webhooks {
    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            // Idempotent; a command-line use may not have installed them yet.
            crate::tokens::signer::install_crypto_providers();
            reqwest::Client::builder()
                // A hook answers itself: a redirect could send the event (with a password in
                // it) elsewhere.
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(5))
                .user_agent("gatehouse-hooks")
                .build()
                .expect("the HTTP client builds")
        })
    }

    async fn attempt(&self, delivery: &Delivery<'_>) -> Result<Vec<u8>, Attempt> {
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let signature = signature::sign(delivery.key, &id, timestamp, delivery.body);
        let request = self
            .http()
            .post(delivery.url)
            .timeout(delivery.timeout)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header("x-gatehouse-trigger", delivery.trigger.lambda_name())
            .body(delivery.body.to_vec());
        let mut response = request
            .send()
            .await
            .map_err(|e| Attempt::Again(e.to_string()))?;
        let status = response.status();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_ANSWER_BYTES => {
                    body.extend_from_slice(&chunk)
                }
                Ok(Some(_)) => {
                    return Err(Attempt::Final(Failure::InvalidResponse(
                        "the answer is over 1 MiB".into(),
                    )));
                }
                Ok(None) => break,
                Err(e) => return Err(Attempt::Again(e.to_string())),
            }
        }
        if status.is_success() {
            Ok(body)
        } else {
            Err(Attempt::Final(Failure::Rejected(refusal_message(
                &body, status,
            ))))
        }
    }
}

enum Attempt {
    /// No answer (timeout, refused connection, broken stream): worth trying again.
    Again(String),
    Final(Failure),
}

impl Transport for Webhooks {
    fn deliver(&self, delivery: &Delivery<'_>) -> Result<Vec<u8>, Failure> {
        let run = async {
            let mut last = String::new();
            for attempt in 1..=ATTEMPTS {
                let started = Instant::now();
                match self.attempt(delivery).await {
                    Ok(body) => {
                        tracing::debug!(
                            trigger = delivery.trigger.lambda_name(),
                            attempt,
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "hook answered"
                        );
                        return Ok(body);
                    }
                    Err(Attempt::Final(failure)) => {
                        // The message only: the event may hold a password or a code.
                        tracing::info!(
                            trigger = delivery.trigger.lambda_name(),
                            ?failure,
                            "hook refused or answered badly"
                        );
                        return Err(failure);
                    }
                    Err(Attempt::Again(reason)) => {
                        tracing::warn!(trigger = delivery.trigger.lambda_name(), attempt,
                            %reason, "hook did not answer");
                        last = reason;
                    }
                }
            }
            Err(Failure::Unreachable(last))
        };
        match tokio::runtime::Handle::try_current() {
            // On the blocking pool, as use cases run (docs/architecture.md).
            Ok(handle) => handle.block_on(run),
            // A command-line use outside any runtime.
            Err(_) => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Failure::Unreachable(e.to_string()))?
                .block_on(run),
        }
    }
}

/// The text of a refusal: Lambda's `{"errorMessage": …}` or a `{"message": …}`, else only the
/// status. Any other body is dropped: frameworks' default error bodies often echo the request,
/// which may hold a password or a code, and this text reaches logs and the outbox.
fn refusal_message(body: &[u8], status: reqwest::StatusCode) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let from_json = parsed.as_ref().and_then(|v| {
        (v.get("errorMessage").or_else(|| v.get("message"))).and_then(|m| m.as_str())
    });
    match from_json.map(str::trim).filter(|m| !m.is_empty()) {
        Some(message) => message.chars().take(MAX_MESSAGE_CHARS).collect(),
        None => format!("HTTP {}", status.as_u16()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_lambda_error_shapes() {
        let status = reqwest::StatusCode::BAD_REQUEST;
        assert_eq!(
            refusal_message(br#"{"errorMessage":"Bad password"}"#, status),
            "Bad password"
        );
        assert_eq!(
            refusal_message(br#"{"message":"Not today"}"#, status),
            "Not today"
        );
        assert_eq!(refusal_message(b"", status), "HTTP 400");
        // Bodies that are not Lambda's error shape may echo the request: never copied.
        assert_eq!(refusal_message(b"bad password hunter2", status), "HTTP 400");
        let echo = br#"{"detail":[{"msg":"Field required","input":{"password":"hunter2"}}]}"#;
        assert_eq!(
            refusal_message(echo, reqwest::StatusCode::UNPROCESSABLE_ENTITY),
            "HTTP 422"
        );
    }
}
