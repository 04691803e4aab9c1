//! The access-token check of the self-service actions (`GetUser`, `ChangePassword`, …): the
//! pool comes from the token's `iss`; the token must verify, be an unexpired, unrevoked access
//! token with scope `aws.cognito.signin.user.admin`, and its user must exist and be enabled
//! (docs/api.md, "Self-service actions"; the same check as `/oauth2/userInfo`).

use super::{ApiError, Ctx};
use crate::flows::Site;
use crate::flows::userinfo::{AccessClaims, verify_access_token};
use crate::model::User;
use crate::store::{self, StoreError, grants};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use std::sync::Arc;

/// The scope Cognito's user actions require.
pub const ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// A verified access token, its pool and its user.
pub struct Authenticated {
    pub site: Site,
    pub user: User,
    pub claims: Arc<AccessClaims>,
}

#[derive(Deserialize)]
struct Unverified {
    iss: Option<String>,
    exp: Option<i64>,
    origin_jti: Option<String>,
}

/// The payload read without checking the signature: only to find the pool, and to word a
/// refusal once the real check has failed.
fn unverified(token: &str) -> Option<Unverified> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

fn invalid() -> ApiError {
    ApiError::not_authorized("Invalid Access Token")
}

/// The pool an issuer names: `{public_url}/{pool_id}` (through the directory cache), or a pool's
/// own domain.
fn pool_of_issuer(ctx: &mut Ctx, iss: &str) -> Result<Option<Site>, ApiError> {
    let url = url::Url::parse(iss).map_err(|_| invalid())?;
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("");
    if !last.is_empty() {
        return Ok(ctx.known_pool(last)?.map(|pool| ctx.site_of(pool)));
    }
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let pool = store::pools::find_by_domain(ctx.conn()?, &host)?;
    Ok(pool.map(|pool| ctx.site_of(pool)))
}

/// Checks an `AccessToken` member; Cognito's `NotAuthorizedException` wording for each failure.
pub fn authenticate(ctx: &mut Ctx, token: &str) -> Result<Authenticated, ApiError> {
    let peek = unverified(token).ok_or_else(invalid)?;
    let site =
        pool_of_issuer(ctx, peek.iss.as_deref().ok_or_else(invalid)?)?.ok_or_else(invalid)?;
    let (services, now) = (ctx.services, ctx.now);
    let conn = ctx.conn()?;
    let Some(claims) = verify_access_token(conn, services, &site, token, now)? else {
        if peek.exp.is_some_and(|exp| exp <= now) {
            return Err(ApiError::not_authorized("Access Token has expired"));
        }
        if let Some(family) = &peek.origin_jti
            && !grants::family_is_live(conn, site.pool_id(), family)?
        {
            return Err(ApiError::not_authorized("Access Token has been revoked"));
        }
        return Err(invalid());
    };
    if !claims.scopes().iter().any(|s| s == ADMIN_SCOPE) {
        return Err(ApiError::not_authorized(
            "Access Token does not have required scopes",
        ));
    }
    let sub = uuid::Uuid::parse_str(&claims.sub).map_err(|_| invalid())?;
    let user = match store::users::get(conn, site.pool_id(), &sub) {
        Ok(user) => user,
        Err(StoreError::NotFound) => return Err(ApiError::user_not_found()),
        Err(e) => return Err(e.into()),
    };
    if !user.enabled {
        return Err(ApiError::not_authorized("User is disabled."));
    }
    Ok(Authenticated { site, user, claims })
}
