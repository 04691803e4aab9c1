//! Cognito's JSON API (`AWSCognitoIdentityProviderService`, ../docs/api.md): the actions boto3,
//! the AWS CLI, the AWS SDKs and amazon-cognito-identity-js call, dispatched by name. This
//! module knows neither HTTP nor SQL: the front door (`http::cognito`) hands it an action, its
//! JSON input and the established caller; actions run the same use cases as the hosted pages
//! (`flows`) and answer Cognito's output shapes or its exceptions.

pub mod access;
pub mod actions;
mod calendar;
pub mod error;
pub mod secret_hash;
pub mod sigv4;
pub mod srp;
pub mod token;
pub mod wire;

pub use access::{ApiCredential, Caller};
pub use error::ApiError;

use crate::flows::{Services, Site};
use crate::model::{AppClient, UserPool};
use crate::oauth::discovery::PoolUrls;
use crate::store::{self, AnyConnection, Lease, StoreError};
use serde_json::Value;

/// What the API needs to know about the server it runs in.
#[derive(Debug, Clone)]
pub struct ApiEnv {
    /// Public base URL: pools' issuers are `{public_url}/{pool_id}`.
    pub public_url: String,
    /// The account id in ARNs (`arn:aws:cognito-idp:<region>:<account>:userpool/<id>`).
    pub account_id: String,
}

/// The account id ARNs carry unless configured.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// One call being answered: the connection lease, shared services, the caller and `now`.
pub struct Ctx<'a> {
    pub db: &'a mut Lease,
    pub services: &'a Services,
    pub env: &'a ApiEnv,
    pub action: &'a str,
    pub caller: &'a Caller,
    pub now: i64,
}

impl Ctx<'_> {
    /// The database connection (checked out again if a password hash gave it back).
    pub fn conn(&mut self) -> Result<&mut AnyConnection, ApiError> {
        Ok(self.db.conn()?)
    }

    /// The pool's ARN, in the pool id's region.
    pub fn pool_arn(&self, pool_id: &str) -> String {
        let region = pool_id.split('_').next().unwrap_or("local");
        format!(
            "arn:aws:cognito-idp:{region}:{}:userpool/{pool_id}",
            self.env.account_id
        )
    }

    /// The site of a `UserPoolId` the caller may act on; Cognito's
    /// `ResourceNotFoundException` for an unknown one (after the access check, so a key limited
    /// to some pools learns nothing of others).
    pub fn site(&mut self, pool_id: &str) -> Result<Site, ApiError> {
        let arn = self.pool_arn(pool_id);
        self.caller.check_pool(self.action, pool_id, &arn)?;
        let pool = self.pool(pool_id)?.ok_or_else(|| {
            ApiError::resource_not_found(format!("User pool {pool_id} does not exist."))
        })?;
        Ok(self.site_of(pool))
    }

    /// A pool by id through the directory cache, without an access check (for public actions,
    /// whose client id or token is their authorisation).
    pub fn known_pool(&mut self, pool_id: &str) -> Result<Option<UserPool>, ApiError> {
        self.pool(pool_id)
    }

    fn pool(&mut self, pool_id: &str) -> Result<Option<UserPool>, ApiError> {
        let key = format!("id:{pool_id}");
        let directory = self.services.directory.clone();
        if let Some(cached) = directory.cached_pool(&key, self.now) {
            return Ok(cached);
        }
        let now = self.now;
        let conn = self.conn()?;
        Ok(directory.pool(conn, &key, now, |conn| {
            match store::pools::get(conn, pool_id) {
                Ok(pool) => Ok(Some(pool)),
                Err(StoreError::NotFound) => Ok(None),
                Err(e) => Err(e),
            }
        })?)
    }

    pub fn site_of(&self, pool: UserPool) -> Site {
        let urls = PoolUrls::new(
            &self.env.public_url,
            pool.id.as_str(),
            pool.domain.as_deref(),
        );
        Site { pool, urls }
    }

    /// The site and client of a `ClientId`, for the public actions that name only a client;
    /// `ResourceNotFoundException` when no pool has it.
    pub fn client_site(&mut self, client_id: &str) -> Result<(Site, AppClient), ApiError> {
        let not_found = || {
            ApiError::resource_not_found(
                "User pool client {client_id} does not exist.".replace("{client_id}", client_id),
            )
        };
        let conn = self.conn()?;
        let client = match store::clients::find_by_id(conn, client_id)? {
            Some(client) => client,
            None => return Err(not_found()),
        };
        let pool_id = client.pool_id.as_str().to_owned();
        let pool = self.pool(&pool_id)?.ok_or_else(not_found)?;
        let site = self.site_of(pool);
        // Through the directory cache, like every other client read.
        let now = self.now;
        let services = self.services;
        let conn = self.conn()?;
        let client = services
            .directory
            .client(conn, &site, client_id, now)?
            .ok_or_else(not_found)?;
        Ok((site, client))
    }
}

/// Answers one call: the action's output, or Cognito's error.
pub fn handle(ctx: &mut Ctx, input: Value) -> Result<Value, ApiError> {
    wire::refuse_nul(&input)?;
    match actions::find(ctx.action) {
        Some(action) => action(ctx, input),
        None => Err(unknown_operation()),
    }
}

pub fn unknown_operation() -> ApiError {
    ApiError::new(error::UNKNOWN_OPERATION, "")
}

/// The action name of an `X-Amz-Target` value, if it addresses this service.
pub fn action_of_target(target: &str) -> Option<&str> {
    target
        .strip_prefix("AWSCognitoIdentityProviderService.")
        .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric()))
}
