//! A short-lived in-memory view of what every request reads and rarely changes: pools (by id and
//! by domain), app clients, each pool's defined custom scopes, identity providers and client looks. Entries live `TTL_SECONDS`, so
//! a change made by another process (a config apply, a key rotation) shows within seconds,
//! while a busy server answers most requests without a database round trip for them.
//!
//! See docs/architecture.md.

use super::Site;
use crate::model::{AppClient, IdentityProvider, UiCustomization, UserPool};
use crate::store::{self, AnyConnection, StoreError};
use crate::ui::logo::ImageType;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex};

pub const TTL_SECONDS: i64 = 5;
/// Entries kept per map before it is cleared (bounds memory under hostile lookups).
const MAX_ENTRIES: usize = 10_000;

struct Timed<K, V> {
    entries: Mutex<HashMap<K, (V, i64)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Timed<K, V> {
    fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get_or_load<E>(
        &self,
        key: &K,
        now: i64,
        load: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some((value, at)) = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            && now - at < TTL_SECONDS
        {
            return Ok(value.clone());
        }
        let value = load()?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key.clone(), (value.clone(), now));
        Ok(value)
    }

    fn peek(&self, key: &K, now: i64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(_, at)| now - at < TTL_SECONDS)
            .map(|(v, _)| v.clone())
    }
}

#[derive(Clone)]
pub struct DirectoryCache {
    pools: Arc<Timed<String, Option<UserPool>>>,
    clients: Arc<Timed<(String, String), Option<AppClient>>>,
    scopes: Arc<Timed<String, Arc<HashSet<String>>>>,
    looks: Arc<Timed<(String, String), MaybeLook>>,
    providers: Arc<Timed<String, Arc<Vec<IdentityProvider>>>>,
}

type MaybeLook = Option<Arc<ClientLook>>;

impl Default for DirectoryCache {
    fn default() -> Self {
        Self {
            pools: Arc::new(Timed::new()),
            clients: Arc::new(Timed::new()),
            scopes: Arc::new(Timed::new()),
            looks: Arc::new(Timed::new()),
            providers: Arc::new(Timed::new()),
        }
    }
}

/// A client's stylesheet and logo as served: each named by a digest of its content, so the
/// URLs can be cached for ever and change when the content does.
#[derive(Debug)]
pub struct ClientLook {
    /// Whose customization this is: the client id, or `ALL`.
    pub owner: String,
    pub css: Option<(String, Arc<str>)>,
    pub logo: Option<(String, ImageType, Arc<[u8]>)>,
}

impl ClientLook {
    fn of(customization: UiCustomization) -> Self {
        let version = |bytes: &[u8]| hex_prefix(&Sha256::digest(bytes));
        Self {
            owner: customization.client_id,
            css: customization
                .css
                .map(|css| (version(css.as_bytes()), Arc::from(css))),
            logo: customization.logo.and_then(|logo| {
                let kind = crate::ui::logo::sniff(&logo)?;
                Some((version(&logo), kind, Arc::from(logo)))
            }),
        }
    }
}

impl ClientLook {
    /// The stylesheet's file name under `ui/{owner}/`: `{version}.css`.
    pub fn css_name(&self) -> Option<String> {
        self.css
            .as_ref()
            .map(|(version, _)| format!("{version}.css"))
    }

    /// The logo's file name under `ui/{owner}/`: `{version}.png` or `.jpg`.
    pub fn logo_name(&self) -> Option<String> {
        self.logo
            .as_ref()
            .map(|(version, kind, _)| format!("{version}.{}", kind.extension()))
    }

    /// The content type and bytes of the file `name`, if it is one of this look's current files.
    pub fn file(&self, name: &str) -> Option<(&'static str, &[u8])> {
        if self.css_name().as_deref() == Some(name) {
            let (_, css) = self.css.as_ref()?;
            return Some(("text/css; charset=utf-8", css.as_bytes()));
        }
        if self.logo_name().as_deref() == Some(name) {
            let (_, kind, bytes) = self.logo.as_ref()?;
            return Some((kind.content_type(), bytes));
        }
        None
    }
}

fn hex_prefix(digest: &[u8]) -> String {
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn not_found_is_none<T>(result: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

impl DirectoryCache {
    /// A pool by id (`id:…`) or by domain (`host:…`), if already cached and fresh.
    pub fn cached_pool(&self, key: &str, now: i64) -> Option<Option<UserPool>> {
        self.pools.peek(&key.to_owned(), now)
    }

    pub fn pool(
        &self,
        conn: &mut AnyConnection,
        key: &str,
        now: i64,
        load: impl FnOnce(&mut AnyConnection) -> Result<Option<UserPool>, StoreError>,
    ) -> Result<Option<UserPool>, StoreError> {
        self.pools.get_or_load(&key.to_owned(), now, || load(conn))
    }

    pub fn client(
        &self,
        conn: &mut AnyConnection,
        site: &Site,
        client_id: &str,
        now: i64,
    ) -> Result<Option<AppClient>, StoreError> {
        let key = (site.pool_id().to_owned(), client_id.to_owned());
        self.clients.get_or_load(&key, now, || {
            not_found_is_none(store::clients::get(conn, site.pool_id(), client_id))
        })
    }

    /// The look of `client_id`'s pages (its own, else the pool's `ALL`), if any. With
    /// `exact`, only the customization stored under that id (for serving `ALL`'s files).
    pub fn look(
        &self,
        conn: &mut AnyConnection,
        site: &Site,
        client_id: &str,
        exact: bool,
        now: i64,
    ) -> Result<Option<Arc<ClientLook>>, StoreError> {
        let key = (
            site.pool_id().to_owned(),
            format!("{}{client_id}", if exact { "=" } else { "" }),
        );
        self.looks.get_or_load(&key, now, || {
            let found = if exact {
                store::directory::find_customization(conn, site.pool_id(), client_id)?
            } else {
                store::directory::customization_for_client(conn, site.pool_id(), client_id)?
            };
            Ok(found.map(|c| Arc::new(ClientLook::of(c))))
        })
    }

    /// The pool's identity providers (read by authorization requests, every hosted page and
    /// federation).
    pub fn identity_providers(
        &self,
        conn: &mut AnyConnection,
        site: &Site,
        now: i64,
    ) -> Result<Arc<Vec<IdentityProvider>>, StoreError> {
        self.providers
            .get_or_load(&site.pool_id().to_owned(), now, || {
                store::directory::list_identity_providers(conn, site.pool_id()).map(Arc::new)
            })
    }

    pub fn custom_scopes(
        &self,
        conn: &mut AnyConnection,
        site: &Site,
        now: i64,
    ) -> Result<Arc<HashSet<String>>, StoreError> {
        self.scopes
            .get_or_load(&site.pool_id().to_owned(), now, || {
                let scopes = store::directory::list_resource_servers(conn, site.pool_id())?
                    .iter()
                    .flat_map(|server| server.qualified_scopes())
                    .collect();
                Ok(Arc::new(scopes))
            })
    }
}
