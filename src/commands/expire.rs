//! The scheduled sweep. Its cost follows what is due: it reads the expiry and pending
//! indexes by score, never the whole request set. Due grants are removed a few at a time
//! (JIT_EXPIRE_CONCURRENCY) as futures on the one AWS runtime, each claimed by lease and
//! committed on its own; AWS throttling pauses the whole run instead of failing grants;
//! past its horizon (JIT_LEASE after it started) a run starts no new removal and says
//! how many are left for the next one.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use super::holder::{self, Held};
use super::{reconcile, removal, Ctx};
use crate::aws::{concurrent, Aws, Backoff};
use crate::cli::ExpireArgs;
use crate::config::Backend;
use crate::error::JitError;
use crate::output::{self, Outcome, Report};
use crate::request::{self, RemovalReason, State};
use crate::time::Timestamp;

/// Page size when reading an index.
const BATCH: usize = 500;

#[derive(Debug, Default, Serialize)]
pub struct Sweep {
    pub now: String,
    pub dry_run: bool,
    pub expired: Vec<String>,
    pub revoked: Vec<String>,
    pub timed_out: Vec<String>,
    pub failed: Vec<FailedGrant>,
    /// Due, but another process holds it right now.
    pub skipped: Vec<String>,
    /// Put off because AWS kept throttling past the run's horizon; retried next run.
    pub deferred: Vec<String>,
    /// Due grants this run did not start (its horizon came); the next run takes them.
    pub remaining: usize,
    /// Which store this run read: a scheduler pointed at the wrong one shows here.
    pub store: String,
    /// Grants the store's expiry index tracks (everything that may exist in AWS).
    pub tracked: u64,
    /// How often AWS throttled this run (each pause slowed every worker).
    pub throttled: u64,
    /// Due grants whose records fail verification (JIT_STATE_KEY): what AWS holds for them
    /// is removed by aws-jit's tags; the records stay for investigation.
    pub tampered: Vec<String>,
    /// ARNs removed for them.
    pub removed_unverified: Vec<String>,
    /// `--reconcile-every`: the reconcile report, when this run did one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<reconcile::Sweep>,
    /// Reminders sent (access rules: decisions awaited, grants ending soon, reviews missing).
    pub reminded: Vec<super::reminders::Reminded>,
}

#[derive(Debug, Serialize)]
pub struct FailedGrant {
    pub request_id: String,
    pub error: String,
}

