//! Plain domain types: no HTTP, no SQL. Validation of formats lives beside each type.
//!
//! See docs/architecture.md.

pub mod attributes;
pub mod client;
pub mod directory;
pub mod email;
pub mod ids;
pub mod pool;
pub mod triggers;
pub mod user;

pub use attributes::Attributes;
pub use client::{AppClient, ClientSettings, OAuthFlow};
pub use directory::{
    Group, IdentityProvider, ProviderType, ResourceScope, ResourceServer, UiCustomization,
};
pub use email::Email;
pub use ids::{ClientId, PoolId};
pub use pool::{PasswordPolicy, PoolSettings, UserPool};
pub use user::{User, UserStatus};
