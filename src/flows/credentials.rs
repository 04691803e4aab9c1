//! The first factor of a password sign-in, for every front door (the hosted `/login` page and
//! the JSON API's `USER_PASSWORD_AUTH`, `ADMIN_USER_PASSWORD_AUTH`, `USER_SRP_AUTH`): find the user
//! by username or alias, throttle, check the password at the same cost for unknown users, then
//! the account's refusals and the new-password challenge (docs/hosted-ui.md, "Security";
//! docs/api.md, "Sign-in flows"). Also the TOTP throttle both front doors share.

use super::lifecycle::{self, Caller};
use super::migration::{self, Migrated};
use super::sign_in::{self, Challenge, Refusal};
use super::{Site, passwords};
use crate::flows::Services;
use crate::hooks::HookError;
use crate::model::User;
use crate::secrets;
use crate::store::{self, AnyConnection, Lease, StoreError, mfa, throttle};

/// Failures an address may make before it is slowed down (a NAT hides many users).
pub const FREE_FAILURES_PER_ADDRESS: i32 = 50;

/// How a password check ended. Only `Refused` and `Passed` depend on the account's state, and
/// only after the right password.
#[derive(Debug)]
pub enum FirstFactor {
    /// Too many recent failures for this account (or name) or address.
    Locked,
    /// No user has this name (checked at the same cost as a wrong password, and counted).
    UnknownUser,
    /// The pre authentication hook refused or failed: not counted as a wrong password, and
    /// said whatever the password was.
    Denied(HookError),
    WrongPassword,
    /// The right password, but the account may not sign in.
    Refused(Refusal),
    /// The pool's migration hook was asked about an unknown name and created nobody.
    MigrationFailed(migration::Failure),
    /// The right password: the user, and the new-password challenge when it is due.
    Passed {
        user: Box<User>,
        challenge: Option<Challenge>,
    },
}

/// The throttle keys of a sign-in: per account whichever of its names was typed (per name for
/// unknown ones), and per address when the caller has one.
pub struct Keys {
    pub user: String,
    pub address: Option<String>,
}

impl Keys {
    pub fn new(site: &Site, user: Option<&User>, typed: &str, address: Option<&str>) -> Self {
        let user = match user {
            Some(user) => format!("user:{}:{}", site.pool_id(), user.sub),
            None => format!(
                "user:{}:name:{}",
                site.pool_id(),
                site.pool.settings.username_key(typed)
            ),
        };
        let address = address.map(|a| format!("ip:{}:{a}", site.pool_id()));
        Self { user, address }
    }

    pub fn locked(&self, conn: &mut AnyConnection, now: i64) -> Result<bool, StoreError> {
        let mut keys = vec![self.user.clone()];
        keys.extend(self.address.clone());
        Ok(throttle::locked_until(conn, &keys, now)?.is_some())
    }

    pub fn failed(&self, conn: &mut AnyConnection, now: i64) -> Result<(), StoreError> {
        throttle::record_failure(conn, &self.user, throttle::FREE_FAILURES, now)?;
        if let Some(address) = &self.address {
            throttle::record_address_failure(conn, address, FREE_FAILURES_PER_ADDRESS, now)?;
        }
        Ok(())
    }

    pub fn passed(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        throttle::clear(conn, &self.user)
    }
}

