use anyhow::Result;

use super::{rule, Ctx};
use crate::cli::AttachArgs;
use crate::error::JitError;
use crate::request::{self, State};
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &AttachArgs) -> Result<()> {
    let cur = ctx.load(&args.id)?;
    let by = ctx
        .config
        .caller
        .clone()
        .unwrap_or_else(|| "aws-jit attach".into());
    if cur.state == State::Active {
        // Converge rather than fail: re-assert the grant (idempotent in AWS).
        let grant = ctx.aws()?.attach(&cur).map_err(JitError::from)?;
        ctx.emit(&serde_json::to_value(&cur)?, || {
            format!(
                "{} is already active until {}; {}",
                cur.id,
                cur.expires_at.map(|t| t.to_string()).unwrap_or_default(),
                grant.policy_arn.unwrap_or_default()
            )
        });
        return Ok(());
    }
    // Intent first: the expiry lands in the store before AWS is touched.
    let claimed = ctx.commit(
        request::begin_attach(&cur, &by, &ctx.owner, ctx.config.lease, Timestamp::now())
            .map_err(rule)?,
    )?;
    match ctx
        .aws()
        .and_then(|aws| aws.attach(&claimed).map_err(|e| JitError::from(e).into()))
    {
        Ok(grant) => {
            let r = ctx
                .commit(request::attached(&claimed, &by, grant, Timestamp::now()).map_err(rule)?)?;
            ctx.emit(&serde_json::to_value(&r)?, || {
                format!(
                    "{} active: {} for {} until {}",
                    r.id,
                    granted(&r),
                    r.target.describe(),
                    r.expires_at.map(|t| t.to_string()).unwrap_or_default()
                )
            });
            Ok(())
        }
        Err(e) => {
            let msg = format!("{e:#}");
            ctx.commit(
                request::attach_failed(&claimed, &by, &msg, Timestamp::now()).map_err(rule)?,
            )?;
            Err(e.context(format!(
                "attaching {} failed; it stays approved and `aws-jit attach {}` retries",
                claimed.id, claimed.id
            )))
        }
    }
}

/// What exists in AWS for an active grant, in a few words.
fn granted(r: &crate::request::Request) -> String {
    let Some(g) = r.grant.as_ref() else {
        return r.policy_name.clone();
    };
    match (&g.policy_arn, crate::aws::sso::SsoDetails::from_grant(g)) {
        (Some(arn), _) => arn.clone(),
        (None, Some(d)) => format!(
            "permission set {} (assignment {})",
            d.permission_set_name,
            d.assignment.map(|a| a.status).unwrap_or_default()
        ),
        (None, None) => r.policy_name.clone(),
    }
}
