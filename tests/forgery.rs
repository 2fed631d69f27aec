//! Records that cannot be forged. With JIT_STATE_KEY set, a record written to Redis (or
//! the embedded store) by someone without the key — a made-up approval of `Action: *`, an
//! edited TTL, a rewritten history — is never acted on: exit 5, a `tamper` event, and
//! `status` shows it as unverified. Outbox entries are signed when queued, so a forged one
//! is dropped rather than signed on delivery. Without the key, status says records are
//! unauthenticated.

mod common;
mod sso_support;

use common::*;
use serde_json::{json, Value};

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn sealed(backend: Backend) -> Jit {
    let mut j = Jit::new(backend);
    j.set("JIT_STATE_KEY", KEY);
    j
}

fn redis() -> redis::Connection {
    redis::Client::open(redis_url())
        .expect("client")
        .get_connection()
        .expect("connection")
}

fn key(jit: &Jit, part: &str) -> String {
    format!("{{{}}}:{part}", jit.prefix)
}

/// Replace a stored record's JSON as someone with write access to the store would.
fn overwrite(jit: &Jit, id: &str, record: &Value) {
    match jit.backend {
        Backend::Redis => {
            let mut c = redis();
            let v = record["version"].as_u64().unwrap_or(1);
            let state = record["state"].as_str().unwrap_or("pending").to_string();
            let _: () = redis::cmd("HSET")
                .arg(key(jit, &format!("req:{id}")))
                .arg("v")
                .arg(v)
                .arg("state")
                .arg(state)
                .arg("json")
                .arg(record.to_string())
                .query(&mut c)
                .expect("HSET");
            let _: () = redis::cmd("ZADD")
                .arg(key(jit, "all"))
                .arg(1)
                .arg(id)
                .query(&mut c)
                .expect("ZADD");
        }
        Backend::Local => {
            let db = rusqlite::Connection::open(jit.state_dir().join("aws-jit.sqlite3"))
                .expect("open store");
            db.execute(
                "INSERT INTO requests (id, version, state, created_at, json) VALUES (?1, ?2, ?3, 1, ?4)
                 ON CONFLICT(id) DO UPDATE SET version = excluded.version, state = excluded.state, json = excluded.json",
                rusqlite::params![
                    id,
                    record["version"].as_i64().unwrap_or(1),
                    record["state"].as_str().unwrap_or("pending"),
                    record.to_string()
                ],
            )
            .expect("write record");
        }
    }
}

fn stored(jit: &Jit, id: &str) -> Value {
    jit.record(id)["request"].clone()
}

#[test]
fn a_sealed_cycle_verifies_end_to_end() {
    let iam = Iam::new();
    for backend in BOTH {
        let user = iam.create_user();
        let j = sealed(backend);
        let id = j.request_user(&user, &[]);
        j.approve_and_attach(&id);
        let r = j.record(&id);
        assert_eq!(r["integrity"], "verified", "{backend:?}: {r}");
        assert!(r["request"]["seal"].is_string() && r["request"]["audit_head"].is_string());
        assert!(r["timeline"][0]["mac"].is_string());
        let text = j.run(&["status", &id]).ok().stdout;
        assert!(text.contains("verified (JIT_STATE_KEY)"), "{text}");
        j.run(&["expire", "--at", FAR_FUTURE]).ok();
        assert_eq!(j.state(&id), "expired");
        assert!(iam.user_policies(&user).is_empty());
    }
}

