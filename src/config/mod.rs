//! Declarative configuration: `gatehouse.toml` is read, every `env:VAR` secret resolved and every
//! rule checked before anything is written, so a bad file never half-applies. The result is a
//! `Declaration` of domain objects that `provision::apply` writes idempotently.
//!
//! Errors name the file, the key path (`pool[0].client[1].callback_urls[0]`) and the problem.
//!
//! The file's keys and rules: docs/configuration.md.

pub mod file;
mod validate;

use crate::model::{
    AppClient, Attributes, Group, IdentityProvider, ResourceServer, UiCustomization, UserPool,
    UserStatus,
};
use std::fmt;
use std::path::{Path, PathBuf};

pub use validate::derived_id;

/// Everything a configuration file declares, validated.
#[derive(Debug, Clone)]
pub struct Declaration {
    pub pools: Vec<DeclaredPool>,
    /// `[mail]`, when the file has one.
    pub mail: Option<crate::mail::MailSettings>,
    /// `[[api_credentials]]`: keys that may sign API calls.
    pub api_credentials: Vec<std::sync::Arc<crate::api::ApiCredential>>,
    /// `account_id`, when the file sets it.
    pub account_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DeclaredPool {
    pub pool: UserPool,
    pub resource_servers: Vec<ResourceServer>,
    pub clients: Vec<AppClient>,
    pub groups: Vec<Group>,
    pub users: Vec<DeclaredUser>,
    pub identity_providers: Vec<IdentityProvider>,
    pub ui_customizations: Vec<UiCustomization>,
    /// Clients' own page templates, compiled, by client id.
    pub templates: Vec<(
        String,
        std::sync::Arc<crate::ui::overrides::ClientTemplates>,
    )>,
    /// Confidential clients' secrets in clear, by client id: sealed with the server's key when
    /// applied (only the digest is kept otherwise).
    pub client_secrets: std::collections::BTreeMap<String, crate::sealing::Clear>,
}

#[derive(Debug, Clone)]
pub struct DeclaredUser {
    pub username: String,
    /// The resolved password, hashed when applied; never stored as given.
    pub password: Option<String>,
    pub attributes: Attributes,
    pub groups: Vec<String>,
    pub status: UserStatus,
    pub enabled: bool,
    /// Forget the user's TOTP authenticator when applied.
    pub reset_mfa: bool,
    /// (provider, subject) pairs that sign in as this user.
    pub linked_identities: Vec<(String, String)>,
}

/// One problem in a file, at a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub path: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ConfigError {
    pub file: PathBuf,
    pub issues: Vec<Issue>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            if issue.path.is_empty() {
                write!(f, "{}: {}", self.file.display(), issue.message)?;
            } else {
                write!(
                    f,
                    "{}: {}: {}",
                    self.file.display(),
                    issue.path,
                    issue.message
                )?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Reads and validates a configuration file, resolving `env:` secrets from the process
/// environment and `*_file` paths relative to the file.
pub fn load(path: &Path) -> Result<Declaration, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_owned(),
        issues: vec![Issue {
            path: String::new(),
            message: format!("cannot read the file: {e}"),
        }],
    })?;
    let base = path.parent().unwrap_or(Path::new(".")).to_owned();
    let env = |name: &str| std::env::var(name).ok();
    parse(&text, path, &base, &env)
}

/// Parses and validates configuration text. `env` looks up `env:VAR` secrets; `base` is the
/// directory `css_file` and `logo_file` are relative to.
pub fn parse(
    text: &str,
    file: &Path,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Declaration, ConfigError> {
    let error = |issues| ConfigError {
        file: file.to_owned(),
        issues,
    };
    let raw: file::FileConfig = parse_toml(text).map_err(|issue| error(vec![issue]))?;
    validate::validate(raw, base, env).map_err(error)
}

fn parse_toml(text: &str) -> Result<file::FileConfig, Issue> {
    let deserializer =
        toml::de::Deserializer::parse(text).map_err(|e| toml_issue(text, String::new(), &e))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        toml_issue(text, path, e.inner())
    })
}

fn toml_issue(text: &str, path: String, error: &toml::de::Error) -> Issue {
    let line = error
        .span()
        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let message = error.message().trim().to_owned();
    Issue {
        path,
        message: match line {
            Some(line) => format!("{message} (line {line})"),
            None => message,
        },
    }
}
