//! The declarative file as written: keys mirror Cognito's API field names in snake_case.
//! Unknown keys are errors, so a typo never passes silently. See docs/configuration.md.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub pool: Vec<PoolFile>,
    /// How the server sends email; without it, messages go to the outbox file.
    pub mail: Option<MailFile>,
    /// Keys that may sign calls to the Cognito JSON API (docs/api.md).
    #[serde(default)]
    pub api_credentials: Vec<ApiCredentialFile>,
    /// The 12-digit account id in the API's ARNs (default `000000000000`).
    pub account_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiCredentialFile {
    pub access_key_id: String,
    /// May be `env:VAR_NAME`.
    pub secret_access_key: String,
    /// Pool ids the key may act on, or `["*"]`.
    pub pools: Vec<String>,
    /// IAM-like allow-list (`cognito-idp:*`, `cognito-idp:Admin*`); default all actions.
    pub actions: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailFile {
    /// The outbox file (JSON lines) used when no `[mail.smtp]` is given.
    pub outbox: Option<String>,
    pub smtp: Option<SmtpFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFile {
    pub host: String,
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    pub security: Option<String>,
    pub username: Option<String>,
    /// May be `env:VAR_NAME`.
    pub password: Option<String>,
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesFile {
    pub email_from: Option<String>,
    pub reply_to: Option<String>,
    pub verification_subject: Option<String>,
    pub verification_message: Option<String>,
    pub reset_subject: Option<String>,
    pub reset_message: Option<String>,
    pub invitation_subject: Option<String>,
    pub invitation_message: Option<String>,
}

/// The look of the hosted pages: on `[pool.ui]` for every client (Cognito's `ALL`), or on a
/// `[[pool.client]]` for that client alone.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiFile {
    pub css: Option<String>,
    pub css_file: Option<String>,
    pub logo_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolFile {
    pub id: Option<String>,
    pub name: String,
    /// Region for a generated id (`<region>_<9 alphanumerics>`); default `local`.
    pub region: Option<String>,
    pub domain: Option<String>,
    #[serde(default)]
    pub alias_attributes: Vec<String>,
    #[serde(default)]
    pub username_attributes: Vec<String>,
    #[serde(default)]
    pub auto_verified_attributes: Vec<String>,
    #[serde(default)]
    pub attributes_require_verification_before_update: Vec<String>,
    #[serde(default)]
    pub allow_admin_create_user_only: bool,
    #[serde(default)]
    pub username_case_sensitive: bool,
    /// Whether a password change or reset signs the user out elsewhere (default true).
    pub revoke_tokens_on_password_change: Option<bool>,
    #[serde(alias = "mfa_configuration")]
    pub mfa: Option<String>,
    #[serde(default)]
    pub required_attributes: Vec<String>,
    #[serde(default)]
    pub custom_attributes: Vec<CustomAttributeFile>,
    pub password_policy: Option<PasswordPolicyFile>,
    #[serde(default)]
    pub resource_server: Vec<ResourceServerFile>,
    #[serde(default)]
    pub client: Vec<ClientFile>,
    #[serde(default)]
    pub group: Vec<GroupFile>,
    #[serde(default)]
    pub user: Vec<UserFile>,
    #[serde(default)]
    pub identity_provider: Vec<IdentityProviderFile>,
    #[serde(default)]
    pub ui_customization: Vec<UiCustomizationFile>,
    pub ui: Option<UiFile>,
    pub messages: Option<MessagesFile>,
    /// `[pool.triggers]`: hook name → its webhook (docs/triggers.md).
    #[serde(default)]
    pub triggers: std::collections::BTreeMap<String, TriggerFile>,
}

/// One hook of `[pool.triggers]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerFile {
    pub url: String,
    /// The Standard Webhooks secret (`whsec_…`); `env:VAR` allowed.
    pub secret: String,
    /// Pre token generation only: `V1_0` (default), `V2_0` or `V3_0`.
    pub version: Option<String>,
    /// How long the hook has to answer (default 5000, Lambda's limit).
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomAttributeFile {
    pub name: String,
    #[serde(default = "default_attribute_type", alias = "type")]
    pub attribute_data_type: String,
    #[serde(default = "yes")]
    pub mutable: bool,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
}

fn default_attribute_type() -> String {
    "String".to_owned()
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicyFile {
    pub minimum_length: Option<u32>,
    pub require_lowercase: Option<bool>,
    pub require_uppercase: Option<bool>,
    pub require_numbers: Option<bool>,
    pub require_symbols: Option<bool>,
    pub temporary_password_validity_days: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceServerFile {
    pub identifier: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<ScopeFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    pub id: Option<String>,
    pub name: String,
    /// Present = confidential client. May be `env:VAR_NAME`.
    pub secret: Option<String>,
    #[serde(default)]
    pub callback_urls: Vec<String>,
    #[serde(default)]
    pub logout_urls: Vec<String>,
    pub default_redirect_uri: Option<String>,
    #[serde(default)]
    pub allowed_oauth_flows: Vec<String>,
    #[serde(default)]
    pub allowed_oauth_scopes: Vec<String>,
    pub supported_identity_providers: Option<Vec<String>>,
    pub read_attributes: Option<Vec<String>>,
    pub write_attributes: Option<Vec<String>>,
    pub access_token_validity_minutes: Option<u32>,
    pub id_token_validity_minutes: Option<u32>,
    pub refresh_token_validity_days: Option<u32>,
    pub refresh_token_validity_minutes: Option<u32>,
    pub enable_token_revocation: Option<bool>,
    pub rotate_refresh_tokens: Option<bool>,
    /// `"ENABLED"` (the default) or `"LEGACY"`, as Cognito's `PreventUserExistenceErrors`.
    pub prevent_user_existence_errors: Option<crate::model::client::ExistenceErrors>,
    pub require_pkce: Option<bool>,
    /// Cognito's `ExplicitAuthFlows` (`ALLOW_*` names or the legacy ones).
    pub explicit_auth_flows: Option<Vec<String>>,
    /// Cognito's `AuthSessionValidity`, 3–15 minutes.
    pub auth_session_validity_minutes: Option<u32>,
    pub css: Option<String>,
    pub css_file: Option<String>,
    pub logo_file: Option<String>,
    /// A directory of the client's own page templates (relative to the file).
    pub templates_dir: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupFile {
    pub name: String,
    pub description: Option<String>,
    pub precedence: Option<i64>,
    pub role_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserFile {
    pub username: String,
    /// May be `env:VAR_NAME`. Without one the user cannot sign in with a password.
    pub password: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// CONFIRMED (default), FORCE_CHANGE_PASSWORD, RESET_REQUIRED or UNCONFIRMED.
    pub status: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Forget the user's TOTP authenticator at this start (they set one up again).
    #[serde(default)]
    pub reset_mfa: bool,
    /// Upstream identities that sign in as this user (at most 5).
    #[serde(default)]
    pub linked_identities: Vec<LinkedIdentityFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderFile {
    pub name: String,
    #[serde(rename = "type")]
    pub provider_type: String,
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    #[serde(default)]
    pub attribute_mapping: BTreeMap<String, String>,
    #[serde(default)]
    pub idp_identifiers: Vec<String>,
    /// Beyond Cognito: a first sign-in whose *verified* email matches a native user's verified
    /// email signs in as that user (and links the identity to it).
    #[serde(default)]
    pub link_by_verified_email: bool,
}

/// An upstream identity linked to a native user (Cognito's AdminLinkProviderForUser).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkedIdentityFile {
    /// An identity provider of the pool.
    pub provider: String,
    /// The user's subject at that provider (`sub`, Facebook `id`, Amazon `user_id`).
    pub subject: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiCustomizationFile {
    /// An app client id of this pool, or `ALL`.
    #[serde(default = "all_clients")]
    pub client_id: String,
    pub css: Option<String>,
    /// Read at start, relative to the configuration file.
    pub css_file: Option<String>,
    pub logo_file: Option<String>,
}

fn all_clients() -> String {
    crate::model::directory::ALL_CLIENTS.to_owned()
}
