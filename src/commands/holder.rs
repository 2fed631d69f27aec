//! A process holding a grant's claim (attaching or removing) while it works on AWS: it
//! keeps the record it last wrote, renews its lease with a heartbeat, and commits so
//! that a lost reply or a concurrent change is resolved by re-reading the record, never
//! by guessing.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use super::Ctx;
use crate::grant::{Grant, Progress, ProgressError};
use crate::request::{self, Claim, Request, RuleError, Transition};
use crate::store::{Store, StoreError};
use crate::time::Timestamp;

/// How a holder's commit ended.
pub enum Commit {
    /// Written (or found written, when the reply was lost): the record as it is now.
    Done(Request),
    /// Our claim is gone: someone else re-claimed the grant, or moved it on. The record as
    /// re-read (`None`: the store no longer has it at all).
    Lost(Option<Request>),
    /// The transition does not apply to the record as it is now.
    Refused(RuleError),
    /// The store could not be reached to write or to re-read: what it holds is unknown.
    Unknown(anyhow::Error),
}

pub struct Held<'a> {
    ctx: &'a Ctx,
    by: String,
    latest: RefCell<Request>,
    /// A fresh connection, once the first one failed (a cut connection stays cut).
    spare: RefCell<Option<Rc<dyn Store>>>,
}

impl<'a> Held<'a> {
    pub fn new(ctx: &'a Ctx, claimed: Request, by: &str) -> Held<'a> {
        Held {
            ctx,
            by: by.to_string(),
            latest: RefCell::new(claimed),
            spare: RefCell::new(None),
        }
    }

    /// The record as this holder last wrote or read it.
    pub fn latest(&self) -> Request {
        self.latest.borrow().clone()
    }

    pub fn by(&self) -> &str {
        &self.by
    }

    pub fn claim(&self) -> Claim<'_> {
        Claim {
            by: &self.by,
            owner: &self.ctx.owner,
            lease: self.ctx.config.lease,
            now: Timestamp::now(),
        }
    }

    fn with_store<T>(&self, f: impl FnOnce(&dyn Store) -> T) -> T {
        let spare = self.spare.borrow().clone();
        match spare {
            Some(s) => f(s.as_ref()),
            None => f(self.ctx.store.as_ref()),
        }
    }

    /// Open a new connection to the store (after a cut one).
    fn reconnect(&self) {
        if let Ok(s) = crate::store::open(&self.ctx.config) {
            *self.spare.borrow_mut() = Some(Rc::from(s));
        }
    }

    /// The record as the store holds it now, trying a few times (and a new connection)
    /// when the store does not answer.
    /// With JIT_STATE_KEY, a record whose seal fails is an error: never acted on.
    fn reread(&self, tries: u32) -> Result<Option<Request>, anyhow::Error> {
        let id = self.latest.borrow().id.clone();
        let mut wait = Duration::from_millis(100);
        let mut last = None;
        for i in 0..tries.max(1) {
            match self.with_store(|s| s.get(&id)) {
                Ok(Some(r)) => {
                    if let crate::store::seal::Integrity::Failed(why) = self.ctx.integrity(&r) {
                        crate::notify::tamper(&self.ctx.config, &id, &why);
                        return Err(crate::error::JitError::NotAuthorised(format!(
                            "request {id} failed verification ({why}); it is not acted on"
                        ))
                        .into());
                    }
                    return Ok(Some(r));
                }
                Ok(None) => return Ok(None),
                Err(e @ StoreError::Corrupt { .. }) => return Err(e.into()),
                Err(e) => last = Some(e),
            }
            if i + 1 < tries {
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(2));
                self.reconnect();
            }
        }
        Err(last
            .map(anyhow::Error::from)
            .unwrap_or_else(|| anyhow::anyhow!("the store did not answer")))
    }

    /// Commit the transition `f` makes of the current record. On a conflict or a store
    /// error the record is read again: our write found there means the reply was lost
    /// (done); the record still ours means it changed under us (a revocation recorded,
    /// say), so `f` is applied to it again; anything else means the claim is lost.
    /// `patience` is how many times a silent store is re-read before giving up.
    pub fn commit(
        &self,
        patience: u32,
        f: impl Fn(&Request, &Claim) -> Result<Transition, RuleError>,
    ) -> Commit {
        for _ in 0..5 {
            let cur = self.latest();
            if !cur.claimed_by(&self.ctx.owner) {
                return Commit::Lost(Some(cur));
            }
            let claim = self.claim();
            let mut t = match f(&cur, &claim) {
                Ok(t) => t,
                Err(e) => return Commit::Refused(e),
            };
            if let Some(sealer) = &self.ctx.sealer {
                sealer.seal(&mut t);
            }
            let events = crate::notify::bodies(&t.events, &t.next, &self.ctx.config);
            let written = self.with_store(|s| s.commit(&t, &events));
            let failure = match written {
                Ok(()) => {
                    *self.latest.borrow_mut() = t.next.clone();
                    return Commit::Done(t.next);
                }
                Err(e) => e,
            };
            if !matches!(failure, StoreError::Conflict) {
                self.reconnect();
            }
            match self.reread(patience) {
                Ok(Some(now)) if now == t.next => {
                    // The write landed; only its reply was lost.
                    *self.latest.borrow_mut() = now.clone();
                    return Commit::Done(now);
                }
                Ok(Some(now)) => {
                    let ours = now.claimed_by(&self.ctx.owner);
                    *self.latest.borrow_mut() = now.clone();
                    if !ours {
                        return Commit::Lost(Some(now));
                    }
                }
                Ok(None) => return Commit::Lost(None),
                Err(e) => {
                    return Commit::Unknown(e.context(format!(
                        "recording the outcome for {} ({failure})",
                        t.next.id
                    )))
                }
            }
        }
        Commit::Unknown(anyhow::anyhow!(
            "the record kept changing while this process tried to record its outcome"
        ))
    }

    /// Renew the lease every third of it until the claim is lost; never returns while
    /// the claim is ours (run it alongside the work, see [`Held::working`]).
    async fn heartbeat(&self) -> std::convert::Infallible {
        let every = (self.ctx.config.lease / 3).max(Duration::from_millis(200));
        loop {
            tokio::time::sleep(every).await;
            match self.commit(1, request::renew_lease) {
                Commit::Done(_) => {}
                // Unreachable: try again at the next beat; the lease may still hold.
                Commit::Unknown(_) => {}
                // Taken over: stop beating; the work's own commit finds out and reacts.
                Commit::Lost(_) | Commit::Refused(_) => return std::future::pending().await,
            }
        }
    }

    /// Run `work` with the heartbeat beside it; the heartbeat ends with the work.
    pub async fn working<T>(&self, work: impl Future<Output = T>) -> T {
        tokio::select! {
            out = work => out,
            never = self.heartbeat() => match never {},
        }
    }
}

