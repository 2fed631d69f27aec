//! The embedded store: one SQLite file. Each commit is a `BEGIN IMMEDIATE` transaction,
//! which SQLite serialises across processes, so the compare-and-set on the version is as
//! atomic here as the Lua script is in Redis.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::Value;

use super::{
    decode, decode_audit, encode, holder_key, holds, Listed, OutboxItem, Store, StoreError,
    StoreResult, Unreadable,
};
use crate::request::{AuditEntry, Request, Transition};
use crate::time::Timestamp;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS requests (id TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL,
  created_at INTEGER NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS requests_created ON requests(created_at);
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_request ON audit(request_id, seq);
CREATE TABLE IF NOT EXISTS expiry (id TEXT PRIMARY KEY, due INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS expiry_due ON expiry(due);
CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY, created INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS pending_created ON pending(created);
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS holders (key TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (key, id));
CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS unreviewed (id TEXT PRIMARY KEY, since INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS unreviewed_since ON unreviewed(since);
CREATE TABLE IF NOT EXISTS origins (key TEXT PRIMARY KEY, by TEXT NOT NULL);
";

pub struct LocalStore {
    db: Connection,
}

fn io(e: rusqlite::Error) -> StoreError {
    StoreError::Unreachable {
        store: "embedded store",
        source: Box::new(e),
    }
}

/// Marks an SQLite file as an aws-jit store (`PRAGMA application_id`, "AJIT").
const APPLICATION_ID: i32 = 0x414a_4954;

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

fn refuse(path: &Path, why: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(
        format!("embedded store {}", path.display()),
        format!(
            "{why}; refusing to use it (that would silently forget every grant it tracks). \
             Restore it from a backup, point JIT_STATE_DIR elsewhere, or move the file away to start an empty store"
        ),
    )
}

impl LocalStore {
    /// Open the store at `path`, creating it (0600, in a 0700 directory) when missing. A
    /// file that is empty, not SQLite, or another program's database is refused, naming it;
    /// so is a file or directory others can write, or a symlink (see `private.rs`).
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_dir(dir).with_context(|| {
                format!(
                    "creating the state directory {} (set JIT_STATE_DIR to move it)",
                    dir.display()
                )
            })?;
            super::private::check_dir(dir)?;
        }
        // Before anything is read: a store others can write is refused, never used.
        super::private::check_files(path)?;
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.len() == 0 => {
                return Err(
                    refuse(path, "it is an empty file (0 bytes), not an aws-jit store").into(),
                )
            }
            Ok(_) => check_header(path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path)?,
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("reading the embedded store {}", path.display())))
            }
        }
        let db = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
                | rusqlite::OpenFlags::SQLITE_OPEN_NOFOLLOW,
        )
        .with_context(|| format!("opening the embedded store {}", path.display()))?;
        let named =
            |e: rusqlite::Error| refuse(path, format!("it cannot be read as a database ({e})"));
        db.busy_timeout(Duration::from_secs(15)).map_err(io)?;
        let app: i32 = db
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(named)?;
        if app != APPLICATION_ID {
            // A store made before the marker existed has our tables: adopt it.
            let ours: bool = db
                .query_row(
                    "SELECT COUNT(*) = 1 FROM sqlite_master WHERE type = 'table' AND name = 'requests'",
                    [],
                    |r| r.get(0),
                )
                .map_err(named)?;
            if app != 0 || !ours {
                return Err(refuse(
                    path,
                    "it is not an aws-jit store (another program's database?)",
                )
                .into());
            }
            db.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(named)?;
        }
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(named)?;
        db.pragma_update(None, "synchronous", "NORMAL")
            .map_err(named)?;
        db.execute_batch(SCHEMA).map_err(named)?;
        Ok(LocalStore { db })
    }

    fn ids(&self, sql: &str, bound: i64, offset: usize, limit: usize) -> StoreResult<Vec<String>> {
        let mut stmt = self.db.prepare_cached(sql).map_err(io)?;
        let rows = stmt
            .query_map(params![bound, limit as i64, offset as i64], |r| {
                r.get::<_, String>(0)
            })
            .map_err(io)?;
        rows.collect::<Result<_, _>>().map_err(io)
    }
}

/// Create the directory (and its parents) readable by the owner only.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Refuse a file that does not start like an SQLite database.
fn check_header(path: &Path) -> Result<(), StoreError> {
    use std::io::Read;
    let mut head = [0u8; 16];
    use std::os::unix::fs::OpenOptionsExt;
    let read = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .and_then(|mut f| f.read_exact(&mut head));
    match read {
        Ok(()) if &head == SQLITE_HEADER => Ok(()),
        Ok(()) => Err(refuse(path, "it is not an SQLite database")),
        Err(e) => Err(refuse(path, format!("it cannot be read ({e})"))),
    }
}

