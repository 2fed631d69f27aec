//! Who may approve what, against real redis-server and moto_server: never the requester
//! nor the beneficiary (whatever case, spacing or +tag they write), existing permission
//! sets judged by what they grant and attached only while unchanged, stale approvals dying
//! without the sweep, acknowledgements that name findings, and the settings a request was
//! made under that a later, wider environment cannot widen.

mod common;
mod sso_support;

use std::time::Duration;

use common::*;
use serde_json::json;
use sso_support::Sso;

const ACCOUNT: &str = "111122223333";

fn sso_jit() -> Jit {
    let mut j = Jit::new(Backend::Redis);
    j.set("JIT_SSO_POLL_INTERVAL", "20ms")
        .set("JIT_SSO_POLL_TIMEOUT", "20s");
    j
}

const S3_POLICY: &[&str] = &[
    "--service",
    "s3",
    "--actions",
    "GetObject",
    "--resources",
    "arn:aws:s3:::team-logs/*",
];

#[test]
fn the_beneficiary_of_an_identity_center_grant_cannot_approve_it() {
    let sso = Sso::new();
    // The approver's own Identity Center user, requested by someone else.
    let (user_name, _) = sso.create_user(APPROVER2);
    let mut j = sso_jit();
    j.set(
        "APPROVAL_LIST",
        &format!("{APPROVER},{APPROVER2},LEAD+jit@Example.com, lead@EXAMPLE.com "),
    );
    let id = j
        .request()
        .flag("--sso-user", &user_name)
        .flag("--account-id", ACCOUNT)
        .args(S3_POLICY)
        .id();
    let rec = j.record(&id)["request"].clone();
    let identities = rec["beneficiary"]["identities"].to_string();
    assert!(
        identities.contains(&user_name) && identities.contains(APPROVER2),
        "{rec}"
    );
    // The requester asked for someone else: recorded and shown.
    let shown = j.run(&["status", &id]).ok().stdout;
    assert!(
        shown.contains("beneficiary") && shown.contains(APPROVER2),
        "{shown}"
    );
    for who in [
        APPROVER2,
        "LEAD@example.com",
        " lead@example.com",
        "lead+jit@example.com",
    ] {
        let r = j.run(&["approve", &id, "--approver", who]).code(5);
        assert!(r.stderr.contains("would receive"), "{who}: {}", r.stderr);
        j.run(&["reject", &id, "--approver", who, "--reason", "mine"])
            .code(5);
    }
    assert_eq!(j.state(&id), "pending");
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    assert_eq!(j.state(&id), "approved");
}

#[test]
fn the_owner_an_iam_user_is_tagged_with_cannot_approve_its_grant() {
    let iam = Iam::new();
    let j = Jit::new(Backend::Local);
    for tag in ["aws-jit:owner", "email"] {
        let user = iam.create_user();
        iam.rt
            .block_on(
                iam.client
                    .tag_user()
                    .user_name(&user)
                    .tags(
                        aws_sdk_iam::types::Tag::builder()
                            .key(tag)
                            .value("Boss@Example.com")
                            .build()
                            .expect("tag"),
                    )
                    .send(),
            )
            .expect("TagUser");
        let id = j.request_user(&user, &[]);
        assert_eq!(
            j.record(&id)["request"]["beneficiary"]["source"],
            format!("iam-user-name, iam-tag:{tag}")
        );
        let r = j.run(&["approve", &id, "--approver", APPROVER]).code(5);
        assert!(r.stderr.contains("would receive"), "{}", r.stderr);
        j.run(&["approve", &id, "--approver", APPROVER2]).ok();
    }
    // Without an owner tag the user is known by its name alone; the requester rule stands.
    let user = iam.create_user();
    let id = j.request_user(&user, &[]);
    assert_eq!(
        j.record(&id)["request"]["beneficiary"]["identities"],
        json!([user])
    );
    j.run(&["approve", &id, "--approver", REQUESTER]).code(5);
    // A user named after the approver is the approver's; so is one whose tag names several
    // people, or names them with a trailing dot, or under a plain `Owner` key.
    for (name, tags) in [
        ("boss", vec![]),
        ("boss@example.com", vec![]),
        ("", vec![("email", "dev@example.com boss@example.com")]),
        ("", vec![("aws-jit:owner", "boss@example.com.")]),
        ("", vec![("Owner", "boss@example.com")]),
    ] {
        let user = if name.is_empty() {
            iam.create_user()
        } else {
            iam.ensure_user(name);
            name.to_string()
        };
        for (k, v) in tags {
            iam.rt
                .block_on(
                    iam.client
                        .tag_user()
                        .user_name(&user)
                        .tags(
                            aws_sdk_iam::types::Tag::builder()
                                .key(k)
                                .value(v)
                                .build()
                                .expect("tag"),
                        )
                        .send(),
                )
                .expect("TagUser");
        }
        let id = j.request_user(&user, &[]);
        j.run(&["approve", &id, "--approver", APPROVER]).code(5);
    }
}