/// An attach records what it is about to create through its holder.
impl Progress for Held<'_> {
    fn record(&self, grant: &Grant) -> Result<(), ProgressError> {
        let g = grant.clone();
        match self.commit(3, |cur, claim| {
            request::attach_progress(cur, claim, g.clone())
        }) {
            Commit::Done(_) => Ok(()),
            Commit::Lost(_) | Commit::Refused(_) => Err(ProgressError(format!(
                "{} was taken over by another process while attaching",
                self.latest.borrow().id
            ))),
            Commit::Unknown(e) => Err(ProgressError(format!("{e:#}"))),
        }
    }

    fn check(&self) -> Result<(), ProgressError> {
        match self.reread(2) {
            // Revoked meanwhile (recorded by `revoke` or seen by the heartbeat): stop before
            // granting anything; the attach then removes what it made.
            Ok(Some(r)) if r.claimed_by(&self.ctx.owner) && r.revoke_pending() => {
                let id = r.id.clone();
                *self.latest.borrow_mut() = r;
                Err(ProgressError(format!(
                    "{id} was revoked while attaching; stopped before granting access"
                )))
            }
            Ok(Some(r)) if r.claimed_by(&self.ctx.owner) => {
                let newer = r.version > self.latest.borrow().version;
                if newer {
                    *self.latest.borrow_mut() = r;
                }
                Ok(())
            }
            Ok(_) => Err(ProgressError(format!(
                "{} was taken over by another process while attaching",
                self.latest.borrow().id
            ))),
            Err(e) => Err(ProgressError(format!("{e:#}"))),
        }
    }
}

/// Commit a claiming transition (attach, removal); a lost reply is resolved by reading
/// the record again. `Ok(None)`: someone else's change won.
pub fn claim(ctx: &Ctx, mut t: Transition) -> Result<Option<Request>, anyhow::Error> {
    if let Some(sealer) = &ctx.sealer {
        sealer.seal(&mut t);
    }
    let events = crate::notify::bodies(&t.events, &t.next, &ctx.config);
    match ctx.store.commit(&t, &events) {
        Ok(()) => Ok(Some(t.next)),
        Err(StoreError::Conflict) => Ok(None),
        Err(e) => {
            // Did it land? A fresh connection tells.
            let landed = crate::store::open(&ctx.config)
                .ok()
                .and_then(|fresh| fresh.get(&t.next.id).ok().flatten())
                .filter(|now| *now == t.next);
            match landed {
                Some(now) => Ok(Some(now)),
                None => Err(e.into()),
            }
        }
    }
}
