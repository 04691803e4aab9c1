//! SigV4 checks against AWS's published vectors and against the signer (docs/api.md, "Credentials").

use super::*;

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// `get-vanilla` of AWS's published SigV4 test suite.
#[test]
fn the_published_vanilla_vector_signs_alike() {
    let h = headers(&[
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
    ]);
    let request = SignedRequest {
        method: "GET",
        path: "/",
        query: "",
        headers: &h,
        body: b"",
    };
    let canonical = canonical_request(&request, &["host", "x-amz-date"]);
    assert_eq!(
        canonical,
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let to_sign = string_to_sign(
        "20150830T123600Z",
        "20150830/us-east-1/service/aws4_request",
        &canonical,
    );
    assert_eq!(
        signature(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "service",
            &to_sign
        ),
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

#[test]
fn amz_dates_round_trip() {
    let epoch = parse_amz_date("20150830T123600Z").unwrap();
    assert_eq!(epoch, 1_440_938_160);
    assert_eq!(format_amz_date(epoch), "20150830T123600Z");
    assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
    assert_eq!(parse_amz_date("20151330T123600Z"), None);
    assert_eq!(parse_amz_date("2015083é123600Z"), None);
}

fn key() -> Arc<ApiCredential> {
    Arc::new(ApiCredential {
        access_key_id: "AKIAEXAMPLEADMIN0001".into(),
        secret_access_key: "secret/with+chars".into(),
        pools: vec!["*".into()],
        actions: vec!["cognito-idp:*".into()],
    })
}

fn signed(now: i64, secret: &str, body: &[u8]) -> Vec<(String, String)> {
    let mut h = headers(&[
        ("Host", "127.0.0.1:9229"),
        ("Content-Type", "application/x-amz-json-1.1"),
        (
            "X-Amz-Target",
            "AWSCognitoIdentityProviderService.ListUsers",
        ),
    ]);
    let request = SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &h,
        body,
    };
    let added = sign("AKIAEXAMPLEADMIN0001", secret, "local", &request, now);
    h.extend(added);
    h
}

fn check(h: &[(String, String)], body: &[u8], now: i64) -> Result<Arc<ApiCredential>, ApiError> {
    let request = SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: h,
        body,
    };
    verify(&request, &[key()], now)
}

#[test]
fn a_signed_request_verifies_and_a_changed_one_does_not() {
    let now = 1_796_000_000;
    let body = br#"{"UserPoolId":"local_Example01"}"#;
    let h = signed(now, "secret/with+chars", body);
    assert!(check(&h, body, now).is_ok());
    assert!(check(&h, body, now + 14 * 60).is_ok());
    let changed = br#"{"UserPoolId":"local_Example02"}"#;
    assert_eq!(
        check(&h, changed, now).unwrap_err().code,
        "InvalidSignatureException"
    );
    let wrong = signed(now, "another secret", body);
    assert_eq!(
        check(&wrong, body, now).unwrap_err().code,
        "InvalidSignatureException"
    );
}

#[test]
fn stale_unknown_and_missing_signatures_get_awss_errors() {
    let now = 1_796_000_000;
    let body = b"{}";
    let h = signed(now, "secret/with+chars", body);
    let stale = check(&h, body, now + 16 * 60).unwrap_err();
    assert_eq!(stale.code, "InvalidSignatureException");
    assert!(stale.message.starts_with("Signature expired"), "{stale}");
    let early = check(&h, body, now - 16 * 60).unwrap_err();
    assert!(early.message.contains("later"), "{early}");
    let unknown: Vec<_> = h
        .iter()
        .map(|(n, v)| {
            (
                n.clone(),
                v.replace("AKIAEXAMPLEADMIN0001", "AKIAUNKNOWN000000001"),
            )
        })
        .collect();
    assert_eq!(
        check(&unknown, body, now).unwrap_err().code,
        "UnrecognizedClientException"
    );
    let missing: Vec<_> = h
        .iter()
        .filter(|(n, _)| n != "Authorization")
        .cloned()
        .collect();
    assert_eq!(
        check(&missing, body, now).unwrap_err().code,
        "MissingAuthenticationTokenException"
    );
}

#[test]
fn hostile_headers_are_refused_without_panicking() {
    let now = 1_796_000_000;
    for value in [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 Credential=a, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEADMIN0001/2/3/4/5/6, SignedHeaders=, Signature=",
        "Basic dXNlcjpwYXNz",
        "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEADMIN0001/é/local/cognito-idp/aws4_request, SignedHeaders=host, Signature=1",
    ] {
        let h = headers(&[
            ("Host", "h"),
            ("Authorization", value),
            ("X-Amz-Date", "20261202T000000Z"),
        ]);
        assert!(check(&h, b"{}", now).is_err(), "{value}");
    }
}

/// A captured request cannot carry another body by claiming the old body's hash.
#[test]
fn a_claimed_body_hash_must_be_the_bodys() {
    let now = 1_796_000_000;
    let body = br#"{"Username":"alice"}"#;
    let mut h = signed(now, "secret/with+chars", body);
    assert!(check(&h, body, now).is_ok());
    h.push(("x-amz-content-sha256".into(), sha256_hex(body)));
    assert!(check(&h, body, now).is_ok());
    let other = br#"{"Username":"mallory"}"#;
    assert_eq!(
        check(&h, other, now).unwrap_err().code,
        "InvalidSignatureException"
    );
}
