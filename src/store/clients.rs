//! App clients. Secrets are stored as digests (what `/oauth2/token` checks) and, for
//! `SECRET_HASH`, sealed with the operator's key (docs/deployment.md, "Encryption key").
//!
//! See docs/architecture.md.

use super::schema::app_clients;
use super::{AnyConnection, Saved, StoreError, StoreResult, from_json, now, to_json};
use crate::model::{AppClient, ClientId, PoolId};
use crate::secrets::SecretDigest;
use diesel::prelude::*;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = app_clients)]
struct ClientRow {
    id: String,
    pool_id: String,
    name: String,
    secret_digest: Option<String>,
    settings: String,
    created_at: i64,
    updated_at: i64,
    secret_sealed: Option<String>,
}

impl ClientRow {
    fn into_client(self) -> StoreResult<AppClient> {
        let corrupt = |e: crate::model::ids::IdError| StoreError::Corrupt(e.to_string());
        Ok(AppClient {
            id: ClientId::parse(&self.id).map_err(corrupt)?,
            pool_id: PoolId::parse(&self.pool_id).map_err(corrupt)?,
            name: self.name,
            secret: self.secret_digest.map(SecretDigest::from_stored),
            sealed_secret: self.secret_sealed,
            settings: from_json(&self.settings, "client settings")?,
        })
    }
}

/// A client of `pool_id`; a client of another pool is not found.
pub fn get(conn: &mut AnyConnection, pool_id: &str, id: &str) -> StoreResult<AppClient> {
    app_clients::table
        .find(id)
        .filter(app_clients::pool_id.eq(pool_id))
        .select(ClientRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?
        .into_client()
}

/// A client by id alone (ids are unique across pools), for API calls that name only a client.
pub fn find_by_id(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<AppClient>> {
    app_clients::table
        .find(id)
        .select(ClientRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ClientRow::into_client)
        .transpose()
}

pub fn find_by_name(
    conn: &mut AnyConnection,
    pool_id: &str,
    name: &str,
) -> StoreResult<Option<AppClient>> {
    app_clients::table
        .filter(app_clients::pool_id.eq(pool_id))
        .filter(app_clients::name.eq(name))
        .order(app_clients::created_at)
        .select(ClientRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ClientRow::into_client)
        .transpose()
}

pub fn list(conn: &mut AnyConnection, pool_id: &str) -> StoreResult<Vec<AppClient>> {
    app_clients::table
        .filter(app_clients::pool_id.eq(pool_id))
        .order(app_clients::id)
        .select(ClientRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ClientRow::into_client)
        .collect()
}

/// Creates the client, or updates it when it differs. A client id belongs to one pool for good.
pub fn save(conn: &mut AnyConnection, client: &AppClient) -> StoreResult<Saved> {
    let settings = to_json(&client.settings);
    let secret = client.secret.as_ref().map(|d| d.as_str().to_owned());
    let existing = app_clients::table
        .find(client.id.as_str())
        .select(ClientRow::as_select())
        .get_result(conn)
        .optional()?;
    let time = now();
    match existing {
        None => {
            diesel::insert_into(app_clients::table)
                .values(ClientRow {
                    id: client.id.to_string(),
                    pool_id: client.pool_id.to_string(),
                    name: client.name.clone(),
                    secret_digest: secret,
                    settings,
                    created_at: time,
                    updated_at: time,
                    secret_sealed: client.sealed_secret.clone(),
                })
                .execute(conn)
                .map_err(|e| StoreError::from_write(e, format!("client {}", client.id)))?;
            Ok(Saved::Created)
        }
        Some(row) if row.pool_id != client.pool_id.as_str() => Err(StoreError::Conflict(format!(
            "client {} belongs to pool {}",
            client.id, row.pool_id
        ))),
        Some(row)
            if row.name == client.name
                && row.secret_digest == secret
                && row.secret_sealed == client.sealed_secret
                && row.settings == settings =>
        {
            Ok(Saved::Unchanged)
        }
        Some(_) => {
            diesel::update(app_clients::table.find(client.id.as_str()))
                .set((
                    app_clients::name.eq(&client.name),
                    app_clients::secret_digest.eq(secret),
                    app_clients::secret_sealed.eq(&client.sealed_secret),
                    app_clients::settings.eq(settings),
                    app_clients::updated_at.eq(time),
                ))
                .execute(conn)?;
            Ok(Saved::Updated)
        }
    }
}
