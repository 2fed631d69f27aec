//! `aws-jit reconcile` against moto_server (each test in an AWS account of its own, through
//! the fault proxy) and real stores: orphans from a crash plus lost store data, hand-made
//! objects under /jit/, drift of active grants, dry runs, exit 6, and `expire
//! --reconcile-every`.

mod common;
mod fault_support;

use std::process::Stdio;

use aws_jit::store::Store;
use common::*;
use fault_support::{AccountIam, AccountSso, FaultProxy};
use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
/// The installation these tests run as: what it tags, it may remove.
const INSTALLATION: &str = "reconcile-tests";

fn jit_via(backend: Backend, proxy: &FaultProxy) -> Jit {
    let mut j = Jit::new(backend);
    j.set("AWS_ENDPOINT_URL", &proxy.url)
        .set("JIT_SSO_POLL_INTERVAL", "20ms")
        .set("JIT_INSTALLATION", INSTALLATION);
    j
}

fn approved(j: &Jit, user: &str) -> String {
    let id = j.request_user(user, &[]);
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    id
}

fn reconcile(j: &Jit, extra: &[&str]) -> Run {
    let mut args = vec!["reconcile", "--output", "json"];
    args.extend_from_slice(extra);
    j.run(&args)
}

fn arns(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

fn orphan<'a>(v: &'a Value, arn: &str) -> &'a Value {
    v["orphans"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["arn"] == arn))
        .unwrap_or_else(|| panic!("{arn} not among the orphans: {v:#}"))
}

/// Create an IAM policy under /jit/ by hand, with these tags.
fn hand_made_policy(iam: &AccountIam, tags: &[(&str, &str)]) -> String {
    let mut call = iam
        .client
        .create_policy()
        .path("/jit/")
        .policy_name(unique("hand"))
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        );
    for (k, v) in tags {
        call = call.tags(
            aws_sdk_iam::types::Tag::builder()
                .key(*k)
                .value(*v)
                .build()
                .expect("tag"),
        );
    }
    iam.rt
        .block_on(call.send())
        .expect("CreatePolicy")
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string()
}

/// A crash between CreatePolicy and the commit: while the store tracks the claim,
/// reconcile leaves it alone (expire will remove it); once the store has lost the record
/// (no AOF, an old dump restored), the policy is an orphan and reconcile removes it,
/// audited under `reconcile` and sent as a `reconciled` event.
#[test]
fn a_crash_then_lost_store_data_leaves_an_orphan_that_reconcile_removes() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let hook = Receiver::start();
    let mut j = jit_via(Backend::Local, &proxy);
    j.set("KUBIYA_JIT_WEBHOOK", &hook.url)
        .set("JIT_STATE_KEY", "reconcile-state-key");
    let id = approved(&j, &user);
    proxy.rule(json!({"op": "AttachUserPolicy", "action": "hang"}));
    let mut attach = j
        .cmd(&["attach", &id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    proxy.wait_for("AttachUserPolicy");
    attach.kill().expect("kill -9");
    let _ = attach.wait();
    let policies = iam.jit_policies();
    assert_eq!(policies.len(), 1, "CreatePolicy ran before the crash");
    let arn = policies[0].clone();

    // Tracked (attaching, with its expiry): not an orphan.
    let v = reconcile(&j, &["--older-than", "0s"]).ok().json();
    assert_eq!(v["orphans"], json!([]), "{v:#}");
    assert!(iam.policy_exists(&arn));

    // The store loses the record.
    let db = rusqlite::Connection::open(j.state_dir().join("aws-jit.sqlite3")).expect("db");
    db.execute("DELETE FROM requests WHERE id = ?1", [&id])
        .expect("delete");
    db.execute("DELETE FROM expiry WHERE id = ?1", [&id])
        .expect("delete");
    drop(db);

    let dry = reconcile(&j, &["--older-than", "0s", "--dry-run"])
        .ok()
        .json();
    let o = orphan(&dry, &arn);
    assert_eq!(o["action"], "remove");
    assert_eq!(o["request_id"], id.as_str());
    assert!(o["state"].is_null(), "unknown to the store: {o}");
    assert_eq!(dry["removed"], json!([]));
    assert!(iam.policy_exists(&arn), "a dry run removed it");

    // Younger than the default --older-than (10m): an attach may be in flight.
    let young = reconcile(&j, &[]).ok().json();
    assert_eq!(orphan(&young, &arn)["action"], "wait");
    assert!(iam.policy_exists(&arn));

    let v = reconcile(&j, &["--older-than", "0s"]).ok().json();
    assert_eq!(arns(&v, "removed"), vec![arn.clone()], "{v:#}");
    assert!(!iam.policy_exists(&arn), "the orphan is still there");
    let store = aws_jit::store::local::LocalStore::open(&j.state_dir().join("aws-jit.sqlite3"))
        .expect("store");
    let audit = store.audit(&id).expect("audit");
    let last = audit.last().expect("entries");
    assert_eq!(last.by, "reconcile");
    assert_eq!(last.action.as_str(), "reconcile");
    assert!(hook.events_for(&id).contains(&"reconciled".to_string()));
    // Nothing left: a second run finds nothing.
    let again = reconcile(&j, &["--older-than", "0s"]).ok().json();
    assert_eq!(again["orphans"], json!([]));
}

/// A policy someone made by hand under /jit/, without aws-jit's tags, is reported and
/// never removed; a tagged one whose request the store does not know is removed.
#[test]
fn an_untagged_policy_under_jit_is_reported_not_removed() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let j = jit_via(Backend::Redis, &proxy);
    let untagged = hand_made_policy(&iam, &[]);
    let tagged = hand_made_policy(
        &iam,
        &[
            ("aws-jit:request-id", "jit-000000000000"),
            ("aws-jit:installation", INSTALLATION),
        ],
    );
    let v = reconcile(&j, &["--older-than", "0s"]).ok().json();
    assert_eq!(orphan(&v, &untagged)["action"], "report");
    assert_eq!(arns(&v, "removed"), vec![tagged.clone()]);
    assert!(
        iam.policy_exists(&untagged),
        "a policy aws-jit did not make was removed"
    );
    assert!(!iam.policy_exists(&tagged));
}

