//! Scope resolution (RFC 6749 §3.3; docs/integrating.md): what a request may be granted.
//!
//! A requested scope the client is not allowed is `invalid_scope`; an allowed custom scope whose
//! resource-server definition is gone is dropped silently; no scope means all of the
//! client's scopes; `email`, `phone` and `profile` need `openid` (OIDC Core §5.4).
//! `offline_access` (OIDC Core §11) is never refused: it is granted beside `openid` when the
//! grant yields a refresh token, and dropped otherwise.

use super::error::OAuthError;
use crate::model::client::RESERVED_SCOPES;
use std::collections::HashSet;

fn is_reserved(scope: &str) -> bool {
    RESERVED_SCOPES.contains(&scope)
}

fn split(requested: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    requested
        .split(' ')
        .filter(|s| !s.is_empty())
        .filter(|s| seen.insert(s.to_string()))
        .map(String::from)
        .collect()
}

/// OIDC Core §11: asks for a refresh token usable while the user is away. Cognito issues a
/// refresh token with every authorization code anyway, so the scope only has to be accepted.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The requested scopes without `offline_access`, and whether it was among them. A request
/// naming nothing else counts as naming no scope.
fn without_offline(requested: Option<&str>) -> (Option<Vec<String>>, bool) {
    let Some(requested) = requested else {
        return (None, false);
    };
    let mut scopes = split(requested);
    let before = scopes.len();
    scopes.retain(|s| s != OFFLINE_ACCESS);
    let asked = scopes.len() != before;
    if scopes.is_empty() && asked {
        return (None, true);
    }
    (Some(scopes), asked)
}

/// Scopes for a user grant (authorization code or implicit). `yields_refresh_token`: whether
/// this grant ends with a refresh token (the code flow), which `offline_access` needs.
pub fn for_user(
    requested: Option<&str>,
    allowed: &[String],
    defined_custom: &HashSet<String>,
    yields_refresh_token: bool,
) -> Result<Vec<String>, OAuthError> {
    let live = |s: &String| is_reserved(s) || defined_custom.contains(s);
    let (requested, offline) = without_offline(requested);
    let mut scopes: Vec<String> = match requested {
        None => allowed.iter().filter(|s| live(s)).cloned().collect(),
        Some(requested) => {
            if let Some(bad) = requested.iter().find(|s| !allowed.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "the client is not allowed the scope `{bad}`"
                )));
            }
            requested.into_iter().filter(live).collect()
        }
    };
    let has_openid = scopes.iter().any(|s| s == "openid");
    if let Some(needs) = scopes
        .iter()
        .find(|s| matches!(s.as_str(), "email" | "phone" | "profile"))
        && !has_openid
    {
        return Err(OAuthError::invalid_scope(format!(
            "the scope `{needs}` can only be requested with `openid`"
        )));
    }
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope(
            "no scope the client may use was requested",
        ));
    }
    if offline && has_openid && yields_refresh_token {
        scopes.push(OFFLINE_ACCESS.to_owned());
    }
    Ok(scopes)
}

/// Scopes for client credentials: custom scopes only (docs/integrating.md, "Machine to machine").
pub fn for_client(
    requested: Option<&str>,
    allowed: &[String],
    defined_custom: &HashSet<String>,
) -> Result<Vec<String>, OAuthError> {
    let usable = |s: &String| !is_reserved(s) && defined_custom.contains(s);
    // No refresh token comes with client credentials: `offline_access` is dropped.
    let (requested, _) = without_offline(requested);
    let scopes: Vec<String> = match requested {
        None => allowed.iter().filter(|s| usable(s)).cloned().collect(),
        Some(requested) => {
            if let Some(bad) = requested.iter().find(|s| is_reserved(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "client credentials cannot use the scope `{bad}`: only custom scopes"
                )));
            }
            if let Some(bad) = requested.iter().find(|s| !allowed.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "the client is not allowed the scope `{bad}`"
                )));
            }
            requested.into_iter().filter(usable).collect()
        }
    };
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope(
            "the client has no custom scope to grant",
        ));
    }
    Ok(scopes)
}

