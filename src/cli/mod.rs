//! Flag definitions only. The names are a contract with `tool_defs/` and outside
//! scripts: add flags freely, never rename one.

pub mod policy;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::request::State;

const AFTER_HELP: &str = "\
Typical flow:
  aws-jit request --purpose 'debug ingest' --ttl 2h --iam-user alice \\
                  --service s3 --actions GetObject,ListBucket \\
                  --resources arn:aws:s3:::team-logs,arn:aws:s3:::team-logs/*
  aws-jit approve jit-xxxxxxxxxxxx --approver boss@example.com
  aws-jit attach  jit-xxxxxxxxxxxx
  aws-jit expire                       # from cron, every minute

State lives in Redis when BACKEND_URL is set, else in an embedded file store in
JIT_STATE_DIR, which must be private to you: one others can write is refused.
Exit codes: 0 ok, 2 usage/validation, 3 not found, 4 wrong state, 5 not authorised,
6 backend (Redis, AWS, webhook) unreachable or a store refused.";

#[derive(Debug, Parser)]
#[command(
    name = "aws-jit",
    version,
    about = "Temporary, approved, least-privilege AWS access that removes itself",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Output format: readable text, or JSON with a stable schema (see README).
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask for temporary access: a purpose, a target and a policy.
    Request(Box<RequestArgs>),
    /// Approve a pending request (approvers in APPROVAL_LIST, never the requester).
    Approve(ApproveArgs),
    /// Reject a pending request, with a reason.
    Reject(RejectArgs),
    /// Make an approved request real in AWS; its TTL starts now. Safe to repeat.
    Attach(AttachArgs),
    /// Remove every grant whose time is up, time out stale requests, retry failed
    /// removals and deliver queued notifications. Run it from a scheduler.
    Expire(ExpireArgs),
    /// Show one request with its timeline, or list requests.
    Status(StatusArgs),
    /// Remove an active grant early (requester or approver), with a reason.
    Revoke(RevokeArgs),
    /// Withdraw your own pending request.
    Cancel(CancelArgs),
    /// Compare AWS with the store: remove what aws-jit made that no live grant tracks
    /// (orphans), report (and for a changed document, revoke) drift of active grants.
    ///
    /// Only this installation's own objects are ever removed: those whose
    /// `aws-jit:installation` tag is exactly its name (JIT_INSTALLATION, else a digest of
    /// where its store lives — Redis host, port and database, or the embedded store's
    /// path — and JIT_KEY_PREFIX). Objects of another installation sharing the AWS account
    /// (`foreign`) and objects with aws-jit's request tag but no installation tag, made
    /// before installations were tagged (`untagged`), are reported and left alone.
    Reconcile(ReconcileArgs),
    /// Ask for more time on an active grant (requester or beneficiary), within its rule's
    /// extension budget and maximum TTL; approved as its rule says.
    Extend(ExtendArgs),
    /// Review a break-glass grant afterwards (one of its rule's approvers, never the requester).
    Review(ReviewArgs),
    /// The access rules (JIT_RULES_FILE / JIT_RULES): lint them, or explain a decision.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// The policy engine on its own: generate or validate IAM policies.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Print this CLI's commands and flags as JSON (used by tool_defs tests).
    #[command(hide = true)]
    CliSpec,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["iam_user", "iam_role", "sso_user"])))]
#[command(group(clap::ArgGroup::new("policy_source").required(true)
    .args(["policy_file", "service", "policy_description", "permission_set"])))]
pub struct RequestArgs {
    /// Why access is needed; shown to approvers and kept in the audit log.
    #[arg(long, required = true)]
    pub purpose: Option<String>,

    /// How long the grant lasts once attached (90s, 30m, 2h, 1d). Default JIT_DEFAULT_TTL
    /// (8h); never above JIT_MAX_DURATION (24h).
    #[arg(long)]
    pub ttl: Option<String>,

    /// Who asks. Default: KUBIYA_USER_EMAIL.
    #[arg(long)]
    pub requester: Option<String>,

    /// Grant to this IAM user.
    #[arg(long, help_heading = "Target (one of)")]
    pub iam_user: Option<String>,

    /// Grant to this IAM role.
    #[arg(long, help_heading = "Target (one of)")]
    pub iam_role: Option<String>,

    /// Grant to this IAM Identity Center user (user name or email); needs --account-id.
    #[arg(long, requires = "account_id", help_heading = "Target (one of)")]
    pub sso_user: Option<String>,

    /// AWS account for Identity Center targets, and for ARNs built from a description.
    #[arg(long, env = "JIT_ACCOUNT_ID", help_heading = "Target (one of)")]
    pub account_id: Option<String>,

    /// An IAM policy document in JSON ("-" reads standard input).
    #[arg(long, help_heading = "Policy (one of)")]
    pub policy_file: Option<PathBuf>,

    /// Service prefix for a structured policy (s3, ec2, dynamodb, ...); with --actions or --access.
    #[arg(long, help_heading = "Policy (one of)")]
    pub service: Option<String>,

    /// Actions of --service, comma-separated, without the prefix (GetObject,ListBucket); wildcards expand.
    #[arg(
        long,
        value_delimiter = ',',
        requires = "service",
        help_heading = "Policy (one of)"
    )]
    pub actions: Vec<String>,

    /// Access levels of --service instead of actions: read, list, write, tagging.
    #[arg(
        long,
        value_delimiter = ',',
        requires = "service",
        conflicts_with = "actions",
        help_heading = "Policy (one of)"
    )]
    pub access: Vec<String>,

    /// Resource ARNs the actions apply to, comma-separated.
    #[arg(long, value_delimiter = ',', help_heading = "Policy (one of)")]
    pub resources: Vec<String>,

    /// Plain language, e.g. "read objects in bucket team-logs".
    #[arg(long, help_heading = "Policy (one of)")]
    pub policy_description: Option<String>,

    /// An existing IAM Identity Center permission set to assign (with --sso-user).
    #[arg(long, requires = "sso_user", help_heading = "Policy (one of)")]
    pub permission_set: Option<String>,

    /// Which generator turns a description into a policy.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        help_heading = "Policy (one of)"
    )]
    pub generator: crate::policy::GeneratorChoice,

    /// Region for ARNs built from a description.
    #[arg(long, env = "AWS_REGION", help_heading = "Policy (one of)")]
    pub region: Option<String>,

    /// Name of the IAM policy to create (default: the request id).
    #[arg(long)]
    pub policy_name: Option<String>,

    /// Break-glass: approve it yourself, at once, under a rule with break_glass = true.
    /// Announced immediately and reviewed afterwards by the rule's approvers. Needs --reason.
    #[arg(long, requires = "reason", help_heading = "Break-glass")]
    pub break_glass: bool,

    /// Why break-glass is needed (the incident); kept in the audit log.
    #[arg(long, requires = "break_glass", help_heading = "Break-glass")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// Request id (jit-...).
    pub id: String,
    /// Who approves. Default: KUBIYA_USER_EMAIL. Must be in APPROVAL_LIST.
    #[arg(long)]
    pub approver: Option<String>,
    /// A note kept in the audit log.
    #[arg(long)]
    pub comment: Option<String>,
    /// Accept the request's security findings by name, after reading them in `aws-jit
    /// status ID`: every security finding must be listed (comma list of codes, e.g.
    /// passrole-escalation,resource-star). Recorded in the audit log.
    #[arg(long, value_delimiter = ',', num_args = 0..=1, value_name = "CODES")]
    pub acknowledge_findings: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    /// Request id (jit-...).
    pub id: String,
    /// Who rejects. Default: KUBIYA_USER_EMAIL. Must be in APPROVAL_LIST.
    #[arg(long)]
    pub approver: Option<String>,
    /// Why; sent to the requester.
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct ExtendArgs {
    /// Request id (jit-...) of an active grant.
    pub id: String,
    /// How much longer (30m, 1h); counted on top of the current expiry.
    #[arg(long)]
    pub ttl: String,
    /// Why more time is needed; shown to approvers and kept in the audit log.
    #[arg(long)]
    pub reason: String,
    /// Who asks: the requester or whoever received the access. Default: KUBIYA_USER_EMAIL.
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Request id (jit-...) of a break-glass request.
    pub id: String,
    /// What the review found; kept in the audit log.
    #[arg(long)]
    pub comment: String,
    /// Who reviews: one of the rule's approvers. Default: KUBIYA_USER_EMAIL.
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Parse and lint a rules file (default: JIT_RULES_FILE or JIT_RULES); exit 2 on any error.
    Check(RulesCheckArgs),
    /// Which rule would decide a request, its approvers, quorum, maximum TTL and approval,
    /// and why each earlier rule did not match. Takes the flags of `request`; stores nothing.
    #[command(mut_arg("purpose", |a| a.required(false)))]
    Explain(Box<RequestArgs>),
}

#[derive(Debug, Args)]
pub struct RulesCheckArgs {
    /// The rules file to check ("-" reads standard input).
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Request id (jit-...).
    pub id: String,
}

#[derive(Debug, Args)]
pub struct ExpireArgs {
    /// Treat this RFC 3339 instant as now (previews and tests), e.g. 2026-11-25T18:00:00Z.
    #[arg(long)]
    pub at: Option<String>,
    /// Show what would be removed or timed out; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also run `reconcile` when none ran for this long (e.g. 1h); one run per period
    /// across all overlapping `expire` runs.
    #[arg(long, value_name = "DURATION")]
    pub reconcile_every: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Show what would be removed or revoked; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Leave alone what is younger than this (an attach may be in flight), e.g. 10m.
    #[arg(long, default_value = "10m", value_name = "DURATION")]
    pub older_than: String,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One request to show with its timeline; omit to list.
    pub id: Option<String>,
    /// List only requests in this state.
    #[arg(long, value_enum)]
    pub state: Option<State>,
    /// List only requests by this person.
    #[arg(long)]
    pub requester: Option<String>,
    /// List at most this many (newest first).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// List only break-glass requests still waiting for their review.
    #[arg(long)]
    pub unreviewed: bool,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Request id (jit-...).
    pub id: String,
    /// Who revokes: the requester or an approver. Default: KUBIYA_USER_EMAIL.
    #[arg(long)]
    pub by: Option<String>,
    /// Why; kept in the audit log.
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// Request id (jit-...).
    pub id: String,
    /// Who cancels; must be the requester. Default: KUBIYA_USER_EMAIL.
    #[arg(long)]
    pub by: Option<String>,
}

/// Whether the raw arguments ask for JSON output, read before (and whether or not) clap
/// can parse them, so even a usage error is one JSON document.
pub fn wants_json(args: &[std::ffi::OsString]) -> bool {
    args.windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json")
}

/// An argument that is not valid UTF-8, as a usage error naming the flag or argument it
/// belongs to. Checked before clap, which cannot say which one it was.
pub fn non_utf8(args: &[std::ffi::OsString]) -> Option<crate::error::JitError> {
    use clap::CommandFactory;
    let bad = args.iter().skip(1).position(|a| a.to_str().is_none())? + 1;
    let mut root = Cli::command();
    root.build();
    // The subcommand the argument belongs to: the deepest one named before it.
    let mut cmd = &root;
    for a in args[1..bad].iter().filter_map(|a| a.to_str()) {
        if let Some(sub) = cmd.find_subcommand(a) {
            cmd = sub;
        }
    }
    let raw = args[bad].to_string_lossy();
    let flag_named = |long: &str| {
        cmd.get_arguments()
            .chain(root.get_arguments())
            .find(|a| a.get_long() == Some(long))
    };
    let field = if let Some(flag) = raw.strip_prefix("--") {
        format!("--{}", flag.split('=').next().unwrap_or(flag))
    } else {
        let prev = args[bad - 1].to_str().unwrap_or_default();
        match prev.strip_prefix("--").and_then(flag_named) {
            Some(a) if a.get_num_args().is_some_and(|n| n.takes_values()) => prev.to_string(),
            _ if std::ptr::eq(cmd, &root) => "COMMAND".to_string(),
            _ => cmd
                .get_positionals()
                .next()
                .map(|p| p.get_id().as_str().to_uppercase())
                .unwrap_or_else(|| "argument".into()),
        }
    };
    Some(crate::error::JitError::invalid(
        &field,
        format!(
            "`{}` is not valid UTF-8; arguments must be UTF-8 text",
            crate::text::safe(&raw)
        ),
    ))
}

/// The CLI as JSON, read from clap itself so tool definitions cannot drift from it.
pub fn spec() -> serde_json::Value {
    use clap::CommandFactory;
    fn flags(cmd: &clap::Command, global_only: bool) -> Vec<serde_json::Value> {
        cmd.get_arguments()
            .filter(|a| a.get_long().is_some() && a.is_global_set() == global_only)
            .filter(|a| !matches!(a.get_long(), Some("help") | Some("version")))
            .map(|a| {
                let takes_value = a.get_num_args().is_some_and(|n| n.takes_values());
                serde_json::json!({
                    "long": a.get_long(),
                    "takes_value": takes_value,
                    "required": a.is_required_set(),
                    "possible_values": a.get_possible_values().iter().map(|v| v.get_name().to_string()).collect::<Vec<_>>(),
                })
            })
            .collect()
    }
    fn walk(cmd: &clap::Command) -> serde_json::Value {
        let positionals: Vec<_> = cmd
            .get_positionals()
            .map(|a| serde_json::json!({"name": a.get_id().as_str().to_uppercase(), "required": a.is_required_set()}))
            .collect();
        let subs: serde_json::Map<String, serde_json::Value> = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            .map(|s| (s.get_name().to_string(), walk(s)))
            .collect();
        serde_json::json!({"flags": flags(cmd, false), "positionals": positionals, "subcommands": subs})
    }
    let mut cmd = Cli::command();
    cmd.build();
    let root = walk(&cmd);
    serde_json::json!({
        "name": "aws-jit",
        "global": flags(&cmd, true),
        "subcommands": root["subcommands"],
    })
}
