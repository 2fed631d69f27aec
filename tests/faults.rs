//! Issue 11's fault-injection findings, one test each, against real redis-server and
//! moto_server through `scripts/fault_proxy.py`: AWS calls that take effect and answer an
//! error, slow and frozen holders, lost Redis replies, a Redis outage, dead holders,
//! throttling, and the retry settings. Each fails without its fix.

mod common;
mod fault_support;

use std::process::{Child, Stdio};
use std::time::Duration;

use common::*;
use fault_support::{AccountIam, FaultProxy};
use serde_json::{json, Value};

/// An installation whose AWS calls go through `proxy` (in the proxy's own account).
fn jit_via(backend: Backend, proxy: &FaultProxy) -> Jit {
    let mut j = Jit::new(backend);
    j.set("AWS_ENDPOINT_URL", &proxy.url);
    j
}

fn spawn(j: &Jit, args: &[&str]) -> Child {
    j.cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aws-jit")
}

fn finish(c: Child) -> Run {
    c.wait_with_output().expect("wait").into()
}

fn signal(c: &Child, sig: &str) {
    std::process::Command::new("kill")
        .args([sig, &c.id().to_string()])
        .status()
        .expect("kill");
}

fn approved(j: &Jit, user: &str) -> String {
    let id = j.request_user(user, &[]);
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    id
}

fn timeline(j: &Jit, id: &str) -> Vec<String> {
    j.record(id)["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// `attach` slower than its lease: the heartbeat keeps the claim, so `expire` cannot take
/// it over and mark it expired while the policy is being attached (the first finding).
#[test]
fn a_slow_attach_keeps_its_claim() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let mut j = jit_via(Backend::Redis, &proxy);
    // Sealed records: every heartbeat is sealed and chained like any other change.
    j.set("JIT_LEASE", "2s")
        .set("JIT_STATE_KEY", "faults-state-key");
    let id = approved(&j, &user);
    proxy.rule(json!({"op": "AttachUserPolicy", "action": "delay", "delay_ms": 5000}));
    let attach = spawn(&j, &["attach", &id]);
    proxy.wait_for("AttachUserPolicy");
    std::thread::sleep(Duration::from_millis(3000));
    // Past the 2 s lease: a live holder's lease was renewed, so this run skips it.
    let r = j
        .run(&["expire", "--at", FAR_FUTURE, "--output", "json"])
        .ok();
    assert_eq!(r.json()["skipped"], json!([id]), "{}", r.stdout);
    let out = finish(attach).ok();
    assert!(out.stdout.contains("active"), "{}", out.stdout);
    assert_eq!(j.state(&id), "active");
    assert_eq!(iam.user_policies(&user).len(), 1);
    assert!(timeline(&j, &id).contains(&"lease_renew".to_string()));
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert!(iam.user_policies(&user).is_empty());
}

/// AttachUserPolicy takes effect but answers an error: the grant stays `attaching`, in
/// the expiry index, so the next `expire` removes the policy (before: back to approved
/// with nothing tracking the attached policy).
#[test]
fn an_attach_that_took_effect_but_failed_stays_tracked() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let mut j = jit_via(Backend::Local, &proxy);
    j.set("AWS_MAX_ATTEMPTS", "1");
    let id = approved(&j, &user);
    proxy.rule(json!({"op": "AttachUserPolicy", "action": "apply_then_fail", "status": 500}));
    let r = j.run(&["attach", &id]).code(6);
    assert!(r.stderr.contains("stays attaching"), "{}", r.stderr);
    assert_eq!(
        iam.user_policies(&user).len(),
        1,
        "the fault's premise: it took effect"
    );
    let rec = j.record(&id)["request"].clone();
    assert_eq!(rec["state"], "attaching");
    assert!(rec["lease"].is_null(), "lease released for a retry");
    assert!(rec["expires_at"].is_string());
    assert!(
        rec["grant"]["policy_arn"].is_string(),
        "what was made is recorded"
    );
    // Nothing left untracked: expire removes it when due.
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&id), "expired");
    assert!(iam.user_policies(&user).is_empty());
    assert!(iam.jit_policies().is_empty());

    // And a retry converges instead.
    let id = approved(&j, &user);
    proxy.rule(json!({"op": "AttachUserPolicy", "action": "apply_then_fail", "status": 500}));
    j.run(&["attach", &id]).code(6);
    j.run(&["attach", &id]).ok();
    assert_eq!(j.state(&id), "active");
    assert_eq!(iam.user_policies(&user).len(), 1);
}