#[test]
fn an_unknown_iam_target_is_refused_when_requested() {
    let j = Jit::new(Backend::Local);
    let r = j
        .request()
        .flag("--iam-user", &unique("nobody"))
        .s3_read()
        .run()
        .code(3);
    assert!(r.stderr.contains("IAM user"), "{}", r.stderr);
    let r = j
        .request()
        .flag("--iam-role", &unique("norole"))
        .s3_read()
        .run()
        .code(3);
    assert!(r.stderr.contains("IAM role"), "{}", r.stderr);
}

#[test]
fn identities_with_look_alike_characters_are_refused() {
    let j = Jit::new(Backend::Local);
    let id = j.request_user("alice", &[]);
    // Cyrillic "о" in boss: not the listed approver, and not ASCII at all.
    let r = j
        .run(&["approve", &id, "--approver", "b\u{43e}ss@example.com"])
        .code(2);
    assert!(r.stderr.contains("--approver"), "{}", r.stderr);
    j.request()
        .flag("--iam-user", "alice")
        .flag("--requester", "d\u{435}v@example.com")
        .s3_read()
        .run()
        .code(2);
}

#[test]
fn an_existing_permission_set_is_judged_by_what_it_grants_and_attached_only_unchanged() {
    let sso = Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let (ps_name, ps) = sso.create_permission_set();
    sso.attach_managed(&ps, "arn:aws:iam::aws:policy/AdministratorAccess");
    sso.put_inline(
        &ps,
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    );
    let j = sso_jit();
    let id = j
        .request()
        .flag("--sso-user", &user)
        .flag("--account-id", ACCOUNT)
        .flag("--permission-set", &ps_name)
        .id();
    let codes = j.security_codes(&id);
    assert!(
        codes.contains(&"broad-managed-policy".to_string())
            && codes.contains(&"full-wildcard".to_string()),
        "{codes:?}"
    );
    let rec = j.record(&id)["request"].clone();
    assert_eq!(rec["permission_set_contents"]["arn"], ps);
    assert!(rec["policy_sha256"].is_string(), "the contents are hashed");
    // No acknowledgement, no approval.
    j.run(&["approve", &id, "--approver", APPROVER]).code(5);
    j.approve_accepting_findings(&id, APPROVER);
    // The permission set changes after approval: attach refuses.
    sso.put_inline(
        &ps,
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}),
    );
    let r = j.run(&["attach", &id]).code(5);
    assert!(
        r.stderr.contains("no longer grants what was approved"),
        "{}",
        r.stderr
    );
    assert!(!sso.assigned_users(ACCOUNT, &ps).contains(&user_id));

    // Unchanged since approval: attached.
    let (ps_name, ps) = sso.create_permission_set();
    sso.attach_managed(&ps, "arn:aws:iam::aws:policy/ReadOnlyAccess");
    let id = j
        .request()
        .flag("--sso-user", &user)
        .flag("--account-id", ACCOUNT)
        .flag("--permission-set", &ps_name)
        .id();
    assert!(
        !j.security_codes(&id)
            .contains(&"broad-managed-policy".to_string()),
        "ReadOnlyAccess is not an administrator policy"
    );
    j.approve_accepting_findings(&id, APPROVER);
    j.run(&["attach", &id]).ok();
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![user_id]);
}

