//! Protocol state: browser sessions, authorization codes, token families and refresh tokens.
//! Single use is enforced here, by conditional UPDATEs, so it holds across processes.
//!
//! Codes: RFC 6749 §4.1.2; refresh tokens: RFC 6749 §6, RFC 9700 §4.14.

use super::schema::{authorization_codes, refresh_tokens, sessions, token_families};
use super::{AnyConnection, StoreResult, on_backend};
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Nullable, Text};

// ---- sessions ----

pub const SESSION_ACTIVE: &str = "active";
pub const SESSION_NEW_PASSWORD: &str = "new_password";
/// The password was right; a TOTP code is still to come.
pub const SESSION_MFA: &str = "mfa";
/// The password was right; the pool requires an authenticator the user has yet to set up.
pub const SESSION_MFA_SETUP: &str = "mfa_setup";
/// The browser that signed up, until the code confirms the account.
pub const SESSION_SIGNUP: &str = "signup";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id_digest: String,
    pub pool_id: String,
    pub user_sub: String,
    pub kind: String,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

pub fn create_session(conn: &mut AnyConnection, session: &SessionRow) -> StoreResult<()> {
    diesel::insert_into(sessions::table)
        .values(session)
        .execute(conn)?;
    Ok(())
}

/// The unexpired session of `pool_id` with this id digest.
pub fn find_session(
    conn: &mut AnyConnection,
    pool_id: &str,
    id_digest: &str,
    now: i64,
) -> StoreResult<Option<SessionRow>> {
    let query = sessions::table
        .find(id_digest)
        .filter(sessions::pool_id.eq(pool_id))
        .filter(sessions::expires_at.gt(now));
    Ok(on_backend!(conn, |c| query
        .select(SessionRow::as_select())
        .get_result(c)
        .optional())?)
}

