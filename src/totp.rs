//! TOTP authenticators (RFC 6238; docs/hosted-ui.md, "Multi-factor authentication (TOTP)"):
//! HMAC-SHA1, 6 digits, 30-second steps, ±1 step accepted, 160-bit secrets. The caller stores the
//! last accepted step so that no code is accepted twice. The QR code for the setup page is drawn
//! here as SVG.

use qrcode::QrCode;
use qrcode::render::svg;
use rand::RngCore;
use totp_rs::{Builder, Secret, Totp};

pub const STEP_SECONDS: i64 = 30;
const SECRET_BYTES: usize = 20;

/// A fresh shared secret, base32 (what authenticator apps accept when typed).
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::from(bytes.to_vec()).to_base32()
}

fn totp(secret_base32: &str, issuer: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    // A colon separates issuer and account in the otpauth label, so neither may hold one.
    let clean = |s: &str| s.replace(':', " ");
    Builder::new()
        .with_secret(secret)
        .with_account_name(clean(account))
        .with_issuer(Some(clean(issuer)))
        .build()
        .ok()
}

/// The step a code is valid for (current ±1), if it is valid and later than `last_step`.
pub fn accepted_step(secret_base32: &str, code: &str, now: i64, last_step: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret_base32, "x", "x")?;
    let now = u64::try_from(now).ok()?;
    let step = i64::try_from(totp.check(code, now)?).ok()?;
    (step > last_step).then_some(step)
}

/// The code an authenticator shows at `time` (for tests and the bench).
pub fn code_at(secret_base32: &str, time: i64) -> Option<String> {
    let totp = totp(secret_base32, "x", "x")?;
    Some(totp.generate(u64::try_from(time).ok()?).to_string())
}

/// `otpauth://totp/Issuer:account?secret=…&issuer=…`, the payload of the setup QR code.
pub fn otpauth_url(secret_base32: &str, issuer: &str, account: &str) -> Option<String> {
    totp(secret_base32, issuer, account)?.to_url().ok()
}

/// The QR code of `payload` as an SVG element (no script, fixed colours, scales with CSS).
pub fn qr_svg(payload: &str) -> Option<String> {
    let code = QrCode::new(payload.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color>()
            .min_dimensions(200, 200)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_accepted_once_within_one_step_either_side() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let code = code_at(&secret, now).unwrap();
        let step = accepted_step(&secret, &code, now, 0).expect("current code");
        assert_eq!(step, now / STEP_SECONDS);
        assert_eq!(accepted_step(&secret, &code, now, step), None, "replay");
        let previous = code_at(&secret, now - STEP_SECONDS).unwrap();
        assert!(accepted_step(&secret, &previous, now, 0).is_some());
        let old = code_at(&secret, now - 3 * STEP_SECONDS).unwrap();
        if old != code && old != previous {
            assert_eq!(accepted_step(&secret, &old, now, 0), None, "too old");
        }
        assert_eq!(accepted_step(&secret, "12345", now, 0), None);
        assert_eq!(accepted_step(&secret, "abcdef", now, 0), None);
    }

    #[test]
    fn rfc_6238_vector() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 → 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
    }

    #[test]
    fn setup_payload_and_qr() {
        let secret = new_secret();
        let url = otpauth_url(&secret, "Gatehouse", "ann:x").unwrap();
        assert!(
            url.starts_with("otpauth://totp/Gatehouse:ann%20x?"),
            "{url}"
        );
        assert!(url.contains(&format!("secret={secret}")));
        let svg = qr_svg(&url).unwrap();
        assert!(svg.contains("<svg") && !svg.contains("<script"));
    }
}
