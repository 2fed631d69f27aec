//! Redis store. Every key shares one hash tag (`{prefix}`) so the Lua script, which
//! touches several keys, also runs on Redis Cluster.
//!
//! Layout: `{p}:req:<id>` hash (v, state, json) · `{p}:audit:<id>` stream per request ·
//! `{p}:audit` global stream · `{p}:expiry` / `{p}:pending` / `{p}:all` /
//! `{p}:unreviewed` sorted sets ·
//! `{p}:outbox` list of event bodies · `{p}:holders:<key>` sets · `{p}:lock:<name>` ·
//! `{p}:origin:<key>` strings.

use std::cell::RefCell;
use std::time::Duration;

use redis::{Commands, Connection, Script};
use serde_json::Value;

use super::{
    decode, decode_audit, encode, holder_key, holds, Listed, OutboxItem, Store, StoreError,
    StoreResult, Unreadable,
};
use crate::config::{redact_url, RedisSettings};
use crate::request::{AuditEntry, Request, Transition};
use crate::time::Timestamp;

const COMMIT: &str = r#"
-- KEYS: rec, audit:id, audit, expiry, pending, all, outbox, holders (or rec), unreviewed
-- ARGV: id, expected, new_version, json, state, audit_json, expiry, pending, created, holds, n, events..., unreviewed
local cur = redis.call('HGET', KEYS[1], 'v')
if ARGV[2] == '0' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'state', ARGV[5], 'json', ARGV[4])
redis.call('XADD', KEYS[2], '*', 'entry', ARGV[6])
redis.call('XADD', KEYS[3], '*', 'request_id', ARGV[1], 'entry', ARGV[6])
if ARGV[7] == '' then redis.call('ZREM', KEYS[4], ARGV[1]) else redis.call('ZADD', KEYS[4], ARGV[7], ARGV[1]) end
if ARGV[8] == '' then redis.call('ZREM', KEYS[5], ARGV[1]) else redis.call('ZADD', KEYS[5], ARGV[8], ARGV[1]) end
redis.call('ZADD', KEYS[6], ARGV[9], ARGV[1])
if KEYS[8] ~= KEYS[1] then
  if ARGV[10] == '1' then redis.call('SADD', KEYS[8], ARGV[1]) else redis.call('SREM', KEYS[8], ARGV[1]) end
end
local n = tonumber(ARGV[11])
for i = 1, n do redis.call('RPUSH', KEYS[7], ARGV[11 + i]) end
local rv = ARGV[12 + n]
if rv == '' then redis.call('ZREM', KEYS[9], ARGV[1]) else redis.call('ZADD', KEYS[9], rv, ARGV[1]) end
return 1
"#;

const UNLOCK: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// Take the lock when free, or renew it for its owner.
const LOCK: &str = r#"
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"#;

pub struct RedisStore {
    conn: RefCell<Connection>,
    prefix: String,
}

fn unreachable(e: redis::RedisError) -> StoreError {
    StoreError::Unreachable {
        store: "Redis",
        source: Box::new(e),
    }
}

impl RedisStore {
    /// A page of the ids in the sorted-set index `index` scored at or before `until`.
    fn up_to(
        &self,
        index: &str,
        until: Timestamp,
        offset: usize,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        self.conn
            .borrow_mut()
            .zrangebyscore_limit(
                self.key(index),
                "-inf",
                until.0,
                offset as isize,
                limit as isize,
            )
            .map_err(unreachable)
    }

    /// A plain URL with everything in it (tests, tools).
    pub fn connect_url(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let settings = RedisSettings {
            url: url.to_string(),
            user: None,
            pass: None,
            tls_ca: None,
        };
        Self::connect(&settings, prefix)
    }

    pub(crate) fn connect(settings: &RedisSettings, prefix: &str) -> anyhow::Result<Self> {
        let conn = open(settings)?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(unreachable)?;
        conn.set_write_timeout(Some(Duration::from_secs(10)))
            .map_err(unreachable)?;
        Ok(RedisStore {
            conn: RefCell::new(conn),
            prefix: format!("{{{prefix}}}"),
        })
    }

    fn key(&self, part: &str) -> String {
        format!("{}:{part}", self.prefix)
    }
}

