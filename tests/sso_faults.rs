//! Identity Center faults of issue 11: an assignment AWS is still creating when attach
//! gives up polling. The grant stays `attaching` with the creation's request id, and its
//! removal waits for the creation to finish before deleting, so a creation that completes
//! late cannot outlive its grant.

mod common;
mod sso_support;

use common::*;
use sso_support::{Action, Proxy, Sso};

const ACCOUNT: &str = "111122223333";

#[test]
fn an_assignment_still_being_created_is_settled_before_removal() {
    let sso = Sso::new();
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("e")));
    let (ps_name, ps) = sso.create_permission_set();
    let proxy = Proxy::start();
    let mut j = Jit::new(Backend::Redis);
    j.set("AWS_ENDPOINT_URL", &proxy.url)
        .set("JIT_SSO_POLL_INTERVAL", "20ms")
        .set("JIT_SSO_POLL_TIMEOUT", "300ms");
    let id = j
        .request()
        .flag("--sso-user", &user)
        .flag("--account-id", ACCOUNT)
        .flag("--permission-set", &ps_name)
        .flag("--output", "json")
        .id();
    j.approve_accepting_findings(&id, APPROVER);
    // AWS accepts the creation and keeps reporting it under way past the poll timeout.
    proxy
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
            100,
            Action::SetStatus {
                object: "AccountAssignmentCreationStatus",
                status: "IN_PROGRESS",
                reason: None,
            },
        );
    let r = j.run(&["attach", &id]).code(6);
    assert!(r.stderr.contains("stays attaching"), "{}", r.stderr);
    let rec = j.record(&id)["request"].clone();
    assert_eq!(rec["state"], "attaching");
    let op = &rec["grant"]["details"]["assignment"];
    assert_eq!(op["status"], "IN_PROGRESS", "{rec}");
    assert!(op["request_id"].is_string(), "{rec}");

    // The creation finishes; expire settles it before deleting the assignment.
    proxy.clear();
    let before = proxy.count("DescribeAccountAssignmentCreationStatus");
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&id), "expired");
    assert!(
        proxy.count("DescribeAccountAssignmentCreationStatus") > before,
        "removal did not wait for the creation"
    );
    let seen = proxy.seen.lock().expect("lock").clone();
    let settled = seen
        .iter()
        .rposition(|o| o == "DescribeAccountAssignmentCreationStatus");
    let deleted = seen.iter().rposition(|o| o == "DeleteAccountAssignment");
    assert!(settled < deleted, "{seen:?}");
    assert!(!sso.assigned_users(ACCOUNT, &ps).contains(&user_id));
}
