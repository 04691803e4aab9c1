//! The self-service account use cases, page-neutral: sign-up, its confirmation and resend, the
//! password reset, and verifying an email (docs/hosted-ui.md, "Sign up" and "Forgot password";
//! docs/api.md, "Self-service actions"). The hosted pages and the JSON API both call these with
//! plain inputs and `now`, and turn the outcome into a page or a Cognito answer.

use super::codes::{self, Redemption, Refusal};
use super::lifecycle::{self, Caller, ConfirmSource, SignUpSource, SignUpStop};
use super::messages::{self, Message, Source};
use super::{Services, Site};
use crate::hooks::HookError;
use crate::model::attributes::{Attributes, VERIFIABLE};
use crate::model::{User, UserStatus};
use crate::oauth::OAuthError;
use crate::store::codes::{PURPOSE_RESET, PURPOSE_SIGNUP, PURPOSE_VERIFY_EMAIL};
use crate::store::{self, AnyConnection, Lease, StoreError};
use std::collections::BTreeMap;

/// Whether the pool sends sign-up codes to emails (`auto_verified_attributes` has `email`).
pub fn verifies_email(site: &Site) -> bool {
    site.pool
        .settings
        .auto_verified_attributes
        .iter()
        .any(|a| a == "email")
}

/// A sign-up that passed the checks of its front door (username rules, attributes, policy).
pub struct Registration<'a> {
    /// The typed username; empty where an email or phone number is the sign-in name.
    pub username: String,
    pub attributes: Attributes,
    pub password: &'a str,
    /// The client hides taken names (`prevent_user_existence_errors = ENABLED`).
    pub hide_existing: bool,
    /// `ValidationData` for the pre sign-up hook (never stored).
    pub validation_data: Option<&'a BTreeMap<String, String>>,
    pub caller: Caller<'a>,
}

pub enum Registered {
    /// A new user: UNCONFIRMED, or CONFIRMED when the pre sign-up hook confirmed it (then no
    /// code is sent); `code_to` is the email the code went to.
    Created { user: User, code_to: Option<String> },
    /// The pre sign-up hook refused or failed: nothing was created.
    Stopped(SignUpStop),
    /// The name or alias is taken. When hidden, the owner was told by email and the caller
    /// answers as for a new account.
    Taken,
    /// The `custom_message` hook refused or failed: nothing was created.
    Refused(HookError),
}

/// The name a registration signs in with.
pub fn sign_in_name(site: &Site, username: &str, attributes: &Attributes) -> String {
    let settings = &site.pool.settings;
    if settings.username_attributes.is_empty() {
        username.to_owned()
    } else {
        settings
            .username_attributes
            .iter()
            .find_map(|a| attributes.get(a))
            .unwrap_or_default()
            .to_owned()
    }
}