/// A pending session becomes a signed-in one, authenticated at `auth_time`.
pub fn activate_session(
    conn: &mut AnyConnection,
    id_digest: &str,
    auth_time: i64,
    expires_at: i64,
) -> StoreResult<()> {
    diesel::update(sessions::table.find(id_digest))
        .set((
            sessions::kind.eq(SESSION_ACTIVE),
            sessions::auth_time.eq(auth_time),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn delete_session(conn: &mut AnyConnection, id_digest: &str) -> StoreResult<()> {
    diesel::delete(sessions::table.find(id_digest)).execute(conn)?;
    Ok(())
}

// ---- token families ----

pub fn create_family(
    conn: &mut AnyConnection,
    id: &str,
    pool_id: &str,
    client_id: &str,
    user_sub: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    let insert = diesel::insert_into(token_families::table).values((
        token_families::id.eq(id),
        token_families::pool_id.eq(pool_id),
        token_families::client_id.eq(client_id),
        token_families::user_sub.eq(user_sub),
        token_families::created_at.eq(now),
    ));
    on_backend!(conn, |c| insert.execute(c))?;
    Ok(())
}

/// Whether the family is live: it exists, belongs to the pool and is not revoked.
pub fn family_is_live(conn: &mut AnyConnection, pool_id: &str, id: &str) -> StoreResult<bool> {
    let query = token_families::table
        .find(id)
        .filter(token_families::pool_id.eq(pool_id))
        .select(token_families::revoked_at);
    let revoked: Option<Option<i64>> = on_backend!(conn, |c| query.get_result(c).optional())?;
    Ok(matches!(revoked, Some(None)))
}

pub fn revoke_family(conn: &mut AnyConnection, id: &str, now: i64) -> StoreResult<()> {
    diesel::update(
        token_families::table
            .find(id)
            .filter(token_families::revoked_at.is_null()),
    )
    .set(token_families::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Signs a user out everywhere after a password change or reset (OWASP ASVS 3.3.3): revokes
/// every live token family of theirs, which kills their refresh tokens and the access tokens
/// issued with them, and ends their browser sessions but `keep` (the digest of the session that
/// made the change). Returns (families, sessions) ended.
pub fn revoke_user(
    conn: &mut AnyConnection,
    pool_id: &str,
    user_sub: &str,
    keep: Option<&str>,
    now: i64,
) -> StoreResult<(usize, usize)> {
    let families = diesel::update(
        token_families::table
            .filter(token_families::pool_id.eq(pool_id))
            .filter(token_families::user_sub.eq(user_sub))
            .filter(token_families::revoked_at.is_null()),
    )
    .set(token_families::revoked_at.eq(now))
    .execute(conn)?;
    let sessions = diesel::delete(
        sessions::table
            .filter(sessions::pool_id.eq(pool_id))
            .filter(sessions::user_sub.eq(user_sub))
            .filter(sessions::id_digest.ne(keep.unwrap_or(""))),
    )
    .execute(conn)?;
    Ok((families, sessions))
}

// ---- authorization codes ----

// None binds NULL instead of leaving the column out, so the INSERT is one cached statement.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes, treat_none_as_default_value = false)]
pub struct CodeRow {
    pub code_digest: String,
    pub pool_id: String,
    pub client_id: String,
    pub user_sub: String,
    pub redirect_uri: String,
    pub scopes: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub redeemed_at: Option<i64>,
    pub family_id: Option<String>,
}

pub fn insert_code(conn: &mut AnyConnection, code: &CodeRow) -> StoreResult<()> {
    let insert = diesel::insert_into(authorization_codes::table).values(code);
    on_backend!(conn, |c| insert.execute(c))?;
    Ok(())
}

pub enum Redemption {
    /// This call redeemed the code; the row as it was issued.
    Redeemed(Box<CodeRow>),
    /// The code had been redeemed before: the family it produced must be revoked.
    Replayed {
        family_id: Option<String>,
    },
    Unknown,
}

/// Redeems a code of `pool_id` exactly once: one conditional UPDATE is the gate, so of any
/// number of concurrent attempts only one succeeds. The new family id is recorded on the code.
pub fn redeem_code(
    conn: &mut AnyConnection,
    pool_id: &str,
    code_digest: &str,
    family_id: &str,
    now: i64,
) -> StoreResult<Redemption> {
    // The happy path is one statement: the conditional UPDATE returns the row it won.
    let redeem = RedeemCode {
        code_digest,
        pool_id,
        family_id,
        now,
    };
    let won: Option<CodeRow> = on_backend!(conn, |c| redeem.get_result(c).optional())?;
    if let Some(row) = won {
        return Ok(Redemption::Redeemed(Box::new(row)));
    }
    let replayed: Option<Option<String>> = authorization_codes::table
        .find(code_digest)
        .filter(authorization_codes::pool_id.eq(pool_id))
        .select(authorization_codes::family_id)
        .get_result(conn)
        .optional()?;
    Ok(match replayed {
        Some(family_id) => Redemption::Replayed { family_id },
        None => Redemption::Unknown,
    })
}

/// The redeeming UPDATE, written out: diesel compiles every `UPDATE` afresh (it never caches
/// one), and this one runs for every code exchange. The same SQL serves both backends.
struct RedeemCode<'a> {
    code_digest: &'a str,
    pool_id: &'a str,
    family_id: &'a str,
    now: i64,
}

impl<DB> QueryFragment<DB> for RedeemCode<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt>,
    str: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE authorization_codes SET redeemed_at = ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(", family_id = ");
        out.push_bind_param::<Text, _>(self.family_id)?;
        out.push_sql(" WHERE code_digest = ");
        out.push_bind_param::<Text, _>(self.code_digest)?;
        out.push_sql(" AND pool_id = ");
        out.push_bind_param::<Text, _>(self.pool_id)?;
        out.push_sql(
            " AND redeemed_at IS NULL RETURNING code_digest, pool_id, client_id, user_sub, \
             redirect_uri, scopes, nonce, code_challenge, auth_time, created_at, expires_at, \
             redeemed_at, family_id",
        );
        Ok(())
    }
}

impl Query for RedeemCode<'_> {
    type SqlType = (
        Text,
        Text,
        Text,
        Text,
        Text,
        Text,
        Nullable<Text>,
        Nullable<Text>,
        BigInt,
        BigInt,
        BigInt,
        Nullable<BigInt>,
        Nullable<Text>,
    );
}

impl<Conn> RunQueryDsl<Conn> for RedeemCode<'_> {}

// A static id: the statement is prepared once per connection and cached.
impl QueryId for RedeemCode<'_> {
    type QueryId = RedeemCode<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

// ---- refresh tokens ----

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens, treat_none_as_default_value = false)]
pub struct RefreshRow {
    pub token_digest: String,
    pub family_id: String,
    pub pool_id: String,
    pub client_id: String,
    pub user_sub: String,
    pub scopes: String,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
}

