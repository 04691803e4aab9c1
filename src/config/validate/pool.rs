//! `[[pool]]`: the pool's name, id, domain and settings, its resource servers, and the clients,
//! providers, groups, users and looks it holds (docs/configuration.md, "`[[pool]]`").

use super::clients::app_client;
use super::identity_providers::identity_provider;
use super::mail::messages;
use super::ui::ui_customization;
use super::users::{groups, user_declaration};
use super::{
    ALNUM, Checker, MAX_CUSTOM_ATTRIBUTES, MAX_SCOPES_PER_SERVER, check_subset, derived_id,
    is_token,
};
use crate::config::file::*;
use crate::config::{DeclaredPool, DeclaredUser};
use crate::model::attributes;
use crate::model::directory::ALL_CLIENTS;
use crate::model::pool::{
    ALIAS_ATTRIBUTES, AUTO_VERIFIABLE, CustomAttribute, CustomAttributeType, MfaConfiguration,
    USERNAME_ATTRIBUTES,
};
use crate::model::{
    AppClient, IdentityProvider, PasswordPolicy, PoolId, PoolSettings, ResourceScope,
    ResourceServer, UiCustomization, UserPool,
};
use crate::ui::overrides::ClientTemplates;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

pub(super) fn validate_pool(
    c: &mut Checker,
    path: &str,
    raw: PoolFile,
    base: &Path,
) -> DeclaredPool {
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
    let mut client_secrets = std::collections::BTreeMap::new();
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
            let (client, clear) = app_client(
                c,
                &client_path,
                &id,
                client,
                &custom_scopes,
                &provider_names,
            )?;
            if let Some(clear) = clear {
                client_secrets.insert(client.id.to_string(), clear);
            }
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
        client_secrets,
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
    for (i, name) in raw
        .attributes_require_verification_before_update
        .iter()
        .enumerate()
    {
        let problem = if name != "email" {
            Some(format!(
                "`{name}`: only `email` can be verified (no SMS is sent)"
            ))
        } else if !raw.auto_verified_attributes.contains(name) {
            Some("`email` must also be in auto_verified_attributes".to_owned())
        } else {
            None
        };
        if let Some(problem) = problem {
            c.fail(
                format!("{path}.attributes_require_verification_before_update[{i}]"),
                problem,
            );
        }
    }
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
        attributes_require_verification_before_update: raw
            .attributes_require_verification_before_update
            .clone(),
        allow_admin_create_user_only: raw.allow_admin_create_user_only,
        username_case_sensitive: raw.username_case_sensitive,
        password_policy: policy,
        mfa_configuration,
        required_attributes: raw.required_attributes.clone(),
        custom_attributes,
        messages: messages(c, path, raw.messages.as_ref()),
        revoke_tokens_on_password_change: raw.revoke_tokens_on_password_change.unwrap_or(true),
        triggers: super::triggers::triggers(c, path, &raw.triggers),
    }
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
