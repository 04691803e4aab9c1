//! The event JSON of Cognito's Lambda triggers (docs/triggers.md, "Events"): the common
//! envelope (`version`, `triggerSource`, `region`, `userPoolId`, `userName`, `callerContext`,
//! `request`, `response`) and readers for the answer's `response` fields that say which field
//! had the wrong type.

use crate::model::{Attributes, User};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// `callerContext.clientId` of a call no app client made (admin actions without one).
pub const NO_CLIENT: &str = "CLIENT_ID_NOT_APPLICABLE";

/// An event on its way to a hook.
#[derive(Debug, Clone)]
pub struct Event {
    value: Map<String, Value>,
}

impl Event {
    /// The envelope of `trigger_source` (e.g. `PreSignUp_SignUp`) for `user_name` in the pool,
    /// with empty `request.userAttributes` and `response`.
    pub fn new(
        trigger_source: &str,
        pool_id: &str,
        user_name: &str,
        client_id: Option<&str>,
    ) -> Self {
        let region = pool_id
            .split_once('_')
            .map_or("local", |(region, _)| region);
        let value = json!({
            "version": "1",
            "triggerSource": trigger_source,
            "region": region,
            "userPoolId": pool_id,
            "userName": user_name,
            "callerContext": {
                "awsSdkVersion": concat!("gatehouse-", env!("CARGO_PKG_VERSION")),
                "clientId": client_id.unwrap_or(NO_CLIENT),
            },
            "request": {"userAttributes": {}},
            "response": {},
        });
        let Value::Object(value) = value else {
            unreachable!("an object literal")
        };
        Self { value }
    }

    /// The event format's version (`"1"`, or `"2"`/`"3"` for pre token generation V2/V3).
    pub fn version(mut self, version: &str) -> Self {
        self.value.insert("version".into(), version.into());
        self
    }

    /// `request.userAttributes` from a stored user: `sub`, its attributes and
    /// `cognito:user_status`, every value a string.
    pub fn user(self, user: &User) -> Self {
        self.attributes(user_attributes(user))
    }

    /// `request.userAttributes` as given.
    pub fn attributes(self, attributes: Map<String, Value>) -> Self {
        self.request("userAttributes", Value::Object(attributes))
    }

    /// A field of `request`.
    pub fn request(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.section("request").insert(key.into(), value.into());
        self
    }

    /// `request.clientMetadata` (and nothing when the caller sent none).
    pub fn client_metadata(self, metadata: Option<&BTreeMap<String, String>>) -> Self {
        match metadata {
            Some(metadata) => self.request("clientMetadata", string_map_value(metadata)),
            None => self,
        }
    }

    /// A field of `response` as the hook first sees it (Cognito pre-fills the fields a hook may
    /// set with `null` or `false`).
    pub fn response(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.section("response").insert(key.into(), value.into());
        self
    }

    fn section(&mut self, name: &str) -> &mut Map<String, Value> {
        match self.value.get_mut(name) {
            Some(Value::Object(section)) => section,
            _ => unreachable!("the envelope has {name}"),
        }
    }

    pub fn to_json(&self) -> Value {
        Value::Object(self.value.clone())
    }

    pub fn trigger_source(&self) -> &str {
        self.value["triggerSource"].as_str().unwrap_or_default()
    }
}

/// A user's attributes as a trigger sees them.
pub fn user_attributes(user: &User) -> Map<String, Value> {
    let mut map = attribute_map(&user.attributes);
    map.insert("sub".into(), user.sub.to_string().into());
    map.insert(
        "cognito:user_status".into(),
        user.status.as_str().to_owned().into(),
    );
    map
}

/// Attributes as a JSON object of strings.
pub fn attribute_map(attributes: &Attributes) -> Map<String, Value> {
    attributes
        .iter()
        .map(|(name, value)| (name.to_owned(), Value::String(value.to_owned())))
        .collect()
}