/// The reply to the commit that makes the grant active is lost (the connection drops after
/// Redis ran it): attach reads the record, finds its write and succeeds (before: it took
/// itself for taken over, deleted the policy and exited 4 while the store said active).
#[test]
fn a_lost_commit_reply_is_resolved_by_reading_the_record() {
    let aws = FaultProxy::aws(0);
    let redis = FaultProxy::redis();
    let iam = AccountIam::new(&aws);
    let user = iam.create_user();
    let mut j = jit_via(Backend::Redis, &aws);
    j.set("BACKEND_URL", &redis.url)
        .set("JIT_STATE_KEY", "faults-state-key");
    let id = approved(&j, &user);
    redis
        .rule(json!({"op": "EVALSHA", "contains": "\"state\":\"active\"", "action": "drop_reply"}));
    let out = j.run(&["attach", &id]);
    assert!(
        redis.log().iter().any(|e| e["action"] == "drop_reply"),
        "the fault was not injected"
    );
    assert_eq!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert_eq!(j.state(&id), "active");
    assert_eq!(
        iam.user_policies(&user).len(),
        1,
        "the policy was removed again"
    );
}

/// Redis goes away when the outcome is to be recorded: attach removes nothing (the store
/// still has it attaching, with its expiry) and says so; once Redis is back a retry
/// converges. Before: attach took itself for taken over and deleted the policy.
#[test]
fn a_store_outage_at_commit_removes_nothing_and_stays_tracked() {
    let aws = FaultProxy::aws(0);
    let redis = FaultProxy::redis();
    let iam = AccountIam::new(&aws);
    let user = iam.create_user();
    let mut j = jit_via(Backend::Redis, &aws);
    j.set("BACKEND_URL", &redis.url).set("JIT_LEASE", "2s");

    // Redis dies after running the commit: the store says active, and so does AWS.
    let id = approved(&j, &user);
    redis.rule(json!({"op": "EVALSHA", "contains": "\"state\":\"active\"", "action": "down"}));
    j.run(&["attach", &id]).code(6);
    redis.clear();
    assert_eq!(j.state(&id), "active");
    assert_eq!(
        iam.user_policies(&user).len(),
        1,
        "removed what the store says is active"
    );

    // Redis dies before the commit: the store still has the claim and its expiry.
    let id = approved(&j, &user);
    redis.rule(json!({"op": "EVALSHA", "contains": "\"state\":\"active\"", "action": "refuse"}));
    let out = j.run(&["attach", &id]).code(6);
    assert!(out.stderr.contains("could not record"), "{}", out.stderr);
    assert_eq!(
        iam.user_policies(&user).len(),
        2,
        "removed what the store still tracks"
    );
    redis.clear();
    let rec = j.record(&id)["request"].clone();
    assert_eq!(rec["state"], "attaching");
    assert!(rec["expires_at"].is_string());
    std::thread::sleep(Duration::from_millis(2200));
    j.run(&["attach", &id]).ok();
    assert_eq!(j.state(&id), "active");
    assert_eq!(iam.user_policies(&user).len(), 2);
}

/// A frozen attach is taken over by a second `attach`, which adopts the same policy and
/// makes the grant active. When the first wakes, its claim is lost, but the grant is held
/// by the newer claimant: it must not remove the policy (before: 5 of 5 runs did).
#[test]
fn a_lost_claim_never_removes_what_a_newer_claimant_adopted() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let mut j = jit_via(Backend::Redis, &proxy);
    j.set("JIT_LEASE", "1s");
    let id = approved(&j, &user);
    proxy.rule(json!({"op": "AttachUserPolicy", "action": "delay", "delay_ms": 1500}));
    let first = spawn(&j, &["attach", &id]);
    proxy.wait_for("AttachUserPolicy");
    signal(&first, "-STOP");
    std::thread::sleep(Duration::from_millis(1500));
    j.run(&["attach", &id]).ok();
    assert_eq!(j.state(&id), "active");
    signal(&first, "-CONT");
    let out = finish(first).code(4);
    assert!(
        out.stderr.contains("belongs to that grant"),
        "{}",
        out.stderr
    );
    assert_eq!(j.state(&id), "active");
    assert_eq!(
        iam.user_policies(&user).len(),
        1,
        "the late attach removed the policy the active grant uses"
    );
}