/// Connect (and authenticate): BACKEND_USER/BACKEND_PASS apply when the URL carries no
/// password; `rediss://` verifies the server against the system roots or BACKEND_TLS_CA.
fn open(settings: &RedisSettings) -> anyhow::Result<Connection> {
    use redis::IntoConnectionInfo;
    let shown = redact_url(&settings.url);
    let invalid = |e: redis::RedisError| {
        crate::error::JitError::invalid(
            "BACKEND_URL",
            format!("`{shown}` is not a valid Redis URL: {e}"),
        )
    };
    let info = settings
        .url
        .as_str()
        .into_connection_info()
        .map_err(invalid)?;
    let mut auth = info.redis_settings().clone();
    if auth.password().is_none() {
        if let Some(pass) = &settings.pass {
            auth = auth.set_password(pass);
            if let Some(user) = &settings.user {
                auth = auth.set_username(user);
            }
        }
    }
    let info = info.set_redis_settings(auth);
    let client = if settings.tls() {
        // One crypto provider for the whole process; a second call is a no-op.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let root_cert = match &settings.tls_ca {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                crate::error::JitError::invalid(
                    "BACKEND_TLS_CA",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?),
            None => None,
        };
        redis::Client::build_with_tls(
            info,
            redis::TlsCertificates {
                client_tls: None,
                root_cert,
            },
        )
        .map_err(|e| {
            crate::error::JitError::invalid(
                "BACKEND_TLS_CA",
                format!("cannot use it as the CA for {shown}: {e}"),
            )
        })?
    } else {
        redis::Client::open(info).map_err(invalid)?
    };
    client
        .get_connection_with_timeout(Duration::from_secs(5))
        // A PING now, so a refused password is reported as such, with the hint.
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c).map(|_| c))
        .map_err(|e| {
            let hint = if settings.tls() && is_certificate_error(&e) {
                match &settings.tls_ca {
                    Some(ca) => format!(
                        "; the server's TLS certificate is not signed by the CA in BACKEND_TLS_CA ({}) or does not name the host",
                        ca.display()
                    ),
                    None => "; the server's TLS certificate is not trusted by the system roots: set BACKEND_TLS_CA to the PEM file of the CA that signed it".into(),
                }
            } else {
                "; check BACKEND_URL/BACKEND_PORT/BACKEND_USER/BACKEND_PASS and that the server is up".into()
            };
            crate::error::JitError::Backend(format!("cannot reach Redis at {shown}: {e}{hint}"))
                .into()
        })
}

fn is_certificate_error(e: &redis::RedisError) -> bool {
    let text = format!("{e:?} {e}").to_ascii_lowercase();
    [
        "certificate",
        "unknownissuer",
        "invalid peer",
        "notvalidforname",
        "badsignature",
    ]
    .iter()
    .any(|w| text.contains(w))
}

fn score(t: Option<Timestamp>) -> String {
    t.map(|t| t.0.to_string()).unwrap_or_default()
}

