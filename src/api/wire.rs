//! Values on the wire (../docs/api.md, "Wire format"): inputs are JSON objects with Cognito's
//! PascalCase member names, timestamps are epoch seconds as numbers (the AWS SDK for
//! JavaScript refuses strings), attributes are `{Name, Value}` string pairs, and pagination
//! tokens are opaque strings.

use super::error::{ApiError, SERIALIZATION};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Reads an action's input. A body that is not a JSON object is a `SerializationException`;
/// a missing or mistyped member an `InvalidParameterException` naming it, as Cognito words it.
pub fn input<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::new(
            SERIALIZATION,
            "Start of structure or map found where not expected.",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let message = match inner.strip_prefix("missing field `") {
            Some(rest) => {
                let member = rest.split('`').next().unwrap_or_default();
                format!(
                    "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                    lower_first(member)
                )
            }
            None if path == "." => format!("Invalid input: {inner}"),
            None => format!("Invalid value at '{path}': {inner}"),
        };
        ApiError::invalid_parameter(message)
    })
}

/// Refuses a NUL character anywhere in the input: no member may carry one, and PostgreSQL
/// cannot store one (it would be a server error instead of the caller's).
pub fn refuse_nul(value: &Value) -> Result<(), ApiError> {
    let found = match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => return items.iter().try_for_each(refuse_nul),
        Value::Object(members) => {
            for (name, member) in members {
                if name.contains('\0') {
                    return Err(nul_refused());
                }
                refuse_nul(member)?;
            }
            false
        }
        _ => false,
    };
    if found { Err(nul_refused()) } else { Ok(()) }
}

fn nul_refused() -> ApiError {
    ApiError::invalid_parameter("1 validation error detected: a value contains a NUL character")
}

/// `UserPoolId` → `userPoolId`, as Cognito's validation messages name members.
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// Cognito's `AttributeType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeType {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// A timestamp as Cognito's JSON carries it: epoch seconds, a number.
pub fn timestamp(epoch_seconds: i64) -> Value {
    Value::from(epoch_seconds)
}

/// A string member checked against the model's length limits, with Cognito's message.
pub fn check_length(member: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let len = value.chars().count();
    if len < min || len > max {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length {}",
            lower_first(member),
            if len < min {
                format!("greater than or equal to {min}")
            } else {
                format!("less than or equal to {max}")
            }
        )));
    }
    Ok(())
}

/// A page size: `Limit`/`MaxResults` within `1..=max`, `default` when absent (0 also means the
/// default for `Limit`, as Cognito reads it).
pub fn page_size(
    member: &str,
    value: Option<i64>,
    max: i64,
    default: i64,
) -> Result<usize, ApiError> {
    match value {
        None | Some(0) => Ok(default as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(_) => Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have value less than or equal to {max}",
            lower_first(member)
        ))),
    }
}

/// An opaque pagination token carrying where the next page starts.
pub fn page_token<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// Reads a token made by `page_token`; anything else is `InvalidParameterException`.
pub fn read_page_token<T: DeserializeOwned>(token: &str) -> Result<T, ApiError> {
    URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::invalid_parameter("Invalid pagination token."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Sample {
        #[allow(dead_code)]
        user_pool_id: String,
        #[allow(dead_code)]
        limit: Option<i64>,
    }

    #[test]
    fn inputs_explain_what_is_wrong_in_cognitos_words() {
        let missing = input::<Sample>(serde_json::json!({})).unwrap_err();
        assert_eq!(missing.code, "InvalidParameterException");
        assert!(missing.message.contains("'userPoolId'"), "{missing}");
        let typed = input::<Sample>(serde_json::json!({"UserPoolId": 3})).unwrap_err();
        assert!(typed.message.contains("UserPoolId"), "{typed}");
        let not_object = input::<Sample>(serde_json::json!([1])).unwrap_err();
        assert_eq!(not_object.code, "SerializationException");
    }

    #[test]
    fn page_tokens_round_trip_and_refuse_garbage() {
        let token = page_token(&("abc", 3));
        let back: (String, i64) = read_page_token(&token).unwrap();
        assert_eq!(back, ("abc".to_owned(), 3));
        assert!(read_page_token::<(String, i64)>("%%%").is_err());
        assert!(page_size("Limit", Some(61), 60, 60).is_err());
        assert_eq!(page_size("Limit", None, 60, 60).unwrap(), 60);
    }
}
