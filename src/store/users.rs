//! Users, their sign-in aliases and their group memberships.
//!
//! Aliases
//! (<https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html>)
//! live in their own table so that the database enforces that a verified email, a verified phone
//! number or a preferred username signs in one user only.

use super::schema::{group_members, user_aliases, user_search, users};
use super::{AnyConnection, StoreError, StoreResult, from_json, on_backend, to_json};
use crate::model::{Attributes, PoolId, User, UserPool, UserStatus};
use diesel::prelude::*;
use uuid::Uuid;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
struct UserRow {
    sub: String,
    pool_id: String,
    username: String,
    username_key: String,
    status: String,
    enabled: bool,
    password_hash: Option<String>,
    attributes: String,
    created_at: i64,
    updated_at: i64,
    srp_verifier: Option<String>,
}

impl UserRow {
    fn into_user(self) -> StoreResult<User> {
        let attributes: Attributes = from_json(&self.attributes, "user attributes")?;
        Ok(User {
            sub: Uuid::parse_str(&self.sub).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            pool_id: PoolId::parse(&self.pool_id)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            username: self.username,
            status: UserStatus::parse(&self.status)
                .ok_or_else(|| StoreError::Corrupt(format!("user status {}", self.status)))?,
            enabled: self.enabled,
            password_hash: self.password_hash,
            attributes,
            created_at: self.created_at,
            updated_at: self.updated_at,
            srp_verifier: self.srp_verifier,
        })
    }

    fn from_user(pool: &UserPool, user: &User) -> Self {
        Self {
            sub: user.sub.to_string(),
            pool_id: user.pool_id.to_string(),
            username: user.username.clone(),
            username_key: pool.settings.username_key(&user.username),
            status: user.status.as_str().to_owned(),
            enabled: user.enabled,
            password_hash: user.password_hash.clone(),
            attributes: to_json(&user.attributes),
            created_at: user.created_at,
            updated_at: user.updated_at,
            srp_verifier: user.srp_verifier.clone(),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = user_aliases)]
struct AliasRow {
    pool_id: String,
    kind: String,
    alias_key: String,
    user_sub: String,
}

/// The aliases a user's attributes give them: under `alias_attributes` an email or phone number
/// once verified and a preferred username at once; under `username_attributes` the email or
/// phone number the user signs in with, verified or not (docs/configuration.md, "`[[pool]]`").
pub fn aliases_of(pool: &UserPool, attributes: &Attributes) -> Vec<(String, String)> {
    let settings = &pool.settings;
    let as_alias = settings.alias_attributes.iter().filter_map(|kind| {
        let value = attributes.get(kind)?;
        let key = match kind.as_str() {
            "email" if attributes.is_verified("email") => value.to_lowercase(),
            "phone_number" if attributes.is_verified("phone_number") => value.to_owned(),
            "preferred_username" => settings.username_key(value),
            _ => return None,
        };
        Some((kind.clone(), key))
    });
    let as_username = settings.username_attributes.iter().filter_map(|kind| {
        let value = attributes.get(kind)?;
        let key = match kind.as_str() {
            "email" => value.to_lowercase(),
            _ => value.to_owned(),
        };
        Some((kind.clone(), key))
    });
    as_alias.chain(as_username).collect()
}

fn sync_aliases(conn: &mut AnyConnection, pool: &UserPool, user: &User) -> StoreResult<()> {
    let sub = user.sub.to_string();
    diesel::delete(user_aliases::table.filter(user_aliases::user_sub.eq(&sub))).execute(conn)?;
    for (kind, key) in aliases_of(pool, &user.attributes) {
        diesel::insert_into(user_aliases::table)
            .values(AliasRow {
                pool_id: pool.id.to_string(),
                kind: kind.clone(),
                alias_key: key,
                user_sub: sub.clone(),
            })
            .execute(conn)
            .map_err(|e| {
                StoreError::from_write(
                    e,
                    format!("{kind} of user {} is another user's alias", user.username),
                )
            })?;
    }
    Ok(())
}

/// Attributes `ListUsers` filters on besides `username`, `sub`, `cognito:user_status` and
/// `status` (docs/api.md, "Admin actions").
pub const SEARCHABLE_ATTRIBUTES: &[&str] = &[
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
];

/// The search keys of a user: `(attribute, value_key)`. The username is keyed like the pool
/// keys it (case-folded unless the pool is case sensitive), `cognito:user_status` is upper
/// case; other values are kept as they are (Cognito's filters are case-sensitive there).
pub fn search_keys(pool: &UserPool, user: &User) -> Vec<(&'static str, String)> {
    let mut keys = vec![
        ("username", pool.settings.username_key(&user.username)),
        ("sub", user.sub.to_string()),
        ("cognito:user_status", user.status.as_str().to_owned()),
        (
            "status",
            if user.enabled { "Enabled" } else { "Disabled" }.to_owned(),
        ),
    ];
    for name in SEARCHABLE_ATTRIBUTES {
        if let Some(value) = user.attributes.get(name) {
            keys.push((name, value.to_owned()));
        }
    }
    keys
}

fn sync_search(conn: &mut AnyConnection, pool: &UserPool, user: &User) -> StoreResult<()> {
    let sub = user.sub.to_string();
    diesel::delete(user_search::table.filter(user_search::user_sub.eq(&sub))).execute(conn)?;
    let rows: Vec<_> = search_keys(pool, user)
        .into_iter()
        .map(|(attribute, key)| {
            (
                user_search::pool_id.eq(pool.id.as_str()),
                user_search::attribute.eq(attribute),
                user_search::value_key.eq(key),
                user_search::user_sub.eq(sub.clone()),
            )
        })
        .collect();
    on_backend!(conn, |c| diesel::insert_into(user_search::table)
        .values(&rows)
        .execute(c))?;
    Ok(())
}

/// Inserts a new user; a taken username or alias is a `Conflict`.
pub fn create(conn: &mut AnyConnection, pool: &UserPool, user: &User) -> StoreResult<()> {
    crate::store::write_transaction(conn, |conn| {
        diesel::insert_into(users::table)
            .values(UserRow::from_user(pool, user))
            .execute(conn)
            .map_err(|e| StoreError::from_write(e, format!("username {}", user.username)))?;
        sync_aliases(conn, pool, user)?;
        sync_search(conn, pool, user)
    })
}

/// How `ListUsers` matches a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Exact,
    Prefix,
}

