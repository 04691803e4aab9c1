//! GET/POST /oauth2/userInfo (OIDC Core §5.3;
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/userinfo-endpoint.html>) and the
//! access-token check it shares with introspection.

use super::{Services, Site, find_client};
use crate::model::User;
use crate::oauth::{ErrorCode, OAuthError};
use crate::store::grants;
use crate::store::{self, AnyConnection, StoreError};
use crate::tokens::claims;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

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

/// Access tokens already verified, until they expire (`store::cache`). Revocation and the user
/// are still read on every call, and the signing key must still be published (the key ring
/// re-reads that every minute).
pub type VerifiedTokens = crate::store::cache::VerifiedTokens<AccessClaims>;

/// Verifies signature, issuer, expiry and use of an access token of the site's pool, and that
/// its family has not been revoked. Any failure is `None`.
pub fn verify_access_token(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    token: &str,
    now: i64,
) -> Result<Option<Arc<AccessClaims>>, StoreError> {
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let cached = services
        .verified_tokens
        .get(site.pool_id(), &digest, now)
        .filter(|(claims, _)| claims.iss == site.urls.issuer);
    let claims = match cached {
        Some((claims, kid)) => {
            if services
                .keys
                .verification_key(conn, site.pool_id(), &kid, now)?
                .is_none()
            {
                return Ok(None);
            }
            claims
        }
        None => {
            let claims: Option<AccessClaims> =
                services
                    .keys
                    .verify(conn, site.pool_id(), &site.urls.issuer, token, true, now)?;
            let Some(claims) = claims.filter(|c| c.token_use == "access") else {
                return Ok(None);
            };
            let Some(kid) = crate::tokens::verifier::rs256_kid(token) else {
                return Ok(None);
            };
            let claims = Arc::new(claims);
            let exp = claims.exp;
            services
                .verified_tokens
                .insert(site.pool_id(), &kid, digest, claims.clone(), exp, now);
            claims
        }
    };
    if claims.exp <= now {
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

/// A userInfo answer and the client whose (verified) token asked for it.
pub struct UserInfo {
    pub claims: Map<String, Value>,
    pub client_id: String,
}

pub fn user_info(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    token: &str,
    now: i64,
) -> Result<UserInfo, OAuthError> {
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
    let user =
        enabled_user(conn, site, &claims.sub)?.ok_or_else(|| OAuthError::invalid_token(INVALID))?;
    let client = find_client(conn, services, site, &claims.client_id)?
        .ok_or_else(|| OAuthError::invalid_token(INVALID))?;
    let mut info = claims::user_claims(&user, &scopes, client.settings.read_attributes.as_deref());
    info.insert("sub".into(), user.sub.to_string().into());
    info.insert("username".into(), user.username.into());
    Ok(UserInfo {
        claims: info,
        client_id: client.id.as_str().to_owned(),
    })
}

/// The user named by a token's `sub`, if it still exists and is enabled: tokens of a deleted
/// or disabled user stop working at userInfo and introspection.
pub(crate) fn enabled_user(
    conn: &mut AnyConnection,
    site: &Site,
    sub: &str,
) -> Result<Option<User>, OAuthError> {
    let Ok(sub) = uuid::Uuid::parse_str(sub) else {
        return Ok(None);
    };
    match store::users::get(conn, site.pool_id(), &sub) {
        Ok(user) => Ok(Some(user).filter(|u| u.enabled)),
        Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}
