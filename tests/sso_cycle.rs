//! IAM Identity Center target, end to end through the real binary against moto_server
//! (ssoadmin + identitystore through the aws-sdk-rust clients), plus a fault-injecting
//! proxy for what moto cannot do (see `sso_support`): IN_PROGRESS and FAILED statuses,
//! Conflict/Throttling answers, and failures injected into removal.

mod common;
mod sso_support;

use std::time::Duration;

use common::*;
use serde_json::Value;
use sso_support::{Action, Proxy, Sso};

const ACCOUNT: &str = "111122223333";

fn jit(backend: Backend) -> Jit {
    let mut j = Jit::new(backend);
    j.set("JIT_SSO_POLL_INTERVAL", "20ms")
        .set("JIT_SSO_POLL_TIMEOUT", "20s");
    j
}

fn through(j: &mut Jit, proxy: &Proxy) {
    j.set("AWS_ENDPOINT_URL", &proxy.url);
}

/// `request` for an Identity Center user; `how` picks the permission set or the policy.
fn request_sso(j: &Jit, user: &str, ttl: &str, how: &[&str]) -> String {
    j.request()
        .flag("--purpose", "investigate the billing export")
        .flag("--ttl", ttl)
        .flag("--sso-user", user)
        .flag("--account-id", ACCOUNT)
        .flag("--output", "json")
        .args(how)
        .id()
}

const POLICY: &[&str] = &[
    "--service",
    "s3",
    "--actions",
    "GetObject,ListBucket",
    "--resources",
    "arn:aws:s3:::billing-exports,arn:aws:s3:::billing-exports/*",
];

fn approve(j: &Jit, id: &str) {
    j.approve_accepting_findings(id, APPROVER);
}

fn grant(j: &Jit, id: &str) -> Value {
    j.record(id)["request"]["grant"]["details"].clone()
}

fn last_error(j: &Jit, id: &str) -> String {
    j.record(id)["request"]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn ps_arn(details: &Value) -> String {
    details["permission_set_arn"]
        .as_str()
        .expect("permission_set_arn in grant details")
        .to_string()
}

fn at_offset(d: Duration) -> String {
    aws_jit::time::Timestamp::now().plus(d).to_string()
}

#[test]
fn sso_existing_permission_set_end_to_end() {
    let sso = Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let (ps_name, ps) = sso.create_permission_set();
    let j = jit(Backend::Redis);
    let id = request_sso(&j, &user, "2h", &["--permission-set", &ps_name]);
    approve(&j, &id);
    j.run(&["attach", &id]).ok();

    let rec = j.record(&id);
    assert_eq!(rec["request"]["state"], "active");
    let d = grant(&j, &id);
    assert_eq!(d["kind"], "sso");
    assert_eq!(d["ephemeral"], false);
    assert_eq!(d["account_id"], ACCOUNT);
    assert_eq!(d["user_id"], user_id.as_str());
    assert_eq!(d["instance_arn"], sso.instance_arn.as_str());
    assert_eq!(d["identity_store_id"], sso.store_id.as_str());
    assert_eq!(ps_arn(&d), ps);
    assert_eq!(d["assignment"]["status"], "SUCCEEDED");
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![user_id.clone()]);
    // Status in text shows the account, permission set and assignment state.
    let text = j.run(&["status", &id]).ok().stdout;
    for want in [ACCOUNT, ps_name.as_str(), "SUCCEEDED"] {
        assert!(text.contains(want), "status lacks {want}:\n{text}");
    }
    // Re-attaching an active grant converges without a duplicate assignment.
    j.run(&["attach", &id]).ok();
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![user_id.clone()]);

    j.run(&["expire"]).ok();
    assert_eq!(j.state(&id), "active", "expired before its time");
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&id), "expired");
    assert!(
        sso.assigned_users(ACCOUNT, &ps).is_empty(),
        "assignment left behind"
    );
    // An existing permission set is never deleted.
    assert!(
        sso.describe(&ps).is_some(),
        "existing permission set was deleted"
    );
}

