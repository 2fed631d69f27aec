//! Reminders, sent by `expire`: a decision awaited longer than JIT_REMIND_AFTER (then every
//! interval), a grant ending within JIT_WARN_BEFORE, a break-glass grant still unreviewed
//! (every JIT_REMIND_AFTER). Each is found through an index by score, and recorded on the
//! request in the commit that queues its event, so it goes out once per interval however
//! many runs overlap.

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use crate::request::{self, ReminderKind, ReminderTimes};
use crate::store::seal::Integrity;
use crate::store::{Listed, StoreError, Unreadable};
use crate::time::{Timestamp, LAST};

const BATCH: usize = 500;

#[derive(Debug, Clone, Serialize)]
pub struct Reminded {
    pub request_id: String,
    pub reminder: ReminderKind,
}

/// Every id of an index range, page by page.
fn all(page: impl Fn(usize) -> Result<Vec<String>, StoreError>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    loop {
        let got = page(out.len())?;
        let n = got.len();
        out.extend(got);
        if n < BATCH {
            return Ok(out);
        }
    }
}

/// Send (or with `dry_run`, list) the reminders due as of `as_of`. A failure here never
/// fails the sweep that called it: it is a warning, and the next run tries again.
pub fn send(ctx: &Ctx, as_of: Timestamp, dry_run: bool) -> Vec<Reminded> {
    send_due(ctx, as_of, dry_run).unwrap_or_else(|e| {
        crate::output::warn(format!(
            "reminders not sent this run (the next one tries again): {e:#}"
        ));
        Vec::new()
    })
}

fn send_due(ctx: &Ctx, as_of: Timestamp, dry_run: bool) -> Result<Vec<Reminded>> {
    let times = ReminderTimes {
        every: ctx.config.remind_after,
        warn_before: ctx.config.warn_before,
    };
    let store = &ctx.store;
    let every = times.every;
    let sets: [(ReminderKind, Vec<String>); 3] = [
        (
            ReminderKind::Decision,
            all(|off| store.stale_pending(as_of.minus(every), off, BATCH))?,
        ),
        (
            ReminderKind::ExpiringSoon,
            all(|off| store.due(as_of.plus(times.warn_before), off, BATCH))?,
        ),
        (
            ReminderKind::Review,
            all(|off| store.unreviewed(as_of.minus(every), off, BATCH))?,
        ),
    ];
    let mut out = Vec::new();
    for (kind, ids) in sets {
        for id in ids {
            // Unreadable, unverified, changed meanwhile, or not due: the next run looks
            // again. A record that fails verification is never acted on (committing a
            // reminder would seal it); it is reported when someone acts on it, not here
            // every minute.
            let Some(cur) = verified(ctx, &id) else {
                continue;
            };
            if !cur.reminder_due(kind, as_of, times) {
                continue;
            }
            let sent = dry_run
                || request::remind(&cur, kind, times, as_of, Timestamp::now())
                    .ok()
                    .is_some_and(|t| ctx.commit(t).is_ok());
            if sent {
                out.push(Reminded {
                    request_id: id,
                    reminder: kind,
                });
            }
        }
    }
    Ok(out)
}

/// The record, when it reads and (with JIT_STATE_KEY) it and its history verify.
fn verified(ctx: &Ctx, id: &str) -> Option<crate::request::Request> {
    let cur = ctx.load_unverified(id).ok()?;
    match &ctx.sealer {
        None => Some(cur),
        Some(s) => {
            let history = ctx.store.audit(id).ok()?;
            (s.verify_history(&cur, &history) == Integrity::Verified).then_some(cur)
        }
    }
}

/// `status --unreviewed`: break-glass requests without their review, oldest first.
pub fn unreviewed(ctx: &Ctx, limit: usize) -> Result<Vec<Listed>> {
    let ids = ctx.store.unreviewed(LAST, 0, limit)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match ctx.store.get(&id) {
            Ok(Some(r)) => out.push(Ok(r)),
            Ok(None) => {}
            Err(error @ StoreError::Corrupt { .. }) => out.push(Err(Unreadable { id, error })),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// Lines for `expire`'s text report.
pub fn text(reminded: &[Reminded], dry_run: bool) -> String {
    let verb = if dry_run { "would remind" } else { "reminded" };
    reminded
        .iter()
        .map(|r| format!("{verb} {} ({})\n", r.request_id, r.reminder.as_str()))
        .collect()
}