/// `revoke` while an attach is alive is recorded, and the attaching process removes what
/// it made when it finishes (before: refused with exit 4 until JIT_LEASE ran out).
#[test]
fn revoke_during_a_live_attach_is_honoured_by_the_holder() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let j = jit_via(Backend::Local, &proxy);
    let id = approved(&j, &user);
    proxy.rule(json!({"op": "AttachUserPolicy", "action": "delay", "delay_ms": 2500}));
    let attach = spawn(&j, &["attach", &id]);
    proxy.wait_for("AttachUserPolicy");
    let r = j
        .run(&["revoke", &id, "--by", APPROVER, "--reason", "incident"])
        .ok();
    assert!(r.stdout.contains("revocation is recorded"), "{}", r.stdout);
    let out = finish(attach).ok();
    assert!(
        out.stdout.contains("revoked while it was being attached"),
        "{}",
        out.stdout
    );
    assert_eq!(j.state(&id), "revoked");
    assert!(iam.user_policies(&user).is_empty());
    assert!(iam.jit_policies().is_empty());
    let t = timeline(&j, &id);
    assert!(t.contains(&"revoke_requested".to_string()), "{t:?}");
}

/// An attach killed mid-flight holds only a short lease: `revoke` is recorded at once and
/// `expire` carries it out as soon as the lease lapses (before: 30 minutes of exit 4).
#[test]
fn a_dead_holder_is_taken_over_after_its_lease() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let mut j = jit_via(Backend::Redis, &proxy);
    j.set("JIT_LEASE", "2s");
    let id = approved(&j, &user);
    // AttachUserPolicy is never answered; the process dies holding the claim.
    proxy.rule(json!({"op": "AttachUserPolicy", "action": "hang"}));
    let attach = spawn(&j, &["attach", &id]);
    proxy.wait_for("AttachUserPolicy");
    signal(&attach, "-KILL");
    let _ = finish(attach);
    j.run(&["revoke", &id, "--by", REQUESTER, "--reason", "leaving"])
        .ok();
    std::thread::sleep(Duration::from_millis(2200));
    let r = j.run(&["expire", "--output", "json"]).ok();
    assert_eq!(r.json()["revoked"], json!([id]), "{}", r.stdout);
    assert_eq!(j.state(&id), "revoked");
    assert!(
        iam.jit_policies().is_empty(),
        "the created policy was left behind"
    );
}

/// AWS_MAX_ATTEMPTS is the number of calls per request (before: always 4).
#[test]
fn aws_max_attempts_is_honoured() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let mut j = jit_via(Backend::Local, &proxy);
    j.set("AWS_RETRY_MODE", "standard");
    for attempts in [1usize, 2, 5] {
        j.set("AWS_MAX_ATTEMPTS", &attempts.to_string());
        // `request` reads the user too (IAM's spelling of its name): it must succeed.
        proxy.clear();
        let id = approved(&j, &user);
        proxy.rule(json!({"op": "GetUser", "times": -1, "action": "fail", "status": 500}));
        let before = proxy.count("GetUser");
        j.run(&["attach", &id]).code(6);
        assert_eq!(
            proxy.count("GetUser") - before,
            attempts,
            "AWS_MAX_ATTEMPTS={attempts}"
        );
        assert_eq!(
            j.state(&id),
            "approved",
            "nothing was created: back to approved"
        );
    }
    proxy.clear();
    let id = approved(&j, &user);
    j.set("AWS_MAX_ATTEMPTS", "zero");
    let r = j.run(&["attach", &id]).code(2);
    assert!(r.stderr.contains("AWS_MAX_ATTEMPTS"), "{}", r.stderr);
    j.set("AWS_MAX_ATTEMPTS", "3")
        .set("AWS_RETRY_MODE", "eager");
    let r = j.run(&["attach", &id]).code(2);
    assert!(r.stderr.contains("AWS_RETRY_MODE"), "{}", r.stderr);
}

/// Throttling slows the whole `expire` run (a shared pause) and fails no grant: Throttling
/// (IAM's code), TooManyRequestsException and a bare HTTP 429.
#[test]
fn throttling_slows_expire_and_fails_no_grant() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let mut j = jit_via(Backend::Redis, &proxy);
    j.set("AWS_MAX_ATTEMPTS", "1");
    let ids: Vec<String> = (0..6)
        .map(|_| {
            let id = approved(&j, &user);
            j.run(&["attach", &id]).ok();
            id
        })
        .collect();
    proxy
        .rule(json!({"op": "DeletePolicy", "times": 4, "action": "fail", "status": 400, "code": "Throttling", "message": "Rate exceeded"}))
        .rule(json!({"op": "DetachUserPolicy", "times": 3, "action": "fail", "status": 400, "code": "TooManyRequestsException"}))
        .rule(json!({"op": "DeletePolicy", "times": 3, "action": "fail", "status": 429, "code": "SlowDown"}));
    let r = j
        .run(&["expire", "--at", FAR_FUTURE, "--output", "json"])
        .ok();
    let v = r.json();
    assert_eq!(v["failed"], json!([]), "{}", r.stdout);
    assert!(v["throttled"].as_u64().unwrap_or(0) >= 10, "{}", r.stdout);
    for id in &ids {
        assert_eq!(j.state(id), "expired");
    }
    assert!(iam.jit_policies().is_empty());
}

