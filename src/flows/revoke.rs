//! POST /oauth2/revoke (RFC 7009; Cognito's revocation endpoint): revoking a refresh token
//! revokes its family, so the access and ID tokens issued from the same sign-in stop working at
//! userInfo and introspection. Unknown tokens are not an error (RFC 7009 §2.2).

use super::token::authenticate_client;
use super::{Services, Site};
use crate::model::AppClient;
use crate::oauth::{OAuthError, Params};
use crate::secrets::SecretDigest;
use crate::store::AnyConnection;
use crate::store::grants;

pub fn revoke(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    authorization: Option<&str>,
    body: &Params,
    now: i64,
) -> Result<(), OAuthError> {
    let token = body.require("token")?.to_owned();
    let (_, client) = authenticate_client(conn, services, site, authorization, body)?;
    revoke_refresh(conn, site, &client, &token, now)
}

/// Revokes the family of `client`'s refresh token `token` (unknown tokens are ignored), for
/// `/oauth2/revoke` and the API's `RevokeToken` alike.
pub fn revoke_refresh(
    conn: &mut AnyConnection,
    site: &Site,
    client: &AppClient,
    token: &str,
    now: i64,
) -> Result<(), OAuthError> {
    if !client.settings.enable_token_revocation {
        return Err(OAuthError::unauthorized_client(
            "token revocation is disabled for this client",
        ));
    }
    let digest = SecretDigest::of(token);
    if let Some(row) = grants::find_refresh(conn, site.pool_id(), digest.as_str())?
        && row.client_id == client.id.as_str()
    {
        grants::revoke_family(conn, &row.family_id, now)?;
    }
    Ok(())
}
