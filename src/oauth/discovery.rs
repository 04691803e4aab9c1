//! OpenID Connect Discovery 1.0 §3 and RFC 8414: the provider metadata of one pool.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub jwks_uri: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub end_session_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub scopes_supported: Vec<String>,
    pub claims_supported: Vec<String>,
}

/// Where a pool is reached: its issuer (`{public_url}/{pool_id}`, the `iss` of every token) and
/// the base its endpoints are served under (the issuer, or the pool's own domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUrls {
    pub issuer: String,
    pub endpoint_base: String,
}

impl PoolUrls {
    pub fn new(public_url: &str, pool_id: &str, domain: Option<&str>) -> Self {
        let public_url = public_url.trim_end_matches('/');
        let issuer = format!("{public_url}/{pool_id}");
        let endpoint_base = match domain {
            Some(domain) => {
                let scheme = public_url.split("://").next().unwrap_or("https");
                format!("{scheme}://{domain}")
            }
            None => issuer.clone(),
        };
        Self {
            issuer,
            endpoint_base,
        }
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer)
    }

    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint_base)
    }
}

/// Claims the pool's tokens can carry (docs/integrating.md, "Any OIDC relying party"); the pool's
/// custom attributes come after them.
const CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "jti",
    "origin_jti",
    "nonce",
    "at_hash",
    "token_use",
    "client_id",
    "scope",
    "username",
    "version",
    "cognito:username",
    "cognito:groups",
    "identities",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "address",
    "updated_at",
];

/// The metadata document; `scopes` are the reserved scopes plus the pool's custom ones, and
/// `custom_attributes` the pool's custom attribute names (without `custom:`).
pub fn metadata(
    urls: &PoolUrls,
    scopes: Vec<String>,
    custom_attributes: &[&str],
) -> ProviderMetadata {
    ProviderMetadata {
        issuer: urls.issuer.clone(),
        jwks_uri: urls.jwks_uri(),
        authorization_endpoint: urls.endpoint("/oauth2/authorize"),
        token_endpoint: urls.endpoint("/oauth2/token"),
        userinfo_endpoint: urls.endpoint("/oauth2/userInfo"),
        end_session_endpoint: urls.endpoint("/logout"),
        revocation_endpoint: urls.endpoint("/oauth2/revoke"),
        introspection_endpoint: urls.endpoint("/oauth2/introspect"),
        response_types_supported: vec!["code", "token"],
        response_modes_supported: vec!["query", "fragment"],
        grant_types_supported: vec![
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials",
        ],
        code_challenge_methods_supported: vec!["S256"],
        token_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        revocation_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        introspection_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
        ],
        prompt_values_supported: vec!["none", "login"],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: vec!["RS256"],
        scopes_supported: scopes,
        claims_supported: CLAIMS
            .iter()
            .map(|c| c.to_string())
            .chain(
                custom_attributes
                    .iter()
                    .map(|name| format!("custom:{name}")),
            )
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_is_under_the_public_url_and_endpoints_follow_the_domain() {
        let plain = PoolUrls::new("http://localhost:7070/", "local_Example01", None);
        assert_eq!(plain.issuer, "http://localhost:7070/local_Example01");
        assert_eq!(
            plain.jwks_uri(),
            "http://localhost:7070/local_Example01/.well-known/jwks.json"
        );
        assert_eq!(
            plain.endpoint("/oauth2/token"),
            "http://localhost:7070/local_Example01/oauth2/token"
        );
        let with_domain = PoolUrls::new(
            "https://id.example.com",
            "local_Example01",
            Some("auth.example.com"),
        );
        assert_eq!(with_domain.issuer, "https://id.example.com/local_Example01");
        assert_eq!(
            with_domain.endpoint("/oauth2/token"),
            "https://auth.example.com/oauth2/token"
        );
    }
}
