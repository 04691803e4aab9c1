//! Request parameters (RFC 6749 §3.1, §3.2): form- or query-encoded, each at most once.

use super::error::OAuthError;
use std::collections::BTreeMap;

/// Why a query or form was refused, and which parameter (None: a name that cannot be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProblem {
    pub name: Option<String>,
    pub error: OAuthError,
}

/// Decoded parameters; empty values count as absent (RFC 6749 §3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses `a=b&c=d`. A parameter given twice (even once empty), a value that is not UTF-8
    /// once decoded, or one holding a NUL character is `invalid_request`: lossy decoding would
    /// silently change a `state` the client checks later, and PostgreSQL refuses NUL in text.
    pub fn parse(encoded: &str) -> Result<Self, OAuthError> {
        match Self::parse_lenient(encoded) {
            (params, problems) if problems.is_empty() => Ok(params),
            (_, mut problems) => Err(problems.swap_remove(0).error),
        }
    }

    /// Like `parse`, but keeps going after a problem: the well-formed parameters given once,
    /// and every problem met, in order. The authorization endpoint uses it to send an error to
    /// a redirect URI it can still trust.
    pub fn parse_lenient(encoded: &str) -> (Self, Vec<ParamProblem>) {
        let mut map = BTreeMap::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut problems = Vec::new();
        let mut note = |name: Option<&str>, error: String| {
            problems.push(ParamProblem {
                name: name.map(str::to_owned),
                error: OAuthError::invalid_request(error),
            });
        };
        for pair in encoded.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = match decode_component(key) {
                Ok(key) if !key.contains('\0') => key,
                Ok(_) | Err(_) => {
                    note(None, "a parameter name is malformed".into());
                    continue;
                }
            };
            // Counted before its value is read: a second copy is a duplicate even when the
            // first one was malformed.
            if !seen.insert(key.clone()) {
                map.remove(&key);
                note(
                    Some(&key),
                    format!("parameter `{key}` is given more than once"),
                );
                continue;
            }
            match decode_component(value) {
                Ok(value) if value.contains('\0') => {
                    note(
                        Some(&key),
                        format!("parameter `{key}` contains a NUL character"),
                    );
                }
                Ok(value) => {
                    if !value.is_empty() {
                        map.insert(key, value);
                    }
                }
                Err(_) => note(
                    Some(&key),
                    format!("parameter `{key}` is not UTF-8 once decoded"),
                ),
            }
        }
        (Self(map), problems)
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

/// One `application/x-www-form-urlencoded` name or value: `+` is a space, `%XX` a byte, and
/// the bytes must be UTF-8.
pub fn decode_component(raw: &str) -> Result<String, std::str::Utf8Error> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
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
        assert_eq!(
            Params::parse("a=1+2%2B3&&").unwrap().get("a"),
            Some("1 2+3")
        );
    }

    #[test]
    fn an_empty_copy_still_counts_as_a_duplicate() {
        assert!(Params::parse("a=&a=x").is_err());
        assert!(Params::parse("a=x&a").is_err());
    }

    #[test]
    fn values_that_are_not_utf8_or_hold_nul_are_refused() {
        assert!(Params::parse("state=%FF").is_err());
        assert!(Params::parse("%FF=1").is_err());
        assert!(Params::parse("client_id=a%00b").is_err());
        assert!(Params::parse("a%00=1").is_err());
        assert_eq!(Params::parse("s=%C3%A9").unwrap().get("s"), Some("é"));
    }

    #[test]
    fn lenient_parsing_names_every_problem_and_drops_the_doubled_parameter() {
        let (params, problems) = Params::parse_lenient("client_id=c&state=1&state=2&x=%FF");
        assert_eq!(params.get("client_id"), Some("c"));
        assert_eq!(params.get("state"), None);
        assert_eq!(params.get("x"), None);
        let names: Vec<_> = problems.iter().map(|p| p.name.as_deref()).collect();
        assert_eq!(names, [Some("state"), Some("x")]);
        let (_, problems) = Params::parse_lenient("%FF=1&client_id=c");
        assert_eq!(problems[0].name, None);
        // A malformed first copy does not let a second one through.
        let (params, problems) = Params::parse_lenient("state=%FF&state=x");
        assert_eq!(params.get("state"), None);
        assert_eq!(problems.len(), 2);
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
