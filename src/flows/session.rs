//! Hosted-UI sessions. The browser holds a random session id; the database holds only its
//! digest. (The pages' CSRF tokens are checked by the HTTP layer: `http::csrf`.)
//!
//! See docs/hosted-ui.md, "Security".

use super::{SESSION_SECONDS, Site};
use crate::model::{User, UserStatus};
use crate::secrets::{self, SecretDigest};
use crate::store::grants::{self, SESSION_ACTIVE, SessionRow};
use crate::store::{self, AnyConnection, StoreResult};

/// How long a half-finished sign-in (new password, TOTP, unconfirmed sign-up) may wait.
pub const PENDING_SECONDS: i64 = 15 * 60;

/// A signed-in browser: its session and its user.
pub struct SignedIn {
    pub session: SessionRow,
    pub user: User,
}

/// The active session the cookie names, if its user may still sign in.
pub fn current(
    conn: &mut AnyConnection,
    site: &Site,
    cookie: Option<&str>,
    now: i64,
) -> StoreResult<Option<SignedIn>> {
    current_of_kind(conn, site, cookie, now, SESSION_ACTIVE)
}

pub fn current_of_kind(
    conn: &mut AnyConnection,
    site: &Site,
    cookie: Option<&str>,
    now: i64,
    kind: &str,
) -> StoreResult<Option<SignedIn>> {
    let Some(cookie) = cookie else {
        return Ok(None);
    };
    let digest = SecretDigest::of(cookie);
    let Some(session) = grants::find_session(conn, site.pool_id(), digest.as_str(), now)? else {
        return Ok(None);
    };
    if session.kind != kind {
        return Ok(None);
    }
    let Ok(sub) = uuid::Uuid::parse_str(&session.user_sub) else {
        return Ok(None);
    };
    let user = match store::users::get(conn, site.pool_id(), &sub) {
        Ok(user) => user,
        Err(store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    // A sign-up session belongs to a user still waiting for confirmation; no other may.
    let waiting = matches!(
        user.status,
        UserStatus::Unconfirmed | UserStatus::ResetRequired
    );
    if !user.enabled || (waiting && kind != grants::SESSION_SIGNUP) {
        return Ok(None);
    }
    Ok(Some(SignedIn { session, user }))
}

/// Starts a session; returns the cookie value (the only place the id exists in clear).
pub fn start(
    conn: &mut AnyConnection,
    site: &Site,
    user: &User,
    kind: &str,
    now: i64,
) -> StoreResult<String> {
    let id = secrets::random_token(32);
    grants::create_session(
        conn,
        &SessionRow {
            id_digest: SecretDigest::of(&id).as_str().to_owned(),
            pool_id: site.pool_id().to_owned(),
            user_sub: user.sub.to_string(),
            kind: kind.to_owned(),
            auth_time: now,
            created_at: now,
            // A step between password and sign-in (new password, TOTP) must not linger.
            expires_at: now
                + if kind == SESSION_ACTIVE {
                    SESSION_SECONDS
                } else {
                    PENDING_SECONDS
                },
        },
    )?;
    Ok(id)
}

pub fn end(conn: &mut AnyConnection, cookie: Option<&str>) -> StoreResult<()> {
    match cookie {
        Some(cookie) => grants::delete_session(conn, SecretDigest::of(cookie).as_str()),
        None => Ok(()),
    }
}