/// Creates an UNCONFIRMED user and, when the pool verifies emails, emails a code. The pre
/// sign-up hook is asked first and may confirm the user or verify its email or phone number.
/// Runs the hook and argon2 with no connection checked out, for a taken name as for a new one.
pub fn register(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    registration: Registration,
    now: i64,
) -> Result<Registered, OAuthError> {
    let settings = &site.pool.settings;
    let Registration {
        username,
        mut attributes,
        password,
        hide_existing,
        validation_data,
        caller,
    } = registration;
    let sign_in_name = sign_in_name(site, &username, &attributes);
    let sub = uuid::Uuid::new_v4();
    let verify_email = verifies_email(site);
    // Verification is earned, never declared at sign-up.
    for (_, flag) in VERIFIABLE {
        attributes.remove(flag);
    }
    db.release();
    let username = if settings.username_attributes.is_empty() {
        username
    } else {
        sub.to_string()
    };
    let answer = match lifecycle::pre_sign_up(
        db,
        services,
        site,
        SignUpSource::SignUp,
        &username,
        &attributes,
        validation_data,
        caller,
    ) {
        Ok(answer) => answer,
        Err(stop) => return Ok(Registered::Stopped(stop)),
    };
    if verify_email {
        attributes
            .set("email_verified", "false")
            .map_err(super::internal)?;
    }
    answer.verify(&mut attributes);
    let mut user = User {
        sub,
        pool_id: site.pool.id.clone(),
        username,
        status: if answer.auto_confirm {
            UserStatus::Confirmed
        } else {
            UserStatus::Unconfirmed
        },
        enabled: true,
        password_hash: None,
        attributes,
        created_at: now,
        updated_at: now,
        srp_verifier: None,
    };
    super::passwords::set(services, &mut user, password).map_err(super::internal)?;
    let email = user
        .attributes
        .get("email")
        .map(str::to_owned)
        .filter(|_| verify_email && !answer.auto_confirm);
    // The message is decided before the user exists: a refusal leaves nothing behind.
    let message = match &email {
        Some(_) => match messages::compose(db, services, site, Source::SignUp, &user, caller) {
            Ok(message) => Some(message),
            Err(error) => return Ok(Registered::Refused(error)),
        },
        None => None,
    };
    let conn = db.conn()?;
    let created = store::write_transaction(conn, |conn| {
        store::users::create(conn, &site.pool, &user)?;
        if let (Some(email), Some(message)) = (&email, &message) {
            codes::send(
                conn,
                services,
                site,
                &user,
                PURPOSE_SIGNUP,
                email,
                message,
                now,
            )?;
        }
        Ok(())
    });
    match created {
        Ok(()) => {
            if email.is_some() {
                services.mail.wake();
            }
            Ok(Registered::Created {
                user,
                code_to: email,
            })
        }
        Err(StoreError::Conflict(_)) => {
            if hide_existing {
                super::signup::notify_owner(conn, site, &user, &sign_in_name, now)?;
                services.mail.wake();
            }
            Ok(Registered::Taken)
        }
        Err(e) => Err(e.into()),
    }
}

pub enum Confirmation {
    /// CONFIRMED now, and the email the code went to verified.
    Confirmed(User),
    /// CONFIRMED now, but the post confirmation hook failed: the confirmation stands (it had
    /// committed), and the caller reports the hook's error.
    HookFailed(User, HookError),
    Refused(Refusal),
    /// The user exists but is not waiting for confirmation (already confirmed, or disabled);
    /// the try was counted like a wrong code.
    NotPending(UserStatus),
    /// The email is another user's verified alias.
    AliasExists,
}

/// Checks a sign-up code typed for `username` and confirms the user; then the post
/// confirmation hook hears of it (with no connection held).
#[allow(clippy::too_many_arguments)]
pub fn confirm_sign_up(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    username: &str,
    code: &str,
    caller: Caller,
    now: i64,
) -> Result<Confirmation, StoreError> {
    let confirmed = check_sign_up_code(db.conn()?, site, username, code, now)?;
    let Confirmation::Confirmed(user) = confirmed else {
        return Ok(confirmed);
    };
    let source = ConfirmSource::SignUp;
    Ok(
        match lifecycle::post_confirmation(db, services, site, source, &user, caller) {
            Ok(()) => Confirmation::Confirmed(user),
            Err(error) => Confirmation::HookFailed(user, error),
        },
    )
}

