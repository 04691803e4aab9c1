//! POST /oauth2/token (RFC 6749 §4.1.3, §4.4, §6;
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html>): client
//! authentication, then the grant. Codes redeem once; a replayed code revokes what it issued; a
//! reused rotated refresh token revokes its whole family.

use super::issue::{self, TokenGrant};
use super::pre_token::{self, Customization, GrantDb, Source, TokenError, TokenRequest};
use super::{Services, Site, defined_custom_scopes, find_client, internal, new_jti};
use crate::metrics::Grant;
use crate::model::{AppClient, OAuthFlow, User};
use crate::oauth::client_auth::{self, ClientCredentials};
use crate::oauth::grants::{self as oauth_grants, RefreshRefusal, StoredRefresh};
use crate::oauth::{ErrorCode, OAuthError, Params, scopes};
use crate::secrets::{self, SecretDigest};
use crate::store::grants::{self, CodeRow, Redemption, RefreshRow};
use crate::store::{self, AnyConnection, StoreError};
use crate::tokens::claims;
use diesel::Connection;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// Authenticates the client of a token, revocation or introspection request.
pub fn authenticate_client(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    authorization: Option<&str>,
    body: &Params,
) -> Result<(ClientCredentials, AppClient), OAuthError> {
    let credentials = client_auth::extract(authorization, body)?;
    let client = find_client(conn, services, site, credentials.client_id())?;
    client_auth::authenticate(&credentials, client.as_ref())?;
    let client = client.ok_or_else(|| credentials.invalid("client authentication failed"))?;
    Ok((credentials, client))
}

/// A grant at `/oauth2/token`. `db` is a `Lease` when the pool declares a pre token
/// generation hook (`pre_token::needs_lease`); a bare connection otherwise.
pub fn grant(
    db: &mut dyn GrantDb,
    services: &Services,
    site: &Site,
    authorization: Option<&str>,
    body: &Params,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let grant_type = body.require("grant_type")?.to_owned();
    let (_, client) = authenticate_client(db.conn()?, services, site, authorization, body)?;
    let (issued, grant) = match grant_type.as_str() {
        "authorization_code" => (
            authorization_code(db, services, site, &client, body, now),
            Grant::AuthorizationCode,
        ),
        "refresh_token" => (
            refresh_token(db, services, site, &client, body, now),
            Grant::RefreshToken,
        ),
        "client_credentials" => (
            client_credentials(db, services, site, &client, body, now),
            Grant::ClientCredentials,
        ),
        other => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant_type `{other}` is not supported"),
            ));
        }
    };
    if issued.is_ok() {
        services.metrics.token_issued(grant);
    }
    issued.map_err(OAuthError::from)
}

fn require_flow(client: &AppClient, flow: OAuthFlow, what: &str) -> Result<(), OAuthError> {
    if client.settings.allowed_oauth_flows.contains(&flow) {
        Ok(())
    } else {
        Err(OAuthError::unauthorized_client(format!(
            "the client is not allowed {what}"
        )))
    }
}

fn signed_in_user(conn: &mut AnyConnection, site: &Site, sub: &str) -> Result<User, OAuthError> {
    let gone = || OAuthError::invalid_grant("the user no longer exists or is disabled");
    let sub = uuid::Uuid::parse_str(sub).map_err(|_| gone())?;
    match store::users::get(conn, site.pool_id(), &sub) {
        Ok(user) if user.enabled => Ok(user),
        Ok(_) | Err(StoreError::NotFound) => Err(gone()),
        Err(e) => Err(e.into()),
    }
}

