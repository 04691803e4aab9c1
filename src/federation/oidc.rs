//! Any OpenID Provider (docs/federation.md, "OpenID Connect (`OIDC`)"), and Google, which is one
//! with a fixed issuer. Endpoints come from discovery at `oidc_issuer` (cached for an hour, fetched
//! again when an ID token names a key we do not know) or, when given, from `authorize_url`,
//! `token_url`, `attributes_url` and `jwks_uri`. The code is exchanged with PKCE and the client's
//! secret (`client_secret_basic` unless `token_endpoint_auth_method = "client_secret_post"`); the
//! ID token's signature, issuer, audience, expiry and nonce are checked by `openidconnect`; the
//! userinfo endpoint (`attributes_request_method` GET or POST) adds claims the ID token lacks.

use super::oauth::error_chain;
use super::{Callback, FederationError, Start, UpstreamIdentity, Upstreams};
use crate::model::IdentityProvider;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreClient, CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::{
    AuthType, AuthUrl, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    EmptyAdditionalProviderMetadata, IssuerUrl, JsonWebKeySetUrl, Nonce, OAuth2TokenResponse,
    PkceCodeVerifier, RedirectUrl, ResponseTypes, SignatureVerificationError, TokenResponse,
    TokenUrl, UserInfoUrl,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long discovered metadata (and its keys) is trusted before it is fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);

/// Discovered provider metadata by issuer.
#[derive(Default)]
pub struct DiscoveryCache {
    entries: Mutex<HashMap<String, (Arc<CoreProviderMetadata>, Instant)>>,
}

pub struct OidcConnector<'a> {
    provider: &'a IdentityProvider,
    upstreams: &'a Upstreams,
    issuer: String,
    flavor: Flavor,
}

/// How a provider departs from plain OIDC (Sign in with Apple does, in each of these).
#[derive(Debug, Clone, Default)]
pub struct Flavor {
    /// Skip PKCE (a provider that does not document it).
    pub no_pkce: bool,
    /// Ask for the answer as a form POST (`response_mode=form_post`).
    pub form_post: bool,
    /// The client secret to present instead of `client_secret` (Apple's signed JWT).
    pub client_secret: Option<String>,
    /// A social provider: its identities carry no issuer (as Cognito reports Google's).
    pub social: bool,
}

fn detail<'p>(provider: &'p IdentityProvider, key: &str) -> Option<&'p str> {
    provider
        .details
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

fn unavailable(what: &str, error: impl std::fmt::Display) -> FederationError {
    FederationError::Unavailable(format!("{what}: {error}"))
}

impl<'a> OidcConnector<'a> {
    pub fn new(
        provider: &'a IdentityProvider,
        upstreams: &'a Upstreams,
        default_issuer: Option<&str>,
    ) -> Result<Self, FederationError> {
        let issuer = detail(provider, "oidc_issuer")
            .or(default_issuer)
            .ok_or_else(|| {
                FederationError::Misconfigured(format!(
                    "provider {} has no oidc_issuer",
                    provider.name
                ))
            })?
            .trim_end_matches('/')
            .to_owned();
        if detail(provider, "client_id").is_none() {
            return Err(FederationError::Misconfigured(format!(
                "provider {} has no client_id",
                provider.name
            )));
        }
        Ok(Self {
            provider,
            upstreams,
            issuer,
            flavor: Flavor::default(),
        })
    }

    pub fn with_flavor(mut self, flavor: Flavor) -> Self {
        self.flavor = flavor;
        self
    }

    fn detail(&self, key: &str) -> Option<&str> {
        detail(self.provider, key)
    }

    fn cache_key(&self) -> String {
        format!("{}|{}", self.provider.pool_id, self.provider.name)
    }

    /// Cached metadata that is still fresh. The lock is never held across an await.
    fn cached(&self) -> Option<Arc<CoreProviderMetadata>> {
        let entries = self
            .upstreams
            .discovery
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        entries
            .get(&self.cache_key())
            .filter(|(_, at)| at.elapsed() < DISCOVERY_TTL)
            .map(|(metadata, _)| metadata.clone())
    }

