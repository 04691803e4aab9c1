//! Bounded in-memory caches of what requests read often and rarely change (see "Caches" under
//! "Choices, and why" in docs/architecture.md): pools, app clients, each pool's custom scopes,
//! identity providers and client looks for `TTL_SECONDS`, and verified access tokens until they
//! expire. A change made by another process (a config apply) shows within seconds, while a busy
//! server answers most requests without a database round trip for them.
//!
//! Every cache is a `moka` cache with a size bound and a deadline per entry. Lookups that find
//! nothing are kept in a separate small cache, so that a flood of unknown ids (random client ids,
//! hosts, pool ids) can only evict other unknown ids, never the entries real traffic relies on.

use super::{AnyConnection, StoreError};
use crate::model::{AppClient, IdentityProvider, UserPool};
pub use crate::ui::look::ClientLook;
use moka::Expiry;
use moka::sync::Cache;
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const TTL_SECONDS: i64 = 5;
/// Entries found, per kind (pools, clients, scopes, providers).
const FOUND_MAX: u64 = 10_000;
/// Lookups that found nothing, per kind: enough to spare the database repeated misses of the
/// same id, small enough that floods of random ids cost little memory.
const MISSING_MAX: u64 = 1_000;
/// Bytes of stylesheets and logos kept (a logo may be up to 100 KB).
const LOOKS_MAX_BYTES: u64 = 64 << 20;
/// Verified access tokens kept.
const VERIFIED_TOKENS_MAX: u64 = 10_000;

/// Whatever names the pool a cached entry belongs to (a flow's `Site`).
pub trait PoolScoped {
    fn pool_id(&self) -> &str;
}

/// A value with the second (as `store::now()` counts) from which it is no longer served.
#[derive(Clone)]
struct Entry<V> {
    value: V,
    until: i64,
    /// `until` as moka's clock sees it at insertion, so it drops the entry on time.
    lifetime: Duration,
}

/// Moka's per-entry expiry: each entry lives exactly its own `lifetime`, restarted by a
/// re-insertion.
struct Lifetime;

impl<K, V> Expiry<K, Entry<V>> for Lifetime {
    fn expire_after_create(&self, _: &K, entry: &Entry<V>, _: Instant) -> Option<Duration> {
        Some(entry.lifetime)
    }

    fn expire_after_update(
        &self,
        _: &K,
        entry: &Entry<V>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.lifetime)
    }
}

/// A bounded cache whose entries each carry their own deadline. Reads compare it with the
/// caller's `now`; moka evicts the entry at the same moment by its own clock.
#[derive(Clone)]
struct Timed<K, V> {
    entries: Cache<K, Entry<V>>,
    /// How long `get_or_load` keeps what it loads, in seconds.
    ttl: i64,
}

impl<K, V> Timed<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(capacity: u64, ttl: i64) -> Self {
        Self::build(capacity, ttl, None)
    }

    /// Bounded by the sum of `weigh` over the entries rather than by their number.
    fn weighed(capacity: u64, ttl: i64, weigh: fn(&K, &V) -> u32) -> Self {
        Self::build(capacity, ttl, Some(weigh))
    }

    fn build(capacity: u64, ttl: i64, weigh: Option<fn(&K, &V) -> u32>) -> Self {
        let builder = Cache::builder()
            .max_capacity(capacity)
            .expire_after(Lifetime);
        let entries = match weigh {
            Some(weigh) => builder
                .weigher(move |key, entry: &Entry<V>| weigh(key, &entry.value))
                .build(),
            None => builder.build(),
        };
        Self { entries, ttl }
    }

    fn get(&self, key: &K, now: i64) -> Option<V> {
        self.entries
            .get(key)
            .filter(|entry| now < entry.until)
            .map(|entry| entry.value)
    }

    /// Keeps `value` until the second `until` (nothing if that has passed).
    fn insert_until(&self, key: K, value: V, now: i64, until: i64) {
        let Ok(seconds) = u64::try_from(until - now) else {
            return;
        };
        if seconds == 0 {
            return;
        }
        let lifetime = Duration::from_secs(seconds);
        self.entries.insert(
            key,
            Entry {
                value,
                until,
                lifetime,
            },
        );
    }

    fn get_or_load<E>(&self, key: &K, now: i64, load: impl FnOnce() -> Result<V, E>) -> Result<V, E>
    where
        K: Clone,
    {
        if let Some(value) = self.get(key, now) {
            return Ok(value);
        }
        let value = load()?;
        self.insert_until(key.clone(), value.clone(), now, now + self.ttl);
        Ok(value)
    }
}

