//! Facebook Login (docs/federation.md, "Facebook"): the OAuth dialog, the Graph API token endpoint
//! and `/me?fields=…` for the profile, all under a configurable API version (`api_version`, default
//! v17.0). Scopes are comma-separated, as Facebook writes them. The subject is `id`.

use super::oauth::{self, Exchange};
use super::{Callback, Connector, FederationError, Start, UpstreamIdentity, Upstreams};
use crate::model::IdentityProvider;

const DEFAULT_API_VERSION: &str = "v17.0";

pub struct FacebookConnector<'a> {
    provider: &'a IdentityProvider,
    upstreams: &'a Upstreams,
}

impl<'a> FacebookConnector<'a> {
    pub fn new(provider: &'a IdentityProvider, upstreams: &'a Upstreams) -> Self {
        Self {
            provider,
            upstreams,
        }
    }

    fn detail(&self, key: &str) -> Option<&str> {
        self.provider
            .details
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn version(&self) -> &str {
        self.detail("api_version").unwrap_or(DEFAULT_API_VERSION)
    }

    fn endpoint(&self, key: &str, default: String) -> String {
        self.detail(key).map(str::to_owned).unwrap_or(default)
    }

    /// The profile fields to ask for: `id` and every mapped field.
    fn fields(&self) -> String {
        let mut fields = vec!["id"];
        for claim in self.provider.attribute_mapping.values() {
            if !fields.contains(&claim.as_str()) {
                fields.push(claim);
            }
        }
        fields.join(",")
    }
}

impl Connector for FacebookConnector<'_> {
    fn authorization_url(&self, start: &Start) -> Result<String, FederationError> {
        let dialog = self.endpoint(
            "authorize_url",
            format!("https://www.facebook.com/{}/dialog/oauth", self.version()),
        );
        let mut url = url::Url::parse(&dialog)
            .map_err(|e| FederationError::Misconfigured(format!("authorize_url: {e}")))?;
        let scopes: Vec<&str> = self
            .detail("authorize_scopes")
            .unwrap_or("public_profile,email")
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .collect();
        url.query_pairs_mut()
            .append_pair("client_id", self.detail("client_id").unwrap_or_default())
            .append_pair("redirect_uri", start.redirect_uri)
            .append_pair("state", start.state)
            .append_pair("response_type", "code")
            .append_pair("scope", &scopes.join(","));
        Ok(url.to_string())
    }

    fn exchange(&self, callback: &Callback) -> Result<UpstreamIdentity, FederationError> {
        let token_url = self.endpoint(
            "token_url",
            format!(
                "https://graph.facebook.com/{}/oauth/access_token",
                self.version()
            ),
        );
        let access_token = oauth::exchange_code(
            self.upstreams,
            &Exchange {
                token_url: &token_url,
                client_id: self.detail("client_id").unwrap_or_default(),
                client_secret: self.detail("client_secret"),
                secret_in_body: true,
                redirect_uri: callback.redirect_uri,
                code: callback.code,
                pkce_verifier: None,
            },
        )?;
        let me = self.endpoint(
            "attributes_url",
            format!("https://graph.facebook.com/{}/me", self.version()),
        );
        let request = self
            .upstreams
            .http()
            .get(&me)
            .query(&[("fields", self.fields().as_str())])
            .bearer_auth(&access_token);
        let profile = oauth::fetch_profile(request, "Facebook's /me")?;
        Ok(UpstreamIdentity {
            subject: oauth::subject_of(&profile, "id", "Facebook's profile")?,
            claims: profile,
            issuer: None,
        })
    }
}
