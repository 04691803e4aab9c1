//! One integration-test binary (each extra file under tests/ would link separately).

mod support;

mod binary;
mod config;
mod federation;
mod hardening;
mod hosted;
mod protocol;
mod server;
mod startup;
mod storage;