#[test]
fn stale_requests_and_approvals_die_without_the_sweep() {
    let mut j = Jit::new(Backend::Redis);
    j.set("JIT_PENDING_TIMEOUT", "1s");
    let pending = j.request_user("alice", &[]);
    let approved = j.request_user("alice", &[]);
    j.run(&["approve", &approved, "--approver", APPROVER]).ok();
    std::thread::sleep(Duration::from_millis(2200));
    // Nobody ran `expire`: approve and attach refuse by themselves, and say why.
    let r = j
        .run(&["approve", &pending, "--approver", APPROVER])
        .code(4);
    assert!(r.stderr.contains("timed out"), "{}", r.stderr);
    assert_eq!(j.state(&pending), "timed_out");
    let r = j.run(&["attach", &approved]).code(4);
    assert!(r.stderr.contains("timed out"), "{}", r.stderr);
    assert_eq!(j.state(&approved), "timed_out");
    let timeline = j.record(&approved)["timeline"].to_string();
    assert!(timeline.contains("time_out"), "{timeline}");
    // A wider JIT_PENDING_TIMEOUT later does not bring a request back from the dead, nor
    // stretch the one recorded on a new request.
    j.set("JIT_PENDING_TIMEOUT", "1s");
    let fresh = j.request_user("alice", &[]);
    std::thread::sleep(Duration::from_millis(2200));
    j.set("JIT_PENDING_TIMEOUT", "24h");
    j.run(&["approve", &fresh, "--approver", APPROVER]).code(4);
}

#[test]
fn a_wider_environment_later_does_not_widen_what_applies() {
    let mut j = Jit::new(Backend::Local);
    j.set("APPROVAL_LIST", APPROVER);
    let id = j.request_user("alice", &[]);
    // mallory added to the list after the request was made: not an approver of it.
    j.set("APPROVAL_LIST", &format!("{APPROVER},mallory@example.com"));
    let r = j
        .run(&["approve", &id, "--approver", "mallory@example.com"])
        .code(5);
    assert!(r.stderr.contains("not among the approvers"), "{}", r.stderr);
    // A narrower list still narrows: boss removed, boss refused.
    j.set("APPROVAL_LIST", "mallory@example.com");
    j.run(&["approve", &id, "--approver", APPROVER]).code(5);
    // ALLOWED_SERVICES set later narrows too.
    j.set("APPROVAL_LIST", APPROVER)
        .set("ALLOWED_SERVICES", "ec2");
    let r = j.run(&["approve", &id, "--approver", APPROVER]).code(5);
    assert!(r.stderr.contains("ALLOWED_SERVICES"), "{}", r.stderr);
    j.unset("ALLOWED_SERVICES");
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    // The recorded maximum TTL holds at attach, whatever this process allows.
    let rec = j.record(&id)["request"].clone();
    assert_eq!(rec["terms"]["approvers"], json!([APPROVER]));
    assert_eq!(rec["terms"]["max_ttl_secs"], 24 * 3600);
    j.set("JIT_MAX_DURATION", "1h").set("JIT_DEFAULT_TTL", "1h");
    let r = j.run(&["attach", &id]).code(5);
    assert!(r.stderr.contains("maximum"), "{}", r.stderr);
}

#[test]
fn one_mailbox_cannot_fill_a_quorum_of_two() {
    let mut j = Jit::new(Backend::Local);
    j.set(
        "APPROVAL_LIST",
        &format!("{APPROVER},boss+jit@example.com,{APPROVER2}"),
    )
    .set("JIT_APPROVAL_QUORUM", "2");
    let id = j.request_user("alice", &[]);
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    j.run(&["approve", &id, "--approver", "boss+jit@example.com"])
        .code(4);
    assert_eq!(j.state(&id), "pending");
    j.run(&["approve", &id, "--approver", APPROVER2]).ok();
    assert_eq!(j.state(&id), "approved");
}