    /// The provider's metadata: configured endpoints, else discovery (cached unless `fresh`).
    async fn metadata(&self, fresh: bool) -> Result<Arc<CoreProviderMetadata>, FederationError> {
        if !fresh && let Some(metadata) = self.cached() {
            return Ok(metadata);
        }
        let metadata = Arc::new(match self.manual_metadata().await? {
            Some(metadata) => metadata,
            None => self.discover().await?,
        });
        self.upstreams
            .discovery
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.cache_key(), (metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    async fn discover(&self) -> Result<CoreProviderMetadata, FederationError> {
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|e| FederationError::Misconfigured(format!("oidc_issuer: {e}")))?;
        CoreProviderMetadata::discover_async(issuer, self.upstreams.http())
            .await
            .map_err(|e| {
                unavailable(
                    &format!(
                        "discovery at {}/.well-known/openid-configuration failed",
                        self.issuer
                    ),
                    error_chain(&e),
                )
            })
    }

    /// Metadata from `authorize_url`, `token_url`, `jwks_uri` (and `attributes_url`) when all
    /// three are configured; their keys are fetched from `jwks_uri`.
    async fn manual_metadata(&self) -> Result<Option<CoreProviderMetadata>, FederationError> {
        let (Some(authorize), Some(token), Some(jwks)) = (
            self.detail("authorize_url"),
            self.detail("token_url"),
            self.detail("jwks_uri"),
        ) else {
            return Ok(None);
        };
        let bad =
            |key: &str, e: url::ParseError| FederationError::Misconfigured(format!("{key}: {e}"));
        let jwks_url = JsonWebKeySetUrl::new(jwks.to_owned()).map_err(|e| bad("jwks_uri", e))?;
        let keys = CoreJsonWebKeySet::fetch_async(&jwks_url, self.upstreams.http())
            .await
            .map_err(|e| {
                unavailable(
                    &format!("keys at {jwks} could not be fetched"),
                    error_chain(&e),
                )
            })?;
        let mut metadata = CoreProviderMetadata::new(
            IssuerUrl::new(self.issuer.clone()).map_err(|e| bad("oidc_issuer", e))?,
            AuthUrl::new(authorize.to_owned()).map_err(|e| bad("authorize_url", e))?,
            jwks_url,
            vec![ResponseTypes::new(vec![CoreResponseType::Code])],
            vec![CoreSubjectIdentifierType::Public],
            vec![
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            ],
            EmptyAdditionalProviderMetadata {},
        )
        .set_token_endpoint(Some(
            TokenUrl::new(token.to_owned()).map_err(|e| bad("token_url", e))?,
        ))
        .set_jwks(keys);
        if let Some(attributes) = self.detail("attributes_url") {
            metadata = metadata.set_userinfo_endpoint(Some(
                UserInfoUrl::new(attributes.to_owned()).map_err(|e| bad("attributes_url", e))?,
            ));
        }
        Ok(Some(metadata))
    }

    fn scopes(&self) -> String {
        self.detail("authorize_scopes")
            .unwrap_or("openid")
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The claims of the userinfo endpoint (`attributes_request_method`: GET or POST).
    async fn user_info(
        &self,
        metadata: &CoreProviderMetadata,
        access_token: &str,
    ) -> Result<Map<String, Value>, FederationError> {
        let Some(endpoint) = metadata.userinfo_endpoint() else {
            return Ok(Map::new());
        };
        let http = self.upstreams.http();
        let request = if self.detail("attributes_request_method") == Some("POST") {
            http.post(endpoint.url().as_str())
                .form(&[("access_token", access_token)])
        } else {
            http.get(endpoint.url().as_str()).bearer_auth(access_token)
        };
        let response = request
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                unavailable(
                    "the userinfo endpoint could not be reached",
                    error_chain(&e),
                )
            })?;
        if !response.status().is_success() {
            return Err(FederationError::Rejected(format!(
                "the userinfo endpoint answered {}",
                response.status()
            )));
        }
        match response.json::<Value>().await {
            Ok(Value::Object(claims)) => Ok(claims),
            // A signed (JWT) userinfo answer carries nothing the ID token lacks here.
            _ => Err(FederationError::Rejected(
                "the userinfo endpoint did not answer with a JSON object".into(),
            )),
        }
    }
}

/// The payload of a compact JWT whose signature was already verified.
fn jwt_payload(jwt: &str) -> Option<Map<String, Value>> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

