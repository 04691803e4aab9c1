//! Half-finished sign-ins of the JSON API (docs/api.md, "Sign-in flows"): what a `Session` or an
//! SRP `SECRET_BLOCK` stands for, kept under the digest of that value only. Each is single use:
//! `take` deletes the row it returns, so of two concurrent answers one wins.

use super::schema::api_auth_sessions;
use super::{AnyConnection, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq, Eq)]
#[diesel(table_name = api_auth_sessions)]
pub struct AuthSessionRow {
    pub id_digest: String,
    pub pool_id: String,
    pub client_id: String,
    /// `None` for the decoy challenge of an unknown user.
    pub user_sub: Option<String>,
    /// The name the caller typed.
    pub username: String,
    /// The challenge the session answers (`NEW_PASSWORD_REQUIRED`, `PASSWORD_VERIFIER`, …).
    pub challenge: String,
    /// Sealed state of the step (SRP's `b`, `A`, `B`).
    pub state: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

pub fn create(conn: &mut AnyConnection, row: &AuthSessionRow) -> StoreResult<()> {
    diesel::insert_into(api_auth_sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The live session with this digest in the pool, left in place.
pub fn find(
    conn: &mut AnyConnection,
    pool_id: &str,
    id_digest: &str,
    now: i64,
) -> StoreResult<Option<AuthSessionRow>> {
    Ok(api_auth_sessions::table
        .find(id_digest)
        .filter(api_auth_sessions::pool_id.eq(pool_id))
        .filter(api_auth_sessions::expires_at.gt(now))
        .select(AuthSessionRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The live session with this digest in any pool (`AssociateSoftwareToken` and
/// `VerifySoftwareToken` name no client).
pub fn find_any(
    conn: &mut AnyConnection,
    id_digest: &str,
    now: i64,
) -> StoreResult<Option<AuthSessionRow>> {
    Ok(api_auth_sessions::table
        .find(id_digest)
        .filter(api_auth_sessions::expires_at.gt(now))
        .select(AuthSessionRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// Removes and returns the session with this digest in the pool, if it is still live.
pub fn take(
    conn: &mut AnyConnection,
    pool_id: &str,
    id_digest: &str,
    now: i64,
) -> StoreResult<Option<AuthSessionRow>> {
    let rows: Vec<AuthSessionRow> = diesel::delete(
        api_auth_sessions::table
            .find(id_digest)
            .filter(api_auth_sessions::pool_id.eq(pool_id)),
    )
    .returning(api_auth_sessions::all_columns)
    .get_results(conn)?;
    Ok(rows.into_iter().next().filter(|row| row.expires_at > now))
}

pub fn purge_expired(conn: &mut AnyConnection, now: i64) -> StoreResult<usize> {
    Ok(
        diesel::delete(api_auth_sessions::table.filter(api_auth_sessions::expires_at.le(now)))
            .execute(conn)?,
    )
}
