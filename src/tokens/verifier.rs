//! Verifies the RS256 JWTs this server signed (RFC 7515 compact form) with public keys parsed
//! once. aws-lc keeps a parsed key's Montgomery context; rebuilding it from the modulus on every
//! call (what verifying from raw components does) cost about as much as the check itself.

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A pool's public key, ready to check signatures.
pub struct PublicKey(aws_lc_rs::signature::ParsedPublicKey);

impl PublicKey {
    /// From a JWK's base64url modulus and exponent; `None` if they do not form an RSA key.
    pub fn from_jwk(n: &str, e: &str) -> Option<Self> {
        let n = URL_SAFE_NO_PAD.decode(n).ok()?;
        let e = URL_SAFE_NO_PAD.decode(e).ok()?;
        RsaPublicKeyComponents {
            n: &n[..],
            e: &e[..],
        }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .ok()
        .map(Self)
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// The `kid` of an RS256 token's header; `None` for anything else (other algorithms, `none`,
/// no kid, not a compact JWS).
pub fn rs256_kid(token: &str) -> Option<String> {
    let (header, _) = token.split_once('.')?;
    let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    (header.alg == "RS256").then_some(header.kid).flatten()
}

/// The registered claims every check needs.
#[derive(Deserialize)]
struct Registered {
    iss: Option<String>,
    exp: Option<i64>,
}

/// What a token must satisfy beyond its signature.
pub struct Expect<'a> {
    pub issuer: &'a str,
    /// `None` accepts expired tokens (hints such as `id_token_hint`); otherwise the time, which
    /// `exp` may trail by `LEEWAY_SECONDS`.
    pub now: Option<i64>,
}

/// Clock skew tolerated on `exp`.
pub const LEEWAY_SECONDS: i64 = 5;

/// The claims of `token` if it is an RS256 compact JWS signed by `key` whose `iss` is the
/// expected issuer and, when asked, whose `exp` has not passed.
pub fn verify<T: DeserializeOwned>(token: &str, key: &PublicKey, expect: &Expect) -> Option<T> {
    let (signed, signature) = token.rsplit_once('.')?;
    let (_, payload) = signed.split_once('.')?;
    if signature.contains('.') || payload.contains('.') {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    key.0.verify_sig(signed.as_bytes(), &signature).ok()?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    // The claims set is a JSON object (RFC 7519 §7.2 step 10); serde would also read a struct
    // from an array such as `["iss", exp]`.
    if payload.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let registered: Registered = serde_json::from_slice(&payload).ok()?;
    if registered.iss.as_deref() != Some(expect.issuer) {
        return None;
    }
    if let Some(now) = expect.now {
        let exp = registered.exp?;
        if exp < now - LEEWAY_SECONDS {
            return None;
        }
    }
    serde_json::from_slice(&payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::keys;
    use crate::tokens::signer::{PrivateKey, Signer, install_crypto_providers};
    use serde_json::{Value, json};

    fn setup() -> (Signer, PrivateKey, PublicKey) {
        install_crypto_providers();
        let generated = keys::generate().unwrap();
        let private = PrivateKey {
            kid: generated.kid.clone(),
            pem: generated.private_key_pem.clone(),
        };
        let public = PublicKey::from_jwk(&generated.public_jwk.n, &generated.public_jwk.e).unwrap();
        (Signer::new(), private, public)
    }

    const ISS: &str = "https://id.example.com/pool";

    #[test]
    fn accepts_our_tokens_and_refuses_tampering_other_keys_issuers_and_expiry() {
        let (signer, private, public) = setup();
        let expect = Expect {
            issuer: ISS,
            now: Some(1_000),
        };
        let token = signer
            .sign(&private, &json!({"iss": ISS, "exp": 2_000, "sub": "a"}))
            .unwrap();
        assert_eq!(rs256_kid(&token).as_deref(), Some(private.kid.as_str()));
        let claims: Value = verify(&token, &public, &expect).unwrap();
        assert_eq!(claims["sub"], "a");

        // A payload swapped under the same signature.
        let (header, rest) = token.split_once('.').unwrap();
        let signature = rest.split_once('.').unwrap().1;
        let forged_payload = URL_SAFE_NO_PAD
            .encode(br#"{"iss":"https://id.example.com/pool","exp":2000,"sub":"b"}"#);
        let forged = format!("{header}.{forged_payload}.{signature}");
        assert!(verify::<Value>(&forged, &public, &expect).is_none());
        // Extra segments, truncated signatures, garbage.
        assert!(verify::<Value>(&format!("{token}.x"), &public, &expect).is_none());
        assert!(verify::<Value>(&token[..token.len() - 4], &public, &expect).is_none());
        assert!(verify::<Value>("a.b.c", &public, &expect).is_none());
        assert!(verify::<Value>("", &public, &expect).is_none());

        let (_, _, other) = setup();
        assert!(verify::<Value>(&token, &other, &expect).is_none());

        let elsewhere = Expect {
            issuer: "https://other",
            now: Some(1_000),
        };
        assert!(verify::<Value>(&token, &public, &elsewhere).is_none());

        let late = Expect {
            issuer: ISS,
            now: Some(2_000 + LEEWAY_SECONDS + 1),
        };
        assert!(verify::<Value>(&token, &public, &late).is_none());
        let within_leeway = Expect {
            issuer: ISS,
            now: Some(2_000 + LEEWAY_SECONDS),
        };
        assert!(verify::<Value>(&token, &public, &within_leeway).is_some());
        let hint = Expect {
            issuer: ISS,
            now: None,
        };
        assert!(verify::<Value>(&token, &public, &hint).is_some());

        let no_exp = signer.sign(&private, &json!({"iss": ISS})).unwrap();
        assert!(verify::<Value>(&no_exp, &public, &expect).is_none());
        assert!(verify::<Value>(&no_exp, &public, &hint).is_some());
    }

    #[test]
    fn refuses_a_signed_payload_that_is_not_an_object() {
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct Claims {
            iss: String,
            exp: i64,
        }
        let (signer, private, public) = setup();
        let expect = Expect {
            issuer: ISS,
            now: Some(1_000),
        };
        // The same claims in order, as an array: serde reads a struct from it field by field.
        let array = signer.sign(&private, &json!([ISS, 2_000])).unwrap();
        assert!(verify::<Claims>(&array, &public, &expect).is_none());
        assert!(verify::<Value>(&array, &public, &expect).is_none());
        for payload in [json!("text"), json!(7), json!(null)] {
            let token = signer.sign(&private, &payload).unwrap();
            assert!(verify::<Value>(&token, &public, &expect).is_none());
        }
        let object = signer
            .sign(&private, &json!({"iss": ISS, "exp": 2_000, "sub": "a"}))
            .unwrap();
        assert!(verify::<Claims>(&object, &public, &expect).is_some());
    }

    #[test]
    fn only_rs256_headers_with_a_kid_name_a_key() {
        let encode = |h: &str| format!("{}.e30.", URL_SAFE_NO_PAD.encode(h));
        assert_eq!(
            rs256_kid(&encode(r#"{"alg":"RS256","kid":"k1"}"#)).as_deref(),
            Some("k1")
        );
        assert!(rs256_kid(&encode(r#"{"alg":"none","kid":"k1"}"#)).is_none());
        assert!(rs256_kid(&encode(r#"{"alg":"HS256","kid":"k1"}"#)).is_none());
        assert!(rs256_kid(&encode(r#"{"alg":"RS256"}"#)).is_none());
        assert!(rs256_kid("not a token").is_none());
    }
}
