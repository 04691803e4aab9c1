//! Sign in with Apple (docs/federation.md, "Sign in with Apple"): OpenID Connect with three
//! differences kept here. The answer comes back as a form POST (`response_mode=form_post`); the
//! client secret is a short-lived ES256 JWT signed with the team's key (`team_id`, `key_id`,
//! `private_key`); and the user's name (and email) arrive only on the first sign-in, in the posted
//! `user` field, not in the ID token. Endpoints default to appleid.apple.com and can be overridden
//! like any provider's.

use super::oidc::{Flavor, OidcConnector};
use super::{Callback, FederationError, Start, UpstreamIdentity, Upstreams};
use crate::model::IdentityProvider;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

const APPLE_ISSUER: &str = "https://appleid.apple.com";
/// The client secret is made per exchange and lives five minutes (Apple allows six months).
const SECRET_SECONDS: i64 = 300;

pub struct AppleConnector<'a> {
    /// The provider with Apple's endpoints filled in where the configuration leaves them out.
    provider: IdentityProvider,
    upstreams: &'a Upstreams,
}

impl<'a> AppleConnector<'a> {
    pub fn new(
        provider: &IdentityProvider,
        upstreams: &'a Upstreams,
    ) -> Result<Self, FederationError> {
        let mut provider = provider.clone();
        for (key, default) in [
            ("oidc_issuer", APPLE_ISSUER.to_owned()),
            ("authorize_url", format!("{APPLE_ISSUER}/auth/authorize")),
            ("token_url", format!("{APPLE_ISSUER}/auth/token")),
            ("jwks_uri", format!("{APPLE_ISSUER}/auth/keys")),
            ("authorize_scopes", "name email".to_owned()),
        ] {
            provider.details.entry(key.to_owned()).or_insert(default);
        }
        for key in ["team_id", "key_id", "private_key"] {
            if provider.details.get(key).is_none_or(String::is_empty) {
                return Err(FederationError::Misconfigured(format!(
                    "provider {} has no {key}",
                    provider.name
                )));
            }
        }
        Ok(Self {
            provider,
            upstreams,
        })
    }

    fn detail(&self, key: &str) -> &str {
        self.provider
            .details
            .get(key)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// Apple's client secret: ES256, `kid` = key id, `iss` = team id, `sub` = client id.
    fn client_secret(&self) -> Result<String, FederationError> {
        let key = EncodingKey::from_ec_pem(self.detail("private_key").as_bytes()).map_err(|e| {
            FederationError::Misconfigured(format!(
                "provider {}: private_key is not a PEM EC (P-256) key: {e}",
                self.provider.name
            ))
        })?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.detail("key_id").to_owned());
        // The client secret is minted when it is needed, so the clock is read here.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let claims = json!({
            "iss": self.detail("team_id"),
            "iat": now,
            "exp": now + SECRET_SECONDS,
            "aud": APPLE_ISSUER,
            "sub": self.detail("client_id"),
        });
        jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|e| FederationError::Misconfigured(format!("Apple client secret: {e}")))
    }

    fn oidc(&self, client_secret: Option<String>) -> Result<OidcConnector<'_>, FederationError> {
        Ok(
            OidcConnector::new(&self.provider, self.upstreams, None)?.with_flavor(Flavor {
                no_pkce: true,
                form_post: true,
                client_secret,
                // Cognito reports Apple identities without an issuer, like other social ones.
                social: true,
            }),
        )
    }
}

impl AppleConnector<'_> {
    pub async fn authorization_url(&self, start: &Start<'_>) -> Result<String, FederationError> {
        self.oidc(None)?.authorization_url(start).await
    }

    pub async fn exchange(
        &self,
        callback: &Callback<'_>,
    ) -> Result<UpstreamIdentity, FederationError> {
        let secret = self.client_secret()?;
        self.oidc(Some(secret))?.exchange(callback).await
    }

    /// The first sign-in's `user` field: `{"name":{"firstName","lastName"},"email"}`, as the
    /// claims `firstName`, `lastName`, `name` and `email`.
    pub fn answer_claims(&self, params: &crate::oauth::Params) -> Map<String, Value> {
        let mut claims = Map::new();
        let Some(Ok(Value::Object(user))) = params.get("user").map(serde_json::from_str::<Value>)
        else {
            return claims;
        };
        let name = user.get("name").and_then(Value::as_object);
        let part = |key: &str| name.and_then(|n| n.get(key)).and_then(Value::as_str);
        if let Some(first) = part("firstName") {
            claims.insert("firstName".into(), first.into());
        }
        if let Some(last) = part("lastName") {
            claims.insert("lastName".into(), last.into());
        }
        let full: Vec<&str> = [part("firstName"), part("lastName")]
            .into_iter()
            .flatten()
            .collect();
        if !full.is_empty() {
            claims.insert("name".into(), full.join(" ").into());
        }
        if let Some(email) = user.get("email").and_then(Value::as_str) {
            claims.insert("email".into(), email.into());
        }
        claims
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_field_becomes_claims() {
        let provider = IdentityProvider {
            pool_id: crate::model::PoolId::parse("local_Apple0001").unwrap(),
            name: "SignInWithApple".into(),
            provider_type: crate::model::ProviderType::SignInWithApple,
            details: [
                ("client_id", "c"),
                ("team_id", "t"),
                ("key_id", "k"),
                ("private_key", "p"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            attribute_mapping: Default::default(),
            idp_identifiers: Vec::new(),
        };
        let upstreams = Upstreams::default();
        let apple = AppleConnector::new(&provider, &upstreams).unwrap();
        let params = crate::oauth::Params::parse(
            "user=%7B%22name%22%3A%7B%22firstName%22%3A%22Ann%22%2C%22lastName%22%3A%22Lee%22%7D%2C%22email%22%3A%22a%40b.c%22%7D",
        )
        .unwrap();
        let claims = apple.answer_claims(&params);
        assert_eq!(claims["firstName"], "Ann");
        assert_eq!(claims["lastName"], "Lee");
        assert_eq!(claims["name"], "Ann Lee");
        assert_eq!(claims["email"], "a@b.c");
        let none = crate::oauth::Params::parse("user=not-json").unwrap();
        assert!(apple.answer_claims(&none).is_empty());
        assert!(matches!(
            apple.client_secret(),
            Err(FederationError::Misconfigured(_))
        ));
    }
}
