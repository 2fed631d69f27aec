//! One file per subcommand, each thin: load -> decide (pure, in `request`) -> act -> record.

pub mod access;
pub mod approve;
pub mod attach;
pub mod cancel;
pub mod expire;
pub mod extend;
pub mod holder;
pub mod policy;
pub mod reconcile;
pub mod reject;
pub mod reminders;
pub mod removal;
pub mod request;
pub mod review;
pub mod revoke;
pub mod rules;
pub mod status;

use std::cell::OnceCell;

use anyhow::{Context as _, Result};

use crate::aws::Aws;
use crate::cli::Command;
use crate::config::Config;
use crate::error::JitError;
use crate::output::Outcome;
use crate::request::{Request, RuleError, Transition};
use crate::store::seal::{Integrity, Sealer};
use crate::store::Store;

/// What a command needs: configuration, the store, AWS on first use, output mode.
pub struct Ctx {
    pub config: Config,
    pub store: Box<dyn Store>,
    /// Present with JIT_STATE_KEY: seals what is committed, verifies what is loaded.
    pub sealer: Option<Sealer>,
    /// Identifies this process as a lease holder.
    pub owner: String,
    /// This installation's name (JIT_INSTALLATION or a digest of the store's identity):
    /// what it creates in AWS carries it, and only what carries it is removed as an orphan.
    pub installation: String,
    aws: OnceCell<Aws>,
}

impl Ctx {
    pub fn new(config: Config) -> Result<Ctx> {
        let store = crate::store::open(&config)?;
        let installation = config.installation()?;
        Ok(Ctx {
            installation,
            sealer: config.state_key.as_deref().map(Sealer::new),
            config,
            store,
            owner: format!("{}@{}", crate::ids::new_id("run"), std::process::id()),
            aws: OnceCell::new(),
        })
    }

    pub fn aws(&self) -> Result<&Aws> {
        if let Some(a) = self.aws.get() {
            return Ok(a);
        }
        let a = Aws::connect_as(&self.installation).context("starting the AWS client")?;
        Ok(self.aws.get_or_init(|| a))
    }

    /// A record to act on: with JIT_STATE_KEY, only one whose seal and history verify. One that
    /// fails is never acted on: exit 5, and a `tamper` event goes to the webhook at once.
    pub fn load(&self, id: &str) -> Result<Request> {
        let r = self.load_unverified(id)?;
        let integrity = match &self.sealer {
            Some(s) => s.verify_history(&r, &self.store.audit(id)?),
            None => Integrity::Unauthenticated,
        };
        if let Integrity::Failed(why) = integrity {
            crate::notify::tamper(&self.config, id, &why);
            return Err(Tampered {
                id: id.to_string(),
                why,
            }
            .into());
        }
        Ok(r)
    }

    /// What a record's seal says (Unauthenticated without JIT_STATE_KEY).
    pub fn integrity(&self, r: &Request) -> Integrity {
        match &self.sealer {
            Some(s) => s.verify(r),
            None => Integrity::Unauthenticated,
        }
    }

    /// A record as stored, verified or not (`status` shows either).
    pub fn load_unverified(&self, id: &str) -> Result<Request> {
        if !crate::ids::is_request_id(id) {
            return Err(JitError::invalid(
                "ID",
                format!(
                    "`{}` is not a request id (they look like jit-7k2m9q4x1zab)",
                    crate::text::safe(id)
                ),
            )
            .into());
        }
        self.store.get(id)?.ok_or_else(|| {
            JitError::NotFound(format!(
                "request {id} not found; `aws-jit status` lists requests"
            ))
            .into()
        })
    }

    /// Commit a transition with its notifications; returns the new record.
    pub fn commit(&self, mut t: Transition) -> Result<Request> {
        if let Some(s) = &self.sealer {
            s.seal(&mut t);
        }
        let events = crate::notify::bodies(&t.events, &t.next, &self.config);
        self.store.commit(&t, &events)?;
        Ok(t.next)
    }
}

pub fn rule(e: RuleError) -> anyhow::Error {
    match e {
        RuleError::NotAuthorised(m) => JitError::NotAuthorised(m).into(),
        RuleError::WrongState(m) => JitError::WrongState(m).into(),
        RuleError::Invalid(m) => JitError::invalid("request", m).into(),
    }
}

/// A request that waited longer than its pending timeout (for a decision, or approved for
/// an attach) times out here and now, even if `expire` has not run: the timeout is recorded
/// and the command is refused (exit 4).
pub fn refuse_if_stale(ctx: &Ctx, cur: &Request) -> Result<()> {
    let timeout = cur.pending_timeout_now(ctx.config.pending_timeout);
    let Ok(t) = crate::request::time_out(cur, timeout, crate::time::Timestamp::now()) else {
        return Ok(());
    };
    let why = t.audit.reason.clone().unwrap_or_default();
    ctx.commit(t)?;
    Err(JitError::WrongState(format!(
        "{} has timed out ({why}) and can no longer be approved or attached; ask for it again",
        cur.id
    ))
    .into())
}

