//! Who may call which action (../docs/api.md, "Credentials"): the public actions of Cognito's
//! service model are unsigned; every other one needs a SigV4 signature by a key declared in
//! `[[api_credentials]]`, and that key's `pools` and `actions` must allow the call
//! (<https://docs.aws.amazon.com/cognito/latest/developerguide/user-pools-API-operations.html>).

use super::error::ApiError;
use std::sync::Arc;

/// The service prefix of IAM action names (`cognito-idp:ListUsers`).
pub const SERVICE: &str = "cognito-idp";

/// The actions Cognito's service model marks `auth: noAuth`: authorised by a client id, an
/// access token, a session or a code, never by a signature. A signature sent with them is
/// ignored, as Cognito does.
pub const PUBLIC_ACTIONS: &[&str] = &[
    "AssociateSoftwareToken",
    "ChangePassword",
    "CompleteWebAuthnRegistration",
    "ConfirmDevice",
    "ConfirmForgotPassword",
    "ConfirmSignUp",
    "DeleteUser",
    "DeleteUserAttributes",
    "DeleteWebAuthnCredential",
    "ForgetDevice",
    "ForgotPassword",
    "GetDevice",
    "GetTokensFromRefreshToken",
    "GetUser",
    "GetUserAttributeVerificationCode",
    "GetUserAuthFactors",
    "GlobalSignOut",
    "InitiateAuth",
    "ListDevices",
    "ListUserSessions",
    "ListWebAuthnCredentials",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "RevokeUserSession",
    "SetUserMFAPreference",
    "SetUserSettings",
    "SignUp",
    "StartWebAuthnRegistration",
    "UpdateAuthEventFeedback",
    "UpdateDeviceStatus",
    "UpdateUserAttributes",
    "VerifySoftwareToken",
    "VerifyUserAttribute",
];

pub fn is_public(action: &str) -> bool {
    PUBLIC_ACTIONS.contains(&action)
}

/// An API key from the file (`[[api_credentials]]`).
#[derive(Clone)]
pub struct ApiCredential {
    /// 16–128 of `[A-Z0-9]`; safe to log.
    pub access_key_id: String,
    /// Kept usable: a SigV4 signature is an HMAC keyed by it.
    pub secret_access_key: String,
    /// Pool ids this key may act on; `*` for all.
    pub pools: Vec<String>,
    /// IAM-like patterns (`cognito-idp:*`, `cognito-idp:Admin*`, `cognito-idp:ListUsers`).
    pub actions: Vec<String>,
}

impl std::fmt::Debug for ApiCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCredential")
            .field("access_key_id", &self.access_key_id)
            .field("pools", &self.pools)
            .field("actions", &self.actions)
            .finish_non_exhaustive()
    }
}

impl ApiCredential {
    pub fn allows_pool(&self, pool_id: &str) -> bool {
        self.pools.iter().any(|p| p == "*" || p == pool_id)
    }

    pub fn allows_all_pools(&self) -> bool {
        self.pools.iter().any(|p| p == "*")
    }

    /// Whether an action is allowed: `cognito-idp:*`, an exact name, or a prefix ending in `*`
    /// (IAM's wildcard; names compare case-insensitively as IAM's do).
    pub fn allows_action(&self, action: &str) -> bool {
        let full = format!("{SERVICE}:{action}").to_ascii_lowercase();
        self.actions.iter().any(|pattern| {
            let pattern = pattern.to_ascii_lowercase();
            match pattern.strip_suffix('*') {
                Some(prefix) => full.starts_with(prefix),
                None => full == pattern,
            }
        })
    }

    /// `AccessDeniedException` in IAM's words.
    pub fn denied(&self, action: &str, resource: &str) -> ApiError {
        ApiError::new(
            "AccessDeniedException",
            format!(
                "User: {} is not authorized to perform: {SERVICE}:{action} on resource: {resource}",
                self.access_key_id
            ),
        )
    }
}

/// Who is calling, as established by the front door before dispatch.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A public action: no signature needed (and any sent was ignored).
    Public,
    /// A signed call by this key, whose action was allowed.
    Signed(Arc<ApiCredential>),
}

impl Caller {
    /// Whether the caller may act on the pool: public actions find their pool through a client
    /// id or a token, which are their own authorisation.
    pub fn check_pool(&self, action: &str, pool_id: &str, arn: &str) -> Result<(), ApiError> {
        match self {
            Caller::Public => Ok(()),
            Caller::Signed(key) if key.allows_pool(pool_id) => Ok(()),
            Caller::Signed(key) => Err(key.denied(action, arn)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(pools: &[&str], actions: &[&str]) -> ApiCredential {
        ApiCredential {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "s".into(),
            pools: pools.iter().map(|s| s.to_string()).collect(),
            actions: actions.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn action_patterns_follow_iam() {
        let admin = key(&["*"], &["cognito-idp:Admin*"]);
        assert!(admin.allows_action("AdminGetUser"));
        assert!(!admin.allows_action("ListUsers"));
        let all = key(&["*"], &["cognito-idp:*"]);
        assert!(all.allows_action("ListUsers"));
        let one = key(&["*"], &["cognito-idp:ListUsers"]);
        assert!(one.allows_action("ListUsers"));
        assert!(!one.allows_action("ListUsersInGroup"));
        assert!(!key(&["*"], &["s3:*"]).allows_action("ListUsers"));
    }

    #[test]
    fn pools_are_listed_or_starred() {
        let one = key(&["local_A"], &["cognito-idp:*"]);
        assert!(one.allows_pool("local_A"));
        assert!(!one.allows_pool("local_B"));
        assert!(key(&["*"], &[]).allows_pool("local_B"));
    }

    #[test]
    fn the_public_list_is_cognitos() {
        assert_eq!(PUBLIC_ACTIONS.len(), 34);
        assert!(is_public("InitiateAuth"));
        assert!(!is_public("AdminInitiateAuth"));
    }
}
