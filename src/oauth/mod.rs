//! The protocol core. Never imports actix_web or diesel: it takes what it needs as arguments
//! and returns decisions and documents.
//!
//! The protocols: RFC 6749, RFC 7636 and OpenID Connect Core 1.0; the layout: docs/architecture.md.

pub mod authorize;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod grants;
pub mod logout;
pub mod params;
pub mod pkce;
pub mod prompt;
pub mod scopes;

pub use error::{ErrorCode, OAuthError};
pub use params::Params;