impl OidcConnector<'_> {
    pub async fn authorization_url(&self, start: &Start<'_>) -> Result<String, FederationError> {
        let metadata = self.metadata(false).await?;
        let mut url = metadata.authorization_endpoint().url().clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", self.detail("client_id").unwrap_or_default())
            .append_pair("redirect_uri", start.redirect_uri)
            .append_pair("scope", &self.scopes())
            .append_pair("state", start.state)
            .append_pair("nonce", start.nonce);
        if !self.flavor.no_pkce {
            url.query_pairs_mut()
                .append_pair("code_challenge", start.code_challenge)
                .append_pair("code_challenge_method", "S256");
        }
        if self.flavor.form_post {
            url.query_pairs_mut()
                .append_pair("response_mode", "form_post");
        }
        Ok(url.to_string())
    }

    pub async fn exchange(
        &self,
        callback: &Callback<'_>,
    ) -> Result<UpstreamIdentity, FederationError> {
        let mut metadata = self.metadata(false).await?;
        let client_id = ClientId::new(self.detail("client_id").unwrap_or_default().to_owned());
        let secret = self
            .flavor
            .client_secret
            .as_deref()
            .or(self.detail("client_secret"))
            .map(|s| ClientSecret::new(s.to_owned()));
        let auth_type = if self.flavor.client_secret.is_some()
            || self.detail("token_endpoint_auth_method") == Some("client_secret_post")
        {
            AuthType::RequestBody
        } else {
            AuthType::BasicAuth
        };
        let redirect = RedirectUrl::new(callback.redirect_uri.to_owned())
            .map_err(|e| FederationError::Misconfigured(format!("redirect URI: {e}")))?;
        let client = |metadata: &CoreProviderMetadata| {
            CoreClient::from_provider_metadata(metadata.clone(), client_id.clone(), secret.clone())
                .set_redirect_uri(redirect.clone())
                .set_auth_type(auth_type.clone())
        };
        let token_client = client(&metadata);
        let mut request = token_client
            .exchange_code(AuthorizationCode::new(callback.code.to_owned()))
            .map_err(|e| FederationError::Misconfigured(format!("token endpoint: {e}")))?;
        if !self.flavor.no_pkce {
            request =
                request.set_pkce_verifier(PkceCodeVerifier::new(callback.pkce_verifier.to_owned()));
        }
        let token = request
            .request_async(self.upstreams.http())
            .await
            .map_err(|e| match &e {
                openidconnect::RequestTokenError::ServerResponse(answer) => {
                    FederationError::Rejected(format!(
                        "the token endpoint refused the code: {answer}"
                    ))
                }
                openidconnect::RequestTokenError::Parse(_, body) => {
                    FederationError::Rejected(format!(
                        "the token endpoint's answer is not a token response: {}",
                        super::oauth::describe_body(body)
                    ))
                }
                other => unavailable("the token endpoint could not be used", error_chain(other)),
            })?;
        let id_token = token.id_token().ok_or_else(|| {
            FederationError::Rejected("the token endpoint returned no id_token".into())
        })?;
        let nonce = Nonce::new(callback.nonce.to_owned());
        let first = id_token
            .claims(&client(&metadata).id_token_verifier(), &nonce)
            .map(|claims| claims.subject().to_string());
        let verified = match first {
            // A key we do not know: the provider rotated; fetch its keys once more.
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                metadata = self.metadata(true).await?;
                id_token
                    .claims(&client(&metadata).id_token_verifier(), &nonce)
                    .map(|claims| claims.subject().to_string())
            }
            other => other,
        };
        let subject = verified.map_err(|e| {
            FederationError::Rejected(format!("the ID token was refused: {}", error_chain(&e)))
        })?;
        let mut claims = jwt_payload(&id_token.to_string()).unwrap_or_default();
        let extra = self
            .user_info(&metadata, token.access_token().secret())
            .await?;
        if let Some(other) = extra.get("sub").and_then(Value::as_str)
            && other != subject
        {
            return Err(FederationError::Rejected(
                "the userinfo endpoint answered for another subject".into(),
            ));
        }
        for (name, value) in extra.into_iter().chain(callback.extra_claims.clone()) {
            // The signed ID token wins over userinfo and form fields.
            claims.entry(name).or_insert(value);
        }
        Ok(UpstreamIdentity {
            subject,
            claims,
            issuer: (!self.flavor.social).then(|| self.issuer.clone()),
        })
    }
}