fn check_sign_up_code(
    conn: &mut AnyConnection,
    site: &Site,
    username: &str,
    code: &str,
    now: i64,
) -> Result<Confirmation, StoreError> {
    let found = store::users::find_for_sign_in(conn, &site.pool, username)?;
    let pending = found
        .clone()
        .filter(|u| u.status == UserStatus::Unconfirmed && u.enabled);
    let redeemed = codes::redeem(
        conn,
        site,
        pending.as_ref(),
        username,
        PURPOSE_SIGNUP,
        code,
        now,
    )?;
    let row = match (redeemed, pending, found) {
        (Redemption::Refused(Refusal::TooManyAttempts), ..) => {
            return Ok(Confirmation::Refused(Refusal::TooManyAttempts));
        }
        (Redemption::Refused(_), None, Some(other)) => {
            return Ok(Confirmation::NotPending(other.status));
        }
        (Redemption::Refused(why), ..) => return Ok(Confirmation::Refused(why)),
        (Redemption::Accepted(row), Some(user), _) => (row, user),
        (Redemption::Accepted(_), None, _) => return Ok(Confirmation::Refused(Refusal::Mismatch)),
    };
    let (row, mut user) = row;
    if user.attributes.get("email") == Some(row.destination.as_str()) {
        user.attributes
            .set("email_verified", "true")
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    user.status = UserStatus::Confirmed;
    user.updated_at = now;
    match store::users::update(conn, &site.pool, &user) {
        Ok(()) => Ok(Confirmation::Confirmed(user)),
        Err(StoreError::Conflict(_)) => Ok(Confirmation::AliasExists),
        Err(e) => Err(e),
    }
}

/// What asking for a new code came to.
pub enum Sent {
    /// A code went to this address.
    To(String),
    /// The last code is too recent (it still works).
    TooSoon,
    /// There is nowhere to send it.
    NoDestination,
    /// The `custom_message` hook refused or failed: no code was made.
    Refused(HookError),
}

/// Sends a new sign-up code to an UNCONFIRMED user (`CustomMessage_ResendCode`).
pub fn resend_sign_up_code(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    user: &User,
    caller: Caller,
    now: i64,
) -> Result<Sent, StoreError> {
    let Some(email) = user
        .attributes
        .get("email")
        .filter(|_| verifies_email(site))
    else {
        return Ok(Sent::NoDestination);
    };
    let code = (PURPOSE_SIGNUP, Source::ResendCode);
    send_code(db, services, site, user, code, email, caller, now)
}

/// Decides the message (the hook is asked with no connection held), then stores the code and
/// queues the message in one transaction.
#[allow(clippy::too_many_arguments)]
fn send_code(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    user: &User,
    (purpose, source): (&'static str, Source),
    to: &str,
    caller: Caller,
    now: i64,
) -> Result<Sent, StoreError> {
    if !codes::may_resend(db.conn()?, site, user, purpose, now)? {
        return Ok(Sent::TooSoon);
    }
    match messages::compose(db, services, site, source, user, caller) {
        Ok(message) => send_composed(db, services, site, user, purpose, to, &message, now),
        Err(error) => Ok(Sent::Refused(error)),
    }
}

/// Stores a code and queues a message already decided (`messages::compose`).
#[allow(clippy::too_many_arguments)]
pub fn send_composed(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    user: &User,
    purpose: &'static str,
    to: &str,
    message: &Message,
    now: i64,
) -> Result<Sent, StoreError> {
    let conn = db.conn()?;
    if !codes::may_resend(conn, site, user, purpose, now)? {
        return Ok(Sent::TooSoon);
    }
    store::write_transaction(conn, |conn| {
        codes::send(conn, services, site, user, purpose, to, message, now)
    })?;
    services.mail.wake();
    Ok(Sent::To(to.to_owned()))
}

/// Whether a user may reset a forgotten password: only a verified email receives the code, and
/// admin-created users with a temporary password sign in with it instead. A user migrated by
/// forgot-password is RESET_REQUIRED with no password yet.
pub fn recoverable(user: &User) -> bool {
    user.enabled
        // Users imported or migrated without a hash have none yet, and recover like the others.
        && (user.password_hash.is_some() || super::passwords::awaits_reset(user))
        && matches!(
            user.status,
            UserStatus::Confirmed | UserStatus::ResetRequired
        )
        && super::recovery::reset_destination(user).is_some()
}

/// Sends a password-reset code to the user's verified email (`CustomMessage_ForgotPassword`).
pub fn start_reset(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    user: &User,
    caller: Caller,
    now: i64,
) -> Result<Sent, StoreError> {
    if !recoverable(user) {
        return Ok(Sent::NoDestination);
    }
    let email = user.attributes.get("email").unwrap_or_default();
    let code = (PURPOSE_RESET, Source::ForgotPassword);
    send_code(db, services, site, user, code, email, caller, now)
}

pub enum Reset {
    Done(User),
    /// The password is reset, but the post confirmation hook failed (reported, not undone).
    HookFailed(User, HookError),
    Refused(Refusal),
}

/// Checks a reset code and sets the new password (already checked against the policy): the
/// user is CONFIRMED and, unless the pool turned it off, signed out everywhere. Then the post
/// confirmation hook hears of it.
#[allow(clippy::too_many_arguments)]
pub fn finish_reset(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    username: &str,
    code: &str,
    password: &str,
    caller: Caller,
    now: i64,
) -> Result<Reset, OAuthError> {
    let conn = db.conn()?;
    let user = store::users::find_for_sign_in(conn, &site.pool, username)?.filter(|u| u.enabled);
    if let Redemption::Refused(why) = codes::redeem(
        conn,
        site,
        user.as_ref(),
        username,
        PURPOSE_RESET,
        code,
        now,
    )? {
        return Ok(Reset::Refused(why));
    }
    let Some(mut user) = user else {
        return Ok(Reset::Refused(Refusal::Mismatch));
    };
    db.release();
    super::passwords::set(services, &mut user, password).map_err(super::internal)?;
    let conn = db.conn()?;
    user.status = UserStatus::Confirmed;
    user.updated_at = now;
    store::write_transaction(conn, |conn| {
        store::users::update(conn, &site.pool, &user)?;
        super::recovery::signed_out_elsewhere(conn, site, &user, None, now)
    })?;
    let source = ConfirmSource::ForgotPassword;
    Ok(
        match lifecycle::post_confirmation(db, services, site, source, &user, caller) {
            Ok(()) => Reset::Done(user),
            Err(error) => Reset::HookFailed(user, error),
        },
    )
}

/// Sends an email verification code to `to` (a pending new address, or the current one).
/// `source` is `UpdateUserAttribute` after a change, `VerifyUserAttribute` when asked for.
pub fn send_email_verification(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    (user, to): (&User, &str),
    source: Source,
    caller: Caller,
    now: i64,
) -> Result<Sent, StoreError> {
    let code = (PURPOSE_VERIFY_EMAIL, source);
    send_code(db, services, site, user, code, to, caller, now)
}

/// A new email waiting for verification under `attributes_require_verification_before_update`:
/// the destination of the user's live verification code when it differs from the current email.
pub fn pending_email(
    conn: &mut AnyConnection,
    site: &Site,
    user: &User,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let row = store::codes::find(
        conn,
        site.pool_id(),
        &user.sub.to_string(),
        PURPOSE_VERIFY_EMAIL,
    )?;
    Ok(row
        .filter(|r| r.expires_at > now)
        .map(|r| r.destination)
        .filter(|d| Some(d.as_str()) != user.attributes.get("email")))
}

pub enum Verification {
    Verified(User),
    Refused(Refusal),
    AliasExists,
}

/// Checks an email verification code: the address it went to becomes the user's verified email
/// (a pending new value replaces the old one only now).
pub fn verify_email(
    conn: &mut AnyConnection,
    site: &Site,
    mut user: User,
    code: &str,
    now: i64,
) -> Result<Verification, StoreError> {
    let row = match codes::redeem(
        conn,
        site,
        Some(&user),
        &user.username.clone(),
        PURPOSE_VERIFY_EMAIL,
        code,
        now,
    )? {
        Redemption::Accepted(row) => row,
        Redemption::Refused(why) => return Ok(Verification::Refused(why)),
    };
    // A code for an address the user has since replaced verifies nothing.
    if Some(row.destination.as_str()) != user.attributes.get("email")
        && !requires_verification_before_update(site, "email")
    {
        return Ok(Verification::Refused(Refusal::Expired));
    }
    let corrupt = |e: crate::model::attributes::AttributeError| StoreError::Corrupt(e.to_string());
    user.attributes
        .set("email", row.destination.clone())
        .map_err(corrupt)?;
    user.attributes
        .set("email_verified", "true")
        .map_err(corrupt)?;
    user.updated_at = now;
    match store::users::update(conn, &site.pool, &user) {
        Ok(()) => Ok(Verification::Verified(user)),
        Err(StoreError::Conflict(_)) => Ok(Verification::AliasExists),
        Err(e) => Err(e),
    }
}

/// Whether a new value of `attribute` waits for its code before replacing the old one.
pub fn requires_verification_before_update(site: &Site, attribute: &str) -> bool {
    site.pool
        .settings
        .attributes_require_verification_before_update
        .iter()
        .any(|a| a == attribute)
}
