//! Gatehouse: a self-hosted OAuth 2.0 / OpenID Connect authorization server with a hosted
//! sign-in UI that behaves like an Amazon Cognito user pool.
//!
//! How the code is laid out: docs/architecture.md.

pub mod api;
pub mod app;
pub mod config;
pub mod federation;
pub mod flows;
pub mod hooks;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod oauth;
pub mod provision;
pub mod sealing;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod tokens;
pub mod totp;
pub mod ui;
