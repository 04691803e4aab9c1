//! Cognito's attribute mapping (docs/federation.md, "Attribute mapping"): pool attribute ← upstream
//! claim. A claim the upstream did not send leaves the stored value alone; values longer than 2,048
//! characters fail the sign-in; `username` is never mapped (it is `<Provider>_<subject>`);
//! `email_verified` is true only when the upstream says so.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const MAX_MAPPED_CHARS: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("the value of `{claim}` for `{attribute}` is longer than 2,048 characters")]
    TooLong { attribute: String, claim: String },
}

/// The pool attributes the upstream's claims give, in mapping order. Claims that are absent or
/// null are skipped; strings are taken as they are, booleans and numbers as text, objects and
/// arrays as JSON.
pub fn map_claims(
    mapping: &BTreeMap<String, String>,
    claims: &Map<String, Value>,
) -> Result<Vec<(String, String)>, MappingError> {
    let mut mapped = Vec::new();
    for (attribute, claim) in mapping {
        if attribute == "username" {
            continue;
        }
        let Some(value) = claims.get(claim).filter(|v| !v.is_null()) else {
            continue;
        };
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        let text = if attribute.ends_with("_verified") {
            verified_flag(&text).to_owned()
        } else {
            text
        };
        if text.chars().count() > MAX_MAPPED_CHARS {
            return Err(MappingError::TooLong {
                attribute: attribute.clone(),
                claim: claim.clone(),
            });
        }
        mapped.push((attribute.clone(), text));
    }
    Ok(mapped)
}

/// Upstreams send `true`, `"true"` or (some) `"True"`; anything else is not a verification.
fn verified_flag(text: &str) -> &'static str {
    if text.eq_ignore_ascii_case("true") {
        "true"
    } else {
        "false"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, c)| ((*a).to_owned(), (*c).to_owned()))
            .collect()
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn present_claims_are_mapped_as_text() {
        let m = mapping(&[
            ("email", "email"),
            ("email_verified", "email_verified"),
            ("custom:age", "age"),
            ("address", "address"),
            ("username", "sub"),
        ]);
        let c = claims(json!({
            "sub": "s1", "email": "a@b.c", "email_verified": true, "age": 42,
            "address": { "country": "KR" }
        }));
        assert_eq!(
            map_claims(&m, &c).unwrap(),
            vec![
                ("address".to_owned(), "{\"country\":\"KR\"}".to_owned()),
                ("custom:age".to_owned(), "42".to_owned()),
                ("email".to_owned(), "a@b.c".to_owned()),
                ("email_verified".to_owned(), "true".to_owned()),
            ]
        );
    }

    #[test]
    fn absent_and_null_claims_leave_attributes_alone() {
        let m = mapping(&[("email", "email"), ("given_name", "given_name")]);
        let c = claims(json!({ "email": null }));
        assert!(map_claims(&m, &c).unwrap().is_empty());
    }

    #[test]
    fn verification_is_true_only_when_the_upstream_says_so() {
        let m = mapping(&[("email_verified", "verified")]);
        for (given, expected) in [
            (json!(true), "true"),
            (json!("true"), "true"),
            (json!("True"), "true"),
            (json!(false), "false"),
            (json!("yes"), "false"),
            (json!(1), "false"),
        ] {
            let c = claims(json!({ "verified": given }));
            assert_eq!(map_claims(&m, &c).unwrap()[0].1, expected, "{given}");
        }
    }

    #[test]
    fn values_over_2048_characters_fail_the_sign_in() {
        let m = mapping(&[("custom:token", "token")]);
        let fits = claims(json!({ "token": "é".repeat(2048) }));
        assert!(map_claims(&m, &fits).is_ok());
        let long = claims(json!({ "token": "x".repeat(2049) }));
        assert_eq!(
            map_claims(&m, &long).unwrap_err(),
            MappingError::TooLong {
                attribute: "custom:token".into(),
                claim: "token".into()
            }
        );
    }
}
