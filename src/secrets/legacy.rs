//! Password hashes brought from another system (docs/migrating.md, "From any system with
//! password hashes"): argon2id and argon2i (RFC 9106, PHC string format), bcrypt (`$2a$`,
//! `$2b$`, `$2y$`), scrypt (RFC 7914, `$scrypt$ln=…,r=…,p=…$salt$hash`) and PBKDF2-HMAC-SHA256
//! (RFC 8018, `$pbkdf2-sha256$i=…,l=…$salt$hash`, also passlib's `$pbkdf2-sha256$<rounds>$…`).
//!
//! `check` is the one entry point sign-ins use: it verifies in constant time whatever scheme
//! the stored hash is in and says whether it must be replaced by the pool's argon2id (every
//! hash but the current argon2id parameters). `parse` is the cheap check an import runs on a
//! hash before storing it: no key derivation, only the format and the cost limits.

use super::with_hash_slot;
use argon2::password_hash::phc::PasswordHash;
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use subtle::ConstantTimeEq;

/// The schemes a stored hash may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Argon2id,
    Argon2i,
    Bcrypt,
    Scrypt,
    Pbkdf2Sha256,
}

/// Why a hash cannot be used (never says anything of the hash's value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    #[error("the password hash is not in a supported format")]
    Format,
    #[error(
        "the password hash's cost is beyond this server's limits (bcrypt cost 14; scrypt 128·r·N·p of 256 MiB, r·p 1024; PBKDF2 2,000,000 rounds per 32 bytes of hash; argon2 256 MiB, 1 GiB × passes, 16 lanes)"
    )]
    Cost,
}

/// The outcome of a password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub matches: bool,
    /// The password matched a hash that is not the current argon2id: store a new one.
    pub must_replace: bool,
}

impl Checked {
    pub const NO: Checked = Checked {
        matches: false,
        must_replace: false,
    };
}

/// The hash this server writes (`secrets::hash_password`); anything else is replaced.
const CURRENT_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

// Cost ceilings: an imported hash is the importer's choice, and a hostile one must not make
// one sign-in take minutes or gigabytes. They bound the work (time) of one check, not only
// its memory: each lets through the usual parameters (OWASP's Password Storage Cheat Sheet:
// bcrypt 10+, scrypt N=2^17 r=8 p=1, PBKDF2-SHA256 600,000 rounds, argon2id 19 MiB × 2) and
// refuses what would take more than about a second.
const MAX_BCRYPT_COST: u32 = 14;
/// 128·r·N·p: the bytes scrypt's ROMix writes over all its lanes.
const MAX_SCRYPT_WORK: u64 = 256 * 1024 * 1024;
/// r·p: the size of the block buffer (128·r·p bytes) and of PBKDF2's outer passes.
const MAX_SCRYPT_RP: u64 = 1024;
/// Rounds × 32-byte output blocks (each block is derived with all the rounds).
const MAX_PBKDF2_WORK: u64 = 2_000_000;
const MAX_ARGON2_KIB: u32 = 256 * 1024;
/// Memory × passes, in KiB: 1 GiB written once, or 64 MiB sixteen times.
const MAX_ARGON2_WORK: u64 = 1024 * 1024;
const MAX_ARGON2_LANES: u32 = 16;
const MAX_OUTPUT: usize = 128;

