//! Persistence behind one small trait, with two implementations that pass the same
//! conformance tests: Redis (`redis.rs`) and an embedded SQLite file (`local.rs`).
//!
//! The one write primitive is [`Store::commit`]: compare-and-set on the record version,
//! plus the audit entry, the derived index entries and the outbox events, all in one
//! atomic step. Everything the state machine decides goes through it.

pub mod local;
pub mod redis;

use serde_json::Value;

use crate::config::{Backend, Config};
use crate::request::{AuditEntry, Request, State, Transition};
use crate::time::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record changed (or already exists) since it was read: somebody else acted.
    #[error(
        "the request was changed by someone else at the same time; re-run to see its new state"
    )]
    Conflict,
    #[error("{0}")]
    Unreachable(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

impl From<StoreError> for crate::error::JitError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => crate::error::JitError::WrongState(e.to_string()),
            StoreError::Unreachable(m) => crate::error::JitError::Backend(m),
            StoreError::Corrupt(m) => {
                crate::error::JitError::Backend(format!("stored data is unreadable: {m}"))
            }
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

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
    /// Newest first, at most `limit`.
    fn list(&self, limit: usize) -> StoreResult<Vec<Request>>;
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
    /// A named advisory lock with expiry; true when acquired.
    fn try_lock(&self, name: &str, owner: &str, ttl_secs: u64) -> StoreResult<bool>;
    fn unlock(&self, name: &str, owner: &str) -> StoreResult<()>;
    /// Requests that currently hold the shared object `key` (see [`holder_key`]), so
    /// removal never cuts access another grant still needs.
    fn holders(&self, key: &str) -> StoreResult<Vec<String>>;
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
        } => Some(format!("sso|{account_id}|{ps}")),
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
        Backend::Redis { url } => Box::new(redis::RedisStore::connect(url, &config.key_prefix)?),
        Backend::Local { path } => Box::new(local::LocalStore::open(path)?),
    })
}

pub(crate) fn encode(r: &Request) -> StoreResult<String> {
    serde_json::to_string(r).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn decode(id: &str, text: &str) -> StoreResult<Request> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("request {id}: {e}")))
}

pub(crate) fn decode_audit(text: &str) -> StoreResult<AuditEntry> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))
}
