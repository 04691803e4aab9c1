//! Checks a parsed file against every rule and builds the domain objects it declares.
//! All problems are collected, so one run reports everything that is wrong.

use super::file::*;
use super::{Declaration, DeclaredPool, DeclaredUser, Issue};
use crate::mail::MailSettings;
use crate::mail::outbox::DEFAULT_PATH as DEFAULT_OUTBOX;
use crate::mail::smtp::{SmtpSecurity, SmtpSettings};
use crate::model::attributes::{self, Attributes};
use crate::model::client::{
    self, ACCESS_TOKEN_MINUTES, COGNITO_PROVIDER, ID_TOKEN_MINUTES, REFRESH_TOKEN_DAYS,
    REFRESH_TOKEN_MINUTES, RESERVED_SCOPES,
};
use crate::model::directory::{ALL_CLIENTS, LINK_BY_VERIFIED_EMAIL};
use crate::model::pool::{
    ALIAS_ATTRIBUTES, AUTO_VERIFIABLE, CustomAttribute, CustomAttributeType, MfaConfiguration,
    USERNAME_ATTRIBUTES,
};
use crate::model::pool::{MAX_EMAIL_MESSAGE_CHARS, MAX_EMAIL_SUBJECT_CHARS, MessageTemplates};
use crate::model::{
    AppClient, ClientId, ClientSettings, Group, IdentityProvider, OAuthFlow, PasswordPolicy,
    PoolId, PoolSettings, ProviderType, ResourceScope, ResourceServer, UiCustomization, UserPool,
    UserStatus,
};
use crate::secrets::SecretDigest;
use crate::ui::overrides::ClientTemplates;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Display;
use std::path::Path;
use std::sync::Arc;

/// Cognito's limits that the file must respect (spec: user-pools.md §19).
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
    if checker.issues.is_empty() {
        Ok(Declaration { pools, mail })
    } else {
        Err(checker.issues)
    }
}

fn validate_pool(c: &mut Checker, path: &str, raw: PoolFile, base: &Path) -> DeclaredPool {
    if raw.name.is_empty()
        || raw.name.chars().count() > 128
        || !raw
            .name
            .chars()
            .all(|ch| ch.is_alphanumeric() || " _+=,.@-".contains(ch))
    {
        c.fail(
            format!("{path}.name"),
            "a pool name is 1 to 128 letters, digits, spaces or `_ + = , . @ -`",
        );
    }
    let region = raw
        .region
        .clone()
        .unwrap_or_else(|| crate::model::ids::DEFAULT_REGION.to_owned());
    let id = match &raw.id {
        Some(id) => PoolId::parse(id).unwrap_or_else(|e| {
            c.fail(format!("{path}.id"), e);
            PoolId::generate(&region)
        }),
        None => {
            let generated = format!(
                "{region}_{}",
                derived_id(&format!("pool:{}", raw.name), ALNUM, 9)
            );
            PoolId::parse(&generated).unwrap_or_else(|e| {
                c.fail(format!("{path}.region"), e);
                PoolId::generate(crate::model::ids::DEFAULT_REGION)
            })
        }
    };
    if let Some(domain) = &raw.domain
        && !is_valid_domain(domain)
    {
        c.fail(
                format!("{path}.domain"),
                format!("`{domain}` is not a host name (lowercase letters, digits, hyphens and dots, optionally `:port`)"),
            );
    }
    let settings = pool_settings(c, path, &raw);
    let pool = UserPool {
        id: id.clone(),
        name: raw.name.clone(),
        domain: raw.domain.clone(),
        settings,
    };

    let resource_servers = resource_servers(c, path, &id, raw.resource_server);
    let custom_scopes: HashSet<String> = resource_servers
        .iter()
        .flat_map(|server| server.qualified_scopes())
        .collect();
    let mut provider_names = HashSet::new();
    let identity_providers: Vec<IdentityProvider> = raw
        .identity_provider
        .into_iter()
        .enumerate()
        .filter_map(|(i, provider)| {
            let path = format!("{path}.identity_provider[{i}]");
            let provider = identity_provider(c, &path, &pool, provider)?;
            if !provider_names.insert(provider.name.clone()) {
                c.fail(
                    format!("{path}.name"),
                    format!("duplicate identity provider `{}`", provider.name),
                );
            }
            Some(provider)
        })
        .collect();
    let mut client_looks = Vec::new();
    let mut templates = Vec::new();
    let clients: Vec<AppClient> = raw
        .client
        .into_iter()
        .enumerate()
        .filter_map(|(i, mut client)| {
            let look = UiFile {
                css: client.css.take(),
                css_file: client.css_file.take(),
                logo_file: client.logo_file.take(),
            };
            let client_path = format!("{path}.client[{i}]");
            let templates_dir = client.templates_dir.take();
            let client = app_client(
                c,
                &client_path,
                &id,
                client,
                &custom_scopes,
                &provider_names,
            )?;
            if let Some(dir) = templates_dir {
                match ClientTemplates::load(&base.join(&dir)) {
                    Ok(loaded) => templates.push((client.id.to_string(), Arc::new(loaded))),
                    Err(errors) => {
                        for error in errors {
                            let key = format!("{client_path}.templates_dir");
                            c.fail(key, format!("`{dir}`: {error}"));
                        }
                    }
                }
            }
            client_looks.push((client_path, client.id.to_string(), look));
            Some(client)
        })
        .collect();
    let groups = groups(c, path, &id, raw.group);
    let group_names: HashSet<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    let mut usernames = HashSet::new();
    let users: Vec<DeclaredUser> = raw
        .user
        .into_iter()
        .enumerate()
        .filter_map(|(i, user)| {
            let path = format!("{path}.user[{i}]");
            let declared = user_declaration(c, &path, &pool, user, &group_names, &provider_names)?;
            if !usernames.insert(pool.settings.username_key(&declared.username)) {
                c.fail(
                    format!("{path}.username"),
                    format!("duplicate username `{}`", declared.username),
                );
            }
            Some(declared)
        })
        .collect();
    let client_ids: HashSet<&str> = clients.iter().map(|cl| cl.id.as_str()).collect();
    let mut ui_customizations: Vec<UiCustomization> = raw
        .ui_customization
        .into_iter()
        .enumerate()
        .filter_map(|(i, ui)| {
            let path = format!("{path}.ui_customization[{i}]");
            if ui.client_id != ALL_CLIENTS && !client_ids.contains(ui.client_id.as_str()) {
                c.fail(
                    format!("{path}.client_id"),
                    format!(
                        "`{}` is neither ALL nor a client declared in this pool",
                        ui.client_id
                    ),
                );
            }
            let look = UiFile {
                css: ui.css,
                css_file: ui.css_file,
                logo_file: ui.logo_file,
            };
            ui_customization(c, &path, &id, ui.client_id, look, base)
        })
        .collect();
    let declared_looks = raw
        .ui
        .map(|look| (format!("{path}.ui"), ALL_CLIENTS.to_owned(), look))
        .into_iter()
        .chain(client_looks);
    for (look_path, client_id, look) in declared_looks {
        if look.css.is_none() && look.css_file.is_none() && look.logo_file.is_none() {
            continue;
        }
        if ui_customizations.iter().any(|u| u.client_id == client_id) {
            c.fail(
                &look_path,
                format!("`{client_id}` is also customized in a [[pool.ui_customization]]"),
            );
        }
        ui_customizations.extend(ui_customization(c, &look_path, &id, client_id, look, base));
    }
    DeclaredPool {
        pool,
        resource_servers,
        clients,
        groups,
        users,
        identity_providers,
        ui_customizations,
        templates,
    }
}