/// A parsed hash, ready to check a password against.
enum Parsed<'a> {
    Argon2(Scheme, &'a str),
    Bcrypt(&'a str),
    Scrypt {
        params: scrypt::Params,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    Pbkdf2 {
        rounds: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
}

/// The scheme of a stored hash, if this server can check passwords against it.
pub fn parse(stored: &str) -> Result<Scheme, Unsupported> {
    Ok(match parse_inner(stored)? {
        Parsed::Argon2(scheme, _) => scheme,
        Parsed::Bcrypt(_) => Scheme::Bcrypt,
        Parsed::Scrypt { .. } => Scheme::Scrypt,
        Parsed::Pbkdf2 { .. } => Scheme::Pbkdf2Sha256,
    })
}

/// Whether `password` matches `stored`, in constant time, and whether the hash must be
/// replaced. A malformed or unsupported hash never matches.
pub fn check(password: &str, stored: &str) -> Checked {
    // Refused without running it, at the cost of a wrong password.
    let Ok(parsed) = parse_inner(stored) else {
        super::burn_password_check(password);
        return Checked::NO;
    };
    let matches = with_hash_slot(|| match &parsed {
        Parsed::Argon2(_, phc) => argon2_matches(password, phc),
        Parsed::Bcrypt(hash) => bcrypt::verify(password.as_bytes(), hash).unwrap_or(false),
        Parsed::Scrypt { params, salt, hash } => {
            let mut out = vec![0u8; hash.len()];
            scrypt::scrypt(password.as_bytes(), salt, params, &mut out).is_ok()
                && bool::from(out.ct_eq(hash))
        }
        Parsed::Pbkdf2 { rounds, salt, hash } => {
            let mut out = vec![0u8; hash.len()];
            pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha256>(
                password.as_bytes(),
                salt,
                *rounds,
                &mut out,
            );
            bool::from(out.ct_eq(hash))
        }
    });
    Checked {
        matches,
        must_replace: matches && !stored.starts_with(CURRENT_PREFIX),
    }
}

fn argon2_matches(password: &str, phc: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    // The parameters come from the hash itself.
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

fn parse_inner(stored: &str) -> Result<Parsed<'_>, Unsupported> {
    let stored = stored.trim();
    let fields: Vec<&str> = stored.split('$').collect();
    if fields.len() < 2 || !fields[0].is_empty() {
        return Err(Unsupported::Format);
    }
    match fields[1] {
        "argon2id" | "argon2i" => parse_argon2(stored, fields[1]),
        "2a" | "2b" | "2y" => parse_bcrypt(stored, &fields),
        "scrypt" => parse_scrypt(&fields),
        "pbkdf2-sha256" => parse_pbkdf2(&fields),
        _ => Err(Unsupported::Format),
    }
}

fn parse_argon2<'a>(stored: &'a str, id: &str) -> Result<Parsed<'a>, Unsupported> {
    let parsed = PasswordHash::new(stored).map_err(|_| Unsupported::Format)?;
    if parsed.hash.is_none() || parsed.salt.is_none() {
        return Err(Unsupported::Format);
    }
    let params = argon2::Params::try_from(&parsed).map_err(|_| Unsupported::Format)?;
    let work = u64::from(params.m_cost()) * u64::from(params.t_cost());
    if params.m_cost() > MAX_ARGON2_KIB
        || work > MAX_ARGON2_WORK
        || params.p_cost() > MAX_ARGON2_LANES
    {
        return Err(Unsupported::Cost);
    }
    let scheme = if id == "argon2id" {
        Scheme::Argon2id
    } else {
        Scheme::Argon2i
    };
    Ok(Parsed::Argon2(scheme, stored))
}

fn parse_bcrypt<'a>(stored: &'a str, fields: &[&str]) -> Result<Parsed<'a>, Unsupported> {
    // `$2b$12$` + 22 characters of salt + 31 of hash, in bcrypt's own base64 alphabet.
    if fields.len() != 4 || stored.len() != 60 || fields[2].len() != 2 || fields[3].len() != 53 {
        return Err(Unsupported::Format);
    }
    let cost: u32 = fields[2].parse().map_err(|_| Unsupported::Format)?;
    let alphabet = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '/';
    if !(4..=31).contains(&cost) || !fields[3].chars().all(alphabet) {
        return Err(Unsupported::Format);
    }
    if cost > MAX_BCRYPT_COST {
        return Err(Unsupported::Cost);
    }
    Ok(Parsed::Bcrypt(stored))
}

