//! The rest of a pool's directory: groups (docs/configuration.md, "`[[pool.group]]`"), resource
//! servers and their scopes (docs/integrating.md, "Machine to machine and resource servers"),
//! identity providers (docs/federation.md) and hosted-UI customizations (docs/customization.md).

use super::ids::PoolId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub pool_id: PoolId,
    pub name: String,
    pub description: Option<String>,
    /// Non-negative; 0 wins over every other value, and any value wins over none.
    pub precedence: Option<i32>,
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceServer {
    pub pool_id: PoolId,
    /// Often the API's https URL; scopes are requested as `identifier/name`.
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<ResourceScope>,
}

impl ResourceServer {
    /// The scopes as clients request them: `identifier/name`.
    pub fn qualified_scopes(&self) -> impl Iterator<Item = String> + '_ {
        self.scopes
            .iter()
            .map(|s| format!("{}/{}", self.identifier, s.name))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceScope {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Upstream provider kinds, spelled as Cognito's `ProviderType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProviderType {
    Google,
    Facebook,
    LoginWithAmazon,
    SignInWithApple,
    #[serde(rename = "OIDC")]
    Oidc,
}

impl ProviderType {
    pub const ALL: [ProviderType; 5] = [
        Self::Google,
        Self::Facebook,
        Self::LoginWithAmazon,
        Self::SignInWithApple,
        Self::Oidc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Google => "Google",
            Self::Facebook => "Facebook",
            Self::LoginWithAmazon => "LoginWithAmazon",
            Self::SignInWithApple => "SignInWithApple",
            Self::Oidc => "OIDC",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    pub pool_id: PoolId,
    pub name: String,
    pub provider_type: ProviderType,
    /// Cognito's `ProviderDetails` (client_id, client_secret, authorize_scopes, oidc_issuer, …).
    pub details: BTreeMap<String, String>,
    /// Pool attribute ← provider attribute.
    pub attribute_mapping: BTreeMap<String, String>,
    pub idp_identifiers: Vec<String>,
}

/// The details key that turns on linking by verified email (kept with Cognito's
/// ProviderDetails; the file's `link_by_verified_email = true` sets it).
pub const LINK_BY_VERIFIED_EMAIL: &str = "link_by_verified_email";

impl IdentityProvider {
    pub fn links_by_verified_email(&self) -> bool {
        self.details.get(LINK_BY_VERIFIED_EMAIL).map(String::as_str) == Some("true")
    }
}

/// The client id under which a pool-wide customization is stored.
pub const ALL_CLIENTS: &str = "ALL";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiCustomization {
    pub pool_id: PoolId,
    /// An app client id, or `ALL` for every client without its own customization.
    pub client_id: String,
    pub css: Option<String>,
    pub logo: Option<Vec<u8>>,
}
