use anyhow::Result;

use super::{removal, rule, Ctx};
use crate::cli::RevokeArgs;
use crate::error::{invalid, JitError};
use crate::request;
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &RevokeArgs) -> Result<()> {
    if args.reason.trim().is_empty() {
        return invalid("--reason", "say why the grant is revoked");
    }
    let cur = ctx.load(&args.id)?;
    let by = ctx.config.caller(args.by.as_deref(), "--by")?;
    let t = request::begin_revoke(
        &cur,
        &by,
        args.reason.trim(),
        &ctx.config.approvers,
        &ctx.owner,
        ctx.config.lease,
        Timestamp::now(),
    )
    .map_err(rule)?;
    let claimed = ctx.commit(t)?;
    if cur.state == crate::request::State::Approved && cur.expires_at.is_none() {
        // Never attached (no intent recorded): nothing can exist in AWS.
        let r = ctx.commit(request::removed(&claimed, &by, Timestamp::now()).map_err(rule)?)?;
        ctx.emit(&serde_json::to_value(&r)?, || {
            format!("{} revoked before it was attached", r.id)
        });
        return Ok(());
    }
    match removal::finish(ctx, &claimed, &by)? {
        Ok(r) => {
            ctx.emit(&serde_json::to_value(&r)?, || {
                format!("{} revoked and removed from AWS", r.id)
            });
            Ok(())
        }
        Err((r, msg)) => {
            ctx.emit(&serde_json::to_value(&r)?, String::new);
            Err(JitError::Backend(format!(
                "{} is revoked but removal from AWS failed ({msg}); every `aws-jit expire` run retries it",
                r.id
            ))
            .into())
        }
    }
}
