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
use std::time::{Duration, Instant};

/// Upstream calls give up after this long: a provider that is down must not keep a sign-in
/// waiting for ever.
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

/// A provider's connector. Every upstream call is async: no thread and no database connection
/// waits on a provider (docs/architecture.md). Each call is counted and timed here, once for
/// every provider type (`gatehouse_upstream_requests_total`, docs/deployment.md "Metrics").
pub struct Connector<'a> {
    kind: ConnectorKind<'a>,
    /// The provider's type, as a metric label.
    label: &'static str,
    metrics: &'a crate::metrics::Metrics,
}

enum ConnectorKind<'a> {
    /// Any OpenID Provider, Google included.
    Oidc(oidc::OidcConnector<'a>),
    Facebook(facebook::FacebookConnector<'a>),
    Amazon(amazon::AmazonConnector<'a>),
    Apple(apple::AppleConnector<'a>),
}

impl Connector<'_> {
    /// Where to send the browser (an OpenID Provider's may need discovery first).
    pub async fn authorization_url(&self, start: &Start<'_>) -> Result<String, FederationError> {
        let started = std::time::Instant::now();
        let url = match &self.kind {
            ConnectorKind::Oidc(c) => c.authorization_url(start).await,
            ConnectorKind::Facebook(c) => c.authorization_url(start),
            ConnectorKind::Amazon(c) => c.authorization_url(start),
            ConnectorKind::Apple(c) => c.authorization_url(start).await,
        };
        self.record("authorize", url.as_ref().err(), started);
        url
    }

    /// Exchanges the code and returns who signed in.
    pub async fn exchange(
        &self,
        callback: &Callback<'_>,
    ) -> Result<UpstreamIdentity, FederationError> {
        let started = std::time::Instant::now();
        let identity = match &self.kind {
            ConnectorKind::Oidc(c) => c.exchange(callback).await,
            ConnectorKind::Facebook(c) => c.exchange(callback).await,
            ConnectorKind::Amazon(c) => c.exchange(callback).await,
            ConnectorKind::Apple(c) => c.exchange(callback).await,
        };
        self.record("exchange", identity.as_ref().err(), started);
        identity
    }

    /// Claims carried by the answer's own parameters (none but Apple's), from `params`.
    pub fn answer_claims(&self, params: &crate::oauth::Params) -> Map<String, Value> {
        match &self.kind {
            ConnectorKind::Apple(c) => c.answer_claims(params),
            _ => Map::new(),
        }
    }

    fn record(&self, call: &'static str, error: Option<&FederationError>, started: Instant) {
        let result = match error {
            None => "ok",
            Some(FederationError::Unavailable(_)) => "unavailable",
            Some(FederationError::Rejected(_)) => "rejected",
            Some(FederationError::Misconfigured(_)) => "misconfigured",
        };
        self.metrics
            .upstream_call(self.label, call, result, started.elapsed());
    }
}

/// What connectors share: one HTTP client, the OIDC discovery cache and the server's metrics.
#[derive(Default)]
pub struct Upstreams {
    /// Built on first use: the TLS provider is installed at start-up, before any request.
    http: OnceLock<reqwest::Client>,
    pub discovery: oidc::DiscoveryCache,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Upstreams {
    /// Upstreams whose calls are counted in `metrics`.
    pub fn with_metrics(metrics: Arc<crate::metrics::Metrics>) -> Self {
        Self {
            metrics,
            ..Self::default()
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            reqwest::Client::builder()
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
) -> Result<Connector<'a>, FederationError> {
    let kind = match provider.provider_type {
        ProviderType::Oidc => {
            ConnectorKind::Oidc(oidc::OidcConnector::new(provider, upstreams, None)?)
        }
        // Google is an OpenID Provider with a fixed issuer (overridable for tests and proxies).
        ProviderType::Google => ConnectorKind::Oidc(
            oidc::OidcConnector::new(provider, upstreams, Some("https://accounts.google.com"))?
                .with_flavor(oidc::Flavor {
                    social: true,
                    ..oidc::Flavor::default()
                }),
        ),
        ProviderType::Facebook => {
            ConnectorKind::Facebook(facebook::FacebookConnector::new(provider, upstreams))
        }
        ProviderType::LoginWithAmazon => {
            ConnectorKind::Amazon(amazon::AmazonConnector::new(provider, upstreams))
        }
        ProviderType::SignInWithApple => {
            ConnectorKind::Apple(apple::AppleConnector::new(provider, upstreams)?)
        }
    };
    Ok(Connector {
        kind,
        label: provider_label(provider.provider_type),
        metrics: &upstreams.metrics,
    })
}

/// A provider type as a metric label.
fn provider_label(provider_type: ProviderType) -> &'static str {
    match provider_type {
        ProviderType::Oidc => "oidc",
        ProviderType::Google => "google",
        ProviderType::Facebook => "facebook",
        ProviderType::LoginWithAmazon => "amazon",
        ProviderType::SignInWithApple => "apple",
    }
}