/// Scopes for a refresh grant (RFC 6749 §6): those granted, or the part of them `requested`
/// names. A scope that was not granted is `invalid_scope`; the order stays the grant's.
pub fn for_refresh(requested: Option<&str>, granted: &[String]) -> Result<Vec<String>, OAuthError> {
    // An absent or blank `scope` is the whole grant.
    let requested = requested.map(split).unwrap_or_default();
    if requested.is_empty() {
        return Ok(granted.to_vec());
    }
    if let Some(bad) = requested.iter().find(|s| !granted.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "the scope `{bad}` was not granted with this refresh token"
        )));
    }
    Ok(granted
        .iter()
        .filter(|s| requested.contains(s))
        .cloned()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_may_narrow_the_grant_but_not_widen_it() {
        let granted = strings(&["openid", "email", "profile"]);
        assert_eq!(for_refresh(None, &granted).unwrap(), granted);
        assert_eq!(for_refresh(Some("  "), &granted).unwrap(), granted);
        assert_eq!(
            for_refresh(Some("profile openid"), &granted).unwrap(),
            strings(&["openid", "profile"])
        );
        let error = for_refresh(Some("openid phone"), &granted).unwrap_err();
        assert_eq!(error.code.as_str(), "invalid_scope");
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn user_scopes() {
        let allowed = strings(&["openid", "email", "https://api/read", "https://api/gone"]);
        let defined: HashSet<String> = ["https://api/read".to_string()].into();
        assert_eq!(
            for_user(None, &allowed, &defined, true).unwrap(),
            strings(&["openid", "email", "https://api/read"])
        );
        assert_eq!(
            for_user(Some("openid https://api/gone"), &allowed, &defined, true).unwrap(),
            strings(&["openid"])
        );
        assert!(for_user(Some("openid phone"), &allowed, &defined, true).is_err());
        assert!(for_user(Some("email"), &allowed, &defined, true).is_err());
    }

    #[test]
    fn offline_access_is_granted_with_openid_and_a_refresh_token_and_never_refused() {
        let allowed = strings(&["openid", "email", "https://api/read"]);
        let defined: HashSet<String> = ["https://api/read".to_string()].into();
        let code = |requested| for_user(Some(requested), &allowed, &defined, true).unwrap();
        assert_eq!(
            code("openid offline_access email"),
            strings(&["openid", "email", "offline_access"])
        );
        // Alone, it asks for the client's scopes, as no scope would.
        assert_eq!(
            code("offline_access"),
            strings(&["openid", "email", "https://api/read", "offline_access"])
        );
        // Without openid, or without a refresh token (implicit), it is dropped.
        assert_eq!(
            code("https://api/read offline_access"),
            strings(&["https://api/read"])
        );
        let implicit = for_user(Some("openid offline_access"), &allowed, &defined, false);
        assert_eq!(implicit.unwrap(), strings(&["openid"]));
        // A client that may not use openid is not refused either.
        let api_only = strings(&["https://api/read"]);
        let granted = for_user(Some("offline_access"), &api_only, &defined, true).unwrap();
        assert_eq!(granted, strings(&["https://api/read"]));
        // Client credentials never yield a refresh token.
        assert_eq!(
            for_client(Some("https://api/read offline_access"), &allowed, &defined).unwrap(),
            strings(&["https://api/read"])
        );
    }

    #[test]
    fn client_scopes() {
        let allowed = strings(&["openid", "https://api/read", "https://api/write"]);
        let defined: HashSet<String> = [
            "https://api/read".to_string(),
            "https://api/write".to_string(),
        ]
        .into();
        assert_eq!(
            for_client(None, &allowed, &defined).unwrap(),
            strings(&["https://api/read", "https://api/write"])
        );
        assert!(for_client(Some("openid"), &allowed, &defined).is_err());
        assert!(for_client(Some("https://api/delete"), &allowed, &defined).is_err());
        assert!(for_client(None, &strings(&["openid"]), &defined).is_err());
    }
}
