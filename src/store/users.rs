//! Users, their sign-in aliases and their group memberships.
//!
//! Aliases
//! (<https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html>)
//! live in their own table so that the database enforces that a verified email, a verified phone
//! number or a preferred username signs in one user only.

use super::schema::{group_members, user_aliases, users};
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

/// Inserts a new user; a taken username or alias is a `Conflict`.
pub fn create(conn: &mut AnyConnection, pool: &UserPool, user: &User) -> StoreResult<()> {
    crate::store::write_transaction(conn, |conn| {
        diesel::insert_into(users::table)
            .values(UserRow::from_user(pool, user))
            .execute(conn)
            .map_err(|e| StoreError::from_write(e, format!("username {}", user.username)))?;
        sync_aliases(conn, pool, user)
    })
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
        sync_aliases(conn, pool, user)
    })
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