fn authorization_code(
    db: &mut dyn GrantDb,
    services: &Services,
    site: &Site,
    client: &AppClient,
    body: &Params,
    now: i64,
) -> Result<TokenResponse, TokenError> {
    require_flow(client, OAuthFlow::Code, "the authorization code grant")?;
    let conn = db.conn()?;
    let code = body.require("code")?;
    let redirect_uri = body.require("redirect_uri")?;
    let family = new_jti();
    let refresh_token = secrets::random_token(48);
    // The redemption and what it creates commit together; signing waits until they have.
    let (row, user, inputs) = committing_refusals(conn, |conn| {
        let presented = PresentedCode {
            code,
            redirect_uri,
            family: &family,
        };
        let row = redeem_code(conn, services, site, client, &presented, body, now)?;
        let user = signed_in_user(conn, site, &row.user_sub)?;
        grants::create_family(
            conn,
            &family,
            site.pool_id(),
            client.id.as_str(),
            Some(&row.user_sub),
            now,
        )?;
        let expires_at = now + client.settings.refresh_token_seconds();
        let stored = RefreshToken {
            scopes: &row.scopes,
            auth_time: row.auth_time,
            family: &family,
            expires_at,
        };
        store_refresh_token(conn, site, client, &user, &refresh_token, &stored, now)?;
        let inputs = issue::signing_inputs(conn, services, site, &user, now)?;
        Ok((row, user, inputs))
    })?;
    let scopes = split_scopes(&row.scopes);
    // The code is spent; the hook decides over the tokens. A failed hook leaves the family it
    // created revoked, so nothing this redemption stored stays usable.
    let request = TokenRequest {
        source: Source::HostedAuth,
        client,
        user: Some(&user),
        scopes: &scopes,
        client_metadata: None,
    };
    let custom = match pre_token::customize(db, services, site, &request) {
        Ok(custom) => custom,
        Err(error) => {
            let revoked = db
                .conn()
                .and_then(|conn| grants::revoke_family(conn, &family, now));
            if let Err(e) = revoked {
                tracing::warn!(error = %e, "could not revoke the family of a refused code grant");
            }
            return Err(error);
        }
    };
    let grant = TokenGrant {
        client,
        user: &user,
        scopes: &scopes,
        auth_time: row.auth_time,
        family: &family,
        nonce: row.nonce.as_deref(),
    };
    signed_response(
        services,
        site,
        &grant,
        &inputs,
        &custom,
        Some(refresh_token),
        now,
    )
}

/// How a sign-in without a redirect (the JSON API's flows) ended, for the hook.
pub struct SignIn<'a> {
    pub source: Source,
    pub client_metadata: Option<&'a BTreeMap<String, String>>,
}

/// Tokens for a user who has just signed in without a redirect (the JSON API's flows): a new
/// family and refresh token, like a redeemed code's. The pre token generation hook decides
/// first, so a refusal stores nothing.
#[allow(clippy::too_many_arguments)]
pub fn sign_in_tokens(
    db: &mut dyn GrantDb,
    services: &Services,
    site: &Site,
    client: &AppClient,
    user: &User,
    scopes: &[String],
    sign_in: &SignIn,
    now: i64,
) -> Result<TokenResponse, TokenError> {
    let request = TokenRequest {
        source: sign_in.source,
        client,
        user: Some(user),
        scopes,
        client_metadata: sign_in.client_metadata,
    };
    let custom = pre_token::customize(db, services, site, &request)?;
    let family = new_jti();
    let refresh_token = secrets::random_token(48);
    let joined = scopes.join(" ");
    let inputs = committing_refusals(db.conn()?, |conn| {
        grants::create_family(
            conn,
            &family,
            site.pool_id(),
            client.id.as_str(),
            Some(&user.sub.to_string()),
            now,
        )?;
        let stored = RefreshToken {
            scopes: &joined,
            auth_time: now,
            family: &family,
            expires_at: now + client.settings.refresh_token_seconds(),
        };
        store_refresh_token(conn, site, client, user, &refresh_token, &stored, now)?;
        issue::signing_inputs(conn, services, site, user, now)
    })?;
    let grant = TokenGrant {
        client,
        user,
        scopes,
        auth_time: now,
        family: &family,
        nonce: None,
    };
    signed_response(
        services,
        site,
        &grant,
        &inputs,
        &custom,
        Some(refresh_token),
        now,
    )
}

/// Signs a user grant's tokens (after its transaction committed) and answers with them.
fn signed_response(
    services: &Services,
    site: &Site,
    grant: &TokenGrant,
    inputs: &issue::SigningInputs,
    custom: &Customization,
    refresh_token: Option<String>,
    now: i64,
) -> Result<TokenResponse, TokenError> {
    let tokens = issue::sign_user_tokens(services, site, grant, inputs, custom, now)?;
    Ok(TokenResponse {
        access_token: tokens.access_token,
        id_token: tokens.id_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: tokens.expires_in,
    })
}

