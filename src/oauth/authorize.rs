//! The authorization request (RFC 6749 §4.1.1, §4.2.1; OIDC Core §3.1.2.1;
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html>):
//! parsing and validation, independent of how the user signs in.
//!
//! An unknown client or an unregistered redirect URI is shown on a page and never redirected
//! to; every other problem goes back to the registered redirect URI with `error` and `state`.

use super::error::{ErrorCode, OAuthError};
use super::params::{Params, redirect_with};
use super::{pkce, scopes};
use crate::model::client::COGNITO_PROVIDER;
use crate::model::{AppClient, OAuthFlow};
use std::collections::HashSet;

/// Longest value accepted for a free-form parameter such as `state` or `nonce`.
const MAX_PARAM_LEN: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
    Token,
}

impl ResponseType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Token => "token",
        }
    }
}

/// A validated authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: ResponseType,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// `prompt=none`: never show a page.
    pub prompt_none: bool,
    /// `prompt=login`: authenticate again even with a session.
    pub prompt_login: bool,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    /// An upstream provider chosen by `identity_provider` or `idp_identifier` (not COGNITO).
    pub identity_provider: Option<String>,
}

/// An error that goes back to the client's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub fragment: bool,
    pub error: OAuthError,
    pub state: Option<String>,
}

impl ErrorRedirect {
    pub fn location(&self) -> String {
        let mut params = vec![
            ("error", self.error.code.as_str()),
            ("error_description", self.error.description.as_str()),
        ];
        if let Some(state) = &self.state {
            params.push(("state", state));
        }
        redirect_with(&self.redirect_uri, &params, self.fragment)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Shown on a page: the client or its redirect URI cannot be trusted.
    Page(String),
    Redirect(ErrorRedirect),
}

impl AuthorizationRequest {
    /// Where errors of this request are sent.
    pub fn error(&self, error: OAuthError) -> AuthorizeError {
        AuthorizeError::Redirect(ErrorRedirect {
            redirect_uri: self.redirect_uri.clone(),
            fragment: self.response_type == ResponseType::Token,
            error,
            state: self.state.clone(),
        })
    }

    pub fn wants_id_token(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }
}

/// The client a request names; `None` when `client_id` is missing (a page error).
pub fn client_id(params: &Params) -> Result<&str, AuthorizeError> {
    params
        .get("client_id")
        .ok_or_else(|| AuthorizeError::Page("The request has no client_id.".into()))
}

/// What the caller knows about the pool's upstream providers.
pub struct Providers<'a> {
    /// Provider names, with the identifiers that route to each.
    pub known: &'a [(String, Vec<String>)],
}

