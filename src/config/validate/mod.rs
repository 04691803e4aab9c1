//! Checks a parsed file against every rule and builds the domain objects it declares.
//! All problems are collected, so one run reports everything that is wrong.
//!
//! The rules themselves are listed in docs/configuration.md.

mod api;
mod clients;
mod identity_providers;
mod mail;
mod pool;
mod triggers;
mod ui;
mod users;

use super::file::FileConfig;
use super::{Declaration, Issue};
use crate::model::attributes;
use crate::model::client;
use mail::mail;
use pool::validate_pool;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt::Display;
use std::path::Path;

/// Cognito's limits that the file must respect
/// (<https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html>).
const MAX_PROVIDER_NAME: usize = 40;
const MAX_LINKED_IDENTITIES: usize = 5;
const MAX_SCOPES_PER_SERVER: usize = 60;
const MAX_CUSTOM_ATTRIBUTES: usize = 25;
/// Cognito's ProviderDetails keys, and the Facebook API version and token-endpoint method.
const PROVIDER_DETAILS: &[&str] = &[
    "client_id",
    "client_secret",
    "authorize_scopes",
    "attributes_request_method",
    "oidc_issuer",
    "authorize_url",
    "token_url",
    "attributes_url",
    "jwks_uri",
    "attributes_url_add_attributes",
    "team_id",
    "key_id",
    "private_key",
    "api_version",
    "token_endpoint_auth_method",
];
/// Provider-details keys that hold secrets and may be written `env:VAR`.
const SECRET_DETAILS: &[&str] = &["client_secret", "private_key"];

pub(super) struct Checker<'a> {
    issues: Vec<Issue>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Checker<'_> {
    fn fail(&mut self, path: impl Display, message: impl Display) {
        self.issues.push(Issue {
            path: path.to_string(),
            message: message.to_string(),
        });
    }

    /// Resolves `env:VAR` to the variable's value; other values are taken as written.
    fn secret(&mut self, path: impl Display, value: &str) -> Option<String> {
        match value.strip_prefix("env:") {
            Some(name) => match (self.env)(name) {
                Some(resolved) if !resolved.is_empty() => Some(resolved),
                _ => {
                    self.fail(path, format!("environment variable `{name}` is not set"));
                    None
                }
            },
            None => Some(value.to_owned()),
        }
    }
}

/// A stable id for something declared without one: derived from its name, so applying the
/// same file twice finds the same row.
pub fn derived_id(seed: &str, alphabet: &[u8], len: usize) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let mut out = String::with_capacity(len);
    let mut bytes = digest.iter().cycle();
    while out.len() < len {
        let byte = *bytes.next().expect("cycle never ends");
        out.push(alphabet[byte as usize % alphabet.len()] as char);
    }
    out
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

pub(super) fn validate(
    mut raw: FileConfig,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Declaration, Vec<Issue>> {
    let mut checker = Checker {
        issues: Vec::new(),
        env,
    };
    let mut pool_ids = HashSet::new();
    let mut client_ids = HashSet::new();
    let mut domains = HashSet::new();
    let mut pools = Vec::new();
    for (i, pool) in std::mem::take(&mut raw.pool).into_iter().enumerate() {
        let path = format!("pool[{i}]");
        let declared = validate_pool(&mut checker, &path, pool, base);
        if !pool_ids.insert(declared.pool.id.clone()) {
            checker.fail(
                format!("{path}.id"),
                format!("duplicate pool id `{}`", declared.pool.id),
            );
        }
        if let Some(domain) = &declared.pool.domain
            && !domains.insert(domain.clone())
        {
            checker.fail(
                format!("{path}.domain"),
                format!("domain `{domain}` is used by another pool"),
            );
        }
        for (j, client) in declared.clients.iter().enumerate() {
            if !client_ids.insert(client.id.clone()) {
                checker.fail(
                    format!("{path}.client[{j}].id"),
                    format!("duplicate client id `{}`", client.id),
                );
            }
        }
        pools.push(declared);
    }
    let mail = raw.mail.map(|m| mail(&mut checker, m, base));
    let api_credentials = api::credentials(&mut checker, raw.api_credentials, &pool_ids);
    let account_id = raw.account_id;
    if let Some(id) = &account_id
        && (id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()))
    {
        checker.fail("account_id", "must be 12 digits, like an AWS account id");
    }
    if checker.issues.is_empty() {
        Ok(Declaration {
            pools,
            mail,
            api_credentials,
            account_id,
        })
    } else {
        Err(checker.issues)
    }
}

fn check_subset(c: &mut Checker, path: String, values: &[String], allowed: &[&str]) {
    for (i, value) in values.iter().enumerate() {
        if !allowed.contains(&value.as_str()) {
            c.fail(
                format!("{path}[{i}]"),
                format!("`{value}` is not one of: {}", allowed.join(", ")),
            );
        }
    }
}

fn is_token(value: &str) -> bool {
    !value.is_empty()
        && !value
            .chars()
            .any(|ch| ch.is_whitespace() || ch.is_control())
}

fn check_urls(c: &mut Checker, path: String, urls: &[String]) {
    for (i, url) in urls.iter().enumerate() {
        if let Err(e) = client::validate_redirect_uri(url) {
            c.fail(format!("{path}[{i}]"), e);
        }
    }
}

fn check_attribute_names(c: &mut Checker, path: String, names: &Option<Vec<String>>) {
    for (i, name) in names.iter().flatten().enumerate() {
        if let Err(e) = attributes::validate_name(name) {
            c.fail(format!("{path}[{i}]"), e);
        }
    }
}

fn quote_key(key: &str) -> String {
    if key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        key.to_owned()
    } else {
        format!("\"{key}\"")
    }
}

fn read_file(c: &mut Checker, path: String, base: &Path, file: &str) -> Option<Vec<u8>> {
    std::fs::read(base.join(file))
        .map_err(|e| c.fail(path, format!("cannot read `{file}`: {e}")))
        .ok()
}