/// A `ListUsers` filter on one search key.
#[derive(Debug, Clone)]
pub struct Search {
    pub attribute: String,
    pub matching: Match,
    pub value_key: String,
}

/// One page of a pool's users: those matching `search` (in `(value_key, sub)` order) or all
/// (in `sub` order), after the position `after` of the previous page. Every filter reads the
/// `user_search` index; a prefix is a range `[prefix, prefix + U+10FFFF)` on it.
pub fn search(
    conn: &mut AnyConnection,
    pool_id: &str,
    search: Option<&Search>,
    after: Option<(&str, &str)>,
    limit: usize,
) -> StoreResult<Vec<(String, User)>> {
    let limit = limit as i64;
    // Everyone is a prefix search on `sub` with an empty prefix: the same index, in sub order.
    let everyone = Search {
        attribute: "sub".to_owned(),
        matching: Match::Prefix,
        value_key: String::new(),
    };
    let search = search.unwrap_or(&everyone);
    let hits: Vec<(String, String)> = on_backend!(conn, |c| {
        let mut query = user_search::table
            .filter(user_search::pool_id.eq(pool_id))
            .filter(user_search::attribute.eq(&search.attribute))
            .order((user_search::value_key, user_search::user_sub))
            .limit(limit)
            .select((user_search::value_key, user_search::user_sub))
            .into_boxed();
        query = match search.matching {
            Match::Exact => query.filter(user_search::value_key.eq(search.value_key.clone())),
            Match::Prefix => query
                .filter(user_search::value_key.ge(search.value_key.clone()))
                .filter(user_search::value_key.lt(format!("{}\u{10FFFF}", search.value_key))),
        };
        if let Some((key, sub)) = after {
            query = query.filter(
                user_search::value_key
                    .gt(key.to_owned())
                    .or(user_search::value_key
                        .eq(key.to_owned())
                        .and(user_search::user_sub.gt(sub.to_owned()))),
            );
        }
        query.load(c)
    })?;
    let subs: Vec<&str> = hits.iter().map(|(_, sub)| sub.as_str()).collect();
    let rows: Vec<UserRow> = users::table
        .filter(users::sub.eq_any(&subs))
        .select(UserRow::as_select())
        .load(conn)?;
    let mut by_sub: std::collections::HashMap<String, UserRow> =
        rows.into_iter().map(|r| (r.sub.clone(), r)).collect();
    hits.into_iter()
        .filter_map(|(key, sub)| by_sub.remove(&sub).map(|row| (key, row)))
        .map(|(key, row)| Ok((key, row.into_user()?)))
        .collect()
}

