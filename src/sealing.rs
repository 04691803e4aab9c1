//! Secrets kept usable but encrypted at rest (docs/deployment.md, "Encryption key"): what the
//! server must read back in clear (confidential clients' secrets for `SECRET_HASH`, SRP
//! verifiers, TOTP secrets, upstream identity providers' secrets) is sealed with AES-256-GCM
//! (NIST SP 800-38D) under a key the operator provides. Each sealed value names the key that
//! sealed it, so older keys still open values until a rotation re-seals them.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use std::sync::{Arc, OnceLock};

pub mod keys;
pub mod rotate;

/// The prefix of a sealed value: format version 1.
const PREFIX: &str = "gh1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the value is not sealed")]
    NotSealed,
    #[error("the value was sealed with key {0}, which this server does not have")]
    UnknownKey(String),
    #[error("the sealed value does not open: it was changed, or sealed for another use")]
    Tampered,
    #[error("an encryption key must be 32 bytes, written as 64 hex digits or base64")]
    BadKey,
}

struct SealKey {
    id: String,
    key: LessSafeKey,
}

impl SealKey {
    fn new(bytes: &[u8; 32]) -> Self {
        let id = digest::digest(&digest::SHA256, bytes).as_ref()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).expect("32-byte key"));
        Self { id, key }
    }
}

/// The current key, which seals, and older ones, which only open.
pub struct Sealer {
    current: SealKey,
    older: Vec<SealKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("current", &self.current.id)
            .field(
                "older",
                &self.older.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Sealer {
    pub fn new(current: &[u8; 32], older: &[[u8; 32]]) -> Self {
        Self {
            current: SealKey::new(current),
            older: older.iter().map(SealKey::new).collect(),
        }
    }

    /// A key that lives as long as the process: for tests and tools that keep nothing.
    pub fn ephemeral() -> Self {
        Self::new(&new_key(), &[])
    }

    /// One ephemeral key shared by the whole process: what a server built without
    /// `Settings::encryption` uses (tests and embedders; the command always gives a key), so
    /// that what `provision::apply` sealed opens in the server started next to it.
    pub fn process_ephemeral() -> Arc<Self> {
        static SHARED: OnceLock<Arc<Sealer>> = OnceLock::new();
        SHARED.get_or_init(|| Arc::new(Self::ephemeral())).clone()
    }

    /// Whether a value sealed by the key `id` opens here.
    pub fn knows(&self, id: &str) -> bool {
        std::iter::once(&self.current)
            .chain(&self.older)
            .any(|k| k.id == id)
    }

    /// The id of the key that seals (first 8 hex digits of its SHA-256).
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `plaintext` for one `purpose` (bound as associated data: a value sealed for one
    /// user or column does not open as another's).
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut data = plaintext.to_vec();
        self.current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM sealing of an in-memory buffer");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&data);
        format!(
            "{PREFIX}:{}:{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(blob)
        )
    }

    pub fn seal_str(&self, purpose: &str, plaintext: &str) -> String {
        self.seal(purpose, plaintext.as_bytes())
    }

    /// Opens a value sealed for `purpose` by the current or an older key.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some(PREFIX), Some(id), Some(blob)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SealError::NotSealed);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.id == id)
            .ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
        let blob = URL_SAFE_NO_PAD
            .decode(blob)
            .map_err(|_| SealError::Tampered)?;
        if blob.len() < NONCE_LEN {
            return Err(SealError::Tampered);
        }
        let (nonce, data) = blob.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Tampered)?;
        let mut data = data.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut data)
            .map_err(|_| SealError::Tampered)?;
        Ok(plain.to_vec())
    }

    pub fn open_string(&self, purpose: &str, sealed: &str) -> Result<String, SealError> {
        String::from_utf8(self.open(purpose, sealed)?).map_err(|_| SealError::Tampered)
    }

    /// Whether a stored value is sealed by the current key (a rotation re-seals the others).
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| rest.starts_with(&format!("{}:", self.current.id)))
    }
}

/// The id of the key that sealed `value`, if it is sealed.
pub fn key_id(value: &str) -> Option<&str> {
    let mut parts = value.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(PREFIX), Some(id), Some(_)) => Some(id),
        _ => None,
    }
}

/// The associated data each kind of sealed value is bound to: a value opens only for the row
/// (and the column) it was sealed for.
pub mod purpose {
    pub fn client_secret(client_id: &str) -> String {
        format!("client-secret:{client_id}")
    }

    pub fn totp(pool_id: &str, sub: &str) -> String {
        format!("totp:{pool_id}:{sub}")
    }

    /// One secret detail (`client_secret`, `private_key`) of an upstream identity provider.
    pub fn provider(pool_id: &str, name: &str, detail: &str) -> String {
        format!("idp:{pool_id}:{name}:{detail}")
    }

    /// Matches `flows::passwords::srp_purpose`.
    pub fn srp(pool_id: &str, sub: &str) -> String {
        format!("srp:{pool_id}:{sub}")
    }
}

/// The identity-provider details kept sealed at rest.
pub const SEALED_PROVIDER_DETAILS: [&str; 2] = ["client_secret", "private_key"];

/// A secret held in clear in memory (a declared client secret on its way to being sealed):
/// never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Clear(String);

impl Clear {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Clear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clear(…)")
    }
}

/// Whether a stored value is in the sealed format at all (older rows may hold plain values).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(&format!("{PREFIX}:"))
}

/// 32 random bytes.
pub fn new_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

/// A key as written in a file or variable: 64 hex digits, or 32 bytes in base64.
pub fn parse_key(text: &str) -> Result<[u8; 32], SealError> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| SealError::BadKey)?
    } else {
        STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|_| SealError::BadKey)?
    };
    bytes.try_into().map_err(|_| SealError::BadKey)
}

/// A key written the way `parse_key` reads it (base64).
pub fn format_key(key: &[u8; 32]) -> String {
    STANDARD.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_purpose_and_key() {
        let sealer = Sealer::ephemeral();
        let sealed = sealer.seal("totp:local_A:1", b"secret");
        assert!(is_sealed(&sealed) && sealer.is_current(&sealed));
        assert_eq!(sealer.open("totp:local_A:1", &sealed).unwrap(), b"secret");
        assert_eq!(
            sealer.open("totp:local_A:2", &sealed),
            Err(SealError::Tampered)
        );
        assert!(matches!(
            Sealer::ephemeral().open("totp:local_A:1", &sealed),
            Err(SealError::UnknownKey(_))
        ));
        let mut changed = sealed.clone();
        changed.pop();
        changed.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(
            sealer.open("totp:local_A:1", &changed),
            Err(SealError::Tampered)
        );
        assert_eq!(sealer.open("p", "plain"), Err(SealError::NotSealed));
        assert_eq!(
            sealer.open("p", "gh1:zz:%%%"),
            Err(SealError::UnknownKey("zz".into()))
        );
    }

    #[test]
    fn an_older_key_still_opens_after_rotation() {
        let (old, new) = (new_key(), new_key());
        let sealed = Sealer::new(&old, &[]).seal("p", b"v");
        let rotated = Sealer::new(&new, &[old]);
        assert_eq!(rotated.open("p", &sealed).unwrap(), b"v");
        assert!(!rotated.is_current(&sealed));
    }

    #[test]
    fn keys_parse_from_hex_or_base64() {
        let key = new_key();
        assert_eq!(parse_key(&format_key(&key)).unwrap(), key);
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(parse_key(&hex).unwrap(), key);
        assert_eq!(parse_key("short"), Err(SealError::BadKey));
    }
}
