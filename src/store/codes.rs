//! One-time codes sent by email (docs/hosted-ui.md, "Codes"): sign-up confirmation (24 hours) and
//! password reset (1 hour). Only a digest is stored; a code dies when used, when replaced by a
//! newer one of the same purpose, or after too many wrong guesses.

use super::schema::user_codes;
use super::{AnyConnection, StoreResult};
use diesel::prelude::*;

pub const PURPOSE_SIGNUP: &str = "signup";
pub const PURPOSE_RESET: &str = "reset";
/// Verifying a changed email address (`VerifyUserAttribute`).
pub const PURPOSE_VERIFY_EMAIL: &str = "verify_email";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_codes)]
pub struct CodeRow {
    pub pool_id: String,
    pub user_sub: String,
    pub purpose: String,
    pub code_digest: String,
    pub destination: String,
    pub attempts: i32,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Stores a code, replacing any earlier code of the same purpose.
pub fn replace(conn: &mut AnyConnection, code: &CodeRow) -> StoreResult<()> {
    crate::store::write_transaction(conn, |conn| {
        diesel::delete(user_codes::table.find((&code.pool_id, &code.user_sub, &code.purpose)))
            .execute(conn)?;
        diesel::insert_into(user_codes::table)
            .values(code)
            .execute(conn)?;
        Ok(())
    })
}

pub fn find(
    conn: &mut AnyConnection,
    pool_id: &str,
    user_sub: &str,
    purpose: &str,
) -> StoreResult<Option<CodeRow>> {
    Ok(user_codes::table
        .find((pool_id, user_sub, purpose))
        .select(CodeRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// Spends one of the code's guesses; `false` when none is left. The condition on `attempts`
/// makes concurrent guesses each spend one, so the limit holds under parallel requests.
pub fn take_attempt(conn: &mut AnyConnection, code: &CodeRow, max: i32) -> StoreResult<bool> {
    let changed = diesel::update(
        user_codes::table
            .find((&code.pool_id, &code.user_sub, &code.purpose))
            .filter(user_codes::code_digest.eq(&code.code_digest))
            .filter(user_codes::attempts.lt(max)),
    )
    .set(user_codes::attempts.eq(user_codes::attempts + 1))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Consumes the code; `false` when another request used it first.
pub fn consume(conn: &mut AnyConnection, code: &CodeRow) -> StoreResult<bool> {
    let deleted = diesel::delete(
        user_codes::table
            .find((&code.pool_id, &code.user_sub, &code.purpose))
            .filter(user_codes::code_digest.eq(&code.code_digest)),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

pub fn purge_expired(conn: &mut AnyConnection, now: i64) -> StoreResult<usize> {
    Ok(diesel::delete(user_codes::table.filter(user_codes::expires_at.le(now))).execute(conn)?)
}
