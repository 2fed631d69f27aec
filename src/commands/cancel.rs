use anyhow::Result;

use super::{rule, Ctx};
use crate::cli::CancelArgs;
use crate::request;
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &CancelArgs) -> Result<()> {
    let cur = ctx.load(&args.id)?;
    let by = ctx.config.caller(args.by.as_deref(), "--by")?;
    let r = ctx.commit(request::cancel(&cur, &by, Timestamp::now()).map_err(rule)?)?;
    ctx.emit(&serde_json::to_value(&r)?, || format!("{} cancelled", r.id));
    Ok(())
}
