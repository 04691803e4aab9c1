//! The hosted pages' CSRF tokens. The token of a form is an HMAC, under the installation's key,
//! of a random cookie the page sets: a page of another origin cannot read that cookie, and one
//! that plants a cookie of its own (from a sibling domain) cannot compute the token that goes
//! with it.
//!
//! See docs/hosted-ui.md, "Security".

use crate::secrets;
use subtle::ConstantTimeEq;

/// The key of the hosted pages' CSRF tokens, shared through the database by every process.
#[derive(Clone)]
pub struct CsrfKey(aws_lc_rs::hmac::Key);

impl CsrfKey {
    /// The name of its secret in `instance_secrets`.
    pub const SECRET_NAME: &'static str = "csrf";

    pub fn new(secret: &[u8]) -> Self {
        Self(aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            secret,
        ))
    }

    /// A key of this process only (until the shared one is loaded, and in unit tests).
    pub fn random() -> Self {
        Self::new(secrets::random_token(32).as_bytes())
    }

    /// The `_csrf` value of forms on a page whose CSRF cookie is `cookie`.
    pub fn token(&self, cookie: &str) -> String {
        use base64::Engine;
        let tag = aws_lc_rs::hmac::sign(&self.0, cookie.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    pub fn matches(&self, cookie: Option<&str>, submitted: Option<&str>) -> bool {
        match (cookie, submitted) {
            (Some(cookie), Some(submitted)) => self
                .token(cookie)
                .as_bytes()
                .ct_eq(submitted.as_bytes())
                .into(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretDigest;

    #[test]
    fn a_token_fits_its_cookie_and_key_only() {
        let (key, other) = (CsrfKey::new(b"k1"), CsrfKey::new(b"k2"));
        let token = key.token("cookie");
        assert!(key.matches(Some("cookie"), Some(&token)));
        assert!(!key.matches(Some("cookie2"), Some(&token)));
        assert!(!other.matches(Some("cookie"), Some(&token)));
        assert!(!key.matches(None, Some(&token)));
        assert!(!key.matches(Some("cookie"), None));
        // Not the plain digest an attacker could compute for a cookie they planted.
        let digest = SecretDigest::of("csrf|cookie");
        assert!(!key.matches(Some("cookie"), Some(digest.as_str())));
    }
}
