//! Removing one claimed grant from AWS and recording the outcome; shared by `expire`,
//! `revoke`, `attach` (a revocation honoured, a claim lost) and `reconcile`.

use anyhow::Result;
use tokio::time::Instant;

use super::holder::{Commit, Held};
use super::{rule, Ctx};
use crate::aws::{self, Aws, Backoff, Grantor};
use crate::grant::{Grant, Holder, Holders, HoldersError};
use crate::request::{self, Request, State, Target};
use crate::store::{holder_key, Store};

/// The other aws-jit grants (attaching or active) on the shared object `request` uses that
/// recorded relying on aws-jit's assignment, read afresh on every call. Grants that found
/// it there as standing access are left out (they never remove it), and so are grants
/// that have not decided yet: they decide under the assignment's lock, after any removal
/// holding it, and a crashed one must never make its assignment look like aws-jit's.
pub struct LiveHolders<'a> {
    pub store: &'a dyn Store,
    pub request: &'a Request,
    /// With JIT_STATE_KEY: a holder whose record fails verification keeps nothing alive
    /// (a forged "active" holder must not shield an assignment from removal).
    pub sealer: Option<&'a crate::store::seal::Sealer>,
    /// Owner and lease of the assignment lock (the process's claim owner, JIT_LEASE).
    pub owner: &'a str,
    pub lease: std::time::Duration,
}

impl<'a> LiveHolders<'a> {
    pub fn new(ctx: &'a Ctx, request: &'a Request) -> Self {
        LiveHolders {
            store: ctx.store.as_ref(),
            request,
            sealer: ctx.sealer.as_ref(),
            owner: &ctx.owner,
            lease: ctx.config.lease,
        }
    }
}

impl LiveHolders<'_> {
    /// Per grant, not per process: two removals in one `expire` run take turns too.
    fn lock_owner(&self) -> String {
        format!("{}/{}", self.owner, self.request.id)
    }
}

fn lock_name(key: &str) -> String {
    format!("assignment|{key}")
}

impl Holders for LiveHolders<'_> {
    fn holders(&self) -> Result<Vec<Holder>, HoldersError> {
        let Some(key) = holder_key(self.request) else {
            return Ok(Vec::new());
        };
        let fail = |e: crate::store::StoreError| HoldersError(Box::new(e));
        let mut out = Vec::new();
        for id in self.store.holders(&key).map_err(fail)? {
            if id == self.request.id {
                continue;
            }
            let Some(other) = self.store.get(&id).map_err(fail)? else {
                continue;
            };
            if let Some(s) = self.sealer {
                if let crate::store::seal::Integrity::Failed(why) = s.verify(&other) {
                    crate::output::warn(format!(
                        "ignored holder {id} of a shared assignment: its record failed verification ({why})"
                    ));
                    continue;
                }
            }
            // Only a grant that holds it (attaching or active) and is for this very
            // assignment: an ended grant, or another's, put back into the unauthenticated
            // holder index vouches for nothing.
            if !crate::store::holds(&other) || holder_key(&other).as_deref() != Some(key.as_str()) {
                continue;
            }
            let Target::Sso { user, .. } = &other.target else {
                continue;
            };
            // Decided: attach records the permission set's ARN with its decision.
            let relies = other
                .grant
                .as_ref()
                .and_then(Grant::sso)
                .filter(|d| !d.permission_set_arn.is_empty() && !d.assignment_existed);
            let Some(recorded) = relies else {
                continue;
            };
            out.push(Holder {
                request_id: id,
                user_id: Some(recorded.user_id.clone()).filter(|s| !s.is_empty()),
                user: user.clone(),
            });
        }
        Ok(out)
    }

    fn origin(&self, key: &str) -> Result<Option<String>, HoldersError> {
        let stored = self
            .store
            .origin(key)
            .map_err(|e| HoldersError(Box::new(e)))?;
        let (Some(stored), Some(sealer)) = (stored.as_deref(), self.sealer) else {
            return Ok(stored);
        };
        match sealer.open_origin(key, stored) {
            Some(by) => Ok(Some(by.to_string())),
            None => {
                // Unverified: taken for no origin, so the assignment counts as standing
                // access and is kept (never deleted on a forger's word).
                crate::output::warn(format!(
                    "ignored the origin recorded for assignment {key}: it failed verification"
                ));
                Ok(None)
            }
        }
    }

    fn set_origin(&self, key: &str, by: Option<&str>) -> Result<(), HoldersError> {
        let sealed = match (by, self.sealer) {
            (Some(by), Some(sealer)) => Some(sealer.seal_origin(key, by)),
            (by, _) => by.map(str::to_string),
        };
        self.store
            .set_origin(key, sealed.as_deref())
            .map_err(|e| HoldersError(Box::new(e)))
    }

    fn lock(&self, key: &str) -> Result<bool, HoldersError> {
        self.store
            .try_lock(
                &lock_name(key),
                &self.lock_owner(),
                self.lease.as_secs().max(1),
            )
            .map_err(|e| HoldersError(Box::new(e)))
    }

    fn unlock(&self, key: &str) {
        // A lock left behind lapses after its lease.
        let _ = self.store.unlock(&lock_name(key), &self.lock_owner());
    }

    fn lease(&self) -> std::time::Duration {
        self.lease
    }
}

