//! One integration-test binary (each extra file under tests/ would link separately).

mod api_sealing;
mod api_self_account;
mod api_self_service;
mod api_support;
mod hook_support;
mod support;

mod accounts;
mod api_admin;
mod api_admin_lists;
mod api_auth;
mod api_clients;
mod binary;
mod cognito_api;
mod config;
mod demo;
mod federation;
mod hardening;
mod hooks;
mod hosted;
mod hosted_forms;
mod metrics;
mod operations;
mod outbox;
mod protocol;
mod server;
mod source;
mod startup;
mod storage;
mod triggers_messages;
mod upstream;
