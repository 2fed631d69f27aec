//! The whole request -> approve -> attach -> expire cycle, checked through the IAM API.

mod common;

use common::*;

fn full_cycle_for_user(backend: Backend) {
    let iam = Iam::new();
    let user = iam.create_user();
    let jit = Jit::new(backend);
    let id = jit.request_user(&user, &[]);
    assert_eq!(jit.state(&id), "pending");
    jit.run(&["approve", &id, "--approver", APPROVER, "--comment", "ok"])
        .ok();
    assert_eq!(jit.state(&id), "approved");
    jit.run(&["attach", &id]).ok();
    let rec = jit.record(&id);
    assert_eq!(rec["request"]["state"], "active");
    let arn = rec["request"]["grant"]["policy_arn"]
        .as_str()
        .expect("policy arn")
        .to_string();
    assert!(arn.contains(":policy/jit/"), "{arn}");
    assert_eq!(iam.user_policies(&user), vec![arn.clone()]);
    // What AWS holds is exactly what was approved.
    let doc = iam.policy_document(&arn);
    assert_eq!(
        doc, rec["request"]["policy"],
        "attached document differs from the approved one"
    );

    // Not yet due: nothing happens.
    jit.run(&["expire"]).ok();
    assert_eq!(jit.state(&id), "active");
    assert!(iam.policy_exists(&arn));

    jit.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(jit.state(&id), "expired");
    assert!(
        iam.user_policies(&user).is_empty(),
        "policy still attached after expire"
    );
    assert!(!iam.policy_exists(&arn), "policy not deleted after expire");

    // The timeline tells the whole story in order.
    let actions: Vec<String> = rec_timeline(&jit, &id);
    assert_eq!(
        actions,
        [
            "request",
            "approve",
            "attach_begin",
            "attach",
            "remove_begin",
            "expire"
        ],
        "timeline"
    );
}

fn rec_timeline(jit: &Jit, id: &str) -> Vec<String> {
    jit.record(id)["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn full_cycle_iam_user_redis() {
    full_cycle_for_user(Backend::Redis);
}

#[test]
fn full_cycle_iam_user_embedded() {
    full_cycle_for_user(Backend::Local);
}

#[test]
fn full_cycle_iam_role() {
    for backend in BOTH {
        let iam = Iam::new();
        let role = iam.create_role();
        let jit = Jit::new(backend);
        let id = jit
            .run(&[
                "request",
                "--purpose",
                "rotate logs",
                "--ttl",
                "30m",
                "--requester",
                REQUESTER,
                "--iam-role",
                &role,
                "--service",
                "s3",
                "--actions",
                "GetObject",
                "--resources",
                "arn:aws:s3:::team-logs/*",
                "--policy-name",
                &unique("custom-"),
            ])
            .ok()
            .stdout
            .trim()
            .to_string();
        jit.approve_and_attach(&id);
        let arn = jit.record(&id)["request"]["grant"]["policy_arn"]
            .as_str()
            .expect("arn")
            .to_string();
        assert_eq!(iam.role_policies(&role), vec![arn.clone()]);
        jit.run(&["expire", "--at", FAR_FUTURE]).ok();
        assert!(iam.role_policies(&role).is_empty());
        assert!(!iam.policy_exists(&arn));
        assert_eq!(jit.state(&id), "expired");
    }
}

#[test]
fn double_attach_and_double_expire_are_harmless() {
    let iam = Iam::new();
    let user = iam.create_user();
    let jit = Jit::new(Backend::Redis);
    let id = jit.request_user(&user, &[]);
    jit.approve_and_attach(&id);
    jit.run(&["attach", &id]).ok();
    assert_eq!(iam.user_policies(&user).len(), 1);
    assert_eq!(iam.jit_policies_named(&id).len(), 1);
    jit.run(&["expire", "--at", FAR_FUTURE]).ok();
    jit.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(jit.state(&id), "expired");
    assert!(iam.jit_policies_named(&id).is_empty());
    let t = rec_timeline(&jit, &id);
    assert_eq!(t.iter().filter(|a| *a == "expire").count(), 1, "{t:?}");
    // Attaching an expired grant is refused: wrong state.
    jit.run(&["attach", &id]).code(4);
}

#[test]
fn revoke_removes_early_and_cancel_withdraws() {
    let iam = Iam::new();
    let user = iam.create_user();
    let jit = Jit::new(Backend::Local);
    let id = jit.request_user(&user, &[]);
    jit.approve_and_attach(&id);
    // A stranger cannot revoke.
    jit.run(&[
        "revoke",
        &id,
        "--by",
        "mallory@example.com",
        "--reason",
        "x",
    ])
    .code(5);
    jit.run(&["revoke", &id, "--by", REQUESTER, "--reason", "done early"])
        .ok();
    assert_eq!(jit.state(&id), "revoked");
    assert!(iam.user_policies(&user).is_empty());
    assert!(iam.jit_policies_named(&id).is_empty());

    let id2 = jit.request_user(&user, &[]);
    jit.run(&["cancel", &id2, "--by", APPROVER]).code(5);
    jit.run(&["cancel", &id2, "--by", REQUESTER]).ok();
    assert_eq!(jit.state(&id2), "cancelled");
    jit.run(&["approve", &id2, "--approver", APPROVER]).code(4);
}

#[test]
fn caller_defaults_to_kubiya_user_email() {
    let mut jit = Jit::new(Backend::Local);
    jit.set("KUBIYA_USER_EMAIL", REQUESTER);
    Iam::new().ensure_user("alice");
    let r = jit.run(&[
        "request",
        "--purpose",
        "p",
        "--iam-user",
        "alice",
        "--service",
        "s3",
        "--actions",
        "GetObject",
        "--resources",
        "arn:aws:s3:::b/*",
        "--output",
        "json",
    ]);
    let v = r.ok().json();
    assert_eq!(v["requester"], REQUESTER);
    assert_eq!(v["ttl_secs"], 8 * 3600, "default TTL is 8h");
    jit.unset("KUBIYA_USER_EMAIL");
    let r = jit
        .run(&["approve", v["id"].as_str().unwrap_or_default()])
        .code(2);
    assert!(r.stderr.contains("KUBIYA_USER_EMAIL"), "{}", r.stderr);
}

#[test]
fn stale_pending_requests_time_out() {
    let mut jit = Jit::new(Backend::Redis);
    jit.set("JIT_PENDING_TIMEOUT", "1h");
    let id = jit.request_user("alice", &[]);
    jit.run(&["expire"]).ok();
    assert_eq!(jit.state(&id), "pending");
    let preview = jit
        .run(&[
            "expire",
            "--at",
            FAR_FUTURE,
            "--dry-run",
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(preview["timed_out"], serde_json::json!([id]));
    assert_eq!(jit.state(&id), "pending", "dry run changed state");
    jit.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(jit.state(&id), "timed_out");
    jit.run(&["approve", &id, "--approver", APPROVER]).code(4);
}
