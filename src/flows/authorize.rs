//! GET /oauth2/authorize
//! (<https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html>):
//! validate the request, then answer from the browser's session (single sign-on, within `prompt`
//! and `max_age`) or send the browser to the sign-in page with every parameter kept.

use super::{
    Services, Site, defined_custom_scopes, find_client, identity_providers, issue, session,
};
use crate::model::AppClient;
use crate::model::client::COGNITO_PROVIDER;
use crate::oauth::authorize::{self, AuthorizationRequest, AuthorizeError, Providers};
use crate::oauth::prompt::{self, Prompt, SignIn};
use crate::oauth::{OAuthError, Params};
use crate::store::AnyConnection;

pub enum AuthorizeOutcome {
    /// An error shown on a page: never a redirect to an untrusted URI.
    Page(String),
    /// 302 to the client (a code, tokens or an error).
    Redirect(String),
    /// Show the sign-in page with these parameters.
    SignIn(String),
    /// 302 to an upstream provider, with the cookie that binds its answer to this browser,
    /// once `federation::depart` has made its URL.
    Federate(Box<super::federation::Departure>),
}

impl From<AuthorizeError> for AuthorizeOutcome {
    fn from(error: AuthorizeError) -> Self {
        match error {
            AuthorizeError::Page(message) => Self::Page(message),
            AuthorizeError::Redirect(redirect) => Self::Redirect(super::error_location(&redirect)),
        }
    }
}

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

pub fn start(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    query: &str,
    session_cookie: Option<&str>,
    now: i64,
) -> Result<AuthorizeOutcome, OAuthError> {
    let (client, request) = match resolve(conn, services, site, query)? {
        Resolution::Valid(client, request) => (client, request),
        Resolution::Invalid(error) => return Ok(error.into()),
    };
    // prompt=none never leaves for a provider's pages: a session here answers, or login_required.
    if let Some(provider) = request
        .identity_provider
        .as_ref()
        .filter(|_| !request.prompt_none)
    {
        return Ok(
            super::federation::start(conn, services, site, &request, provider, query, now)
                .unwrap_or_else(|error| request.error(error).into()),
        );
    }
    if client.settings.supported_identity_providers.is_empty() {
        let error = OAuthError::unauthorized_client("the client has no sign-in option enabled");
        return Ok(request.error(error).into());
    }
    // Past validation every failure, a database one included, goes back to the client
    // (RFC 6749 §4.1.2.1, `server_error`): a 500 page in the browser would never reach it.
    // Sessions do not record how the user signed in, so a client that does not accept the
    // pool's own sign-in never reuses one: its users go through their provider each time.
    let session_cookie = session_cookie.filter(|_| client.supports(COGNITO_PROVIDER));
    let signed_in = match session::current(conn, site, session_cookie, now) {
        Ok(signed_in) => signed_in,
        Err(error) => return Ok(request.error(error.into()).into()),
    };
    let prompt = Prompt {
        none: request.prompt_none,
        login: request.prompt_login,
    };
    let auth_time = signed_in.as_ref().map(|s| s.session.auth_time);
    match (
        prompt::decide(prompt, request.max_age, auth_time, now),
        signed_in,
    ) {
        (SignIn::Reuse { auth_time }, Some(signed_in)) => {
            let location = issue::location(
                conn,
                services,
                site,
                &client,
                &request,
                &signed_in.user,
                auth_time,
                now,
            );
            Ok(AuthorizeOutcome::Redirect(location))
        }
        (SignIn::Refuse(error), _) => Ok(request.error(error).into()),
        _ => Ok(AuthorizeOutcome::SignIn(query.to_owned())),
    }
}
