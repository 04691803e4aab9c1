//! Re-sealing every stored secret under a new key, and the start-up check that the key opens
//! what is stored (docs/deployment.md, "Encryption key"). Rows are visited in batches, each
//! in its own transaction, and a value is replaced only if it is still the one read: a rotation
//! can run beside live servers and be run again; a value that does not open is reported and
//! left as it is.

use super::{Sealer, is_sealed, key_id, purpose};
use crate::store::schema::{app_clients, identity_providers, user_mfa};
use crate::store::{AnyConnection, StoreResult, write_transaction};
use diesel::prelude::*;
use std::collections::BTreeMap;

/// Rows per transaction.
const BATCH: i64 = 500;

// Declared here rather than in `store::schema`: the column belongs to the SRP work's migration
// (`2026-12-02-000000_srp_verifiers`), and a database without it has no verifiers to re-seal.
mod srp {
    diesel::table! {
        users (sub) {
            sub -> Text,
            pool_id -> Text,
            srp_verifier -> Nullable<Text>,
        }
    }
}

/// What a rotation did, per kind of secret.
#[derive(Debug, Default)]
pub struct Report {
    /// (kind, re-sealed) per kind.
    pub resealed: BTreeMap<&'static str, usize>,
    /// Already under the new key.
    pub current: usize,
    /// Values that did not open (kind, row, why): left untouched.
    pub failed: Vec<String>,
    /// Whether `users.srp_verifier` exists in this database.
    pub srp_column: bool,
}

enum Outcome {
    Current,
    Resealed(String),
    Failed(String),
}

/// `value` under `sealer`'s current key. Plain values (stored before sealing) are sealed when
/// `plain_allowed`.
fn reseal(sealer: &Sealer, purpose: &str, value: &str, plain_allowed: bool) -> Outcome {
    if sealer.is_current(value) {
        return Outcome::Current;
    }
    if !is_sealed(value) {
        return if plain_allowed {
            Outcome::Resealed(sealer.seal_str(purpose, value))
        } else {
            Outcome::Failed("the value is not sealed".into())
        };
    }
    match sealer.open(purpose, value) {
        Ok(clear) => Outcome::Resealed(sealer.seal(purpose, &clear)),
        Err(error) => Outcome::Failed(error.to_string()),
    }
}

impl Report {
    fn record(&mut self, kind: &'static str, row: &str, outcome: &Outcome) {
        match outcome {
            Outcome::Current => self.current += 1,
            Outcome::Resealed(_) => *self.resealed.entry(kind).or_default() += 1,
            Outcome::Failed(why) => self.failed.push(format!("{kind} {row}: {why}")),
        }
    }

    pub fn total(&self) -> usize {
        self.resealed.values().sum()
    }
}

/// Re-seals every sealed (or still plain) secret with `sealer`'s current key; `sealer` must
/// also hold the keys that sealed them (as older keys).
pub fn rotate(conn: &mut AnyConnection, sealer: &Sealer) -> StoreResult<Report> {
    let mut report = Report::default();
    clients(conn, sealer, &mut report)?;
    totp(conn, sealer, &mut report)?;
    providers(conn, sealer, &mut report)?;
    report.srp_column = has_srp_column(conn);
    if report.srp_column {
        srp_verifiers(conn, sealer, &mut report)?;
    }
    Ok(report)
}

fn clients(conn: &mut AnyConnection, sealer: &Sealer, report: &mut Report) -> StoreResult<()> {
    let mut after = String::new();
    loop {
        let rows: Vec<(String, Option<String>)> = app_clients::table
            .filter(app_clients::id.gt(&after))
            .filter(app_clients::secret_sealed.is_not_null())
            .order(app_clients::id)
            .limit(BATCH)
            .select((app_clients::id, app_clients::secret_sealed))
            .load(conn)?;
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        after = last.clone();
        write_transaction(conn, |conn| -> StoreResult<()> {
            for (id, value) in &rows {
                let value = value.as_deref().unwrap_or_default();
                let outcome = reseal(sealer, &purpose::client_secret(id), value, false);
                if let Outcome::Resealed(new) = &outcome {
                    diesel::update(app_clients::table.find(id))
                        .filter(app_clients::secret_sealed.eq(value))
                        .set(app_clients::secret_sealed.eq(new))
                        .execute(conn)?;
                }
                report.record("client secrets", &format!("client {id}"), &outcome);
            }
            Ok(())
        })?;
    }
}

fn totp(conn: &mut AnyConnection, sealer: &Sealer, report: &mut Report) -> StoreResult<()> {
    let (mut pool, mut sub) = (String::new(), String::new());
    loop {
        let rows: Vec<(String, String, Option<String>)> = user_mfa::table
            .filter(
                user_mfa::pool_id
                    .gt(&pool)
                    .or(user_mfa::pool_id.eq(&pool).and(user_mfa::user_sub.gt(&sub))),
            )
            .filter(user_mfa::totp_secret.is_not_null())
            .order((user_mfa::pool_id, user_mfa::user_sub))
            .limit(BATCH)
            .select((user_mfa::pool_id, user_mfa::user_sub, user_mfa::totp_secret))
            .load(conn)?;
        let Some((last_pool, last_sub, _)) = rows.last() else {
            return Ok(());
        };
        (pool, sub) = (last_pool.clone(), last_sub.clone());
        write_transaction(conn, |conn| -> StoreResult<()> {
            for (pool_id, user_sub, value) in &rows {
                let value = value.as_deref().unwrap_or_default();
                let outcome = reseal(sealer, &purpose::totp(pool_id, user_sub), value, true);
                if let Outcome::Resealed(new) = &outcome {
                    diesel::update(user_mfa::table.find((pool_id, user_sub)))
                        .filter(user_mfa::totp_secret.eq(value))
                        .set(user_mfa::totp_secret.eq(new))
                        .execute(conn)?;
                }
                let row = format!("user {user_sub} of {pool_id}");
                report.record("TOTP secrets", &row, &outcome);
            }
            Ok(())
        })?;
    }
}

