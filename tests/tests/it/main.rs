//! Every integration and end-to-end test, one binary (one link instead of one per file):
//! a module per feature, sharing the harness in `tests/src` (`integration_tests`).

mod abuse_accounts;
mod abuse_business;
mod abuse_rate;
mod abuse_secrets;
mod admin;
mod analytics_flow;
mod applications;
mod auth_flow;
mod bad_input;
mod catalog;
mod costs;
mod events;
mod expiry;
mod files;
mod hardening;
mod idempotency;
mod jobs;
mod live_accounts;
mod local_stack;
mod moderation;
mod notifications_channels;
mod notifications_inapp;
mod notifications_live;
mod notifications_push;
mod openapi;
mod operations;
mod privacy;
mod profiles;
mod revocation;
mod samples;
mod search_alerts;
mod search_index;
mod search_jobs;
mod security;
mod seed;
