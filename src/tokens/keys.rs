//! Signing keys (RFC 7517, RFC 7638; docs/deployment.md, "Signing keys"). Keys are RSA-2048, made
//! with the `rsa` crate and used by it only for generation and public-key export: its private-key
//! operations are not constant-time (RUSTSEC-2023-0071), so signing goes through aws-lc (see
//! `signer`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const KEY_BITS: usize = 2048;
pub const ALGORITHM: &str = "RS256";

/// A public key as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kid: String,
    pub alg: String,
    pub kty: String,
    pub e: String,
    pub n: String,
    #[serde(rename = "use")]
    pub use_: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// A freshly generated key pair: the private half as PKCS#8 PEM, the public half as a JWK.
#[derive(Clone)]
pub struct GeneratedKey {
    pub kid: String,
    pub private_key_pem: String,
    pub public_jwk: Jwk,
}

#[derive(Debug, thiserror::Error)]
#[error("key generation failed: {0}")]
pub struct KeyError(String);

pub fn generate() -> Result<GeneratedKey, KeyError> {
    let mut rng = rand::thread_rng();
    let private =
        rsa::RsaPrivateKey::new(&mut rng, KEY_BITS).map_err(|e| KeyError(e.to_string()))?;
    let pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError(e.to_string()))?;
    let public = private.to_public_key();
    let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
    let kid = thumbprint(&e, &n);
    Ok(GeneratedKey {
        kid: kid.clone(),
        private_key_pem: pem.to_string(),
        public_jwk: Jwk {
            kid,
            alg: ALGORITHM.to_owned(),
            kty: "RSA".to_owned(),
            e,
            n,
            use_: "sig".to_owned(),
        },
    })
}

/// RFC 7638 JWK thumbprint of an RSA key: SHA-256 over the required members in lexical order.
/// Used as the `kid`, so a key's id follows from the key itself.
pub fn thumbprint(e: &str, n: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint("AQAB", n),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
