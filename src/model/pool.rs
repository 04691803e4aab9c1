//! User pools (docs/configuration.md, "`[[pool]]`"): the directory's settings, its sign-in
//! identifiers and its password policy.

use super::ids::PoolId;
use serde::{Deserialize, Serialize};

/// Attributes that may stand in for the username at sign-in (Cognito `AliasAttributes`).
pub const ALIAS_ATTRIBUTES: &[&str] = &["email", "phone_number", "preferred_username"];
/// Attributes that may be the username itself (Cognito `UsernameAttributes`).
pub const USERNAME_ATTRIBUTES: &[&str] = &["email", "phone_number"];
/// Attributes a pool may verify automatically (Cognito `AutoVerifiedAttributes`).
pub const AUTO_VERIFIABLE: &[&str] = &["email", "phone_number"];
/// Characters that count as symbols in a password policy (docs/hosted-ui.md, "Passwords").
pub const PASSWORD_SYMBOLS: &str = "^$*.[]{}()?-\"!@#%&/\\,><':;|_~`";
pub const MAX_PASSWORD_LEN: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPool {
    pub id: PoolId,
    pub name: String,
    /// A host (optionally with a port) whose requests are served at the root, Cognito-style.
    pub domain: Option<String>,
    pub settings: PoolSettings,
}

/// Everything about a pool beyond its identity. Stored as one JSON document so that later
/// settings arrive with a serde default instead of a migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PoolSettings {
    pub alias_attributes: Vec<String>,
    pub username_attributes: Vec<String>,
    pub auto_verified_attributes: Vec<String>,
    /// Cognito's `UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate`: a new
    /// value of these stays pending (the old one keeps signing in) until its code is entered.
    pub attributes_require_verification_before_update: Vec<String>,
    pub allow_admin_create_user_only: bool,
    pub username_case_sensitive: bool,
    pub password_policy: PasswordPolicy,
    pub mfa_configuration: MfaConfiguration,
    /// Standard attributes every user must have.
    pub required_attributes: Vec<String>,
    /// Custom attributes the pool defines, without the `custom:` prefix.
    pub custom_attributes: Vec<CustomAttribute>,
    pub messages: MessageTemplates,
    /// A password change or reset signs the user out everywhere else: refresh tokens (and the
    /// access tokens issued with them) are revoked and other sessions end.
    pub revoke_tokens_on_password_change: bool,
    /// The pool's hooks (docs/triggers.md).
    pub triggers: super::triggers::Triggers,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            alias_attributes: Vec::new(),
            username_attributes: Vec::new(),
            auto_verified_attributes: Vec::new(),
            attributes_require_verification_before_update: Vec::new(),
            allow_admin_create_user_only: false,
            username_case_sensitive: false,
            password_policy: PasswordPolicy::default(),
            mfa_configuration: MfaConfiguration::Off,
            required_attributes: Vec::new(),
            custom_attributes: Vec::new(),
            messages: MessageTemplates::default(),
            revoke_tokens_on_password_change: true,
            triggers: Default::default(),
        }
    }
}

impl PoolSettings {
    /// The key under which a username is unique: case-folded unless the pool is case sensitive.
    pub fn username_key(&self, username: &str) -> String {
        if self.username_case_sensitive {
            username.to_owned()
        } else {
            username.to_lowercase()
        }
    }
}

/// The emails a pool sends (docs/configuration.md, "`[pool.messages]`"): `{####}` is the code,
/// `{username}` the username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageTemplates {
    pub email_from: String,
    pub reply_to: Option<String>,
    pub verification_subject: String,
    pub verification_message: String,
    pub reset_subject: String,
    pub reset_message: String,
    /// Sent to users created with a temporary password: `{username}` and `{####}` (the password).
    pub invitation_subject: String,
    pub invitation_message: String,
}

/// Cognito's limits on message templates.
pub const MAX_EMAIL_MESSAGE_CHARS: usize = 20_000;
pub const MAX_EMAIL_SUBJECT_CHARS: usize = 140;

