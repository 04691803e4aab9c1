//! Groups, resource servers, identity providers (their secrets sealed: docs/deployment.md,
//! "Encryption key") and hosted-UI customizations of a pool.
//!
//! See docs/architecture.md.

use super::schema::{identity_providers, resource_servers, ui_customizations, user_groups};
use super::{AnyConnection, Saved, StoreError, StoreResult, from_json, now, to_json};
use crate::model::directory::ALL_CLIENTS;
use crate::model::{
    Group, IdentityProvider, PoolId, ProviderType, ResourceServer, UiCustomization,
};
use crate::sealing::{self, SEALED_PROVIDER_DETAILS, Sealer, purpose};
use diesel::prelude::*;
use std::collections::BTreeMap;

fn pool_id(value: &str) -> StoreResult<PoolId> {
    PoolId::parse(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

// ---- groups ----

type GroupRow = (String, String, Option<String>, Option<i32>, Option<String>);

fn group_from_row(row: GroupRow) -> StoreResult<Group> {
    Ok(Group {
        pool_id: pool_id(&row.0)?,
        name: row.1,
        description: row.2,
        precedence: row.3,
        role_arn: row.4,
    })
}

const GROUP_COLUMNS: (
    user_groups::pool_id,
    user_groups::name,
    user_groups::description,
    user_groups::precedence,
    user_groups::role_arn,
) = (
    user_groups::pool_id,
    user_groups::name,
    user_groups::description,
    user_groups::precedence,
    user_groups::role_arn,
);

pub fn list_groups(conn: &mut AnyConnection, pool: &str) -> StoreResult<Vec<Group>> {
    user_groups::table
        .filter(user_groups::pool_id.eq(pool))
        .order(user_groups::name)
        .select(GROUP_COLUMNS)
        .load::<GroupRow>(conn)?
        .into_iter()
        .map(group_from_row)
        .collect()
}

pub fn save_group(conn: &mut AnyConnection, group: &Group) -> StoreResult<Saved> {
    let key = (group.pool_id.as_str(), group.name.as_str());
    let existing: Option<GroupRow> = user_groups::table
        .find(key)
        .select(GROUP_COLUMNS)
        .get_result(conn)
        .optional()?;
    let existing = existing.map(group_from_row).transpose()?;
    let time = now();
    match existing {
        None => {
            diesel::insert_into(user_groups::table)
                .values((
                    user_groups::pool_id.eq(group.pool_id.as_str()),
                    user_groups::name.eq(&group.name),
                    user_groups::description.eq(&group.description),
                    user_groups::precedence.eq(group.precedence),
                    user_groups::role_arn.eq(&group.role_arn),
                    user_groups::created_at.eq(time),
                    user_groups::updated_at.eq(time),
                ))
                .execute(conn)?;
            Ok(Saved::Created)
        }
        Some(stored) if stored == *group => Ok(Saved::Unchanged),
        Some(_) => {
            diesel::update(user_groups::table.find(key))
                .set((
                    user_groups::description.eq(&group.description),
                    user_groups::precedence.eq(group.precedence),
                    user_groups::role_arn.eq(&group.role_arn),
                    user_groups::updated_at.eq(time),
                ))
                .execute(conn)?;
            Ok(Saved::Updated)
        }
    }
}

// ---- resource servers ----

pub fn list_resource_servers(
    conn: &mut AnyConnection,
    pool: &str,
) -> StoreResult<Vec<ResourceServer>> {
    resource_servers::table
        .filter(resource_servers::pool_id.eq(pool))
        .order(resource_servers::identifier)
        .select((
            resource_servers::pool_id,
            resource_servers::identifier,
            resource_servers::name,
            resource_servers::scopes,
        ))
        .load::<(String, String, String, String)>(conn)?
        .into_iter()
        .map(|(pool, identifier, name, scopes)| {
            Ok(ResourceServer {
                pool_id: pool_id(&pool)?,
                identifier,
                name,
                scopes: from_json(&scopes, "resource server scopes")?,
            })
        })
        .collect()
}

pub fn save_resource_server(
    conn: &mut AnyConnection,
    server: &ResourceServer,
) -> StoreResult<Saved> {
    let key = (server.pool_id.as_str(), server.identifier.as_str());
    let scopes = to_json(&server.scopes);
    let existing: Option<(String, String)> = resource_servers::table
        .find(key)
        .select((resource_servers::name, resource_servers::scopes))
        .get_result(conn)
        .optional()?;
    match existing {
        None => {
            diesel::insert_into(resource_servers::table)
                .values((
                    resource_servers::pool_id.eq(server.pool_id.as_str()),
                    resource_servers::identifier.eq(&server.identifier),
                    resource_servers::name.eq(&server.name),
                    resource_servers::scopes.eq(scopes),
                ))
                .execute(conn)?;
            Ok(Saved::Created)
        }
        Some((name, stored)) if name == server.name && stored == scopes => Ok(Saved::Unchanged),
        Some(_) => {
            diesel::update(resource_servers::table.find(key))
                .set((
                    resource_servers::name.eq(&server.name),
                    resource_servers::scopes.eq(scopes),
                ))
                .execute(conn)?;
            Ok(Saved::Updated)
        }
    }
}

// ---- identity providers ----

type ProviderRow = (String, String, String, String, String, String);

const PROVIDER_COLUMNS: (
    identity_providers::pool_id,
    identity_providers::name,
    identity_providers::provider_type,
    identity_providers::details,
    identity_providers::attribute_mapping,
    identity_providers::idp_identifiers,
) = (
    identity_providers::pool_id,
    identity_providers::name,
    identity_providers::provider_type,
    identity_providers::details,
    identity_providers::attribute_mapping,
    identity_providers::idp_identifiers,
);

fn provider_from_row(row: ProviderRow) -> StoreResult<IdentityProvider> {
    Ok(IdentityProvider {
        pool_id: pool_id(&row.0)?,
        name: row.1,
        provider_type: ProviderType::parse(&row.2)
            .ok_or_else(|| StoreError::Corrupt(format!("provider type {}", row.2)))?,
        details: from_json(&row.3, "provider details")?,
        attribute_mapping: from_json(&row.4, "attribute mapping")?,
        idp_identifiers: from_json(&row.5, "idp identifiers")?,
    })
}

/// The pool's identity providers with their secret details (`client_secret`, `private_key`)
/// opened. A detail that does not open (a key this server lacks) is left out, with a log line:
/// signing in through that provider fails, the rest of the pool works.
pub fn list_identity_providers(
    conn: &mut AnyConnection,
    sealer: &Sealer,
    pool: &str,
) -> StoreResult<Vec<IdentityProvider>> {
    let mut providers = list_identity_providers_sealed(conn, pool)?;
    for provider in &mut providers {
        open_details(sealer, provider);
    }
    Ok(providers)
}

/// The pool's identity providers as stored: secret details still sealed.
pub fn list_identity_providers_sealed(
    conn: &mut AnyConnection,
    pool: &str,
) -> StoreResult<Vec<IdentityProvider>> {
    identity_providers::table
        .filter(identity_providers::pool_id.eq(pool))
        .order(identity_providers::name)
        .select(PROVIDER_COLUMNS)
        .load::<ProviderRow>(conn)?
        .into_iter()
        .map(provider_from_row)
        .collect()
}

fn open_details(sealer: &Sealer, provider: &mut IdentityProvider) {
    for detail in SEALED_PROVIDER_DETAILS {
        let Some(value) = provider.details.get(detail) else {
            continue;
        };
        // A value stored before sealing reads as it is (a rotation seals it).
        if !sealing::is_sealed(value) {
            continue;
        }
        let purpose = purpose::provider(provider.pool_id.as_str(), &provider.name, detail);
        match sealer.open_string(&purpose, value) {
            Ok(clear) => {
                provider.details.insert(detail.to_owned(), clear);
            }
            Err(error) => {
                tracing::error!(
                    pool = %provider.pool_id, provider = %provider.name, detail, %error,
                    "an identity provider's secret does not open"
                );
                provider.details.remove(detail);
            }
        }
    }
}

/// `provider`'s details with the secret ones sealed; a stored value that is sealed by the
/// current key and opens to the same secret is kept, so an unchanged provider stays unchanged.
fn sealed_details(
    sealer: &Sealer,
    provider: &IdentityProvider,
    stored: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut details = provider.details.clone();
    for detail in SEALED_PROVIDER_DETAILS {
        let Some(clear) = details.get_mut(detail) else {
            continue;
        };
        let purpose = purpose::provider(provider.pool_id.as_str(), &provider.name, detail);
        let kept = stored.and_then(|s| s.get(detail)).filter(|sealed| {
            sealer.is_current(sealed)
                && sealer.open_string(&purpose, sealed).as_deref() == Ok(clear.as_str())
        });
        *clear = kept
            .cloned()
            .unwrap_or_else(|| sealer.seal_str(&purpose, clear));
    }
    details
}

/// Creates or updates a provider, its secret details sealed with `sealer`.
pub fn save_identity_provider(
    conn: &mut AnyConnection,
    sealer: &Sealer,
    provider: &IdentityProvider,
) -> StoreResult<Saved> {
    let key = (provider.pool_id.as_str(), provider.name.as_str());
    let existing: Option<ProviderRow> = identity_providers::table
        .find(key)
        .select(PROVIDER_COLUMNS)
        .get_result(conn)
        .optional()?;
    let existing = existing.map(provider_from_row).transpose()?;
    let details = sealed_details(sealer, provider, existing.as_ref().map(|e| &e.details));
    let values = (
        identity_providers::provider_type.eq(provider.provider_type.as_str()),
        identity_providers::details.eq(to_json(&details)),
        identity_providers::attribute_mapping.eq(to_json(&provider.attribute_mapping)),
        identity_providers::idp_identifiers.eq(to_json(&provider.idp_identifiers)),
    );
    match existing {
        None => {
            diesel::insert_into(identity_providers::table)
                .values((
                    identity_providers::pool_id.eq(provider.pool_id.as_str()),
                    identity_providers::name.eq(&provider.name),
                    values,
                ))
                .execute(conn)?;
            Ok(Saved::Created)
        }
        Some(stored)
            if stored.details == details
                && stored.provider_type == provider.provider_type
                && stored.attribute_mapping == provider.attribute_mapping
                && stored.idp_identifiers == provider.idp_identifiers =>
        {
            Ok(Saved::Unchanged)
        }
        Some(_) => {
            diesel::update(identity_providers::table.find(key))
                .set(values)
                .execute(conn)?;
            Ok(Saved::Updated)
        }
    }
}

// ---- hosted-UI customizations ----

type CustomizationRow = (String, String, Option<String>, Option<Vec<u8>>);

fn customization_from_row(row: CustomizationRow) -> StoreResult<UiCustomization> {
    Ok(UiCustomization {
        pool_id: pool_id(&row.0)?,
        client_id: row.1,
        css: row.2,
        logo: row.3,
    })
}

pub fn find_customization(
    conn: &mut AnyConnection,
    pool: &str,
    client_id: &str,
) -> StoreResult<Option<UiCustomization>> {
    ui_customizations::table
        .find((pool, client_id))
        .select((
            ui_customizations::pool_id,
            ui_customizations::client_id,
            ui_customizations::css,
            ui_customizations::logo,
        ))
        .get_result::<CustomizationRow>(conn)
        .optional()?
        .map(customization_from_row)
        .transpose()
}

/// The customization a client's pages use: its own if it has one (never mixed with `ALL`),
/// otherwise the pool-wide `ALL` one.
pub fn customization_for_client(
    conn: &mut AnyConnection,
    pool: &str,
    client_id: &str,
) -> StoreResult<Option<UiCustomization>> {
    match find_customization(conn, pool, client_id)? {
        Some(own) => Ok(Some(own)),
        None => find_customization(conn, pool, ALL_CLIENTS),
    }
}

pub fn save_customization(
    conn: &mut AnyConnection,
    customization: &UiCustomization,
) -> StoreResult<Saved> {
    let pool = customization.pool_id.as_str();
    let client = customization.client_id.as_str();
    let existing = find_customization(conn, pool, client)?;
    let values = (
        ui_customizations::css.eq(&customization.css),
        ui_customizations::logo.eq(&customization.logo),
        ui_customizations::updated_at.eq(now()),
    );
    match existing {
        None => {
            diesel::insert_into(ui_customizations::table)
                .values((
                    ui_customizations::pool_id.eq(pool),
                    ui_customizations::client_id.eq(client),
                    values,
                ))
                .execute(conn)?;
            Ok(Saved::Created)
        }
        Some(stored) if stored == *customization => Ok(Saved::Unchanged),
        Some(_) => {
            diesel::update(ui_customizations::table.find((pool, client)))
                .set(values)
                .execute(conn)?;
            Ok(Saved::Updated)
        }
    }
}
