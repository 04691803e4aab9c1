//! Flows: where the protocol core meets storage. Each flow runs on a blocking thread with a
//! database connection, asks `oauth` and `tokens` for decisions and records them with `store`.
//! Handlers in `http` call exactly one flow, but for federation, whose upstream calls are async
//! and run between its database steps (docs/architecture.md).

pub mod accounts;
pub mod aliases;
pub mod authorize;
pub mod cache;
pub mod codes;
pub mod credentials;
pub mod custom_auth;
pub mod federation;
pub mod hosted;
pub mod import_links;
pub mod introspect;
pub mod issue;
pub mod lifecycle;
pub mod login;
pub mod logout;
pub mod messages;
pub mod migration;
pub mod passwords;
pub mod pre_token;
pub mod recovery;
pub mod request;
pub mod revoke;
pub mod session;
pub mod sign_in;
pub mod signup;
pub mod token;
pub mod triggers;
pub mod user_export;
pub mod user_import;
pub mod userinfo;
pub mod validation;

use crate::mail::sender::MailQueue;
use crate::model::{AppClient, UserPool};
use crate::oauth::OAuthError;
use crate::oauth::discovery::PoolUrls;
use crate::store::{self, AnyConnection, StoreError};
use crate::tokens::KeyRing;
use crate::ui::i18n::Catalogue;
use crate::ui::overrides::TemplateOverrides;
use std::collections::HashSet;
use std::sync::Arc;

pub use cache::DirectoryCache;

/// What flows share across requests: signing keys, the directory cache, the mail queue and the
/// pages' message catalogue.
#[derive(Clone)]
pub struct Services {
    pub keys: KeyRing,
    pub directory: DirectoryCache,
    /// Wakes the mail sender once a transaction that queued a message has committed.
    pub mail: MailQueue,
    pub catalogue: Arc<Catalogue>,
    /// Clients' own page templates, by client id.
    pub templates: Arc<TemplateOverrides>,
    /// The HTTP client and discovery cache of upstream identity providers.
    pub upstreams: Arc<crate::federation::Upstreams>,
    /// Access tokens whose signature has been checked (userInfo, introspection).
    pub verified_tokens: userinfo::VerifiedTokens,
    /// This server's metrics (docs/deployment.md, "Metrics").
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Seals the secrets the server must read back in clear (`sealing`).
    pub sealer: Arc<crate::sealing::Sealer>,
    /// Delivers events to the pools' hooks (docs/triggers.md).
    pub hooks: Arc<crate::hooks::Hooks>,
}

impl Services {
    pub fn new(catalogue: Catalogue, templates: Arc<TemplateOverrides>) -> Self {
        let metrics = Arc::new(crate::metrics::Metrics::new());
        Self {
            keys: KeyRing::default(),
            directory: DirectoryCache::default(),
            mail: MailQueue::default(),
            catalogue: Arc::new(catalogue),
            templates,
            upstreams: Arc::new(crate::federation::Upstreams::with_metrics(metrics.clone())),
            verified_tokens: Default::default(),
            metrics,
            // `AppState::new` puts the operator's key here (`Settings::encryption`).
            sealer: crate::sealing::Sealer::process_ephemeral(),
            hooks: Arc::new(crate::hooks::Hooks::default()),
        }
    }
}

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

/// Internal failures become `server_error`; the detail rides along for the HTTP layer to log,
/// and is never sent.
pub fn internal(error: impl std::fmt::Display) -> OAuthError {
    OAuthError::server_error().with_detail(error.to_string())
}

impl From<StoreError> for OAuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(detail) => {
                OAuthError::temporarily_unavailable("the server is temporarily unavailable")
                    .with_detail(format!("database unavailable: {detail}"))
            }
            busy if busy.is_busy() => {
                OAuthError::temporarily_unavailable("the database is busy; try again")
                    .with_detail(busy.to_string())
            }
            other => internal(other),
        }
    }
}

/// A client of the site's pool, or `None` (through the directory cache).
pub fn find_client(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    client_id: &str,
) -> Result<Option<AppClient>, StoreError> {
    services
        .directory
        .client(conn, site, client_id, store::now())
}

/// The pool's custom scopes that a resource server currently defines.
pub fn defined_custom_scopes(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
) -> Result<Arc<HashSet<String>>, StoreError> {
    services.directory.custom_scopes(conn, site, store::now())
}

/// The pool's identity providers (through the directory cache).
pub fn identity_providers(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
) -> Result<Arc<Vec<crate::model::IdentityProvider>>, StoreError> {
    services
        .directory
        .identity_providers(conn, &services.sealer, site, store::now())
}

/// A random identifier for a token (`jti`) or a family (`origin_jti`).
pub fn new_jti() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The redirect that carries an error back to the app. The redirect never carries an internal
/// detail (a database failure, say), and no response does, so it is logged here, once.
pub fn error_location(redirect: &crate::oauth::authorize::ErrorRedirect) -> String {
    if let Some(detail) = &redirect.error.detail {
        tracing::error!(
            error = redirect.error.code.as_str(),
            %detail,
            "authorization request answered with an error redirect"
        );
    }
    redirect.location()
}