fn is_valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    let labels_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    port_ok && labels_ok
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

fn pool_settings(c: &mut Checker, path: &str, raw: &PoolFile) -> PoolSettings {
    check_subset(
        c,
        format!("{path}.alias_attributes"),
        &raw.alias_attributes,
        ALIAS_ATTRIBUTES,
    );
    check_subset(
        c,
        format!("{path}.username_attributes"),
        &raw.username_attributes,
        USERNAME_ATTRIBUTES,
    );
    check_subset(
        c,
        format!("{path}.auto_verified_attributes"),
        &raw.auto_verified_attributes,
        AUTO_VERIFIABLE,
    );
    if !raw.alias_attributes.is_empty() && !raw.username_attributes.is_empty() {
        c.fail(
            format!("{path}.username_attributes"),
            "a pool signs in either by username with aliases or by email/phone as username, not both",
        );
    }
    for (i, name) in raw.required_attributes.iter().enumerate() {
        if !attributes::STANDARD_ATTRIBUTES.contains(&name.as_str()) || name.ends_with("_verified")
        {
            c.fail(
                format!("{path}.required_attributes[{i}]"),
                format!("`{name}` is not a standard attribute that can be required"),
            );
        }
        if name == "preferred_username"
            && raw
                .alias_attributes
                .iter()
                .any(|a| a == "preferred_username")
        {
            c.fail(
                format!("{path}.required_attributes[{i}]"),
                "preferred_username cannot be both required and an alias",
            );
        }
    }
    if raw.custom_attributes.len() > MAX_CUSTOM_ATTRIBUTES {
        c.fail(
            format!("{path}.custom_attributes"),
            format!("a pool has at most {MAX_CUSTOM_ATTRIBUTES} custom attributes"),
        );
    }
    let mut custom_names = HashSet::new();
    let custom_attributes = raw
        .custom_attributes
        .iter()
        .enumerate()
        .map(|(i, attr)| {
            let at = format!("{path}.custom_attributes[{i}]");
            let bare = attr
                .name
                .strip_prefix(attributes::CUSTOM_PREFIX)
                .unwrap_or(&attr.name);
            if attributes::validate_name(&format!("{}{bare}", attributes::CUSTOM_PREFIX)).is_err() {
                c.fail(
                    format!("{at}.name"),
                    "a custom attribute name is 1 to 20 characters",
                );
            }
            if !custom_names.insert(bare.to_owned()) {
                c.fail(
                    format!("{at}.name"),
                    format!("duplicate custom attribute `{bare}`"),
                );
            }
            let data_type = match attr.attribute_data_type.as_str() {
                "String" => CustomAttributeType::String,
                "Number" => CustomAttributeType::Number,
                other => {
                    c.fail(
                        format!("{at}.attribute_data_type"),
                        format!("`{other}` is not String or Number"),
                    );
                    CustomAttributeType::String
                }
            };
            if attr
                .max_length
                .is_some_and(|max| max as usize > attributes::MAX_VALUE_BYTES)
                || matches!((attr.min_length, attr.max_length), (Some(min), Some(max)) if min > max)
            {
                c.fail(
                    format!("{at}.max_length"),
                    "lengths must satisfy min <= max <= 2048",
                );
            }
            CustomAttribute {
                name: bare.to_owned(),
                attribute_data_type: data_type,
                mutable: attr.mutable,
                min_length: attr.min_length,
                max_length: attr.max_length,
            }
        })
        .collect();
    let mfa_configuration = match raw.mfa.as_deref() {
        None | Some("OFF") => MfaConfiguration::Off,
        Some("OPTIONAL") => MfaConfiguration::Optional,
        Some("ON") => MfaConfiguration::On,
        Some(other) => {
            c.fail(
                format!("{path}.mfa"),
                format!("`{other}` is not OFF, OPTIONAL or ON"),
            );
            MfaConfiguration::Off
        }
    };
    let mut policy = PasswordPolicy::default();
    if let Some(p) = &raw.password_policy {
        policy.minimum_length = p.minimum_length.unwrap_or(policy.minimum_length);
        policy.require_lowercase = p.require_lowercase.unwrap_or(policy.require_lowercase);
        policy.require_uppercase = p.require_uppercase.unwrap_or(policy.require_uppercase);
        policy.require_numbers = p.require_numbers.unwrap_or(policy.require_numbers);
        policy.require_symbols = p.require_symbols.unwrap_or(policy.require_symbols);
        policy.temporary_password_validity_days = p
            .temporary_password_validity_days
            .unwrap_or(policy.temporary_password_validity_days);
    }
    if !(6..=99).contains(&policy.minimum_length) {
        c.fail(
            format!("{path}.password_policy.minimum_length"),
            "must be between 6 and 99",
        );
    }
    if !(1..=365).contains(&policy.temporary_password_validity_days) {
        c.fail(
            format!("{path}.password_policy.temporary_password_validity_days"),
            "must be between 1 and 365",
        );
    }
    PoolSettings {
        alias_attributes: raw.alias_attributes.clone(),
        username_attributes: raw.username_attributes.clone(),
        auto_verified_attributes: raw.auto_verified_attributes.clone(),
        allow_admin_create_user_only: raw.allow_admin_create_user_only,
        username_case_sensitive: raw.username_case_sensitive,
        password_policy: policy,
        mfa_configuration,
        required_attributes: raw.required_attributes.clone(),
        custom_attributes,
        messages: messages(c, path, raw.messages.as_ref()),
    }
}

