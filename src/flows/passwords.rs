//! Setting a password, in one place: the argon2id hash that password sign-ins check and the
//! SRP verifier that `USER_SRP_AUTH` checks (docs/api.md, "Sign-in flows"), sealed with the
//! operator's key because a verifier allows a cheap offline guess (docs/api.md, "Encryption").

use super::Services;
use crate::api::srp;
use crate::model::User;
use crate::secrets;

/// The associated data a user's sealed verifier is bound to: it opens for this user only.
pub fn srp_purpose(pool_id: &str, sub: &uuid::Uuid) -> String {
    format!("srp:{pool_id}:{sub}")
}

/// The sealed SRP verifier of `password` for `user` (computed with the user's username, which
/// is Cognito's `USER_ID_FOR_SRP`; in pools that sign in by email or phone the username is the
/// `sub`).
pub fn sealed_verifier(services: &Services, user: &User, password: &str) -> String {
    sealed_verifier_with(&services.sealer, user, password)
}

/// `sealed_verifier` with the sealer alone (provisioning runs before the services exist).
pub fn sealed_verifier_with(
    sealer: &crate::sealing::Sealer,
    user: &User,
    password: &str,
) -> String {
    let verifier = srp::make_verifier(
        user.pool_id.as_str(),
        &user.username,
        password,
        srp::new_salt(),
    );
    sealer.seal(
        &srp_purpose(user.pool_id.as_str(), &user.sub),
        &verifier.to_bytes(),
    )
}

/// Sets a user's password: hash and verifier together. Runs argon2: call it with no database
/// connection checked out.
pub fn set(services: &Services, user: &mut User, password: &str) -> Result<(), secrets::HashError> {
    user.password_hash = Some(secrets::hash_password(password)?);
    user.srp_verifier = Some(sealed_verifier(services, user, password));
    Ok(())
}

/// The user's SRP verifier, if one is stored and opens with this server's keys.
pub fn verifier(services: &Services, user: &User) -> Option<srp::Verifier> {
    let sealed = user.srp_verifier.as_deref()?;
    let purpose = srp_purpose(user.pool_id.as_str(), &user.sub);
    match services.sealer.open(&purpose, sealed) {
        Ok(bytes) => srp::Verifier::from_bytes(&bytes).ok(),
        Err(error) => {
            tracing::warn!(user = %user.sub, %error, "the SRP verifier does not open");
            None
        }
    }
}

/// A user imported without a password hash (`RESET_REQUIRED`, docs/migrating.md): every
/// password sign-in answers that a reset is required, as Cognito does for imported users.
pub fn awaits_reset(user: &User) -> bool {
    user.enabled
        && user.status == crate::model::UserStatus::ResetRequired
        && user.password_hash.is_none()
}

/// Replaces a hash in another scheme (an import's bcrypt, scrypt, PBKDF2 or older argon2) by
/// the current argon2id and sets the SRP verifier, once `password` has matched it. argon2 runs
/// with the connection given back; the write happens only if the stored hash is still the one
/// that matched. A failure keeps the old hash: the sign-in goes on.
pub fn replace_imported(
    db: &mut crate::store::Lease,
    services: &Services,
    user: &mut User,
    password: &str,
) -> Result<(), crate::store::StoreError> {
    let Some(old) = user.password_hash.clone() else {
        return Ok(());
    };
    db.release();
    let mut replaced = user.clone();
    if let Err(error) = set(services, &mut replaced, password) {
        tracing::warn!(user = %user.sub, %error, "an imported password hash was not replaced");
        return Ok(());
    }
    let conn = db.conn()?;
    if crate::store::users::replace_hash(conn, user.pool_id.as_str(), &replaced, &old)? {
        tracing::info!(pool = %user.pool_id, user = %user.sub, "imported password hash replaced by argon2id");
        *user = replaced;
    }
    Ok(())
}