#[test]
fn sso_ephemeral_permission_set_end_to_end_by_email() {
    let sso = Sso::new();
    let email = format!("{}@example.com", unique("e"));
    let (_user, user_id) = sso.create_user(&email);
    let j = jit(Backend::Local);
    let id = request_sso(&j, &email, "2h", POLICY);
    approve(&j, &id);
    j.run(&["attach", &id]).ok();

    let rec = j.record(&id);
    assert_eq!(rec["request"]["state"], "active");
    let d = grant(&j, &id);
    assert_eq!(d["ephemeral"], true);
    assert_eq!(d["user_id"], user_id.as_str(), "found by email");
    assert_eq!(d["provisioning"]["status"], "SUCCEEDED");
    assert_eq!(d["assignment"]["status"], "SUCCEEDED");
    let ps = ps_arn(&d);
    let (name, duration, description) = sso.describe(&ps).expect("ephemeral permission set exists");
    assert_eq!(name, id, "named from the request");
    assert!(name.len() <= 32);
    assert_eq!(duration, "PT2H", "session duration is min(TTL, 12h)");
    assert!(
        description.starts_with(&format!("aws-jit {id} ")),
        "{description}"
    );
    // What AWS holds is exactly what was approved.
    assert_eq!(sso.inline_policy(&ps), rec["request"]["policy"]);
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![user_id]);

    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&id), "expired");
    assert!(sso.assigned_users(ACCOUNT, &ps).is_empty());
    assert!(
        sso.describe(&ps).is_none(),
        "ephemeral permission set not deleted"
    );
    assert!(sso.permission_sets_named(&id).is_empty());
}

#[test]
fn sso_session_duration_is_capped_at_twelve_hours() {
    let sso = Sso::new();
    let (user, _) = sso.create_user(&format!("{}@example.com", unique("e")));
    let mut j = jit(Backend::Local);
    j.set("JIT_MAX_DURATION", "1d");
    let id = request_sso(&j, &user, "20h", POLICY);
    approve(&j, &id);
    j.run(&["attach", &id]).ok();
    let ps = ps_arn(&grant(&j, &id));
    assert_eq!(sso.describe(&ps).expect("exists").1, "PT12H");
    j.run(&["revoke", &id, "--by", REQUESTER, "--reason", "done"])
        .ok();
    assert_eq!(j.state(&id), "revoked");
    assert!(sso.describe(&ps).is_none());
}

#[test]
fn sso_overlapping_grants_on_one_permission_set() {
    let sso = Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let (ps_name, ps) = sso.create_permission_set();
    for backend in BOTH {
        let j = jit(backend);
        let first = request_sso(&j, &user, "1h", &["--permission-set", &ps_name]);
        let second = request_sso(&j, &user, "3h", &["--permission-set", &ps_name]);
        for id in [&first, &second] {
            approve(&j, id);
            j.run(&["attach", id]).ok();
        }
        assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![user_id.clone()]);
        // Held by another aws-jit grant, not standing access: last one out removes it.
        assert_eq!(grant(&j, &second)["assignment_existed"], false);

        // The first grant ends while the second still needs the assignment: it stays.
        j.run(&["expire", "--at", &at_offset(Duration::from_secs(2 * 3600))])
            .ok();
        assert_eq!(j.state(&first), "expired");
        assert_eq!(j.state(&second), "active");
        assert_eq!(
            sso.assigned_users(ACCOUNT, &ps),
            vec![user_id.clone()],
            "first expiry cut access the second grant still needs ({backend:?})"
        );

        // The last one out removes it.
        j.run(&["expire", "--at", FAR_FUTURE]).ok();
        assert_eq!(j.state(&second), "expired");
        assert!(sso.assigned_users(ACCOUNT, &ps).is_empty(), "{backend:?}");
    }
}

