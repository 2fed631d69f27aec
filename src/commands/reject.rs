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
    if cur.live_extension(Timestamp::now()).is_some() {
        // An active grant's extension is rejected; the grant runs to its expiry.
        let t = request::reject_extension(
            &cur,
            &approver,
            &reason,
            &ctx.config.approvers,
            Timestamp::now(),
        )
        .map_err(rule)?;
        let r = ctx.commit(t)?;
        let text = format!(
            "extension of {} rejected by {approver}; the grant ends at {}",
            r.id,
            r.expires_at.map(|t| t.to_string()).unwrap_or_default()
        );
        return Ok(Report::of(&r, text)?);
    }
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
