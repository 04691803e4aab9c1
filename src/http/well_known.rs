//! `/.well-known/openid-configuration` and `/.well-known/jwks.json` of a pool.
//!
//! OpenID Connect Discovery 1.0 §4 and RFC 7517 §5.

use super::pool::PoolSite;
use crate::http::AppState;
use crate::model::client::RESERVED_SCOPES;
use crate::oauth::OAuthError;
use crate::oauth::discovery;
use crate::store;
use crate::tokens::Jwks;
use actix_web::{HttpResponse, web};

pub async fn openid_configuration(
    state: web::Data<AppState>,
    site: PoolSite,
) -> Result<HttpResponse, OAuthError> {
    let pool_id = site.pool.id.to_string();
    let servers = state
        .store
        .run(move |conn| store::directory::list_resource_servers(conn, &pool_id))
        .await?;
    let scopes = RESERVED_SCOPES
        .iter()
        .map(|s| s.to_string())
        .chain([crate::oauth::scopes::OFFLINE_ACCESS.to_owned()])
        .chain(servers.iter().flat_map(|s| s.qualified_scopes()))
        .collect();
    let custom: Vec<&str> = (site.pool.settings.custom_attributes.iter())
        .map(|a| a.name.as_str())
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=60"))
        .json(discovery::metadata(&site.urls, scopes, &custom)))
}

pub async fn jwks(state: web::Data<AppState>, site: PoolSite) -> Result<HttpResponse, OAuthError> {
    let pool_id = site.pool.id.to_string();
    let keys = state
        .store
        .run(move |conn| store::keys::published(conn, &pool_id, store::now()))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(Jwks { keys }))
}
