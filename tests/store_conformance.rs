//! One conformance suite, run against both stores: the Redis store on a real
//! redis-server and the embedded SQLite store.

mod common;

use std::time::Duration;

use aws_jit::request::{self, Claim, NewRequest, Request, State, Target};
use aws_jit::store::{local::LocalStore, redis::RedisStore, Store, StoreError};
use aws_jit::time::Timestamp;
use serde_json::json;

type Opener = Box<dyn Fn() -> Box<dyn Store> + Send + Sync>;

fn stores() -> Vec<(&'static str, Box<dyn Store>, Opener, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.sqlite3");
    let prefix = common::unique("conf");
    let url = common::redis_url();
    let p2 = path.clone();
    vec![
        (
            "redis",
            Box::new(RedisStore::connect_url(&url, &prefix).expect("redis")),
            Box::new(move || {
                Box::new(RedisStore::connect_url(&url, &prefix).expect("redis")) as Box<dyn Store>
            }),
            tempfile::tempdir().expect("dir"),
        ),
        (
            "local",
            Box::new(LocalStore::open(&path).expect("local")),
            Box::new(move || Box::new(LocalStore::open(&p2).expect("local")) as Box<dyn Store>),
            dir,
        ),
    ]
}

fn new_request(id: &str, created: u64, target: Target) -> Request {
    Request::new(NewRequest {
        id: id.into(),
        requester: "dev@example.com".into(),
        purpose: "p".into(),
        ttl: Duration::from_secs(60),
        target,
        policy: Some(json!({"Version": "2012-10-17", "Statement": []})),
        policy_name: id.into(),
        policy_source: "file".into(),
        policy_notes: vec![],
        findings: vec![],
        quorum: 1,
        terms: None,
        beneficiary: None,
        permission_set_contents: None,
        now: Timestamp(created),
    })
}

fn claim<'a>(by: &'a str, owner: &'a str, now: u64) -> Claim<'a> {
    Claim {
        by,
        owner,
        lease: Duration::from_secs(30),
        now: Timestamp(now),
    }
}

fn user() -> Target {
    Target::IamUser { name: "u".into() }
}

fn approve(s: &dyn Store, r: &Request, now: u64) -> Request {
    let approvers = vec!["boss@example.com".to_string()];
    let t = request::approve(
        r,
        request::ApproveInput {
            approver: "boss@example.com",
            comment: None,
            acknowledge: &[],
            approvers: &approvers,
            quorum: 1,
        },
        Timestamp(now),
    )
    .expect("approve");
    s.commit(&t, &[]).expect("commit");
    t.next
}

#[test]
fn create_get_and_compare_and_set() {
    for (name, s, _, _d) in stores() {
        let r = new_request("jit-aaaaaaaaaaaa", 100, user());
        s.commit(&request::created(&r), &[]).expect("create");
        assert!(
            matches!(
                s.commit(&request::created(&r), &[]),
                Err(StoreError::Conflict)
            ),
            "{name}: double create"
        );
        assert_eq!(s.get(&r.id).expect("get").as_ref(), Some(&r), "{name}");
        assert_eq!(s.get("jit-nonexistent0").expect("get"), None);
        let t = request::cancel(&r, "dev@example.com", Timestamp(101)).expect("cancel");
        let stale = request::reject(
            &r,
            "boss@example.com",
            "no",
            &["boss@example.com".into()],
            Timestamp(101),
        )
        .expect("reject");
        s.commit(&t, &[]).expect("first writer wins");
        assert!(
            matches!(s.commit(&stale, &[]), Err(StoreError::Conflict)),
            "{name}: stale version accepted"
        );
        let got = s.get(&r.id).expect("get").expect("some");
        assert_eq!(got.state, State::Cancelled, "{name}");
        assert_eq!(got.version, 2);
        let audit = s.audit(&r.id).expect("audit");
        let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(
            actions,
            ["request", "cancel"],
            "{name}: audit has only committed changes"
        );
    }
}

