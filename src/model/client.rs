//! App clients (docs/configuration.md, "`[[pool.client]]`"): who may ask for tokens, where the
//! browser may be sent back to, which flows and scopes the client may use, and how long its tokens
//! live.

use super::ids::{ClientId, PoolId};
use crate::secrets::SecretDigest;
use serde::{Deserialize, Serialize};
use url::Url;

/// Scopes every pool understands (docs/integrating.md, "Any OIDC relying party").
pub const RESERVED_SCOPES: &[&str] = &[
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// The built-in directory, as named in `supported_identity_providers`.
pub const COGNITO_PROVIDER: &str = "COGNITO";

#[derive(Clone, PartialEq, Eq)]
pub struct AppClient {
    pub id: ClientId,
    pub pool_id: PoolId,
    pub name: String,
    /// Digest of the client secret; `None` for a public client.
    pub secret: Option<SecretDigest>,
    /// The client secret sealed with the operator's key (`sealing::purpose::client_secret`),
    /// for checking `SECRET_HASH`; `None` for a public client, or a confidential one declared
    /// before secrets were sealed and not applied since.
    pub sealed_secret: Option<String>,
    pub settings: ClientSettings,
}

// By hand: the sealed secret stays out of every log line.
impl std::fmt::Debug for AppClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppClient")
            .field("id", &self.id)
            .field("pool_id", &self.pool_id)
            .field("name", &self.name)
            .field("secret", &self.secret)
            .field("sealed_secret", &self.sealed_secret.as_ref().map(|_| "…"))
            .field("settings", &self.settings)
            .finish()
    }
}

impl AppClient {
    pub fn is_confidential(&self) -> bool {
        self.secret.is_some()
    }

    /// Whether users of this client may sign in with `provider` (COGNITO: the pool's own page).
    pub fn supports(&self, provider: &str) -> bool {
        self.settings
            .supported_identity_providers
            .iter()
            .any(|p| p == provider)
    }
}

impl ClientSettings {
    /// How long a refresh token lives, in seconds.
    pub fn refresh_token_seconds(&self) -> i64 {
        match self.refresh_token_validity_minutes {
            Some(minutes) => i64::from(minutes) * 60,
            None => i64::from(self.refresh_token_validity_days) * 86_400,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthFlow {
    Code,
    Implicit,
    ClientCredentials,
}

impl OAuthFlow {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "code" => Some(Self::Code),
            "implicit" => Some(Self::Implicit),
            "client_credentials" => Some(Self::ClientCredentials),
            _ => None,
        }
    }
}

/// Client settings, stored as one JSON document (new settings get serde defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientSettings {
    pub callback_urls: Vec<String>,
    pub logout_urls: Vec<String>,
    pub default_redirect_uri: Option<String>,
    pub allowed_oauth_flows: Vec<OAuthFlow>,
    pub allowed_oauth_scopes: Vec<String>,
    pub supported_identity_providers: Vec<String>,
    /// Attributes the client may read; `None` means all of them.
    pub read_attributes: Option<Vec<String>>,
    /// Attributes the client may write; `None` means all of them.
    pub write_attributes: Option<Vec<String>>,
    pub access_token_validity_minutes: u32,
    pub id_token_validity_minutes: u32,
    pub refresh_token_validity_days: u32,
    /// Overrides the days when set: Cognito allows refresh tokens from 60 minutes.
    pub refresh_token_validity_minutes: Option<u32>,
    pub enable_token_revocation: bool,
    pub rotate_refresh_tokens: bool,
    /// A public client must send a PKCE challenge with `response_type=code` (RFC 9700 §2.1.1).
    /// Turning it off lets an intercepted code be redeemed by whoever holds it.
    pub require_pkce: bool,
    /// Cognito's `PreventUserExistenceErrors`: whether sign-up answers tell that a username or
    /// email is taken.
    pub prevent_user_existence_errors: ExistenceErrors,
    /// Cognito's `ExplicitAuthFlows`: the JSON API's sign-in flows this client may start.
    pub explicit_auth_flows: Vec<AuthFlow>,
    /// Cognito's `AuthSessionValidity`: how long an API sign-in's `Session` lasts (3–15).
    pub auth_session_validity_minutes: u32,
}

/// A flow of the JSON API's `InitiateAuth` / `AdminInitiateAuth` a client may allow
/// (docs/configuration.md, "`explicit_auth_flows`").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthFlow {
    UserSrp,
    UserPassword,
    AdminUserPassword,
    RefreshToken,
    CustomAuth,
    UserAuth,
}

impl AuthFlow {
    /// Cognito's `ALLOW_*` names, and the legacy ones it still accepts.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "ALLOW_USER_SRP_AUTH" => Self::UserSrp,
            "ALLOW_USER_PASSWORD_AUTH" | "USER_PASSWORD_AUTH" => Self::UserPassword,
            "ALLOW_ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => Self::AdminUserPassword,
            "ALLOW_REFRESH_TOKEN_AUTH" => Self::RefreshToken,
            "ALLOW_CUSTOM_AUTH" | "CUSTOM_AUTH_FLOW_ONLY" => Self::CustomAuth,
            "ALLOW_USER_AUTH" => Self::UserAuth,
            _ => return None,
        })
    }

    /// Cognito's `ALLOW_*` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::UserSrp => "ALLOW_USER_SRP_AUTH",
            Self::UserPassword => "ALLOW_USER_PASSWORD_AUTH",
            Self::AdminUserPassword => "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            Self::RefreshToken => "ALLOW_REFRESH_TOKEN_AUTH",
            Self::CustomAuth => "ALLOW_CUSTOM_AUTH",
            Self::UserAuth => "ALLOW_USER_AUTH",
        }
    }

    /// What a client allows when it names no flows: Cognito's default for a new client
    /// without `ExplicitAuthFlows` (custom auth left out: it needs triggers).
    pub const DEFAULT: [AuthFlow; 2] = [Self::UserSrp, Self::RefreshToken];
}

