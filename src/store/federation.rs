//! Federation state: pending upstream sign-ins (single use, bound to a browser) and the upstream
//! identities linked to users.
//!
//! The flow they serve: docs/federation.md, "How a federated sign-in works".

use super::schema::{federation_requests, user_identities};
use super::{AnyConnection, StoreError, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = federation_requests)]
pub struct PendingRow {
    pub state_digest: String,
    pub pool_id: String,
    pub provider: String,
    pub browser_digest: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub request_query: String,
    pub created_at: i64,
    pub expires_at: i64,
}

pub fn insert_pending(conn: &mut AnyConnection, row: &PendingRow) -> StoreResult<()> {
    diesel::insert_into(federation_requests::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Removes and returns the pending sign-in of this state, if it is live: an answer is used once.
pub fn take_pending(
    conn: &mut AnyConnection,
    pool_id: &str,
    state_digest: &str,
    now: i64,
) -> StoreResult<Option<PendingRow>> {
    let rows: Vec<PendingRow> = diesel::delete(
        federation_requests::table
            .find(state_digest)
            .filter(federation_requests::pool_id.eq(pool_id)),
    )
    .returning(federation_requests::all_columns)
    .get_results(conn)?;
    Ok(rows.into_iter().next().filter(|row| row.expires_at > now))
}

pub fn purge_expired(conn: &mut AnyConnection, now: i64) -> StoreResult<usize> {
    Ok(
        diesel::delete(federation_requests::table.filter(federation_requests::expires_at.le(now)))
            .execute(conn)?,
    )
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq, Eq)]
#[diesel(table_name = user_identities)]
pub struct IdentityRow {
    pub pool_id: String,
    pub provider: String,
    pub subject: String,
    pub user_sub: String,
    pub provider_type: String,
    pub issuer: Option<String>,
    pub created_at: i64,
}

/// The user an upstream identity signs in as.
pub fn user_of(
    conn: &mut AnyConnection,
    pool_id: &str,
    provider: &str,
    subject: &str,
) -> StoreResult<Option<String>> {
    Ok(user_identities::table
        .find((pool_id, provider, subject))
        .select(user_identities::user_sub)
        .get_result(conn)
        .optional()?)
}

/// Every upstream identity of a user, oldest first.
pub fn identities_of(conn: &mut AnyConnection, user_sub: &str) -> StoreResult<Vec<IdentityRow>> {
    Ok(user_identities::table
        .filter(user_identities::user_sub.eq(user_sub))
        .order(user_identities::created_at.asc())
        .select(IdentityRow::as_select())
        .load(conn)?)
}

/// Links an identity to a user; an identity already linked is a `Conflict`.
pub fn link(conn: &mut AnyConnection, row: &IdentityRow) -> StoreResult<()> {
    diesel::insert_into(user_identities::table)
        .values(row)
        .execute(conn)
        .map_err(|e| {
            StoreError::from_write(
                e,
                format!(
                    "identity {} of {} is already linked",
                    row.subject, row.provider
                ),
            )
        })?;
    Ok(())
}
