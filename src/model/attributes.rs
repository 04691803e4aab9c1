//! User attributes, as
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html>
//! describes them: the OpenID Connect standard claims, Cognito's `email_verified` /
//! `phone_number_verified` flags, and `custom:*` attributes. Every value is stored as a string of
//! at most 2,048 bytes; claim types matter only when tokens are built.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Standard attributes every user may carry (OIDC Core §5.1, as Cognito names them).
pub const STANDARD_ATTRIBUTES: &[&str] = &[
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
];

/// Attributes that may be verified, with the flag that records it.
pub const VERIFIABLE: &[(&str, &str)] = &[
    ("email", "email_verified"),
    ("phone_number", "phone_number_verified"),
];

pub const CUSTOM_PREFIX: &str = "custom:";
/// The server-maintained attribute listing a user's upstream identities.
pub const IDENTITIES: &str = "identities";
pub const MAX_CUSTOM_NAME_LEN: usize = 20;
pub const MAX_VALUE_BYTES: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    #[error("`{0}` is not a standard attribute and does not start with `custom:`")]
    UnknownName(String),
    #[error("custom attribute names are 1 to 20 characters after `custom:` (got `{0}`)")]
    CustomName(String),
    #[error("`{0}` is longer than 2,048 bytes")]
    TooLong(String),
    #[error("`{0}` must be \"true\" or \"false\"")]
    NotBoolean(String),
    #[error("`{0}` must be in E.164 form: + followed by 1 to 15 digits")]
    PhoneNumber(String),
    #[error("`{0}` must be a number of seconds since 1970")]
    NotEpoch(String),
    #[error("`sub` is assigned by the server and cannot be set")]
    Sub,
}

/// Checks that `name` is a standard attribute or a well-formed `custom:` one.
pub fn validate_name(name: &str) -> Result<(), AttributeError> {
    if name == "sub" {
        return Err(AttributeError::Sub);
    }
    if STANDARD_ATTRIBUTES.contains(&name) {
        return Ok(());
    }
    match name.strip_prefix(CUSTOM_PREFIX) {
        Some(rest) if !rest.is_empty() && rest.chars().count() <= MAX_CUSTOM_NAME_LEN => Ok(()),
        Some(_) => Err(AttributeError::CustomName(name.to_owned())),
        None => Err(AttributeError::UnknownName(name.to_owned())),
    }
}

fn validate_value(name: &str, value: &str) -> Result<(), AttributeError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(AttributeError::TooLong(name.to_owned()));
    }
    match name {
        "email_verified" | "phone_number_verified" if value != "true" && value != "false" => {
            Err(AttributeError::NotBoolean(name.to_owned()))
        }
        "phone_number" if !is_e164(value) => Err(AttributeError::PhoneNumber(name.to_owned())),
        "updated_at" if value.parse::<u64>().is_err() => {
            Err(AttributeError::NotEpoch(name.to_owned()))
        }
        _ => Ok(()),
    }
}

fn is_e164(value: &str) -> bool {
    value.strip_prefix('+').is_some_and(|digits| {
        (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// A user's attributes by name. `sub` is not one of them: it is the user's id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Attributes(BTreeMap<String, String>);

impl Attributes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds attributes from pairs, checking every name and value.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, AttributeError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut attributes = Self::new();
        for (name, value) in pairs {
            attributes.set(name, value)?;
        }
        Ok(attributes)
    }

    pub fn set(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<(), AttributeError> {
        let (name, value) = (name.into(), value.into());
        validate_name(&name)?;
        validate_value(&name, &value)?;
        self.0.insert(name, value);
        Ok(())
    }

    /// Cognito's `identities` attribute of federated users (a JSON array the server maintains;
    /// not settable through `set`, so neither files nor forms can forge it).
    pub fn set_identities(&mut self, json: String) {
        self.0.insert(IDENTITIES.to_owned(), json);
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether the verified flag of `attribute` (`email` or `phone_number`) is set.
    pub fn is_verified(&self, attribute: &str) -> bool {
        VERIFIABLE
            .iter()
            .find(|(name, _)| *name == attribute)
            .is_some_and(|(_, flag)| self.get(flag) == Some("true"))
    }

    /// Copies every attribute of `other` over this one (a merge; nothing is removed).
    pub fn merge(&mut self, other: &Attributes) {
        for (name, value) in other.iter() {
            self.0.insert(name.to_owned(), value.to_owned());
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_standard_or_custom() {
        assert!(validate_name("email").is_ok());
        assert!(validate_name("custom:tier").is_ok());
        assert_eq!(
            validate_name("tier"),
            Err(AttributeError::UnknownName("tier".into()))
        );
        assert!(validate_name("custom:").is_err());
        assert!(validate_name("custom:abcdefghijklmnopqrstu").is_err());
        assert_eq!(validate_name("sub"), Err(AttributeError::Sub));
    }

    #[test]
    fn values_are_checked() {
        let mut attributes = Attributes::new();
        assert!(attributes.set("email_verified", "yes").is_err());
        assert!(attributes.set("phone_number", "+1 425 555").is_err());
        assert!(attributes.set("phone_number", "+14255551212").is_ok());
        assert!(attributes.set("custom:bio", "x".repeat(2049)).is_err());
        attributes.set("email", "a@example.com").unwrap();
        assert!(!attributes.is_verified("email"));
        attributes.set("email_verified", "true").unwrap();
        assert!(attributes.is_verified("email"));
    }
}
