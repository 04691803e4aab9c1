//! Tokens: signing keys and their JWKS, the key ring, the claims, the signer and the verifier.
//!
//! JWTs are RFC 7519; keys are published as a JWK Set (RFC 7517).

pub mod claims;
pub mod keyring;
pub mod keys;
pub mod signer;
pub mod verifier;

pub use keyring::{KeyRing, KeySource};
pub use keys::{Jwk, Jwks};
pub use signer::{PrivateKey, Signer};
