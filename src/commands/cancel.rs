use super::{rule, Ctx};
use crate::cli::CancelArgs;
use crate::output::{Outcome, Report};
use crate::request;
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &CancelArgs) -> Outcome {
    let cur = ctx.load(&args.id)?;
    let by = ctx.config.caller(args.by.as_deref(), "--by")?;
    let r = ctx.commit(request::cancel(&cur, &by, Timestamp::now()).map_err(rule)?)?;
    let text = format!("{} cancelled", r.id);
    Ok(Report::of(&r, text)?)
}
