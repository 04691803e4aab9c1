//! Login with Amazon (docs/federation.md, "Login with Amazon"): the authorization dialog with PKCE,
//! the LWA token endpoint and the profile API. Scopes are space-separated (default `profile`); the
//! subject is `user_id`.

use super::oauth::{self, Exchange};
use super::{Callback, Connector, FederationError, Start, UpstreamIdentity, Upstreams};
use crate::model::IdentityProvider;

pub struct AmazonConnector<'a> {
    provider: &'a IdentityProvider,
    upstreams: &'a Upstreams,
}

impl<'a> AmazonConnector<'a> {
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
}

impl Connector for AmazonConnector<'_> {
    fn authorization_url(&self, start: &Start) -> Result<String, FederationError> {
        let dialog = self
            .detail("authorize_url")
            .unwrap_or("https://www.amazon.com/ap/oa");
        let mut url = url::Url::parse(dialog)
            .map_err(|e| FederationError::Misconfigured(format!("authorize_url: {e}")))?;
        let scopes: Vec<&str> = self
            .detail("authorize_scopes")
            .unwrap_or("profile")
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .collect();
        url.query_pairs_mut()
            .append_pair("client_id", self.detail("client_id").unwrap_or_default())
            .append_pair("scope", &scopes.join(" "))
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", start.redirect_uri)
            .append_pair("state", start.state)
            .append_pair("code_challenge", start.code_challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(url.to_string())
    }

    fn exchange(&self, callback: &Callback) -> Result<UpstreamIdentity, FederationError> {
        let access_token = oauth::exchange_code(
            self.upstreams,
            &Exchange {
                token_url: self
                    .detail("token_url")
                    .unwrap_or("https://api.amazon.com/auth/o2/token"),
                client_id: self.detail("client_id").unwrap_or_default(),
                client_secret: self.detail("client_secret"),
                secret_in_body: true,
                redirect_uri: callback.redirect_uri,
                code: callback.code,
                pkce_verifier: Some(callback.pkce_verifier),
            },
        )?;
        let profile_url = self
            .detail("attributes_url")
            .unwrap_or("https://api.amazon.com/user/profile");
        let request = self
            .upstreams
            .http()
            .get(profile_url)
            .bearer_auth(&access_token);
        let profile = oauth::fetch_profile(request, "Amazon's profile API")?;
        Ok(UpstreamIdentity {
            subject: oauth::subject_of(&profile, "user_id", "Amazon's profile")?,
            claims: profile,
            issuer: None,
        })
    }
}
