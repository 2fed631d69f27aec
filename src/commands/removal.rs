//! Removing one claimed grant from AWS and recording the outcome; shared by `expire`
//! and `revoke`.

use anyhow::Result;

use super::{rule, Ctx};
use crate::request::{self, Request};
use crate::store::StoreHolders;
use crate::time::Timestamp;

/// Remove what `r` holds in AWS (shared objects stay while another grant of the same
/// person needs them).
pub fn remove_from_aws(ctx: &Ctx, r: &Request) -> Result<()> {
    let holders = StoreHolders {
        store: ctx.store.as_ref(),
        request: r,
    };
    ctx.aws()?.remove(r, &holders)?;
    Ok(())
}

/// How removing a claimed grant ended.
pub enum Removed {
    /// AWS confirmed; the record is final (expired or revoked).
    Done(Request),
    /// It stays `removing` (and in the expiry index) for the next run.
    Failed { record: Request, error: String },
}

/// `claimed` is in `removing` with our lease.
pub fn finish(ctx: &Ctx, claimed: &Request, by: &str) -> Result<Removed> {
    Ok(match remove_from_aws(ctx, claimed) {
        Ok(()) => Removed::Done(
            ctx.commit(request::removed(claimed, by, Timestamp::now()).map_err(rule)?)?,
        ),
        Err(e) => {
            let error = format!("{e:#}");
            let record = ctx.commit(
                request::removal_failed(claimed, by, &error, Timestamp::now()).map_err(rule)?,
            )?;
            Removed::Failed { record, error }
        }
    })
}
