//! The signed URLs of import jobs (docs/api.md, "Import jobs"): Cognito hands out an S3
//! pre-signed URL for the CSV upload
//! (<https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-uploading.html>);
//! this server serves the upload itself, at `{public_url}/_import/{pool}/{job}`, and the
//! rejected-lines log at `…/log`. The URL is the credential: an HMAC-SHA256, keyed with a
//! secret of the installation (`instance_secrets`), over what it grants and until when.

use crate::store::{self, AnyConnection, StoreError};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The installation secret the signatures are keyed with.
const KEY_NAME: &str = "import_url_key";
/// Seconds a URL is valid, as Cognito's upload URL (15 minutes).
pub const VALID_SECONDS: i64 = 900;

pub const EXPIRES: &str = "X-Amz-Expires";
pub const DATE: &str = "X-Amz-Date";
pub const SIGNATURE: &str = "X-Gatehouse-Signature";

/// What a URL grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Upload,
    Log,
}

impl Grant {
    fn name(self) -> &'static str {
        match self {
            Grant::Upload => "upload",
            Grant::Log => "log",
        }
    }
}

/// The signing key, made once per installation.
pub fn key(conn: &mut AnyConnection, now: i64) -> Result<hmac::Key, StoreError> {
    let secret = store::instance::secret(conn, KEY_NAME, now, || crate::secrets::random_token(32))?;
    Ok(hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()))
}

fn message(grant: Grant, pool: &str, job: &str, issued: i64, expires: i64) -> String {
    format!("{}\n{pool}\n{job}\n{issued}\n{expires}", grant.name())
}

fn signature(key: &hmac::Key, grant: Grant, pool: &str, job: &str, issued: i64) -> String {
    let tag = hmac::sign(
        key,
        message(grant, pool, job, issued, VALID_SECONDS).as_bytes(),
    );
    URL_SAFE_NO_PAD.encode(tag.as_ref())
}

/// The upload URL of a job, valid for 15 minutes from the job's creation (as Cognito's).
pub fn upload_url(
    key: &hmac::Key,
    public_url: &str,
    pool: &str,
    job: &str,
    created: i64,
) -> String {
    format!(
        "{public_url}/_import/{pool}/{job}?{EXPIRES}={VALID_SECONDS}&{SIGNATURE}={}",
        signature(key, Grant::Upload, pool, job, created)
    )
}

/// The URL of a job's rejected lines, valid for 15 minutes from `now`.
pub fn log_url(key: &hmac::Key, public_url: &str, pool: &str, job: &str, now: i64) -> String {
    format!(
        "{public_url}/_import/{pool}/{job}/log?{DATE}={now}&{EXPIRES}={VALID_SECONDS}&{SIGNATURE}={}",
        signature(key, Grant::Log, pool, job, now)
    )
}

/// Why a URL was refused (all of them are S3's `AccessDenied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Expired,
    BadSignature,
}

/// Checks a URL's query: its grant, the time it was issued (the job's creation for an
/// upload, `X-Amz-Date` for the log), its `X-Amz-Expires` and signature, in constant time.
pub fn check(
    key: &hmac::Key,
    grant: Grant,
    pool: &str,
    job: &str,
    issued: i64,
    (expires, given): (Option<&str>, Option<&str>),
    now: i64,
) -> Result<(), Denied> {
    let expires: i64 = expires
        .and_then(|e| e.parse().ok())
        .ok_or(Denied::BadSignature)?;
    let tag = given
        .and_then(|g| URL_SAFE_NO_PAD.decode(g).ok())
        .ok_or(Denied::BadSignature)?;
    let text = message(grant, pool, job, issued, expires);
    hmac::verify(key, text.as_bytes(), &tag).map_err(|_| Denied::BadSignature)?;
    if now > issued.saturating_add(expires) {
        return Err(Denied::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_opens_only_its_job_and_grant_until_it_expires() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"k");
        let url = upload_url(&key, "http://h", "p", "import-1", 1000);
        let sig = url.split("X-Gatehouse-Signature=").nth(1).unwrap();
        let ok =
            |grant, job, now| check(&key, grant, "p", job, 1000, (Some("900"), Some(sig)), now);
        assert_eq!(ok(Grant::Upload, "import-1", 1900), Ok(()));
        assert_eq!(ok(Grant::Upload, "import-1", 1901), Err(Denied::Expired));
        assert_eq!(
            ok(Grant::Upload, "import-2", 1000),
            Err(Denied::BadSignature)
        );
        assert_eq!(ok(Grant::Log, "import-1", 1000), Err(Denied::BadSignature));
        // A longer validity is not the one signed.
        assert_eq!(
            check(
                &key,
                Grant::Upload,
                "p",
                "import-1",
                1000,
                (Some("9000"), Some(sig)),
                1000
            ),
            Err(Denied::BadSignature)
        );
    }
}