impl Default for MessageTemplates {
    fn default() -> Self {
        Self {
            email_from: "no-reply@localhost".into(),
            reply_to: None,
            verification_subject: "Your verification code".into(),
            verification_message: "Your verification code is {####}.".into(),
            reset_subject: "Your password reset code".into(),
            reset_message: "Your password reset code is {####}. It expires in one hour.".into(),
            invitation_subject: "Your temporary password".into(),
            invitation_message: "Your username is {username} and temporary password is {####}."
                .into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum MfaConfiguration {
    #[default]
    Off,
    Optional,
    On,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomAttribute {
    pub name: String,
    pub attribute_data_type: CustomAttributeType,
    pub mutable: bool,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
}

impl Default for CustomAttribute {
    fn default() -> Self {
        Self {
            name: String::new(),
            attribute_data_type: CustomAttributeType::String,
            mutable: true,
            min_length: None,
            max_length: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustomAttributeType {
    String,
    Number,
}

/// Cognito's `PasswordPolicy`; the default is the policy Cognito's console proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    pub minimum_length: u32,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    pub temporary_password_validity_days: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            minimum_length: 8,
            require_lowercase: true,
            require_uppercase: true,
            require_numbers: true,
            require_symbols: true,
            temporary_password_validity_days: 7,
        }
    }
}

/// One rule of a password policy that a password breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRule {
    MinimumLength(u32),
    MaximumLength,
    Lowercase,
    Uppercase,
    Number,
    Symbol,
}

impl std::fmt::Display for PasswordRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MinimumLength(n) => write!(f, "at least {n} characters"),
            Self::MaximumLength => write!(f, "at most {MAX_PASSWORD_LEN} characters"),
            Self::Lowercase => f.write_str("a lowercase letter"),
            Self::Uppercase => f.write_str("an uppercase letter"),
            Self::Number => f.write_str("a number"),
            Self::Symbol => f.write_str("a symbol"),
        }
    }
}

impl PasswordPolicy {
    /// Every rule `password` breaks; empty when it complies.
    pub fn violations(&self, password: &str) -> Vec<PasswordRule> {
        let mut broken = Vec::new();
        let length = password.chars().count();
        if length < self.minimum_length as usize {
            broken.push(PasswordRule::MinimumLength(self.minimum_length));
        }
        if length > MAX_PASSWORD_LEN {
            broken.push(PasswordRule::MaximumLength);
        }
        let has = |test: fn(char) -> bool| password.chars().any(test);
        if self.require_lowercase && !has(|c| c.is_lowercase()) {
            broken.push(PasswordRule::Lowercase);
        }
        if self.require_uppercase && !has(|c| c.is_uppercase()) {
            broken.push(PasswordRule::Uppercase);
        }
        if self.require_numbers && !has(|c| c.is_ascii_digit()) {
            broken.push(PasswordRule::Number);
        }
        if self.require_symbols && !has(|c| PASSWORD_SYMBOLS.contains(c)) {
            broken.push(PasswordRule::Symbol);
        }
        broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy_lists_every_broken_rule() {
        let policy = PasswordPolicy::default();
        assert!(policy.violations("Abcdef1!").is_empty());
        assert_eq!(
            policy.violations("abc"),
            vec![
                PasswordRule::MinimumLength(8),
                PasswordRule::Uppercase,
                PasswordRule::Number,
                PasswordRule::Symbol
            ]
        );
        // `=` and `+` are allowed but are not symbols.
        assert_eq!(policy.violations("Abcdef1+="), vec![PasswordRule::Symbol]);
    }

    #[test]
    fn usernames_fold_case_unless_the_pool_says_otherwise() {
        let mut settings = PoolSettings::default();
        assert_eq!(settings.username_key("Alice"), "alice");
        settings.username_case_sensitive = true;
        assert_eq!(settings.username_key("Alice"), "Alice");
    }
}
