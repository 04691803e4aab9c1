//! Failed sign-ins per user and per address, kept in the database so that back-off holds
//! across processes. The `FREE_FAILURES`th failure locks for `FIRST_LOCK_SECONDS`, each further
//! one doubles the lock, up to `MAX_LOCK_SECONDS`; a success clears the user's counter. An
//! address's count starts again after `FORGET_AFTER_SECONDS` without failures, so a busy
//! address (a NAT, an office) is not locked for the rest of the day by ordinary typos; an
//! account's or a code's count is not forgotten, so waiting never buys fresh guesses.
//!
//! See docs/hosted-ui.md, "Security".

use super::schema::sign_in_failures;
use super::{AnyConnection, StoreError, StoreResult};
use diesel::prelude::*;

pub const FREE_FAILURES: i32 = 5;
pub const FIRST_LOCK_SECONDS: i64 = 5;
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// Longer than the longest lock: waiting out a lock does not earn a fresh set of free tries.
pub const FORGET_AFTER_SECONDS: i64 = 60 * 60;

/// Seconds to lock after `failures` consecutive failures when `free` are let through.
pub fn lock_seconds(failures: i32, free: i32) -> i64 {
    if failures < free {
        0
    } else {
        let exponent = (failures - free).min(20) as u32;
        (FIRST_LOCK_SECONDS << exponent).min(MAX_LOCK_SECONDS)
    }
}

/// The latest `locked_until` among `keys` that is still in the future.
pub fn locked_until(
    conn: &mut AnyConnection,
    keys: &[String],
    now: i64,
) -> StoreResult<Option<i64>> {
    let until: Option<i64> = sign_in_failures::table
        .filter(sign_in_failures::throttle_key.eq_any(keys))
        .filter(sign_in_failures::locked_until.gt(now))
        .select(diesel::dsl::max(sign_in_failures::locked_until))
        .get_result(conn)?;
    Ok(until)
}

/// Counts a failure of an account or a code. Two first failures of one key at once race to
/// insert; the loser counts again, now as an update.
pub fn record_failure(conn: &mut AnyConnection, key: &str, free: i32, now: i64) -> StoreResult<()> {
    record(conn, key, free, None, now)
}

/// Counts a failure from an address: forgotten after `FORGET_AFTER_SECONDS` without another.
pub fn record_address_failure(
    conn: &mut AnyConnection,
    key: &str,
    free: i32,
    now: i64,
) -> StoreResult<()> {
    record(conn, key, free, Some(FORGET_AFTER_SECONDS), now)
}

fn record(
    conn: &mut AnyConnection,
    key: &str,
    free: i32,
    forget_after: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    use diesel::result::{DatabaseErrorKind, Error};
    match record_failure_once(conn, key, free, forget_after, now) {
        Err(StoreError::Database(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _))) => {
            record_failure_once(conn, key, free, forget_after, now)
        }
        other => other,
    }
}

fn record_failure_once(
    conn: &mut AnyConnection,
    key: &str,
    free: i32,
    forget_after: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    // The first statement writes, so SQLite takes the write lock (waiting for it) before
    // reading: a transaction that reads first can fail at its write instead of waiting.
    conn.transaction(|conn| {
        if let Some(seconds) = forget_after {
            diesel::update(
                sign_in_failures::table
                    .find(key)
                    .filter(sign_in_failures::last_failure_at.lt(now - seconds)),
            )
            .set(sign_in_failures::failures.eq(0))
            .execute(conn)?;
        }
        let failures: Option<i32> = diesel::update(sign_in_failures::table.find(key))
            .set((
                sign_in_failures::failures.eq(sign_in_failures::failures + 1),
                sign_in_failures::last_failure_at.eq(now),
            ))
            .returning(sign_in_failures::failures)
            .get_result(conn)
            .optional()?;
        match failures {
            Some(failures) => {
                diesel::update(sign_in_failures::table.find(key))
                    .set(sign_in_failures::locked_until.eq(now + lock_seconds(failures, free)))
                    .execute(conn)?;
            }
            None => {
                diesel::insert_into(sign_in_failures::table)
                    .values((
                        sign_in_failures::throttle_key.eq(key),
                        sign_in_failures::failures.eq(1),
                        sign_in_failures::last_failure_at.eq(now),
                        sign_in_failures::locked_until.eq(now + lock_seconds(1, free)),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(())
    })
}

pub fn clear(conn: &mut AnyConnection, key: &str) -> StoreResult<()> {
    diesel::delete(sign_in_failures::table.find(key)).execute(conn)?;
    Ok(())
}