/// Writes back status, enabled flag, password hash and attributes (the username never changes).
pub fn update(conn: &mut AnyConnection, pool: &UserPool, user: &User) -> StoreResult<()> {
    crate::store::write_transaction(conn, |conn| {
        let row = UserRow::from_user(pool, user);
        let changed = diesel::update(
            users::table
                .find(&row.sub)
                .filter(users::pool_id.eq(&row.pool_id)),
        )
        .set((
            users::status.eq(&row.status),
            users::enabled.eq(row.enabled),
            users::password_hash.eq(&row.password_hash),
            users::srp_verifier.eq(&row.srp_verifier),
            users::attributes.eq(&row.attributes),
            users::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        sync_aliases(conn, pool, user)?;
        sync_search(conn, pool, user)
    })
}

/// Writes a new password's hash and SRP verifier, and nothing else: the user row read before
/// argon2 ran may be stale by now (an administrator may have disabled the user meanwhile).
pub fn set_password(
    conn: &mut AnyConnection,
    pool_id: &str,
    user: &User,
    now: i64,
) -> StoreResult<()> {
    let changed = diesel::update(
        users::table
            .find(user.sub.to_string())
            .filter(users::pool_id.eq(pool_id)),
    )
    .set((
        users::password_hash.eq(&user.password_hash),
        users::srp_verifier.eq(&user.srp_verifier),
        users::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Stores the SRP verifier of a user who has none yet (made at a password sign-in), touching
/// no other column.
pub fn store_verifier(
    conn: &mut AnyConnection,
    pool_id: &str,
    sub: &Uuid,
    verifier: &str,
) -> StoreResult<()> {
    diesel::update(
        users::table
            .find(sub.to_string())
            .filter(users::pool_id.eq(pool_id))
            .filter(users::srp_verifier.is_null()),
    )
    .set(users::srp_verifier.eq(verifier))
    .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut AnyConnection, pool_id: &str, sub: &Uuid) -> StoreResult<User> {
    let query = users::table
        .find(sub.to_string())
        .filter(users::pool_id.eq(pool_id));
    on_backend!(conn, |c| query
        .select(UserRow::as_select())
        .get_result(c)
        .optional())?
    .ok_or(StoreError::NotFound)?
    .into_user()
}

pub fn find_by_username(
    conn: &mut AnyConnection,
    pool: &UserPool,
    username: &str,
) -> StoreResult<Option<User>> {
    users::table
        .filter(users::pool_id.eq(pool.id.as_str()))
        .filter(users::username_key.eq(pool.settings.username_key(username)))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(UserRow::into_user)
        .transpose()
}

/// The user a sign-in name designates: the username first, then each alias the pool allows.
pub fn find_for_sign_in(
    conn: &mut AnyConnection,
    pool: &UserPool,
    login: &str,
) -> StoreResult<Option<User>> {
    if let Some(user) = find_by_username(conn, pool, login)? {
        return Ok(Some(user));
    }
    let settings = &pool.settings;
    for kind in settings
        .alias_attributes
        .iter()
        .chain(&settings.username_attributes)
    {
        let key = match kind.as_str() {
            "email" => login.to_lowercase(),
            "preferred_username" => pool.settings.username_key(login),
            _ => login.to_owned(),
        };
        let sub: Option<String> = user_aliases::table
            .find((pool.id.as_str(), kind.as_str(), key))
            .select(user_aliases::user_sub)
            .get_result(conn)
            .optional()?;
        if let Some(sub) = sub {
            let sub = Uuid::parse_str(&sub).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            return get(conn, pool.id.as_str(), &sub).map(Some);
        }
    }
    Ok(None)
}

/// The user holding an alias, if any.
pub fn alias_owner(
    conn: &mut AnyConnection,
    pool_id: &str,
    kind: &str,
    key: &str,
) -> StoreResult<Option<Uuid>> {
    let sub: Option<String> = user_aliases::table
        .find((pool_id, kind, key))
        .select(user_aliases::user_sub)
        .get_result(conn)
        .optional()?;
    sub.map(|s| Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// Removes the user from a group; `false` when they were not in it.
pub fn remove_from_group(
    conn: &mut AnyConnection,
    pool_id: &str,
    group: &str,
    sub: &Uuid,
) -> StoreResult<bool> {
    let deleted = diesel::delete(group_members::table.find((pool_id, group, sub.to_string())))
        .execute(conn)?;
    Ok(deleted > 0)
}

/// One page of a group's members, in `sub` order after `after`.
pub fn members_of(
    conn: &mut AnyConnection,
    pool_id: &str,
    group: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<User>> {
    let rows: Vec<UserRow> = on_backend!(conn, |c| {
        let mut query = users::table
            .inner_join(group_members::table.on(group_members::user_sub.eq(users::sub)))
            .filter(group_members::pool_id.eq(pool_id))
            .filter(group_members::group_name.eq(group))
            .order(users::sub)
            .limit(limit as i64)
            .select(UserRow::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(users::sub.gt(after.to_owned()));
        }
        query.load(c)
    })?;
    rows.into_iter().map(UserRow::into_user).collect()
}

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The pool's users whose email is `email` (case-insensitive) and verified: narrowed in the
/// database by a text match on the attributes, then checked one by one.
pub fn find_by_verified_email(
    conn: &mut AnyConnection,
    pool: &UserPool,
    email: &str,
) -> StoreResult<Vec<User>> {
    let needle = email.to_lowercase();
    if needle.is_empty() {
        return Ok(Vec::new());
    }
    let escaped: String = needle
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            other => vec![other],
        })
        .collect();
    let candidates: Vec<UserRow> = users::table
        .filter(users::pool_id.eq(pool.id.as_str()))
        .filter(
            lower(users::attributes)
                .like(format!("%{escaped}%"))
                .escape('\\'),
        )
        .select(UserRow::as_select())
        .limit(50)
        .load(conn)?;
    let mut found = Vec::new();
    for row in candidates {
        let user = row.into_user()?;
        let matches = user
            .attributes
            .get("email")
            .is_some_and(|e| e.to_lowercase() == needle)
            && user.attributes.is_verified("email");
        if matches {
            found.push(user);
        }
    }
    Ok(found)
}

pub fn count(conn: &mut AnyConnection, pool_id: &str) -> StoreResult<i64> {
    Ok(users::table
        .filter(users::pool_id.eq(pool_id))
        .count()
        .get_result(conn)?)
}

/// Adds the user to a group of its pool; adding twice is harmless.
pub fn add_to_group(
    conn: &mut AnyConnection,
    pool_id: &str,
    group: &str,
    sub: &Uuid,
) -> StoreResult<bool> {
    let sub = sub.to_string();
    let exists = group_members::table
        .find((pool_id, group, &sub))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(group_members::table)
        .values((
            group_members::pool_id.eq(pool_id),
            group_members::group_name.eq(group),
            group_members::user_sub.eq(&sub),
        ))
        .execute(conn)
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _,
            ) => StoreError::NotFound,
            other => StoreError::Database(other),
        })?;
    Ok(true)
}

/// Names of the user's groups, best precedence (lowest value) first, then by name.
pub fn groups_of(conn: &mut AnyConnection, pool_id: &str, sub: &Uuid) -> StoreResult<Vec<String>> {
    use super::schema::user_groups;
    let query = group_members::table
        .inner_join(
            user_groups::table.on(user_groups::pool_id
                .eq(group_members::pool_id)
                .and(user_groups::name.eq(group_members::group_name))),
        )
        .filter(group_members::pool_id.eq(pool_id))
        .filter(group_members::user_sub.eq(sub.to_string()))
        .select((user_groups::name, user_groups::precedence));
    let mut rows: Vec<(String, Option<i32>)> = on_backend!(conn, |c| query.load(c))?;
    rows.sort_by(|a, b| (a.1.is_none(), a.1, &a.0).cmp(&(b.1.is_none(), b.1, &b.0)));
    Ok(rows.into_iter().map(|(name, _)| name).collect())
}

/// Deletes a user and everything that is theirs: aliases, group memberships, codes, the
/// authenticator, linked identities and sessions; their token families are revoked (kept so
/// that tokens already issued are refused as revoked). `false` when there was no such user.
pub fn delete(conn: &mut AnyConnection, pool_id: &str, sub: &Uuid, now: i64) -> StoreResult<bool> {
    use super::schema::{user_codes, user_identities, user_mfa};
    let sub = sub.to_string();
    crate::store::write_transaction(conn, |conn| {
        super::grants::revoke_user(conn, pool_id, &sub, None, now)?;
        diesel::delete(user_aliases::table.filter(user_aliases::user_sub.eq(&sub)))
            .execute(conn)?;
        diesel::delete(
            group_members::table
                .filter(group_members::pool_id.eq(pool_id))
                .filter(group_members::user_sub.eq(&sub)),
        )
        .execute(conn)?;
        diesel::delete(
            user_codes::table
                .filter(user_codes::pool_id.eq(pool_id))
                .filter(user_codes::user_sub.eq(&sub)),
        )
        .execute(conn)?;
        diesel::delete(user_mfa::table.find((pool_id, &sub))).execute(conn)?;
        diesel::delete(
            user_identities::table
                .filter(user_identities::pool_id.eq(pool_id))
                .filter(user_identities::user_sub.eq(&sub)),
        )
        .execute(conn)?;
        let deleted = diesel::delete(users::table.find(&sub).filter(users::pool_id.eq(pool_id)))
            .execute(conn)?;
        Ok(deleted == 1)
    })
}

/// Writes a user's new hash and SRP verifier in place of `old` (an imported hash that has just
/// matched), touching no other column; `false` when the stored hash is no longer `old`.
pub fn replace_hash(
    conn: &mut AnyConnection,
    pool_id: &str,
    user: &User,
    old: &str,
) -> StoreResult<bool> {
    let changed = diesel::update(
        users::table
            .find(user.sub.to_string())
            .filter(users::pool_id.eq(pool_id))
            .filter(users::password_hash.eq(old)),
    )
    .set((
        users::password_hash.eq(&user.password_hash),
        users::srp_verifier.eq(&user.srp_verifier),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