#[test]
fn sso_polls_through_in_progress_and_retries_conflict_and_throttling() {
    let sso = Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let proxy = Proxy::start();
    let mut j = jit(Backend::Redis);
    through(&mut j, &proxy);
    let id = request_sso(&j, &user, "2h", POLICY);
    approve(&j, &id);

    proxy
        .on(
            "ProvisionPermissionSet",
            1,
            Action::SetStatus {
                object: "PermissionSetProvisioningStatus",
                status: "IN_PROGRESS",
                reason: None,
            },
        )
        // moto lacks DescribePermissionSetProvisioningStatus: the proxy answers it.
        .on(
            "DescribePermissionSetProvisioningStatus",
            2,
            Action::Answer {
                object: "PermissionSetProvisioningStatus",
                status: "IN_PROGRESS",
                request_id: "prov-1",
                reason: None,
            },
        )
        .on(
            "DescribePermissionSetProvisioningStatus",
            1,
            Action::Answer {
                object: "PermissionSetProvisioningStatus",
                status: "SUCCEEDED",
                request_id: "prov-1",
                reason: None,
            },
        )
        .on(
            "ListAccountAssignments",
            2,
            Action::Fail {
                http: 400,
                code: "ThrottlingException",
                message: "Rate exceeded",
            },
        )
        .on(
            "CreateAccountAssignment",
            2,
            Action::Fail {
                http: 400,
                code: "ConflictException",
                message: "Another operation on this permission set is in progress",
            },
        )
        .on(
            "CreateAccountAssignment",
            1,
            Action::SetStatus {
                object: "AccountAssignmentCreationStatus",
                status: "IN_PROGRESS",
                reason: None,
            },
        )
        .on(
            "DescribeAccountAssignmentCreationStatus",
            2,
            Action::SetStatus {
                object: "AccountAssignmentCreationStatus",
                status: "IN_PROGRESS",
                reason: None,
            },
        );
    j.run(&["attach", &id]).ok();
    assert_eq!(proxy.pending(), 0, "not every injected answer was used");
    assert_eq!(proxy.count("DescribePermissionSetProvisioningStatus"), 3);
    assert_eq!(proxy.count("CreateAccountAssignment"), 3);
    // Two IN_PROGRESS from the proxy, then moto's own SUCCEEDED.
    assert_eq!(proxy.count("DescribeAccountAssignmentCreationStatus"), 3);
    assert_eq!(j.state(&id), "active");
    let d = grant(&j, &id);
    assert_eq!(d["provisioning"]["status"], "SUCCEEDED");
    assert_eq!(d["assignment"]["status"], "SUCCEEDED");
    let ps = ps_arn(&d);
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![user_id]);

    // Removal polls the deletion too.
    proxy
        .on(
            "DeleteAccountAssignment",
            1,
            Action::SetStatus {
                object: "AccountAssignmentDeletionStatus",
                status: "IN_PROGRESS",
                reason: None,
            },
        )
        .on(
            "DescribeAccountAssignmentDeletionStatus",
            1,
            Action::SetStatus {
                object: "AccountAssignmentDeletionStatus",
                status: "IN_PROGRESS",
                reason: None,
            },
        )
        .on(
            "DeletePermissionSet",
            1,
            Action::Fail {
                http: 400,
                code: "ConflictException",
                message: "permission set is being deprovisioned",
            },
        );
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(proxy.pending(), 0);
    assert_eq!(proxy.count("DescribeAccountAssignmentDeletionStatus"), 2);
    assert_eq!(j.state(&id), "expired");
    assert!(sso.describe(&ps).is_none());
}

