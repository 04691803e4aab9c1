//! User pools.
//!
//! See docs/configuration.md, "`[[pool]]`".

use super::schema::user_pools;
use super::{AnyConnection, Saved, StoreError, StoreResult, from_json, now, to_json};
use crate::model::{PoolId, UserPool};
use diesel::prelude::*;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = user_pools)]
struct PoolRow {
    id: String,
    name: String,
    domain: Option<String>,
    settings: String,
    created_at: i64,
    updated_at: i64,
}

impl PoolRow {
    fn into_pool(self) -> StoreResult<UserPool> {
        Ok(UserPool {
            id: PoolId::parse(&self.id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            name: self.name,
            domain: self.domain,
            settings: from_json(&self.settings, "pool settings")?,
        })
    }
}

pub fn get(conn: &mut AnyConnection, id: &str) -> StoreResult<UserPool> {
    user_pools::table
        .find(id)
        .select(PoolRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?
        .into_pool()
}

pub fn find_by_domain(conn: &mut AnyConnection, domain: &str) -> StoreResult<Option<UserPool>> {
    user_pools::table
        .filter(user_pools::domain.eq(domain))
        .select(PoolRow::as_select())
        .get_result(conn)
        .optional()?
        .map(PoolRow::into_pool)
        .transpose()
}

pub fn find_by_name(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<UserPool>> {
    user_pools::table
        .filter(user_pools::name.eq(name))
        .order(user_pools::created_at)
        .select(PoolRow::as_select())
        .get_result(conn)
        .optional()?
        .map(PoolRow::into_pool)
        .transpose()
}

pub fn list(conn: &mut AnyConnection) -> StoreResult<Vec<UserPool>> {
    user_pools::table
        .order(user_pools::id)
        .select(PoolRow::as_select())
        .load(conn)?
        .into_iter()
        .map(PoolRow::into_pool)
        .collect()
}

/// Creates the pool, or updates it when it differs from what is stored.
pub fn save(conn: &mut AnyConnection, pool: &UserPool) -> StoreResult<Saved> {
    let settings = to_json(&pool.settings);
    let existing = user_pools::table
        .find(pool.id.as_str())
        .select(PoolRow::as_select())
        .get_result(conn)
        .optional()?;
    let time = now();
    match existing {
        None => {
            diesel::insert_into(user_pools::table)
                .values(PoolRow {
                    id: pool.id.to_string(),
                    name: pool.name.clone(),
                    domain: pool.domain.clone(),
                    settings,
                    created_at: time,
                    updated_at: time,
                })
                .execute(conn)
                .map_err(|e| StoreError::from_write(e, format!("pool {}", pool.id)))?;
            Ok(Saved::Created)
        }
        Some(row)
            if row.name == pool.name && row.domain == pool.domain && row.settings == settings =>
        {
            Ok(Saved::Unchanged)
        }
        Some(_) => {
            diesel::update(user_pools::table.find(pool.id.as_str()))
                .set((
                    user_pools::name.eq(&pool.name),
                    user_pools::domain.eq(&pool.domain),
                    user_pools::settings.eq(settings),
                    user_pools::updated_at.eq(time),
                ))
                .execute(conn)
                .map_err(|e| StoreError::from_write(e, format!("domain of pool {}", pool.id)))?;
            Ok(Saved::Updated)
        }
    }
}

/// When the pool was first stored and last changed (`DescribeUserPool`'s dates).
pub fn dates(conn: &mut AnyConnection, id: &str) -> StoreResult<(i64, i64)> {
    user_pools::table
        .find(id)
        .select((user_pools::created_at, user_pools::updated_at))
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}
