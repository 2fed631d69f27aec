//! `attach`: claim the approved grant (its expiry recorded first), make it real in AWS
//! with a heartbeat on the claim, and record the outcome. Whatever fails, what exists in
//! AWS stays covered by an expiry the store tracks, or is removed again:
//! - a failure after a call that may have taken effect keeps the grant `attaching`;
//! - a lost commit reply is resolved by re-reading the record;
//! - a revocation recorded meanwhile is carried out before the command ends;
//! - a claim lost to another process: what this run made is removed again, unless a
//!   newer claimant holds the grant (it adopted the same objects and tracks them).

use super::holder::{self, Commit, Held};
use super::removal::{self, LiveHolders};
use super::{rule, Ctx};
use crate::aws::{AttachEnv, AttachFailure, Grantor};
use crate::cli::AttachArgs;
use crate::error::JitError;
use crate::output::{Failure, Outcome, Report};
use crate::request::{self, Grant, Request, State};
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &AttachArgs) -> Outcome {
    let cur = ctx.load(&args.id)?;
    let by = ctx
        .config
        .caller
        .clone()
        .unwrap_or_else(|| request::actors::ATTACH.into());
    if cur.state == State::Active {
        // Already made real and confirmed by AWS: report, touch nothing. Re-asserting
        // here would bypass the lease and write whatever the store now holds.
        let text = format!(
            "{} is already active until {}: {}",
            cur.id,
            cur.expires_at.map(|t| t.to_string()).unwrap_or_default(),
            granted(&cur)
        );
        return Ok(Report::of(&cur, text)?);
    }
    super::refuse_if_stale(ctx, &cur)?;
    super::refuse_services_not_allowed(ctx, &cur)?;
    super::refuse_if_contents_changed(ctx, &cur)?;
    if let Err(e) = request::check_ttl(cur.ttl(), cur.max_ttl_now(ctx.config.max_duration)) {
        return Err(
            JitError::NotAuthorised(format!("{}: {e}; it cannot be attached", cur.id)).into(),
        );
    }
    // AWS settings are checked before anything is claimed.
    let aws = ctx.aws()?;
    // Intent first: the expiry lands in the store before AWS is touched.
    let claim = request::Claim {
        by: &by,
        owner: &ctx.owner,
        lease: ctx.config.lease,
        now: Timestamp::now(),
    };
    let t = request::begin_attach(&cur, &claim).map_err(rule)?;
    let Some(claimed) = holder::claim(ctx, t)? else {
        return Err(JitError::WrongState(format!(
            "{} was changed by another process at the same time; `aws-jit status {}` shows its state",
            cur.id, cur.id
        ))
        .into());
    };
    let held = Held::new(ctx, claimed.clone(), &by);
    let result = match aws.grantor(&claimed.target) {
        Err(e) => Err(AttachFailure::before(e)),
        Ok(grantor) => {
            let holders = LiveHolders::new(ctx, &claimed);
            let env = AttachEnv {
                holders: &holders,
                progress: &held,
            };
            aws.block_on(held.working(grantor.attach(&claimed, &env)))
        }
    };
    match result {
        Ok(grant) => succeeded(ctx, &held, &claimed, grant),
        Err(f) => failed(ctx, &held, &claimed, f),
    }
}

fn succeeded(ctx: &Ctx, held: &Held<'_>, claimed: &Request, grant: Grant) -> Outcome {
    let by = held.by().to_string();
    let done = held.commit(6, |cur, c| {
        if cur.revoke_pending() {
            request::honour_revoke(cur, c, Some(grant.clone()))
        } else {
            request::attached(cur, &by, grant.clone(), c.now)
        }
    });
    match done {
        Commit::Done(r) if r.state == State::Removing => revoked_meanwhile(ctx, held),
        Commit::Done(r) => {
            let text = format!(
                "{} active: {} for {} until {}",
                r.id,
                granted(&r),
                r.target.describe(),
                r.expires_at.map(|t| t.to_string()).unwrap_or_default()
            );
            Ok(Report::of(&r, text)?)
        }
        Commit::Lost(now) => Err(lost(ctx, claimed, Some(grant), now).into()),
        Commit::Refused(e) => Err(rule(e).into()),
        Commit::Unknown(e) => Err(unrecorded(claimed, e).into()),
    }
}

