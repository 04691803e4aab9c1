//! Values of custom attributes a pool no longer declares, kept out of sight (docs/migrating.md,
//! "Changing the schema after creation"). `hide` moves them out of the users' attributes, so
//! that no reader (tokens, userInfo, the API, exports) can show them; `restore` moves them back
//! once the attribute is declared again. Nothing here deletes a value.

use super::schema::{retired_attributes, users};
use super::{AnyConnection, StoreError, StoreResult};
use crate::model::{User, UserPool};
use diesel::prelude::*;
use std::collections::BTreeMap;
use uuid::Uuid;

fn user(conn: &mut AnyConnection, pool: &UserPool, sub: &str) -> StoreResult<Option<User>> {
    let sub = Uuid::parse_str(sub).map_err(|e| StoreError::Corrupt(format!("user sub: {e}")))?;
    match super::users::get(conn, pool.id.as_str(), &sub) {
        Ok(user) => Ok(Some(user)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Moves every user's value of the attributes `names` (full names: `custom:tier`) out of their
/// attributes. Returns how many values moved. A value retired earlier under the same name is
/// replaced by the one the user holds now.
pub fn hide(
    conn: &mut AnyConnection,
    pool: &UserPool,
    names: &[String],
    now: i64,
) -> StoreResult<usize> {
    if names.is_empty() {
        return Ok(0);
    }
    let pool_id = pool.id.as_str();
    // Only users with some custom attribute can hold one; each is then checked exactly.
    let subs: Vec<String> = users::table
        .filter(users::pool_id.eq(pool_id))
        .filter(users::attributes.like("%\"custom:%"))
        .select(users::sub)
        .load(conn)?;
    let mut moved = 0;
    for sub in subs {
        let Some(mut user) = user(conn, pool, &sub)? else {
            continue;
        };
        let taken: Vec<(&String, String)> = names
            .iter()
            .filter_map(|name| Some((name, user.attributes.remove(name)?)))
            .collect();
        if taken.is_empty() {
            continue;
        }
        for (name, value) in &taken {
            diesel::delete(retired_attributes::table.find((pool_id, &sub, name.as_str())))
                .execute(conn)?;
            diesel::insert_into(retired_attributes::table)
                .values((
                    retired_attributes::pool_id.eq(pool_id),
                    retired_attributes::user_sub.eq(&sub),
                    retired_attributes::name.eq(name.as_str()),
                    retired_attributes::value.eq(value),
                    retired_attributes::retired_at.eq(now),
                ))
                .execute(conn)?;
        }
        moved += taken.len();
        super::users::update(conn, pool, &user)?;
    }
    Ok(moved)
}

/// Moves the retired values of the attributes `names` back into their users' attributes.
/// A value the user was given since (a provider's mapping, say) is newer and stays; the retired
/// one is then dropped. Returns how many values came back.
pub fn restore(conn: &mut AnyConnection, pool: &UserPool, names: &[String]) -> StoreResult<usize> {
    if names.is_empty() {
        return Ok(0);
    }
    let pool_id = pool.id.as_str();
    let rows: Vec<(String, String, String)> = retired_attributes::table
        .filter(retired_attributes::pool_id.eq(pool_id))
        .filter(retired_attributes::name.eq_any(names))
        .select((
            retired_attributes::user_sub,
            retired_attributes::name,
            retired_attributes::value,
        ))
        .load(conn)?;
    let mut by_user: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (sub, name, value) in rows {
        by_user.entry(sub).or_default().push((name, value));
    }
    let mut restored = 0;
    for (sub, values) in by_user {
        if let Some(mut user) = user(conn, pool, &sub)? {
            let mut changed = false;
            for (name, value) in &values {
                if user.attributes.get(name).is_none()
                    && user.attributes.set(name.clone(), value.clone()).is_ok()
                {
                    changed = true;
                    restored += 1;
                }
            }
            if changed {
                super::users::update(conn, pool, &user)?;
            }
        }
        diesel::delete(
            retired_attributes::table
                .filter(retired_attributes::pool_id.eq(pool_id))
                .filter(retired_attributes::user_sub.eq(&sub))
                .filter(retired_attributes::name.eq_any(names)),
        )
        .execute(conn)?;
    }
    Ok(restored)
}

/// How many users hold a retired value, per attribute name.
pub fn counts(conn: &mut AnyConnection, pool_id: &str) -> StoreResult<Vec<(String, i64)>> {
    Ok(retired_attributes::table
        .filter(retired_attributes::pool_id.eq(pool_id))
        .group_by(retired_attributes::name)
        .select((retired_attributes::name, diesel::dsl::count_star()))
        .order(retired_attributes::name)
        .load(conn)?)
}

/// A user's retired values, by name (for operators and tests; never shown to the user).
pub fn of_user(
    conn: &mut AnyConnection,
    pool_id: &str,
    sub: &Uuid,
) -> StoreResult<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = retired_attributes::table
        .filter(retired_attributes::pool_id.eq(pool_id))
        .filter(retired_attributes::user_sub.eq(sub.to_string()))
        .select((retired_attributes::name, retired_attributes::value))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