#[test]
fn sso_failed_provisioning_is_recorded_never_success() {
    let sso = Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let proxy = Proxy::start();
    let mut j = jit(Backend::Local);
    through(&mut j, &proxy);
    let id = request_sso(&j, &user, "2h", POLICY);
    approve(&j, &id);
    proxy
        .on(
            "ProvisionPermissionSet",
            1,
            Action::SetStatus {
                object: "PermissionSetProvisioningStatus",
                status: "IN_PROGRESS",
                reason: None,
            },
        )
        .on(
            "DescribePermissionSetProvisioningStatus",
            1,
            Action::Answer {
                object: "PermissionSetProvisioningStatus",
                status: "FAILED",
                request_id: "prov-2",
                reason: Some("Received a 409 status error: the role is being modified"),
            },
        );
    let r = j.run(&["attach", &id]);
    assert_ne!(r.code, 0, "a FAILED provisioning was reported as success");
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("FAILED"), "{}", r.stderr);
    assert_eq!(j.state(&id), "approved", "stays approved and retryable");
    let err = last_error(&j, &id);
    assert!(
        err.contains("FAILED") && err.contains("role is being modified"),
        "{err}"
    );
    assert!(j.record(&id)["request"]["grant"].is_null());
    // Nothing half-made is left: the permission set was rolled back, nothing assigned.
    assert!(
        sso.permission_sets_named(&id).is_empty(),
        "permission set left behind"
    );
    let timeline: Vec<String> = j.record(&id)["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        timeline.contains(&"attach_failed".to_string()),
        "{timeline:?}"
    );

    // AWS recovers: the retry attaches.
    j.run(&["attach", &id]).ok();
    assert_eq!(j.state(&id), "active");
    let ps = ps_arn(&grant(&j, &id));
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![user_id]);
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert!(sso.describe(&ps).is_none());
}

#[test]
fn sso_failed_assignment_is_recorded_never_success() {
    let sso = Sso::new();
    let (user, _) = sso.create_user(&format!("{}@example.com", unique("e")));
    let (ps_name, ps) = sso.create_permission_set();
    let proxy = Proxy::start();
    let mut j = jit(Backend::Redis);
    through(&mut j, &proxy);
    let id = request_sso(&j, &user, "2h", &["--permission-set", &ps_name]);
    approve(&j, &id);
    // As in AWS, a creation that ends FAILED leaves no assignment: the proxy answers
    // both calls itself so moto never creates one.
    proxy
        .on(
            "CreateAccountAssignment",
            1,
            Action::Answer {
                object: "AccountAssignmentCreationStatus",
                status: "IN_PROGRESS",
                request_id: "create-1",
                reason: None,
            },
        )
        .on(
            "DescribeAccountAssignmentCreationStatus",
            1,
            Action::Answer {
                object: "AccountAssignmentCreationStatus",
                status: "FAILED",
                request_id: "create-1",
                reason: Some("Request failed because the permission set could not be provisioned"),
            },
        );
    let r = j.run(&["attach", &id, "--output", "json"]);
    assert_eq!(r.code, 6, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(j.state(&id), "approved");
    let err = last_error(&j, &id);
    assert!(
        err.contains("FAILED") && err.contains("could not be provisioned"),
        "{err}"
    );
    assert!(sso.assigned_users(ACCOUNT, &ps).is_empty());
    // Approved grants stay in the expiry index: expire tidies up without error.
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&id), "expired");
    assert!(sso.describe(&ps).is_some());
}

