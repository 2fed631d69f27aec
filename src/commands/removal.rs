//! Removing one claimed grant from AWS and recording the outcome; shared by `expire`
//! and `revoke`.

use anyhow::Result;

use super::{rule, Ctx};
use crate::aws::sso::SsoDetails;
use crate::aws::{GrantError, Holder};
use crate::request::{self, Request, Target};
use crate::time::Timestamp;

/// The other grants (attaching or active) on the shared object `r` uses, read afresh on
/// every call: the grantor asks before and after deleting, so a grant that attached in
/// between is seen. The grantor decides which of them are the same person.
fn other_holders(ctx: &Ctx, r: &Request) -> Result<Vec<Holder>, GrantError> {
    let Some(key) = crate::store::holder_key(r) else {
        return Ok(Vec::new());
    };
    let backend = |e: crate::store::StoreError| GrantError::Backend(e.to_string());
    let mut out = Vec::new();
    for id in ctx
        .store
        .holders(&key)
        .map_err(backend)?
        .into_iter()
        .filter(|id| *id != r.id)
    {
        let Some(other) = ctx.store.get(&id).map_err(backend)? else {
            continue;
        };
        let Target::Sso { user, .. } = &other.target else {
            continue;
        };
        let user_id = other
            .grant
            .as_ref()
            .and_then(SsoDetails::from_grant)
            .map(|d| d.user_id)
            .filter(|s| !s.is_empty());
        out.push(Holder {
            request_id: id,
            user_id,
            user: user.clone(),
        });
    }
    Ok(out)
}

/// Remove what `r` holds in AWS (shared objects stay while another grant of the same
/// person needs them).
pub fn remove_from_aws(ctx: &Ctx, r: &Request) -> Result<(), String> {
    ctx.aws().map_err(|e| format!("{e:#}")).and_then(|aws| {
        aws.remove_checked(r, || other_holders(ctx, r))
            .map_err(|e| e.to_string())
    })
}

/// `claimed` is in `removing` with our lease. Ok(final record) when AWS confirmed;
/// Err((record, error)) when it stays `removing` for the next run.
pub fn finish(
    ctx: &Ctx,
    claimed: &Request,
    by: &str,
) -> Result<Result<Request, (Request, String)>> {
    Ok(match remove_from_aws(ctx, claimed) {
        Ok(()) => Ok(ctx.commit(request::removed(claimed, by, Timestamp::now()).map_err(rule)?)?),
        Err(msg) => Err((
            ctx.commit(
                request::removal_failed(claimed, by, &msg, Timestamp::now()).map_err(rule)?,
            )?,
            msg,
        )),
    })
}