#[test]
fn allowed_services_also_bound_existing_permission_sets() {
    let sso = Sso::new();
    let (user, _) = sso.create_user(&format!("{}@example.com", unique("u")));
    let (ps_name, ps) = sso.create_permission_set();
    sso.put_inline(
        &ps,
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["ec2:RebootInstances", "dynamodb:DeleteTable"],
            "Resource": "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"}]}),
    );
    let mut j = sso_jit();
    let requested = |j: &Jit| {
        j.request()
            .flag("--sso-user", &user)
            .flag("--account-id", ACCOUNT)
            .flag("--permission-set", &ps_name)
            .run()
    };
    j.set("ALLOWED_SERVICES", "s3");
    let r = requested(&j).code(2);
    assert!(r.stderr.contains("service-not-allowed"), "{}", r.stderr);
    // Allowed when it was requested, narrowed before approval: refused then.
    j.unset("ALLOWED_SERVICES");
    let id = requested(&j)
        .ok()
        .stdout
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    j.set("ALLOWED_SERVICES", "s3");
    let r = j.run(&["approve", &id, "--approver", APPROVER]).code(5);
    assert!(r.stderr.contains("ALLOWED_SERVICES"), "{}", r.stderr);
}

#[test]
fn a_permission_set_named_by_arn_and_by_name_is_one_shared_assignment() {
    let sso = Sso::new();
    let email = format!("{}@example.com", unique("u"));
    let (user, user_id) = sso.create_user(&email);
    let (ps_name, ps) = sso.create_permission_set();
    let j = sso_jit();
    let request = |who: &str, set: &str, ttl: &str| {
        j.request()
            .flag("--ttl", ttl)
            .flag("--sso-user", who)
            .flag("--account-id", ACCOUNT)
            .flag("--permission-set", set)
            .id()
    };
    let short = request(&user, &ps_name, "1h");
    let long = request(&email, &ps, "3h");
    j.approve_and_attach(&short);
    j.approve_and_attach(&long);
    let in_two_hours = aws_jit::time::Timestamp::now()
        .plus(Duration::from_secs(7200))
        .to_string();
    j.run(&["expire", "--at", &in_two_hours]).ok();
    assert_eq!(j.state(&short), "expired");
    assert_eq!(j.state(&long), "active");
    assert_eq!(
        sso.assigned_users(ACCOUNT, &ps),
        vec![user_id],
        "expiring one grant removed the assignment another active grant needs"
    );
}

#[test]
fn values_in_error_messages_cannot_forge_lines() {
    let j = Jit::new(Backend::Local);
    for args in [
        vec!["status", "jit-x\nstate         approved"],
        vec!["--output", "x\nstate         approved", "status"],
        vec!["status", "jit-\u{2028}x"],
    ] {
        let r = j.run(&args).code(2);
        assert!(
            r.stderr.lines().all(|l| !l.starts_with("state")) && !r.stderr.contains('\u{2028}'),
            "{args:?}: {}",
            r.stderr
        );
    }
}

/// An approval counts from when it completed: a refused attach does not keep it usable
/// beyond JIT_PENDING_TIMEOUT, and a retry never restarts the TTL.
#[test]
fn an_approval_whose_first_attach_failed_still_times_out() {
    let iam = Iam::new();
    let user = iam.create_user();
    let mut j = Jit::new(Backend::Local);
    j.set("JIT_PENDING_TIMEOUT", "2s");
    let id = j.request_user(&user, &[]);
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    iam.delete_user(&user);
    j.run(&["attach", &id]).code(3);
    let first = j.record(&id)["request"]["expires_at"].clone();
    assert!(first.is_string(), "the intent is recorded");
    std::thread::sleep(Duration::from_millis(2500));
    iam.ensure_user(&user);
    let late = j.run(&["attach", &id]).code(4);
    assert!(late.stderr.contains("timed out"), "{}", late.stderr);
    assert!(iam.user_policies(&user).is_empty());

    // Within the timeout, a retry keeps the first attempt's expiry.
    j.set("JIT_PENDING_TIMEOUT", "1h");
    let user = iam.create_user();
    let id = j.request_user(&user, &[]);
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    iam.delete_user(&user);
    j.run(&["attach", &id]).code(3);
    let first = j.record(&id)["request"]["expires_at"].clone();
    std::thread::sleep(Duration::from_millis(1100));
    iam.ensure_user(&user);
    j.run(&["attach", &id]).ok();
    assert_eq!(j.record(&id)["request"]["expires_at"], first);
}
