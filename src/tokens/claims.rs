//! Token claims shaped like Cognito's (docs/integrating.md, "Any OIDC relying party") and the user
//! claims the scopes release (OIDC Core §5.4), limited to the attributes the client may read.

use crate::model::User;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// Claims of the `profile` scope (OIDC Core §5.4), plus the pool's custom attributes.
const PROFILE_CLAIMS: &[&str] = &[
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
    "address",
];

fn released_by(scopes: &[String], attribute: &str) -> bool {
    scopes.iter().any(|scope| match scope.as_str() {
        // Federated users' upstream identities go wherever their ID token goes (Cognito).
        "openid" => attribute == crate::model::attributes::IDENTITIES,
        "aws.cognito.signin.user.admin" => true,
        "email" => matches!(attribute, "email" | "email_verified"),
        "phone" => matches!(attribute, "phone_number" | "phone_number_verified"),
        "profile" => PROFILE_CLAIMS.contains(&attribute) || attribute.starts_with("custom:"),
        _ => false,
    })
}

fn claim_value(attribute: &str, value: &str) -> Value {
    match attribute {
        "email_verified" | "phone_number_verified" => Value::Bool(value == "true"),
        "updated_at" => value
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(value)),
        "identities" => serde_json::from_str(value).unwrap_or(Value::Null),
        "address" => match serde_json::from_str::<Value>(value) {
            Ok(object @ Value::Object(_)) => object,
            _ => json!({ "formatted": value }),
        },
        _ => Value::from(value),
    }
}

/// The user's attribute claims the scopes release and the client may read.
pub fn user_claims(
    user: &User,
    scopes: &[String],
    readable: Option<&[String]>,
) -> Map<String, Value> {
    user.attributes
        .iter()
        .filter(|(name, _)| released_by(scopes, name))
        // `identities` is the server's, not an attribute a client's read list can name.
        .filter(|(name, _)| {
            *name == crate::model::attributes::IDENTITIES
                || readable.is_none_or(|r| r.iter().any(|a| a == name))
        })
        .map(|(name, value)| (name.to_owned(), claim_value(name, value)))
        .collect()
}

/// `at_hash` (OIDC Core §3.1.3.6): base64url of the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// What every token about a user shares.
pub struct UserTokenContext<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub user: &'a User,
    pub groups: &'a [String],
    pub scopes: &'a [String],
    pub readable: Option<&'a [String]>,
    pub auth_time: i64,
    pub now: i64,
    /// The family id: constant across refreshes of one sign-in.
    pub origin_jti: &'a str,
}

pub fn id_token(
    ctx: &UserTokenContext,
    lifetime_seconds: i64,
    jti: &str,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> Map<String, Value> {
    let mut claims = user_claims(ctx.user, ctx.scopes, ctx.readable);
    claims.insert("sub".into(), ctx.user.sub.to_string().into());
    claims.insert("aud".into(), ctx.client_id.into());
    claims.insert("iss".into(), ctx.issuer.into());
    claims.insert("token_use".into(), "id".into());
    claims.insert("auth_time".into(), ctx.auth_time.into());
    claims.insert("iat".into(), ctx.now.into());
    claims.insert("exp".into(), (ctx.now + lifetime_seconds).into());
    claims.insert("jti".into(), jti.into());
    claims.insert("origin_jti".into(), ctx.origin_jti.into());
    claims.insert("cognito:username".into(), ctx.user.username.clone().into());
    if !ctx.groups.is_empty() {
        claims.insert("cognito:groups".into(), ctx.groups.into());
    }
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    if let Some(access_token) = access_token {
        claims.insert("at_hash".into(), at_hash(access_token).into());
    }
    claims
}

pub fn access_token(
    ctx: &UserTokenContext,
    lifetime_seconds: i64,
    jti: &str,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), ctx.user.sub.to_string().into());
    claims.insert("iss".into(), ctx.issuer.into());
    claims.insert("client_id".into(), ctx.client_id.into());
    claims.insert("origin_jti".into(), ctx.origin_jti.into());
    claims.insert("token_use".into(), "access".into());
    claims.insert("scope".into(), ctx.scopes.join(" ").into());
    claims.insert("auth_time".into(), ctx.auth_time.into());
    claims.insert("iat".into(), ctx.now.into());
    claims.insert("exp".into(), (ctx.now + lifetime_seconds).into());
    claims.insert("jti".into(), jti.into());
    claims.insert("username".into(), ctx.user.username.clone().into());
    claims.insert("version".into(), 2.into());
    if !ctx.groups.is_empty() {
        claims.insert("cognito:groups".into(), ctx.groups.into());
    }
    claims
}

/// A client-credentials access token: the client is its own subject.
pub fn client_access_token(
    issuer: &str,
    client_id: &str,
    scopes: &[String],
    now: i64,
    lifetime_seconds: i64,
    jti: &str,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), client_id.into());
    claims.insert("iss".into(), issuer.into());
    claims.insert("client_id".into(), client_id.into());
    claims.insert("token_use".into(), "access".into());
    claims.insert("scope".into(), scopes.join(" ").into());
    claims.insert("auth_time".into(), now.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + lifetime_seconds).into());
    claims.insert("jti".into(), jti.into());
    claims.insert("version".into(), 2.into());
    claims
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attributes, PoolId, UserStatus};

    fn user() -> User {
        User {
            sub: uuid::Uuid::new_v4(),
            pool_id: PoolId::parse("local_Example01").unwrap(),
            username: "jane".into(),
            status: UserStatus::Confirmed,
            enabled: true,
            password_hash: None,
            attributes: Attributes::from_pairs([
                ("email", "jane@example.com"),
                ("email_verified", "true"),
                ("phone_number", "+15555550100"),
                ("given_name", "Jane"),
                ("custom:tier", "gold"),
                ("updated_at", "1500000000"),
            ])
            .unwrap(),
            created_at: 0,
            updated_at: 0,
            srp_verifier: None,
        }
    }

    fn scopes(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scopes_release_their_claims_only() {
        let u = user();
        let email = user_claims(&u, &scopes(&["openid", "email"]), None);
        assert_eq!(email.get("email_verified"), Some(&Value::Bool(true)));
        assert!(email.get("phone_number").is_none() && email.get("given_name").is_none());
        let profile = user_claims(&u, &scopes(&["openid", "profile"]), None);
        assert_eq!(profile.get("custom:tier"), Some(&Value::from("gold")));
        assert_eq!(profile.get("updated_at"), Some(&Value::from(1_500_000_000)));
        assert!(profile.get("email").is_none());
        let all = user_claims(&u, &scopes(&["aws.cognito.signin.user.admin"]), None);
        assert_eq!(all.len(), 6);
        let limited = user_claims(
            &u,
            &scopes(&["aws.cognito.signin.user.admin"]),
            Some(&scopes(&["email"])),
        );
        assert_eq!(limited.keys().collect::<Vec<_>>(), vec!["email"]);
        assert!(user_claims(&u, &scopes(&["openid"]), None).is_empty());
    }

    #[test]
    fn at_hash_matches_oidc_example() {
        // OIDC Core A.3 (RS256 example): access token and its at_hash.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
