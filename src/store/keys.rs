//! Signing keys per pool. One key is active (signs); retired keys stay published until every
//! token they signed has expired (`publish_until`).
//!
//! Rotation: docs/deployment.md, "Signing keys".

use super::schema::signing_keys;
use super::{AnyConnection, StoreError, StoreResult, from_json, to_json};
use crate::tokens::keys::{ALGORITHM, GeneratedKey, Jwk};
use crate::tokens::signer::PrivateKey;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
pub struct StoredKey {
    pub kid: String,
    pub pool_id: String,
    pub algorithm: String,
    pub private_key_pem: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub publish_until: Option<i64>,
}

impl StoredKey {
    pub fn private_key(&self) -> PrivateKey {
        PrivateKey {
            kid: self.kid.clone(),
            pem: self.private_key_pem.clone(),
        }
    }

    pub fn jwk(&self) -> StoreResult<Jwk> {
        from_json(&self.public_jwk, "public JWK")
    }
}

/// The key that signs new tokens for the pool, if it has one.
pub fn active(conn: &mut AnyConnection, pool_id: &str) -> StoreResult<Option<StoredKey>> {
    Ok(signing_keys::table
        .filter(signing_keys::pool_id.eq(pool_id))
        .filter(signing_keys::retired_at.is_null())
        .order(signing_keys::created_at.desc())
        .select(StoredKey::as_select())
        .get_result(conn)
        .optional()?)
}

/// The key ring reads the pools' keys from the database.
impl crate::tokens::KeySource for AnyConnection {
    type Error = StoreError;

    fn active_key(&mut self, pool_id: &str) -> StoreResult<Option<PrivateKey>> {
        Ok(active(self, pool_id)?.map(|stored| stored.private_key()))
    }

    fn published_keys(&mut self, pool_id: &str, now: i64) -> StoreResult<Vec<Jwk>> {
        published(self, pool_id, now)
    }
}

/// Keys to publish at `now`: the active key and every retired key still inside its window,
/// newest first.
pub fn published(conn: &mut AnyConnection, pool_id: &str, now: i64) -> StoreResult<Vec<Jwk>> {
    signing_keys::table
        .filter(signing_keys::pool_id.eq(pool_id))
        .filter(
            signing_keys::retired_at
                .is_null()
                .or(signing_keys::publish_until.gt(now)),
        )
        .order((signing_keys::created_at.desc(), signing_keys::kid))
        .select(StoredKey::as_select())
        .load(conn)?
        .iter()
        .map(StoredKey::jwk)
        .collect()
}

fn insert(
    conn: &mut AnyConnection,
    pool_id: &str,
    key: &GeneratedKey,
    now: i64,
) -> StoreResult<()> {
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq(&key.kid),
            signing_keys::pool_id.eq(pool_id),
            signing_keys::algorithm.eq(ALGORITHM),
            signing_keys::private_key_pem.eq(&key.private_key_pem),
            signing_keys::public_jwk.eq(to_json(&key.public_jwk)),
            signing_keys::created_at.eq(now),
        ))
        .execute(conn)
        .map_err(|e| StoreError::from_write(e, format!("key {}", key.kid)))?;
    Ok(())
}

/// Stores `key` as the pool's active key unless the pool already has one. Returns whether it
/// was stored (two processes starting at once both generate; one key wins).
pub fn ensure_active(
    conn: &mut AnyConnection,
    pool_id: &str,
    key: &GeneratedKey,
    now: i64,
) -> StoreResult<bool> {
    crate::store::write_transaction(conn, |conn| {
        if active(conn, pool_id)?.is_some() {
            return Ok(false);
        }
        insert(conn, pool_id, key, now)?;
        Ok(true)
    })
}

/// Makes `key` the active key and retires the previous ones; they stay published for
/// `grace_seconds`, the longest lifetime of a token they may have signed.
pub fn rotate(
    conn: &mut AnyConnection,
    pool_id: &str,
    key: &GeneratedKey,
    now: i64,
    grace_seconds: i64,
) -> StoreResult<()> {
    crate::store::write_transaction(conn, |conn| {
        diesel::update(
            signing_keys::table
                .filter(signing_keys::pool_id.eq(pool_id))
                .filter(signing_keys::retired_at.is_null()),
        )
        .set((
            signing_keys::retired_at.eq(now),
            signing_keys::publish_until.eq(now + grace_seconds),
        ))
        .execute(conn)?;
        insert(conn, pool_id, key, now)
    })
}
