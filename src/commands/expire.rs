//! The scheduled sweep. Its cost follows what is due: it reads the expiry and pending
//! indexes by score, never the whole request set.

use anyhow::Result;
use serde::Serialize;

use super::{removal, Ctx};
use crate::cli::ExpireArgs;
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
    let mut rep = Sweep {
        now: as_of.to_string(),
        dry_run: args.dry_run,
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

    for id in snapshot(|off| ctx.store.due(as_of, off, BATCH))? {
        // One bad record (unreadable, unknown to this version, AWS refusing) is reported
        // and retried next run; it never stops the others from being removed.
        if let Err(e) = expire_one(ctx, &id, as_of, args.dry_run, &mut rep) {
            rep.failed.push(FailedGrant {
                request_id: id,
                error: format!("{e:#}"),
            });
        }
    }

    rep.reminded = super::reminders::send(ctx, as_of, args.dry_run);
    let report = Report::of(&rep, text(&rep))?;
    if !rep.failed.is_empty() {
        return Err(output::Failure::with_report(
            JitError::Backend(format!(
                "{} removal(s) failed and stay queued; the next `aws-jit expire` retries them",
                rep.failed.len()
            )),
            report,
        ));
    }
    Ok(report)
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

fn expire_one(ctx: &Ctx, id: &str, as_of: Timestamp, dry_run: bool, rep: &mut Sweep) -> Result<()> {
    let cur = ctx.load(id)?;
    if dry_run {
        match cur.removal.as_ref().map(|r| r.reason) {
            Some(RemovalReason::Revoked) => rep.revoked.push(id.to_string()),
            _ => rep.expired.push(id.to_string()),
        }
        return Ok(());
    }
    // A live lease (attach or another expire at work) means: not ours this run.
    let claim = request::Claim {
        by: request::actors::EXPIRE,
        owner: &ctx.owner,
        lease: ctx.config.lease,
        now: Timestamp::now(),
    };
    let Ok(t) = request::begin_expiry(&cur, &claim, as_of) else {
        rep.skipped.push(id.to_string());
        return Ok(());
    };
    let claimed = match ctx.commit(t) {
        Ok(c) => c,
        Err(_) => {
            rep.skipped.push(id.to_string());
            return Ok(());
        }
    };
    match removal::finish(ctx, &claimed, request::actors::EXPIRE)? {
        removal::Removed::Done(done) if done.state == State::Revoked => {
            rep.revoked.push(id.to_string())
        }
        removal::Removed::Done(_) => rep.expired.push(id.to_string()),
        removal::Removed::Failed { error, .. } => rep.failed.push(FailedGrant {
            request_id: id.to_string(),
            error,
        }),
    }
    Ok(())
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
    for f in &rep.failed {
        out.push_str(&format!("FAILED {}: {}\n", f.request_id, f.error));
    }
    out.push_str(&super::reminders::text(&rep.reminded, rep.dry_run));
    if out.is_empty() {
        out = format!("nothing due at {}\n", rep.now);
    }
    out
}
