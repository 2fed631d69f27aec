use super::{rule, Ctx};
use crate::cli::ApproveArgs;
use crate::error::JitError;
use crate::output::{Outcome, Report};
use crate::request::{self, ApproveInput, Request, State};
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &ApproveArgs) -> Outcome {
    let cur = ctx.load(&args.id)?;
    let approver = ctx.config.caller(args.approver.as_deref(), "--approver")?;
    let comment = crate::input::text_field("--comment", args.comment.as_deref(), None)?;
    if cur.live_extension(Timestamp::now()).is_some() {
        return extension(ctx, &cur, &approver, comment);
    }
    let acknowledge = acknowledged(&cur, args.acknowledge_findings.as_deref())?;
    super::refuse_if_stale(ctx, &cur)?;
    super::refuse_services_not_allowed(ctx, &cur)?;
    let t = request::approve(
        &cur,
        ApproveInput {
            approver: &approver,
            comment,
            acknowledge: &acknowledge,
            approvers: &ctx.config.approvers,
            quorum: ctx.config.quorum,
        },
        Timestamp::now(),
    )
    .map_err(rule)?;
    let r = ctx.commit(t)?;
    let text = if r.state == State::Approved {
        format!(
            "{} approved by {approver}; run `aws-jit attach {}` to grant it",
            r.id, r.id
        )
    } else {
        format!(
            "{} approved by {approver}; {} of {} approvals so far",
            r.id,
            r.approvals.len(),
            r.quorum_needed(ctx.config.quorum)
        )
    };
    Ok(Report::of(&r, text)?)
}

/// Approving the extension an active grant waits for (access rules): the approval that
/// completes the quorum moves the expiry.
fn extension(ctx: &Ctx, cur: &Request, approver: &str, comment: Option<String>) -> Outcome {
    super::refuse_services_not_allowed(ctx, cur)?;
    super::refuse_if_contents_changed(ctx, cur)?;
    let t = request::approve_extension(
        cur,
        ApproveInput {
            approver,
            comment,
            acknowledge: &[],
            approvers: &ctx.config.approvers,
            quorum: ctx.config.quorum,
        },
        ctx.config.max_duration,
        Timestamp::now(),
    )
    .map_err(rule)?;
    let r = ctx.commit(t)?;
    let text = if r.extended.len() > cur.extended.len() {
        super::extend::moved(ctx, &r)
    } else {
        let got = r.extension.as_ref().map(|e| e.approvals.len()).unwrap_or(0);
        format!(
            "extension of {} approved by {approver}; {got} of {} approvals so far",
            r.id,
            r.quorum_needed(ctx.config.quorum)
        )
    };
    Ok(Report::of(&r, text)?)
}

/// The codes named with `--acknowledge-findings`. The flag without codes is refused with
/// the codes to name: accepting findings is always a statement about specific ones.
fn acknowledged(cur: &Request, named: Option<&[String]>) -> Result<Vec<String>, JitError> {
    let Some(named) = named else {
        return Ok(Vec::new());
    };
    let named: Vec<String> = named
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if named.is_empty() {
        let codes = cur.security_codes();
        return Err(JitError::invalid(
            "--acknowledge-findings",
            if codes.is_empty() {
                format!(
                    "{} has no security findings to acknowledge; leave the flag out",
                    cur.id
                )
            } else {
                format!(
                    "name the findings you accept, after reading them in `aws-jit status {}`: {}",
                    cur.id,
                    codes.join(",")
                )
            },
        ));
    }
    Ok(named)
}
