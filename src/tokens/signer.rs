//! Signs JWTs (RFC 7515 compact form, RS256) with aws-lc's constant-time RSA, parsing each key
//! once and caching the key pair by `kid`. jsonwebtoken's `encode` parses the key on every call,
//! which costs more than the signature itself. Verification is in `verifier`.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The private half of a signing key, as stored (PKCS#8 PEM).
#[derive(Clone)]
pub struct PrivateKey {
    pub kid: String,
    pub pem: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("signing key {0} cannot be read: {1}")]
    BadKey(String, String),
    #[error("signing failed")]
    Sign,
    #[error("claims do not serialize: {0}")]
    Claims(String),
}

#[derive(Default, Clone)]
pub struct Signer {
    cache: Arc<Mutex<HashMap<String, Arc<RsaKeyPair>>>>,
    rng: SystemRandom,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    kid: &'a str,
    typ: &'static str,
}

impl Signer {
    pub fn new() -> Self {
        Self::default()
    }

    fn key_pair(&self, key: &PrivateKey) -> Result<Arc<RsaKeyPair>, SignError> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = cache.get(&key.kid) {
            return Ok(found.clone());
        }
        use rustls::pki_types::PrivatePkcs8KeyDer;
        use rustls::pki_types::pem::PemObject;
        let bad = |e: String| SignError::BadKey(key.kid.clone(), e);
        let der = PrivatePkcs8KeyDer::from_pem_slice(key.pem.as_bytes())
            .map_err(|e| bad(e.to_string()))?;
        let pair =
            RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| bad(e.to_string()))?;
        let pair = Arc::new(pair);
        cache.insert(key.kid.clone(), pair.clone());
        Ok(pair)
    }

    /// Signs `claims` as an RS256 JWT whose header names the key's `kid`.
    pub fn sign<C: Serialize>(&self, key: &PrivateKey, claims: &C) -> Result<String, SignError> {
        let pair = self.key_pair(key)?;
        let header = serde_json::to_vec(&Header {
            alg: "RS256",
            kid: &key.kid,
            typ: "JWT",
        })
        .map_err(|e| SignError::Claims(e.to_string()))?;
        let payload = serde_json::to_vec(claims).map_err(|e| SignError::Claims(e.to_string()))?;
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let mut signature = vec![0u8; pair.public_modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &self.rng,
            token.as_bytes(),
            &mut signature,
        )
        .map_err(|_| SignError::Sign)?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(token)
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
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};

    #[test]
    fn signed_tokens_verify_with_the_published_jwk_only() {
        install_crypto_providers();
        let generated = keys::generate().unwrap();
        let key = PrivateKey {
            kid: generated.kid.clone(),
            pem: generated.private_key_pem.clone(),
        };
        let claims = serde_json::json!({"sub": "abc", "exp": 4_000_000_000u64});
        let signer = Signer::new();
        let token = signer.sign(&key, &claims).unwrap();
        assert_eq!(
            signer.sign(&key, &claims).unwrap(),
            token,
            "PKCS#1 v1.5 is deterministic"
        );
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(generated.kid.as_str()));
        assert_eq!(header.alg, Algorithm::RS256);
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
