//! aws-jit: temporary, approved, least-privilege AWS access that removes itself.
//! `main.rs` only calls `app::main`; the pieces live here so integration tests can reach
//! the ones they need (the rest is crate-private). Layering: see the README's
//! Architecture section; `tests/layering.rs` keeps it true.

// Everything written to stdout or stderr goes through `output`, which never panics on a
// closed pipe; `println!` and friends do.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod access;
pub mod app;
pub mod aws;
pub(crate) mod cli;
pub(crate) mod commands;
pub(crate) mod config;
pub mod digest;
pub mod error;
pub mod grant;
pub(crate) mod ids;
pub(crate) mod input;
pub(crate) mod notify;
pub(crate) mod output;
pub mod policy;
pub(crate) mod render;
pub mod request;
pub mod store;
pub(crate) mod text;
pub mod time;
