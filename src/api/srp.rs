//! SRP-6a as Amazon Cognito's `USER_SRP_AUTH` / `PASSWORD_VERIFIER` speaks it: RFC 5054's group
//! (RFC 3526 §4, 3072 bits) with Cognito's own `k`, `x`, HKDF ("Caldera Derived Key") and claim
//! signature, as described in the `InitiateAuth` reference
//! (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html).
//! Pure math: no I/O, no storage. `padHex` is the hex of Java's `BigInteger.toByteArray()`.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use num_bigint_dig::BigUint;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use std::sync::LazyLock;
use subtle::ConstantTimeEq as _;

pub mod client;
#[cfg(test)]
mod tests;

/// RFC 3526 §4: the 3072-bit MODP prime.
const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

static N: LazyLock<BigUint> =
    LazyLock::new(|| BigUint::parse_bytes(N_HEX.as_bytes(), 16).expect("RFC 3526 prime"));
static G: LazyLock<BigUint> = LazyLock::new(|| BigUint::from(2u32));
/// `k = H(padHex(N) ‖ padHex(g))`: Cognito pads `g` to one byte, not to the length of `N`.
static K: LazyLock<BigUint> = LazyLock::new(|| {
    let mut h = Sha256::new();
    h.update(pad(&N));
    h.update(pad(&G));
    BigUint::from_bytes_be(&h.finalize())
});

/// The longest hex string accepted for `SRP_A` / `SRP_B` / `SALT` (N is 768 digits).
const MAX_HEX: usize = 2048;
/// How far a claim's `TIMESTAMP` may be from the server's clock.
const MAX_SKEW_SECS: i64 = 15 * 60;
const HKDF_INFO: &[u8] = b"Caldera Derived Key";

/// Why a password claim was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SrpError {
    /// `SRP_A` is 0 mod N (or makes `u` 0): the client could force the shared secret.
    #[error("SRP_A is not acceptable")]
    BadA,
    /// `SRP_B` is 0 mod N (client side) or makes `u` 0.
    #[error("SRP_B is not acceptable")]
    BadB,
    /// `TIMESTAMP` does not parse or is more than 15 minutes from the server's clock.
    #[error("TIMESTAMP is malformed or too far from the current time")]
    BadTimestamp,
    /// The signature does not match: wrong password, or a tampered message.
    #[error("PASSWORD_CLAIM_SIGNATURE does not match")]
    BadSignature,
    /// A parameter is not the hex/base64/serialisation it should be.
    #[error("malformed {0}")]
    Malformed(&'static str),
}

/// `padHex`'s bytes: the big-endian magnitude, with a `00` prepended when its top bit is set.
fn pad(n: &BigUint) -> Vec<u8> {
    let bytes = n.to_bytes_be();
    if bytes[0] & 0x80 != 0 {
        let mut out = Vec::with_capacity(bytes.len() + 1);
        out.push(0);
        out.extend_from_slice(&bytes);
        out
    } else {
        bytes
    }
}

/// `padHex(n)` as the clients write it (lower case).
pub(crate) fn pad_hex(n: &BigUint) -> String {
    hex(&pad(n))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Parses a positive hex integer as the clients print it (any case, odd length allowed).
fn parse_hex(s: &str, what: &'static str) -> Result<BigUint, SrpError> {
    if s.is_empty() || s.len() > MAX_HEX || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(SrpError::Malformed(what));
    }
    BigUint::parse_bytes(s.as_bytes(), 16).ok_or(SrpError::Malformed(what))
}