/// Runs a grant's writes in one transaction. A refusal (a 4xx error) commits what was written
/// before it, so a redeemed code stays redeemed and a revoked family stays revoked; a failure
/// of the server (5xx) rolls everything back. Its first statement must be a write: on SQLite a
/// transaction that reads first cannot always take the write lock later.
fn committing_refusals<T>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, OAuthError>,
) -> Result<T, OAuthError> {
    struct Rollback(OAuthError);
    impl From<diesel::result::Error> for Rollback {
        fn from(e: diesel::result::Error) -> Self {
            Self(StoreError::Database(e).into())
        }
    }
    conn.transaction::<_, Rollback, _>(|conn| match work(conn) {
        Err(error) if error.status() >= 500 => Err(Rollback(error)),
        outcome => Ok(outcome),
    })
    .unwrap_or_else(|Rollback(error)| Err(error))
}

/// The code a request presents, and the family its tokens would belong to.
struct PresentedCode<'a> {
    code: &'a str,
    redirect_uri: &'a str,
    family: &'a str,
}

/// Redeems the code (first, so that any attempt spends it) and checks it against the request.
/// A replayed code revokes what it issued, which the metrics count.
fn redeem_code(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    client: &AppClient,
    presented: &PresentedCode,
    body: &Params,
    now: i64,
) -> Result<Box<CodeRow>, OAuthError> {
    let (code, redirect_uri, family) = (presented.code, presented.redirect_uri, presented.family);
    let digest = SecretDigest::of(code);
    let row = match grants::redeem_code(conn, site.pool_id(), digest.as_str(), family, now)? {
        Redemption::Redeemed(row) => row,
        Redemption::Replayed { family_id } => {
            if let Some(family_id) = family_id {
                grants::revoke_family(conn, &family_id, now)?;
            }
            services.metrics.code_replayed();
            return Err(oauth_grants::replayed_code());
        }
        Redemption::Unknown => return Err(oauth_grants::unknown_code()),
    };
    let issued = oauth_grants::IssuedCode {
        client_id: &row.client_id,
        redirect_uri: &row.redirect_uri,
        code_challenge: row.code_challenge.as_deref(),
        expires_at: row.expires_at,
    };
    let request = oauth_grants::CodeRedemption {
        client_id: client.id.as_str(),
        redirect_uri,
        code_verifier: body.get("code_verifier"),
    };
    oauth_grants::check_code(&issued, &request, now)?;
    Ok(row)
}

/// What a stored refresh token grants.
struct RefreshToken<'a> {
    scopes: &'a str,
    auth_time: i64,
    family: &'a str,
    expires_at: i64,
}

fn store_refresh_token(
    conn: &mut AnyConnection,
    site: &Site,
    client: &AppClient,
    user: &User,
    token: &str,
    stored: &RefreshToken,
    now: i64,
) -> Result<(), OAuthError> {
    grants::insert_refresh(
        conn,
        &RefreshRow {
            token_digest: SecretDigest::of(token).as_str().to_owned(),
            family_id: stored.family.to_owned(),
            pool_id: site.pool_id().to_owned(),
            client_id: client.id.to_string(),
            user_sub: user.sub.to_string(),
            scopes: stored.scopes.to_owned(),
            auth_time: stored.auth_time,
            created_at: now,
            expires_at: stored.expires_at,
            rotated_at: None,
        },
    )?;
    Ok(())
}

fn refresh_token(
    db: &mut dyn GrantDb,
    services: &Services,
    site: &Site,
    client: &AppClient,
    body: &Params,
    now: i64,
) -> Result<TokenResponse, TokenError> {
    require_flow(client, OAuthFlow::Code, "to refresh tokens")?;
    let token = body.require("refresh_token")?;
    refresh(
        db,
        services,
        site,
        client,
        token,
        body.get("scope"),
        None,
        now,
    )
}

