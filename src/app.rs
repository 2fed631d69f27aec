//! One run of the binary: parse, build the context, dispatch, print once, pick the exit
//! code. `main.rs` only calls [`main`]; everything a run prints goes out in [`finish`].

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use serde_json::{json, Value};

use crate::cli::{self, Cli, Command};
use crate::commands::{self, Ctx};
use crate::config::Config;
use crate::error::JitError;
use crate::output::{self, Failure, Outcome, Report};

/// The whole program, from the raw arguments to the exit code.
pub fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let json = cli::wants_json(&args);
    finish(run(args), json)
}

/// Parse and dispatch; nothing here prints.
fn run(args: Vec<OsString>) -> Outcome {
    if let Some(e) = cli::non_utf8(&args) {
        return Err(e.into());
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        // --help and --version are answers, not errors.
        Err(e) if !e.use_stderr() => return Ok(Report::plain(e.render().to_string())),
        Err(e) => {
            // clap quotes a bad value as given: escape it, so a line break inside a value
            // cannot forge a line of the message.
            let mut message = e.render().to_string();
            for arg in args.iter().filter_map(|a| a.to_str()) {
                let shown = crate::text::safe(arg);
                if shown != arg {
                    message = message.replace(arg, &shown);
                }
            }
            return Err(JitError::usage(message).into());
        }
    };
    match &cli.command {
        Command::CliSpec => {
            let spec = cli::spec();
            return Ok(Report::new(spec.clone(), output::json_text(&spec)));
        }
        Command::Policy(cmd) => return commands::policy::run(cmd),
        // Linting a rules file needs the settings, never the store.
        Command::Rules(cli::RulesCommand::Check(a)) => {
            return commands::rules::check(&Config::from_env()?, a)
        }
        _ => {}
    }
    let ctx = Ctx::new(Config::from_env()?)?;
    let outcome = commands::dispatch(&ctx, &cli.command);
    // Whatever happened, hand queued notifications to the webhook; a delivery failure
    // never changes the outcome, the events wait for the next run.
    if let Err(e) = crate::notify::deliver(ctx.store.as_ref(), &ctx.config, &ctx.owner) {
        output::warn(format!("could not deliver notifications: {e:#}"));
    }
    outcome
}

/// The one place that prints a result and picks the exit code. With `--output json`,
/// stdout carries exactly one document: the report, the report with an `error` member
/// when the command failed after producing one, or `{"error": ...}`.
fn finish(outcome: Outcome, json: bool) -> ExitCode {
    let (report, failure) = match outcome {
        Ok(report) => (Some(report), None),
        Err(Failure { error, report }) => (report, Some(error)),
    };
    let code = failure.as_ref().map(commands::exit_code);
    let error_doc = failure
        .as_ref()
        .zip(code)
        .map(|(e, c)| json!({"exit_code": c as u8, "message": format!("{e:#}")}));
    match report {
        // Help, version: the same text in both modes.
        // Text for people: renderers escape each untrusted field (so a line break inside a
        // value cannot forge a line); escaping the whole text again catches anything a
        // renderer missed, keeping only its own line breaks.
        Some(r) if !json || r.json.is_null() => output::stdout(&crate::text::safe_lines(&r.text)),
        Some(r) => {
            let doc = match (r.json, error_doc) {
                (Value::Object(mut m), Some(err)) => {
                    m.entry("error").or_insert(err);
                    Value::Object(m)
                }
                (doc, _) => doc,
            };
            output::stdout(&output::json_text(&doc));
        }
        None => {
            if let Some(err) = error_doc.filter(|_| json) {
                output::stdout(&output::json_text(&json!({ "error": err })));
            }
        }
    }
    if let Some(e) = &failure {
        output::stderr(&format!(
            "error: {}",
            crate::text::safe_lines(&format!("{e:#}"))
        ));
    }
    ExitCode::from(code.map(|c| c as u8).unwrap_or(0))
}
