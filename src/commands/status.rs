use serde_json::json;

use super::Ctx;
use crate::cli::StatusArgs;
use crate::error::JitError;
use crate::output::{Outcome, Report};
use crate::request::same_person;

pub fn run(ctx: &Ctx, args: &StatusArgs) -> Outcome {
    if let Some(id) = &args.id {
        let r = ctx.load(id)?;
        let timeline = ctx.store.audit(id)?;
        let text = crate::render::request(&r, &timeline);
        return Ok(Report::new(
            json!({"request": r, "timeline": timeline}),
            text,
        ));
    }
    if args.limit == 0 {
        return Err(JitError::invalid("--limit", "must be at least 1").into());
    }
    let filtered = args.state.is_some() || args.requester.is_some();
    // Filters apply to a bounded window of recent requests so listing stays cheap.
    let window = if filtered {
        args.limit.saturating_mul(20).max(1000)
    } else {
        args.limit
    };
    let rows: Vec<_> = ctx
        .store
        .list(window)?
        .into_iter()
        .filter(|r| args.state.is_none_or(|s| r.state == s))
        .filter(|r| {
            args.requester
                .as_deref()
                .is_none_or(|q| same_person(q, &r.requester))
        })
        .take(args.limit)
        .collect();
    let text = crate::render::list(&rows);
    Ok(Report::new(json!({ "requests": rows }), text))
}