fn providers(conn: &mut AnyConnection, sealer: &Sealer, report: &mut Report) -> StoreResult<()> {
    // A pool has a handful of providers: one transaction does.
    write_transaction(conn, |conn| -> StoreResult<()> {
        let rows: Vec<(String, String, String)> = identity_providers::table
            .order((identity_providers::pool_id, identity_providers::name))
            .select((
                identity_providers::pool_id,
                identity_providers::name,
                identity_providers::details,
            ))
            .load(conn)?;
        for (pool_id, name, text) in rows {
            let Ok(mut details) = serde_json::from_str::<BTreeMap<String, String>>(&text) else {
                report
                    .failed
                    .push(format!("provider {name} of {pool_id}: unreadable details"));
                continue;
            };
            let mut changed = false;
            for detail in super::SEALED_PROVIDER_DETAILS {
                let Some(value) = details.get_mut(detail) else {
                    continue;
                };
                let outcome = reseal(
                    sealer,
                    &purpose::provider(&pool_id, &name, detail),
                    value,
                    true,
                );
                if let Outcome::Resealed(new) = &outcome {
                    *value = new.clone();
                    changed = true;
                }
                let row = format!("provider {name} of {pool_id} ({detail})");
                report.record("identity provider secrets", &row, &outcome);
            }
            if changed {
                let new = serde_json::to_string(&details).expect("a map of strings serializes");
                diesel::update(identity_providers::table.find((&pool_id, &name)))
                    .filter(identity_providers::details.eq(&text))
                    .set(identity_providers::details.eq(new))
                    .execute(conn)?;
            }
        }
        Ok(())
    })
}

fn has_srp_column(conn: &mut AnyConnection) -> bool {
    srp::users::table
        .select(srp::users::srp_verifier)
        .limit(1)
        .load::<Option<String>>(conn)
        .is_ok()
}

fn srp_verifiers(
    conn: &mut AnyConnection,
    sealer: &Sealer,
    report: &mut Report,
) -> StoreResult<()> {
    use srp::users;
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, Option<String>)> = users::table
            .filter(users::sub.gt(&after))
            .filter(users::srp_verifier.is_not_null())
            .order(users::sub)
            .limit(BATCH)
            .select((users::sub, users::pool_id, users::srp_verifier))
            .load(conn)?;
        let Some((last, _, _)) = rows.last() else {
            return Ok(());
        };
        after = last.clone();
        write_transaction(conn, |conn| -> StoreResult<()> {
            for (sub, pool_id, value) in &rows {
                let value = value.as_deref().unwrap_or_default();
                let outcome = reseal(sealer, &purpose::srp(pool_id, sub), value, false);
                if let Outcome::Resealed(new) = &outcome {
                    diesel::update(users::table.find(sub))
                        .filter(users::srp_verifier.eq(value))
                        .set(users::srp_verifier.eq(new))
                        .execute(conn)?;
                }
                report.record(
                    "SRP verifiers",
                    &format!("user {sub} of {pool_id}"),
                    &outcome,
                );
            }
            Ok(())
        })?;
    }
}

diesel::define_sql_function!(fn substr(text: diesel::sql_types::Text, start: diesel::sql_types::Integer, length: diesel::sql_types::Integer) -> diesel::sql_types::Text);

/// The ids of the keys that sealed stored values but that `sealer` lacks: a server started with
/// the wrong key would fail every sign-in that reads one, so it refuses to start instead.
pub fn unknown_keys(conn: &mut AnyConnection, sealer: &Sealer) -> StoreResult<Vec<String>> {
    // "gh1:" then the 8-digit key id.
    let mut ids: Vec<String> = app_clients::table
        .filter(app_clients::secret_sealed.like("gh1:%"))
        .select(substr(app_clients::secret_sealed.assume_not_null(), 5, 8))
        .distinct()
        .load(conn)?;
    ids.extend(
        user_mfa::table
            .filter(user_mfa::totp_secret.like("gh1:%"))
            .select(substr(user_mfa::totp_secret.assume_not_null(), 5, 8))
            .distinct()
            .load::<String>(conn)?,
    );
    if has_srp_column(conn) {
        ids.extend(
            srp::users::table
                .filter(srp::users::srp_verifier.like("gh1:%"))
                .select(substr(srp::users::srp_verifier.assume_not_null(), 5, 8))
                .distinct()
                .load::<String>(conn)?,
        );
    }
    for text in identity_providers::table
        .select(identity_providers::details)
        .load::<String>(conn)?
    {
        let details: BTreeMap<String, String> = serde_json::from_str(&text).unwrap_or_default();
        ids.extend(
            super::SEALED_PROVIDER_DETAILS
                .iter()
                .filter_map(|d| details.get(*d).and_then(|v| key_id(v)))
                .map(str::to_owned),
        );
    }
    ids.sort();
    ids.dedup();
    ids.retain(|id| !sealer.knows(id));
    Ok(ids)
}
