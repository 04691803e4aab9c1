//! `ListUsers` (../docs/api.md, "Admin actions";
//! <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_ListUsers.html>):
//! a pool's users, all or those one filter `attribute = "value"` / `attribute ^= "value"`
//! selects, a page at a time. Every filter reads the `user_search` index.

use super::Action;
use super::admin_users::user_type;
use crate::api::wire::{input, page_size, page_token, read_page_token};
use crate::api::{ApiError, Ctx};
use crate::model::pool::PoolSettings;
use crate::store::{self, users::Match, users::Search};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn find(name: &str) -> Option<Action> {
    Some(match name {
        "ListUsers" => list_users,
        _ => return None,
    })
}

/// The attributes a filter may name (Cognito's list; custom attributes are not searchable).
pub const FILTER_ATTRIBUTES: &[&str] = &[
    "username",
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "cognito:user_status",
    "status",
    "sub",
];

fn parse_error() -> ApiError {
    ApiError::invalid_parameter("Error while parsing filter")
}

/// Parses a `Filter`: `attribute op "value"`, `op` being `=` or `^=`, `\"` and `\\` escaped
/// in the value. Empty means no filter.
pub fn parse_filter(settings: &PoolSettings, filter: &str) -> Result<Option<Search>, ApiError> {
    let text = filter.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let name_end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .ok_or_else(parse_error)?;
    let (attribute, rest) = text.split_at(name_end);
    if attribute.is_empty() || !FILTER_ATTRIBUTES.contains(&attribute) {
        return Err(parse_error());
    }
    let rest = rest.trim_start();
    let (matching, rest) = if let Some(rest) = rest.strip_prefix("^=") {
        (Match::Prefix, rest)
    } else if let Some(rest) = rest.strip_prefix('=') {
        (Match::Exact, rest)
    } else {
        return Err(parse_error());
    };
    let mut chars = rest
        .trim_start()
        .strip_prefix('"')
        .ok_or_else(parse_error)?
        .chars();
    let mut value = String::new();
    loop {
        match chars.next().ok_or_else(parse_error)? {
            '\\' => value.push(chars.next().ok_or_else(parse_error)?),
            '"' => break,
            c => value.push(c),
        }
    }
    if !chars.as_str().trim().is_empty() {
        return Err(parse_error());
    }
    let value_key = match attribute {
        "username" => settings.username_key(&value),
        "cognito:user_status" => value.to_uppercase(),
        _ => value,
    };
    Ok(Some(Search {
        attribute: attribute.to_owned(),
        matching,
        value_key,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    user_pool_id: String,
    filter: Option<String>,
    limit: Option<i64>,
    pagination_token: Option<String>,
    attributes_to_get: Option<Vec<String>>,
}

fn list_users(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: ListInput = input(body)?;
    let site = ctx.site(&given.user_pool_id)?;
    let limit = page_size("Limit", given.limit, 60, 60)?;
    let filter = given.filter.as_deref().unwrap_or_default();
    if filter.chars().count() > 256 {
        return Err(parse_error());
    }
    let search = parse_filter(&site.pool.settings, filter)?;
    let after: Option<(String, String)> = given
        .pagination_token
        .as_deref()
        .map(read_page_token)
        .transpose()?;
    let conn = ctx.conn()?;
    let mut found = store::users::search(
        conn,
        site.pool_id(),
        search.as_ref(),
        after.as_ref().map(|(k, s)| (k.as_str(), s.as_str())),
        limit + 1,
    )?;
    let more = found.len() > limit;
    found.truncate(limit);
    let only = given.attributes_to_get.as_deref();
    let users: Vec<Value> = found
        .iter()
        .map(|(_, user)| user_type(user, only))
        .collect();
    let mut answer = json!({ "Users": users });
    if more && let Some((key, user)) = found.last() {
        answer["PaginationToken"] = json!(page_token(&(key, user.sub.to_string())));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_as_cognito_writes_them() {
        let settings = PoolSettings::default();
        let exact = parse_filter(&settings, r#"email = "a\"b@example.com""#)
            .unwrap()
            .unwrap();
        assert_eq!(exact.attribute, "email");
        assert_eq!(exact.matching, Match::Exact);
        assert_eq!(exact.value_key, "a\"b@example.com");
        let prefix = parse_filter(&settings, r#"username^="Al""#)
            .unwrap()
            .unwrap();
        assert_eq!(prefix.matching, Match::Prefix);
        assert_eq!(prefix.value_key, "al");
        let status = parse_filter(&settings, r#"cognito:user_status = "confirmed""#)
            .unwrap()
            .unwrap();
        assert_eq!(status.value_key, "CONFIRMED");
        assert!(parse_filter(&settings, "  ").unwrap().is_none());
        for bad in [
            r#"custom:tier = "gold""#,
            r#"email == "x""#,
            r#"email = "x"#,
            r#"email = x"#,
            r#"email = "x" extra"#,
            r#"= "x""#,
            r#"nickname = "x""#,
            "email",
        ] {
            assert!(parse_filter(&settings, bad).is_err(), "{bad}");
        }
    }
}
