//! The protocol core. Never imports actix_web or diesel: it takes what it needs as arguments
//! and returns decisions and documents.

pub mod discovery;
