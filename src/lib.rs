//! aws-jit: temporary, approved, least-privilege AWS access that removes itself.
//! `main.rs` only wires; the pieces live here so integration tests can reach them.

pub mod aws;
pub mod cli;
pub mod commands;
pub mod config;
pub mod digest;
pub mod error;
pub mod ids;
pub mod notify;
pub mod policy;
pub mod render;
pub mod request;
pub mod store;
pub mod time;