pub fn validate(
    params: &Params,
    client: &AppClient,
    defined_custom: &HashSet<String>,
    providers: &Providers,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| AuthorizeError::Page("The request has no redirect_uri.".into()))?;
    if !client
        .settings
        .callback_urls
        .iter()
        .any(|u| u == redirect_uri)
    {
        return Err(AuthorizeError::Page(
            "The redirect_uri is not registered for this client.".into(),
        ));
    }
    // A state too long to accept is not echoed either: the error below says why.
    let state = params
        .get("state")
        .filter(|s| s.len() <= MAX_PARAM_LEN)
        .map(String::from);
    let response_type = params.get("response_type");
    let fragment = response_type == Some("token");
    let fail = |error: OAuthError| {
        AuthorizeError::Redirect(ErrorRedirect {
            redirect_uri: redirect_uri.to_owned(),
            fragment,
            error,
            state: state.clone(),
        })
    };
    if let Some((name, _)) = params.iter().find(|(_, v)| v.len() > MAX_PARAM_LEN) {
        return Err(fail(OAuthError::invalid_request(format!(
            "`{name}` is too long"
        ))));
    }
    let response_type = match response_type {
        None => {
            return Err(fail(OAuthError::invalid_request(
                "`response_type` is required",
            )));
        }
        Some("code") => ResponseType::Code,
        Some("token") => ResponseType::Token,
        Some(other) => {
            return Err(fail(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                format!("response_type `{other}` is not supported (code or token)"),
            )));
        }
    };
    let flow = match response_type {
        ResponseType::Code => OAuthFlow::Code,
        ResponseType::Token => OAuthFlow::Implicit,
    };
    if !client.settings.allowed_oauth_flows.contains(&flow) {
        return Err(fail(OAuthError::unauthorized_client(format!(
            "the client is not allowed response_type `{}`",
            response_type.as_str()
        ))));
    }
    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) => None,
        (Some(challenge), Some("S256")) if pkce::is_well_formed(challenge) => {
            Some(challenge.to_owned())
        }
        (Some(_), Some("S256")) => {
            return Err(fail(OAuthError::invalid_request(
                "`code_challenge` must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
            )));
        }
        (Some(_), None) => {
            return Err(fail(OAuthError::invalid_request(
                "`code_challenge` needs `code_challenge_method=S256`",
            )));
        }
        (None, Some(_)) => {
            return Err(fail(OAuthError::invalid_request(
                "`code_challenge_method` needs a `code_challenge`",
            )));
        }
        (Some(_), Some(method)) => {
            return Err(fail(OAuthError::invalid_request(format!(
                "code_challenge_method `{method}` is not supported: only S256"
            ))));
        }
    };
    // RFC 9700 §2.1.1: without a secret, only the verifier ties the code to the app that asked.
    if response_type == ResponseType::Code
        && code_challenge.is_none()
        && !client.is_confidential()
        && client.settings.require_pkce
    {
        return Err(fail(OAuthError::invalid_request(
            "code_challenge is required",
        )));
    }
    let scopes = scopes::for_user(
        params.get("scope"),
        &client.settings.allowed_oauth_scopes,
        defined_custom,
        // The code flow always ends with a refresh token; the implicit flow never does.
        response_type == ResponseType::Code,
    )
    .map_err(&fail)?;
    let mut prompt_none = false;
    let mut prompt_login = false;
    for value in params
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|v| !v.is_empty())
    {
        match value {
            "none" => prompt_none = true,
            "login" => prompt_login = true,
            "consent" | "select_account" => {}
            other => {
                return Err(fail(OAuthError::invalid_request(format!(
                    "unknown prompt `{other}`"
                ))));
            }
        }
    }
    if prompt_none && params.get("prompt") != Some("none") {
        return Err(fail(OAuthError::invalid_request(
            "`prompt=none` cannot be combined with other values",
        )));
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(value) => match value.parse::<i64>() {
            Ok(age) if age >= 0 => Some(age),
            _ => {
                return Err(fail(OAuthError::invalid_request(
                    "`max_age` must be a non-negative integer",
                )));
            }
        },
    };
    let identity_provider = choose_provider(params, client, providers).map_err(&fail)?;
    Ok(AuthorizationRequest {
        client_id: client.id.to_string(),
        redirect_uri: redirect_uri.to_owned(),
        response_type,
        scopes,
        state,
        nonce: params.get("nonce").map(String::from),
        code_challenge,
        prompt_none,
        prompt_login,
        max_age,
        login_hint: params.get("login_hint").map(String::from),
        ui_locales: params
            .get("ui_locales")
            .or(params.get("lang"))
            .map(String::from),
        identity_provider,
    })
}

/// Whether a provider's identifier matches `given`: the identifier itself, or an email address
/// in that domain (Cognito's email-domain discovery; docs/federation.md, "The sign-in page").
pub fn identifies(identifier: &str, given: &str) -> bool {
    let given = given.trim();
    identifier.eq_ignore_ascii_case(given)
        || given
            .rsplit_once('@')
            .is_some_and(|(_, domain)| identifier.eq_ignore_ascii_case(domain))
}

/// `identity_provider` / `idp_identifier` → an upstream provider, or `None` for the pool's own
/// sign-in page (COGNITO).
fn choose_provider(
    params: &Params,
    client: &AppClient,
    providers: &Providers,
) -> Result<Option<String>, OAuthError> {
    let named = match (
        params.get("identity_provider"),
        params.get("idp_identifier"),
    ) {
        (None, None) => return Ok(None),
        (Some(COGNITO_PROVIDER), _) if client.supports(COGNITO_PROVIDER) => return Ok(None),
        (Some(COGNITO_PROVIDER), _) => {
            return Err(OAuthError::unauthorized_client(
                "the client does not support sign-in with the user pool (COGNITO)",
            ));
        }
        (Some(name), _) => providers
            .known
            .iter()
            .find(|(known, _)| known == name)
            .map(|(known, _)| known.clone())
            .ok_or_else(|| {
                OAuthError::invalid_request(format!("unknown identity provider `{name}`"))
            })?,
        (None, Some(identifier)) => providers
            .known
            .iter()
            .find(|(_, ids)| ids.iter().any(|id| identifies(id, identifier)))
            .map(|(known, _)| known.clone())
            .ok_or_else(|| {
                OAuthError::invalid_request(format!(
                    "no identity provider has the identifier `{identifier}`"
                ))
            })?,
    };
    if !client.supports(&named) {
        return Err(OAuthError::unauthorized_client(format!(
            "the client does not support the identity provider `{named}`"
        )));
    }
    Ok(Some(named))
}
