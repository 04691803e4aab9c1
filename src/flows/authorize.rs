//! GET /oauth2/authorize
//! (<https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html>):
//! validate the request, then answer from the browser's session (single sign-on, within `prompt`
//! and `max_age`) or send the browser to the sign-in page with every parameter kept.

use super::federation::Departing;
use super::{Services, Site, issue, session};
use crate::model::client::COGNITO_PROVIDER;
use crate::oauth::OAuthError;
use crate::oauth::authorize::AuthorizeError;
use crate::oauth::prompt::{self, Prompt, SignIn};
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

pub use super::request::{Resolution, resolve};

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
            match super::federation::start(conn, services, site, &request, provider, query, now) {
                Ok(Departing::Depart(departure)) => AuthorizeOutcome::Federate(departure),
                Ok(Departing::Refused(error)) => error.into(),
                Err(error) => request.error(error).into(),
            },
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
