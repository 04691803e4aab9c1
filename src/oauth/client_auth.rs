//! Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3):
//! `client_secret_basic`, `client_secret_post`, or a public client naming itself with `client_id`.

use super::error::OAuthError;
use super::params::{Params, decode_component};
use crate::model::AppClient;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCredentials {
    /// `secret` is form-decoded as RFC 6749 §2.3.1 asks; `raw` keeps the secret as sent when
    /// that differs, for clients (like `curl -u`) that do not encode it.
    Basic {
        id: String,
        secret: String,
        raw: Option<String>,
    },
    Post {
        id: String,
        secret: String,
    },
    Public {
        id: String,
    },
}

impl ClientCredentials {
    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { id, .. } | Self::Post { id, .. } | Self::Public { id } => id,
        }
    }

    fn used_basic(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }

    fn secret(&self) -> Option<&str> {
        match self {
            Self::Basic { secret, .. } | Self::Post { secret, .. } => Some(secret),
            Self::Public { .. } => None,
        }
    }

    /// `invalid_client`: 401 (answered with `WWW-Authenticate: Basic`) after Basic, else 400.
    pub fn invalid(&self, description: &str) -> OAuthError {
        if self.used_basic() {
            OAuthError::invalid_client_basic(description)
        } else {
            OAuthError::invalid_client(description)
        }
    }
}

/// Reads the client's credentials from the Authorization header or the body.
pub fn extract(
    authorization: Option<&str>,
    params: &Params,
) -> Result<ClientCredentials, OAuthError> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    if let Some(header) = authorization {
        let encoded = strip_scheme(header, "Basic").ok_or_else(|| {
            OAuthError::invalid_client_basic("only HTTP Basic client authentication is supported")
        })?;
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                OAuthError::invalid_client_basic("the Basic credentials are not valid base64")
            })?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| OAuthError::invalid_client_basic("the Basic credentials have no `:`"))?;
        let decode = |s: &str| {
            decode_component(s)
                .ok()
                .filter(|s| !s.contains('\0'))
                .ok_or_else(|| {
                    OAuthError::invalid_client_basic(
                        "the Basic credentials are not form-encoded UTF-8 without NUL",
                    )
                })
        };
        let (id, decoded_secret) = (decode(id)?, decode(secret)?);
        let raw = Some(secret.to_owned()).filter(|raw| *raw != decoded_secret);
        let secret = decoded_secret;
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        if body_id.is_some_and(|body| body != id) {
            return Err(OAuthError::invalid_client_basic(
                "client_id differs from the authenticated client",
            ));
        }
        return Ok(ClientCredentials::Basic { id, secret, raw });
    }
    match (body_id, body_secret) {
        (Some(id), Some(secret)) => Ok(ClientCredentials::Post {
            id: id.to_owned(),
            secret: secret.to_owned(),
        }),
        (Some(id), None) => Ok(ClientCredentials::Public { id: id.to_owned() }),
        (None, _) => Err(OAuthError::invalid_client(
            "the client is not identified: send client_id or HTTP Basic credentials",
        )),
    }
}

/// The credentials after an HTTP authentication scheme, matched without regard to case
/// (RFC 9110 §11.1): `strip_scheme("bearer x", "Bearer") == Some("x")`.
pub fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = header.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// Checks the credentials against the stored client (None = unknown client).
pub fn authenticate(
    credentials: &ClientCredentials,
    client: Option<&AppClient>,
) -> Result<(), OAuthError> {
    let Some(client) = client else {
        return Err(credentials.invalid("client authentication failed"));
    };
    let raw = match credentials {
        ClientCredentials::Basic { raw, .. } => raw.as_deref(),
        _ => None,
    };
    match (&client.secret, credentials.secret()) {
        (Some(digest), Some(secret))
            if digest.matches(secret) || raw.is_some_and(|r| digest.matches(r)) =>
        {
            Ok(())
        }
        (None, None) => Ok(()),
        (None, Some(_)) => Err(credentials.invalid("this client has no secret")),
        _ => Err(credentials.invalid("client authentication failed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(s: &str) -> Params {
        Params::parse(s).unwrap()
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20id:s%3Acret"));
        assert_eq!(
            extract(Some(&header), &params("")).unwrap(),
            ClientCredentials::Basic {
                id: "my id".into(),
                secret: "s:cret".into(),
                raw: Some("s%3Acret".into())
            }
        );
        assert!(extract(Some(&header), &params("client_secret=x")).is_err());
        assert!(extract(Some("Bearer x"), &params("")).is_err());
        let shouted = format!("BASIC {}", STANDARD.encode("id:secret"));
        assert_eq!(
            extract(Some(&shouted), &params("")).unwrap().client_id(),
            "id"
        );
        for bad in ["id%FF:s", "id:s%00", "id%00:s"] {
            let header = format!("Basic {}", STANDARD.encode(bad));
            let error = extract(Some(&header), &params("")).unwrap_err();
            assert_eq!(error.code.as_str(), "invalid_client", "{bad}");
        }
        let ampersand = format!("Basic {}", STANDARD.encode("id:sec&ret"));
        match extract(Some(&ampersand), &params("")).unwrap() {
            ClientCredentials::Basic { secret, .. } => assert_eq!(secret, "sec&ret"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            extract(None, &params("client_id=a")).unwrap(),
            ClientCredentials::Public { id: "a".into() }
        );
        assert_eq!(extract(None, &params("")).unwrap_err().status(), 400);
    }

    #[test]
    fn a_secret_sent_without_form_encoding_still_authenticates() {
        use crate::model::{ClientId, ClientSettings, PoolId};
        use crate::secrets::SecretDigest;
        let client = AppClient {
            id: ClientId::parse("exampleclientid0000000000a").unwrap(),
            pool_id: PoolId::parse("local_Example01").unwrap(),
            name: "web".into(),
            secret: Some(SecretDigest::of("a+b%2")),
            sealed_secret: None,
            settings: ClientSettings::default(),
        };
        let raw = format!(
            "Basic {}",
            STANDARD.encode("exampleclientid0000000000a:a+b%2")
        );
        let credentials = extract(Some(&raw), &params("")).unwrap();
        assert!(authenticate(&credentials, Some(&client)).is_ok());
        let encoded = format!(
            "Basic {}",
            STANDARD.encode("exampleclientid0000000000a:a%2Bb%252")
        );
        let credentials = extract(Some(&encoded), &params("")).unwrap();
        assert!(authenticate(&credentials, Some(&client)).is_ok());
        let wrong = format!(
            "Basic {}",
            STANDARD.encode("exampleclientid0000000000a:a b%2")
        );
        assert!(authenticate(&extract(Some(&wrong), &params("")).unwrap(), Some(&client)).is_err());
    }
}
