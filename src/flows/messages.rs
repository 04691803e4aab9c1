//! The messages a pool sends with a code (docs/triggers.md, "Custom message" and "Custom email
//! and SMS senders";
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-custom-message.html>):
//! one use case decides each message's subject and body for its trigger source — the pool's
//! templates, or a `custom_message` hook's text with the code left as a placeholder — before the
//! code exists; `queue` then puts the code in and writes the message to the outbox in the
//! caller's transaction, for the mailer or the pool's `custom_email_sender` hook to deliver
//! after the commit (`deliver`).

pub use super::lifecycle::Caller;
use super::{Services, Site, triggers};
use crate::hooks::{Event, Failure, HookError, Hooks, event};
use crate::mail::{self, Email};
use crate::model::email::HookMessage;
use crate::model::pool::{MAX_EMAIL_MESSAGE_CHARS, MAX_EMAIL_SUBJECT_CHARS};
use crate::model::triggers::TriggerKind;
use crate::model::{User, UserPool};
use crate::sealing::Sealer;
use crate::store::{AnyConnection, Lease, StoreResult, mail_outbox};
use serde_json::Value;
use std::collections::BTreeMap;

/// Where a message puts the code (Cognito's `codeParameter`).
pub const CODE_PARAMETER: &str = "{####}";
/// Where an invitation puts the username (Cognito's `usernameParameter`).
pub const USERNAME_PARAMETER: &str = "{username}";
/// Cognito's `linkParameter`, sent for compatibility: this server verifies by code only.
pub const LINK_PARAMETER: &str = "{##Click Here##}";
/// `request.type` of a custom email sender's event.
pub const EMAIL_SENDER_REQUEST: &str = "customEmailSenderRequestV1";

/// Why a message is sent: the suffix of its `triggerSource`. There is no `Authentication`:
/// this server sends no MFA code by message (its second factor is TOTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    SignUp,
    AdminCreateUser,
    ResendCode,
    ForgotPassword,
    UpdateUserAttribute,
    VerifyUserAttribute,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::SignUp => "SignUp",
            Source::AdminCreateUser => "AdminCreateUser",
            Source::ResendCode => "ResendCode",
            Source::ForgotPassword => "ForgotPassword",
            Source::UpdateUserAttribute => "UpdateUserAttribute",
            Source::VerifyUserAttribute => "VerifyUserAttribute",
        }
    }
}

/// Who asked for a message: the app client (`None` for admin actions) and its
/// `ClientMetadata`, passed on to the hooks.
/// `lifecycle::Caller` kept with a message until its code exists (the custom email sender's
/// event is made when the message is queued).
#[derive(Debug, Clone, Default)]
pub struct OwnedCaller {
    pub client_id: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
}

impl From<Caller<'_>> for OwnedCaller {
    fn from(caller: Caller<'_>) -> Self {
        Self {
            client_id: caller.client_id.map(str::to_owned),
            metadata: caller.metadata.cloned(),
        }
    }
}

/// A message decided before its code exists: subject and body with `{####}` (and
/// `{username}`) still in them.
#[derive(Debug, Clone)]
pub struct Message {
    pub source: Source,
    pub caller: OwnedCaller,
    pub subject: String,
    pub body: String,
}

/// The pool's own templates for `source`, no hook asked (what provisioning's invitations use).
pub fn templates(pool: &UserPool, source: Source, caller: Caller<'_>) -> Message {
    let templates = &pool.settings.messages;
    let (subject, body) = match source {
        Source::ForgotPassword => (&templates.reset_subject, &templates.reset_message),
        Source::AdminCreateUser => (&templates.invitation_subject, &templates.invitation_message),
        _ => (
            &templates.verification_subject,
            &templates.verification_message,
        ),
    };
    Message {
        source,
        caller: caller.into(),
        subject: subject.clone(),
        body: body.clone(),
    }
}

