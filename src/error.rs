//! Typed errors for the cases callers branch on, each mapped to one exit code.
//! Everything else travels as `anyhow::Error` with context and exits as a usage error
//! only when it is one of these underneath.

use std::fmt;

/// Exit codes are a contract with scripts and the Kubiya tools: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    /// Anything unexpected (a bug, an I/O error on a local file).
    Failure = 1,
    /// Bad flags, durations, JSON, ARNs, names, or a policy that fails validation.
    Usage = 2,
    NotFound = 3,
    WrongState = 4,
    NotAuthorised = 5,
    /// Redis, AWS or the webhook could not be reached.
    Backend = 6,
}

#[derive(Debug, thiserror::Error)]
pub enum JitError {
    /// `field` names the flag or input at fault; the message says how to fix it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Flags clap could not parse, in clap's words (usage line and hint included).
    #[error("{message}")]
    Usage { message: String },
    /// The message names what is missing.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    WrongState(String),
    #[error("{0}")]
    NotAuthorised(String),
    #[error("{0}")]
    Backend(String),
}

impl JitError {
    pub fn invalid(field: impl Into<String>, message: impl fmt::Display) -> Self {
        JitError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }

    /// From clap's rendering, without its own `error: ` lead (`main` adds one).
    pub fn usage(rendered: String) -> Self {
        let message = rendered.trim();
        JitError::Usage {
            message: message
                .strip_prefix("error: ")
                .unwrap_or(message)
                .to_string(),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            JitError::Invalid { .. } | JitError::Usage { .. } => ExitCode::Usage,
            JitError::NotFound(_) => ExitCode::NotFound,
            JitError::WrongState(_) => ExitCode::WrongState,
            JitError::NotAuthorised(_) => ExitCode::NotAuthorised,
            JitError::Backend(_) => ExitCode::Backend,
        }
    }
}

/// The exit code when the first typed error in the chain is a `JitError` (the policy
/// engine, configuration, usage). `commands::exit_code` also knows the store's and the
/// grantors' errors, which live in layers above this one.
pub fn exit_code_of(err: &anyhow::Error) -> ExitCode {
    err.chain()
        .find_map(|e| e.downcast_ref::<JitError>())
        .map(JitError::exit_code)
        .unwrap_or(ExitCode::Failure)
}

/// Shorthand for returning a validation error about one field.
pub fn invalid<T>(field: &str, message: impl fmt::Display) -> anyhow::Result<T> {
    Err(JitError::invalid(field, message).into())
}

/// An error and its sources, as one line (`what: why: root cause`).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        // Some errors repeat their source in their own message.
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}
