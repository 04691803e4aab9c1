//! Cognito's JSON API (docs/api.md).
pub mod srp;