/// Decides the message for `source` to `user`: the pool's `custom_message` hook writes it when
/// declared (the connection is released while it does), the pool's templates fill what it
/// leaves out. Call it before the transaction that creates the code: a refusal or a bad answer
/// fails the operation before anything is stored. With a `custom_email_sender` hook the sender
/// writes its own text and `custom_message` is not asked.
pub fn compose(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    source: Source,
    user: &User,
    caller: Caller<'_>,
) -> Result<Message, HookError> {
    let mut message = templates(&site.pool, source, caller);
    if triggers::declared(site, TriggerKind::CustomEmailSender)
        || !triggers::declared(site, TriggerKind::CustomMessage)
    {
        return Ok(message);
    }
    let username_parameter = match source {
        Source::AdminCreateUser => Value::from(USERNAME_PARAMETER),
        _ => Value::Null,
    };
    let event = Event::new(
        &format!("CustomMessage_{}", source.name()),
        site.pool_id(),
        &user.username,
        message.caller.client_id.as_deref(),
    )
    .user(user)
    .request("codeParameter", CODE_PARAMETER)
    .request("linkParameter", LINK_PARAMETER)
    .request("usernameParameter", username_parameter)
    .client_metadata(message.caller.metadata.as_ref())
    .response("smsMessage", Value::Null)
    .response("emailMessage", Value::Null)
    .response("emailSubject", Value::Null);
    let response = triggers::call(db, services, site, TriggerKind::CustomMessage, event)?;
    if let Some(response) = response {
        apply(&mut message, &response)
            .map_err(|detail| HookError::invalid(TriggerKind::CustomMessage, detail))?;
    }
    Ok(message)
}

/// Takes the hook's `emailSubject` and `emailMessage` over the templates, after Cognito's
/// checks: the body carries the code placeholder (and an invitation's the username's), within
/// the email limits. `smsMessage` is type-checked only: no SMS is sent.
fn apply(message: &mut Message, response: &serde_json::Map<String, Value>) -> Result<(), String> {
    let subject = event::string_field(response, "emailSubject")?;
    let body = event::string_field(response, "emailMessage")?;
    event::string_field(response, "smsMessage")?;
    if let Some(body) = body {
        if !body.contains(CODE_PARAMETER) {
            return Err(format!(
                "`emailMessage` lacks the code parameter {CODE_PARAMETER}"
            ));
        }
        if message.source == Source::AdminCreateUser && !body.contains(USERNAME_PARAMETER) {
            return Err(format!(
                "`emailMessage` lacks the username parameter {USERNAME_PARAMETER}"
            ));
        }
        if body.chars().count() > MAX_EMAIL_MESSAGE_CHARS {
            return Err(format!(
                "`emailMessage` is over {MAX_EMAIL_MESSAGE_CHARS} characters"
            ));
        }
        message.body = body;
    }
    if let Some(subject) = subject {
        if subject.chars().count() > MAX_EMAIL_SUBJECT_CHARS {
            return Err(format!(
                "`emailSubject` is over {MAX_EMAIL_SUBJECT_CHARS} characters"
            ));
        }
        // A subject is one header line.
        if subject.chars().any(char::is_control) {
            return Err("`emailSubject` has a control character".into());
        }
        message.subject = subject;
    }
    Ok(())
}

/// The sealing purpose of codes waiting in the outbox for a sender hook.
pub fn code_purpose(pool_id: &str) -> String {
    format!("outbox-code:{pool_id}")
}

/// Writes `message` with its `code` (a temporary password for invitations) for `user` at `to`
/// to the outbox, in the caller's transaction: an email from the templates with the code put
/// in, or, when the pool declares `custom_email_sender`, the hook's event with the code sealed.
/// Wake the sender once the transaction has committed (`MailQueue::wake`).
#[allow(clippy::too_many_arguments)]
pub fn queue(
    conn: &mut AnyConnection,
    sealer: &Sealer,
    pool: &UserPool,
    user: &User,
    to: &str,
    code: &str,
    message: &Message,
    now: i64,
) -> StoreResult<()> {
    let pool_id = pool.id.as_str();
    if pool
        .settings
        .triggers
        .contains_key(&TriggerKind::CustomEmailSender)
    {
        let mut attributes = event::user_attributes(user);
        // A new address waiting for its code is where this one goes.
        attributes.insert("email".into(), to.into());
        let event = Event::new(
            &format!("CustomEmailSender_{}", message.source.name()),
            pool_id,
            &user.username,
            message.caller.client_id.as_deref(),
        )
        .attributes(attributes)
        .request("type", EMAIL_SENDER_REQUEST)
        .request("code", Value::Null)
        .client_metadata(message.caller.metadata.as_ref());
        let hook = HookMessage {
            trigger: TriggerKind::CustomEmailSender,
            event: event.to_json(),
            sealed_code: sealer.seal_str(&code_purpose(pool_id), code),
            to: to.to_owned(),
        };
        mail_outbox::enqueue_hook(conn, pool_id, &hook, now)?;
        return Ok(());
    }
    let templates = &pool.settings.messages;
    let (body, html) = mail::body(&message.body, &user.username, code);
    let email = Email {
        from: templates.email_from.clone(),
        reply_to: templates.reply_to.clone(),
        to: to.to_owned(),
        subject: mail::fill(&message.subject, &user.username, code),
        html,
        body,
    };
    mail_outbox::enqueue(conn, pool_id, &email, now)?;
    Ok(())
}