/// Remove what `r` holds in AWS (shared objects stay while another grant of the same
/// person needs them; what aws-jit did not create stays, named in the answer).
pub fn remove_from_aws(ctx: &Ctx, r: &Request) -> Result<aws::Removed> {
    let holders = LiveHolders::new(ctx, r);
    Ok(ctx.aws()?.remove(r, &holders)?)
}

/// How removing a claimed grant ended.
pub enum Removed {
    /// AWS confirmed; the record is final (expired or revoked).
    Done(Request),
    /// It stays `removing` (and in the expiry index) for the next run.
    Failed { record: Request, error: String },
    /// Put off without failing (throttled past the run's horizon); the next run retries.
    Deferred(Request),
    /// Another process re-claimed the grant meanwhile (this one was too slow); it carries on.
    Lost,
}

/// `held` holds the grant in `removing`: remove it from AWS, heartbeat alongside, and
/// record the outcome. Throttling pauses the whole run (`backoff`) and is retried until
/// `horizon`; past it the removal is put off, never failed.
pub async fn finish_async(
    ctx: &Ctx,
    aws: &Aws,
    held: &Held<'_>,
    backoff: &Backoff,
    horizon: Option<Instant>,
) -> Result<Removed> {
    let r = held.latest();
    let outcome: Result<aws::Removed, Outcome> = match aws.grantor(&r.target) {
        Err(e) => Err(Outcome::Failed(chain(&e))),
        Ok(grantor) => {
            let holders = LiveHolders::new(ctx, &r);
            held.working(async {
                loop {
                    backoff.wait().await;
                    match grantor.remove(&r, &holders).await {
                        Err(e) if e.is_throttling() => {
                            backoff.throttled();
                            if horizon.is_some_and(|h| Instant::now() >= h) {
                                return Err(Outcome::Deferred(chain(&e)));
                            }
                        }
                        Err(e) => return Err(Outcome::Failed(chain(&e))),
                        Ok(done) => {
                            backoff.succeeded();
                            return Ok(done);
                        }
                    }
                }
            })
            .await
        }
    };
    let by = held.by().to_string();
    let committed = match &outcome {
        Ok(done) => held.commit(5, |cur, c| {
            request::removed_keeping(cur, &by, &done.kept, c.now)
        }),
        Err(Outcome::Deferred(why)) => held.commit(5, |cur, c| {
            request::removal_deferred(
                cur,
                &by,
                &format!("AWS is throttling; the next run retries ({why})"),
                c.now,
            )
        }),
        Err(Outcome::Failed(error)) => {
            held.commit(5, |cur, c| request::removal_failed(cur, &by, error, c.now))
        }
    };
    match committed {
        Commit::Done(record) => Ok(match outcome {
            Ok(_) => Removed::Done(record),
            Err(Outcome::Deferred(_)) => Removed::Deferred(record),
            Err(Outcome::Failed(error)) => Removed::Failed { record, error },
        }),
        Commit::Lost(_) => Ok(Removed::Lost),
        Commit::Refused(e) => Err(rule(e)),
        Commit::Unknown(e) => Err(e),
    }
}

enum Outcome {
    Failed(String),
    Deferred(String),
}

/// [`finish_async`] for one grant, blocking (revoke, attach).
pub fn finish(ctx: &Ctx, held: &Held<'_>) -> Result<Removed> {
    let aws = ctx.aws()?;
    aws.block_on(finish_async(ctx, aws, held, &Backoff::default(), None))
}

/// True when a grant in this state is held, or will be handled, by whoever has the
/// record: an attach in progress or failed ambiguously, an active grant, an approval with
/// its expiry recorded. The expiry index covers what exists for it.
pub fn covered(r: &Request) -> bool {
    matches!(r.state, State::Approved | State::Attaching | State::Active)
}

/// An error with its sources, as `{:#}` shows an anyhow chain.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        out.push_str(": ");
        out.push_str(&s.to_string());
        next = s.source();
    }
    out
}
