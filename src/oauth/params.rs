//! Request parameters (RFC 6749 §3.1, §3.2): form- or query-encoded, each at most once.

use super::error::OAuthError;
use std::collections::BTreeMap;

/// Decoded parameters; empty values count as absent (RFC 6749 §3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses `a=b&c=d`; a parameter given twice is `invalid_request`.
    pub fn parse(encoded: &str) -> Result<Self, OAuthError> {
        let mut map = BTreeMap::new();
        for (key, value) in url::form_urlencoded::parse(encoded.as_bytes()) {
            if value.is_empty() {
                continue;
            }
            if map.insert(key.to_string(), value.to_string()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "parameter `{key}` is given more than once"
                )));
            }
        }
        Ok(Self(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("`{name}` is required")))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Re-encodes the parameters (sorted by name).
    pub fn encode(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.0.iter())
            .finish()
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    pub fn insert(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }
}

/// `base` with `params` appended to its query (response_mode=query) or as its fragment
/// (response_mode=fragment). Works for custom schemes such as `myapp://callback` too.
pub fn redirect_with(base: &str, params: &[(&str, &str)], fragment: bool) -> String {
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().copied())
        .finish();
    if fragment {
        format!("{base}#{encoded}")
    } else if base.contains('?') {
        format!("{base}&{encoded}")
    } else {
        format!("{base}?{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused_and_empties_ignored() {
        assert!(Params::parse("a=1&a=2").is_err());
        let params = Params::parse("a=1&b=&c=x%20y").unwrap();
        assert_eq!(params.get("b"), None);
        assert_eq!(params.get("c"), Some("x y"));
    }

    #[test]
    fn redirects_keep_the_registered_query() {
        assert_eq!(
            redirect_with("https://app/cb?x=1", &[("code", "a b")], false),
            "https://app/cb?x=1&code=a+b"
        );
        assert_eq!(
            redirect_with(
                "myapp://callback",
                &[("access_token", "t"), ("state", "s")],
                true
            ),
            "myapp://callback#access_token=t&state=s"
        );
    }
}
