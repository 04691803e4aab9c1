//! Sign-in through upstream identity providers (docs/federation.md). One connector per provider
//! type behind `Connector`; each turns the provider's answer into one `UpstreamIdentity`
//! (subject + claims), so provider quirks stay inside their connector and the shared flow
//! (`flows::federation`) never sees them.

pub mod amazon;
pub mod apple;
pub mod facebook;
pub mod mapping;
pub mod oauth;
pub mod oidc;

use crate::model::{IdentityProvider, ProviderType};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Upstream calls give up after this long: a provider that is down must not hold a thread.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// What the authorization request to the upstream carries.
pub struct Start<'a> {
    /// Our `/oauth2/idpresponse` URL.
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    /// The S256 PKCE challenge.
    pub code_challenge: &'a str,
}

/// What comes back to `/oauth2/idpresponse`, with what we kept for it.
pub struct Callback<'a> {
    pub code: &'a str,
    pub redirect_uri: &'a str,
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
    /// Claims the provider put in the answer itself (Sign in with Apple's `user` field).
    pub extra_claims: Map<String, Value>,
}

/// One signed-in upstream user, whatever the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamIdentity {
    pub subject: String,
    /// Every claim or profile field the provider returned.
    pub claims: Map<String, Value>,
    /// The OIDC issuer, for the `identities` claim (`None` for social providers, as Cognito).
    pub issuer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederationError {
    /// The provider could not be reached or answered with an error page.
    #[error("{0}")]
    Unavailable(String),
    /// The provider's answer was refused (bad signature, issuer, audience, nonce, expiry…).
    #[error("{0}")]
    Rejected(String),
    /// The provider is configured in a way that cannot work.
    #[error("{0}")]
    Misconfigured(String),
}

pub trait Connector: Send + Sync {
    /// Where to send the browser.
    fn authorization_url(&self, start: &Start) -> Result<String, FederationError>;
    /// Exchanges the code and returns who signed in.
    fn exchange(&self, callback: &Callback) -> Result<UpstreamIdentity, FederationError>;
    /// Claims carried by the answer's own parameters (none but Apple's), from `params`.
    fn answer_claims(&self, _params: &crate::oauth::Params) -> Map<String, Value> {
        Map::new()
    }
}

/// What connectors share: one HTTP client and the OIDC discovery cache.
#[derive(Default)]
pub struct Upstreams {
    /// Built on first use, on a blocking thread: a blocking client may not be made in async code.
    http: OnceLock<reqwest::blocking::Client>,
    pub discovery: oidc::DiscoveryCache,
}

impl Upstreams {
    pub fn http(&self) -> &reqwest::blocking::Client {
        self.http.get_or_init(|| {
            reqwest::blocking::Client::builder()
                // Token and userinfo endpoints must answer directly (OAuth 2.0 Security BCP).
                .redirect(reqwest::redirect::Policy::none())
                .timeout(UPSTREAM_TIMEOUT)
                .connect_timeout(Duration::from_secs(5))
                .user_agent("gatehouse")
                .build()
                .expect("the HTTP client builds")
        })
    }
}

/// The connector for a configured provider.
pub fn connector<'a>(
    provider: &'a IdentityProvider,
    upstreams: &'a Arc<Upstreams>,
) -> Result<Box<dyn Connector + 'a>, FederationError> {
    match provider.provider_type {
        ProviderType::Oidc => Ok(Box::new(oidc::OidcConnector::new(
            provider, upstreams, None,
        )?)),
        // Google is an OpenID Provider with a fixed issuer (overridable for tests and proxies).
        ProviderType::Google => Ok(Box::new(
            oidc::OidcConnector::new(provider, upstreams, Some("https://accounts.google.com"))?
                .with_flavor(oidc::Flavor {
                    social: true,
                    ..oidc::Flavor::default()
                }),
        )),
        ProviderType::Facebook => Ok(Box::new(facebook::FacebookConnector::new(
            provider, upstreams,
        ))),
        ProviderType::LoginWithAmazon => {
            Ok(Box::new(amazon::AmazonConnector::new(provider, upstreams)))
        }
        ProviderType::SignInWithApple => {
            Ok(Box::new(apple::AppleConnector::new(provider, upstreams)?))
        }
    }
}