#[test]
fn a_forged_approval_is_never_attached() {
    let iam = Iam::new();
    for backend in BOTH {
        let user = iam.create_user();
        let hook = Receiver::start();
        let mut j = sealed(backend);
        j.set("KUBIYA_JIT_WEBHOOK", &hook.url);
        // A genuine pending request, then a forged approved version of it granting `*`.
        let id = j.request_user(&user, &[]);
        let mut forged = stored(&j, &id);
        let admin = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let sha = aws_jit::digest::policy_sha256(&admin);
        forged["policy"] = admin;
        forged["policy_sha256"] = json!(sha);
        forged["approved_sha256"] = json!(sha);
        forged["findings"] = json!([]);
        forged["state"] = json!("approved");
        forged["version"] = json!(2);
        forged["approvals"] =
            json!([{"by": APPROVER, "at": "2026-11-26T00:00:00Z", "acknowledged_findings": false}]);
        overwrite(&j, &id, &forged);

        let r = j.run(&["attach", &id]).code(5);
        assert!(r.stderr.contains("failed verification"), "{}", r.stderr);
        assert!(
            iam.user_policies(&user).is_empty(),
            "{backend:?}: a forged grant was attached"
        );
        assert!(
            hook.events_for(&id).contains(&"tamper".to_string()),
            "{backend:?}: no tamper event: {:?}",
            hook.events_for(&id)
        );
        // Every acting command refuses it; status shows it, marked.
        j.run(&["approve", &id, "--approver", APPROVER]).code(5);
        // Revoking it removes what AWS holds for the id (here: nothing), found by tags;
        // only an approver of this process may, since the record's own list is forged.
        j.run(&["revoke", &id, "--by", REQUESTER, "--reason", "x"])
            .code(5);
        let r = j
            .run(&["revoke", &id, "--by", APPROVER, "--reason", "x"])
            .ok();
        assert!(r.stdout.contains("nothing found"), "{}", r.stdout);
        let shown = j.record(&id);
        assert_eq!(shown["integrity"], "unverified", "{shown}");
        let list = j.run(&["status", "--output", "json"]).ok().json();
        assert_eq!(list["unverified"], json!([id]), "{list}");
        assert!(j.run(&["status"]).ok().stdout.contains("UNVERIFIED"));
    }
}

#[test]
fn edits_of_a_genuine_record_or_its_history_are_caught() {
    let j = sealed(Backend::Redis);
    // A longer TTL written into an approved record.
    let id = j.request_user("alice", &[]);
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    let mut edited = stored(&j, &id);
    edited["ttl_secs"] = json!(20 * 3600);
    overwrite(&j, &id, &edited);
    j.run(&["attach", &id]).code(5);

    // The record untouched, its history rewritten: an audit entry's reason changed.
    let id = j.request_user("alice", &[]);
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    let mut c = redis();
    let audit_key = key(&j, &format!("audit:{id}"));
    let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(&audit_key)
        .arg("-")
        .arg("+")
        .query(&mut c)
        .expect("XRANGE");
    let _: () = redis::cmd("DEL")
        .arg(&audit_key)
        .query(&mut c)
        .expect("DEL");
    for (i, (_, fields)) in entries.iter().enumerate() {
        let mut entry: Value = serde_json::from_str(&fields[0].1).expect("entry");
        if i == 0 {
            entry["reason"] = json!("nothing to see here");
        }
        let _: () = redis::cmd("XADD")
            .arg(&audit_key)
            .arg("*")
            .arg("entry")
            .arg(entry.to_string())
            .query(&mut c)
            .expect("XADD");
    }
    let r = j.run(&["attach", &id]).code(5);
    assert!(r.stderr.contains("history"), "{}", r.stderr);
    assert_eq!(j.record(&id)["integrity"], "unverified");

    // A record sealed under another key is as good as forged.
    let mut other = Jit::new(Backend::Redis);
    other.set("JIT_STATE_KEY", "another-key-entirely-0123456789");
    other.env = j.env.clone();
    other.set("JIT_STATE_KEY", "another-key-entirely-0123456789");
    let id = j.request_user("alice", &[]);
    other.run(&["approve", &id, "--approver", APPROVER]).code(5);
}