/// Exit 6 when an orphan cannot be removed; the next run retries it.
#[test]
fn reconcile_exits_6_when_something_could_not_be_removed() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let j = jit_via(Backend::Local, &proxy);
    let tagged = hand_made_policy(
        &iam,
        &[
            ("aws-jit:request-id", "jit-000000000001"),
            ("aws-jit:installation", INSTALLATION),
        ],
    );
    proxy.rule(json!({"op": "DeletePolicy", "times": -1, "action": "fail", "status": 403, "code": "AccessDenied"}));
    let r = reconcile(&j, &["--older-than", "0s"]).code(6);
    let v = r.json();
    assert_eq!(v["failed"][0]["arn"], tagged.as_str(), "{v:#}");
    assert!(iam.policy_exists(&tagged));
    proxy.clear();
    let v = reconcile(&j, &["--older-than", "0s"]).ok().json();
    assert_eq!(arns(&v, "removed"), vec![tagged.clone()]);
}

/// Drift of active grants: a policy detached by hand, deleted by hand, or holding another
/// document. Each is detected, recorded on the grant (status shows it) and sent as a
/// `drift` event; a changed document revokes the grant.
#[test]
fn drift_is_detected_and_a_changed_document_revokes_the_grant() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let hook = Receiver::start();
    let mut j = jit_via(Backend::Redis, &proxy);
    j.set("KUBIYA_JIT_WEBHOOK", &hook.url)
        .set("JIT_STATE_KEY", "reconcile-state-key");
    let ids: Vec<String> = (0..4)
        .map(|_| {
            let id = approved(&j, &user);
            j.run(&["attach", &id]).ok();
            id
        })
        .collect();
    let arn = |id: &str| {
        j.record(id)["request"]["grant"]["policy_arn"]
            .as_str()
            .expect("arn")
            .to_string()
    };
    let (detached, deleted, changed, intact) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let c = &iam.client;
    iam.rt
        .block_on(
            c.detach_user_policy()
                .user_name(&user)
                .policy_arn(arn(detached))
                .send(),
        )
        .expect("detach");
    iam.rt
        .block_on(
            c.detach_user_policy()
                .user_name(&user)
                .policy_arn(arn(deleted))
                .send(),
        )
        .expect("detach");
    iam.rt
        .block_on(c.delete_policy().policy_arn(arn(deleted)).send())
        .expect("delete");
    iam.rt
        .block_on(
            c.create_policy_version()
                .policy_arn(arn(changed))
                .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
                .set_as_default(true)
                .send(),
        )
        .expect("new version");

    let v = reconcile(&j, &[]).ok().json();
    let kinds = |id: &str| -> Vec<String> {
        v["drift"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|d| d["request_id"] == id)
            .map(|d| d["kind"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(kinds(detached), ["policy_detached"], "{v:#}");
    assert_eq!(kinds(deleted), ["policy_deleted"], "{v:#}");
    assert_eq!(kinds(changed), ["document_changed"], "{v:#}");
    assert!(kinds(intact).is_empty(), "{v:#}");

    // Recorded on the grant, shown by status, sent once.
    let rec = j.record(detached);
    assert_eq!(rec["request"]["drift"][0]["kind"], "policy_detached");
    assert_eq!(
        j.state(detached),
        "active",
        "a detached policy is reported, not re-attached"
    );
    let text = j.run(&["status", detached]).ok().stdout;
    assert!(text.contains("drift"), "{text}");
    assert!(hook.events_for(detached).contains(&"drift".to_string()));

    // A changed document: revoked, removed, and the record says why.
    assert_eq!(j.state(changed), "revoked");
    let rec = j.record(changed)["request"].clone();
    let why = rec["decision"]["reason"].as_str().unwrap_or_default();
    assert!(why.contains("drift"), "{why}");
    assert!(!iam.policy_exists(&arn(changed)));
    let events = hook.events_for(changed);
    assert!(
        events.contains(&"drift".to_string()) && events.contains(&"revoked".to_string()),
        "{events:?}"
    );

    // Unchanged drift is not sent again.
    reconcile(&j, &[]).ok();
    let drift_events = hook
        .events_for(detached)
        .iter()
        .filter(|e| *e == "drift")
        .count();
    assert_eq!(drift_events, 1);
}

/// Identity Center: an assignment deleted by hand is drift; an ephemeral permission set
/// whose request the store lost is an orphan, removed with its assignment.
#[test]
fn identity_center_drift_and_orphans() {
    let proxy = FaultProxy::aws(0);
    let sso = AccountSso::new(&proxy);
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let (ps_name, ps) = sso.create_permission_set();
    let j = jit_via(Backend::Local, &proxy);
    let existing = j
        .request()
        .flag("--sso-user", &user)
        .flag("--account-id", ACCOUNT)
        .flag("--permission-set", &ps_name)
        .flag("--output", "json")
        .id();
    j.approve_accepting_findings(&existing, APPROVER);
    j.run(&["attach", &existing]).ok();
    let own = j
        .request()
        .flag("--sso-user", &user)
        .flag("--account-id", ACCOUNT)
        .s3_read()
        .flag("--output", "json")
        .id();
    j.approve_accepting_findings(&own, APPROVER);
    j.run(&["attach", &own]).ok();
    let own_ps = j.record(&own)["request"]["grant"]["details"]["permission_set_arn"]
        .as_str()
        .expect("ps")
        .to_string();
    assert_eq!(
        reconcile(&j, &["--older-than", "0s"]).ok().json()["drift"],
        json!([])
    );

    sso.unassign(ACCOUNT, &ps, &user_id);
    let v = reconcile(&j, &["--older-than", "0s"]).ok().json();
    assert_eq!(v["drift"][0]["request_id"], existing.as_str(), "{v:#}");
    assert_eq!(v["drift"][0]["kind"], "assignment_deleted");

    // The store loses the ephemeral grant's record.
    let db = rusqlite::Connection::open(j.state_dir().join("aws-jit.sqlite3")).expect("db");
    db.execute("DELETE FROM requests WHERE id = ?1", [&own])
        .expect("delete");
    db.execute("DELETE FROM expiry WHERE id = ?1", [&own])
        .expect("delete");
    drop(db);
    let v = reconcile(&j, &["--older-than", "0s"]).ok().json();
    assert_eq!(orphan(&v, &own_ps)["request_id"], own.as_str());
    assert_eq!(arns(&v, "removed"), vec![own_ps.clone()]);
    assert!(!sso.exists(&own_ps));
    assert!(sso.assigned_users(ACCOUNT, &own_ps).is_empty());
    assert!(
        sso.exists(&ps),
        "the administrator's permission set was touched"
    );
}

/// `expire --reconcile-every 1h` reconciles once per hour across runs.
#[test]
fn expire_reconciles_once_per_period() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let j = jit_via(Backend::Redis, &proxy);
    let untagged = hand_made_policy(&iam, &[]);
    let first = j
        .run(&["expire", "--reconcile-every", "1h", "--output", "json"])
        .ok()
        .json();
    assert_eq!(orphan(&first["reconcile"], &untagged)["action"], "report");
    let second = j
        .run(&["expire", "--reconcile-every", "1h", "--output", "json"])
        .ok()
        .json();
    assert!(second.get("reconcile").is_none(), "{second:#}");
    j.run(&["expire", "--reconcile-every", "soon"]).code(2);
}
