//! Signs JWTs with a pool's active key through jsonwebtoken's aws-lc backend (constant-time
//! RSA), caching each parsed key by `kid` so that a key's PEM is decoded once.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The private half of a signing key, as stored.
#[derive(Clone)]
pub struct PrivateKey {
    pub kid: String,
    pub pem: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("signing key {0} cannot be read: {1}")]
    BadKey(String, String),
    #[error("signing failed: {0}")]
    Sign(String),
}

#[derive(Default, Clone)]
pub struct Signer {
    cache: Arc<Mutex<HashMap<String, Arc<EncodingKey>>>>,
}

impl Signer {
    pub fn new() -> Self {
        Self::default()
    }

    fn encoding_key(&self, key: &PrivateKey) -> Result<Arc<EncodingKey>, SignError> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = cache.get(&key.kid) {
            return Ok(found.clone());
        }
        let parsed = EncodingKey::from_rsa_pem(key.pem.as_bytes())
            .map_err(|e| SignError::BadKey(key.kid.clone(), e.to_string()))?;
        let parsed = Arc::new(parsed);
        cache.insert(key.kid.clone(), parsed.clone());
        Ok(parsed)
    }

    /// Signs `claims` as an RS256 JWT whose header names the key's `kid`.
    pub fn sign<C: Serialize>(&self, key: &PrivateKey, claims: &C) -> Result<String, SignError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        let encoding_key = self.encoding_key(key)?;
        jsonwebtoken::encode(&header, claims, &encoding_key)
            .map_err(|e| SignError::Sign(e.to_string()))
    }
}

/// Installs the process-wide crypto providers: aws-lc for jsonwebtoken and for rustls. Both
/// crates panic at first use without one; calling this twice is harmless.
pub fn install_crypto_providers() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::keys;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    #[test]
    fn signed_tokens_verify_with_the_published_jwk_only() {
        install_crypto_providers();
        let generated = keys::generate().unwrap();
        let key = PrivateKey {
            kid: generated.kid.clone(),
            pem: generated.private_key_pem.clone(),
        };
        let claims = serde_json::json!({"sub": "abc", "exp": 4_000_000_000u64});
        let token = Signer::new().sign(&key, &claims).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(generated.kid.as_str()));
        let jwk = &generated.public_jwk;
        let decoding = DecodingKey::from_rsa_components(&jwk.n, &jwk.e).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_aud = false;
        let decoded = decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(decoded.claims["sub"], "abc");

        let other = keys::generate().unwrap().public_jwk;
        let wrong = DecodingKey::from_rsa_components(&other.n, &other.e).unwrap();
        assert!(decode::<serde_json::Value>(&token, &wrong, &validation).is_err());
    }
}
