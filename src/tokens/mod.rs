//! Tokens: signing keys and their JWKS, the claims, the signer and the verifier.

pub mod claims;
pub mod keys;
pub mod signer;
pub mod verifier;

pub use keys::{Jwk, Jwks};
pub use signer::{PrivateKey, Signer};
