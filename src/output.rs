//! What a command produces, and the only code that writes to stdout and stderr.
//!
//! Commands return a [`Report`] (or a [`Failure`], which may carry one); `main` prints it
//! once and picks the exit code. Writes never panic: a closed pipe (`aws-jit status | head`)
//! or a closed stderr is not an error for a command that already did its work.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

/// A command's result: one JSON document for machines and a rendering for people.
#[derive(Debug, Clone)]
pub struct Report {
    pub json: Value,
    pub text: String,
}

impl Report {
    pub fn new(json: Value, text: impl Into<String>) -> Report {
        Report {
            json,
            text: text.into(),
        }
    }

    /// The serde form of `value` (a request record, an expire report, ...).
    pub fn of<T: Serialize>(value: &T, text: impl Into<String>) -> anyhow::Result<Report> {
        Ok(Report::new(serde_json::to_value(value)?, text))
    }

    /// Output that is the same in both modes (help, version, the CLI spec).
    pub fn plain(text: impl Into<String>) -> Report {
        Report {
            json: Value::Null,
            text: text.into(),
        }
    }
}

/// A command that failed. `report` is what it still has to show (the expire report
/// listing the grants that failed, the findings that blocked a policy, ...).
#[derive(Debug)]
pub struct Failure {
    pub error: anyhow::Error,
    pub report: Option<Report>,
}

impl Failure {
    pub fn with_report(error: impl Into<anyhow::Error>, report: Report) -> Failure {
        Failure {
            error: error.into(),
            report: Some(report),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure {
            error: e.into(),
            report: None,
        }
    }
}

pub type Outcome = Result<Report, Failure>;

/// One line (or block) on stdout; errors, including a closed pipe, are ignored.
pub fn stdout(text: &str) {
    write_line(&mut std::io::stdout().lock(), text);
}

/// One line (or block) on stderr; errors are ignored.
pub fn stderr(text: &str) {
    write_line(&mut std::io::stderr().lock(), text);
}

/// A warning that never changes a command's outcome.
pub fn warn(message: impl std::fmt::Display) {
    stderr(&format!("warning: {message}"));
}

fn write_line(out: &mut impl Write, text: &str) {
    if text.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", text.trim_end()).and_then(|_| out.flush());
}

/// The JSON text of a document: pretty, and never a panic.
pub fn json_text(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}
