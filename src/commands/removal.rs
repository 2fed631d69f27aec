//! Removing one claimed grant from AWS and recording the outcome; shared by `expire`
//! and `revoke`.

use anyhow::Result;

use super::{rule, Ctx};
use crate::request::{self, Request};
use crate::time::Timestamp;

/// `claimed` is in `removing` with our lease. Ok(final record) when AWS confirmed;
/// Err((record, error)) when it stays `removing` for the next run.
pub fn finish(
    ctx: &Ctx,
    claimed: &Request,
    by: &str,
) -> Result<Result<Request, (Request, String)>> {
    let still_needed = match crate::store::holder_key(claimed) {
        Some(k) => ctx
            .store
            .holders(&k)
            .map_err(crate::error::JitError::from)?
            .iter()
            .any(|id| id != &claimed.id),
        None => false,
    };
    let outcome = ctx
        .aws()
        .map_err(|e| format!("{e:#}"))
        .and_then(|aws| aws.remove(claimed, still_needed).map_err(|e| e.to_string()));
    Ok(match outcome {
        Ok(()) => Ok(ctx.commit(request::removed(claimed, by, Timestamp::now()).map_err(rule)?)?),
        Err(msg) => Err((
            ctx.commit(
                request::removal_failed(claimed, by, &msg, Timestamp::now()).map_err(rule)?,
            )?,
            msg,
        )),
    })
}