#[test]
fn sso_expire_retried_after_injected_failure() {
    let sso = Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let (ps_name, ps) = sso.create_permission_set();
    let proxy = Proxy::start();
    let mut j = jit(Backend::Redis);
    through(&mut j, &proxy);
    // One at a time, so the faults below meet the grants in expiry order.
    j.set("JIT_EXPIRE_CONCURRENCY", "1");
    let shared = request_sso(&j, &user, "2h", &["--permission-set", &ps_name]);
    // A longer TTL makes `shared` due first, so the injected faults below meet the grant
    // they are meant for (equal expiries would be taken in random id order).
    let own = request_sso(&j, &user, "3h", POLICY);
    for id in [&shared, &own] {
        approve(&j, id);
        j.run(&["attach", id]).ok();
    }
    let own_ps = ps_arn(&grant(&j, &own));

    // Existing permission set: DeleteAccountAssignment refused once.
    proxy.on(
        "DeleteAccountAssignment",
        1,
        Action::Fail {
            http: 400,
            code: "AccessDeniedException",
            message: "User is not authorized to perform sso:DeleteAccountAssignment",
        },
    );
    // Ephemeral permission set: the deletion is accepted but ends FAILED.
    proxy
        .on(
            "DeleteAccountAssignment",
            1,
            Action::SetStatus {
                object: "AccountAssignmentDeletionStatus",
                status: "IN_PROGRESS",
                reason: None,
            },
        )
        .on(
            "DescribeAccountAssignmentDeletionStatus",
            1,
            Action::Answer {
                object: "AccountAssignmentDeletionStatus",
                status: "FAILED",
                request_id: "delete-1",
                reason: Some("Internal failure, retry"),
            },
        );
    let r = j.run(&["expire", "--at", FAR_FUTURE, "--output", "json"]);
    assert_eq!(r.code, 6, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    for id in [&shared, &own] {
        assert_eq!(j.state(id), "removing", "{id}");
    }
    let e1 = last_error(&j, &shared);
    assert!(e1.contains("AccessDenied"), "{e1}");
    let e2 = last_error(&j, &own);
    assert!(e2.contains("FAILED"), "{e2}");
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![user_id.clone()]);
    assert!(
        sso.describe(&own_ps).is_some(),
        "deleted before the assignment was gone"
    );

    // The next run retries both and succeeds.
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&shared), "expired");
    assert_eq!(j.state(&own), "expired");
    assert!(sso.assigned_users(ACCOUNT, &ps).is_empty());
    assert!(sso.assigned_users(ACCOUNT, &own_ps).is_empty());
    assert!(sso.describe(&own_ps).is_none());
}

#[test]
fn sso_user_lookup_errors_are_clear() {
    let sso = Sso::new();
    let j = jit(Backend::Local);
    let (_, ps) = sso.create_permission_set();
    let _ = ps;
    let request = |user: &str, how: &[&str]| {
        j.request()
            .flag("--purpose", "investigate the billing export")
            .flag("--sso-user", user)
            .flag("--account-id", ACCOUNT)
            .args(how)
            .run()
    };

    // The user is resolved when the request is made: an unknown one is refused then,
    // with nothing stored and nothing created.
    let ghost = unique("ghost");
    let r = request(&ghost, POLICY).code(3);
    assert!(
        r.stderr.contains("no Identity Center user") && r.stderr.contains(&ghost),
        "{}",
        r.stderr
    );
    assert!(
        j.run(&["status", "--output", "json"]).ok().json()["requests"]
            .as_array()
            .is_some_and(|a| a.is_empty()),
        "a refused request was stored"
    );

    let shared_email = format!("{}@example.com", unique("twin"));
    let (a, _) = sso.create_user(&shared_email);
    let (b, _) = sso.create_user(&shared_email);
    let r = request(&shared_email, POLICY).code(2);
    assert!(r.stderr.contains("2 Identity Center users"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&a) && r.stderr.contains(&b),
        "{}",
        r.stderr
    );

    // An unknown permission set names what to fix.
    let (user, _) = sso.create_user(&format!("{}@example.com", unique("e")));
    let r = request(&user, &["--permission-set", "NoSuchSet"]).code(3);
    assert!(
        r.stderr.contains("NoSuchSet") && r.stderr.contains("--permission-set"),
        "{}",
        r.stderr
    );
}