/// `[pool.messages]`: Cognito's rules (user-pools.md §16.2): messages carry `{####}` and are at
/// most 20,000 characters, subjects at most 140, addresses must parse.
fn messages(c: &mut Checker, path: &str, raw: Option<&MessagesFile>) -> MessageTemplates {
    let mut templates = MessageTemplates::default();
    let Some(raw) = raw else {
        return templates;
    };
    let path = format!("{path}.messages");
    let address = |c: &mut Checker, key: &str, value: &str| {
        if value.parse::<lettre::message::Mailbox>().is_err() {
            c.fail(
                format!("{path}.{key}"),
                format!("`{value}` is not an email address"),
            );
        }
        value.to_owned()
    };
    if let Some(from) = &raw.email_from {
        templates.email_from = address(c, "email_from", from);
    }
    if let Some(reply_to) = &raw.reply_to {
        templates.reply_to = Some(address(c, "reply_to", reply_to));
    }
    let subjects = [
        (
            "verification_subject",
            &raw.verification_subject,
            &mut templates.verification_subject,
        ),
        (
            "reset_subject",
            &raw.reset_subject,
            &mut templates.reset_subject,
        ),
        (
            "invitation_subject",
            &raw.invitation_subject,
            &mut templates.invitation_subject,
        ),
    ];
    for (key, given, slot) in subjects {
        if let Some(value) = given {
            if value.chars().count() > MAX_EMAIL_SUBJECT_CHARS {
                c.fail(
                    format!("{path}.{key}"),
                    "a subject is at most 140 characters",
                );
            }
            *slot = value.clone();
        }
    }
    let bodies = [
        (
            "verification_message",
            &raw.verification_message,
            &mut templates.verification_message,
            false,
        ),
        (
            "reset_message",
            &raw.reset_message,
            &mut templates.reset_message,
            false,
        ),
        (
            "invitation_message",
            &raw.invitation_message,
            &mut templates.invitation_message,
            true,
        ),
    ];
    for (key, given, slot, needs_username) in bodies {
        if let Some(value) = given {
            if !value.contains("{####}") {
                c.fail(
                    format!("{path}.{key}"),
                    "must contain the code placeholder {####}",
                );
            }
            if needs_username && !value.contains("{username}") {
                c.fail(
                    format!("{path}.{key}"),
                    "must contain the placeholder {username}",
                );
            }
            if value.chars().count() > MAX_EMAIL_MESSAGE_CHARS {
                c.fail(
                    format!("{path}.{key}"),
                    "a message is at most 20,000 characters",
                );
            }
            *slot = value.clone();
        }
    }
    templates
}

