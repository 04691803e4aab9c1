//! Users of a pool (docs/configuration.md, "`[[pool.user]]`"): a stable `sub`, a username unique in
//! the pool, a status, an enabled flag, an argon2id password hash and the attributes.

use super::attributes::Attributes;
use super::ids::PoolId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's `sub`: a UUID that never changes, distinct from the username.
    pub sub: Uuid,
    pub pool_id: PoolId,
    pub username: String,
    pub status: UserStatus,
    pub enabled: bool,
    /// PHC string of the argon2id hash; `None` for users who sign in only through a provider.
    pub password_hash: Option<String>,
    pub attributes: Attributes,
    pub created_at: i64,
    pub updated_at: i64,
    /// The SRP salt and verifier for `USER_SRP_AUTH`, sealed (`flows::passwords`); `None` until
    /// a password is set or signed in with after the feature arrived.
    pub srp_verifier: Option<String>,
}

/// Cognito's `UserStatusType` values that a user of this server can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
    ForceChangePassword,
    ResetRequired,
    ExternalProvider,
}

impl UserStatus {
    pub const ALL: [UserStatus; 5] = [
        Self::Unconfirmed,
        Self::Confirmed,
        Self::ForceChangePassword,
        Self::ResetRequired,
        Self::ExternalProvider,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unconfirmed => "UNCONFIRMED",
            Self::Confirmed => "CONFIRMED",
            Self::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            Self::ResetRequired => "RESET_REQUIRED",
            Self::ExternalProvider => "EXTERNAL_PROVIDER",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

impl std::fmt::Display for UserStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