#[test]
fn without_a_key_records_are_unauthenticated_and_say_so() {
    let j = Jit::new(Backend::Local);
    let id = j.request_user("alice", &[]);
    assert_eq!(j.record(&id)["integrity"], "unauthenticated");
    assert!(j
        .run(&["status"])
        .ok()
        .stdout
        .contains("unauthenticated: JIT_STATE_KEY is not set"));
    // Records made before the key was set are not trusted once it is.
    let mut later = Jit::new(Backend::Local);
    later.env = j.env.clone();
    later.set("JIT_STATE_KEY", KEY);
    later.run(&["approve", &id, "--approver", APPROVER]).code(5);
    // A short key is refused.
    later.set("JIT_STATE_KEY", "short");
    later.run(&["status"]).code(2);
}

#[test]
fn a_forged_outbox_entry_is_not_signed_on_delivery() {
    let hook = Receiver::start();
    let mut j = Jit::new(Backend::Redis);
    j.set("KUBIYA_JIT_WEBHOOK", &hook.url)
        .set("JIT_WEBHOOK_SECRET", "webhook-secret");
    let mut c = redis();
    let forged =
        json!({"event": "approved", "request_id": "jit-forged000000", "state": "approved"});
    for entry in [
        forged.clone(),
        json!({"raw": forged.to_string(), "signature": "sha256=00"}),
    ] {
        let _: () = redis::cmd("RPUSH")
            .arg(key(&j, "outbox"))
            .arg(entry.to_string())
            .query(&mut c)
            .expect("RPUSH");
    }
    let id = j.request_user("alice", &[]);
    assert!(
        hook.events_for("jit-forged000000").is_empty(),
        "a forged event was delivered"
    );
    assert_eq!(hook.events_for(&id), ["request_created"]);
    // What was delivered carries a signature made when it was queued, and it verifies.
    let raw = hook.raw.lock().expect("lock").clone();
    for (body, sig) in raw {
        let want = format!(
            "sha256={}",
            aws_jit::digest::hmac_sha256_hex(b"webhook-secret", &body)
        );
        assert_eq!(sig.as_deref(), Some(want.as_str()));
    }
}