#[test]
fn indexes_follow_state() {
    for (name, s, _, _d) in stores() {
        let a = new_request("jit-aaaaaaaaaaab", 100, user());
        let b = new_request("jit-aaaaaaaaaaac", 200, user());
        for r in [&a, &b] {
            s.commit(&request::created(r), &[]).expect("create");
        }
        assert_eq!(
            s.stale_pending(Timestamp(150), 0, 10).expect("pending"),
            vec![a.id.clone()],
            "{name}"
        );
        assert_eq!(
            s.stale_pending(Timestamp(250), 0, 10)
                .expect("pending")
                .len(),
            2
        );
        assert_eq!(
            s.stale_pending(Timestamp(250), 0, 1).expect("pending"),
            vec![a.id.clone()],
            "{name}: limit"
        );
        let a2 = approve(s.as_ref(), &a, 110);
        // Approved but not attached still waits on people: indexed since approval.
        assert_eq!(
            s.stale_pending(Timestamp(150), 0, 10).expect("pending"),
            vec![a.id.clone()],
            "{name}"
        );
        assert_eq!(
            s.stale_pending(Timestamp(250), 1, 10).expect("pending"),
            vec![b.id.clone()],
            "{name}: offset"
        );
        assert!(
            s.due(Timestamp(10_000), 0, 10).expect("due").is_empty(),
            "{name}: approved without intent is not due"
        );
        let t = request::begin_attach(&a2, &claim("x", "o", 120)).expect("attach");
        s.commit(&t, &[]).expect("commit");
        assert_eq!(
            s.stale_pending(Timestamp(250), 0, 10).expect("pending"),
            vec![b.id.clone()],
            "{name}: attaching left it"
        );
        assert!(
            s.due(Timestamp(179), 0, 10).expect("due").is_empty(),
            "{name}"
        );
        assert_eq!(
            s.due(Timestamp(180), 0, 10).expect("due"),
            vec![a.id.clone()],
            "{name}: due at expiry"
        );
        let done =
            request::attached(&t.next, "x", Default::default(), Timestamp(121)).expect("attached");
        s.commit(&done, &[]).expect("commit");
        let claimed = request::begin_removal(
            &done.next,
            request::RemovalReason::Expired,
            &claim("e", "o", 200),
        )
        .expect("claim");
        s.commit(&claimed, &[]).expect("commit");
        let fin = request::removed(&claimed.next, "e", Timestamp(201)).expect("removed");
        s.commit(&fin, &[]).expect("commit");
        assert!(
            s.due(Timestamp(10_000), 0, 10).expect("due").is_empty(),
            "{name}: removed leaves the index"
        );
        let listed: Vec<String> = s
            .list(10)
            .expect("list")
            .into_iter()
            .map(|r| r.expect("readable").id)
            .collect();
        assert_eq!(
            listed,
            vec![b.id.clone(), a.id.clone()],
            "{name}: newest first"
        );
    }
}

#[test]
fn outbox_is_ordered_and_acknowledged_once() {
    for (name, s, _, _d) in stores() {
        let r = new_request("jit-aaaaaaaaaaad", 100, user());
        let events = vec![json!({"n": 1}), json!({"n": 2})];
        s.commit(&request::created(&r), &events).expect("create");
        let items = s.outbox(10).expect("outbox");
        assert_eq!(
            items
                .iter()
                .map(|i| i.body["n"].as_i64())
                .collect::<Vec<_>>(),
            [Some(1), Some(2)],
            "{name}"
        );
        s.outbox_ack(&items[0].handle).expect("ack");
        let items = s.outbox(10).expect("outbox");
        assert_eq!(items.len(), 1, "{name}");
        assert_eq!(items[0].body["n"], 2);
        // Events belong to the commit: a refused commit queues nothing.
        let _ = s.commit(&request::created(&r), &[json!({"n": 3})]);
        assert_eq!(
            s.outbox(10).expect("outbox").len(),
            1,
            "{name}: events of a failed commit were queued"
        );
    }
}