/// A cache of lookups that may find nothing: what was found and what was not live in two
/// caches, so unknown keys never take the place of known ones.
#[derive(Clone)]
struct Lookup<K, V> {
    found: Timed<K, V>,
    missing: Timed<K, ()>,
}

impl<K, V> Lookup<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(found: Timed<K, V>) -> Self {
        let missing = Timed::new(MISSING_MAX, found.ttl);
        Self { found, missing }
    }

    /// `Some(found)` if the answer for `key` is cached and fresh.
    fn peek(&self, key: &K, now: i64) -> Option<Option<V>> {
        if let Some(value) = self.found.get(key, now) {
            return Some(Some(value));
        }
        self.missing.get(key, now).map(|()| None)
    }

    fn get_or_load<E>(
        &self,
        key: &K,
        now: i64,
        load: impl FnOnce() -> Result<Option<V>, E>,
    ) -> Result<Option<V>, E> {
        if let Some(cached) = self.peek(key, now) {
            return Ok(cached);
        }
        let loaded = load()?;
        let until = now + self.found.ttl;
        match &loaded {
            Some(value) => self
                .found
                .insert_until(key.clone(), value.clone(), now, until),
            None => self.missing.insert_until(key.clone(), (), now, until),
        }
        Ok(loaded)
    }
}

/// Cloned on every request (the pool extractor takes one), so the caches sit behind one `Arc`:
/// a clone is one reference count, not eight caches' worth of handles.
#[derive(Clone)]
pub struct DirectoryCache {
    caches: Arc<DirectoryCaches>,
}

pub struct DirectoryCaches {
    pools: Lookup<String, UserPool>,
    clients: Lookup<(String, String), AppClient>,
    scopes: Timed<String, Arc<HashSet<String>>>,
    looks: Lookup<(String, String), Arc<ClientLook>>,
    providers: Timed<String, Arc<Vec<IdentityProvider>>>,
}

impl Default for DirectoryCache {
    fn default() -> Self {
        Self::with_ttl(TTL_SECONDS)
    }
}

impl DirectoryCache {
    /// Entries live `ttl` seconds (tests that outlast `TTL_SECONDS` of real time use more).
    fn with_ttl(ttl: i64) -> Self {
        Self {
            caches: Arc::new(DirectoryCaches {
                pools: Lookup::new(Timed::new(FOUND_MAX, ttl)),
                clients: Lookup::new(Timed::new(FOUND_MAX, ttl)),
                scopes: Timed::new(FOUND_MAX, ttl),
                looks: Lookup::new(Timed::weighed(LOOKS_MAX_BYTES, ttl, look_weight)),
                providers: Timed::new(FOUND_MAX, ttl),
            }),
        }
    }
}

impl std::ops::Deref for DirectoryCache {
    type Target = DirectoryCaches;

    fn deref(&self) -> &DirectoryCaches {
        &self.caches
    }
}

