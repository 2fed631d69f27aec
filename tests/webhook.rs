//! Notifications: every event reaches the webhook with the agreed body, and a webhook
//! outage never undoes or loses a state change.

mod common;

use common::*;

const FAR_FUTURE: &str = "2099-01-01T00:00:00Z";

#[test]
fn receiver_gets_each_event_with_the_agreed_body() {
    let iam = Iam::new();
    let user = iam.create_user();
    let hook = Receiver::start();
    for backend in BOTH {
        let mut jit = Jit::new(backend);
        jit.set("KUBIYA_JIT_WEBHOOK", &hook.url)
            .set("APPROVAL_SLACK_CHANNEL", "#jit-approvals");

        let id = jit.request_user(&user, &[]);
        jit.approve_and_attach(&id);
        jit.run(&["expire", "--at", FAR_FUTURE]).ok();
        assert_eq!(
            hook.events_for(&id),
            ["request_created", "approved", "attached", "expired"]
        );

        let rejected = jit.request_user(&user, &[]);
        jit.run(&[
            "reject",
            &rejected,
            "--approver",
            APPROVER,
            "--reason",
            "no",
        ])
        .ok();
        assert_eq!(hook.events_for(&rejected), ["request_created", "rejected"]);

        let revoked = jit.request_user(&user, &[]);
        jit.approve_and_attach(&revoked);
        jit.run(&[
            "revoke",
            &revoked,
            "--by",
            APPROVER,
            "--reason",
            "incident over",
        ])
        .ok();
        assert_eq!(
            hook.events_for(&revoked),
            ["request_created", "approved", "attached", "revoked"]
        );

        let ghost = unique("ghost");
        let failing = jit.request_user(&ghost, &[]);
        // The user goes away between the request (which reads it) and the attach.
        Iam::new().delete_user(&ghost);
        jit.run(&["approve", &failing, "--approver", APPROVER]).ok();
        jit.run(&["attach", &failing]).code(3);
        assert_eq!(
            hook.events_for(&failing),
            ["request_created", "approved", "failed"]
        );

        let bodies = hook.bodies.lock().expect("lock").clone();
        let created = bodies
            .iter()
            .find(|b| b["request_id"] == id.as_str() && b["event"] == "request_created")
            .expect("created event");
        assert_eq!(created["requester"], REQUESTER);
        assert_eq!(created["purpose"], "debug the ingest job");
        assert_eq!(created["ttl"], "2h");
        assert_eq!(created["communication"]["destination"], "#jit-approvals");
        assert_eq!(created["communication"]["method"], "Slack");
        // The approvers see the exact policy: object reads scoped to the bucket's objects.
        let get_object = created["policy"]["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .find(|s| {
                s["Action"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "s3:GetObject"))
            })
            .expect("a statement allowing s3:GetObject");
        assert_eq!(
            get_object["Resource"],
            serde_json::json!(["arn:aws:s3:::team-logs/*"])
        );
        let expired = bodies
            .iter()
            .find(|b| b["request_id"] == id.as_str() && b["event"] == "expired")
            .expect("expired event");
        assert!(expired["expires_at"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z')));
        let failed = bodies
            .iter()
            .find(|b| b["request_id"] == failing.as_str() && b["event"] == "failed")
            .expect("failed event");
        assert!(failed["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
}

#[test]
fn webhook_down_commits_state_and_a_later_run_delivers() {
    let hook = Receiver::start();
    for backend in BOTH {
        let mut jit = Jit::new(backend);
        jit.set("KUBIYA_JIT_WEBHOOK", &hook.url);
        hook.fail.store(true, std::sync::atomic::Ordering::SeqCst);
        let id = jit.request_user("alice", &[]);
        jit.run(&["approve", &id, "--approver", APPROVER]).ok();
        assert_eq!(
            jit.state(&id),
            "approved",
            "state must not depend on the webhook"
        );
        assert!(hook.events_for(&id).is_empty());

        // Unreachable altogether (closed port) is no different.
        jit.set("KUBIYA_JIT_WEBHOOK", &format!("{}/hook", dead_endpoint()));
        jit.run(&[
            "reject",
            &jit.request_user("alice", &[]),
            "--approver",
            APPROVER,
            "--reason",
            "x",
        ])
        .ok();

        hook.fail.store(false, std::sync::atomic::Ordering::SeqCst);
        jit.set("KUBIYA_JIT_WEBHOOK", &hook.url);
        jit.run(&["expire"]).ok();
        assert_eq!(
            hook.events_for(&id),
            ["request_created", "approved"],
            "queued events delivered in order"
        );
        // Delivered once: another run sends nothing new.
        jit.run(&["expire"]).ok();
        assert_eq!(hook.events_for(&id).len(), 2);
    }
}

#[test]
fn deliveries_are_signed_when_a_secret_is_set() {
    let hook = Receiver::start();
    let mut jit = Jit::new(Backend::Local);
    jit.set("KUBIYA_JIT_WEBHOOK", &hook.url)
        .set("JIT_WEBHOOK_SECRET", "s3cret");
    jit.request_user("alice", &[]);
    let raw = hook.raw.lock().expect("lock").clone();
    assert_eq!(raw.len(), 1);
    let (body, sig) = &raw[0];
    let expected = format!(
        "sha256={}",
        aws_jit::digest::hmac_sha256_hex(b"s3cret", body)
    );
    assert_eq!(sig.as_deref(), Some(expected.as_str()));
    // A receiver with another secret would reject it.
    assert_ne!(
        sig.as_deref(),
        Some(
            format!(
                "sha256={}",
                aws_jit::digest::hmac_sha256_hex(b"other", body)
            )
            .as_str()
        )
    );
}

#[test]
fn a_permanently_refused_event_does_not_block_later_ones() {
    let hook = Receiver::start();
    let mut jit = Jit::new(Backend::Redis);
    jit.set("KUBIYA_JIT_WEBHOOK", &hook.url);
    hook.reject.store(true, std::sync::atomic::Ordering::SeqCst);
    let first = jit.request_user("alice", &[]);
    hook.reject
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let second = jit.request_user("alice", &[]);
    assert!(hook.events_for(&first).is_empty(), "refused with 400");
    assert_eq!(
        hook.events_for(&second),
        ["request_created"],
        "later events still flow"
    );
    // The refused event is not retried forever.
    jit.run(&["expire"]).ok();
    assert!(hook.events_for(&first).is_empty());
    assert_eq!(
        jit.state(&first),
        "pending",
        "the state change itself stands"
    );
}
