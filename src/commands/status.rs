use serde_json::json;

use super::Ctx;
use crate::cli::StatusArgs;
use crate::error::JitError;
use crate::output::{Outcome, Report};
use crate::render::Row;
use crate::request::same_person;
use crate::store::seal::Integrity;

/// The most a listing shows, whatever `--limit` says.
const MAX_LIMIT: usize = 10_000;

pub fn run(ctx: &Ctx, args: &StatusArgs) -> Outcome {
    if let Some(id) = &args.id {
        // Shown whether or not it verifies: status is where a forgery is seen.
        let r = ctx.load_unverified(id)?;
        let timeline = ctx.store.audit(id)?;
        let integrity = match &ctx.sealer {
            Some(s) => s.verify_history(&r, &timeline),
            None => Integrity::Unauthenticated,
        };
        let text = crate::render::request(&r, &timeline, &integrity);
        return Ok(Report::new(
            json!({
                "request": r,
                "timeline": timeline,
                "integrity": integrity.as_str(),
                "integrity_problem": match &integrity { Integrity::Failed(why) => Some(why), _ => None },
            }),
            text,
        ));
    }
    if args.limit == 0 || args.limit > MAX_LIMIT {
        return Err(
            JitError::invalid("--limit", format!("must be between 1 and {MAX_LIMIT}")).into(),
        );
    }
    let filtered = args.state.is_some() || args.requester.is_some();
    // Filters apply to a bounded window of recent requests so listing stays cheap.
    let window = if filtered {
        args.limit.saturating_mul(20).max(1000)
    } else {
        args.limit
    };
    let listed = if args.unreviewed {
        super::reminders::unreviewed(ctx, window)?
    } else {
        ctx.store.list(window)?
    };
    let rows: Vec<Row> = listed
        .into_iter()
        .map(|entry| match entry {
            Ok(r) => Row::Record {
                integrity: ctx.integrity(&r),
                record: Box::new(r),
            },
            Err(u) => Row::Unreadable {
                id: u.id,
                error: crate::error::chain(&u.error),
            },
        })
        .filter(|row| match row {
            Row::Record { record: r, .. } => {
                args.state.is_none_or(|s| r.state == s)
                    && args
                        .requester
                        .as_deref()
                        .is_none_or(|q| same_person(q, &r.requester))
            }
            // A record that cannot be read matches no filter, but is never hidden
            // from an unfiltered listing.
            Row::Unreadable { .. } => !filtered,
        })
        .take(args.limit)
        .collect();
    let records: Vec<_> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Record { record, .. } => Some(record.as_ref()),
            Row::Unreadable { .. } => None,
        })
        .collect();
    let unverified: Vec<&str> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Record {
                record,
                integrity: Integrity::Failed(_),
            } => Some(record.id.as_str()),
            _ => None,
        })
        .collect();
    let unreadable: Vec<_> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Unreadable { id, error } => Some(json!({"id": id, "error": error})),
            Row::Record { .. } => None,
        })
        .collect();
    let text = crate::render::list(&rows, ctx.sealer.is_some());
    Ok(Report::new(
        json!({
            "requests": records,
            "integrity": if ctx.sealer.is_some() { "verified" } else { "unauthenticated" },
            "unverified": unverified,
            "unreadable": unreadable,
        }),
        text,
    ))
}
