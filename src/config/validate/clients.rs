//! `[[pool.client]]`: an app client's id, secret, URLs, flows, scopes, providers and token
//! lifetimes (docs/configuration.md, "`[[pool.client]]`").

use super::{Checker, LOWER_ALNUM, check_attribute_names, check_urls, derived_id, is_token};
use crate::config::file::ClientFile;
use crate::model::client::{
    ACCESS_TOKEN_MINUTES, COGNITO_PROVIDER, ID_TOKEN_MINUTES, REFRESH_TOKEN_DAYS,
    REFRESH_TOKEN_MINUTES, RESERVED_SCOPES,
};
use crate::model::{AppClient, ClientId, ClientSettings, OAuthFlow, PoolId};
use crate::secrets::SecretDigest;
use std::collections::HashSet;

pub(super) fn app_client(
    c: &mut Checker,
    path: &str,
    pool: &PoolId,
    raw: ClientFile,
    custom_scopes: &HashSet<String>,
    providers: &HashSet<String>,
) -> Option<(AppClient, Option<crate::sealing::Clear>)> {
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
            resolved
        }
        None => None,
    };
    let clear = secret.map(crate::sealing::Clear::new);
    let secret = clear.as_ref().map(|s| SecretDigest::of(s.expose()));
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
    let client = AppClient {
        id,
        pool_id: pool.clone(),
        name: raw.name,
        secret,
        // Sealed when applied, with the server's key.
        sealed_secret: None,
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
            prevent_user_existence_errors: raw.prevent_user_existence_errors.unwrap_or_default(),
            require_pkce: raw.require_pkce.unwrap_or(defaults.require_pkce),
        },
    };
    Some((client, clear))
}