/// A look's weight: its files' bytes, plus a little for the key and the record itself.
fn look_weight(key: &(String, String), look: &Arc<ClientLook>) -> u32 {
    let css = look.css.as_ref().map_or(0, |(_, css)| css.len());
    let logo = look.logo.as_ref().map_or(0, |(_, _, bytes)| bytes.len());
    let bytes = 256 + key.0.len() + key.1.len() + look.owner.len() + css + logo;
    u32::try_from(bytes).unwrap_or(u32::MAX)
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
        site: &impl PoolScoped,
        client_id: &str,
        now: i64,
    ) -> Result<Option<AppClient>, StoreError> {
        let key = (site.pool_id().to_owned(), client_id.to_owned());
        self.clients.get_or_load(&key, now, || {
            not_found_is_none(super::clients::get(conn, site.pool_id(), client_id))
        })
    }

    /// The look of `client_id`'s pages (its own, else the pool's `ALL`), if any. With
    /// `exact`, only the customization stored under that id (for serving `ALL`'s files).
    pub fn look(
        &self,
        conn: &mut AnyConnection,
        site: &impl PoolScoped,
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
                super::directory::find_customization(conn, site.pool_id(), client_id)?
            } else {
                super::directory::customization_for_client(conn, site.pool_id(), client_id)?
            };
            Ok(found.map(|c| Arc::new(ClientLook::of(c))))
        })
    }

    /// The pool's identity providers (read by authorization requests, every hosted page and
    /// federation).
    pub fn identity_providers(
        &self,
        conn: &mut AnyConnection,
        sealer: &crate::sealing::Sealer,
        site: &impl PoolScoped,
        now: i64,
    ) -> Result<Arc<Vec<IdentityProvider>>, StoreError> {
        self.providers
            .get_or_load(&site.pool_id().to_owned(), now, || {
                super::directory::list_identity_providers(conn, sealer, site.pool_id())
                    .map(Arc::new)
            })
    }

    pub fn custom_scopes(
        &self,
        conn: &mut AnyConnection,
        site: &impl PoolScoped,
        now: i64,
    ) -> Result<Arc<HashSet<String>>, StoreError> {
        self.scopes
            .get_or_load(&site.pool_id().to_owned(), now, || {
                let scopes = super::directory::list_resource_servers(conn, site.pool_id())?
                    .iter()
                    .flat_map(|server| server.qualified_scopes())
                    .collect();
                Ok(Arc::new(scopes))
            })
    }
}

/// Access tokens already verified (signature, issuer, use), by SHA-256 of the token, until
/// they expire: an app that sends the same token with every call costs a lookup instead of an
/// RSA verification. Only valid signatures get in, so the bound is reached by real traffic
/// alone; moka then keeps the tokens used most.
pub struct VerifiedTokens<C> {
    entries: Timed<[u8; 32], VerifiedToken<C>>,
}

struct VerifiedToken<C> {
    pool_id: Arc<str>,
    kid: Arc<str>,
    claims: Arc<C>,
}

// By hand: the derives would ask `C: Clone` of claims only ever held in an `Arc`.
impl<C> Clone for VerifiedToken<C> {
    fn clone(&self) -> Self {
        Self {
            pool_id: self.pool_id.clone(),
            kid: self.kid.clone(),
            claims: self.claims.clone(),
        }
    }
}

impl<C> Clone for VerifiedTokens<C> {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.clone(),
        }
    }
}

impl<C: Send + Sync + 'static> Default for VerifiedTokens<C> {
    fn default() -> Self {
        Self {
            // Each entry's deadline is its token's `exp`; no common TTL applies.
            entries: Timed::new(VERIFIED_TOKENS_MAX, 0),
        }
    }
}

impl<C: Send + Sync + 'static> VerifiedTokens<C> {
    /// The claims and signing key id of a token of `pool_id` verified before, while it is
    /// unexpired at `now`.
    pub fn get(&self, pool_id: &str, digest: &[u8; 32], now: i64) -> Option<(Arc<C>, String)> {
        self.entries
            .get(digest, now)
            .filter(|entry| &*entry.pool_id == pool_id)
            .map(|entry| (entry.claims, entry.kid.to_string()))
    }

    /// Remembers a verified token until `expires_at` (its `exp`).
    pub fn insert(
        &self,
        pool_id: &str,
        kid: &str,
        digest: [u8; 32],
        claims: Arc<C>,
        expires_at: i64,
        now: i64,
    ) {
        let entry = VerifiedToken {
            pool_id: Arc::from(pool_id),
            kid: Arc::from(kid),
            claims,
        };
        self.entries.insert_until(digest, entry, now, expires_at);
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
