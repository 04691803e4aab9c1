//! `[[pool.identity_provider]]`: each provider type's details, endpoints and attribute mapping
//! (docs/federation.md, "Settings every provider shares").

use super::{Checker, MAX_PROVIDER_NAME, PROVIDER_DETAILS, SECRET_DETAILS, quote_key};
use crate::config::file::IdentityProviderFile;
use crate::model::attributes;
use crate::model::client::{self, COGNITO_PROVIDER};
use crate::model::directory::LINK_BY_VERIFIED_EMAIL;
use crate::model::{IdentityProvider, ProviderType, UserPool};
use std::collections::BTreeMap;

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

pub(super) fn identity_provider(
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