/// Make a new, marked, empty store at `path`: built aside (0600) and linked into place,
/// so no other process ever sees a half-made file; when another process created it
/// first, theirs is used.
fn create(path: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_file_name(format!(
        ".{}.new-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating the embedded store {}", path.display()))?;
    let built = (|| -> rusqlite::Result<()> {
        let db = Connection::open(&tmp)?;
        db.pragma_update(None, "application_id", APPLICATION_ID)?;
        db.execute_batch(SCHEMA)?;
        db.close().map_err(|(_, e)| e)
    })();
    let linked =
        built
            .map_err(anyhow::Error::from)
            .and_then(|()| match std::fs::hard_link(&tmp, path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(e.into()),
            });
    let _ = std::fs::remove_file(&tmp);
    linked.with_context(|| format!("creating the embedded store {}", path.display()))
}

fn opt_score(t: Option<Timestamp>) -> Option<i64> {
    t.map(|t| t.0 as i64)
}

/// Keep `id`'s row in the score index `table` (one of the store's own tables) in step
/// with the record: its score when it has one, no row when it has none.
fn set_score(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    column: &str,
    id: &str,
    score: Option<i64>,
) -> StoreResult<()> {
    match score {
        Some(s) => tx.execute(
            &format!(
                "INSERT INTO {table} (id, {column}) VALUES (?1, ?2) \
                 ON CONFLICT(id) DO UPDATE SET {column} = excluded.{column}"
            ),
            params![id, s],
        ),
        None => tx.execute(&format!("DELETE FROM {table} WHERE id = ?1"), params![id]),
    }
    .map(|_| ())
    .map_err(io)
}

impl Store for LocalStore {
    fn commit(&self, t: &Transition, events: &[Value]) -> StoreResult<()> {
        let r: &Request = &t.next;
        // IMMEDIATE takes the write lock up front, so concurrent processes queue on
        // busy_timeout instead of failing on a read-to-write upgrade. Unchecked because
        // the store holds the connection behind &self; it is never shared across threads.
        let tx =
            Transaction::new_unchecked(&self.db, TransactionBehavior::Immediate).map_err(io)?;
        let cur: Option<i64> = tx
            .query_row(
                "SELECT version FROM requests WHERE id = ?1",
                params![r.id],
                |row| row.get(0),
            )
            .optional()
            .map_err(io)?;
        let matches = match cur {
            None => t.expected_version == 0,
            Some(v) => t.expected_version != 0 && v as u64 == t.expected_version,
        };
        if !matches {
            return Err(StoreError::Conflict);
        }
        tx.execute(
            "INSERT INTO requests (id, version, state, created_at, json) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET version = excluded.version, state = excluded.state, json = excluded.json",
            params![r.id, r.version as i64, r.state.as_str(), r.created_at.0 as i64, encode(r)?],
        )
        .map_err(io)?;
        let audit =
            serde_json::to_string(&t.audit).map_err(|e| StoreError::corrupt("audit entry", e))?;
        tx.execute(
            "INSERT INTO audit (request_id, json) VALUES (?1, ?2)",
            params![r.id, audit],
        )
        .map_err(io)?;
        set_score(&tx, "expiry", "due", &r.id, opt_score(r.expiry_score()))?;
        set_score(
            &tx,
            "pending",
            "created",
            &r.id,
            opt_score(r.pending_score()),
        )?;
        if let Some(k) = holder_key(r) {
            if holds(r) {
                tx.execute(
                    "INSERT OR IGNORE INTO holders (key, id) VALUES (?1, ?2)",
                    params![k, r.id],
                )
            } else {
                tx.execute(
                    "DELETE FROM holders WHERE key = ?1 AND id = ?2",
                    params![k, r.id],
                )
            }
            .map_err(io)?;
        }
        // Break-glass requests awaiting review (access rules).
        set_score(
            &tx,
            "unreviewed",
            "since",
            &r.id,
            opt_score(r.review_score()),
        )?;
        for e in events {
            tx.execute(
                "INSERT INTO outbox (json) VALUES (?1)",
                params![e.to_string()],
            )
            .map_err(io)?;
        }
        tx.commit().map_err(io)
    }