/// ALLOWED_SERVICES of the acting process can narrow what a request was allowed, never
/// widen it: a policy using a service it does not list is refused.
pub fn refuse_services_not_allowed(ctx: &Ctx, cur: &Request) -> Result<()> {
    let Some(allowed) = &ctx.config.allowed_services else {
        return Ok(());
    };
    let findings = match (&cur.policy, &cur.permission_set_contents) {
        (Some(policy), _) => crate::policy::validate(
            policy,
            &crate::policy::ValidateOptions {
                allowed_services: Some(allowed.clone()),
                ..Default::default()
            },
        ),
        (None, Some(contents)) => crate::policy::permission_set::judge(contents, Some(allowed)),
        (None, None) => return Ok(()),
    };
    let outside: Vec<String> = findings
        .iter()
        .filter(|f| f.code == crate::policy::codes::SERVICE_NOT_ALLOWED)
        .filter_map(|f| f.action.clone())
        .collect();
    if outside.is_empty() {
        return Ok(());
    }
    Err(JitError::NotAuthorised(format!(
        "{} uses {} outside ALLOWED_SERVICES ({}) of this process",
        cur.id,
        outside.join(", "),
        allowed.join(",")
    ))
    .into())
}

/// An existing permission set is attached only while it grants what was approved: read
/// again from AWS, its contents must hash to the approved hash.
pub fn refuse_if_contents_changed(ctx: &Ctx, cur: &Request) -> Result<()> {
    let (
        Some(recorded),
        crate::request::Target::Sso {
            user, account_id, ..
        },
    ) = (&cur.permission_set_contents, &cur.target)
    else {
        return Ok(());
    };
    // By the ARN read at request time: the permission set, not a namesake made since.
    let target = crate::request::Target::Sso {
        user: user.clone(),
        account_id: account_id.clone(),
        permission_set: Some(recorded.arn.clone()),
    };
    let fresh = ctx.aws()?.inspect(&target)?;
    let now = crate::request::contents_sha256(None, fresh.contents.as_ref());
    if now.is_some() && now == cur.approved_sha256 {
        return Ok(());
    }
    Err(JitError::NotAuthorised(format!(
        "the permission set of {} no longer grants what was approved (its policies changed in \
         Identity Center since the request); refusing to attach — ask for it again",
        cur.id
    ))
    .into())
}

/// A record that fails verification under JIT_STATE_KEY: never acted on as it says.
#[derive(Debug, thiserror::Error)]
#[error(
    "request {id} failed verification ({why}); it is not acted on. Someone wrote to the store \
     without JIT_STATE_KEY: investigate before anything else"
)]
pub struct Tampered {
    pub id: String,
    pub why: String,
}

/// An object that could not be removed: its ARN, and why.
pub type NotRemoved = (String, String);

/// Remove whatever AWS holds for requests whose records fail verification: what their
/// records say cannot be trusted, so it is found by aws-jit's own tags in AWS, as
/// `reconcile` finds orphans. Returns (ARNs removed, ARNs that could not be removed).
pub fn remove_owned_by(ctx: &Ctx, ids: &[String]) -> Result<(Vec<String>, Vec<NotRemoved>)> {
    let aws = ctx.aws()?;
    let backoff = crate::aws::Backoff::default();
    let n = ctx.config.expire_concurrency;
    let mut removed = Vec::new();
    let mut failed = Vec::new();
    for g in aws.grantors() {
        use crate::aws::Grantor;
        let owned = aws.block_on(g.list_owned(&backoff, n))?;
        // Only this installation's own objects: another installation's (or a legacy,
        // untagged one) may carry the same request id, and is not this record's to judge.
        for o in owned.iter().filter(|o| {
            o.request_id.as_ref().is_some_and(|id| ids.contains(id))
                && o.whose(&aws.installation) == crate::aws::Whose::Ours
        }) {
            match aws.block_on(g.remove_owned(o)) {
                Ok(done) if done.kept.is_empty() => removed.push(o.arn.clone()),
                // Still in AWS, with the access someone else attached: never "removed".
                Ok(done) => failed.push((o.arn.clone(), done.kept.join("; "))),
                Err(e) => failed.push((o.arn.clone(), crate::error::chain(&e))),
            }
        }
    }
    Ok((removed, failed))
}

/// The exit code for any error: the first typed error in its chain decides.
pub fn exit_code(err: &anyhow::Error) -> crate::error::ExitCode {
    err.chain()
        .find_map(|e| {
            if let Some(j) = e.downcast_ref::<JitError>() {
                Some(j.exit_code())
            } else if e.downcast_ref::<Tampered>().is_some() {
                Some(crate::error::ExitCode::NotAuthorised)
            } else if let Some(s) = e.downcast_ref::<crate::store::StoreError>() {
                Some(s.exit_code())
            } else {
                e.downcast_ref::<crate::aws::GrantError>()
                    .map(crate::aws::GrantError::exit_code)
            }
        })
        .unwrap_or(crate::error::ExitCode::Failure)
}

/// Run the subcommand that needs the store (everything but `policy` and `cli-spec`).
pub fn dispatch(ctx: &Ctx, command: &Command) -> Outcome {
    match command {
        Command::Request(a) => request::run(ctx, a),
        Command::Approve(a) => approve::run(ctx, a),
        Command::Reject(a) => reject::run(ctx, a),
        Command::Attach(a) => attach::run(ctx, a),
        Command::Expire(a) => expire::run(ctx, a),
        Command::Status(a) => status::run(ctx, a),
        Command::Revoke(a) => revoke::run(ctx, a),
        Command::Cancel(a) => cancel::run(ctx, a),
        Command::Reconcile(a) => reconcile::run(ctx, a),
        Command::Extend(a) => extend::run(ctx, a),
        Command::Review(a) => review::run(ctx, a),
        Command::Rules(crate::cli::RulesCommand::Explain(a)) => rules::explain(ctx, a),
        Command::Rules(crate::cli::RulesCommand::Check(a)) => rules::check(&ctx.config, a),
        Command::Policy(cmd) => policy::run(cmd),
        Command::CliSpec => Ok(crate::output::Report::plain("")),
    }
}
