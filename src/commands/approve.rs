use super::{rule, Ctx};
use crate::cli::ApproveArgs;
use crate::output::{Outcome, Report};
use crate::request::{self, ApproveInput, State};
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &ApproveArgs) -> Outcome {
    let cur = ctx.load(&args.id)?;
    let approver = ctx.config.caller(args.approver.as_deref(), "--approver")?;
    let t = request::approve(
        &cur,
        ApproveInput {
            approver: &approver,
            comment: crate::input::text_field("--comment", args.comment.as_deref(), None)?,
            acknowledge_findings: args.acknowledge_findings,
            approvers: &ctx.config.approvers,
            quorum: ctx.config.quorum,
        },
        Timestamp::now(),
    )
    .map_err(rule)?;
    let r = ctx.commit(t)?;
    let text = {
        if r.state == State::Approved {
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
        }
    };
    Ok(Report::of(&r, text)?)
}