#[test]
fn sso_instance_from_environment() {
    let sso = Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let (ps_name, ps) = sso.create_permission_set();
    let mut j = jit(Backend::Local);
    j.set(
        "SSO_INSTANCE_ARN",
        "arn:aws:sso:::instance/ssoins-0000000000000000",
    );
    // The instance is needed already to make the request (the user is resolved then).
    let r = j
        .request()
        .flag("--sso-user", &user)
        .flag("--account-id", ACCOUNT)
        .flag("--permission-set", &ps_name)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("SSO_INSTANCE_ARN"), "{}", r.stderr);
    j.set("SSO_INSTANCE_ARN", &sso.instance_arn);
    j.set("IDENTITY_STORE_ID", &sso.store_id);
    let id = request_sso(&j, &user, "1h", &["--permission-set", &ps_name]);
    approve(&j, &id);
    j.run(&["attach", &id]).ok();
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![user_id]);
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert!(sso.assigned_users(ACCOUNT, &ps).is_empty());
}

/// The "last one out" race: while the last holder deletes the shared assignment, a new
/// grant for the same (user, account, permission set) starts attaching, sees the
/// assignment still there and adds nothing. Removal asks again after the deletion
/// completed and puts the assignment back. Driven through the library, since the race
/// cannot be timed reliably between two processes.
#[test]
fn sso_last_one_out_restores_assignment_for_a_grant_that_arrived_meanwhile() {
    use std::cell::Cell;
    let sso = Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let (ps_name, ps) = sso.create_permission_set();
    let j = jit(Backend::Local);
    let id = request_sso(&j, &user, "1h", &["--permission-set", &ps_name]);
    approve(&j, &id);
    j.run(&["attach", &id]).ok();
    let rec: aws_jit::request::Request =
        serde_json::from_value(j.record(&id)["request"].clone()).expect("record");

    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("JIT_SSO_POLL_INTERVAL", "20ms"),
    ] {
        std::env::set_var(k, v);
    }
    use aws_jit::grant::{Holder, Holders, HoldersError};
    /// Holders as the test scripts them.
    struct Script<F: Fn() -> Vec<Holder>>(F);
    impl<F: Fn() -> Vec<Holder>> Holders for Script<F> {
        fn holders(&self) -> Result<Vec<Holder>, HoldersError> {
            Ok((self.0)())
        }
    }
    let aws = aws_jit::aws::Aws::connect().expect("aws");
    let asked = Cell::new(0);
    aws.remove(
        &rec,
        &Script(|| {
            asked.set(asked.get() + 1);
            // Nobody else before the deletion; by the re-check a newcomer (the same person,
            // named by user name and not resolved yet) is attaching.
            if asked.get() > 1 {
                vec![Holder {
                    request_id: "jit-newcomer0000".into(),
                    user_id: None,
                    user: user.clone(),
                }]
            } else {
                vec![]
            }
        }),
    )
    .expect("remove");
    assert_eq!(
        asked.get(),
        2,
        "still_needed is asked before and after deleting"
    );
    assert_eq!(
        sso.assigned_users(ACCOUNT, &ps),
        vec![user_id.clone()],
        "the newcomer lost its access"
    );

    // Another person's grant on the same permission set never keeps this user's
    // assignment alive (resolved or not): it goes.
    let (stranger, _) = sso.create_user(&format!("{}@example.com", unique("s")));
    aws.remove(
        &rec,
        &Script(|| {
            vec![
                Holder {
                    request_id: "jit-other0000000".into(),
                    user_id: Some("someone-else".into()),
                    user: stranger.clone(),
                },
                Holder {
                    request_id: "jit-other0000001".into(),
                    user_id: None,
                    user: stranger.clone(),
                },
            ]
        }),
    )
    .expect("remove");
    assert!(
        sso.assigned_users(ACCOUNT, &ps).is_empty(),
        "a stranger's grant kept the assignment"
    );
    // And with nobody at all, removing again is harmless.
    aws.remove(&rec, &aws_jit::grant::NoHolders)
        .expect("remove");
    assert!(sso.assigned_users(ACCOUNT, &ps).is_empty());
}