impl Store for RedisStore {
    fn commit(&self, t: &Transition, events: &[Value]) -> StoreResult<()> {
        let r = &t.next;
        let rec_key = self.key(&format!("req:{}", r.id));
        let holders_key = holder_key(r)
            .map(|k| self.key(&format!("holders:{k}")))
            .unwrap_or_else(|| rec_key.clone());
        let audit =
            serde_json::to_string(&t.audit).map_err(|e| StoreError::corrupt("audit entry", e))?;
        let script = Script::new(COMMIT);
        let mut inv = script.prepare_invoke();
        inv.key(&rec_key)
            .key(self.key(&format!("audit:{}", r.id)))
            .key(self.key("audit"))
            .key(self.key("expiry"))
            .key(self.key("pending"))
            .key(self.key("all"))
            .key(self.key("outbox"))
            .key(&holders_key)
            .key(self.key("unreviewed"))
            .arg(&r.id)
            .arg(t.expected_version.to_string())
            .arg(r.version.to_string())
            .arg(encode(r)?)
            .arg(r.state.as_str())
            .arg(audit)
            .arg(score(r.expiry_score()))
            .arg(score(r.pending_score()))
            .arg(r.created_at.0.to_string())
            .arg(if holds(r) { "1" } else { "0" })
            .arg(events.len().to_string());
        for e in events {
            inv.arg(e.to_string());
        }
        inv.arg(score(r.review_score()));
        let ok: i64 = inv
            .invoke(&mut *self.conn.borrow_mut())
            .map_err(unreachable)?;
        if ok == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    fn get(&self, id: &str) -> StoreResult<Option<Request>> {
        let json: Option<String> = self
            .conn
            .borrow_mut()
            .hget(self.key(&format!("req:{id}")), "json")
            .map_err(unreachable)?;
        json.map(|j| decode(id, &j)).transpose()
    }

    fn list(&self, limit: usize) -> StoreResult<Vec<Listed>> {
        let ids: Vec<String> = self
            .conn
            .borrow_mut()
            .zrevrange(
                self.key("all"),
                0,
                limit.min(isize::MAX as usize) as isize - 1,
            )
            .map_err(unreachable)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.get(&id) {
                Ok(Some(r)) => out.push(Ok(r)),
                Ok(None) => {}
                Err(error @ StoreError::Corrupt { .. }) => out.push(Err(Unreadable { id, error })),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    fn due(&self, now: Timestamp, offset: usize, limit: usize) -> StoreResult<Vec<String>> {
        self.up_to("expiry", now, offset, limit)
    }

    fn stale_pending(
        &self,
        cutoff: Timestamp,
        offset: usize,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        self.up_to("pending", cutoff, offset, limit)
    }

    fn audit(&self, id: &str) -> StoreResult<Vec<AuditEntry>> {
        let reply: redis::streams::StreamRangeReply = self
            .conn
            .borrow_mut()
            .xrange_all(self.key(&format!("audit:{id}")))
            .map_err(unreachable)?;
        reply
            .ids
            .iter()
            .map(|e| {
                let text: String = e.get("entry").ok_or_else(|| {
                    StoreError::corrupt(format!("audit entry {}", e.id), "it has no body")
                })?;
                decode_audit(&text)
            })
            .collect()
    }

    fn outbox(&self, limit: usize) -> StoreResult<Vec<OutboxItem>> {
        let items: Vec<String> = self
            .conn
            .borrow_mut()
            .lrange(self.key("outbox"), 0, limit as isize - 1)
            .map_err(unreachable)?;
        Ok(items
            .into_iter()
            .map(|text| OutboxItem {
                // Undecodable bodies are delivered as a string rather than dropped.
                body: serde_json::from_str(&text).unwrap_or(Value::String(text.clone())),
                handle: text,
            })
            .collect())
    }

    fn outbox_ack(&self, handle: &str) -> StoreResult<()> {
        let _: i64 = self
            .conn
            .borrow_mut()
            .lrem(self.key("outbox"), 1, handle)
            .map_err(unreachable)?;
        Ok(())
    }

    fn try_lock(&self, name: &str, owner: &str, ttl_secs: u64) -> StoreResult<bool> {
        let took: i64 = Script::new(LOCK)
            .key(self.key(&format!("lock:{name}")))
            .arg(owner)
            .arg(ttl_secs.max(1))
            .invoke(&mut *self.conn.borrow_mut())
            .map_err(unreachable)?;
        Ok(took == 1)
    }

    fn unlock(&self, name: &str, owner: &str) -> StoreResult<()> {
        let _: i64 = Script::new(UNLOCK)
            .key(self.key(&format!("lock:{name}")))
            .arg(owner)
            .invoke(&mut *self.conn.borrow_mut())
            .map_err(unreachable)?;
        Ok(())
    }

    fn origin(&self, key: &str) -> StoreResult<Option<String>> {
        self.conn
            .borrow_mut()
            .get(self.key(&format!("origin:{key}")))
            .map_err(unreachable)
    }

    fn set_origin(&self, key: &str, by: Option<&str>) -> StoreResult<()> {
        let k = self.key(&format!("origin:{key}"));
        let mut conn = self.conn.borrow_mut();
        match by {
            Some(by) => conn.set::<_, _, ()>(k, by),
            None => conn.del::<_, ()>(k),
        }
        .map_err(unreachable)
    }

    fn holders(&self, key: &str) -> StoreResult<Vec<String>> {
        let mut ids: Vec<String> = self
            .conn
            .borrow_mut()
            .smembers(self.key(&format!("holders:{key}")))
            .map_err(unreachable)?;
        ids.sort();
        Ok(ids)
    }

    fn tracked(&self) -> StoreResult<u64> {
        self.conn
            .borrow_mut()
            .zcard(self.key("expiry"))
            .map_err(unreachable)
    }

    fn append_audit(&self, entry: &AuditEntry, events: &[Value]) -> StoreResult<()> {
        let text =
            serde_json::to_string(entry).map_err(|e| StoreError::corrupt("audit entry", e))?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("XADD")
            .arg(self.key(&format!("audit:{}", entry.request_id)))
            .arg("*")
            .arg("entry")
            .arg(&text)
            .ignore()
            .cmd("XADD")
            .arg(self.key("audit"))
            .arg("*")
            .arg("request_id")
            .arg(&entry.request_id)
            .arg("entry")
            .arg(&text)
            .ignore();
        for e in events {
            pipe.cmd("RPUSH")
                .arg(self.key("outbox"))
                .arg(e.to_string())
                .ignore();
        }
        pipe.query::<()>(&mut *self.conn.borrow_mut())
            .map_err(unreachable)
    }

    fn unreviewed(
        &self,
        cutoff: Timestamp,
        offset: usize,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        self.up_to("unreviewed", cutoff, offset, limit)
    }
}