fn is_zero(n: &BigUint) -> bool {
    n.bits() == 0
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// The pool name in `x` and in the signature: the part of the pool id after its first `_`
/// (both clients take `split('_')[1]`); an id without `_` is used whole.
pub fn pool_name(pool_id: &str) -> &str {
    pool_id.split('_').nth(1).unwrap_or(pool_id)
}

/// `x = H(padHex(salt) ‖ H(poolName ‖ userIdForSrp ‖ ":" ‖ password))`.
fn private_x(pool_id: &str, user_id_for_srp: &str, password: &str, salt: &BigUint) -> BigUint {
    let inner = sha256(&[
        pool_name(pool_id).as_bytes(),
        user_id_for_srp.as_bytes(),
        b":",
        password.as_bytes(),
    ]);
    BigUint::from_bytes_be(&sha256(&[&pad(salt), &inner]))
}

/// `u = H(padHex(A) ‖ padHex(B))`.
fn scrambler(a: &BigUint, b: &BigUint) -> BigUint {
    BigUint::from_bytes_be(&sha256(&[&pad(a), &pad(b)]))
}

/// HKDF-SHA256(salt = padHex(u), ikm = padHex(S), info = "Caldera Derived Key"), 16 bytes.
fn session_key(u: &BigUint, s: &BigUint) -> [u8; 16] {
    let prk = hmac_sha256(&pad(u), &[&pad(s)]);
    let okm = hmac_sha256(&prk, &[HKDF_INFO, &[1]]);
    let mut key = [0u8; 16];
    key.copy_from_slice(&okm[..16]);
    key
}

/// `HMAC-SHA256(K, poolName ‖ userIdForSrp ‖ secretBlock ‖ timestamp)`.
fn claim_mac(
    key: &[u8; 16],
    pool_id: &str,
    user_id_for_srp: &str,
    secret_block: &[u8],
    timestamp: &str,
) -> [u8; 32] {
    hmac_sha256(
        key,
        &[
            pool_name(pool_id).as_bytes(),
            user_id_for_srp.as_bytes(),
            secret_block,
            timestamp.as_bytes(),
        ],
    )
}

/// A user's password verifier: `salt` and `v = g^x mod N`, both big-endian magnitudes.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    /// The salt, as generated (16 bytes).
    pub salt: Vec<u8>,
    /// `v = g^x mod N`.
    pub verifier: Vec<u8>,
}

impl std::fmt::Debug for Verifier {
    // `v` allows an offline guess at the password: keep it out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

const VERIFIER_FORMAT: u8 = 1;

impl Verifier {
    /// Compact serialisation: format byte 1, salt length (1 byte), salt, verifier.
    pub fn to_bytes(&self) -> Vec<u8> {
        let salt_len = u8::try_from(self.salt.len()).unwrap_or(u8::MAX);
        let salt = &self.salt[..usize::from(salt_len)];
        let mut out = Vec::with_capacity(2 + salt.len() + self.verifier.len());
        out.push(VERIFIER_FORMAT);
        out.push(salt_len);
        out.extend_from_slice(salt);
        out.extend_from_slice(&self.verifier);
        out
    }

    /// Reads what [`Verifier::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<Verifier, SrpError> {
        const BAD: SrpError = SrpError::Malformed("verifier");
        let (&format, rest) = bytes.split_first().ok_or(BAD)?;
        let (&salt_len, rest) = rest.split_first().ok_or(BAD)?;
        if format != VERIFIER_FORMAT || rest.len() <= usize::from(salt_len) {
            return Err(BAD);
        }
        let (salt, verifier) = rest.split_at(usize::from(salt_len));
        Ok(Verifier {
            salt: salt.to_vec(),
            verifier: verifier.to_vec(),
        })
    }
}

/// 16 random bytes for a new verifier.
pub fn new_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    salt
}

/// The verifier stored whenever a password is set. `user_id_for_srp` is the stored username
/// exactly (or the `sub` for pools that sign in by email/phone).
pub fn make_verifier(
    pool_id: &str,
    user_id_for_srp: &str,
    password: &str,
    salt: [u8; 16],
) -> Verifier {
    let x = private_x(
        pool_id,
        user_id_for_srp,
        password,
        &BigUint::from_bytes_be(&salt),
    );
    Verifier {
        salt: salt.to_vec(),
        verifier: G.modpow(&x, &N).to_bytes_be(),
    }
}

