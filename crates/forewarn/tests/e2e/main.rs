//! End-to-end tests of the `forewarn` binary: the real CLI, the real HTTP server, a real database (SQLite always;
//! PostgreSQL too when `FOREWARN_TEST_POSTGRES_URL` is set).

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

mod bad_input;
mod common;
mod console;
mod crash;
mod csaf_corpus;
mod delivery;
mod log;
mod openpgp;
mod poc;
mod policy;
mod portal;
mod server;
mod trace;
mod webhooks;