#[test]
fn locks_are_exclusive_until_released() {
    for (name, s, open, _d) in stores() {
        let other = open();
        assert!(s.try_lock("outbox", "a", 30).expect("lock"), "{name}");
        assert!(
            !other.try_lock("outbox", "b", 30).expect("lock"),
            "{name}: second holder"
        );
        other
            .unlock("outbox", "b")
            .expect("unlock by non-owner is a no-op");
        assert!(!other.try_lock("outbox", "b", 30).expect("lock"), "{name}");
        s.unlock("outbox", "a").expect("unlock");
        assert!(other.try_lock("outbox", "b", 30).expect("lock"), "{name}");
    }
}

/// The owner renews its own lock (an assignment's lock is renewed while its holder
/// works); nobody else takes it meanwhile.
#[test]
fn the_owner_renews_its_lock() {
    for (name, s, open, _d) in stores() {
        let other = open();
        assert!(s.try_lock("assignment|k", "a", 1).expect("lock"), "{name}");
        std::thread::sleep(Duration::from_millis(600));
        assert!(s.try_lock("assignment|k", "a", 2).expect("renew"), "{name}");
        std::thread::sleep(Duration::from_millis(1100));
        assert!(
            !other.try_lock("assignment|k", "b", 30).expect("lock"),
            "{name}: taken although renewed"
        );
        s.unlock("assignment|k", "a").expect("unlock");
        assert!(
            other.try_lock("assignment|k", "b", 30).expect("lock"),
            "{name}"
        );
    }
}

/// Who made a shared assignment: written, read from another connection, replaced,
/// forgotten; keys are independent.
#[test]
fn origins_are_kept_per_assignment_until_forgotten() {
    for (name, s, open, _d) in stores() {
        let other = open();
        let key = "sso|ins|111122223333|arn:ps|user-1";
        assert_eq!(s.origin(key).expect("origin"), None, "{name}");
        s.set_origin(key, Some("jit-a")).expect("set");
        assert_eq!(
            other.origin(key).expect("origin").as_deref(),
            Some("jit-a"),
            "{name}"
        );
        assert_eq!(
            other
                .origin("sso|ins|111122223333|arn:ps|user-2")
                .expect("origin"),
            None
        );
        other.set_origin(key, Some("jit-b")).expect("replace");
        assert_eq!(
            s.origin(key).expect("origin").as_deref(),
            Some("jit-b"),
            "{name}"
        );
        s.set_origin(key, None).expect("forget");
        s.set_origin(key, None)
            .expect("forgetting twice is harmless");
        assert_eq!(other.origin(key).expect("origin"), None, "{name}");
    }
}

#[test]
fn holders_track_active_grants_on_a_shared_object() {
    for (name, s, _, _d) in stores() {
        let target = Target::Sso {
            user: "Alice".into(),
            account_id: "123456789012".into(),
            permission_set: Some("ReadOnly".into()),
        };
        let a = new_request("jit-aaaaaaaaaaae", 100, target.clone());
        s.commit(&request::created(&a), &[]).expect("create");
        let key = aws_jit::store::holder_key(&a).expect("shared");
        assert!(
            s.holders(&key).expect("holders").is_empty(),
            "{name}: pending holds nothing"
        );
        let a2 = approve(s.as_ref(), &a, 101);
        let t = request::begin_attach(&a2, &claim("x", "o", 102)).expect("attach");
        s.commit(&t, &[]).expect("commit");
        assert_eq!(
            s.holders(&key).expect("holders"),
            vec![a.id.clone()],
            "{name}"
        );
        let claimed = request::begin_removal(
            &t.next,
            request::RemovalReason::Revoked,
            &claim("e", "o2", 400),
        )
        .expect("claim");
        // The attach lease (until 132) has run out by 400, so removal may claim.
        assert!(claimed.next.lease.is_some());
        s.commit(&claimed, &[]).expect("commit");
        assert!(
            s.holders(&key).expect("holders").is_empty(),
            "{name}: removing no longer holds"
        );
    }
}

