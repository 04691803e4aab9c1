//! The pools' keys as flows use them: the active private key (re-read every few seconds, so a
//! rotation by another process is picked up) and the published public keys by `kid`. The keys
//! are read from a `KeySource` (the database, through `store::keys`).
//!
//! Keys and rotation: docs/deployment.md, "Signing keys"; RFC 7517.

use super::keys::Jwk;
use super::signer::{PrivateKey, SignError, Signer};
use super::verifier::{self, Expect, PublicKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long the active key of a pool is trusted before it is read again.
const ACTIVE_KEY_SECONDS: i64 = 5;

/// How long a public key is trusted to be still published before the database is asked again
/// (a key taken out of the JWKS stops verifying within this time in every process).
const PUBLIC_KEY_SECONDS: i64 = 60;

/// Public keys by (pool id, kid), with when their publication was last read.
type PublicKeys = HashMap<(String, String), (Arc<PublicKey>, i64)>;

/// Where the key ring reads the pools' keys.
pub trait KeySource {
    type Error;
    /// The key that signs new tokens for the pool, if it has one.
    fn active_key(&mut self, pool_id: &str) -> Result<Option<PrivateKey>, Self::Error>;
    /// The pool's public keys published at `now`.
    fn published_keys(&mut self, pool_id: &str, now: i64) -> Result<Vec<Jwk>, Self::Error>;
}

#[derive(Clone, Default)]
pub struct KeyRing {
    signer: Signer,
    active: Arc<Mutex<HashMap<String, (PrivateKey, i64)>>>,
    public: Arc<Mutex<PublicKeys>>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError<E> {
    #[error("pool {0} has no signing key")]
    NoKey(String),
    /// The key source failed (a busy or unreachable database).
    #[error(transparent)]
    Store(E),
    #[error(transparent)]
    Sign(#[from] SignError),
}

impl KeyRing {
    pub fn new() -> Self {
        Self::default()
    }

    /// The pool's active signing key (cached for a few seconds).
    pub fn active_key<S: KeySource + ?Sized>(
        &self,
        conn: &mut S,
        pool_id: &str,
        now: i64,
    ) -> Result<PrivateKey, KeyError<S::Error>> {
        if let Some((key, read_at)) = self
            .active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(pool_id)
            && now - read_at < ACTIVE_KEY_SECONDS
        {
            return Ok(key.clone());
        }
        let key = conn
            .active_key(pool_id)
            .map_err(KeyError::Store)?
            .ok_or_else(|| KeyError::NoKey(pool_id.to_owned()))?;
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pool_id.to_owned(), (key.clone(), now));
        Ok(key)
    }

    /// Signs claims with the pool's active key.
    pub fn sign<C: Serialize, S: KeySource + ?Sized>(
        &self,
        conn: &mut S,
        pool_id: &str,
        claims: &C,
        now: i64,
    ) -> Result<String, KeyError<S::Error>> {
        let key = self.active_key(conn, pool_id, now)?;
        Ok(self.signer.sign(&key, claims)?)
    }

    /// Signs claims with a key `active_key` returned, without the database.
    pub fn sign_with<C: Serialize>(
        &self,
        key: &PrivateKey,
        claims: &C,
    ) -> Result<String, SignError> {
        self.signer.sign(key, claims)
    }

    /// The public key `kid` of the pool if it is published.
    pub fn verification_key<S: KeySource + ?Sized>(
        &self,
        conn: &mut S,
        pool_id: &str,
        kid: &str,
        now: i64,
    ) -> Result<Option<Arc<PublicKey>>, S::Error> {
        let cache_key = (pool_id.to_owned(), kid.to_owned());
        if let Some((found, read_at)) = self
            .public
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&cache_key)
            && now - read_at < PUBLIC_KEY_SECONDS
        {
            return Ok(Some(found.clone()));
        }
        let published = conn.published_keys(pool_id, now)?;
        let Some(jwk) = published.iter().find(|k| k.kid == kid) else {
            self.public
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&cache_key);
            return Ok(None);
        };
        let Some(key) = PublicKey::from_jwk(&jwk.n, &jwk.e) else {
            return Ok(None);
        };
        let key = Arc::new(key);
        self.public
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cache_key, (key.clone(), now));
        Ok(Some(key))
    }

    /// The claims of a JWT this pool signed (RS256, a published `kid`, our issuer), or `None`.
    /// `check_exp` is off only for hints such as `id_token_hint`, which are often expired.
    pub fn verify<T: DeserializeOwned, S: KeySource + ?Sized>(
        &self,
        conn: &mut S,
        pool_id: &str,
        issuer: &str,
        token: &str,
        check_exp: bool,
        now: i64,
    ) -> Result<Option<T>, S::Error> {
        let Some(kid) = verifier::rs256_kid(token) else {
            return Ok(None);
        };
        let Some(key) = self.verification_key(conn, pool_id, &kid, now)? else {
            return Ok(None);
        };
        let expect = Expect {
            issuer,
            now: check_exp.then_some(now),
        };
        Ok(verifier::verify(token, &key, &expect))
    }
}
