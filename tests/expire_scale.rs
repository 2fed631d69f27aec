//! `expire` as a scheduler runs it: it says which store it read and how many grants it
//! tracks, refuses a store file that is not its own, and a run that reaches its horizon
//! starts no new removal and says how many are left (the next run takes them). Speed is
//! measured by `make bench`, not here.

mod common;
mod fault_support;

use common::*;
use fault_support::{AccountIam, FaultProxy};
use serde_json::json;

#[test]
fn expire_names_its_store_and_what_it_tracks() {
    for backend in BOTH {
        let jit = Jit::new(backend);
        let v = jit.run(&["expire", "--output", "json"]).ok().json();
        assert_eq!(v["tracked"], 0);
        let store = v["store"].as_str().unwrap_or_default().to_string();
        match backend {
            Backend::Redis => {
                assert!(store.starts_with("Redis redis://"), "{store}");
                assert!(store.contains(&jit.prefix), "{store}");
            }
            Backend::Local => assert!(
                store.contains(&jit.state_dir().display().to_string()),
                "{store}"
            ),
        }
        let text = jit.run(&["expire"]).ok().stdout;
        assert!(text.contains("tracking 0 grant(s)"), "{text}");
        let id = jit.request_user("alice", &[]);
        jit.run(&["approve", &id, "--approver", APPROVER]).ok();
        // An approval is not tracked until it is attached (its expiry recorded).
        let v = jit.run(&["expire", "--output", "json"]).ok().json();
        assert_eq!(v["tracked"], 0);
    }
}

/// A store file truncated to 0 bytes, or not a store at all, stops `expire` with an error
/// naming the file (before: a silent fresh store, "nothing due", exit 0 forever).
#[test]
fn expire_refuses_an_empty_or_foreign_store_file() {
    let jit = Jit::new(Backend::Local);
    jit.run(&["expire"]).ok();
    let file = jit.state_dir().join("aws-jit.sqlite3");
    std::fs::write(&file, b"").expect("truncate");
    let r = jit.run(&["expire"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains(&file.display().to_string()),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("0 bytes"), "{}", r.stderr);
    std::fs::write(&file, b"garbage that is not sqlite").expect("write");
    let r = jit.run(&["expire"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains(&file.display().to_string()),
        "{}",
        r.stderr
    );
    // A set-but-empty BACKEND_URL is a usage error, never the embedded store.
    let mut empty = Jit::new(Backend::Local);
    empty.set("BACKEND_URL", "  ");
    empty.run(&["expire"]).code(2);
}

/// A run stops starting removals at its horizon (JIT_LEASE after it began), reports how
/// many are left, and the next run takes them; none is removed twice.
#[test]
fn a_run_stops_at_its_horizon_and_says_how_many_remain() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let mut j = Jit::new(Backend::Redis);
    j.set("AWS_ENDPOINT_URL", &proxy.url);
    let ids: Vec<String> = (0..6)
        .map(|_| {
            let id = j.request_user(&user, &[]);
            j.approve_and_attach(&id);
            id
        })
        .collect();
    // One at a time, each removal slower than the run's horizon.
    proxy.rule(json!({"op": "DeletePolicy", "times": -1, "action": "delay", "delay_ms": 1200}));
    j.set("JIT_LEASE", "1s").set("JIT_EXPIRE_CONCURRENCY", "1");
    let v = j
        .run(&["expire", "--at", FAR_FUTURE, "--output", "json"])
        .ok()
        .json();
    let done = v["expired"].as_array().map(Vec::len).unwrap_or(0);
    let remaining = v["remaining"].as_u64().unwrap_or(0) as usize;
    assert!(done >= 1, "{v:#}");
    assert!(remaining >= 1, "{v:#}");
    assert_eq!(done + remaining, ids.len(), "{v:#}");
    let text = j.run(&["expire", "--at", FAR_FUTURE]).ok().stdout;
    if done + 1 < ids.len() {
        assert!(text.contains("left for the next run"), "{text}");
    }
    proxy.clear();
    j.set("JIT_LEASE", "60s");
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    for id in &ids {
        assert_eq!(j.state(id), "expired");
        let timeline = j.record(id)["timeline"].to_string();
        assert_eq!(timeline.matches("\"expire\"").count(), 1, "{timeline}");
    }
    assert!(iam.jit_policies().is_empty());
}
