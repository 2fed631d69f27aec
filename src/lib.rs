//! aws-jit: temporary, approved, least-privilege AWS access that removes itself.
//! `main.rs` only wires; the pieces live here so integration tests can reach them.

// Everything written to stdout or stderr goes through `output`, which never panics on a
// closed pipe; `println!` and friends do.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod aws;
pub mod cli;
pub mod commands;
pub mod config;
pub mod digest;
pub mod error;
pub mod grant;
pub mod ids;
pub mod input;
pub mod notify;
pub mod output;
pub mod policy;
pub mod render;
pub mod request;
pub mod store;
pub mod text;
pub mod time;