/// Delivers one queued message through the pool's sender hook, the code opened and put into
/// the event. Any 2xx answer is a delivery (a sender's answer carries nothing); a refusal or
/// no answer is a failed attempt, retried by the outbox like a mail server's. Blocks: run it
/// on the blocking pool.
pub fn deliver(
    sealer: &Sealer,
    hooks: &Hooks,
    pool: &UserPool,
    message: &HookMessage,
) -> Result<(), String> {
    let pool_id = pool.id.as_str();
    let Some(target) = pool.settings.triggers.get(&message.trigger) else {
        return Err(format!(
            "the pool no longer declares {}",
            message.trigger.key()
        ));
    };
    let code = sealer
        .open_string(&code_purpose(pool_id), &message.sealed_code)
        .map_err(|e| format!("the queued code cannot be opened: {e}"))?;
    let mut event = message.event.clone();
    if let Some(request) = event.get_mut("request").and_then(Value::as_object_mut) {
        request.insert("code".into(), code.into());
    }
    match hooks.invoke(sealer, pool_id, message.trigger, target, &event) {
        Ok(_) => Ok(()),
        Err(HookError {
            failure: Failure::InvalidResponse(_),
            ..
        }) => Ok(()),
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(source: Source) -> Message {
        Message {
            source,
            caller: OwnedCaller::default(),
            subject: "s".into(),
            body: "b {####}".into(),
        }
    }

    fn answer(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn the_hooks_text_replaces_the_templates_only_where_given() {
        let mut m = message(Source::SignUp);
        apply(&mut m, &answer(json!({"emailMessage": "Hi, {####}"}))).unwrap();
        assert_eq!((m.subject.as_str(), m.body.as_str()), ("s", "Hi, {####}"));
        apply(&mut m, &answer(json!({"emailSubject": "Welcome"}))).unwrap();
        assert_eq!(
            (m.subject.as_str(), m.body.as_str()),
            ("Welcome", "Hi, {####}")
        );
    }

    #[test]
    fn a_message_without_its_placeholders_or_over_the_limits_is_refused() {
        let mut m = message(Source::SignUp);
        assert!(apply(&mut m, &answer(json!({"emailMessage": "no code"}))).is_err());
        let mut invite = message(Source::AdminCreateUser);
        let only_code = json!({"emailMessage": "password {####}"});
        assert!(apply(&mut invite, &answer(only_code)).is_err());
        let both = json!({"emailMessage": "{username}: {####}"});
        assert!(apply(&mut invite, &answer(both)).is_ok());
        let long = "x".repeat(MAX_EMAIL_MESSAGE_CHARS) + "{####}";
        assert!(apply(&mut m, &answer(json!({"emailMessage": long}))).is_err());
        let subject = "s".repeat(MAX_EMAIL_SUBJECT_CHARS + 1);
        assert!(apply(&mut m, &answer(json!({"emailSubject": subject}))).is_err());
        assert!(apply(&mut m, &answer(json!({"emailSubject": "a\r\nBcc: x"}))).is_err());
        assert!(apply(&mut m, &answer(json!({"emailMessage": 3}))).is_err());
        assert!(apply(&mut m, &answer(json!({"smsMessage": []}))).is_err());
        assert_eq!(m.body, "b {####}");
    }
}
