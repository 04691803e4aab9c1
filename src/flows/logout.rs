//! GET /logout (<https://docs.aws.amazon.com/cognito/latest/developerguide/logout-endpoint.html>)
//! in both of Cognito's forms, and OpenID Connect RP-initiated logout (`id_token_hint`,
//! `post_logout_redirect_uri`, `state`). The browser is only ever sent to a sign-out URL registered
//! on the client.

use super::authorize::resolve;
use super::{Services, Site, find_client, session};
use crate::oauth::params::redirect_with;
use crate::oauth::{OAuthError, Params};
use crate::store::AnyConnection;
use serde::Deserialize;

pub enum LogoutOutcome {
    /// Session ended; go to this registered URL.
    Redirect(String),
    /// Session ended; show the sign-in page with these authorization parameters.
    SignIn(String),
    /// Session ended; show the signed-out page.
    SignedOut,
    /// Nothing done; show this error.
    Page(String),
}

#[derive(Deserialize)]
struct HintClaims {
    aud: String,
}

/// The client an `id_token_hint` was issued to, if this pool signed it (expiry is not checked:
/// a hint is usually an expired token).
fn hinted_client(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    hint: &str,
    now: i64,
) -> Result<Option<String>, OAuthError> {
    let claims: Option<HintClaims> =
        services
            .keys
            .verify(conn, site.pool_id(), &site.urls.issuer, hint, false, now)?;
    Ok(claims.map(|c| c.aud))
}

pub fn logout(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    query: &str,
    session_cookie: Option<&str>,
    now: i64,
) -> Result<LogoutOutcome, OAuthError> {
    let params = match Params::parse(query) {
        Ok(params) => params,
        Err(e) => {
            return Ok(LogoutOutcome::Page(format!(
                "The request is malformed: {}.",
                e.description
            )));
        }
    };
    // Cognito form 2: sign out, then sign in again with the authorization parameters.
    if params.get("redirect_uri").is_some() || params.get("response_type").is_some() {
        return Ok(match resolve(conn, services, site, query)? {
            Ok(_) => {
                session::end(conn, session_cookie)?;
                LogoutOutcome::SignIn(query.to_owned())
            }
            Err(crate::oauth::authorize::AuthorizeError::Page(message)) => {
                LogoutOutcome::Page(message)
            }
            // The request is the client's (its redirect URI is registered): sign out as
            // asked, then report the error there.
            Err(crate::oauth::authorize::AuthorizeError::Redirect(redirect)) => {
                session::end(conn, session_cookie)?;
                LogoutOutcome::Redirect(redirect.location())
            }
        });
    }
    let hinted = match params.get("id_token_hint") {
        Some(hint) => match hinted_client(conn, services, site, hint, now)? {
            Some(aud) => Some(aud),
            None => {
                return Ok(LogoutOutcome::Page(
                    "The id_token_hint was not issued by this user pool.".into(),
                ));
            }
        },
        None => None,
    };
    let client_id = match (params.get("client_id"), hinted.as_deref()) {
        (Some(given), Some(hinted)) if given != hinted => {
            return Ok(LogoutOutcome::Page(
                "The client_id does not match the id_token_hint.".into(),
            ));
        }
        (Some(given), _) => Some(given.to_owned()),
        (None, hinted) => hinted.map(String::from),
    };
    let target = params
        .get("logout_uri")
        .or(params.get("post_logout_redirect_uri"));
    let Some(target) = target else {
        session::end(conn, session_cookie)?;
        return Ok(LogoutOutcome::SignedOut);
    };
    let Some(client_id) = client_id else {
        return Ok(LogoutOutcome::Page(
            "A sign-out redirect needs the client_id.".into(),
        ));
    };
    let Some(client) = find_client(conn, services, site, &client_id)? else {
        return Ok(LogoutOutcome::Page(
            "The client_id is not a client of this user pool.".into(),
        ));
    };
    if !client.settings.logout_urls.iter().any(|u| u == target) {
        return Ok(LogoutOutcome::Page(
            "The sign-out URL is not registered for this client.".into(),
        ));
    }
    session::end(conn, session_cookie)?;
    let location = match (params.get("post_logout_redirect_uri"), params.get("state")) {
        (Some(_), Some(state)) => redirect_with(target, &[("state", state)], false),
        _ => target.to_owned(),
    };
    Ok(LogoutOutcome::Redirect(location))
}