/// `AuthSessionValidity` in minutes, as Cognito allows it.
pub const AUTH_SESSION_MINUTES: std::ops::RangeInclusive<u32> = 3..=15;

/// `ENABLED` (the default): a taken username or email gets the same answer, page and timing as
/// a new one, and the account's owner is told by email. `LEGACY`: Cognito's own messages
/// ("User already exists"), which let anyone test whether an account exists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ExistenceErrors {
    #[default]
    Enabled,
    Legacy,
}

impl ExistenceErrors {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "ENABLED" => Some(Self::Enabled),
            "LEGACY" => Some(Self::Legacy),
            _ => None,
        }
    }
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            callback_urls: Vec::new(),
            logout_urls: Vec::new(),
            default_redirect_uri: None,
            allowed_oauth_flows: Vec::new(),
            allowed_oauth_scopes: Vec::new(),
            supported_identity_providers: vec![COGNITO_PROVIDER.to_owned()],
            read_attributes: None,
            write_attributes: None,
            access_token_validity_minutes: 60,
            id_token_validity_minutes: 60,
            refresh_token_validity_days: 30,
            refresh_token_validity_minutes: None,
            enable_token_revocation: true,
            rotate_refresh_tokens: false,
            require_pkce: true,
            prevent_user_existence_errors: ExistenceErrors::Enabled,
            explicit_auth_flows: AuthFlow::DEFAULT.to_vec(),
            auth_session_validity_minutes: 3,
        }
    }
}

/// Token lifetimes Cognito allows (docs/configuration.md, "`[[pool.client]]`").
pub const ACCESS_TOKEN_MINUTES: std::ops::RangeInclusive<u32> = 5..=1440;
pub const ID_TOKEN_MINUTES: std::ops::RangeInclusive<u32> = 5..=1440;
pub const REFRESH_TOKEN_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;
pub const REFRESH_TOKEN_MINUTES: std::ops::RangeInclusive<u32> = 60..=5_256_000;

/// Schemes a custom-scheme callback may never use: they run code or read local files.
const FORBIDDEN_SCHEMES: &[&str] = &["javascript", "data", "file", "vbscript", "about", "blob"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("`{0}` is not an absolute URL")]
    NotAbsolute(String),
    #[error("`{0}` has a fragment (`#…`), which a redirect URL may not have")]
    Fragment(String),
    #[error("`{0}` is not https, not http://localhost and not a custom scheme")]
    Insecure(String),
    #[error("`{0}` uses a scheme that can run code or read files")]
    ForbiddenScheme(String),
}

/// Checks a callback or sign-out URL: absolute, no fragment, and https, loopback http
/// (`localhost`, `127.0.0.1`, `[::1]`) or a custom app scheme such as `myapp://callback`.
pub fn validate_redirect_uri(value: &str) -> Result<Url, RedirectUriError> {
    let url = Url::parse(value).map_err(|_| RedirectUriError::NotAbsolute(value.to_owned()))?;
    if url.fragment().is_some() || value.contains('#') {
        return Err(RedirectUriError::Fragment(value.to_owned()));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_host(&url) => Ok(url),
        "http" => Err(RedirectUriError::Insecure(value.to_owned())),
        scheme if FORBIDDEN_SCHEMES.contains(&scheme) => {
            Err(RedirectUriError::ForbiddenScheme(value.to_owned()))
        }
        _ => Ok(url),
    }
}

/// Whether the URL points at this machine (RFC 8252 §7.3 loopback redirects).
pub fn is_loopback_host(url: &Url) -> bool {
    matches!(
        url.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_cognito_rules() {
        assert!(validate_redirect_uri("https://app.example.com/cb").is_ok());
        assert!(validate_redirect_uri("http://localhost:3000/callback").is_ok());
        assert!(validate_redirect_uri("http://127.0.0.1:8080/cb").is_ok());
        assert!(validate_redirect_uri("myapp://callback").is_ok());
        assert!(validate_redirect_uri("com.example.app:/oauth").is_ok());
        assert!(matches!(
            validate_redirect_uri("http://example.com/cb"),
            Err(RedirectUriError::Insecure(_))
        ));
        assert!(matches!(
            validate_redirect_uri("https://example.com/cb#x"),
            Err(RedirectUriError::Fragment(_))
        ));
        assert!(matches!(
            validate_redirect_uri("/callback"),
            Err(RedirectUriError::NotAbsolute(_))
        ));
        assert!(matches!(
            validate_redirect_uri("javascript:alert(1)"),
            Err(RedirectUriError::ForbiddenScheme(_))
        ));
        assert!(validate_redirect_uri("http://localhost.evil.com/cb").is_err());
    }
}
