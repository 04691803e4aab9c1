//! Identifier formats shared with Cognito user pools: pool ids `<region>_<9 alphanumerics>`,
//! app client ids of 26 lowercase alphanumerics and 51-character client secrets.
//!
//! See docs/configuration.md, "`[[pool]]`" and "`[[pool.client]]`".

use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Region used when none is given: pools are local to this server.
pub const DEFAULT_REGION: &str = "local";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("a user pool id looks like `<region>_<9 letters or digits>` (e.g. `local_Ab12Cd34E`)")]
    Pool,
    #[error("an app client id is 26 lowercase letters or digits")]
    Client,
}

/// A user pool id such as `local_Example01`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PoolId(String);

impl PoolId {
    pub fn parse(value: &str) -> Result<Self, IdError> {
        let (region, suffix) = value.split_once('_').ok_or(IdError::Pool)?;
        let region_ok = !region.is_empty()
            && region.len() <= 32
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let suffix_ok = suffix.len() == 9 && suffix.bytes().all(|b| b.is_ascii_alphanumeric());
        if region_ok && suffix_ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(IdError::Pool)
        }
    }

    pub fn generate(region: &str) -> Self {
        let suffix: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(9)
            .map(char::from)
            .collect();
        Self(format!("{region}_{suffix}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn region(&self) -> &str {
        self.0.split_once('_').map(|(r, _)| r).unwrap_or_default()
    }
}

impl TryFrom<String> for PoolId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PoolId> for String {
    fn from(id: PoolId) -> Self {
        id.0
    }
}

impl fmt::Display for PoolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An app client id: 26 lowercase letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub const LEN: usize = 26;

    pub fn parse(value: &str) -> Result<Self, IdError> {
        if value.len() == Self::LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            Ok(Self(value.to_owned()))
        } else {
            Err(IdError::Client)
        }
    }

    pub fn generate() -> Self {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::thread_rng();
        Self(
            (0..Self::LEN)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Length of a generated client secret, as Cognito issues them.
pub const CLIENT_SECRET_LEN: usize = 51;

/// A fresh client secret of 51 characters (about 300 bits of entropy).
pub fn generate_client_secret() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(CLIENT_SECRET_LEN)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_ids_follow_cognito_format() {
        assert!(PoolId::parse("local_Example01").is_ok());
        assert!(PoolId::parse("us-east-1_Ab12Cd34E").is_ok());
        assert!(PoolId::parse("local_Example1").is_err());
        assert!(PoolId::parse("localExample01").is_err());
        assert!(PoolId::parse("Local_Example01").is_err());
        assert!(PoolId::parse("local_Exa-ple01").is_err());
        let generated = PoolId::generate(DEFAULT_REGION);
        assert_eq!(PoolId::parse(generated.as_str()), Ok(generated.clone()));
        assert_eq!(generated.region(), "local");
    }

    #[test]
    fn client_ids_and_secrets_follow_cognito_format() {
        assert!(ClientId::parse("exampleclientid0000000000a").is_ok());
        assert!(ClientId::parse("Exampleclientid0000000000a").is_err());
        assert!(ClientId::parse("exampleclientid000000000a").is_err());
        let id = ClientId::generate();
        assert!(ClientId::parse(id.as_str()).is_ok());
        let secret = generate_client_secret();
        assert_eq!(secret.len(), 51);
        assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
