//! Removing one claimed grant from AWS and recording the outcome; shared by `expire`
//! and `revoke`.

use anyhow::Result;

use super::{rule, Ctx};
use crate::aws::GrantError;
use crate::request::{self, Request, Target};
use crate::time::Timestamp;

/// The Identity Center user a grant is for: the resolved user id once attach recorded
/// it, else the name as requested (lowercased).
fn sso_identity(r: &Request) -> Option<String> {
    let Target::Sso { user, .. } = &r.target else {
        return None;
    };
    let resolved = r
        .grant
        .as_ref()
        .and_then(|g| g.details.get("user_id"))
        .and_then(|v| v.as_str())
        .map(|id| format!("id:{id}"));
    Some(resolved.unwrap_or_else(|| format!("name:{}", user.to_ascii_lowercase())))
}

/// Does another attaching/active grant still need the shared object `r` uses? Asked
/// afresh on every call: the grantor asks before and after deleting, so a grant that
/// attached in between is seen.
fn still_needed(ctx: &Ctx, r: &Request) -> Result<bool, GrantError> {
    let Some(key) = crate::store::holder_key(r) else {
        return Ok(false);
    };
    let mine = sso_identity(r);
    let holders = ctx
        .store
        .holders(&key)
        .map_err(|e| GrantError::Backend(e.to_string()))?;
    for id in holders.iter().filter(|id| **id != r.id) {
        let Some(other) = ctx
            .store
            .get(id)
            .map_err(|e| GrantError::Backend(e.to_string()))?
        else {
            continue;
        };
        let theirs = sso_identity(&other);
        // Same person for sure, or one side not resolved yet (user name vs email could
        // be one person): keep the assignment. The last holder's own removal takes it.
        let unresolved = |s: &Option<String>| s.as_deref().is_some_and(|s| s.starts_with("name:"));
        if theirs == mine || unresolved(&theirs) || unresolved(&mine) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `claimed` is in `removing` with our lease. Ok(final record) when AWS confirmed;
/// Err((record, error)) when it stays `removing` for the next run.
pub fn finish(
    ctx: &Ctx,
    claimed: &Request,
    by: &str,
) -> Result<Result<Request, (Request, String)>> {
    let outcome = ctx.aws().map_err(|e| format!("{e:#}")).and_then(|aws| {
        aws.remove_checked(claimed, || still_needed(ctx, claimed))
            .map_err(|e| e.to_string())
    });
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
