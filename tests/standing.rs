//! Issue 9 item 6, "nothing removed that aws-jit did not create": standing access that
//! existed before a grant (an Identity Center assignment, an IAM attachment someone else
//! made) survives the grant's expiry, its revocation and reconcile. Each test runs in an
//! AWS account of its own (through the fault proxy) against moto_server.

mod common;
mod fault_support;

use common::*;
use fault_support::{AccountIam, AccountSso, FaultProxy};

const ACCOUNT: &str = "111122223333";

fn jit_via(backend: Backend, proxy: &FaultProxy) -> Jit {
    let mut j = Jit::new(backend);
    j.set("AWS_ENDPOINT_URL", &proxy.url)
        .set("JIT_SSO_POLL_INTERVAL", "20ms");
    j
}

fn request_ps(j: &Jit, user: &str, ps: &str) -> String {
    let id = j
        .request()
        .flag("--sso-user", user)
        .flag("--account-id", ACCOUNT)
        .flag("--permission-set", ps)
        .flag("--output", "json")
        .id();
    j.approve_accepting_findings(&id, APPROVER);
    id
}

/// The attack: ask for a colleague's existing permission set (requesting for someone else
/// is allowed, and recorded), then revoke it. The colleague's standing assignment must stay
/// (before: revoke deleted it). The same for expiry and for reconcile.
#[test]
fn a_colleagues_standing_assignment_survives_revoke_expiry_and_reconcile() {
    let proxy = FaultProxy::aws(0);
    let sso = AccountSso::new(&proxy);
    let (colleague, colleague_id) = sso.create_user(&format!("{}@example.com", unique("c")));
    let (ps_name, ps) = sso.create_permission_set();
    sso.assign(ACCOUNT, &ps, &colleague_id);
    let j = jit_via(Backend::Redis, &proxy);

    let id = request_ps(&j, &colleague, &ps_name);
    j.run(&["attach", &id]).ok();
    let details = j.record(&id)["request"]["grant"]["details"].clone();
    assert_eq!(details["assignment_existed"], true, "{details}");
    j.run(&[
        "revoke",
        &id,
        "--by",
        REQUESTER,
        "--reason",
        "no longer needed",
    ])
    .ok();
    assert_eq!(j.state(&id), "revoked");
    assert_eq!(
        sso.assigned_users(ACCOUNT, &ps),
        vec![colleague_id.clone()],
        "revoke deleted the colleague's standing access"
    );

    // Two overlapping grants on the standing assignment: neither removes it.
    let a = request_ps(&j, &colleague, &ps_name);
    let b = request_ps(&j, &colleague, &ps_name);
    for g in [&a, &b] {
        j.run(&["attach", g]).ok();
    }
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&a), "expired");
    assert_eq!(j.state(&b), "expired");
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![colleague_id.clone()]);

    j.run(&["reconcile", "--older-than", "0s"]).ok();
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![colleague_id.clone()]);

    // Without standing access the grant's own assignment does go.
    let (dev, _) = sso.create_user(&format!("{}@example.com", unique("d")));
    let own = request_ps(&j, &dev, &ps_name);
    j.run(&["attach", &own]).ok();
    assert_eq!(sso.assigned_users(ACCOUNT, &ps).len(), 2);
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![colleague_id]);
}

/// Someone attaches the grant's /jit/ policy to another principal by hand. Expiry detaches
/// it from the grant's user only; the other attachment (and the policy it needs) stays,
/// and reconcile reports what it keeps instead of removing it.
#[test]
fn an_attachment_aws_jit_did_not_make_survives() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let other = iam.create_user();
    let j = jit_via(Backend::Local, &proxy);
    let id = j.request_user(&user, &[]);
    j.approve_and_attach(&id);
    let arn = j.record(&id)["request"]["grant"]["policy_arn"]
        .as_str()
        .expect("arn")
        .to_string();
    iam.rt
        .block_on(
            iam.client
                .attach_user_policy()
                .user_name(&other)
                .policy_arn(&arn)
                .send(),
        )
        .expect("attach by hand");

    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&id), "expired");
    assert!(
        iam.user_policies(&user).is_empty(),
        "the grant's access stayed"
    );
    assert_eq!(
        iam.user_policies(&other),
        vec![arn.clone()],
        "someone else's attachment went"
    );
    let timeline = j.record(&id)["timeline"].to_string();
    assert!(timeline.contains("left in place"), "{timeline}");

    let r = j
        .run(&["reconcile", "--older-than", "0s", "--output", "json"])
        .ok();
    let v = r.json();
    assert!(v["kept"].to_string().contains(&other), "{v:#}");
    assert_eq!(iam.user_policies(&other), vec![arn]);
}
