//! Who made an assignment of an existing permission set: the administrator (standing
//! access, never removed by aws-jit) or an aws-jit grant (removed by the last grant out).
//!
//! AWS keeps one assignment per (instance, account, permission set, user) and says nothing
//! of who made it, so the store keeps the answer: an *origin* record, written (under the
//! assignment's lock) by the attach that found no assignment and is about to create it,
//! and forgotten (under the same lock) by the removal that deletes it. Attaches and
//! removals of one assignment take turns on that lock, so each decides on what the one
//! before it did; a grant that has not decided yet (or crashed before it did) counts for
//! nothing, and an assignment nobody recorded making is standing access.
//!
//! When unsure, the assignment is taken for standing access and kept: a removal that
//! stops between forgetting the origin and deleting the assignment leaves it looking
//! standing to a newcomer, who keeps it; the stopped removal, still `removing`, deletes
//! it on its retry.

use std::future::Future;
use std::time::Duration;

use super::super::GrantError;
use crate::grant::{Holders, SsoDetails};

/// The store's key for one assignment.
pub(super) fn assignment_key(d: &SsoDetails) -> String {
    format!(
        "sso|{}|{}|{}|{}",
        d.instance_arn, d.account_id, d.permission_set_arn, d.user_id
    )
}

/// Run `work` holding the assignment's lock: wait for it (a dead holder's lock lapses
/// after its lease), renew it while `work` runs, release it after. `Err`: the lock was
/// not had in time; `work` did not run.
pub(super) async fn locked<T>(
    holders: &dyn Holders,
    key: &str,
    work: impl Future<Output = T>,
) -> Result<T, GrantError> {
    let lease = holders.lease();
    let deadline = tokio::time::Instant::now() + lease + lease / 2;
    while !holders.lock(key)? {
        if tokio::time::Instant::now() >= deadline {
            return Err(GrantError::backend(format!(
                "another aws-jit process holds the lock on this assignment ({key}) and did not \
                 release it within {}; retry later",
                humantime::format_duration(lease + lease / 2)
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let out = tokio::select! {
        out = work => out,
        never = renew(holders, key, lease) => match never {},
    };
    holders.unlock(key);
    Ok(out)
}

async fn renew(holders: &dyn Holders, key: &str, lease: Duration) -> std::convert::Infallible {
    loop {
        tokio::time::sleep((lease / 3).max(Duration::from_millis(200))).await;
        // Unanswered: the next beat tries again; the lease may still hold.
        let _ = holders.lock(key);
    }
}