/// Overlapping `expire` runs, each removing concurrently: every grant is removed exactly
/// once (one DeletePolicy per policy, one `expire` entry per timeline).
#[test]
fn concurrent_and_overlapping_expire_runs_remove_each_grant_once() {
    let proxy = FaultProxy::aws(30);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let mut j = jit_via(Backend::Redis, &proxy);
    j.set("JIT_EXPIRE_CONCURRENCY", "4");
    let ids: Vec<String> = (0..12)
        .map(|_| {
            let id = approved(&j, &user);
            j.run(&["attach", &id]).ok();
            id
        })
        .collect();
    let runs: Vec<Child> = (0..3)
        .map(|_| spawn(&j, &["expire", "--at", FAR_FUTURE, "--output", "json"]))
        .collect();
    let mut expired = Vec::new();
    for r in runs {
        let out = finish(r).ok();
        let v: Value = out.json();
        assert_eq!(v["failed"], json!([]), "{}", out.stdout);
        expired.extend(
            v["expired"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|x| x.as_str().map(str::to_string)),
        );
    }
    expired.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(expired, want, "each grant expired by exactly one run");
    let mut deleted: Vec<String> = proxy
        .log()
        .iter()
        .filter(|e| e["op"] == "DeletePolicy")
        .filter_map(|e| e["arg"].as_str().map(str::to_string))
        .collect();
    let n = deleted.len();
    deleted.dedup();
    deleted.sort();
    deleted.dedup();
    assert_eq!(
        (n, deleted.len()),
        (12, 12),
        "a policy deleted twice or not at all"
    );
    for id in &ids {
        let t = timeline(&j, id);
        assert_eq!(t.iter().filter(|a| *a == "expire").count(), 1, "{t:?}");
    }
    assert!(iam.jit_policies().is_empty());
}

/// Removal deletes the policy in one call when it has only aws-jit's version; when AWS
/// refuses (DeleteConflict: someone added versions), the other versions go first and the
/// policy after them.
#[test]
fn a_policy_with_extra_versions_is_still_deleted() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let j = jit_via(Backend::Local, &proxy);
    let id = approved(&j, &user);
    j.run(&["attach", &id]).ok();
    let arn = j.record(&id)["request"]["grant"]["policy_arn"]
        .as_str()
        .expect("arn")
        .to_string();
    iam.rt
        .block_on(
            iam.client
                .create_policy_version()
                .policy_arn(&arn)
                .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}]}"#)
                .send(),
        )
        .expect("CreatePolicyVersion");
    // moto deletes a policy whatever its versions; AWS answers DeleteConflict.
    proxy.rule(json!({"op": "DeletePolicy", "action": "fail", "status": 409, "code": "DeleteConflict", "message": "Cannot delete a policy with versions"}));
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&id), "expired");
    assert_eq!(proxy.count("DeletePolicyVersion"), 1);
    assert_eq!(proxy.count("DeletePolicy"), 2);
    assert!(!iam.policy_exists(&arn));
}

/// Second review, finding 6 (optional): a revocation recorded while an attach is still
/// making its policy stops that attach before the policy is attached to anyone (before:
/// it attached it anyway, then removed it again).
#[test]
fn a_revocation_recorded_before_the_policy_is_attached_stops_the_attach() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let j = jit_via(Backend::Redis, &proxy);
    let id = approved(&j, &user);
    proxy.rule(json!({"op": "CreatePolicy", "times": 1, "action": "delay", "delay_ms": 2500}));
    let attach = spawn(&j, &["attach", &id]);
    proxy.wait_for("CreatePolicy");
    j.run(&["revoke", &id, "--by", APPROVER, "--reason", "incident"])
        .ok();
    let out = finish(attach).ok();
    assert!(
        out.stdout.contains("revoked while it was being attached"),
        "{}",
        out.stdout
    );
    assert_eq!(j.state(&id), "revoked");
    assert_eq!(
        proxy.count("AttachUserPolicy"),
        0,
        "the revoked grant's policy was attached to {user}"
    );
    assert!(iam.user_policies(&user).is_empty());
    assert!(iam.jit_policies().is_empty());
}
