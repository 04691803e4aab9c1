//! Each user's TOTP authenticator (RFC 6238; docs/hosted-ui.md, "Multi-factor authentication
//! (TOTP)"): the shared secret, whether a first code proved it, the last time step accepted (so no
//! code works twice) and failed entries. The secret is sealed with the operator's key in the
//! database (docs/deployment.md, "Encryption key") and in clear in an `MfaRow`.

use super::schema::user_mfa;
use super::{AnyConnection, StoreError, StoreResult};
use crate::sealing::{self, Sealer, purpose};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq, Eq)]
#[diesel(table_name = user_mfa)]
pub struct MfaRow {
    pub pool_id: String,
    pub user_sub: String,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub last_step: i64,
    pub failures: i32,
    pub declined: bool,
    pub updated_at: i64,
}

impl MfaRow {
    pub fn empty(pool_id: &str, user_sub: &str, now: i64) -> Self {
        Self {
            pool_id: pool_id.to_owned(),
            user_sub: user_sub.to_owned(),
            totp_secret: None,
            totp_enabled: false,
            last_step: 0,
            failures: 0,
            declined: false,
            updated_at: now,
        }
    }

    pub fn has_totp(&self) -> bool {
        self.totp_enabled && self.totp_secret.is_some()
    }
}

/// The user's row, its TOTP secret opened. A secret stored before sealing reads as it is (and
/// is sealed at the next save or rotation); one that does not open is an error.
pub fn find(
    conn: &mut AnyConnection,
    sealer: &Sealer,
    pool_id: &str,
    user_sub: &str,
) -> StoreResult<Option<MfaRow>> {
    let Some(mut row) = user_mfa::table
        .find((pool_id, user_sub))
        .select(MfaRow::as_select())
        .get_result(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if let Some(stored) = row.totp_secret.as_deref()
        && sealing::is_sealed(stored)
    {
        let clear = sealer
            .open_string(&purpose::totp(pool_id, user_sub), stored)
            .map_err(|e| StoreError::Corrupt(format!("TOTP secret of {user_sub}: {e}")))?;
        row.totp_secret = Some(clear);
    }
    Ok(Some(row))
}

/// Writes the row, its TOTP secret sealed.
pub fn save(conn: &mut AnyConnection, sealer: &Sealer, row: &MfaRow) -> StoreResult<()> {
    let mut stored = row.clone();
    stored.totp_secret = row
        .totp_secret
        .as_deref()
        .map(|clear| sealer.seal_str(&purpose::totp(&row.pool_id, &row.user_sub), clear));
    crate::store::write_transaction(conn, |conn| {
        diesel::delete(user_mfa::table.find((&row.pool_id, &row.user_sub))).execute(conn)?;
        diesel::insert_into(user_mfa::table)
            .values(&stored)
            .execute(conn)?;
        Ok(())
    })
}

/// Records an accepted code for `step`; `false` when that step (or a later one) was already
/// used, which is how a code replayed by a concurrent request is refused.
pub fn accept_step(
    conn: &mut AnyConnection,
    pool_id: &str,
    user_sub: &str,
    step: i64,
    now: i64,
) -> StoreResult<bool> {
    let changed = diesel::update(
        user_mfa::table
            .find((pool_id, user_sub))
            .filter(user_mfa::last_step.lt(step)),
    )
    .set((
        user_mfa::last_step.eq(step),
        user_mfa::failures.eq(0),
        user_mfa::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

pub fn record_failure(conn: &mut AnyConnection, pool_id: &str, user_sub: &str) -> StoreResult<()> {
    diesel::update(user_mfa::table.find((pool_id, user_sub)))
        .set(user_mfa::failures.eq(user_mfa::failures + 1))
        .execute(conn)?;
    Ok(())
}

/// Forgets the authenticator (configuration's `reset_mfa`): the user sets one up again.
pub fn reset(conn: &mut AnyConnection, pool_id: &str, user_sub: &str) -> StoreResult<usize> {
    Ok(diesel::delete(user_mfa::table.find((pool_id, user_sub))).execute(conn)?)
}
