//! Secrets of the installation (`instance_secrets`): made once, by whichever process starts
//! first, and then read by every process on the database.
//!
//! See docs/deployment.md, "PostgreSQL and several instances".

use super::schema::instance_secrets;
use super::{AnyConnection, StoreError, StoreResult};
use diesel::prelude::*;

/// The secret called `name`, made with `make` if there is none yet. Two processes starting at
/// once both insert; the loser's insert fails on the key and it reads the winner's.
pub fn secret(
    conn: &mut AnyConnection,
    name: &str,
    now: i64,
    make: impl FnOnce() -> String,
) -> StoreResult<String> {
    use diesel::result::{DatabaseErrorKind, Error};
    if let Some(secret) = find(conn, name)? {
        return Ok(secret);
    }
    let made = make();
    let inserted = diesel::insert_into(instance_secrets::table)
        .values((
            instance_secrets::name.eq(name),
            instance_secrets::secret.eq(&made),
            instance_secrets::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(made),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            find(conn, name)?.ok_or(StoreError::NotFound)
        }
        Err(other) => Err(other.into()),
    }
}

fn find(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<String>> {
    Ok(instance_secrets::table
        .find(name)
        .select(instance_secrets::secret)
        .get_result(conn)
        .optional()?)
}