/// `SALT` as sent in the challenge: `padHex(salt)`, the form both clients agree on.
pub fn salt_param(verifier: &Verifier) -> String {
    pad_hex(&BigUint::from_bytes_be(&verifier.salt))
}

/// The server's half of one sign-in: secret `b` and public `B`, big-endian magnitudes.
#[derive(Clone)]
pub struct ServerEphemeral {
    /// Secret exponent; must stay on the server (encrypted if it leaves memory).
    pub b: Vec<u8>,
    /// `B = (k·v + g^b) mod N`.
    pub big_b: Vec<u8>,
}

impl std::fmt::Debug for ServerEphemeral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerEphemeral").finish_non_exhaustive()
    }
}

/// Draws `b` (256 random bits) and computes `B` for this verifier.
pub fn server_start(verifier: &Verifier) -> ServerEphemeral {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    server_start_with(verifier, &b)
}

/// [`server_start`] with a given `b` (test vectors).
#[doc(hidden)]
pub fn server_start_with(verifier: &Verifier, b: &[u8]) -> ServerEphemeral {
    let b_int = BigUint::from_bytes_be(b);
    let v = BigUint::from_bytes_be(&verifier.verifier);
    let big_b = (&*K * v + G.modpow(&b_int, &N)) % &*N;
    ServerEphemeral {
        b: b.to_vec(),
        big_b: big_b.to_bytes_be(),
    }
}

/// `SRP_B` as sent in the challenge (lower-case hex; both clients parse it as a number).
pub fn b_param(ephemeral: &ServerEphemeral) -> String {
    BigUint::from_bytes_be(&ephemeral.big_b).to_str_radix(16)
}

/// A challenge for a user that does not exist, shaped like a real one: the salt is an HMAC of
/// the username under `secret_key` (stable across attempts), the "verifier" behind `B` too.
pub fn decoy(secret_key: &[u8], pool_id: &str, username: &str) -> (String, ServerEphemeral) {
    let label = |l: &[u8]| {
        hmac_sha256(
            secret_key,
            &[l, pool_id.as_bytes(), &[0], username.as_bytes()],
        )
    };
    let salt = label(b"srp-decoy-salt\0");
    // 384 bytes of HMAC output reduced mod N look like g^x without a second modpow.
    let mut v = Vec::with_capacity(384);
    for i in 0u8..12 {
        v.extend_from_slice(&label(&[b's', b'r', b'p', b'-', b'v', i, 0]));
    }
    let v = (BigUint::from_bytes_be(&v) % &*N).to_bytes_be();
    let verifier = Verifier {
        salt: salt[..16].to_vec(),
        verifier: v,
    };
    (salt_param(&verifier), server_start(&verifier))
}

/// What `RespondToAuthChallenge(PASSWORD_VERIFIER)` claims, with the state kept since the challenge.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The pool id (its name part goes into `x` and the MAC).
    pub pool_id: &'a str,
    /// `USER_ID_FOR_SRP` as sent in the challenge.
    pub user_id_for_srp: &'a str,
    /// The user's stored verifier.
    pub verifier: &'a Verifier,
    /// The server's secret `b` ([`ServerEphemeral::b`]).
    pub b: &'a [u8],
    /// The `B` that was sent ([`ServerEphemeral::big_b`]).
    pub big_b: &'a [u8],
    /// `SRP_A` as the client sent it in `InitiateAuth` (hex).
    pub srp_a: &'a str,
    /// `PASSWORD_CLAIM_SECRET_BLOCK` (base64), as issued by the server.
    pub secret_block: &'a str,
    /// `TIMESTAMP`.
    pub timestamp: &'a str,
    /// `PASSWORD_CLAIM_SIGNATURE` (base64).
    pub signature: &'a str,
}

