use super::{removal, rule, Ctx};
use crate::cli::AttachArgs;
use crate::error::JitError;
use crate::output::{Outcome, Report};
use crate::request::{self, Request, State};
use crate::time::Timestamp;

pub fn run(ctx: &Ctx, args: &AttachArgs) -> Outcome {
    let cur = ctx.load(&args.id)?;
    let by = ctx
        .config
        .caller
        .clone()
        .unwrap_or_else(|| request::actors::ATTACH.into());
    if cur.state == State::Active {
        // Already made real and confirmed by AWS: report, touch nothing. Re-asserting
        // here would bypass the lease and write whatever the store now holds.
        let text = format!(
            "{} is already active until {}: {}",
            cur.id,
            cur.expires_at.map(|t| t.to_string()).unwrap_or_default(),
            granted(&cur)
        );
        return Ok(Report::of(&cur, text)?);
    }
    super::refuse_if_stale(ctx, &cur)?;
    super::refuse_services_not_allowed(ctx, &cur)?;
    super::refuse_if_contents_changed(ctx, &cur)?;
    if let Err(e) = request::check_ttl(cur.ttl(), cur.max_ttl_now(ctx.config.max_duration)) {
        return Err(
            JitError::NotAuthorised(format!("{}: {e}; it cannot be attached", cur.id)).into(),
        );
    }
    // Intent first: the expiry lands in the store before AWS is touched.
    let claim = request::Claim {
        by: &by,
        owner: &ctx.owner,
        lease: ctx.config.lease,
        now: Timestamp::now(),
    };
    let claimed = ctx.commit(request::begin_attach(&cur, &claim).map_err(rule)?)?;
    match ctx.aws().and_then(|aws| Ok(aws.attach(&claimed)?)) {
        Ok(grant) => {
            let done =
                request::attached(&claimed, &by, grant.clone(), Timestamp::now()).map_err(rule)?;
            match ctx.commit(done) {
                Ok(r) => {
                    let text = format!(
                        "{} active: {} for {} until {}",
                        r.id,
                        granted(&r),
                        r.target.describe(),
                        r.expires_at.map(|t| t.to_string()).unwrap_or_default()
                    );
                    Ok(Report::of(&r, text)?)
                }
                Err(e) => Err(taken_over(ctx, &claimed, grant, e).into()),
            }
        }
        Err(e) => {
            let msg = format!("{e:#}");
            ctx.commit(
                request::attach_failed(&claimed, &by, &msg, Timestamp::now()).map_err(rule)?,
            )?;
            Err(e
                .context(format!(
                    "attaching {} failed; it stays approved and `aws-jit attach {}` retries",
                    claimed.id, claimed.id
                ))
                .into())
        }
    }
}

/// Our claim was taken over while AWS worked (the lease ran out and `expire` or `revoke`
/// moved the request on). What we just created belongs to no live grant: undo it, so
/// nothing stays granted that the store no longer tracks.
fn taken_over(
    ctx: &Ctx,
    claimed: &Request,
    grant: request::Grant,
    err: anyhow::Error,
) -> anyhow::Error {
    let mut orphan = claimed.clone();
    orphan.grant = Some(grant);
    match removal::remove_from_aws(ctx, &orphan) {
        Ok(()) => JitError::WrongState(format!(
            "{} was taken over by another process while attaching (JIT_LEASE ran out); \
             what this run created was removed again. `aws-jit status {}` shows its state",
            claimed.id, claimed.id
        ))
        .into(),
        Err(undo) => JitError::Backend(format!(
            "{} was taken over by another process while attaching (JIT_LEASE ran out), and \
             removing what this run created failed ({undo}); remove it by hand: {}. ({err:#})",
            claimed.id,
            granted(&orphan)
        ))
        .into(),
    }
}

/// What exists in AWS for an active grant, in a few words.
fn granted(r: &Request) -> String {
    let Some(g) = r.grant.as_ref() else {
        return r.policy_name.clone();
    };
    match (&g.policy_arn, g.sso()) {
        (Some(arn), _) => arn.clone(),
        (None, Some(d)) => format!(
            "permission set {} in account {} (assignment {})",
            d.permission_set_name,
            d.account_id,
            d.assignment
                .as_ref()
                .map(|a| a.status.as_str())
                .unwrap_or_default()
        ),
        (None, None) => r.policy_name.clone(),
    }
}
