//! The transactional outbox for email (the pattern described in docs/architecture.md, "Mail
//! goes through an outbox"): `enqueue` writes a message in the caller's transaction; the sender
//! (`mail::sender`) claims due messages under a lease, delivers them after the commit and
//! records the result. On PostgreSQL a claim skips rows another process has locked
//! (`FOR UPDATE SKIP LOCKED`); on SQLite claims are serialised by the write lock.

use super::schema::mail_outbox;
use super::{AnyConnection, StoreResult, write_transaction};
use crate::model::Email;
use crate::model::email::{HookMessage, Outgoing};
use diesel::prelude::*;

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
/// Given up on: too old to be of use (the code it carries has expired).
pub const FAILED: &str = "failed";

/// A message claimed for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub id: String,
    pub pool_id: String,
    pub message: Outgoing,
    /// Delivery attempts including this one.
    pub attempts: i32,
    pub created_at: i64,
}

/// Writes a message to be delivered after the surrounding transaction commits; returns its id.
pub fn enqueue(
    conn: &mut AnyConnection,
    pool_id: &str,
    email: &Email,
    now: i64,
) -> StoreResult<String> {
    insert(conn, pool_id, super::to_json(email), now)
}

/// Writes a message for a pool's sender hook, delivered like an email after the commit.
pub fn enqueue_hook(
    conn: &mut AnyConnection,
    pool_id: &str,
    hook: &HookMessage,
    now: i64,
) -> StoreResult<String> {
    let outgoing = Outgoing::Hook { hook: hook.clone() };
    insert(conn, pool_id, super::to_json(&outgoing), now)
}

fn insert(
    conn: &mut AnyConnection,
    pool_id: &str,
    message: String,
    now: i64,
) -> StoreResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::id.eq(&id),
            mail_outbox::pool_id.eq(pool_id),
            mail_outbox::message.eq(message),
            mail_outbox::status.eq(PENDING),
            mail_outbox::attempts.eq(0),
            mail_outbox::created_at.eq(now),
            mail_outbox::next_attempt_at.eq(now),
            mail_outbox::lease_owner.eq(None::<String>),
            mail_outbox::lease_until.eq(None::<i64>),
            mail_outbox::sent_at.eq(None::<i64>),
            mail_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Claims the message that has been due longest, for `lease_seconds`, counting the attempt.
/// `None` when nothing is due (or everything due is claimed by a live process).
pub fn claim(
    conn: &mut AnyConnection,
    owner: &str,
    now: i64,
    lease_seconds: i64,
) -> StoreResult<Option<Claimed>> {
    write_transaction(conn, |conn| {
        let due = mail_outbox::table
            .filter(mail_outbox::status.eq(PENDING))
            .filter(mail_outbox::next_attempt_at.le(now))
            .filter(
                mail_outbox::lease_until
                    .is_null()
                    .or(mail_outbox::lease_until.le(now)),
            )
            .order(mail_outbox::next_attempt_at)
            .select(mail_outbox::id)
            .limit(1);
        let id: Option<String> = match conn {
            // Rows another process is claiming right now are skipped, not waited for.
            AnyConnection::Postgresql(pg) => {
                due.for_update().skip_locked().get_result(pg).optional()?
            }
            AnyConnection::Sqlite(sqlite) => due.get_result(sqlite).optional()?,
        };
        let Some(id) = id else { return Ok(None) };
        let (pool_id, message, attempts, created_at): (String, String, i32, i64) =
            diesel::update(mail_outbox::table.find(&id))
                .set((
                    mail_outbox::lease_owner.eq(owner),
                    mail_outbox::lease_until.eq(now + lease_seconds),
                    mail_outbox::attempts.eq(mail_outbox::attempts + 1),
                ))
                .returning((
                    mail_outbox::pool_id,
                    mail_outbox::message,
                    mail_outbox::attempts,
                    mail_outbox::created_at,
                ))
                .get_result(conn)?;
        Ok(Some(Claimed {
            message: super::from_json(&message, "mail_outbox.message")?,
            id,
            pool_id,
            attempts,
            created_at,
        }))
    })
}

/// Records a delivery, and forgets the message's text: it carries a code or a temporary
/// password, which must not stay readable in the database once it has gone out.
pub fn mark_sent(conn: &mut AnyConnection, id: &str, now: i64) -> StoreResult<()> {
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq(SENT),
            mail_outbox::message.eq(""),
            mail_outbox::sent_at.eq(Some(now)),
            // The owner stays: it names the process that delivered it.
            mail_outbox::lease_until.eq(None::<i64>),
            mail_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: the message is due again at `retry_at`, or, with `None`, given up.
pub fn mark_failed(
    conn: &mut AnyConnection,
    id: &str,
    error: &str,
    retry_at: Option<i64>,
) -> StoreResult<()> {
    let status = if retry_at.is_some() { PENDING } else { FAILED };
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq(status),
            mail_outbox::next_attempt_at.eq(retry_at.unwrap_or(i64::MAX)),
            mail_outbox::lease_owner.eq(None::<String>),
            mail_outbox::lease_until.eq(None::<i64>),
            mail_outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Messages not yet delivered or given up on.
pub fn pending_count(conn: &mut AnyConnection) -> StoreResult<i64> {
    Ok(mail_outbox::table
        .filter(mail_outbox::status.eq(PENDING))
        .count()
        .get_result(conn)?)
}

/// One message's delivery state, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Delivery {
    pub id: String,
    pub status: String,
    pub attempts: i32,
    /// The process that claimed it last (and, once sent, delivered it).
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
}

/// Every message's delivery state, oldest first.
pub fn deliveries(conn: &mut AnyConnection) -> StoreResult<Vec<Delivery>> {
    Ok(mail_outbox::table
        .order((mail_outbox::created_at, mail_outbox::id))
        .select((
            mail_outbox::id,
            mail_outbox::status,
            mail_outbox::attempts,
            mail_outbox::lease_owner,
            mail_outbox::lease_until,
            mail_outbox::last_error,
        ))
        .load(conn)?)
}

/// Forgets delivered and abandoned messages older than `before`.
pub fn purge_finished(conn: &mut AnyConnection, before: i64) -> StoreResult<usize> {
    Ok(diesel::delete(
        mail_outbox::table
            .filter(mail_outbox::status.ne(PENDING))
            .filter(mail_outbox::created_at.lt(before)),
    )
    .execute(conn)?)
}