pub fn run(ctx: &Ctx, args: &ExpireArgs) -> Outcome {
    // `as_of` decides what is due; leases and audit times always use the real clock, so
    // a run with a future `--at` cannot hand out leases that outlive it, nor a past one
    // leases that are already over.
    let as_of = match &args.at {
        Some(at) => Timestamp::parse(at).map_err(|m| JitError::invalid("--at", m))?,
        None => Timestamp::now(),
    };
    let reconcile_every = args
        .reconcile_every
        .as_deref()
        .map(|v| crate::time::parse_duration("--reconcile-every", v))
        .transpose()?;
    let started = Instant::now();
    let horizon = started + ctx.config.lease;
    let mut rep = Sweep {
        now: as_of.to_string(),
        dry_run: args.dry_run,
        store: describe_store(ctx),
        tracked: ctx.store.tracked()?,
        ..Sweep::default()
    };

    let cutoff = as_of.minus(ctx.config.pending_timeout);
    for id in snapshot(|off| ctx.store.stale_pending(cutoff, off, BATCH))? {
        if args.dry_run {
            rep.timed_out.push(id);
            continue;
        }
        // Decided or attached by someone else meanwhile: nothing to do.
        let timed_out = ctx
            .load(&id)
            .ok()
            .and_then(|cur| request::time_out(&cur, ctx.config.pending_timeout, as_of).ok())
            .is_some_and(|t| ctx.commit(t).is_ok());
        if timed_out {
            rep.timed_out.push(id);
        }
    }

    let due = snapshot(|off| ctx.store.due(as_of, off, BATCH))?;
    if args.dry_run {
        for id in due {
            match ctx.load(&id) {
                Ok(cur) => match cur.removal.as_ref().map(|r| r.reason) {
                    Some(RemovalReason::Revoked) => rep.revoked.push(id),
                    _ => rep.expired.push(id),
                },
                Err(e) => rep.failed.push(FailedGrant {
                    request_id: id,
                    error: format!("{e:#}"),
                }),
            }
        }
    } else if !due.is_empty() {
        match ctx.aws() {
            Ok(aws) => remove_due(ctx, aws, due, as_of, horizon, &mut rep),
            // AWS cannot even be reached: every due grant stays queued for the next run.
            Err(e) => {
                let error = format!("{e:#}");
                rep.failed
                    .extend(due.into_iter().map(|request_id| FailedGrant {
                        request_id,
                        error: error.clone(),
                    }));
            }
        }
    }

    // A tampered record does not keep its access alive: remove what AWS holds for it.
    if !rep.tampered.is_empty() && !args.dry_run {
        match super::remove_owned_by(ctx, &rep.tampered) {
            Ok((removed, failed)) => {
                for (arn, error) in failed {
                    rep.failed.push(FailedGrant {
                        request_id: arn,
                        error,
                    });
                }
                rep.removed_unverified = removed;
            }
            Err(e) => output::warn(format!(
                "could not remove what AWS holds for unverified records: {e:#}"
            )),
        }
    }

    if let Some(every) = reconcile_every.filter(|_| !args.dry_run) {
        // One reconcile per period across every run: the store's lock expires with it.
        let period = every.as_secs().max(1);
        if ctx.store.try_lock("reconcile", &ctx.owner, period)? {
            match reconcile::sweep(ctx, false, Duration::from_secs(600)) {
                Ok(r) => rep.reconcile = Some(r),
                Err(e) => {
                    // Try again at the next run rather than after a whole period.
                    let _ = ctx.store.unlock("reconcile", &ctx.owner);
                    output::warn(format!("reconcile failed: {e:#}"));
                }
            }
        }
    }

    rep.reminded = super::reminders::send(ctx, as_of, args.dry_run);
    let report = Report::of(&rep, text(&rep))?;
    let reconcile_failed = rep.reconcile.as_ref().is_some_and(|r| !r.failed.is_empty());
    if !rep.failed.is_empty() || reconcile_failed {
        return Err(output::Failure::with_report(
            JitError::Backend(format!(
                "{} removal(s) failed and stay queued; the next `aws-jit expire` retries them",
                rep.failed.len() + rep.reconcile.as_ref().map(|r| r.failed.len()).unwrap_or(0)
            )),
            report,
        ));
    }
    Ok(report)
}

/// Claim and remove the grants `due`, JIT_EXPIRE_CONCURRENCY at a time, starting none
/// after `horizon`; the outcome of each goes into `rep`. Shared with `reconcile`, which
/// hands it the grants that are overdue but missing from the expiry index.
pub(crate) fn remove_due(
    ctx: &Ctx,
    aws: &Aws,
    due: Vec<String>,
    as_of: Timestamp,
    horizon: Instant,
    rep: &mut Sweep,
) {
    let cell = RefCell::new(std::mem::take(rep));
    let backoff = Backoff::default();
    let tokio_horizon = tokio::time::Instant::from_std(horizon);
    let left = aws.block_on(concurrent::for_each(
        due,
        ctx.config.expire_concurrency,
        || Instant::now() < horizon,
        |id| expire_one(ctx, aws, &backoff, id, as_of, &cell, tokio_horizon),
    ));
    *rep = cell.into_inner();
    rep.remaining += left.len();
    rep.throttled += backoff.hits();
}

/// All ids of an index range, read page by page before acting on any, so entries that
/// stay put (failed, skipped) cannot hide the ones behind them.
fn snapshot(
    page: impl Fn(usize) -> Result<Vec<String>, crate::store::StoreError>,
) -> Result<Vec<String>> {
    let mut all = Vec::new();
    loop {
        let got = page(all.len())?;
        let n = got.len();
        all.extend(got);
        if n < BATCH {
            return Ok(all);
        }
    }
}

