//! The scheduled sweep. Its cost follows what is due: it reads the expiry and pending
//! indexes by score, never the whole request set.

use anyhow::Result;
use serde::Serialize;

use super::{removal, Ctx};
use crate::cli::ExpireArgs;
use crate::error::JitError;
use crate::request::{self, RemovalReason, State};
use crate::time::Timestamp;

const BATCH: usize = 200;

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub now: String,
    pub dry_run: bool,
    pub expired: Vec<String>,
    pub revoked: Vec<String>,
    pub timed_out: Vec<String>,
    pub failed: Vec<Failure>,
    /// Due, but another process holds it right now.
    pub skipped: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub request_id: String,
    pub error: String,
}

pub fn run(ctx: &Ctx, args: &ExpireArgs) -> Result<()> {
    let now = match &args.at {
        Some(at) => Timestamp::parse(at).map_err(|m| JitError::invalid("--at", m))?,
        None => Timestamp::now(),
    };
    let by = "aws-jit expire";
    let mut rep = Report {
        now: now.to_string(),
        dry_run: args.dry_run,
        ..Report::default()
    };

    // Stale pending requests.
    let cutoff = now.minus(ctx.config.pending_timeout);
    for id in ctx
        .store
        .stale_pending(cutoff, usize::MAX >> 1)
        .map_err(JitError::from)?
    {
        let Some(cur) = ctx.store.get(&id).map_err(JitError::from)? else {
            continue;
        };
        if args.dry_run {
            rep.timed_out.push(id);
            continue;
        }
        // Err: decided by someone else meanwhile, nothing to do.
        if let Ok(Ok(_)) =
            request::time_out(&cur, ctx.config.pending_timeout, now).map(|t| ctx.commit(t))
        {
            rep.timed_out.push(id);
        }
    }

    // Due grants, in batches; each claimed with a lease so overlapping runs act once.
    let mut seen = std::collections::HashSet::new();
    loop {
        let ids = ctx.store.due(now, BATCH).map_err(JitError::from)?;
        let fresh: Vec<String> = ids
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for id in fresh {
            let Some(cur) = ctx.store.get(&id).map_err(JitError::from)? else {
                continue;
            };
            if args.dry_run {
                match cur.removal.as_ref().map(|r| r.reason) {
                    Some(RemovalReason::Revoked) => rep.revoked.push(id),
                    _ => rep.expired.push(id),
                }
                continue;
            }
            let claim = request::begin_removal(
                &cur,
                RemovalReason::Expired,
                by,
                &ctx.owner,
                ctx.config.lease,
                now,
            );
            let claimed = match claim {
                Ok(t) => match ctx.commit(t) {
                    Ok(c) => c,
                    Err(_) => {
                        rep.skipped.push(id);
                        continue;
                    }
                },
                Err(_) => {
                    rep.skipped.push(id);
                    continue;
                }
            };
            match removal::finish(ctx, &claimed, by)? {
                Ok(done) if done.state == State::Revoked => rep.revoked.push(id),
                Ok(_) => rep.expired.push(id),
                Err((_, error)) => rep.failed.push(Failure {
                    request_id: id,
                    error,
                }),
            }
        }
    }

    ctx.emit(&serde_json::to_value(&rep)?, || text(&rep));
    if !rep.failed.is_empty() {
        return Err(JitError::Backend(format!(
            "{} removal(s) failed and stay queued; the next `aws-jit expire` retries them",
            rep.failed.len()
        ))
        .into());
    }
    Ok(())
}

fn text(rep: &Report) -> String {
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
    if out.is_empty() {
        out = format!("nothing due at {}\n", rep.now);
    }
    out
}
