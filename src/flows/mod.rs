//! Flows: where the protocol core meets storage. Each flow runs on a blocking thread with a
//! database connection, asks `oauth` and `tokens` for decisions and records them with `store`.
//! Handlers in `http` call exactly one flow.

pub mod authorize;
pub mod introspect;
pub mod issue;
pub mod keyring;
pub mod login;
pub mod logout;
pub mod revoke;
pub mod session;
pub mod token;
pub mod userinfo;

use crate::model::{AppClient, UserPool};
use crate::oauth::OAuthError;
use crate::oauth::discovery::PoolUrls;
use crate::store::{self, AnyConnection, StoreError};
use std::collections::HashSet;

pub use keyring::KeyRing;

/// Authorization codes live at most five minutes (RFC 6749 §4.1.2 recommends ten at most).
pub const CODE_SECONDS: i64 = 300;
/// A hosted-UI session lasts an hour, like Cognito's.
pub const SESSION_SECONDS: i64 = 3600;

/// What every flow needs to know about where it runs.
#[derive(Clone)]
pub struct Site {
    pub pool: UserPool,
    pub urls: PoolUrls,
}

impl Site {
    pub fn pool_id(&self) -> &str {
        self.pool.id.as_str()
    }
}

/// Internal failures become `server_error`; the detail is logged, never sent.
pub fn internal(error: impl std::fmt::Display) -> OAuthError {
    tracing::error!("internal error: {error}");
    OAuthError::server_error()
}

impl From<StoreError> for OAuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(detail) => {
                tracing::error!("database unavailable: {detail}");
                OAuthError::new(
                    crate::oauth::ErrorCode::TemporarilyUnavailable,
                    "the server is temporarily unavailable",
                )
            }
            other => internal(other),
        }
    }
}

/// A client of the site's pool, or `None`.
pub fn find_client(
    conn: &mut AnyConnection,
    site: &Site,
    client_id: &str,
) -> Result<Option<AppClient>, StoreError> {
    match store::clients::get(conn, site.pool_id(), client_id) {
        Ok(client) => Ok(Some(client)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The pool's custom scopes that a resource server currently defines.
pub fn defined_custom_scopes(
    conn: &mut AnyConnection,
    site: &Site,
) -> Result<HashSet<String>, StoreError> {
    Ok(
        store::directory::list_resource_servers(conn, site.pool_id())?
            .iter()
            .flat_map(|server| server.qualified_scopes())
            .collect(),
    )
}

/// A random identifier for a token (`jti`) or a family (`origin_jti`).
pub fn new_jti() -> String {
    uuid::Uuid::new_v4().to_string()
}