/// `[mail]`: the outbox file, or an SMTP server.
pub(super) fn mail(c: &mut Checker, raw: MailFile, base: &Path) -> MailSettings {
    let Some(smtp) = raw.smtp else {
        return MailSettings::Outbox(base.join(raw.outbox.as_deref().unwrap_or(DEFAULT_OUTBOX)));
    };
    if raw.outbox.is_some() {
        c.fail("mail.outbox", "give an outbox or [mail.smtp], not both");
    }
    let security = match smtp.security.as_deref() {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => SmtpSecurity::None,
        Some(other) => {
            c.fail(
                "mail.smtp.security",
                format!("`{other}` is not starttls, tls or none"),
            );
            SmtpSecurity::StartTls
        }
    };
    if smtp.host.is_empty() {
        c.fail("mail.smtp.host", "must not be empty");
    }
    if smtp.username.is_some() != smtp.password.is_some() {
        c.fail("mail.smtp", "give both username and password, or neither");
    }
    let password = smtp
        .password
        .as_deref()
        .and_then(|p| c.secret("mail.smtp.password", p));
    let port = smtp.port.unwrap_or(match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::None => 25,
    });
    MailSettings::Smtp(SmtpSettings {
        host: smtp.host,
        port,
        security,
        username: smtp.username,
        password,
        timeout_seconds: match smtp.timeout_seconds {
            None => 10,
            Some(seconds @ 1..=120) => seconds,
            Some(_) => {
                c.fail("mail.smtp.timeout_seconds", "must be between 1 and 120");
                10
            }
        },
    })
}

fn is_token(value: &str) -> bool {
    !value.is_empty()
        && !value
            .chars()
            .any(|ch| ch.is_whitespace() || ch.is_control())
}