pub fn string_map_value(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// The `response` object of a hook's answer: the whole event back, or `{"response": …}`.
/// A `null` response is an empty one.
pub fn response_of(body: &[u8]) -> Result<Map<String, Value>, String> {
    let answer: Value =
        serde_json::from_slice(body).map_err(|_| "the answer is not JSON".to_owned())?;
    let Value::Object(mut answer) = answer else {
        return Err("the answer is not a JSON object".into());
    };
    match answer.remove("response") {
        Some(Value::Object(response)) => Ok(response),
        Some(Value::Null) => Ok(Map::new()),
        Some(_) => Err("`response` is not an object".into()),
        None => Err("the answer has no `response`".into()),
    }
}

/// A boolean field: JSON `true`/`false`, or the strings `"true"`/`"false"`; absent or `null` is
/// `None`.
pub fn bool_field(response: &Map<String, Value>, name: &str) -> Result<Option<bool>, String> {
    match response.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(_) => Err(format!("`{name}` is not a boolean")),
    }
}

/// A string field; absent or `null` is `None`.
pub fn string_field(response: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match response.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{name}` is not a string")),
    }
}

/// An object of strings (booleans and numbers are taken as their text, as Cognito does for
/// attribute values); absent or `null` is `None`.
pub fn string_map(
    response: &Map<String, Value>,
    name: &str,
) -> Result<Option<BTreeMap<String, String>>, String> {
    match response.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Bool(_) | Value::Number(_) => Ok((k.clone(), v.to_string())),
                _ => Err(format!("`{name}.{k}` is not a string")),
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(format!("`{name}` is not an object")),
    }
}

/// A list of strings; absent or `null` is `None`.
pub fn string_list(
    response: &Map<String, Value>,
    name: &str,
) -> Result<Option<Vec<String>>, String> {
    match response.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(format!("`{name}` has an item that is not a string")),
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(format!("`{name}` is not a list")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_response_of_a_whole_event_or_alone() {
        let whole = br#"{"version":"1","response":{"autoConfirmUser":true}}"#;
        assert_eq!(response_of(whole).unwrap()["autoConfirmUser"], true);
        assert_eq!(response_of(br#"{"response":null}"#).unwrap().len(), 0);
        assert!(response_of(b"\"Bad Password\"").is_err());
        assert!(response_of(b"[]").is_err());
        assert!(response_of(br#"{"ok":1}"#).is_err());
        assert!(response_of(br#"{"response":"yes"}"#).is_err());
    }

    #[test]
    fn typed_fields_name_the_field_in_error() {
        let response: Map<String, Value> = serde_json::from_str(
            r#"{"a":"true","b":3,"m":{"x":"1","y":true},"bad":{"x":[1]},"l":["p"],"n":null}"#,
        )
        .unwrap();
        assert_eq!(bool_field(&response, "a"), Ok(Some(true)));
        assert!(bool_field(&response, "b").unwrap_err().contains("`b`"));
        assert_eq!(bool_field(&response, "n"), Ok(None));
        assert_eq!(string_map(&response, "m").unwrap().unwrap()["y"], "true");
        assert!(string_map(&response, "bad").is_err());
        assert_eq!(string_list(&response, "l"), Ok(Some(vec!["p".into()])));
        assert!(string_field(&response, "b").is_err());
    }

    #[test]
    fn the_envelope_carries_pool_region_and_client() {
        let event = Event::new("PreSignUp_SignUp", "eu-west-1_abc", "jane", None)
            .request("validationData", json!({"k": "v"}))
            .response("autoConfirmUser", false)
            .to_json();
        assert_eq!(event["region"], "eu-west-1");
        assert_eq!(event["callerContext"]["clientId"], NO_CLIENT);
        assert_eq!(event["request"]["validationData"]["k"], "v");
        assert_eq!(event["response"]["autoConfirmUser"], false);
        assert_eq!(event["version"], "1");
    }
}
