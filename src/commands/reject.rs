use anyhow::Result;

use super::{rule, Ctx};
use crate::cli::RejectArgs;
use crate::error::invalid;
use crate::request;
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &RejectArgs) -> Result<()> {
    if args.reason.trim().is_empty() {
        return invalid("--reason", "say why the request is rejected");
    }
    let cur = ctx.load(&args.id)?;
    let approver = ctx.config.caller(args.approver.as_deref(), "--approver")?;
    let t = request::reject(
        &cur,
        &approver,
        args.reason.trim(),
        &ctx.config.approvers,
        Timestamp::now(),
    )
    .map_err(rule)?;
    let r = ctx.commit(t)?;
    ctx.emit(&serde_json::to_value(&r)?, || {
        format!("{} rejected by {approver}", r.id)
    });
    Ok(())
}
