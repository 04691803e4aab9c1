//! What the OAuth 2.0 social connectors share: the code exchange (RFC 6749 §4.1.3, through the
//! `oauth2` crate) and fetching a JSON profile, with upstream failures turned into
//! `FederationError`s.

use super::{FederationError, Upstreams};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, TokenResponse, TokenUrl,
};
use serde_json::{Map, Value};

/// An error with its sources, which is where HTTP clients put the useful part.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub struct Exchange<'a> {
    pub token_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    /// `client_secret_post` (the secret in the form) rather than HTTP Basic.
    pub secret_in_body: bool,
    pub redirect_uri: &'a str,
    pub code: &'a str,
    pub pkce_verifier: Option<&'a str>,
}

/// Exchanges an authorization code; returns the access token.
pub async fn exchange_code(
    upstreams: &Upstreams,
    exchange: &Exchange<'_>,
) -> Result<String, FederationError> {
    let bad =
        |what: &str, e: url::ParseError| FederationError::Misconfigured(format!("{what}: {e}"));
    let mut client = BasicClient::new(ClientId::new(exchange.client_id.to_owned()))
        .set_token_uri(
            TokenUrl::new(exchange.token_url.to_owned()).map_err(|e| bad("token_url", e))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(exchange.redirect_uri.to_owned())
                .map_err(|e| bad("redirect URI", e))?,
        )
        .set_auth_type(if exchange.secret_in_body {
            AuthType::RequestBody
        } else {
            AuthType::BasicAuth
        });
    if let Some(secret) = exchange.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.to_owned()));
    }
    let mut request = client.exchange_code(AuthorizationCode::new(exchange.code.to_owned()));
    if let Some(verifier) = exchange.pkce_verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()));
    }
    let token = request
        .request_async(upstreams.http())
        .await
        .map_err(|e| match &e {
            RequestTokenError::ServerResponse(answer) => {
                FederationError::Rejected(format!("the token endpoint refused the code: {answer}"))
            }
            RequestTokenError::Parse(_, body) => match graph_error(body) {
                // Facebook's Graph API reports errors as {"error": {"message": …}}.
                Some(message) => FederationError::Rejected(format!(
                    "the token endpoint refused the code: {message}"
                )),
                None => FederationError::Rejected(format!(
                    "the token endpoint's answer is not a token response: {}",
                    describe_body(body)
                )),
            },
            other => FederationError::Unavailable(format!(
                "the token endpoint could not be used: {}",
                error_chain(other)
            )),
        })?;
    Ok(token.access_token().secret().clone())
}

/// What an upstream answer held, for the log and the error page, without its values: an
/// answer that is not what was expected may still carry a token. Only the protocol's error
/// fields are quoted.
pub fn describe_body(body: &[u8]) -> String {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return format!("{} bytes that are not a JSON object", body.len());
    };
    let quoted: Vec<String> = ["error", "error_description"]
        .iter()
        .filter_map(|key| Some(format!("{key}: {}", object.get(*key)?.as_str()?)))
        .chain(graph_error(body).map(|message| format!("message: {message}")))
        .map(|text| text.chars().take(200).collect())
        .collect();
    let keys: Vec<&str> = object.keys().map(String::as_str).take(20).collect();
    let mut text = format!("a JSON object with keys [{}]", keys.join(", "));
    if !quoted.is_empty() {
        text.push_str(&format!(" ({})", quoted.join("; ")));
    }
    text
}

/// The message of an error answer shaped `{"error": {"message": "…"}}`.
fn graph_error(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value["error"]["message"].as_str().map(str::to_owned)
}

/// A JSON object from a profile endpoint.
pub async fn fetch_profile(
    request: reqwest::RequestBuilder,
    what: &str,
) -> Result<Map<String, Value>, FederationError> {
    let response = request
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| {
            FederationError::Unavailable(format!(
                "{what} could not be reached: {}",
                error_chain(&e)
            ))
        })?;
    let status = response.status();
    let body = response.text().await.map_err(|e| {
        FederationError::Unavailable(format!("{what} could not be read: {}", error_chain(&e)))
    })?;
    if !status.is_success() {
        return Err(FederationError::Rejected(format!(
            "{what} answered {status}: {}",
            describe_body(body.as_bytes())
        )));
    }
    match serde_json::from_str::<Value>(&body) {
        Ok(Value::Object(profile)) => Ok(profile),
        _ => Err(FederationError::Rejected(format!(
            "{what} did not answer with a JSON object"
        ))),
    }
}

/// The subject under `key` of a profile, as text (Facebook and Amazon send strings; a number is
/// accepted too).
pub fn subject_of(
    profile: &Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<String, FederationError> {
    match profile.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(FederationError::Rejected(format!("{what} has no `{key}`"))),
    }
}
