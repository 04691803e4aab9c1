//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) for the admin actions, as botocore, the AWS CLI
//! and the AWS SDKs sign them
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>).
//! The server recomputes the signature from the request it received and the key's secret, and
//! compares in constant time. ../docs/api.md, "Credentials", lists the errors.

use super::access::ApiCredential;
use super::calendar::{civil_from_days, days_from_civil};
use super::error::ApiError;
use aws_lc_rs::{digest, hmac};
use std::sync::Arc;
use subtle::ConstantTimeEq;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "cognito-idp";
/// How far `X-Amz-Date` may be from the server's clock, as AWS allows.
pub const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The parts of a received request a signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path as it arrived, still percent-encoded.
    pub path: &'a str,
    pub query: &'a str,
    /// Every header as received (names in any case; repeated names allowed).
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl SignedRequest<'_> {
    fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }
}

/// The `Authorization` header's fields.
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn incomplete(message: &str) -> ApiError {
    ApiError::new("IncompleteSignatureException", message)
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, ApiError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            incomplete("Authorization header requires the AWS4-HMAC-SHA256 algorithm.")
        })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(incomplete(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(incomplete(
            "Credential should be scoped to a valid region, service and date.",
        ));
    };
    if terminator != "aws4_request" {
        return Err(incomplete(
            "Credential should be scoped with a valid terminator: 'aws4_request'.",
        ));
    }
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed.split(';').collect(),
        signature,
    })
}

/// Seconds since the epoch of `yyyymmddThhmmssZ`.
pub fn parse_amz_date(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = value.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (h, mi, s) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// `yyyymmddThhmmssZ` of an epoch second.
pub fn format_amz_date(epoch: i64) -> String {
    let (days, secs) = (epoch.div_euclid(86_400), epoch.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// RFC 3986 encoding of everything but the unreserved characters (and `/` when asked).
fn uri_encode(value: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The canonical path of a non-S3 service: the received path, dot segments removed, encoded
/// once more (botocore quotes the already-encoded path).
fn canonical_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let joined = format!("/{}", segments.join("/"));
    uri_encode(&joined, true)
}

fn canonical_query(query: &str) -> String {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(&decode(k), false), uri_encode(&decode(v), false))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn canonical_request(request: &SignedRequest, signed_headers: &[&str]) -> String {
    let mut canonical = format!(
        "{}\n{}\n{}\n",
        request.method,
        canonical_path(request.path),
        canonical_query(request.query)
    );
    for name in signed_headers {
        let values: Vec<String> = request
            .header_values(name)
            .iter()
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    // Always the hash of the body received: a client's `x-amz-content-sha256` is checked
    // against it before (`verify`), never trusted in its place.
    let payload = sha256_hex(request.body);
    canonical.push_str(&format!("\n{}\n{payload}", signed_headers.join(";")));
    canonical
}

/// The signing key of a day, region and service, and the hex signature of a string to sign.
pub fn signature(secret: &str, date: &str, region: &str, service: &str, to_sign: &str) -> String {
    let step = |key: &[u8], data: &str| -> Vec<u8> {
        let key = hmac::Key::new(hmac::HMAC_SHA256, key);
        hmac::sign(&key, data.as_bytes()).as_ref().to_vec()
    };
    let key = step(format!("AWS4{secret}").as_bytes(), date);
    let key = step(&key, region);
    let key = step(&key, service);
    let key = step(&key, "aws4_request");
    hex(&step(&key, to_sign))
}

fn string_to_sign(amz_date: &str, scope: &str, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    )
}

/// Checks a request's signature against the declared keys; the key that signed it, or
/// Cognito's error for a missing, malformed, unknown, stale or wrong signature.
pub fn verify(
    request: &SignedRequest,
    keys: &[Arc<ApiCredential>],
    now: i64,
) -> Result<Arc<ApiCredential>, ApiError> {
    let Some(header) = request.header("authorization") else {
        return Err(ApiError::new(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let auth = parse_authorization(header)?;
    if request.header("x-amz-security-token").is_some() {
        return Err(ApiError::new(
            "UnrecognizedClientException",
            "The security token included in the request is invalid: temporary (STS) credentials are not supported.",
        ));
    }
    let key = keys
        .iter()
        .find(|k| {
            bool::from(
                k.access_key_id
                    .as_bytes()
                    .ct_eq(auth.access_key_id.as_bytes()),
            )
        })
        .ok_or_else(|| {
            ApiError::new(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        })?;
    if auth.service != SERVICE {
        return Err(ApiError::new(
            "InvalidSignatureException",
            format!("Credential should be scoped to correct service: '{SERVICE}'."),
        ));
    }
    let amz_date = request.header("x-amz-date").ok_or_else(|| {
        incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    })?;
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
        incomplete("X-Amz-Date must be in the ISO8601 Long Format (yyyyMMdd'T'HHmmss'Z').")
    })?;
    if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
        return Err(ApiError::new(
            "InvalidSignatureException",
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
                auth.date,
                &amz_date[..8]
            ),
        ));
    }
    if (now - signed_at).abs() > MAX_SKEW_SECONDS {
        let (earlier, relation) = if signed_at < now {
            ("earlier", "-")
        } else {
            ("later", "+")
        };
        return Err(ApiError::new(
            "InvalidSignatureException",
            format!(
                "Signature expired: {amz_date} is now {earlier} than {} ({} {relation} 15 min.)",
                format_amz_date(if signed_at < now {
                    now - MAX_SKEW_SECONDS
                } else {
                    now + MAX_SKEW_SECONDS
                }),
                format_amz_date(now)
            ),
        ));
    }
    if let Some(claimed) = request.header("x-amz-content-sha256")
        && !claimed.eq_ignore_ascii_case(&sha256_hex(request.body))
    {
        return Err(ApiError::new(
            "InvalidSignatureException",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ));
    }
    if !auth.signed_headers.contains(&"host") {
        return Err(ApiError::new(
            "InvalidSignatureException",
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let canonical = canonical_request(request, &auth.signed_headers);
    let expected = signature(
        &key.secret_access_key,
        auth.date,
        auth.region,
        auth.service,
        &string_to_sign(amz_date, &scope, &canonical),
    );
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(key.clone())
    } else {
        Err(ApiError::new(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ))
    }
}

/// Signs a request the way the AWS SDKs do: the headers to add (`X-Amz-Date`,
/// `Authorization`). For tests, benchmarks and tools that call a Gatehouse API.
pub fn sign(
    access_key_id: &str,
    secret: &str,
    region: &str,
    request: &SignedRequest,
    now: i64,
) -> Vec<(String, String)> {
    let amz_date = format_amz_date(now);
    let mut headers = request.headers.to_vec();
    headers.push(("x-amz-date".into(), amz_date.clone()));
    let mut signed: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    signed.sort();
    signed.dedup();
    let signed: Vec<&str> = signed.iter().map(String::as_str).collect();
    let with_date = SignedRequest {
        headers: &headers,
        ..*request
    };
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{SERVICE}/aws4_request");
    let canonical = canonical_request(&with_date, &signed);
    let sig = signature(
        secret,
        date,
        region,
        SERVICE,
        &string_to_sign(&amz_date, &scope, &canonical),
    );
    vec![
        ("X-Amz-Date".into(), amz_date),
        (
            "Authorization".into(),
            format!(
                "{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={sig}",
                signed.join(";")
            ),
        ),
    ]
}

#[cfg(test)]
mod tests;
