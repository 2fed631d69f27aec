//! Parse, build the context, dispatch, report, exit. Nothing else.

use std::process::ExitCode;

use clap::Parser;

use aws_jit::cli::{Cli, Command, Output};
use aws_jit::commands::{self, Ctx};
use aws_jit::config::Config;
use aws_jit::error::exit_code_of;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let json = cli.output == Output::Json;
    match run(cli, json) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = exit_code_of(&err);
            eprintln!("error: {err:#}");
            if json && !commands::printed() {
                let body = serde_json::json!({"error": {"exit_code": code as u8, "message": format!("{err:#}")}});
                commands::print_out(&body.to_string());
            }
            ExitCode::from(code as u8)
        }
    }
}

fn run(cli: Cli, json: bool) -> anyhow::Result<()> {
    match &cli.command {
        Command::CliSpec => {
            println!("{}", serde_json::to_string_pretty(&aws_jit::cli::spec())?);
            return Ok(());
        }
        Command::Policy(cmd) => return commands::policy::run(cmd, json),
        _ => {}
    }
    let ctx = Ctx::new(Config::from_env()?, json)?;
    let result = match &cli.command {
        Command::Request(a) => commands::request::run(&ctx, a),
        Command::Approve(a) => commands::approve::run(&ctx, a),
        Command::Reject(a) => commands::reject::run(&ctx, a),
        Command::Attach(a) => commands::attach::run(&ctx, a),
        Command::Expire(a) => commands::expire::run(&ctx, a),
        Command::Status(a) => commands::status::run(&ctx, a),
        Command::Revoke(a) => commands::revoke::run(&ctx, a),
        Command::Cancel(a) => commands::cancel::run(&ctx, a),
        Command::Policy(_) | Command::CliSpec => Ok(()),
    };
    // Whatever happened, hand queued notifications to the webhook; a delivery failure
    // never changes the outcome, the events wait for the next run.
    if let Err(e) = aws_jit::notify::deliver(ctx.store.as_ref(), &ctx.config, &ctx.owner) {
        eprintln!("warning: could not deliver notifications: {e:#}");
    }
    result
}

/// Bad flags: clap's message on stderr (exit 2), plus the JSON error document on stdout
/// when the caller asked for `--output json`, as every other error gets.
fn usage_error(e: clap::Error) -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let wants_json = args
        .windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json");
    if e.use_stderr() && wants_json {
        let message = e.render().to_string();
        let body = serde_json::json!({"error": {"exit_code": 2, "message": message.trim()}});
        commands::print_out(&body.to_string());
    }
    let _ = e.print();
    ExitCode::from(if e.use_stderr() { 2 } else { 0 })
}
