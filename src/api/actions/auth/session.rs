//! The `Session` of a half-finished API sign-in (docs/api.md, "Sign-in flows"; Cognito's
//! `AuthSessionValidity`): an opaque random value the server keeps only the digest of, tied to
//! the pool, the client, the user and the challenge it answers; single use.

use super::Signing;
use crate::api::{ApiError, Ctx};
use crate::model::User;
use crate::secrets::{self, SecretDigest};
use crate::store::api_sessions::{self, AuthSessionRow};

pub const NEW_PASSWORD: &str = "NEW_PASSWORD_REQUIRED";
pub const MFA: &str = "SOFTWARE_TOKEN_MFA";
pub const SETUP: &str = "MFA_SETUP";
/// An `MFA_SETUP` session after `VerifySoftwareToken` accepted a code: only this one may
/// finish the challenge.
pub const SETUP_VERIFIED: &str = "MFA_SETUP:verified";
pub const PASSWORD_VERIFIER: &str = "PASSWORD_VERIFIER";

pub fn expired() -> ApiError {
    ApiError::not_authorized("Invalid session for the user, session is expired.")
}

/// Starts a session for `challenge`; returns the value to hand out.
pub fn create(
    ctx: &mut Ctx,
    signing: &Signing,
    user: Option<&User>,
    username: &str,
    challenge: &str,
) -> Result<String, ApiError> {
    let id = secrets::random_token(48);
    store(ctx, signing, user, username, challenge, &id, None)?;
    Ok(id)
}

/// Stores a session under the digest of `id` (also SRP's secret block, with its state).
pub fn store(
    ctx: &mut Ctx,
    signing: &Signing,
    user: Option<&User>,
    username: &str,
    challenge: &str,
    id: &str,
    state: Option<String>,
) -> Result<(), ApiError> {
    let minutes = i64::from(signing.client.settings.auth_session_validity_minutes);
    let now = ctx.now;
    let row = AuthSessionRow {
        id_digest: SecretDigest::of(id).as_str().to_owned(),
        pool_id: signing.site.pool_id().to_owned(),
        client_id: signing.client.id.as_str().to_owned(),
        user_sub: user.map(|u| u.sub.to_string()),
        username: username.to_owned(),
        challenge: challenge.to_owned(),
        state,
        created_at: now,
        expires_at: now + minutes * 60,
    };
    api_sessions::create(ctx.conn()?, &row)?;
    Ok(())
}

/// A live session of `challenge` for this client and its user, left in place (a caller's
/// mistake in the answer does not spend it).
pub fn open(
    ctx: &mut Ctx,
    signing: &Signing,
    id: Option<&str>,
    challenges: &[&str],
) -> Result<(AuthSessionRow, User), ApiError> {
    let id = id.filter(|s| s.len() >= 20).ok_or_else(expired)?;
    let digest = SecretDigest::of(id);
    let pool_id = signing.site.pool_id().to_owned();
    let now = ctx.now;
    let conn = ctx.conn()?;
    let row = api_sessions::find(conn, &pool_id, digest.as_str(), now)?
        .filter(|row| row.client_id == signing.client.id.as_str())
        .filter(|row| challenges.contains(&row.challenge.as_str()))
        .ok_or_else(expired)?;
    let sub = row
        .user_sub
        .as_deref()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .ok_or_else(expired)?;
    let user = match crate::store::users::get(conn, &pool_id, &sub) {
        Ok(user) => user,
        Err(crate::store::StoreError::NotFound) => return Err(expired()),
        Err(e) => return Err(e.into()),
    };
    if !user.enabled {
        return Err(ApiError::not_authorized("User is disabled."));
    }
    Ok((row, user))
}

/// Spends an opened session; a concurrent answer that spent it first wins.
pub fn spend(ctx: &mut Ctx, row: &AuthSessionRow) -> Result<(), ApiError> {
    let now = ctx.now;
    api_sessions::take(ctx.conn()?, &row.pool_id, &row.id_digest, now)?
        .map(|_| ())
        .ok_or_else(expired)
}

/// Whether a `USERNAME` answer names the session's user (the typed name or the stored one).
pub fn names_user(
    signing: &Signing,
    row: &AuthSessionRow,
    user: &User,
    given: Option<&str>,
) -> bool {
    let key = |s: &str| signing.site.pool.settings.username_key(s);
    given.is_none_or(|g| {
        key(g) == key(&row.username) || key(g) == key(&user.username) || g == user.sub.to_string()
    })
}
