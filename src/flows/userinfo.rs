//! GET/POST /oauth2/userInfo (OIDC Core §5.3; hosted-ui-and-oauth.md §7.3) and the access-token
//! check it shares with introspection.

use super::{Services, Site, find_client};
use crate::model::User;
use crate::oauth::{ErrorCode, OAuthError};
use crate::store::grants;
use crate::store::{self, AnyConnection, StoreError};
use crate::tokens::claims;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The claims of an access token this pool issued, once verified.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub client_id: String,
    pub token_use: String,
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub origin_jti: Option<String>,
    pub username: Option<String>,
    pub iss: String,
}

impl AccessClaims {
    pub fn scopes(&self) -> Vec<String> {
        self.scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }
}

/// Verifies signature, issuer, expiry and use of an access token of the site's pool, and that
/// its family has not been revoked. Any failure is `None`.
pub fn verify_access_token(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    token: &str,
    now: i64,
) -> Result<Option<AccessClaims>, StoreError> {
    let claims: Option<AccessClaims> =
        services
            .keys
            .verify(conn, site.pool_id(), &site.urls.issuer, token, true, now)?;
    let Some(claims) = claims else {
        return Ok(None);
    };
    if claims.token_use != "access" || claims.exp <= now {
        return Ok(None);
    }
    if let Some(family) = &claims.origin_jti
        && !grants::family_is_live(conn, site.pool_id(), family)?
    {
        return Ok(None);
    }
    Ok(Some(claims))
}

const INVALID: &str =
    "Access token is expired, disabled, or deleted, or the user has globally signed out.";

pub fn user_info(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    token: &str,
    now: i64,
) -> Result<Map<String, Value>, OAuthError> {
    let claims = verify_access_token(conn, services, site, token, now)?
        .ok_or_else(|| OAuthError::invalid_token(INVALID))?;
    // Client-credentials tokens have no family and no user.
    if claims.origin_jti.is_none() {
        return Err(OAuthError::invalid_token(
            "the access token does not belong to a user",
        ));
    }
    let scopes = claims.scopes();
    if !scopes
        .iter()
        .any(|s| s == "openid" || s == "aws.cognito.signin.user.admin")
    {
        return Err(OAuthError::new(
            ErrorCode::InsufficientScope,
            "the access token needs the openid scope",
        ));
    }
    let user: User = uuid::Uuid::parse_str(&claims.sub)
        .ok()
        .map(|sub| store::users::get(conn, site.pool_id(), &sub))
        .transpose()
        .or_else(|e| match e {
            StoreError::NotFound => Ok(None),
            other => Err(other),
        })?
        .filter(|u| u.enabled)
        .ok_or_else(|| OAuthError::invalid_token(INVALID))?;
    let client = find_client(conn, services, site, &claims.client_id)?
        .ok_or_else(|| OAuthError::invalid_token(INVALID))?;
    let mut info = claims::user_claims(&user, &scopes, client.settings.read_attributes.as_deref());
    info.insert("sub".into(), user.sub.to_string().into());
    info.insert("username".into(), user.username.into());
    Ok(info)
}
