use super::{rule, Ctx};
use crate::cli::RejectArgs;
use crate::output::{Outcome, Report};
use crate::request;
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &RejectArgs) -> Outcome {
    let reason =
        crate::input::required_text("--reason", &args.reason, "say why the request is rejected")?;
    let cur = ctx.load(&args.id)?;
    let approver = ctx.config.caller(args.approver.as_deref(), "--approver")?;
    let t = request::reject(
        &cur,
        &approver,
        &reason,
        &ctx.config.approvers,
        Timestamp::now(),
    )
    .map_err(rule)?;
    let r = ctx.commit(t)?;
    let text = format!("{} rejected by {approver}", r.id);
    Ok(Report::of(&r, text)?)
}
