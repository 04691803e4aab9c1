//! The end of a successful authorization: a code (query) or tokens (fragment) for the
//! redirect URI (RFC 6749 §4.1.2, §4.2.2; OIDC Core §3.2.2.5).

use super::{CODE_SECONDS, Services, Site, internal, new_jti};
use crate::model::{AppClient, User};
use crate::oauth::OAuthError;
use crate::oauth::authorize::{AuthorizationRequest, ResponseType};
use crate::oauth::params::redirect_with;
use crate::secrets::{self, SecretDigest};
use crate::store::grants::{self, CodeRow};
use crate::store::{self, AnyConnection};
use crate::tokens::claims::{self, UserTokenContext};

/// Issues what the request asked for and returns the redirect location.
#[allow(clippy::too_many_arguments)]
pub fn complete(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    client: &AppClient,
    request: &AuthorizationRequest,
    user: &User,
    auth_time: i64,
    now: i64,
) -> Result<String, OAuthError> {
    let state = request.state.as_deref();
    match request.response_type {
        ResponseType::Code => {
            let code = secrets::random_token(32);
            grants::insert_code(
                conn,
                &CodeRow {
                    code_digest: SecretDigest::of(&code).as_str().to_owned(),
                    pool_id: site.pool_id().to_owned(),
                    client_id: client.id.to_string(),
                    user_sub: user.sub.to_string(),
                    redirect_uri: request.redirect_uri.clone(),
                    scopes: request.scopes.join(" "),
                    nonce: request.nonce.clone(),
                    code_challenge: request.code_challenge.clone(),
                    auth_time,
                    created_at: now,
                    expires_at: now + CODE_SECONDS,
                    redeemed_at: None,
                    family_id: None,
                },
            )?;
            let mut params = vec![("code", code.as_str())];
            params.extend(state.map(|s| ("state", s)));
            Ok(redirect_with(&request.redirect_uri, &params, false))
        }
        ResponseType::Token => {
            let family = new_jti();
            grants::create_family(
                conn,
                &family,
                site.pool_id(),
                client.id.as_str(),
                Some(&user.sub.to_string()),
                now,
            )?;
            let tokens = user_tokens(
                conn,
                services,
                site,
                client,
                user,
                &request.scopes,
                auth_time,
                &family,
                request.nonce.as_deref(),
                now,
            )?;
            let expires_in = tokens.expires_in.to_string();
            let mut params = vec![("access_token", tokens.access_token.as_str())];
            if let Some(id_token) = &tokens.id_token {
                params.push(("id_token", id_token));
            }
            params.push(("token_type", "Bearer"));
            params.push(("expires_in", &expires_in));
            params.extend(state.map(|s| ("state", s)));
            Ok(redirect_with(&request.redirect_uri, &params, true))
        }
    }
}

/// Like `complete`, but a failure becomes an error redirect to the client.
#[allow(clippy::too_many_arguments)]
pub fn location(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    client: &AppClient,
    request: &AuthorizationRequest,
    user: &User,
    auth_time: i64,
    now: i64,
) -> String {
    complete(conn, services, site, client, request, user, auth_time, now).unwrap_or_else(|error| {
        crate::oauth::authorize::ErrorRedirect {
            redirect_uri: request.redirect_uri.clone(),
            fragment: request.response_type == ResponseType::Token,
            error,
            state: request.state.clone(),
        }
        .location()
    })
}

pub struct UserTokens {
    pub access_token: String,
    pub id_token: Option<String>,
    pub expires_in: i64,
}

/// Signs an access token, and an ID token when `openid` was granted, for a user.
#[allow(clippy::too_many_arguments)]
pub fn user_tokens(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    client: &AppClient,
    user: &User,
    scopes: &[String],
    auth_time: i64,
    family: &str,
    nonce: Option<&str>,
    now: i64,
) -> Result<UserTokens, OAuthError> {
    let groups = store::users::groups_of(conn, site.pool_id(), &user.sub)?;
    let ctx = UserTokenContext {
        issuer: &site.urls.issuer,
        client_id: client.id.as_str(),
        user,
        groups: &groups,
        scopes,
        readable: client.settings.read_attributes.as_deref(),
        auth_time,
        now,
        origin_jti: family,
    };
    let access_lifetime = i64::from(client.settings.access_token_validity_minutes) * 60;
    let access_claims = claims::access_token(&ctx, access_lifetime, &new_jti());
    let access_token = services
        .keys
        .sign(conn, site.pool_id(), &access_claims, now)
        .map_err(internal)?;
    let id_token = if scopes.iter().any(|s| s == "openid") {
        let id_lifetime = i64::from(client.settings.id_token_validity_minutes) * 60;
        let id_claims = claims::id_token(&ctx, id_lifetime, &new_jti(), nonce, Some(&access_token));
        Some(
            services
                .keys
                .sign(conn, site.pool_id(), &id_claims, now)
                .map_err(internal)?,
        )
    } else {
        None
    };
    Ok(UserTokens {
        access_token,
        id_token,
        expires_in: access_lifetime,
    })
}