/// Checks a typed name and password. Runs argon2 and the pre authentication hook with the
/// connection given back to the pool. A name the pool does not know goes to its migration hook,
/// when it has one.
#[allow(clippy::too_many_arguments)]
pub fn check_password(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    caller: Caller<'_>,
    username: &str,
    password: &str,
    address: Option<&str>,
    now: i64,
) -> Result<FirstFactor, StoreError> {
    let conn = db.conn()?;
    let user = store::users::find_for_sign_in(conn, &site.pool, username)?;
    let keys = Keys::new(site, user.as_ref(), username, address);
    if keys.locked(conn, now)? {
        return Ok(FirstFactor::Locked);
    }
    db.release();
    if user.is_none() && migration::applies(site) {
        return migrate(db, services, site, caller, &keys, username, password, now);
    }
    // Any supported scheme: imported hashes are replaced by argon2id once they match.
    let checked = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
        Some(hash) => secrets::legacy::check(password, hash),
        None => {
            secrets::burn_password_check(password);
            secrets::legacy::Checked::NO
        }
    };
    if let Some(found) = &user
        && let Err(denied) = lifecycle::pre_authentication(db, services, site, found, caller)
    {
        return Ok(FirstFactor::Denied(denied));
    }
    let conn = db.conn()?;
    let mut user = match (user, checked.matches) {
        (Some(user), true) => user,
        // Imported without a password (docs/migrating.md): only a reset lets them in.
        (Some(user), false) if passwords::awaits_reset(&user) => {
            return Ok(FirstFactor::Refused(Refusal::ResetRequired));
        }
        (user, _) => {
            keys.failed(conn, now)?;
            return Ok(match user {
                Some(_) => FirstFactor::WrongPassword,
                None => FirstFactor::UnknownUser,
            });
        }
    };
    keys.passed(conn)?;
    if checked.must_replace {
        passwords::replace_imported(db, services, &mut user, password)?;
    }
    let conn = db.conn()?;
    // Users whose password was set before SRP existed get their verifier now.
    if user.srp_verifier.is_none() {
        let verifier = passwords::sealed_verifier(services, &user, password);
        store::users::store_verifier(conn, site.pool_id(), &user.sub, &verifier)?;
        user.srp_verifier = Some(verifier);
    }
    Ok(after_first_factor(site, user, now))
}

/// An unknown name's first sign-in through the pool's migration hook: a refusal counts as a
/// wrong password; a created user signs in at once, as any other, pre authentication included.
#[allow(clippy::too_many_arguments)]
fn migrate(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    caller: Caller<'_>,
    keys: &Keys,
    username: &str,
    password: &str,
    now: i64,
) -> Result<FirstFactor, StoreError> {
    let migrated = migration::sign_in(db, services, site, caller, username, password, now)?;
    match migrated {
        Migrated::Created(user) => {
            // The user now exists: pre authentication guards this sign-in as any later one.
            if let Err(denied) = lifecycle::pre_authentication(db, services, site, &user, caller) {
                return Ok(FirstFactor::Denied(denied));
            }
            keys.passed(db.conn()?)?;
            Ok(after_first_factor(site, *user, now))
        }
        Migrated::Failed(failure) => {
            if matches!(failure, migration::Failure::Refused) {
                keys.failed(db.conn()?, now)?;
            }
            Ok(FirstFactor::MigrationFailed(failure))
        }
    }
}

/// The account's refusals and the new-password challenge, once the user proved the password
/// (by argon2 or by SRP).
pub fn after_first_factor(site: &Site, user: User, now: i64) -> FirstFactor {
    let expired = temporary_password_expired(site, &user, now);
    match sign_in::after_password(user.enabled, user.status, expired) {
        Err(refusal) => FirstFactor::Refused(refusal),
        Ok(challenge) => FirstFactor::Passed {
            user: Box::new(user),
            challenge,
        },
    }
}

/// An administrator's temporary password lasts the pool's `temporary_password_validity_days`
/// from when it was set (docs/configuration.md, "`[[pool]]`"): the user's last change, which a
/// new temporary password (`AdminCreateUser` with `RESEND`, `AdminSetUserPassword`) restarts.
pub fn temporary_password_expired(site: &Site, user: &User, now: i64) -> bool {
    let days = i64::from(
        site.pool
            .settings
            .password_policy
            .temporary_password_validity_days,
    );
    now - user.updated_at > days * 86_400
}

/// Wrong TOTP codes are throttled per user like passwords: five free, then a lock that doubles
/// from 5 seconds to 15 minutes.
fn totp_key(site: &Site, sub: &str) -> String {
    format!("totp:{}:{sub}", site.pool_id())
}

pub fn totp_locked(
    conn: &mut AnyConnection,
    site: &Site,
    sub: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let key = totp_key(site, sub);
    Ok(throttle::locked_until(conn, std::slice::from_ref(&key), now)?.is_some())
}

pub fn totp_miss(
    conn: &mut AnyConnection,
    site: &Site,
    sub: &str,
    now: i64,
) -> Result<(), StoreError> {
    mfa::record_failure(conn, site.pool_id(), sub)?;
    throttle::record_failure(conn, &totp_key(site, sub), throttle::FREE_FAILURES, now)
}

pub fn totp_passed(conn: &mut AnyConnection, site: &Site, sub: &str) -> Result<(), StoreError> {
    throttle::clear(conn, &totp_key(site, sub))
}
