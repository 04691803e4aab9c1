//! `[[pool.group]]` and `[[pool.user]]`: groups, and users with their password, attributes,
//! groups, status and linked identities (docs/configuration.md, "`[[pool.user]]`").

use super::{Checker, MAX_LINKED_IDENTITIES, is_token, quote_key};
use crate::config::DeclaredUser;
use crate::config::file::{GroupFile, UserFile};
use crate::model::attributes::Attributes;
use crate::model::{Group, PoolId, UserPool, UserStatus};
use std::collections::HashSet;

pub(super) fn groups(
    c: &mut Checker,
    path: &str,
    pool: &PoolId,
    raw: Vec<GroupFile>,
) -> Vec<Group> {
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

pub(super) fn user_declaration(
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
