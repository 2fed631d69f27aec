//! Persistence behind one small trait, with two implementations that pass the same
//! conformance tests: Redis (`redis.rs`) and an embedded SQLite file (`local.rs`).
//!
//! The one write primitive is [`Store::commit`]: compare-and-set on the record version,
//! plus the audit entry, the derived index entries and the outbox events, all in one
//! atomic step. Everything the state machine decides goes through it.

pub mod local;
mod private;
pub mod redis;
pub mod seal;

use serde_json::Value;

use crate::config::{Backend, Config};
use crate::request::{AuditEntry, Request, State, Transition};
use crate::time::Timestamp;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record changed (or already exists) since it was read: somebody else acted.
    #[error(
        "the request was changed by someone else at the same time; re-run to see its new state"
    )]
    Conflict,
    /// `store` names the store (Redis, the embedded store).
    #[error("{store}")]
    Unreachable {
        store: &'static str,
        #[source]
        source: BoxError,
    },
    /// `what` names the record or entry that could not be read or written.
    #[error("stored data is unreadable: {what}")]
    Corrupt {
        what: String,
        #[source]
        source: BoxError,
    },
    /// The embedded store's file or directory is not private to this user (others could
    /// rewrite it); `fix` says what to run.
    #[error("{what}; refusing to use it: {fix}")]
    Unsafe { what: String, fix: String },
}

impl StoreError {
    pub fn exit_code(&self) -> crate::error::ExitCode {
        match self {
            StoreError::Conflict => crate::error::ExitCode::WrongState,
            StoreError::Unreachable { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Unsafe { .. } => crate::error::ExitCode::Backend,
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        StoreError::Corrupt {
            what: what.into(),
            source: source.into(),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One entry of a listing: the record, or the id of one that cannot be read (so one bad
/// record never hides the rest).
pub type Listed = Result<Request, Unreadable>;

#[derive(Debug)]
pub struct Unreadable {
    pub id: String,
    pub error: StoreError,
}

/// One queued webhook delivery.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    /// Store-specific handle used to acknowledge delivery.
    pub handle: String,
    pub body: Value,
}

pub trait Store {
    /// Atomically: check `t.expected_version` (0 = must not exist), write `t.next`,
    /// append `t.audit`, update the expiry/pending indexes from `t.next`, queue `events`.
    fn commit(&self, t: &Transition, events: &[Value]) -> StoreResult<()>;
    fn get(&self, id: &str) -> StoreResult<Option<Request>>;
    /// Newest first, at most `limit`; a record that cannot be decoded is listed as such.
    fn list(&self, limit: usize) -> StoreResult<Vec<Listed>>;
    /// Ids whose expiry score is at or before `now`, oldest first.
    fn due(&self, now: Timestamp, offset: usize, limit: usize) -> StoreResult<Vec<String>>;
    /// Ids awaiting a decision or an attach since at or before `cutoff`, oldest first.
    fn stale_pending(
        &self,
        cutoff: Timestamp,
        offset: usize,
        limit: usize,
    ) -> StoreResult<Vec<String>>;
    fn audit(&self, id: &str) -> StoreResult<Vec<AuditEntry>>;
    fn outbox(&self, limit: usize) -> StoreResult<Vec<OutboxItem>>;
    fn outbox_ack(&self, handle: &str) -> StoreResult<()>;
    /// A named advisory lock with expiry; true when acquired. The owner calling again
    /// renews it (a holder keeps a lock alive while it works).
    fn try_lock(&self, name: &str, owner: &str, ttl_secs: u64) -> StoreResult<bool>;
    fn unlock(&self, name: &str, owner: &str) -> StoreResult<()>;
    /// Requests that currently hold the shared object `key` (see [`holder_key`]), so
    /// removal never cuts access another grant still needs.
    fn holders(&self, key: &str) -> StoreResult<Vec<String>>;
    /// The request whose grant created the shared assignment `key` (see
    /// `aws::sso::origin`), while aws-jit's assignment may exist; none for standing access.
    fn origin(&self, key: &str) -> StoreResult<Option<String>>;
    /// Record (`Some`) or forget (`None`) that aws-jit created the assignment `key`.
    fn set_origin(&self, key: &str, by: Option<&str>) -> StoreResult<()>;
    /// How many grants the expiry index tracks (everything that may exist in AWS).
    fn tracked(&self) -> StoreResult<u64>;
    /// Append an audit entry that changes no record (reconcile acting on AWS objects, which
    /// may belong to a request the store no longer knows), with its events, atomically.
    fn append_audit(&self, entry: &AuditEntry, events: &[Value]) -> StoreResult<()>;
    /// Break-glass requests awaiting their review, last announced at or before `cutoff`,
    /// oldest first (the index `Request::review_score` keeps).
    fn unreviewed(
        &self,
        cutoff: Timestamp,
        offset: usize,
        limit: usize,
    ) -> StoreResult<Vec<String>>;
}

/// The shared AWS object a request's grant may use together with others: an existing
/// permission set in one account. The user is deliberately not part of the key — one
/// person may be named by user name in one request and by email in another — so the
/// holders of a key are narrowed to the same person when removing (see `removal.rs`).
pub fn holder_key(r: &Request) -> Option<String> {
    match &r.target {
        crate::request::Target::Sso {
            account_id,
            permission_set: Some(ps),
            ..
        } => {
            // The ARN read when the request was made: one permission set named by name
            // in one request and by ARN in another is one shared assignment.
            let ps = r
                .permission_set_contents
                .as_ref()
                .map(|c| c.arn.as_str())
                .unwrap_or(ps);
            Some(format!("sso|{account_id}|{ps}"))
        }
        _ => None,
    }
}

/// Whether a record counts as needing its shared object. Removing does not: two grants
/// removed at once must not each wait for the other, leaving access behind.
pub fn holds(r: &Request) -> bool {
    matches!(r.state, State::Attaching | State::Active)
}

pub fn open(config: &Config) -> anyhow::Result<Box<dyn Store>> {
    Ok(match &config.backend {
        Backend::Redis(settings) => {
            Box::new(redis::RedisStore::connect(settings, &config.key_prefix)?)
        }
        Backend::Local { path } => Box::new(local::LocalStore::open(path)?),
    })
}

pub(crate) fn encode(r: &Request) -> StoreResult<String> {
    serde_json::to_string(r).map_err(|e| StoreError::corrupt(format!("request {}", r.id), e))
}

pub(crate) fn decode(id: &str, text: &str) -> StoreResult<Request> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt(format!("request {id}"), e))
}

pub(crate) fn decode_audit(text: &str) -> StoreResult<AuditEntry> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt("audit entry", e))
}
