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
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// Access tokens already verified (signature, issuer, use), by SHA-256 of the token, until
/// they expire: an app that sends the same token with every call costs a lookup instead of an
/// RSA verification. Revocation and the user are still read on every call, and the signing key
/// must still be published (the key ring re-reads that every minute).
#[derive(Clone, Default)]
pub struct VerifiedTokens {
    entries: Arc<Mutex<HashMap<[u8; 32], VerifiedToken>>>,
}

struct VerifiedToken {
    pool_id: String,
    kid: String,
    claims: Arc<AccessClaims>,
}

/// Entries kept before expired ones are dropped (and all of them, if that leaves over 3/4).
const VERIFIED_TOKENS_MAX: usize = 10_000;

impl VerifiedTokens {
    /// The claims and signing key id of a token verified before.
    fn get(&self, pool_id: &str, digest: &[u8; 32]) -> Option<(Arc<AccessClaims>, String)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(digest)
            .filter(|entry| entry.pool_id == pool_id)
            .map(|entry| (entry.claims.clone(), entry.kid.clone()))
    }

    fn insert(
        &self,
        pool_id: &str,
        kid: String,
        digest: [u8; 32],
        claims: Arc<AccessClaims>,
        now: i64,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= VERIFIED_TOKENS_MAX {
            // Down to three quarters at most, so that a full scan happens at most once per
            // 2,500 insertions even when most entries are still valid.
            entries.retain(|_, entry| entry.claims.exp > now);
            if entries.len() >= VERIFIED_TOKENS_MAX / 4 * 3 {
                entries.clear();
            }
        }
        let pool_id = pool_id.to_owned();
        entries.insert(
            digest,
            VerifiedToken {
                pool_id,
                kid,
                claims,
            },
        );
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
) -> Result<Option<Arc<AccessClaims>>, StoreError> {
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let cached = services
        .verified_tokens
        .get(site.pool_id(), &digest)
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
            services
                .verified_tokens
                .insert(site.pool_id(), kid, digest, claims.clone(), now);
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
    let user =
        enabled_user(conn, site, &claims.sub)?.ok_or_else(|| OAuthError::invalid_token(INVALID))?;
    let client = find_client(conn, services, site, &claims.client_id)?
        .ok_or_else(|| OAuthError::invalid_token(INVALID))?;
    let mut info = claims::user_claims(&user, &scopes, client.settings.read_attributes.as_deref());
    info.insert("sub".into(), user.sub.to_string().into());
    info.insert("username".into(), user.username.into());
    Ok(info)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Arc<AccessClaims> {
        Arc::new(AccessClaims {
            sub: "s".into(),
            client_id: "c".into(),
            token_use: "access".into(),
            scope: "openid".into(),
            exp,
            iat: 0,
            jti: "j".into(),
            origin_jti: None,
            username: None,
            iss: "https://issuer".into(),
        })
    }

    #[test]
    fn verified_tokens_answer_only_for_their_pool_and_stay_bounded() {
        let cache = VerifiedTokens::default();
        cache.insert("pool_a", "kid".into(), [1; 32], claims(100), 0);
        assert!(cache.get("pool_a", &[1; 32]).is_some());
        assert!(cache.get("pool_b", &[1; 32]).is_none());
        assert!(cache.get("pool_a", &[2; 32]).is_none());

        // Full: expired entries go first, live ones stay.
        for i in 0..VERIFIED_TOKENS_MAX {
            let mut digest = [0; 32];
            digest[..8].copy_from_slice(&(i as u64).to_le_bytes());
            cache.insert(
                "pool_a",
                "kid".into(),
                digest,
                claims(if i == 0 { 100 } else { 50 }),
                0,
            );
        }
        cache.insert("pool_a", "kid".into(), [9; 32], claims(100), 60);
        {
            let entries = cache.entries.lock().unwrap();
            assert!(entries.len() <= 3, "{}", entries.len());
            assert!(entries.contains_key(&[9; 32]));
        }

        // Full of valid entries: they all go, rather than one scan per insertion.
        for i in 0..VERIFIED_TOKENS_MAX {
            let mut digest = [7; 32];
            digest[..8].copy_from_slice(&(i as u64).to_le_bytes());
            cache.insert("pool_a", "kid".into(), digest, claims(1_000), 60);
        }
        cache.insert("pool_a", "kid".into(), [8; 32], claims(1_000), 60);
        let entries = cache.entries.lock().unwrap();
        assert!(entries.len() < VERIFIED_TOKENS_MAX / 4, "{}", entries.len());
        assert!(entries.contains_key(&[8; 32]));
    }
}