/// The refresh grant, for every front door (`/oauth2/token`, the API's `REFRESH_TOKEN_AUTH`):
/// the same families, rotation and reuse detection. `scope` narrows the new tokens.
#[allow(clippy::too_many_arguments)]
pub fn refresh(
    db: &mut dyn GrantDb,
    services: &Services,
    site: &Site,
    client: &AppClient,
    token: &str,
    scope: Option<&str>,
    client_metadata: Option<&BTreeMap<String, String>>,
    now: i64,
) -> Result<TokenResponse, TokenError> {
    let digest = SecretDigest::of(token);
    // The hook decides before the rotation, so a refusal leaves the refresh token as it was.
    let asked = (digest.as_str(), scope, client_metadata);
    let custom = refresh_customization(db, services, site, client, asked, now)?;
    let conn = db.conn()?;
    // A `scope` wider than the grant is refused before a rotation could spend the token, but
    // only for a token that could be used now: any other gets the grant's own refusal (and a
    // reused one still revokes its family).
    if scope.is_some()
        && let Some((row, family_live)) = find_refresh(conn, site, digest.as_str())?
        && oauth_grants::check_refresh(&as_stored(&row, family_live), client.id.as_str(), now)
            .is_ok()
    {
        scopes::for_refresh(scope, &split_scopes(&row.scopes))?;
    }
    let (row, user, inputs, next) = if client.settings.rotate_refresh_tokens {
        // The rotation is the gate, and checks everything: of concurrent uses, one marks the
        // token; the others find it marked, and revoke the family.
        committing_refusals(conn, |conn| {
            let rotation = grants::Rotation {
                pool_id: site.pool_id(),
                client_id: client.id.as_str(),
                token_digest: digest.as_str(),
                now,
            };
            let Some(row) = grants::rotate_refresh(conn, rotation)? else {
                let found = find_refresh(conn, site, digest.as_str())?;
                let token = found.as_ref().map(|(row, live)| as_stored(row, *live));
                let refusal =
                    oauth_grants::refused_rotation(token.as_ref(), client.id.as_str(), now);
                let row = found.as_ref().map(|(row, _)| row);
                return Err(refuse_refresh(conn, services, row, refusal, now)?);
            };
            let user = signed_in_user(conn, site, &row.user_sub)?;
            let next = secrets::random_token(48);
            // The new token ends when the family's first one would have.
            let stored = RefreshToken {
                scopes: &row.scopes,
                auth_time: row.auth_time,
                family: &row.family_id,
                expires_at: row.expires_at,
            };
            store_refresh_token(conn, site, client, &user, &next, &stored, now)?;
            let inputs = issue::signing_inputs(conn, services, site, &user, now)?;
            Ok((row, user, inputs, Some(next)))
        })?
    } else {
        let row = usable_refresh(conn, services, site, client, digest.as_str(), now)?;
        let user = signed_in_user(conn, site, &row.user_sub)?;
        let inputs = issue::signing_inputs(conn, services, site, &user, now)?;
        (row, user, inputs, None)
    };
    // The new tokens may carry less than the grant; a rotated refresh token keeps all of it.
    let scopes = scopes::for_refresh(scope, &split_scopes(&row.scopes))?;
    let grant = TokenGrant {
        client,
        user: &user,
        scopes: &scopes,
        auth_time: row.auth_time,
        family: &row.family_id,
        nonce: None,
    };
    signed_response(services, site, &grant, &inputs, &custom, next, now)
}

/// The hook's answer for a refresh, asked only for a token that could be used now (any other
/// gets the grant's own refusal without a call); the grant checks the token again.
fn refresh_customization(
    db: &mut dyn GrantDb,
    services: &Services,
    site: &Site,
    client: &AppClient,
    (digest, scope, client_metadata): (&str, Option<&str>, Option<&BTreeMap<String, String>>),
    now: i64,
) -> Result<Customization, TokenError> {
    if !pre_token::needs_lease(site) {
        return Ok(Customization::default());
    }
    let conn = db.conn()?;
    let Some((row, family_live)) = find_refresh(conn, site, digest)? else {
        return Ok(Customization::default());
    };
    if oauth_grants::check_refresh(&as_stored(&row, family_live), client.id.as_str(), now).is_err()
    {
        return Ok(Customization::default());
    }
    let Ok(user) = signed_in_user(conn, site, &row.user_sub) else {
        return Ok(Customization::default());
    };
    let scopes = scopes::for_refresh(scope, &split_scopes(&row.scopes))?;
    let request = TokenRequest {
        source: Source::RefreshTokens,
        client,
        user: Some(&user),
        scopes: &scopes,
        client_metadata,
    };
    pre_token::customize(db, services, site, &request)
}