fn failed(ctx: &Ctx, held: &Held<'_>, claimed: &Request, f: AttachFailure) -> Outcome {
    let by = held.by().to_string();
    let AttachFailure {
        error,
        acted,
        partial,
    } = f;
    let msg = removal::chain(&error);
    // Something may exist in AWS from this attempt, or from an earlier one that recorded
    // what it made: the grant stays `attaching` (indexed) rather than going back.
    let acted = acted || claimed.grant.is_some();
    let recorded = held.commit(6, |cur, c| {
        if cur.revoke_pending() {
            request::honour_revoke(cur, c, partial.clone())
        } else if acted {
            request::attach_failed_after(cur, &by, &msg, partial.clone(), c.now)
        } else {
            request::attach_failed(cur, &by, &msg, c.now)
        }
    });
    let hint = if acted {
        "it stays attaching (in the expiry index, so `aws-jit expire` removes whatever exists when it is due)"
    } else {
        "it stays approved"
    };
    match recorded {
        Commit::Done(r) if r.state == State::Removing => revoked_meanwhile(ctx, held),
        Commit::Done(_) => Err(anyhow::Error::new(error)
            .context(format!(
                "attaching {} failed; {hint} and `aws-jit attach {}` retries",
                claimed.id, claimed.id
            ))
            .into()),
        Commit::Lost(now) if acted => Err(lost(ctx, claimed, partial, now).into()),
        Commit::Lost(_) => Err(JitError::WrongState(format!(
            "attaching {} failed ({msg}) and another process took it over meanwhile",
            claimed.id
        ))
        .into()),
        Commit::Refused(e) => Err(rule(e).into()),
        Commit::Unknown(e) => Err(unrecorded(claimed, e).into()),
    }
}

/// A revocation was recorded while this process attached: it holds the grant in
/// `removing` now and removes what it made.
fn revoked_meanwhile(ctx: &Ctx, held: &Held<'_>) -> Outcome {
    let id = held.latest().id;
    match removal::finish(ctx, held)? {
        removal::Removed::Done(r) => {
            let text = format!("{id} was revoked while it was being attached; what was made is removed again");
            Ok(Report::of(&r, text)?)
        }
        removal::Removed::Failed { record, error } => Err(Failure::with_report(
            JitError::Backend(format!(
                "{id} was revoked while it was being attached, and removing what was made failed ({error}); \
                 every `aws-jit expire` run retries it"
            )),
            Report::of(&record, "")?,
        )),
        removal::Removed::Deferred(record) => Err(Failure::with_report(
            JitError::Backend(format!(
                "{id} was revoked while it was being attached; AWS is throttling and `aws-jit expire` finishes the removal"
            )),
            Report::of(&record, "")?,
        )),
        removal::Removed::Lost => Err(JitError::WrongState(format!(
            "{id} was revoked while it was being attached, and another process took the removal over"
        ))
        .into()),
    }
}

/// Our claim is gone. `now` is the record as re-read (`None`: the store lost it).
fn lost(ctx: &Ctx, claimed: &Request, grant: Option<Grant>, now: Option<Request>) -> anyhow::Error {
    let id = &claimed.id;
    if let Some(r) = now.as_ref().filter(|r| removal::covered(r)) {
        // A newer claimant holds the grant (or will): it adopted what this run made
        // (same names), and the expiry index covers it. Removing it would take its access.
        return JitError::WrongState(format!(
            "{id} was taken over by another process while attaching (it is {} now); what this run \
             made belongs to that grant and stays covered by its expiry",
            r.state
        ))
        .into();
    }
    // Removed, expired, revoked, or gone from the store: nothing will ever remove what
    // this run made unless it does so now.
    let mut orphan = claimed.clone();
    if grant.is_some() {
        orphan.grant = grant;
    }
    let state = now
        .as_ref()
        .map(|r| r.state.to_string())
        .unwrap_or_else(|| "no longer in the store".into());
    match removal::remove_from_aws(ctx, &orphan) {
        Ok(_) => JitError::WrongState(format!(
            "{id} was taken over by another process while attaching (it is {state} now); \
             what this run created was removed again. `aws-jit status {id}` shows its state"
        ))
        .into(),
        Err(undo) => JitError::Backend(format!(
            "{id} was taken over by another process while attaching (it is {state} now), and removing \
             what this run created failed ({undo:#}); `aws-jit reconcile` removes it: {}",
            granted(&orphan)
        ))
        .into(),
    }
}

/// The store did not answer when the outcome was to be recorded: it still holds the claim
/// (attaching, with its expiry), so nothing is removed; a later attach or expire takes over.
fn unrecorded(claimed: &Request, e: anyhow::Error) -> anyhow::Error {
    JitError::Backend(format!(
        "{} may be attached in AWS but the store could not record it ({e:#}); the store still \
         has it attaching with its expiry, so `aws-jit attach {}` converges and `aws-jit expire` \
         removes it when due",
        claimed.id, claimed.id
    ))
    .into()
}

/// What exists in AWS for an active grant, in a few words.
fn granted(r: &Request) -> String {
    let Some(g) = r.grant.as_ref() else {
        return r.policy_name.clone();
    };
    match (&g.policy_arn, g.sso()) {
        (Some(arn), _) => arn.clone(),
        (None, Some(d)) => format!(
            "permission set {} in account {} (assignment {})",
            d.permission_set_name,
            d.account_id,
            d.assignment
                .as_ref()
                .map(|a| a.status.as_str())
                .unwrap_or_default()
        ),
        (None, None) => r.policy_name.clone(),
    }
}
