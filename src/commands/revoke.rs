use super::holder::{self, Held};
use super::{removal, rule, Ctx};
use crate::cli::RevokeArgs;
use crate::error::JitError;
use crate::output::{Failure, Outcome, Report};
use crate::request;
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &RevokeArgs) -> Outcome {
    let reason =
        crate::input::required_text("--reason", &args.reason, "say why the grant is revoked")?;
    let by = ctx.config.caller(args.by.as_deref(), "--by")?;
    let cur = match ctx.load(&args.id) {
        Ok(cur) => cur,
        Err(e) => match e.downcast::<super::Tampered>() {
            Ok(t) => return revoke_unverified(ctx, &by, t),
            Err(e) => return Err(e.into()),
        },
    };
    let claim = request::Claim {
        by: &by,
        owner: &ctx.owner,
        lease: ctx.config.lease,
        now: Timestamp::now(),
    };
    let changed = || {
        JitError::WrongState(format!(
            "{} was changed by another process at the same time; re-run to see its new state",
            cur.id
        ))
    };
    let claimed = match request::revoke(&cur, &reason, &ctx.config.approvers, &claim)
        .map_err(rule)?
    {
        request::Revocation::Done(t) => {
            let r = ctx.commit(t)?;
            let text = format!("{} revoked before it was attached", r.id);
            return Ok(Report::of(&r, text)?);
        }
        request::Revocation::Recorded(t) => {
            let r = ctx.commit(t)?;
            let holder = cur.lease.as_ref().map(|l| l.owner.as_str()).unwrap_or("?");
            let text = format!(
                    "{} is being attached by {holder}: the revocation is recorded, and that process \
                     removes what it made when it finishes (or `aws-jit expire` does, within JIT_LEASE \
                     if it died)",
                    r.id
                );
            return Ok(Report::of(&r, text)?);
        }
        request::Revocation::Claimed(t) => holder::claim(ctx, t)?.ok_or_else(changed)?,
    };
    let held = Held::new(ctx, claimed, &by);
    match removal::finish(ctx, &held)? {
        removal::Removed::Done(r) => {
            let text = format!("{} revoked and removed from AWS", r.id);
            Ok(Report::of(&r, text)?)
        }
        removal::Removed::Failed { record: r, error: msg } => Err(Failure::with_report(
            JitError::Backend(format!(
                "{} is revoked but removal from AWS failed ({msg}); every `aws-jit expire` run retries it",
                r.id
            )),
            Report::of(&r, "")?,
        )),
        removal::Removed::Deferred(r) => Err(Failure::with_report(
            JitError::Backend(format!(
                "{} is revoked but AWS is throttling; every `aws-jit expire` run retries the removal",
                r.id
            )),
            Report::of(&r, "")?,
        )),
        removal::Removed::Lost => Err(changed().into()),
    }
}

/// In an incident, access must be cut even when the record is not to be trusted: an
/// approver listed in this process's APPROVAL_LIST (the record's own list is part of what
/// failed) removes what AWS holds for the request, found by aws-jit's tags. The record
/// stays as it is, for investigation.
fn revoke_unverified(ctx: &Ctx, by: &str, t: super::Tampered) -> Outcome {
    if !ctx
        .config
        .approvers
        .iter()
        .any(|a| request::same_person(a, by))
    {
        return Err(JitError::NotAuthorised(format!(
            "{t}; only an approver in this process's APPROVAL_LIST may remove its access"
        ))
        .into());
    }
    let (removed, failed) = super::remove_owned_by(ctx, std::slice::from_ref(&t.id))?;
    let doc = serde_json::json!({
        "request_id": t.id,
        "integrity": "unverified",
        "integrity_problem": t.why,
        "removed": removed,
        "failed": failed.iter().map(|(arn, error)| serde_json::json!({"arn": arn, "error": error})).collect::<Vec<_>>(),
    });
    let text = format!(
        "{} failed verification ({}); removed what AWS holds for it: {}",
        t.id,
        t.why,
        if removed.is_empty() {
            "nothing found".to_string()
        } else {
            removed.join(", ")
        }
    );
    let report = Report::new(doc, text);
    if !failed.is_empty() {
        return Err(Failure::with_report(
            JitError::Backend(format!(
                "{} of what AWS holds for {} could not be removed; run it again",
                failed.len(),
                t.id
            )),
            report,
        ));
    }
    Ok(report)
}
