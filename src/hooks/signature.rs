//! The Standard Webhooks signature (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>`, the key being
//! the base64 after `whsec_`, so any of the published verifier libraries accepts our requests.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Shortest and longest signing key accepted, in bytes (the spec asks for 24 to 64).
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// The signing key of a `whsec_…` secret (the prefix may be left out).
pub fn parse_secret(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = STANDARD.decode(encoded).map_err(|_| {
        "must be a Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes \
         (e.g. `whsec_$(openssl rand -base64 32)`)"
            .to_owned()
    })?;
    if !KEY_BYTES.contains(&key.len()) {
        return Err(format!(
            "the secret decodes to {} bytes; use 24 to 64 random bytes",
            key.len()
        ));
    }
    Ok(key)
}

/// The `webhook-signature` header value of one delivery.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let mut context = aws_lc_rs::hmac::Context::with_key(&key);
    context.update(id.as_bytes());
    context.update(b".");
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    format!("v1,{}", STANDARD.encode(context.sign().as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn matches_the_reference_example() {
        let key = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn refuses_short_or_malformed_secrets() {
        assert!(parse_secret("whsec_c2hvcnQ=").is_err());
        assert!(parse_secret("whsec_not base64!").is_err());
        assert!(parse_secret(&format!("whsec_{}", STANDARD.encode([7u8; 32]))).is_ok());
    }
}
