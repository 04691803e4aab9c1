//! One-time codes by email (docs/hosted-ui.md, "Codes"): six digits, sign-up confirmation for 24
//! hours and password reset for one hour, single use, five wrong guesses per code and a per-user
//! throttle across codes. The email is queued in the caller's transaction and delivered after it
//! commits (`mail::sender`).

use super::messages::{self, Message};
use super::{Services, Site};
use crate::model::User;
use crate::secrets::SecretDigest;
use crate::store::codes::{self, CodeRow, PURPOSE_RESET};
use crate::store::{AnyConnection, StoreError, throttle};
use crate::ui::i18n::Text;
use rand::Rng;
use subtle::ConstantTimeEq;

pub const SIGNUP_CODE_SECONDS: i64 = 24 * 3600;
pub const RESET_CODE_SECONDS: i64 = 3600;
/// Wrong guesses one code survives.
pub const MAX_ATTEMPTS: i32 = 5;
/// A new code for the same purpose at most this often.
pub const RESEND_SECONDS: i64 = 30;

fn digest(purpose: &str, sub: &str, code: &str) -> String {
    SecretDigest::of(&format!("{purpose}|{sub}|{code}"))
        .as_str()
        .to_owned()
}

/// Stores a fresh code for `user` and queues `message` with it to `to`, in the caller's
/// transaction: the message is delivered after the commit (`mail::sender`), so a slow or
/// failing mail server or sender hook neither holds the transaction nor undoes what the code is
/// for. The message was decided before (`messages::compose`). Wake the sender once the
/// transaction has committed (`MailQueue::wake`).
#[allow(clippy::too_many_arguments)]
pub fn send(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    user: &User,
    purpose: &'static str,
    to: &str,
    message: &Message,
    now: i64,
) -> Result<(), StoreError> {
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
    let sub = user.sub.to_string();
    let lifetime = if purpose == PURPOSE_RESET {
        RESET_CODE_SECONDS
    } else {
        SIGNUP_CODE_SECONDS
    };
    codes::replace(
        conn,
        &CodeRow {
            pool_id: site.pool_id().to_owned(),
            user_sub: sub.clone(),
            purpose: purpose.to_owned(),
            code_digest: digest(purpose, &sub, &code),
            destination: to.to_owned(),
            attempts: 0,
            created_at: now,
            expires_at: now + lifetime,
        },
    )?;
    messages::queue(
        conn,
        &services.sealer,
        &site.pool,
        user,
        to,
        &code,
        message,
        now,
    )
}

/// Whether a new code may be sent now (the previous one is old enough).
pub fn may_resend(
    conn: &mut AnyConnection,
    site: &Site,
    user: &User,
    purpose: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(
        codes::find(conn, site.pool_id(), &user.sub.to_string(), purpose)?
            .is_none_or(|row| now - row.created_at >= RESEND_SECONDS),
    )
}

/// What a typed code came to.
pub enum Redemption {
    /// The code was right; its row is consumed.
    Accepted(CodeRow),
    Refused(Refusal),
}

/// Why a code was refused. The API names each (Cognito's `CodeMismatchException`,
/// `ExpiredCodeException`, `TooManyFailedAttemptsException`); the pages say the same thing for
/// a wrong and an expired code, so they tell no accounts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Mismatch,
    /// The user's code expired, was used or never sent: a new one is needed.
    Expired,
    TooManyAttempts,
}

impl Refusal {
    /// The message for a page.
    pub fn text(self) -> Text {
        match self {
            Refusal::TooManyAttempts => Text::new("error.too_many_codes"),
            Refusal::Mismatch | Refusal::Expired => Text::new("error.code_mismatch"),
        }
    }
}

/// Checks and consumes a code. Failures (wrong, expired or missing codes, unknown users) are
/// throttled per user found or, for unknown users, per name typed.
pub fn redeem(
    conn: &mut AnyConnection,
    site: &Site,
    user: Option<&User>,
    typed_name: &str,
    purpose: &str,
    code: &str,
    now: i64,
) -> Result<Redemption, StoreError> {
    let throttle_key = match user {
        Some(user) => format!("code:{}:{}", site.pool_id(), user.sub),
        None => format!(
            "code:{}:name:{}",
            site.pool_id(),
            site.pool.settings.username_key(typed_name)
        ),
    };
    if throttle::locked_until(conn, std::slice::from_ref(&throttle_key), now)?.is_some() {
        return Ok(Redemption::Refused(Refusal::TooManyAttempts));
    }
    let miss = |conn: &mut AnyConnection, why: Refusal| -> Result<Redemption, StoreError> {
        throttle::record_failure(conn, &throttle_key, throttle::FREE_FAILURES, now)?;
        Ok(Redemption::Refused(why))
    };
    let Some(user) = user else {
        return miss(conn, Refusal::Mismatch);
    };
    let row = codes::find(conn, site.pool_id(), &user.sub.to_string(), purpose)?
        .filter(|row| row.expires_at > now);
    let Some(row) = row else {
        return miss(conn, Refusal::Expired);
    };
    if !codes::take_attempt(conn, &row, MAX_ATTEMPTS)? {
        return Ok(Redemption::Refused(Refusal::TooManyAttempts));
    }
    let given = digest(purpose, &user.sub.to_string(), code.trim());
    if !bool::from(given.as_bytes().ct_eq(row.code_digest.as_bytes())) {
        return miss(conn, Refusal::Mismatch);
    }
    if !codes::consume(conn, &row)? {
        return Ok(Redemption::Refused(Refusal::Expired));
    }
    throttle::clear(conn, &throttle_key)?;
    Ok(Redemption::Accepted(row))
}