pub fn insert_refresh(conn: &mut AnyConnection, token: &RefreshRow) -> StoreResult<()> {
    let insert = diesel::insert_into(refresh_tokens::table).values(token);
    on_backend!(conn, |c| insert.execute(c))?;
    Ok(())
}

pub fn find_refresh(
    conn: &mut AnyConnection,
    pool_id: &str,
    token_digest: &str,
) -> StoreResult<Option<RefreshRow>> {
    let query = refresh_tokens::table
        .find(token_digest)
        .filter(refresh_tokens::pool_id.eq(pool_id));
    Ok(on_backend!(conn, |c| query
        .select(RefreshRow::as_select())
        .get_result(c)
        .optional())?)
}

/// Rotates a refresh token: marks it used and returns it, if it is one of `pool_id`'s, issued to
/// `client_id`, unexpired, not used before, and its family is live. One conditional UPDATE is
/// the gate, so of concurrent uses only one wins. `None` when any condition fails: the caller
/// reads the token again to tell which.
pub fn rotate_refresh(
    conn: &mut AnyConnection,
    rotation: Rotation,
) -> StoreResult<Option<RefreshRow>> {
    Ok(on_backend!(conn, |c| rotation.get_result(c).optional())?)
}

/// The rotating UPDATE, written out for the same reason as `RedeemCode`.
pub struct Rotation<'a> {
    pub pool_id: &'a str,
    pub client_id: &'a str,
    pub token_digest: &'a str,
    pub now: i64,
}

impl<DB> QueryFragment<DB> for Rotation<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt>,
    str: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE refresh_tokens SET rotated_at = ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" WHERE token_digest = ");
        out.push_bind_param::<Text, _>(self.token_digest)?;
        out.push_sql(" AND pool_id = ");
        out.push_bind_param::<Text, _>(self.pool_id)?;
        out.push_sql(" AND client_id = ");
        out.push_bind_param::<Text, _>(self.client_id)?;
        out.push_sql(" AND expires_at > ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(
            " AND rotated_at IS NULL AND EXISTS (SELECT 1 FROM token_families \
             WHERE token_families.id = refresh_tokens.family_id \
             AND token_families.revoked_at IS NULL) \
             RETURNING token_digest, family_id, pool_id, client_id, user_sub, scopes, \
             auth_time, created_at, expires_at, rotated_at",
        );
        Ok(())
    }
}

impl Query for Rotation<'_> {
    type SqlType = (
        Text,
        Text,
        Text,
        Text,
        Text,
        Text,
        BigInt,
        BigInt,
        BigInt,
        Nullable<BigInt>,
    );
}

impl<Conn> RunQueryDsl<Conn> for Rotation<'_> {}

impl QueryId for Rotation<'_> {
    type QueryId = Rotation<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// Deletes protocol state nobody can use any more: sessions past their end, codes and refresh
/// tokens expired for over a day (kept that long so a late replay is still recognised), and
/// families with no refresh token left that ended (revoked, or last used) over a day ago.
pub fn purge_expired(conn: &mut AnyConnection, now: i64) -> StoreResult<usize> {
    let day_ago = now - 86_400;
    let mut purged =
        diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?;
    purged += diesel::delete(
        authorization_codes::table.filter(authorization_codes::expires_at.lt(day_ago)),
    )
    .execute(conn)?;
    purged += diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(day_ago)))
        .execute(conn)?;
    let families_in_use = refresh_tokens::table.select(refresh_tokens::family_id);
    purged += diesel::delete(
        token_families::table
            .filter(token_families::created_at.lt(day_ago))
            .filter(token_families::id.ne_all(families_in_use)),
    )
    .execute(conn)?;
    purged += diesel::delete(
        super::schema::sign_in_failures::table
            .filter(super::schema::sign_in_failures::locked_until.lt(day_ago)),
    )
    .execute(conn)?;
    purged += super::codes::purge_expired(conn, now)?;
    purged += super::federation::purge_expired(conn, now)?;
    purged += super::api_sessions::purge_expired(conn, now)?;
    Ok(purged)
}
