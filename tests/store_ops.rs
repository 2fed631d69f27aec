//! The store operations reconcile and expire added (tracked count, audit entries that
//! change no record), run against both stores; and the embedded store's file checks.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use aws_jit::request::{self, AuditAction, AuditEntry, Claim, NewRequest, Request, State, Target};
use aws_jit::store::{local::LocalStore, redis::RedisStore, Store};
use aws_jit::time::Timestamp;
use serde_json::json;

fn stores() -> Vec<(&'static str, Box<dyn Store>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.sqlite3");
    vec![
        (
            "redis",
            Box::new(
                RedisStore::connect_url(&common::redis_url(), &common::unique("ops"))
                    .expect("redis"),
            ),
            tempfile::tempdir().expect("dir"),
        ),
        (
            "local",
            Box::new(LocalStore::open(&path).expect("local")),
            dir,
        ),
    ]
}

fn request(id: &str) -> Request {
    Request::new(NewRequest {
        id: id.into(),
        requester: "dev@example.com".into(),
        purpose: "p".into(),
        ttl: Duration::from_secs(60),
        target: Target::IamUser { name: "u".into() },
        policy: Some(json!({"Version": "2012-10-17", "Statement": []})),
        policy_name: id.into(),
        policy_source: "file".into(),
        policy_notes: vec![],
        findings: vec![],
        quorum: 1,
        now: Timestamp(100),
        terms: None,
        beneficiary: None,
        permission_set_contents: None,
    })
}

#[test]
fn tracked_counts_the_expiry_index() {
    for (name, s, _d) in stores() {
        assert_eq!(s.tracked().expect("tracked"), 0, "{name}");
        let r = request("jit-trackedaaaaa");
        s.commit(&request::created(&r), &[]).expect("create");
        assert_eq!(
            s.tracked().expect("tracked"),
            0,
            "{name}: pending is not tracked"
        );
        let approvers = vec!["boss@example.com".to_string()];
        let t = request::approve(
            &r,
            request::ApproveInput {
                approver: "boss@example.com",
                comment: None,
                acknowledge: &[],
                approvers: &approvers,
                quorum: 1,
            },
            Timestamp(101),
        )
        .expect("approve");
        s.commit(&t, &[]).expect("approve");
        let claim = Claim {
            by: "x",
            owner: "o",
            lease: Duration::from_secs(60),
            now: Timestamp(102),
        };
        let t = request::begin_attach(&t.next, &claim).expect("attach");
        s.commit(&t, &[]).expect("attach");
        assert_eq!(
            s.tracked().expect("tracked"),
            1,
            "{name}: attaching is tracked"
        );
    }
}

#[test]
fn append_audit_adds_an_entry_and_events_without_a_record() {
    for (name, s, _d) in stores() {
        let entry = AuditEntry {
            request_id: "jit-unknownaaaaa".into(),
            at: Timestamp(5),
            by: "reconcile".into(),
            action: AuditAction::Reconcile,
            from: None,
            to: State::Expired,
            reason: Some("removed an orphan".into()),
            mac: None,
        };
        s.append_audit(&entry, &[json!({"event": "reconciled"})])
            .expect("append");
        assert_eq!(
            s.audit("jit-unknownaaaaa").expect("audit"),
            vec![entry],
            "{name}"
        );
        assert_eq!(s.get("jit-unknownaaaaa").expect("get"), None, "{name}");
        let out = s.outbox(10).expect("outbox");
        assert_eq!(out.len(), 1, "{name}");
        assert_eq!(out[0].body["event"], "reconciled", "{name}");
    }
}

#[test]
fn embedded_store_is_private_and_refuses_files_not_its_own() {
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state/nested");
    let path = state.join("aws-jit.sqlite3");
    LocalStore::open(&path).expect("create");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600, "store file");
    assert_eq!(mode(&state), 0o700, "store directory");
    assert_eq!(mode(&dir.path().join("state")), 0o700, "created parent");
    // Reopening our own store works.
    LocalStore::open(&path).expect("reopen");

    let refused = |p: &std::path::Path, want: &str| {
        let err = match LocalStore::open(p) {
            Ok(_) => panic!("{} was accepted", p.display()),
            Err(e) => format!("{e:#}"),
        };
        assert!(
            err.contains(&p.display().to_string()),
            "does not name the file: {err}"
        );
        assert!(err.contains(want), "{err}");
    };
    let empty = dir.path().join("empty.sqlite3");
    std::fs::write(&empty, b"").expect("write");
    refused(&empty, "empty file (0 bytes)");
    assert_eq!(
        std::fs::metadata(&empty).expect("meta").len(),
        0,
        "left untouched"
    );

    let text = dir.path().join("text.sqlite3");
    std::fs::write(&text, b"this is a shopping list, not a database\n").expect("write");
    refused(&text, "not an SQLite database");

    let foreign = dir.path().join("foreign.sqlite3");
    let db = rusqlite::Connection::open(&foreign).expect("sqlite");
    db.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        .expect("foreign db");
    drop(db);
    refused(&foreign, "not an aws-jit store");

    // A store made by an earlier version (our tables, no marker) is adopted.
    let older = dir.path().join("older.sqlite3");
    let db = rusqlite::Connection::open(&older).expect("sqlite");
    db.execute_batch("CREATE TABLE requests (id TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL, json TEXT NOT NULL);")
        .expect("older db");
    drop(db);
    LocalStore::open(&older).expect("an earlier aws-jit store is adopted");
}