#[test]
fn concurrent_writers_exactly_one_wins() {
    for (name, s, open, _d) in stores() {
        let r = new_request("jit-aaaaaaaaaaaf", 100, user());
        s.commit(&request::created(&r), &[]).expect("create");
        let r2 = approve(s.as_ref(), &r, 101);
        let wins: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let r2 = r2.clone();
                    let open = &open;
                    scope.spawn(move || {
                        let store = open();
                        let owner = format!("o{i}");
                        let t = request::begin_attach(&r2, &claim("x", &owner, 102)).expect("t");
                        usize::from(store.commit(&t, &[]).is_ok())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("join")).sum()
        });
        assert_eq!(
            wins, 1,
            "{name}: {wins} writers won the same compare-and-set"
        );
    }
}

/// Access rules: break-glass requests awaiting their review are indexed by when they were
/// last announced, in both stores, and leave the index when reviewed.
#[test]
fn unreviewed_break_glass_index() {
    for (name, s, _, _d) in stores() {
        let terms = request::Terms {
            approvers: vec!["boss@example.com".into()],
            max_ttl_secs: 3600,
            pending_timeout_secs: 86400,
            allowed_services: None,
            rule: Some("admin".into()),
            rules_sha256: Some("0".repeat(64)),
            approval: request::ApprovalMode::Required,
            extensions: 0,
            break_glass: true,
        };
        let mut ids = Vec::new();
        for (id, at) in [("jit-bbbbbbbbbbb2", 200), ("jit-bbbbbbbbbbb1", 100)] {
            let mut r = new_request(id, at, user());
            r.terms = Some(terms.clone());
            let t = request::break_glass_created(&r, "incident").expect("break-glass");
            s.commit(&t, &[]).expect("commit");
            ids.push(t.next);
        }
        // A plain request is never in it.
        let plain = new_request("jit-bbbbbbbbbbb3", 50, user());
        s.commit(&request::created(&plain), &[]).expect("commit");
        assert_eq!(
            s.unreviewed(Timestamp(1000), 0, 10).expect("index"),
            ["jit-bbbbbbbbbbb1", "jit-bbbbbbbbbbb2"],
            "{name}: oldest first"
        );
        assert_eq!(
            s.unreviewed(Timestamp(150), 0, 10).expect("index"),
            ["jit-bbbbbbbbbbb1"],
            "{name}: by score"
        );
        assert_eq!(
            s.unreviewed(Timestamp(1000), 1, 10).expect("index"),
            ["jit-bbbbbbbbbbb2"],
            "{name}: offset"
        );
        // A reminder moves it to the back; a review takes it out.
        let times = request::ReminderTimes {
            every: Duration::from_secs(60),
            warn_before: Duration::from_secs(60),
        };
        let first = &ids[1];
        let t = request::remind(
            first,
            request::ReminderKind::Review,
            times,
            Timestamp(500),
            Timestamp(500),
        )
        .expect("remind");
        s.commit(&t, &[]).expect("commit");
        assert_eq!(
            s.unreviewed(Timestamp(1000), 0, 10).expect("index"),
            ["jit-bbbbbbbbbbb2", "jit-bbbbbbbbbbb1"],
            "{name}: re-announced goes last"
        );
        let approvers = vec!["boss@example.com".to_string()];
        let t = request::review(
            &t.next,
            "boss@example.com",
            "ok",
            &approvers,
            Timestamp(600),
        )
        .expect("review");
        s.commit(&t, &[]).expect("commit");
        assert_eq!(
            s.unreviewed(Timestamp(1000), 0, 10).expect("index"),
            ["jit-bbbbbbbbbbb2"],
            "{name}: reviewed leaves"
        );
    }
}
