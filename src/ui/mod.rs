//! The hosted UI's building blocks that do not depend on HTTP: the message catalogue, the
//! per-client stylesheet validator and logo checks.
//!
//! See docs/customization.md.

pub mod css;
pub mod i18n;
pub mod logo;
pub mod look;
pub mod overrides;
pub mod view;
