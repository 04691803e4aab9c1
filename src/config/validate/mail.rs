//! `[pool.messages]` and `[mail]`: the emails' texts and how they are sent
//! (docs/configuration.md, "`[pool.messages]`" and "`[mail]`").

use super::Checker;
use crate::config::file::{MailFile, MessagesFile};
use crate::mail::MailSettings;
use crate::mail::outbox::DEFAULT_PATH as DEFAULT_OUTBOX;
use crate::mail::smtp::{SmtpSecurity, SmtpSettings};
use crate::model::pool::{MAX_EMAIL_MESSAGE_CHARS, MAX_EMAIL_SUBJECT_CHARS, MessageTemplates};
use std::path::Path;

/// `[pool.messages]`: Cognito's rules (docs/configuration.md): messages carry `{####}` and are at
/// most 20,000 characters, subjects at most 140, addresses must parse.
pub(super) fn messages(
    c: &mut Checker,
    path: &str,
    raw: Option<&MessagesFile>,
) -> MessageTemplates {
    let mut templates = MessageTemplates::default();
    let Some(raw) = raw else {
        return templates;
    };
    let path = format!("{path}.messages");
    let address = |c: &mut Checker, key: &str, value: &str| {
        if value.parse::<lettre::message::Mailbox>().is_err() {
            c.fail(
                format!("{path}.{key}"),
                format!("`{value}` is not an email address"),
            );
        }
        value.to_owned()
    };
    if let Some(from) = &raw.email_from {
        templates.email_from = address(c, "email_from", from);
    }
    if let Some(reply_to) = &raw.reply_to {
        templates.reply_to = Some(address(c, "reply_to", reply_to));
    }
    let subjects = [
        (
            "verification_subject",
            &raw.verification_subject,
            &mut templates.verification_subject,
        ),
        (
            "reset_subject",
            &raw.reset_subject,
            &mut templates.reset_subject,
        ),
        (
            "invitation_subject",
            &raw.invitation_subject,
            &mut templates.invitation_subject,
        ),
    ];
    for (key, given, slot) in subjects {
        if let Some(value) = given {
            if value.chars().count() > MAX_EMAIL_SUBJECT_CHARS {
                c.fail(
                    format!("{path}.{key}"),
                    "a subject is at most 140 characters",
                );
            }
            *slot = value.clone();
        }
    }
    let bodies = [
        (
            "verification_message",
            &raw.verification_message,
            &mut templates.verification_message,
            false,
        ),
        (
            "reset_message",
            &raw.reset_message,
            &mut templates.reset_message,
            false,
        ),
        (
            "invitation_message",
            &raw.invitation_message,
            &mut templates.invitation_message,
            true,
        ),
    ];
    for (key, given, slot, needs_username) in bodies {
        if let Some(value) = given {
            if !value.contains("{####}") {
                c.fail(
                    format!("{path}.{key}"),
                    "must contain the code placeholder {####}",
                );
            }
            if needs_username && !value.contains("{username}") {
                c.fail(
                    format!("{path}.{key}"),
                    "must contain the placeholder {username}",
                );
            }
            if value.chars().count() > MAX_EMAIL_MESSAGE_CHARS {
                c.fail(
                    format!("{path}.{key}"),
                    "a message is at most 20,000 characters",
                );
            }
            *slot = value.clone();
        }
    }
    templates
}

/// `[mail]`: the outbox file, or an SMTP server.
pub(super) fn mail(c: &mut Checker, raw: MailFile, base: &Path) -> MailSettings {
    let Some(smtp) = raw.smtp else {
        return MailSettings::Outbox(base.join(raw.outbox.as_deref().unwrap_or(DEFAULT_OUTBOX)));
    };
    if raw.outbox.is_some() {
        c.fail("mail.outbox", "give an outbox or [mail.smtp], not both");
    }
    let security = match smtp.security.as_deref() {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => SmtpSecurity::None,
        Some(other) => {
            c.fail(
                "mail.smtp.security",
                format!("`{other}` is not starttls, tls or none"),
            );
            SmtpSecurity::StartTls
        }
    };
    if smtp.host.is_empty() {
        c.fail("mail.smtp.host", "must not be empty");
    }
    if smtp.username.is_some() != smtp.password.is_some() {
        c.fail("mail.smtp", "give both username and password, or neither");
    }
    let password = smtp
        .password
        .as_deref()
        .and_then(|p| c.secret("mail.smtp.password", p));
    let port = smtp.port.unwrap_or(match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::None => 25,
    });
    MailSettings::Smtp(SmtpSettings {
        host: smtp.host,
        port,
        security,
        username: smtp.username,
        password,
        timeout_seconds: match smtp.timeout_seconds {
            None => 10,
            Some(seconds @ 1..=120) => seconds,
            Some(_) => {
                c.fail("mail.smtp.timeout_seconds", "must be between 1 and 120");
                10
            }
        },
    })
}
