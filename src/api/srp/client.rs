//! The client side of Cognito's SRP, computed as amazon-cognito-identity-js and pycognito do
//! (`AuthenticationHelper`, `aws_srp.AWSSRP`), so tests and benchmarks can sign in over HTTP;
//! the math is the one in the parent module's docs.

use super::{G, K, N, SrpError, claim_mac, is_zero, parse_hex, private_x, scrambler, session_key};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use num_bigint_dig::BigUint;
use rand::RngCore as _;

/// Draws `a` (128 random bytes, reduced mod N) and returns it with `SRP_A` (hex of `g^a mod N`).
pub fn start() -> (Vec<u8>, String) {
    let mut a = [0u8; 128];
    rand::rngs::OsRng.fill_bytes(&mut a);
    start_with(&a)
}

/// [`start`] with a given `a` (test vectors).
#[doc(hidden)]
pub fn start_with(a: &[u8]) -> (Vec<u8>, String) {
    let a = BigUint::from_bytes_be(a) % &*N;
    let big_a = G.modpow(&a, &N);
    (a.to_bytes_be(), big_a.to_str_radix(16))
}

/// The 16-byte session key `K` the client derives from the challenge.
pub(crate) fn session_key_for(
    pool_id: &str,
    user_id_for_srp: &str,
    password: &str,
    a_secret: &[u8],
    salt_param: &str,
    srp_b: &str,
) -> Result<[u8; 16], SrpError> {
    let a = BigUint::from_bytes_be(a_secret);
    let big_a = G.modpow(&a, &N);
    let big_b = parse_hex(srp_b, "SRP_B")?;
    if is_zero(&(&big_b % &*N)) {
        return Err(SrpError::BadB);
    }
    let u = scrambler(&big_a, &big_b);
    if is_zero(&u) {
        return Err(SrpError::BadB);
    }
    let salt = parse_hex(salt_param, "SALT")?;
    let x = private_x(pool_id, user_id_for_srp, password, &salt);
    // (B − k·g^x) mod N, kept non-negative.
    let kgx = (&*K * G.modpow(&x, &N)) % &*N;
    let base = (big_b % &*N + &*N - kgx) % &*N;
    let s = base.modpow(&(a + &u * x), &N);
    Ok(session_key(&u, &s))
}

/// `PASSWORD_CLAIM_SIGNATURE` (base64) for a `PASSWORD_VERIFIER` challenge, signed at `timestamp`
/// (see [`super::format_timestamp`]).
#[allow(clippy::too_many_arguments)]
pub fn respond(
    pool_id: &str,
    user_id_for_srp: &str,
    password: &str,
    a_secret: &[u8],
    salt_param: &str,
    srp_b: &str,
    secret_block: &str,
    timestamp: &str,
) -> Result<String, SrpError> {
    let key = session_key_for(
        pool_id,
        user_id_for_srp,
        password,
        a_secret,
        salt_param,
        srp_b,
    )?;
    let block = B64
        .decode(secret_block)
        .map_err(|_| SrpError::Malformed("SECRET_BLOCK"))?;
    Ok(B64.encode(claim_mac(&key, pool_id, user_id_for_srp, &block, timestamp)))
}
