//! `aws-jit extend ID --ttl D --reason T`: more time on an active grant, within its rule's
//! extension budget and maximum TTL (counted from the original attach). Under an auto rule
//! (and for a grant such a rule may approve) the expiry moves at once; otherwise the
//! extension waits for `approve` by the rule's approvers. Nothing new is made in AWS.

use super::{rule, Ctx};
use crate::cli::ExtendArgs;
use crate::output::{Outcome, Report};
use crate::request::{self, ApprovalMode, ExtendInput, Request};
use crate::time::{human, parse_duration, Timestamp};

pub fn run(ctx: &Ctx, args: &ExtendArgs) -> Outcome {
    let cur = ctx.load(&args.id)?;
    let by = ctx.config.caller(args.by.as_deref(), "--by")?;
    let ttl = parse_duration("--ttl", &args.ttl)?;
    let reason =
        crate::input::required_text("--reason", &args.reason, "say why more time is needed")?;
    super::refuse_services_not_allowed(ctx, &cur)?;
    // More time on an existing permission set only while it grants what was approved.
    if cur.live_extension(Timestamp::now()).is_none() {
        super::refuse_if_contents_changed(ctx, &cur)?;
    }
    let t = request::extend(
        &cur,
        ExtendInput {
            by: &by,
            ttl,
            reason: &reason,
            max_ttl: ctx.config.max_duration,
            at_once: auto_actor(&cur),
        },
        Timestamp::now(),
    )
    .map_err(rule)?;
    let r = ctx.commit(t)?;
    let text = if r.extended.len() > cur.extended.len() {
        moved(ctx, &r)
    } else {
        format!(
            "{}: an extension of {} waits for approval by {} of {} (`aws-jit approve {}`)",
            r.id,
            human(ttl),
            r.quorum_needed(ctx.config.quorum),
            r.approvers_now(&ctx.config.approvers).join(", "),
            r.id
        )
    };
    Ok(Report::of(&r, text)?)
}

/// The rule's own name for approving, when it approves this grant's extension by itself:
/// an auto rule, and a grant such a rule may approve (judged again from what it grants).
fn auto_actor(r: &Request) -> Option<String> {
    let terms = r.terms.as_ref()?;
    if terms.approval != ApprovalMode::Auto {
        return None;
    }
    let grants =
        crate::access::grants::of_request(r.policy.as_ref(), r.permission_set_contents.as_ref());
    crate::access::may_auto_approve(&grants, &crate::request::auto_blockers(&r.findings)).ok()?;
    terms.rule.as_deref().map(request::rule_actor)
}

/// After the expiry moved in the store: move the IAM policy's `aws-jit:expires-at` tag
/// too. The store is what `expire` acts on, so a tag left behind is reported, not fatal.
pub fn moved(ctx: &Ctx, r: &Request) -> String {
    let until = r.expires_at.map(|t| t.to_string()).unwrap_or_default();
    if let Err(e) = ctx.aws().and_then(|aws| Ok(aws.move_expiry_tag(r)?)) {
        crate::output::warn(format!(
            "{}: the expiry moved to {until} (expire removes the grant then), but the IAM tag \
             aws-jit:expires-at still shows the old one: {e:#}",
            r.id
        ));
    }
    format!(
        "{} extended: active until {until} ({} of {} extension(s) used)",
        r.id,
        r.extended.len(),
        r.extension_budget()
    )
}