/// Claim one due grant, remove it, record the outcome. One bad record (unreadable,
/// unknown to this version, AWS refusing) is reported and retried next run; it never
/// stops the others.
async fn expire_one(
    ctx: &Ctx,
    aws: &Aws,
    backoff: &Backoff,
    id: String,
    as_of: Timestamp,
    rep: &RefCell<Sweep>,
    horizon: tokio::time::Instant,
) {
    let outcome: Result<()> = async {
        let cur = ctx.load(&id)?;
        // A live lease (attach or another expire at work) means: not ours this run.
        let claim = request::Claim {
            by: request::actors::EXPIRE,
            owner: &ctx.owner,
            lease: ctx.config.lease,
            now: Timestamp::now(),
        };
        let claimed = match request::begin_expiry(&cur, &claim, as_of) {
            Ok(t) => holder::claim(ctx, t)?,
            Err(_) => None,
        };
        let Some(claimed) = claimed else {
            rep.borrow_mut().skipped.push(id.clone());
            return Ok(());
        };
        let held = Held::new(ctx, claimed, request::actors::EXPIRE);
        let done = removal::finish_async(ctx, aws, &held, backoff, Some(horizon)).await?;
        let mut rep = rep.borrow_mut();
        match done {
            removal::Removed::Done(r) if r.state == State::Revoked => rep.revoked.push(id.clone()),
            removal::Removed::Done(_) => rep.expired.push(id.clone()),
            removal::Removed::Failed { error, .. } => rep.failed.push(FailedGrant {
                request_id: id.clone(),
                error,
            }),
            removal::Removed::Deferred(_) => rep.deferred.push(id.clone()),
            removal::Removed::Lost => rep.skipped.push(id.clone()),
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        let mut rep = rep.borrow_mut();
        if e.downcast_ref::<super::Tampered>().is_some() {
            rep.tampered.push(id.clone());
        }
        rep.failed.push(FailedGrant {
            request_id: id,
            error: format!("{e:#}"),
        });
    }
}

/// Which store this run reads, without its password.
pub fn describe_store(ctx: &Ctx) -> String {
    match &ctx.config.backend {
        Backend::Redis(settings) => format!(
            "Redis {} (keys {{{}}}:*)",
            crate::config::redact_url(&settings.url),
            ctx.config.key_prefix
        ),
        Backend::Local { path } => format!("embedded store {}", path.display()),
    }
}

fn text(rep: &Sweep) -> String {
    let verb = if rep.dry_run { "would " } else { "" };
    let mut out = String::new();
    for id in &rep.expired {
        out.push_str(&format!("{verb}expire {id}\n"));
    }
    for id in &rep.revoked {
        out.push_str(&format!("{verb}finish revoking {id}\n"));
    }
    for id in &rep.timed_out {
        out.push_str(&format!("{verb}time out {id} (no decision in time)\n"));
    }
    for id in &rep.skipped {
        out.push_str(&format!("skipped {id}: another run is working on it\n"));
    }
    for id in &rep.deferred {
        out.push_str(&format!(
            "put off {id}: AWS is throttling; the next run retries\n"
        ));
    }
    for f in &rep.failed {
        out.push_str(&format!("FAILED {}: {}\n", f.request_id, f.error));
    }
    for arn in &rep.removed_unverified {
        out.push_str(&format!(
            "removed {arn}: its request failed verification, so it was found by aws-jit's tags\n"
        ));
    }
    if rep.remaining > 0 {
        out.push_str(&format!(
            "{} due grant(s) left for the next run (this run reached its time)\n",
            rep.remaining
        ));
    }
    out.push_str(&super::reminders::text(&rep.reminded, rep.dry_run));
    if out.is_empty() {
        out = format!("nothing due at {}\n", rep.now);
    }
    if let Some(r) = &rep.reconcile {
        out.push_str(&reconcile::text(r));
    }
    out.push_str(&format!(
        "store: {}, tracking {} grant(s)\n",
        rep.store, rep.tracked
    ));
    out
}