fn resource_servers(
    c: &mut Checker,
    path: &str,
    pool: &PoolId,
    raw: Vec<ResourceServerFile>,
) -> Vec<ResourceServer> {
    let mut seen = HashSet::new();
    raw.into_iter()
        .enumerate()
        .map(|(i, server)| {
            let at = format!("{path}.resource_server[{i}]");
            if !is_token(&server.identifier) || server.identifier.len() > 256 {
                c.fail(
                    format!("{at}.identifier"),
                    "an identifier is 1 to 256 characters without spaces",
                );
            }
            if !seen.insert(server.identifier.clone()) {
                c.fail(
                    format!("{at}.identifier"),
                    format!("duplicate resource server `{}`", server.identifier),
                );
            }
            if server.name.is_empty() {
                c.fail(format!("{at}.name"), "a resource server needs a name");
            }
            if server.scopes.len() > MAX_SCOPES_PER_SERVER {
                c.fail(
                    format!("{at}.scopes"),
                    format!("a resource server has at most {MAX_SCOPES_PER_SERVER} scopes"),
                );
            }
            let mut names = HashSet::new();
            for (j, scope) in server.scopes.iter().enumerate() {
                if !is_token(&scope.name) || scope.name.contains('/') {
                    c.fail(
                        format!("{at}.scopes[{j}].name"),
                        "a scope name is not empty and has no spaces or `/`",
                    );
                }
                if !names.insert(scope.name.clone()) {
                    c.fail(
                        format!("{at}.scopes[{j}].name"),
                        format!("duplicate scope `{}`", scope.name),
                    );
                }
            }
            ResourceServer {
                pool_id: pool.clone(),
                identifier: server.identifier,
                name: server.name,
                scopes: server
                    .scopes
                    .into_iter()
                    .map(|s| ResourceScope {
                        name: s.name,
                        description: s.description,
                    })
                    .collect(),
            }
        })
        .collect()
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

fn app_client(
    c: &mut Checker,
    path: &str,
    pool: &PoolId,
    raw: ClientFile,
    custom_scopes: &HashSet<String>,
    providers: &HashSet<String>,
) -> Option<AppClient> {
    let id = match &raw.id {
        Some(id) => match ClientId::parse(id) {
            Ok(id) => id,
            Err(e) => {
                c.fail(format!("{path}.id"), e);
                return None;
            }
        },
        None => ClientId::parse(&derived_id(
            &format!("client:{pool}:{}", raw.name),
            LOWER_ALNUM,
            ClientId::LEN,
        ))
        .expect("derived ids have the client id format"),
    };
    if raw.name.is_empty() || raw.name.chars().count() > 128 {
        c.fail(
            format!("{path}.name"),
            "a client name is 1 to 128 characters",
        );
    }
    let secret = match raw.secret.as_deref() {
        Some(value) => {
            let resolved = c.secret(format!("{path}.secret"), value);
            if let Some(secret) = &resolved
                && (!is_token(secret) || secret.len() > 512)
            {
                c.fail(
                    format!("{path}.secret"),
                    "a client secret is 1 to 512 characters without spaces",
                );
            }
            resolved.map(|s| SecretDigest::of(&s))
        }
        None => None,
    };
    check_urls(c, format!("{path}.callback_urls"), &raw.callback_urls);
    check_urls(c, format!("{path}.logout_urls"), &raw.logout_urls);
    if let Some(default) = &raw.default_redirect_uri
        && !raw.callback_urls.contains(default)
    {
        c.fail(
            format!("{path}.default_redirect_uri"),
            "must be one of the callback_urls",
        );
    }
    let mut flows = Vec::new();
    for (i, flow) in raw.allowed_oauth_flows.iter().enumerate() {
        match OAuthFlow::parse(flow) {
            Some(flow) if !flows.contains(&flow) => flows.push(flow),
            Some(_) => c.fail(
                format!("{path}.allowed_oauth_flows[{i}]"),
                format!("`{flow}` is listed twice"),
            ),
            None => c.fail(
                format!("{path}.allowed_oauth_flows[{i}]"),
                format!("unknown flow `{flow}` (expected code, implicit or client_credentials)"),
            ),
        }
    }
    if flows.contains(&OAuthFlow::ClientCredentials) && secret.is_none() {
        c.fail(
            format!("{path}.allowed_oauth_flows"),
            "client_credentials needs a client secret",
        );
    }
    let browser_flows = flows
        .iter()
        .any(|f| matches!(f, OAuthFlow::Code | OAuthFlow::Implicit));
    if browser_flows && raw.callback_urls.is_empty() {
        c.fail(
            format!("{path}.callback_urls"),
            "the code and implicit flows need at least one callback URL",
        );
    }
    for (i, scope) in raw.allowed_oauth_scopes.iter().enumerate() {
        if !RESERVED_SCOPES.contains(&scope.as_str()) && !custom_scopes.contains(scope) {
            c.fail(
                format!("{path}.allowed_oauth_scopes[{i}]"),
                format!("`{scope}` is neither a reserved scope nor `identifier/scope` of a resource server of this pool"),
            );
        }
    }
    // email, phone and profile only mean something beside openid; without it a request that
    // names no scope (asking for all of the client's) could never succeed.
    let has_openid = raw.allowed_oauth_scopes.iter().any(|s| s == "openid");
    for (i, scope) in raw.allowed_oauth_scopes.iter().enumerate() {
        if !has_openid && ["email", "phone", "profile"].contains(&scope.as_str()) {
            c.fail(
                format!("{path}.allowed_oauth_scopes[{i}]"),
                format!("`{scope}` needs `openid` in allowed_oauth_scopes too"),
            );
        }
    }
    let supported = raw
        .supported_identity_providers
        .unwrap_or_else(|| vec![COGNITO_PROVIDER.to_owned()]);
    for (i, name) in supported.iter().enumerate() {
        if name != COGNITO_PROVIDER && !providers.contains(name) {
            c.fail(
                format!("{path}.supported_identity_providers[{i}]"),
                format!("`{name}` is neither COGNITO nor an identity provider of this pool"),
            );
        }
    }
    check_attribute_names(c, format!("{path}.read_attributes"), &raw.read_attributes);
    check_attribute_names(c, format!("{path}.write_attributes"), &raw.write_attributes);
    let defaults = ClientSettings::default();
    let mut range =
        |key: &str, value: Option<u32>, allowed: std::ops::RangeInclusive<u32>, default: u32| {
            let value = value.unwrap_or(default);
            if !allowed.contains(&value) {
                c.fail(
                    format!("{path}.{key}"),
                    format!("must be between {} and {}", allowed.start(), allowed.end()),
                );
            }
            value
        };
    let access = range(
        "access_token_validity_minutes",
        raw.access_token_validity_minutes,
        ACCESS_TOKEN_MINUTES,
        defaults.access_token_validity_minutes,
    );
    let id_token = range(
        "id_token_validity_minutes",
        raw.id_token_validity_minutes,
        ID_TOKEN_MINUTES,
        defaults.id_token_validity_minutes,
    );
    let refresh = range(
        "refresh_token_validity_days",
        raw.refresh_token_validity_days,
        REFRESH_TOKEN_DAYS,
        defaults.refresh_token_validity_days,
    );
    let refresh_minutes = raw.refresh_token_validity_minutes.map(|minutes| {
        range(
            "refresh_token_validity_minutes",
            Some(minutes),
            REFRESH_TOKEN_MINUTES,
            minutes,
        )
    });
    if refresh_minutes.is_some() && raw.refresh_token_validity_days.is_some() {
        c.fail(
            format!("{path}.refresh_token_validity_minutes"),
            "give refresh_token_validity_days or refresh_token_validity_minutes, not both",
        );
    }
    Some(AppClient {
        id,
        pool_id: pool.clone(),
        name: raw.name,
        secret,
        settings: ClientSettings {
            callback_urls: raw.callback_urls,
            logout_urls: raw.logout_urls,
            default_redirect_uri: raw.default_redirect_uri,
            allowed_oauth_flows: flows,
            allowed_oauth_scopes: raw.allowed_oauth_scopes,
            supported_identity_providers: supported,
            read_attributes: raw.read_attributes,
            write_attributes: raw.write_attributes,
            access_token_validity_minutes: access,
            id_token_validity_minutes: id_token,
            refresh_token_validity_days: refresh,
            refresh_token_validity_minutes: refresh_minutes,
            enable_token_revocation: raw
                .enable_token_revocation
                .unwrap_or(defaults.enable_token_revocation),
            rotate_refresh_tokens: raw
                .rotate_refresh_tokens
                .unwrap_or(defaults.rotate_refresh_tokens),
            require_pkce: raw.require_pkce.unwrap_or(defaults.require_pkce),
        },
    })
}

fn groups(c: &mut Checker, path: &str, pool: &PoolId, raw: Vec<GroupFile>) -> Vec<Group> {
    let mut seen = HashSet::new();
    raw.into_iter()
        .enumerate()
        .map(|(i, group)| {
            let at = format!("{path}.group[{i}]");
            if group.name.is_empty()
                || group.name.chars().count() > 128
                || group.name.chars().any(char::is_control)
            {
                c.fail(format!("{at}.name"), "a group name is 1 to 128 characters");
            }
            if !seen.insert(group.name.clone()) {
                c.fail(
                    format!("{at}.name"),
                    format!("duplicate group `{}`", group.name),
                );
            }
            let precedence = group.precedence.and_then(|p| match i32::try_from(p) {
                Ok(p) if p >= 0 => Some(p),
                _ => {
                    c.fail(
                        format!("{at}.precedence"),
                        "precedence is a non-negative integer (0 is highest)",
                    );
                    None
                }
            });
            Group {
                pool_id: pool.clone(),
                name: group.name,
                description: group.description,
                precedence,
                role_arn: group.role_arn,
            }
        })
        .collect()
}

fn user_declaration(
    c: &mut Checker,
    path: &str,
    pool: &UserPool,
    raw: UserFile,
    groups: &HashSet<&str>,
    providers: &HashSet<String>,
) -> Option<DeclaredUser> {
    if raw.linked_identities.len() > MAX_LINKED_IDENTITIES {
        c.fail(
            format!("{path}.linked_identities"),
            "a user has at most 5 linked identities (Cognito's limit)",
        );
    }
    for (i, link) in raw.linked_identities.iter().enumerate() {
        if !providers.contains(&link.provider) {
            c.fail(
                format!("{path}.linked_identities[{i}].provider"),
                format!(
                    "`{}` is not an identity provider of this pool",
                    link.provider
                ),
            );
        }
        if link.subject.is_empty() || link.subject.len() > 2048 {
            c.fail(
                format!("{path}.linked_identities[{i}].subject"),
                "a subject is 1 to 2,048 characters",
            );
        }
    }
    if !is_token(&raw.username) || raw.username.chars().count() > 128 {
        c.fail(
            format!("{path}.username"),
            "a username is 1 to 128 characters without spaces",
        );
    }
    let password = raw
        .password
        .as_deref()
        .and_then(|value| c.secret(format!("{path}.password"), value));
    if let Some(password) = &password {
        let broken = pool.settings.password_policy.violations(password);
        if !broken.is_empty() {
            let rules: Vec<String> = broken.iter().map(ToString::to_string).collect();
            c.fail(
                format!("{path}.password"),
                format!(
                    "does not meet the pool's password policy: needs {}",
                    rules.join(", ")
                ),
            );
        }
    }
    let mut attributes = Attributes::new();
    for (name, value) in &raw.attributes {
        if let Err(e) = attributes.set(name.clone(), value.clone()) {
            c.fail(format!("{path}.attributes.{}", quote_key(name)), e);
        }
    }
    for (i, group) in raw.groups.iter().enumerate() {
        if !groups.contains(group.as_str()) {
            c.fail(
                format!("{path}.groups[{i}]"),
                format!("`{group}` is not a group of this pool"),
            );
        }
    }
    let status = match raw.status.as_deref() {
        None => UserStatus::Confirmed,
        Some(value) => match UserStatus::parse(value) {
            Some(UserStatus::ExternalProvider) | None => {
                c.fail(
                    format!("{path}.status"),
                    "expected CONFIRMED, UNCONFIRMED, FORCE_CHANGE_PASSWORD or RESET_REQUIRED",
                );
                UserStatus::Confirmed
            }
            Some(status) => status,
        },
    };
    Some(DeclaredUser {
        username: raw.username,
        password,
        attributes,
        groups: raw.groups,
        status,
        enabled: raw.enabled,
        reset_mfa: raw.reset_mfa,
        linked_identities: raw
            .linked_identities
            .into_iter()
            .map(|l| (l.provider, l.subject))
            .collect(),
    })
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

fn check_endpoint(c: &mut Checker, path: String, value: &str) {
    match url::Url::parse(value) {
        Ok(url) if url.scheme() == "https" => {}
        Ok(url) if url.scheme() == "http" && client::is_loopback_host(&url) => {}
        _ => c.fail(
            path,
            format!("`{value}` must be an https URL (http only for localhost or 127.0.0.1)"),
        ),
    }
}

fn identity_provider(
    c: &mut Checker,
    path: &str,
    pool: &UserPool,
    raw: IdentityProviderFile,
) -> Option<IdentityProvider> {
    if raw.name.is_empty()
        || raw.name.chars().count() > MAX_PROVIDER_NAME
        || raw.name == COGNITO_PROVIDER
    {
        c.fail(
            format!("{path}.name"),
            format!("a provider name is 1 to {MAX_PROVIDER_NAME} characters and not COGNITO"),
        );
    }
    let Some(provider_type) = ProviderType::parse(&raw.provider_type) else {
        let known: Vec<&str> = ProviderType::ALL.iter().map(|t| t.as_str()).collect();
        c.fail(
            format!("{path}.type"),
            format!(
                "`{}` is not one of: {}",
                raw.provider_type,
                known.join(", ")
            ),
        );
        return None;
    };
    let mut details = BTreeMap::new();
    for (key, value) in raw.details {
        let at = format!("{path}.details.{key}");
        if !PROVIDER_DETAILS.contains(&key.as_str()) {
            c.fail(
                &at,
                format!(
                    "not a provider detail (known: {})",
                    PROVIDER_DETAILS.join(", ")
                ),
            );
            continue;
        }
        let resolved = if SECRET_DETAILS.contains(&key.as_str()) {
            c.secret(&at, &value)
        } else {
            Some(value)
        };
        if let Some(value) = resolved {
            if key.ends_with("_url") || key == "oidc_issuer" || key == "jwks_uri" {
                check_endpoint(c, at, &value);
            }
            details.insert(key, value);
        }
    }
    if !details.contains_key("client_id") {
        c.fail(
            format!("{path}.details.client_id"),
            "every identity provider needs a client_id",
        );
    }
    provider_details(c, path, provider_type, &details);
    if raw.link_by_verified_email {
        details.insert(LINK_BY_VERIFIED_EMAIL.to_owned(), "true".to_owned());
    }
    if matches!(provider_type, ProviderType::Oidc | ProviderType::Google) {
        let scopes = details
            .get("authorize_scopes")
            .map(String::as_str)
            .unwrap_or("");
        if !scopes.split([' ', ',']).any(|s| s == "openid") {
            c.fail(
                format!("{path}.details.authorize_scopes"),
                "an OpenID Connect provider's (OIDC, Google) authorize_scopes must include openid",
            );
        }
        // The issuer is what its ID tokens are checked against, even with manual endpoints.
        if provider_type == ProviderType::Oidc && !details.contains_key("oidc_issuer") {
            c.fail(
                format!("{path}.details.oidc_issuer"),
                "an OIDC provider needs oidc_issuer (authorize_url, token_url and jwks_uri \
                 may replace discovery, not the issuer)",
            );
        }
    }
    for pool_attribute in raw.attribute_mapping.keys() {
        if pool_attribute != "username" && attributes::validate_name(pool_attribute).is_err() {
            c.fail(
                format!("{path}.attribute_mapping.{}", quote_key(pool_attribute)),
                format!("`{pool_attribute}` is not an attribute of the pool"),
            );
        }
    }
    for required in &pool.settings.required_attributes {
        if !raw.attribute_mapping.contains_key(required) {
            c.fail(
                format!("{path}.attribute_mapping"),
                format!("the pool requires `{required}`, so it must be mapped"),
            );
        }
    }
    Some(IdentityProvider {
        pool_id: pool.id.clone(),
        name: raw.name,
        provider_type,
        details,
        attribute_mapping: raw.attribute_mapping,
        idp_identifiers: raw.idp_identifiers,
    })
}

/// What each provider type needs in its details, and the values some keys may take.
fn provider_details(
    c: &mut Checker,
    path: &str,
    provider_type: ProviderType,
    details: &BTreeMap<String, String>,
) {
    let needs: &[&str] = match provider_type {
        ProviderType::Facebook | ProviderType::Google | ProviderType::LoginWithAmazon => {
            &["client_secret"]
        }
        ProviderType::SignInWithApple => &["team_id", "key_id", "private_key"],
        ProviderType::Oidc => &[],
    };
    for key in needs {
        if !details.contains_key(*key) {
            c.fail(
                format!("{path}.details.{key}"),
                format!("a {} provider needs {key}", provider_type.as_str()),
            );
        }
    }
    if provider_type == ProviderType::SignInWithApple
        && let Some(key) = details.get("private_key")
        && jsonwebtoken::EncodingKey::from_ec_pem(key.as_bytes()).is_err()
    {
        c.fail(
            format!("{path}.details.private_key"),
            "is not a PEM EC P-256 private key (the .p8 file Apple gives)",
        );
    }
    let allowed: [(&str, &[&str]); 2] = [
        ("attributes_request_method", &["GET", "POST"]),
        (
            "token_endpoint_auth_method",
            &["client_secret_basic", "client_secret_post"],
        ),
    ];
    for (key, values) in allowed {
        if let Some(value) = details.get(key)
            && !values.contains(&value.as_str())
        {
            c.fail(
                format!("{path}.details.{key}"),
                format!("`{value}` is not one of {}", values.join(", ")),
            );
        }
    }
    if let Some(version) = details.get("api_version") {
        let well_formed = version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .is_some_and(|(major, minor)| {
                !major.is_empty()
                    && !minor.is_empty()
                    && major
                        .bytes()
                        .chain(minor.bytes())
                        .all(|b| b.is_ascii_digit())
            });
        if !well_formed {
            c.fail(
                format!("{path}.details.api_version"),
                format!("`{version}` is not a Graph API version like v17.0"),
            );
        }
    }
}

/// A client's (or `ALL`'s) stylesheet and logo, checked as Cognito checks them: the CSS by
/// `ui::css` (classes, properties, values, 3 KB), the logo by its bytes (PNG or JPEG, 100 KB).
fn ui_customization(
    c: &mut Checker,
    path: &str,
    pool: &PoolId,
    client_id: String,
    raw: UiFile,
    base: &Path,
) -> Option<UiCustomization> {
    let (css, css_path) = match (raw.css, raw.css_file) {
        (Some(_), Some(_)) => {
            c.fail(format!("{path}.css_file"), "give css or css_file, not both");
            (None, String::new())
        }
        (Some(css), None) => (Some(css), format!("{path}.css")),
        (None, Some(file)) => {
            let css_path = format!("{path}.css_file");
            let text = read_file(c, css_path.clone(), base, &file).and_then(|bytes| {
                String::from_utf8(bytes)
                    .map_err(|_| c.fail(&css_path, "is not UTF-8"))
                    .ok()
            });
            (text, css_path)
        }
        (None, None) => (None, String::new()),
    };
    let css = css.and_then(|css| match crate::ui::css::validate(&css) {
        Ok(normalized) => Some(normalized),
        Err(errors) => {
            for error in errors {
                c.fail(&css_path, error);
            }
            None
        }
    });
    let logo = raw.logo_file.and_then(|file| {
        let logo_path = format!("{path}.logo_file");
        let bytes = read_file(c, logo_path.clone(), base, &file)?;
        crate::ui::logo::check(&bytes)
            .map_err(|e| c.fail(&logo_path, e))
            .ok()?;
        Some(bytes)
    });
    Some(UiCustomization {
        pool_id: pool.clone(),
        client_id,
        css,
        logo,
    })
}

fn read_file(c: &mut Checker, path: String, base: &Path, file: &str) -> Option<Vec<u8>> {
    std::fs::read(base.join(file))
        .map_err(|e| c.fail(path, format!("cannot read `{file}`: {e}")))
        .ok()
}
