//! POST /oauth2/introspect (RFC 7662) for confidential clients of the pool: access tokens of the
//! pool (signature, expiry, family: resource servers check tokens issued to other clients) and
//! the client's own refresh tokens (expiry, rotation, family).

use super::token::authenticate_client;
use super::userinfo::{enabled_user, verify_access_token};
use super::{Services, Site};
use crate::oauth::{OAuthError, Params};
use crate::secrets::SecretDigest;
use crate::store::AnyConnection;
use crate::store::grants;
use serde_json::{Map, Value, json};

pub fn introspect(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    authorization: Option<&str>,
    body: &Params,
    now: i64,
) -> Result<Map<String, Value>, OAuthError> {
    let token = body.require("token")?.to_owned();
    let (credentials, client) = authenticate_client(conn, services, site, authorization, body)?;
    if !client.is_confidential() {
        return Err(credentials.invalid("introspection is for confidential clients"));
    }
    let mut answer = Map::new();
    if let Some(claims) = verify_access_token(conn, services, site, &token, now)?
        // A user's token (it has a family) dies with the user; a client's token has no user.
        && (claims.origin_jti.is_none() || enabled_user(conn, site, &claims.sub)?.is_some())
    {
        answer.insert("active".into(), true.into());
        answer.insert("token_type".into(), "access_token".into());
        answer.insert("scope".into(), claims.scope.clone().into());
        answer.insert("client_id".into(), claims.client_id.clone().into());
        if let Some(username) = &claims.username {
            answer.insert("username".into(), username.clone().into());
        }
        answer.insert("sub".into(), claims.sub.clone().into());
        answer.insert("iss".into(), claims.iss.clone().into());
        answer.insert("exp".into(), claims.exp.into());
        answer.insert("iat".into(), claims.iat.into());
        answer.insert("jti".into(), claims.jti.clone().into());
        answer.insert("token_use".into(), "access".into());
        return Ok(answer);
    }
    let digest = SecretDigest::of(&token);
    if let Some(row) = grants::find_refresh(conn, site.pool_id(), digest.as_str())?
        && row.client_id == client.id.as_str()
        && row.expires_at > now
        && row.rotated_at.is_none()
        && grants::family_is_live(conn, site.pool_id(), &row.family_id)?
        && let Some(user) = enabled_user(conn, site, &row.user_sub)?
    {
        return Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": row.scopes,
            "client_id": row.client_id,
            "username": user.username,
            "sub": row.user_sub,
            "iss": site.urls.issuer,
            "exp": row.expires_at,
            "iat": row.created_at,
        })
        .as_object()
        .cloned()
        .unwrap_or_default());
    }
    answer.insert("active".into(), false.into());
    Ok(answer)
}
