//! Tokens: signing keys and their JWKS, and the signer. Claims arrive with the protocol.

pub mod claims;
pub mod keys;
pub mod signer;
pub mod verifier;

pub use keys::{Jwk, Jwks};
pub use signer::{PrivateKey, Signer};