/// Second review, finding 6: a store file or directory others can write (or a symlink, or
/// a file someone else owns) is refused, naming what to run; one others can only read is
/// made private. Before: all of these were used as they were, without a word.
#[test]
fn embedded_store_refuses_files_and_directories_others_can_write() {
    use std::os::unix::fs::MetadataExt;
    let chmod = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
    };
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o7777;
    let refused = |p: &std::path::Path, want: &str| {
        let err = match LocalStore::open(p) {
            Ok(_) => panic!("{} was accepted ({want})", p.display()),
            Err(e) => e,
        };
        let text = format!("{err:#}");
        assert!(text.contains(want), "{text}");
        let typed = err
            .downcast_ref::<aws_jit::store::StoreError>()
            .expect("a store error");
        assert_eq!(
            typed.exit_code(),
            aws_jit::error::ExitCode::Backend,
            "{text}"
        );
    };
    let fresh = || {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("aws-jit.sqlite3");
        LocalStore::open(&path).expect("create");
        (dir, path)
    };

    // A file anyone can write.
    let (_d, path) = fresh();
    chmod(&path, 0o666);
    refused(&path, &format!("run `chmod 600 {}`", path.display()));
    assert_eq!(mode(&path), 0o666, "left as it was, for its owner to check");
    // A group-writable one too.
    chmod(&path, 0o620);
    refused(&path, "writable by others (mode 620)");

    // A file others can only read is ours: made private, then used.
    chmod(&path, 0o644);
    LocalStore::open(&path).expect("a readable store of our own is made private");
    assert_eq!(mode(&path), 0o600);

    // A directory anyone can write, sticky or not.
    let (d, path) = fresh();
    for m in [0o777, 0o1777, 0o770] {
        chmod(d.path(), m);
        refused(&path, &format!("run `chmod 700 {}`", d.path().display()));
    }
    chmod(d.path(), 0o755);
    LocalStore::open(&path).expect("a directory others can read is fine");

    // A symlink to a store elsewhere (someone else's, or one they can swap).
    let (d, path) = fresh();
    let (_elsewhere, target) = fresh();
    std::fs::remove_file(&path).expect("rm");
    std::os::unix::fs::symlink(&target, &path).expect("symlink");
    refused(&path, "symbolic link");
    // A dangling one is not followed to create a file where it points.
    let dangling = d.path().join("dangling.sqlite3");
    std::os::unix::fs::symlink(d.path().join("nowhere"), &dangling).expect("symlink");
    refused(&dangling, "symbolic link");
    assert!(!d.path().join("nowhere").exists());

    // A journal file beside the store that others can write.
    let (_d, path) = fresh();
    let wal = path.with_file_name("aws-jit.sqlite3-wal");
    std::fs::write(&wal, b"").expect("wal");
    chmod(&wal, 0o666);
    refused(&path, "sqlite3-wal");

    // Owned by another user (testable as root only: chown needs it).
    if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
        let (d, path) = fresh();
        std::os::unix::fs::chown(&path, Some(65534), None).expect("chown file");
        refused(&path, "owned by uid 65534");
        std::os::unix::fs::chown(&path, Some(0), None).expect("chown back");
        std::os::unix::fs::chown(d.path(), Some(65534), None).expect("chown dir");
        refused(&path, "the directory is owned by uid 65534");
    } else {
        eprintln!("skipped the other-owner cases: not running as root");
    }
}

/// The reviewer's test through the binary: `expire` on a store others can write stops
/// with exit 6 and says what to fix, instead of acting on it.
#[test]
fn the_embedded_store_refuses_or_fixes_a_store_others_can_write() {
    use common::{Backend, Jit};
    let j = Jit::new(Backend::Local);
    j.run(&["status"]).ok();
    let dir = j.state_dir();
    let file = dir.join("aws-jit.sqlite3");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let r = j.run(&["expire"]).code(6);
    assert!(r.stderr.contains("chmod 700"), "{}", r.stderr);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let r = j.run(&["expire"]).code(6);
    assert!(r.stderr.contains("chmod 600"), "{}", r.stderr);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    j.run(&["expire"]).ok();
}
