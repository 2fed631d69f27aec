//! `aws-jit review ID --comment T`: the review a break-glass grant needs afterwards, by one
//! of its rule's approvers (never the requester, never whoever received the access).

use super::{rule, Ctx};
use crate::cli::ReviewArgs;
use crate::output::{Outcome, Report};
use crate::request;
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &ReviewArgs) -> Outcome {
    let cur = ctx.load(&args.id)?;
    let by = ctx.config.caller(args.by.as_deref(), "--by")?;
    let comment = crate::input::required_text(
        "--comment",
        &args.comment,
        "say what the review found (was the break-glass justified, what was done)",
    )?;
    let t = request::review(&cur, &by, &comment, &ctx.config.approvers, Timestamp::now())
        .map_err(rule)?;
    let r = ctx.commit(t)?;
    let text = format!("{} reviewed by {by}", r.id);
    Ok(Report::of(&r, text)?)
}