/// Checks a password claim at `now` (Unix seconds). Never panics, whatever the strings hold.
pub fn verify_claim(claim: &Claim, now: i64) -> Result<(), SrpError> {
    let a = check_a(claim.srp_a)?;
    let secret_block = B64
        .decode(claim.secret_block)
        .map_err(|_| SrpError::Malformed("PASSWORD_CLAIM_SECRET_BLOCK"))?;
    let signature = B64
        .decode(claim.signature)
        .map_err(|_| SrpError::Malformed("PASSWORD_CLAIM_SIGNATURE"))?;
    let at = parse_timestamp(claim.timestamp).ok_or(SrpError::BadTimestamp)?;
    if at.abs_diff(now) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(SrpError::BadTimestamp);
    }
    let s = server_secret(&a, claim.verifier, claim.b, claim.big_b)?;
    let key = session_key(&s.0, &s.1);
    let mac = claim_mac(
        &key,
        claim.pool_id,
        claim.user_id_for_srp,
        &secret_block,
        claim.timestamp,
    );
    if bool::from(mac.as_slice().ct_eq(&signature)) {
        Ok(())
    } else {
        Err(SrpError::BadSignature)
    }
}

/// Parses `SRP_A` and refuses `A mod N = 0`. Useful already at `InitiateAuth`.
pub fn check_a(srp_a: &str) -> Result<BigUint, SrpError> {
    let a = parse_hex(srp_a, "SRP_A")?;
    if is_zero(&(&a % &*N)) {
        Err(SrpError::BadA)
    } else {
        Ok(a)
    }
}

/// The server's `(u, S)`: `S = (A·v^u)^b mod N`.
fn server_secret(
    a: &BigUint,
    verifier: &Verifier,
    b: &[u8],
    big_b: &[u8],
) -> Result<(BigUint, BigUint), SrpError> {
    let u = scrambler(a, &BigUint::from_bytes_be(big_b));
    if is_zero(&u) {
        return Err(SrpError::BadA);
    }
    let v = BigUint::from_bytes_be(&verifier.verifier);
    let base = (a * v.modpow(&u, &N)) % &*N;
    Ok((u, base.modpow(&BigUint::from_bytes_be(b), &N)))
}

use super::calendar::{civil_from_days, days_from_civil};

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `TIMESTAMP` for Unix seconds `epoch`: `EEE MMM d HH:mm:ss UTC yyyy`, day not zero-padded.
pub fn format_timestamp(epoch: i64) -> String {
    let (days, secs) = (epoch.div_euclid(86_400), epoch.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(m - 1).unwrap_or(0)];
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    format!("{weekday} {month} {d} {hh:02}:{mm:02}:{ss:02} UTC {y}")
}

/// Parses a `TIMESTAMP` to Unix seconds; `None` unless it is a real date whose weekday matches.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let num = |t: &str, min_len: usize, max_len: usize| -> Option<i64> {
        let ok = (min_len..=max_len).contains(&t.len()) && t.bytes().all(|c| c.is_ascii_digit());
        if ok { t.parse().ok() } else { None }
    };
    let mut parts = s.split(' ');
    let weekday = parts.next()?;
    let month = parts.next()?;
    let month = i64::try_from(MONTHS.iter().position(|&m| m == month)?).ok()? + 1;
    let day = num(parts.next()?, 1, 2)?;
    let mut clock = parts.next()?.split(':');
    let hh = num(clock.next()?, 2, 2)?;
    let mm = num(clock.next()?, 2, 2)?;
    let ss = num(clock.next()?, 2, 2)?;
    if clock.next().is_some() || parts.next()? != "UTC" {
        return None;
    }
    let year = num(parts.next()?, 4, 4)?;
    if parts.next().is_some() || hh > 23 || mm > 59 || ss > 59 || day < 1 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Refuse Feb 30 and the like: the date must survive the round trip.
    if civil_from_days(days) != (year, month, day) {
        return None;
    }
    let expected = WEEKDAYS[usize::try_from((days + 4).rem_euclid(7)).ok()?];
    (weekday == expected).then_some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}