#[test]
fn one_unreadable_record_does_not_hide_the_others() {
    for backend in BOTH {
        let j = Jit::new(backend);
        let good = j.request_user("alice", &[]);
        let bad = j.request_user("alice", &[]);
        let mut broken = stored(&j, &bad);
        broken["state"] = json!("no-such-state");
        overwrite(&j, &bad, &broken);
        let list = j.run(&["status", "--output", "json"]).ok().json();
        let ids: Vec<&str> = list["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter_map(|r| r["id"].as_str())
            .collect();
        assert_eq!(ids, vec![good.as_str()], "{backend:?}: {list}");
        assert_eq!(list["unreadable"][0]["id"], bad, "{backend:?}: {list}");
        let text = j.run(&["status"]).ok().stdout;
        assert!(
            text.contains("UNREADABLE") && text.contains(&good),
            "{text}"
        );
    }
}

#[test]
fn with_a_state_key_a_forged_outbox_entry_is_dropped_even_without_a_webhook_secret() {
    let hook = Receiver::start();
    let mut j = sealed(Backend::Redis);
    j.set("KUBIYA_JIT_WEBHOOK", &hook.url);
    let forged = json!({
        "raw": json!({"event": "approved", "request_id": "jit-forged000001",
                      "text": "<!channel> approved: <https://evil.example|open the console>"}).to_string(),
        "signature": null
    });
    let _: () = redis::cmd("RPUSH")
        .arg(key(&j, "outbox"))
        .arg(forged.to_string())
        .query(&mut redis())
        .expect("RPUSH");
    let id = j.request_user("alice", &[]);
    assert!(
        hook.events_for("jit-forged000001").is_empty(),
        "a forged entry was delivered"
    );
    assert_eq!(hook.events_for(&id), ["request_created"]);
}

/// An edited record is never acted on as it says, but it does not keep its access alive
/// either: `expire` (when due) and an approver's `revoke` remove what AWS holds for the
/// request, found by aws-jit's own tags.
#[test]
fn a_tampered_active_grant_is_still_removed() {
    let iam = Iam::new();
    for how in ["expire", "revoke"] {
        let user = iam.create_user();
        let j = sealed(Backend::Redis);
        let id = j.request_user(&user, &[]);
        j.approve_and_attach(&id);
        assert_eq!(iam.user_policies(&user).len(), 1);
        let mut edited = stored(&j, &id);
        edited["purpose"] = json!("edited by someone without the key");
        overwrite(&j, &id, &edited);
        let r = if how == "expire" {
            j.run(&["expire", "--at", FAR_FUTURE, "--output", "json"])
                .code(6)
        } else {
            // Not the requester: the record's word on who that is cannot be trusted.
            j.run(&["revoke", &id, "--by", REQUESTER, "--reason", "incident"])
                .code(5);
            j.run(&[
                "revoke", &id, "--by", APPROVER, "--reason", "incident", "--output", "json",
            ])
            .ok()
        };
        assert!(iam.user_policies(&user).is_empty(), "{how}: {}", r.stdout);
        assert_eq!(j.record(&id)["integrity"], "unverified");
    }
}

/// The expiry index is not authenticated: a grant taken out of it is found by reconcile,
/// which reads AWS, and expired as `expire` would have.
#[test]
fn a_grant_removed_from_the_expiry_index_is_expired_by_reconcile() {
    let iam = Iam::new();
    let user = iam.create_user();
    let j = sealed(Backend::Redis);
    let id = j
        .request()
        .flag("--iam-user", &user)
        .s3_read()
        .flag("--ttl", "1s")
        .id();
    j.approve_and_attach(&id);
    let _: () = redis::cmd("ZREM")
        .arg(key(&j, "expiry"))
        .arg(&id)
        .query(&mut redis())
        .expect("ZREM");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let r = j.run(&["expire", "--output", "json"]).ok().json();
    assert!(r["expired"].as_array().is_some_and(|a| a.is_empty()), "{r}");
    assert_eq!(
        iam.user_policies(&user).len(),
        1,
        "still attached before reconcile"
    );
    let r = j
        .run(&["reconcile", "--older-than", "1s", "--output", "json"])
        .ok()
        .json();
    assert_eq!(r["overdue"], json!([id]), "{r}");
    assert!(iam.user_policies(&user).is_empty());
    assert_eq!(j.state(&id), "expired");
}

/// The holders of a shared assignment are read from the store: one whose record fails
/// verification keeps nothing alive.
#[test]
fn a_forged_holder_does_not_keep_an_assignment_after_revoke() {
    let sso = sso_support::Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("v")));
    let (ps_name, ps) = sso.create_permission_set();
    let mut j = sealed(Backend::Redis);
    j.set("JIT_SSO_POLL_INTERVAL", "20ms");
    let id = j
        .request()
        .flag("--sso-user", &user)
        .flag("--account-id", "111122223333")
        .flag("--permission-set", &ps_name)
        .id();
    j.approve_and_attach(&id);
    assert_eq!(sso.assigned_users("111122223333", &ps), vec![user_id]);
    // A copy of the genuine record under another id, with a made-up seal, as a holder.
    let mut forged = stored(&j, &id);
    forged["id"] = json!("jit-forgedholder1");
    forged["seal"] = json!("0".repeat(64));
    overwrite(&j, "jit-forgedholder1", &forged);
    let _: () = redis::cmd("SADD")
        .arg(key(&j, &format!("holders:sso|111122223333|{ps}")))
        .arg("jit-forgedholder1")
        .query(&mut redis())
        .expect("SADD");
    j.run(&["revoke", &id, "--by", APPROVER, "--reason", "incident"])
        .ok();
    assert!(
        sso.assigned_users("111122223333", &ps).is_empty(),
        "an unverified holder kept the assignment alive"
    );
}