    fn get(&self, id: &str) -> StoreResult<Option<Request>> {
        let json: Option<String> = self
            .db
            .query_row(
                "SELECT json FROM requests WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .map_err(io)?;
        json.map(|j| decode(id, &j)).transpose()
    }

    fn list(&self, limit: usize) -> StoreResult<Vec<Listed>> {
        let mut stmt = self
            .db
            .prepare("SELECT id, json FROM requests ORDER BY created_at DESC, id DESC LIMIT ?1")
            .map_err(io)?;
        let rows = stmt
            .query_map(params![limit.min(i64::MAX as usize) as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(io)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row.map_err(io)?;
            out.push(decode(&id, &json).map_err(|error| Unreadable { id, error }));
        }
        Ok(out)
    }

    fn due(&self, now: Timestamp, offset: usize, limit: usize) -> StoreResult<Vec<String>> {
        self.ids(
            "SELECT id FROM expiry WHERE due <= ?1 ORDER BY due, id LIMIT ?2 OFFSET ?3",
            now.0 as i64,
            offset,
            limit,
        )
    }

    fn stale_pending(
        &self,
        cutoff: Timestamp,
        offset: usize,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        self.ids(
            "SELECT id FROM pending WHERE created <= ?1 ORDER BY created, id LIMIT ?2 OFFSET ?3",
            cutoff.0 as i64,
            offset,
            limit,
        )
    }

    fn audit(&self, id: &str) -> StoreResult<Vec<AuditEntry>> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT json FROM audit WHERE request_id = ?1 ORDER BY seq")
            .map_err(io)?;
        let rows = stmt
            .query_map(params![id], |r| r.get::<_, String>(0))
            .map_err(io)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(decode_audit(&row.map_err(io)?)?);
        }
        Ok(out)
    }

    fn outbox(&self, limit: usize) -> StoreResult<Vec<OutboxItem>> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT seq, json FROM outbox ORDER BY seq LIMIT ?1")
            .map_err(io)?;
        let rows = stmt
            .query_map(params![limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(io)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, text) = row.map_err(io)?;
            out.push(OutboxItem {
                handle: seq.to_string(),
                body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
            });
        }
        Ok(out)
    }

    fn outbox_ack(&self, handle: &str) -> StoreResult<()> {
        self.db
            .execute("DELETE FROM outbox WHERE seq = ?1", params![handle])
            .map_err(io)?;
        Ok(())
    }

    fn try_lock(&self, name: &str, owner: &str, ttl_secs: u64) -> StoreResult<bool> {
        let now = Timestamp::now().0 as i64;
        let changed = self
            .db
            .execute(
                "INSERT INTO locks (name, owner, until) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, until = excluded.until
                 WHERE locks.until < ?4 OR locks.owner = excluded.owner",
                params![name, owner, now + ttl_secs.max(1) as i64, now],
            )
            .map_err(io)?;
        Ok(changed == 1)
    }

    fn unlock(&self, name: &str, owner: &str) -> StoreResult<()> {
        self.db
            .execute(
                "DELETE FROM locks WHERE name = ?1 AND owner = ?2",
                params![name, owner],
            )
            .map_err(io)?;
        Ok(())
    }

    fn origin(&self, key: &str) -> StoreResult<Option<String>> {
        self.db
            .query_row("SELECT by FROM origins WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(io)
    }

    fn set_origin(&self, key: &str, by: Option<&str>) -> StoreResult<()> {
        match by {
            Some(by) => self.db.execute(
                "INSERT INTO origins (key, by) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET by = excluded.by",
                params![key, by],
            ),
            None => self
                .db
                .execute("DELETE FROM origins WHERE key = ?1", params![key]),
        }
        .map_err(io)?;
        Ok(())
    }

    fn tracked(&self) -> StoreResult<u64> {
        self.db
            .query_row("SELECT COUNT(*) FROM expiry", [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(io)
    }

    fn append_audit(&self, entry: &AuditEntry, events: &[Value]) -> StoreResult<()> {
        let text =
            serde_json::to_string(entry).map_err(|e| StoreError::corrupt("audit entry", e))?;
        let tx =
            Transaction::new_unchecked(&self.db, TransactionBehavior::Immediate).map_err(io)?;
        tx.execute(
            "INSERT INTO audit (request_id, json) VALUES (?1, ?2)",
            params![entry.request_id, text],
        )
        .map_err(io)?;
        for e in events {
            tx.execute(
                "INSERT INTO outbox (json) VALUES (?1)",
                params![e.to_string()],
            )
            .map_err(io)?;
        }
        tx.commit().map_err(io)
    }

    fn holders(&self, key: &str) -> StoreResult<Vec<String>> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT id FROM holders WHERE key = ?1 ORDER BY id")
            .map_err(io)?;
        let rows = stmt
            .query_map(params![key], |r| r.get::<_, String>(0))
            .map_err(io)?;
        rows.collect::<Result<_, _>>().map_err(io)
    }

    fn unreviewed(
        &self,
        cutoff: Timestamp,
        offset: usize,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        self.ids(
            "SELECT id FROM unreviewed WHERE since <= ?1 ORDER BY since, id LIMIT ?2 OFFSET ?3",
            cutoff.0 as i64,
            offset,
            limit,
        )
    }
}
