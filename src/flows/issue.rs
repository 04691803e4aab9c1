//! The end of a successful authorization: a code (query) or tokens (fragment) for the
//! redirect URI (RFC 6749 §4.1.2, §4.2.2; OIDC Core §3.2.2.5).

use super::pre_token::Customization;
use super::{CODE_SECONDS, Services, Site, internal, new_jti};
use crate::model::{AppClient, User};
use crate::oauth::OAuthError;
use crate::oauth::authorize::{AuthorizationRequest, ResponseType};
use crate::oauth::params::redirect_with;
use crate::secrets::{self, SecretDigest};
use crate::store::grants::{self, CodeRow};
use crate::store::{self, AnyConnection};
use crate::tokens::claims::{self, UserTokenContext};
use crate::tokens::keyring::KeyError;
use crate::tokens::signer::PrivateKey;

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
        // Implicit tokens are made where no connection can be given back while a hook thinks;
        // a pool whose tokens a hook shapes issues them through the code flow only.
        ResponseType::Token if super::pre_token::needs_lease(site) => Err(OAuthError::new(
            crate::oauth::ErrorCode::UnsupportedResponseType,
            "this pool's pre token generation hook needs response_type=code",
        )),
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
            let grant = TokenGrant {
                client,
                user,
                scopes: &request.scopes,
                auth_time,
                family: &family,
                nonce: request.nonce.as_deref(),
            };
            let tokens = user_tokens(conn, services, site, &grant, now)?;
            services
                .metrics
                .token_issued(crate::metrics::Grant::Implicit);
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
        super::error_location(&crate::oauth::authorize::ErrorRedirect {
            redirect_uri: request.redirect_uri.clone(),
            fragment: request.response_type == ResponseType::Token,
            error,
            state: request.state.clone(),
        })
    })
}

pub struct UserTokens {
    pub access_token: String,
    pub id_token: Option<String>,
    pub expires_in: i64,
}

/// Whom a user's tokens are for and what they grant.
pub struct TokenGrant<'a> {
    pub client: &'a AppClient,
    pub user: &'a User,
    pub scopes: &'a [String],
    pub auth_time: i64,
    /// The family (`origin_jti`) the tokens belong to.
    pub family: &'a str,
    pub nonce: Option<&'a str>,
}

/// What signing a user's tokens reads from the database. Grants read it inside their
/// transaction and sign after it commits, so the write lock is not held while RSA runs.
pub struct SigningInputs {
    groups: Vec<String>,
    key: PrivateKey,
}

pub fn signing_inputs(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    user: &User,
    now: i64,
) -> Result<SigningInputs, OAuthError> {
    Ok(SigningInputs {
        groups: store::users::groups_of(conn, site.pool_id(), &user.sub)?,
        key: services
            .keys
            .active_key(conn, site.pool_id(), now)
            .map_err(|e| match e {
                // A busy database stays `temporarily_unavailable`, so the grant is retried.
                KeyError::Store(e) => OAuthError::from(e),
                other => internal(other),
            })?,
    })
}

/// Signs an access token, and an ID token when `openid` was granted, for a user, with what
/// the pool's pre token generation hook asked for (`custom`).
pub fn sign_user_tokens(
    services: &Services,
    site: &Site,
    grant: &TokenGrant,
    inputs: &SigningInputs,
    custom: &Customization,
    now: i64,
) -> Result<UserTokens, OAuthError> {
    let settings = &grant.client.settings;
    let ctx = UserTokenContext {
        issuer: &site.urls.issuer,
        client_id: grant.client.id.as_str(),
        user: grant.user,
        groups: &inputs.groups,
        scopes: grant.scopes,
        readable: settings.read_attributes.as_deref(),
        auth_time: grant.auth_time,
        now,
        origin_jti: grant.family,
    };
    let sign = |claims: &serde_json::Map<String, serde_json::Value>| {
        services
            .keys
            .sign_with(&inputs.key, claims)
            .map_err(internal)
    };
    let access_lifetime = i64::from(settings.access_token_validity_minutes) * 60;
    let mut access_claims = claims::access_token(&ctx, access_lifetime, &new_jti());
    custom.apply_to_access_token(&mut access_claims);
    let access_token = sign(&access_claims)?;
    // The JSON API's sign-ins grant only `aws.cognito.signin.user.admin`, and Cognito gives
    // them an ID token all the same.
    let id_token = if grant
        .scopes
        .iter()
        .any(|s| s == "openid" || s == crate::api::token::ADMIN_SCOPE)
    {
        let id_lifetime = i64::from(settings.id_token_validity_minutes) * 60;
        // `at_hash` binds an OpenID Connect ID token to its access token (OIDC Core §3.1.3.6);
        // Cognito's API sign-ins, which are no OpenID Connect flow, carry none, and some of
        // their clients (pycognito) choke on it.
        let oidc = grant.scopes.iter().any(|s| s == "openid");
        let mut id_claims = claims::id_token(
            &ctx,
            id_lifetime,
            &new_jti(),
            grant.nonce,
            oidc.then_some(access_token.as_str()),
        );
        custom.apply_to_id_token(&mut id_claims);
        Some(sign(&id_claims)?)
    } else {
        None
    };
    Ok(UserTokens {
        access_token,
        id_token,
        expires_in: access_lifetime,
    })
}

/// `signing_inputs` then `sign_user_tokens`, for flows without a transaction to keep short.
pub fn user_tokens(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    grant: &TokenGrant,
    now: i64,
) -> Result<UserTokens, OAuthError> {
    let inputs = signing_inputs(conn, services, site, grant.user, now)?;
    // Only the implicit grant calls this, never for a pool with the hook (see `complete`).
    sign_user_tokens(
        services,
        site,
        grant,
        &inputs,
        &Customization::default(),
        now,
    )
}