/// AWS refuses a second permission set with a taken name (ConflictException); moto does
/// not (it keeps duplicates), so the proxy answers as AWS would. A permission set left by
/// an earlier attempt of the same request (of this installation, holding nothing else) is
/// adopted; anyone else's is not touched.
#[test]
fn sso_ephemeral_name_taken_adopts_only_its_own() {
    let sso = Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let proxy = Proxy::start();
    let mut j = jit(Backend::Local);
    through(&mut j, &proxy);
    j.set("JIT_INSTALLATION", "sso-tests");
    let conflict = Action::Fail {
        http: 400,
        code: "ConflictException",
        message: "PermissionSet with the name already exists",
    };
    let precreate = |id: &str, description: &str| -> String {
        let out = sso
            .rt
            .block_on(
                sso.admin
                    .create_permission_set()
                    .instance_arn(&sso.instance_arn)
                    .name(id)
                    .description(description)
                    // moto gap: without SessionDuration moto stores the integer 3600,
                    // which DescribePermissionSet then returns and the SDK cannot parse.
                    .session_duration("PT1H")
                    .send(),
            )
            .expect("CreatePermissionSet");
        out.permission_set()
            .and_then(|p| p.permission_set_arn())
            .expect("arn")
            .to_string()
    };

    // Someone else's permission set holds the name: refused, left alone.
    let id = request_sso(&j, &user, "1h", POLICY);
    approve(&j, &id);
    let foreign = precreate(&id, "hand-made by an administrator");
    proxy.on("CreatePermissionSet", 1, conflict.clone());
    let r = j.run(&["attach", &id]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert!(sso.describe(&foreign).is_some());
    assert!(sso.assigned_users(ACCOUNT, &foreign).is_empty());

    // Left by an earlier attempt of this very request: adopted.
    let id = request_sso(&j, &user, "1h", POLICY);
    approve(&j, &id);
    let ours = precreate(
        &id,
        &format!("aws-jit {id} installation=sso-tests for {REQUESTER} until later"),
    );
    proxy.on("CreatePermissionSet", 1, conflict);
    j.run(&["attach", &id]).ok();
    assert_eq!(ps_arn(&grant(&j, &id)), ours);
    assert_eq!(sso.assigned_users(ACCOUNT, &ours), vec![user_id]);
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert!(sso.describe(&ours).is_none());
    assert!(
        sso.describe(&foreign).is_some(),
        "another's permission set was deleted"
    );
}

/// An attach frozen longer than its lease (a paused VM, a stopped process: its heartbeat
/// stops too) is taken over by `expire` (crash recovery cannot tell frozen from dead).
/// When it wakes, the late attach must remove what it created, so nothing stays granted
/// that the store no longer tracks. (Merely slow AWS no longer loses the claim: the
/// heartbeat renews it, see tests/faults.rs.)
#[test]
fn sso_attach_taken_over_after_its_lease_removes_what_it_created() {
    let sso = Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let (ps_name, ps) = sso.create_permission_set();
    let proxy = Proxy::start();
    let mut j = jit(Backend::Redis);
    through(&mut j, &proxy);
    j.set("JIT_LEASE", "1s");
    let id = request_sso(&j, &user, "1h", &["--permission-set", &ps_name]);
    approve(&j, &id);
    proxy.on("CreateAccountAssignment", 1, Action::Delay { millis: 7000 });
    let attach = j
        .cmd(&["attach", &id])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn attach");
    // Freeze the attach while AWS works on its assignment.
    while proxy.count("CreateAccountAssignment") == 0 {
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = attach.id().to_string();
    let signal = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("kill");
    };
    signal("-STOP");
    std::thread::sleep(Duration::from_millis(2000));
    // The lease has run out: expire claims the grant and finds nothing to remove yet.
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&id), "expired");
    signal("-CONT");
    let out: Run = attach.wait_with_output().expect("attach").into();
    assert_eq!(
        out.code, 4,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(out.stderr.contains("taken over"), "{}", out.stderr);
    assert!(
        !sso.assigned_users(ACCOUNT, &ps).contains(&user_id),
        "the late attach left an assignment nobody tracks"
    );
    assert_eq!(j.state(&id), "expired");
}
