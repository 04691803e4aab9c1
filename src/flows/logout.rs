//! GET /logout (<https://docs.aws.amazon.com/cognito/latest/developerguide/logout-endpoint.html>)
//! in both of Cognito's forms, and OpenID Connect RP-initiated logout (`id_token_hint`,
//! `post_logout_redirect_uri`, `state`). The browser is only ever sent to a sign-out URL registered
//! on the client.

use super::authorize::{Resolution, resolve};
use super::{Services, Site, find_client, session};
use crate::oauth::logout::{self, Hint, Logout};
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
    let decision = if logout::signs_in_again(&params) {
        logout::sign_in_again(match resolve(conn, services, site, query)? {
            Resolution::Valid(..) => Ok(()),
            Resolution::Invalid(error) => Err(error),
        })
    } else {
        let hint = match params.get("id_token_hint") {
            None => None,
            Some(hint) => Some(hinted_client(conn, services, site, hint, now)?),
        };
        let hint = match &hint {
            None => Hint::Absent,
            Some(None) => Hint::Foreign,
            Some(Some(aud)) => Hint::IssuedTo(aud),
        };
        logout::decide(&params, hint, |id| find_client(conn, services, site, id))?
    };
    if decision.signs_out() {
        session::end(conn, session_cookie)?;
    }
    Ok(match decision {
        Logout::Redirect(location) => LogoutOutcome::Redirect(location),
        Logout::SignIn => LogoutOutcome::SignIn(query.to_owned()),
        Logout::SignedOut => LogoutOutcome::SignedOut,
        Logout::Page(message) => LogoutOutcome::Page(message),
    })
}
