//! Secrets at rest. Passwords are hashed with argon2id at OWASP's parameters (m = 19 MiB,
//! t = 2, p = 1); high-entropy secrets (client secrets, codes, refresh tokens, session ids) are
//! stored as SHA-256 digests and compared in constant time.
//!
//! Argon2id is RFC 9106.

pub mod legacy;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Limits argon2 runs in flight to the number of cores: each holds 19 MiB, and more runs than
/// cores only thrash the caches and make every sign-in slower.
struct HashSlots {
    free: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
}

static HASH_SLOTS: std::sync::LazyLock<HashSlots> = std::sync::LazyLock::new(|| HashSlots {
    free: std::sync::Mutex::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
    freed: std::sync::Condvar::new(),
});

fn with_hash_slot<T>(work: impl FnOnce() -> T) -> T {
    let slots = &*HASH_SLOTS;
    {
        let mut free = slots.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = slots.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
    }
    let result = work();
    *slots.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    slots.freed.notify_one();
    result
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash_password(password: &str) -> Result<String, HashError> {
    with_hash_slot(|| {
        argon2()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
}

/// Checks a password against a stored PHC string. A malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => with_hash_slot(|| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        }),
        Err(_) => false,
    }
}

/// Spends the time of one password check, so that an unknown user and a wrong password
/// cannot be told apart by timing.
pub fn burn_password_check(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let _ = verify_password(password, phc);
}

/// SHA-256 of a high-entropy secret, base64url without padding. The only form such a secret
/// is ever stored in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretDigest(String);

impl SecretDigest {
    pub fn of(secret: &str) -> Self {
        Self(URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes())))
    }

    /// Wraps a digest read back from storage.
    pub fn from_stored(digest: String) -> Self {
        Self(digest)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the secret this digest was made from, in constant time.
    pub fn matches(&self, candidate: &str) -> bool {
        let candidate = Self::of(candidate);
        self.0.as_bytes().ct_eq(candidate.0.as_bytes()).into()
    }
}

impl std::fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretDigest(…)")
    }
}

/// A random token of `bytes` bytes of entropy, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_owasp_parameters_and_verify() {
        let phc = hash_password("Correct-Horse-1").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("Correct-Horse-1", &phc));
        assert!(!verify_password("correct-horse-1", &phc));
        assert!(!verify_password("Correct-Horse-1", "not a hash"));
    }

    #[test]
    fn digests_match_only_their_secret() {
        let digest = SecretDigest::of("s3cret");
        assert!(digest.matches("s3cret"));
        assert!(!digest.matches("s3cret "));
        assert_ne!(digest.as_str(), "s3cret");
        assert_eq!(random_token(32).len(), 43);
    }
}
