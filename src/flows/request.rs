//! The authorization request a hosted page or a provider's answer carries, resolved again
//! against its pool and client (RFC 6749 §4.1.1; every step re-validates it, as
//! docs/architecture.md, "Authorization parameters travel in the URL", explains).

use super::{Services, Site, defined_custom_scopes, find_client, identity_providers};
use crate::model::AppClient;
use crate::oauth::authorize::{self, AuthorizationRequest, AuthorizeError, Providers};
use crate::oauth::{OAuthError, Params};
use crate::store::AnyConnection;

/// What an authorization request comes to once checked against the pool and its client.
// Taken apart by its caller at once, like the `Result` it replaces: no box needed.
#[allow(clippy::large_enum_variant)]
pub enum Resolution {
    Valid(AppClient, AuthorizationRequest),
    /// Answered on a page, or at the client's redirect URI once that is known to be the client's.
    Invalid(AuthorizeError),
}

/// Parses and validates an authorization request against the pool and its client.
pub fn resolve(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    query: &str,
) -> Result<Resolution, OAuthError> {
    // A malformed client_id or redirect_uri is shown on a page; any other malformed parameter
    // goes back to the redirect URI once that is known to be the client's.
    let (params, problems) = Params::parse_lenient(query);
    if let Some(problem) = problems.iter().find(|p| {
        p.name
            .as_deref()
            .is_none_or(|name| ["client_id", "redirect_uri"].contains(&name))
    }) {
        return Ok(Resolution::Invalid(AuthorizeError::Page(format!(
            "The request is malformed: {}.",
            problem.error.description
        ))));
    }
    let problem = problems.into_iter().next();
    let client_id = match authorize::client_id(&params) {
        Ok(id) => id,
        Err(e) => return Ok(Resolution::Invalid(e)),
    };
    let Some(client) = find_client(conn, services, site, client_id)? else {
        return Ok(Resolution::Invalid(AuthorizeError::Page(
            "The client_id is not a client of this user pool.".into(),
        )));
    };
    let defined = defined_custom_scopes(conn, services, site)?;
    let known: Vec<(String, Vec<String>)> = identity_providers(conn, services, site)?
        .iter()
        .map(|p| (p.name.clone(), p.idp_identifiers.clone()))
        .collect();
    let validated = authorize::validate(&params, &client, &defined, &Providers { known: &known });
    Ok(match (problem, validated) {
        (None, Ok(request)) => Resolution::Valid(client, request),
        (None, Err(invalid)) => Resolution::Invalid(invalid),
        (Some(problem), Ok(request)) => Resolution::Invalid(request.error(problem.error)),
        (Some(problem), Err(AuthorizeError::Redirect(mut redirect))) => {
            redirect.error = problem.error;
            Resolution::Invalid(AuthorizeError::Redirect(redirect))
        }
        (Some(_), Err(page)) => Resolution::Invalid(page),
    })
}