/// `key=value` parameters separated by commas.
fn params<'a>(text: &'a str) -> impl Iterator<Item = Result<(&'a str, u64), Unsupported>> + 'a {
    text.split(',').map(|pair| {
        let (key, value) = pair.split_once('=').ok_or(Unsupported::Format)?;
        Ok((key, value.parse().map_err(|_| Unsupported::Format)?))
    })
}

/// PHC's base64 (standard alphabet, no padding); passlib's variant writes `.` for `+`.
fn b64(text: &str) -> Result<Vec<u8>, Unsupported> {
    let text = text.trim_end_matches('=').replace('.', "+");
    STANDARD_NO_PAD
        .decode(text)
        .map_err(|_| Unsupported::Format)
}

fn salt_and_hash(salt: &str, hash: &str) -> Result<(Vec<u8>, Vec<u8>), Unsupported> {
    let (salt, hash) = (b64(salt)?, b64(hash)?);
    if salt.is_empty() || !(10..=MAX_OUTPUT).contains(&hash.len()) {
        return Err(Unsupported::Format);
    }
    Ok((salt, hash))
}

fn parse_scrypt<'a>(fields: &[&str]) -> Result<Parsed<'a>, Unsupported> {
    let [_, _, text, salt, hash] = fields else {
        return Err(Unsupported::Format);
    };
    let (mut log_n, mut r, mut p) = (None, None, None);
    for pair in params(text) {
        match pair? {
            ("ln", v) => log_n = Some(v),
            ("r", v) => r = Some(v),
            ("p", v) => p = Some(v),
            _ => return Err(Unsupported::Format),
        }
    }
    let (Some(log_n), Some(r), Some(p)) = (log_n, r, p) else {
        return Err(Unsupported::Format);
    };
    if !(1..64).contains(&log_n) || r == 0 || p == 0 || r > u32::MAX as u64 || p > 1024 {
        return Err(Unsupported::Format);
    }
    // ROMix runs once per lane over a 128·r·N table: the work is 128·r·N·p.
    let work = 128u64
        .saturating_mul(r)
        .saturating_mul(1u64 << log_n)
        .saturating_mul(p);
    if work > MAX_SCRYPT_WORK || r.saturating_mul(p) > MAX_SCRYPT_RP {
        return Err(Unsupported::Cost);
    }
    let params =
        scrypt::Params::new(log_n as u8, r as u32, p as u32).map_err(|_| Unsupported::Format)?;
    let (salt, hash) = salt_and_hash(salt, hash)?;
    Ok(Parsed::Scrypt { params, salt, hash })
}

fn parse_pbkdf2<'a>(fields: &[&str]) -> Result<Parsed<'a>, Unsupported> {
    let [_, _, text, salt, hash] = fields else {
        return Err(Unsupported::Format);
    };
    // PHC: `i=<rounds>,l=<length>`; passlib: the rounds alone.
    let (rounds, length) = match text.parse::<u64>() {
        Ok(rounds) => (rounds, None),
        Err(_) => {
            let (mut rounds, mut length) = (None, None);
            for pair in params(text) {
                match pair? {
                    ("i", v) => rounds = Some(v),
                    ("l", v) => length = Some(v),
                    _ => return Err(Unsupported::Format),
                }
            }
            (rounds.ok_or(Unsupported::Format)?, length)
        }
    };
    if rounds == 0 {
        return Err(Unsupported::Format);
    }
    let (salt, hash) = salt_and_hash(salt, hash)?;
    if length.is_some_and(|l| l != hash.len() as u64) {
        return Err(Unsupported::Format);
    }
    if rounds.saturating_mul(hash.len().div_ceil(32) as u64) > MAX_PBKDF2_WORK {
        return Err(Unsupported::Cost);
    }
    Ok(Parsed::Pbkdf2 {
        rounds: rounds as u32,
        salt,
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with Python's bcrypt package and hashlib (an implementation independent of these
    // crates), password "Old-Password-1", salt "saltsaltsaltsalt".
    const BCRYPT: &str = "$2b$04$bNOz2y6pYg9E6QWNifjZcObHfvkaFbxIhBly230FyuQO49A8xYRj6";
    const PBKDF2: &str = "$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHRzYWx0c2FsdA$fb1f6oS02Zd/SONZKc5zgL6hXaFs0JVyayBivO7Bcpo";
    const SCRYPT: &str =
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$swSZKX5jqTQc7gOpwdSeC/9qbBTm1JxFpfWQKdI2MZM";

    #[test]
    fn every_scheme_checks_its_password_and_asks_for_replacement() {
        for (hash, scheme) in [
            (BCRYPT, Scheme::Bcrypt),
            (PBKDF2, Scheme::Pbkdf2Sha256),
            (SCRYPT, Scheme::Scrypt),
        ] {
            assert_eq!(parse(hash), Ok(scheme));
            let right = check("Old-Password-1", hash);
            assert_eq!(
                right,
                Checked {
                    matches: true,
                    must_replace: true
                },
                "{hash}"
            );
            assert_eq!(check("Old-Password-2", hash), Checked::NO, "{hash}");
        }
        for variant in ["$2a$", "$2y$"] {
            let hash = BCRYPT.replacen("$2b$", variant, 1);
            assert!(check("Old-Password-1", &hash).matches);
        }
    }

    #[test]
    fn passlib_pbkdf2_rounds_and_alphabet_are_read() {
        // The same derived key with passlib's `$pbkdf2-sha256$<rounds>$` and `.` for `+`.
        let passlib = "$pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA$fb1f6oS02Zd/SONZKc5zgL6hXaFs0JVyayBivO7Bcpo";
        assert!(check("Old-Password-1", passlib).matches);
    }

    #[test]
    fn argon2_hashes_are_replaced_unless_current() {
        let current = crate::secrets::hash_password("Pw-1").unwrap();
        assert_eq!(parse(&current), Ok(Scheme::Argon2id));
        assert_eq!(
            check("Pw-1", &current),
            Checked {
                matches: true,
                must_replace: false
            }
        );
        use argon2::password_hash::PasswordHasher;
        let params = argon2::Params::new(8 * 1024, 1, 1, None).unwrap();
        let argon2i =
            argon2::Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x13, params)
                .hash_password(b"Pw-1")
                .unwrap()
                .to_string();
        assert_eq!(parse(&argon2i), Ok(Scheme::Argon2i));
        assert_eq!(
            check("Pw-1", &argon2i),
            Checked {
                matches: true,
                must_replace: true
            }
        );
        assert_eq!(check("Pw-2", &argon2i), Checked::NO);
    }

    #[test]
    fn malformed_and_costly_hashes_are_refused_without_deriving() {
        for bad in [
            "",
            "plain text",
            "$md5$abc$def",
            "$2b$04$short",
            "$pbkdf2-sha256$i=1000$c2FsdA",
            "$pbkdf2-sha256$i=0,l=32$c2FsdHNhbHRzYWx0c2FsdA$fb1f6oS02Zd/SONZKc5zgL6hXaFs0JVyayBivO7Bcpo",
            "$scrypt$ln=10,r=8$c2FsdA$swSZKX5jqTQc7gOpwdSeC/9qbBTm1JxFpfWQKdI2MZM",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
        ] {
            assert_eq!(parse(bad), Err(Unsupported::Format), "{bad}");
            assert_eq!(check("x", bad), Checked::NO);
        }
        for costly in [
            "$2b$20$bNOz2y6pYg9E6QWNifjZcObHfvkaFbxIhBly230FyuQO49A8xYRj6",
            "$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$swSZKX5jqTQc7gOpwdSeC/9qbBTm1JxFpfWQKdI2MZM",
            "$pbkdf2-sha256$i=4000000000,l=32$c2FsdHNhbHRzYWx0c2FsdA$fb1f6oS02Zd/SONZKc5zgL6hXaFs0JVyayBivO7Bcpo",
        ] {
            assert_eq!(parse(costly), Err(Unsupported::Cost), "{costly}");
        }
    }

    const SALT_HASH: &str = "c2FsdHNhbHRzYWx0c2FsdA$swSZKX5jqTQc7gOpwdSeC/9qbBTm1JxFpfWQKdI2MZM";

    #[test]
    fn the_caps_bound_the_work_of_one_check_not_only_its_memory() {
        let long_hash = format!("c2FsdHNhbHRzYWx0c2FsdA${}", "A".repeat(171)); // 128 bytes
        let within = [
            format!("$2b$14${}", &BCRYPT[7..]),
            format!("$scrypt$ln=17,r=8,p=1${SALT_HASH}"),
            format!("$scrypt$ln=14,r=8,p=16${SALT_HASH}"),
            format!("$pbkdf2-sha256$i=2000000,l=32${SALT_HASH}"),
            format!("$pbkdf2-sha256$i=500000,l=128${long_hash}"),
            format!("$argon2id$v=19$m=65536,t=16,p=4${SALT_HASH}"),
            format!("$argon2id$v=19$m=262144,t=4,p=1${SALT_HASH}"),
        ];
        for hash in &within {
            assert!(parse(hash).is_ok(), "{hash}");
        }
        let beyond = [
            format!("$2b$15${}", &BCRYPT[7..]),
            // Memory within 256 MiB, but a quarter of an hour of work.
            format!("$scrypt$ln=20,r=2,p=1024${SALT_HASH}"),
            format!("$scrypt$ln=17,r=8,p=4${SALT_HASH}"),
            format!("$scrypt$ln=1,r=64,p=32${SALT_HASH}"),
            format!("$pbkdf2-sha256$i=2000001,l=32${SALT_HASH}"),
            format!("$pbkdf2-sha256$2000001${SALT_HASH}"),
            format!("$pbkdf2-sha256$i=600000,l=128${long_hash}"),
            format!("$argon2id$v=19$m=65536,t=17,p=1${SALT_HASH}"),
            format!("$argon2i$v=19$m=262144,t=5,p=1${SALT_HASH}"),
        ];
        for hash in &beyond {
            assert_eq!(parse(hash), Err(Unsupported::Cost), "{hash}");
            // Stored anyway: a wrong password at the usual cost, the hash never run.
            let started = std::time::Instant::now();
            assert_eq!(check("Old-Password-1", hash), Checked::NO, "{hash}");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "{hash}"
            );
        }
    }
}