/// The refresh token with this digest, if this client may use it now. A token that was rotated
/// already is a reuse: its family is revoked (the caller's transaction commits that).
fn usable_refresh(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    client: &AppClient,
    digest: &str,
    now: i64,
) -> Result<RefreshRow, OAuthError> {
    let Some((row, family_live)) = find_refresh(conn, site, digest)? else {
        return Err(RefreshRefusal::unknown().error);
    };
    match oauth_grants::check_refresh(&as_stored(&row, family_live), client.id.as_str(), now) {
        Ok(()) => Ok(row),
        Err(refusal) => Err(refuse_refresh(conn, services, Some(&row), refusal, now)?),
    }
}

/// The refresh token with this digest, and whether its family is live.
fn find_refresh(
    conn: &mut AnyConnection,
    site: &Site,
    digest: &str,
) -> Result<Option<(RefreshRow, bool)>, OAuthError> {
    let Some(row) = grants::find_refresh(conn, site.pool_id(), digest)? else {
        return Ok(None);
    };
    let family_live = grants::family_is_live(conn, site.pool_id(), &row.family_id)?;
    Ok(Some((row, family_live)))
}

fn as_stored(row: &RefreshRow, family_live: bool) -> StoredRefresh<'_> {
    StoredRefresh {
        client_id: &row.client_id,
        expires_at: row.expires_at,
        rotated: row.rotated_at.is_some(),
        family_live,
    }
}

/// Carries out a refusal (revoking the family of a reused token, which the metrics count) and
/// returns its error.
fn refuse_refresh(
    conn: &mut AnyConnection,
    services: &Services,
    row: Option<&RefreshRow>,
    refusal: RefreshRefusal,
    now: i64,
) -> Result<OAuthError, OAuthError> {
    if refusal.revoke_family
        && let Some(row) = row
    {
        grants::revoke_family(conn, &row.family_id, now)?;
        services.metrics.refresh_token_reused();
    }
    Ok(refusal.error)
}

fn split_scopes(stored: &str) -> Vec<String> {
    stored.split(' ').map(String::from).collect()
}

fn client_credentials(
    db: &mut dyn GrantDb,
    services: &Services,
    site: &Site,
    client: &AppClient,
    body: &Params,
    now: i64,
) -> Result<TokenResponse, TokenError> {
    if !client.is_confidential() {
        return Err(OAuthError::unauthorized_client(
            "client credentials need a client with a secret",
        )
        .into());
    }
    require_flow(
        client,
        OAuthFlow::ClientCredentials,
        "the client credentials grant",
    )?;
    let defined = defined_custom_scopes(db.conn()?, services, site)?;
    let scopes = scopes::for_client(
        body.get("scope"),
        &client.settings.allowed_oauth_scopes,
        &defined,
    )?;
    let request = TokenRequest {
        source: Source::ClientCredentials,
        client,
        user: None,
        scopes: &scopes,
        client_metadata: None,
    };
    let custom = pre_token::customize(db, services, site, &request)?;
    let lifetime = i64::from(client.settings.access_token_validity_minutes) * 60;
    let mut claims = claims::client_access_token(
        &site.urls.issuer,
        client.id.as_str(),
        &scopes,
        now,
        lifetime,
        &new_jti(),
    );
    custom.apply_to_access_token(&mut claims);
    let access_token = services
        .keys
        .sign(db.conn()?, site.pool_id(), &claims, now)
        .map_err(internal)?;
    Ok(TokenResponse {
        access_token,
        id_token: None,
        refresh_token: None,
        token_type: "Bearer",
        expires_in: lifetime,
    })
}
