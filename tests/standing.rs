//! Issue 9 item 6, "nothing removed that aws-jit did not create": standing access that
//! existed before a grant (an Identity Center assignment, an IAM attachment someone else
//! made) survives the grant's expiry, its revocation and reconcile. Each test runs in an
//! AWS account of its own (through the fault proxy) against moto_server.

mod common;
mod fault_support;

use common::*;
use fault_support::{AccountIam, AccountSso, FaultProxy};
use serde_json::json;

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

/// Second review, finding 2: two grants of the same person attach an existing permission
/// set at once while the administrator's own assignment is there. Before: each counted
/// the other (attaching, nothing decided or created yet) as the aws-jit grant that made
/// the assignment, both recorded `assignment_existed: false`, and the last one out
/// deleted the standing access. Now they decide in turn, under the assignment's lock.
#[test]
fn concurrent_attaches_of_an_existing_permission_set_keep_standing_access() {
    let proxy = FaultProxy::aws(0);
    let sso = AccountSso::new(&proxy);
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("std")));
    let (ps_name, ps_arn) = sso.create_permission_set();
    sso.assign(ACCOUNT, &ps_arn, &user_id);
    let j = jit_via(Backend::Redis, &proxy);
    let ids = [
        request_ps(&j, &user, &ps_name),
        request_ps(&j, &user, &ps_name),
    ];

    // The first attach's standing check is slow; the second attach runs meanwhile.
    proxy.rule(
        json!({"op": "ListAccountAssignments", "times": 1, "action": "delay", "delay_ms": 4000}),
    );
    let first = j.cmd(&["attach", &ids[0]]).spawn().expect("attach");
    proxy.wait_for("ListAccountAssignments");
    j.run(&["attach", &ids[1]]).ok();
    let out = first.wait_with_output().expect("attach");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for id in &ids {
        let details = j.record(id)["request"]["grant"]["details"].clone();
        assert_eq!(details["assignment_existed"], true, "{id}: {details}");
    }

    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    for id in &ids {
        assert_eq!(j.state(id), "expired");
    }
    assert_eq!(
        sso.assigned_users(ACCOUNT, &ps_arn),
        vec![user_id],
        "the standing assignment of {ps_name} to {user} was deleted by expire"
    );
}

/// The crash variant: an attach killed -9 in the middle of its check (its claim live, its
/// decision never recorded, the assignment's lock still its own) must not make the next
/// grant take the standing assignment for aws-jit's. Before: the next grant counted the
/// undecided one and deleted the standing access at expiry.
#[test]
fn an_attach_killed_before_deciding_leaves_standing_access_standing() {
    let proxy = FaultProxy::aws(0);
    let sso = AccountSso::new(&proxy);
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("kill")));
    let (ps_name, ps_arn) = sso.create_permission_set();
    sso.assign(ACCOUNT, &ps_arn, &user_id);
    let mut j = jit_via(Backend::Redis, &proxy);
    j.set("JIT_LEASE", "2s");
    let dead = request_ps(&j, &user, &ps_name);
    let next = request_ps(&j, &user, &ps_name);

    proxy.rule(
        json!({"op": "ListAccountAssignments", "times": 1, "action": "delay", "delay_ms": 30000}),
    );
    let mut victim = j.cmd(&["attach", &dead]).spawn().expect("attach");
    proxy.wait_for("ListAccountAssignments");
    victim.kill().expect("kill -9");
    let _ = victim.wait();
    assert_eq!(
        j.state(&dead),
        "attaching",
        "killed while it held the claim"
    );
    assert!(
        j.record(&dead)["request"]["grant"].is_null(),
        "nothing decided"
    );

    // While the dead one's claim may still be live, the next grant attaches (it waits
    // for the dead one's lock on the assignment to lapse, then decides by itself).
    j.run(&["attach", &next]).ok();
    let details = j.record(&next)["request"]["grant"]["details"].clone();
    assert_eq!(details["assignment_existed"], true, "{details}");

    // The dead attach is taken over, then everything expires.
    std::thread::sleep(std::time::Duration::from_secs(3));
    j.run(&["expire"]).ok();
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&next), "expired");
    assert_ne!(j.state(&dead), "attaching");
    assert_eq!(
        sso.assigned_users(ACCOUNT, &ps_arn),
        vec![user_id],
        "the standing assignment was deleted after an attach died mid-check"
    );
}

/// The other side of the invariant: when aws-jit made the assignment, concurrent grants
/// share it (exactly one creates it, both rely on it), the first one out keeps it for the
/// other, and the last one out removes it.
#[test]
fn concurrent_attaches_share_the_assignment_aws_jit_made_and_the_last_removes_it() {
    let proxy = FaultProxy::aws(0);
    let sso = AccountSso::new(&proxy);
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("own")));
    let (ps_name, ps_arn) = sso.create_permission_set();
    let j = jit_via(Backend::Local, &proxy);
    let ids = [
        request_ps(&j, &user, &ps_name),
        request_ps(&j, &user, &ps_name),
    ];
    proxy.rule(
        json!({"op": "ListAccountAssignments", "times": 1, "action": "delay", "delay_ms": 3000}),
    );
    let first = j.cmd(&["attach", &ids[0]]).spawn().expect("attach");
    proxy.wait_for("ListAccountAssignments");
    j.run(&["attach", &ids[1]]).ok();
    let out = first.wait_with_output().expect("attach");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for id in &ids {
        let details = j.record(id)["request"]["grant"]["details"].clone();
        assert_eq!(details["assignment_existed"], false, "{id}: {details}");
    }
    assert_eq!(proxy.count("CreateAccountAssignment"), 1, "created once");
    assert_eq!(sso.assigned_users(ACCOUNT, &ps_arn), vec![user_id.clone()]);

    j.run(&["revoke", &ids[0], "--by", REQUESTER, "--reason", "done"])
        .ok();
    assert_eq!(
        sso.assigned_users(ACCOUNT, &ps_arn),
        vec![user_id.clone()],
        "the other grant still needs it"
    );
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&ids[1]), "expired");
    assert!(
        sso.assigned_users(ACCOUNT, &ps_arn).is_empty(),
        "aws-jit's assignment outlived its last grant"
    );

    // The administrator then assigns it by hand: a later grant finds it standing (the
    // last removal forgot that aws-jit had made the earlier one) and leaves it.
    sso.assign(ACCOUNT, &ps_arn, &user_id);
    let later = request_ps(&j, &user, &ps_name);
    j.run(&["attach", &later]).ok();
    let details = j.record(&later)["request"]["grant"]["details"].clone();
    assert_eq!(details["assignment_existed"], true, "{details}");
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(sso.assigned_users(ACCOUNT, &ps_arn), vec![user_id]);
}

/// With JIT_STATE_KEY, an assignment's origin ("made by aws-jit request X") is sealed. The
/// attack: someone who can write to Redis plants an origin on a colleague's standing
/// assignment, so that the next grant takes it for aws-jit's and its expiry deletes it.
/// The planted origin does not verify: the grant records the assignment as standing and
/// expiry keeps it. A genuine origin (aws-jit made the assignment) still verifies: that
/// assignment goes at expiry.
#[test]
fn a_forged_origin_does_not_make_standing_access_removable() {
    let proxy = FaultProxy::aws(0);
    let sso = AccountSso::new(&proxy);
    let (colleague, colleague_id) = sso.create_user(&format!("{}@example.com", unique("c")));
    let (ps_name, ps) = sso.create_permission_set();
    sso.assign(ACCOUNT, &ps, &colleague_id);
    let mut j = jit_via(Backend::Redis, &proxy);
    j.set("JIT_STATE_KEY", "0123456789abcdef0123456789abcdef");

    let mut redis = redis::Client::open(redis_url())
        .expect("client")
        .get_connection()
        .expect("connection");
    let origin_key = |user_id: &str| {
        format!(
            "{{{}}}:origin:sso|{}|{ACCOUNT}|{ps}|{user_id}",
            j.prefix, sso.instance_arn
        )
    };
    for forged in ["jit-forged", "jit-forged 00", "jit-forged deadbeef"] {
        let _: () = redis::cmd("SET")
            .arg(origin_key(&colleague_id))
            .arg(forged)
            .query(&mut redis)
            .expect("SET");
        let id = request_ps(&j, &colleague, &ps_name);
        j.run(&["attach", &id]).ok();
        let details = j.record(&id)["request"]["grant"]["details"].clone();
        assert_eq!(
            details["assignment_existed"], true,
            "a forged origin `{forged}` made standing access look like aws-jit's: {details}"
        );
        j.run(&["expire", "--at", FAR_FUTURE]).ok();
        assert_eq!(j.state(&id), "expired");
        assert_eq!(
            sso.assigned_users(ACCOUNT, &ps),
            vec![colleague_id.clone()],
            "the colleague's standing access was deleted on a forged origin `{forged}`"
        );
    }

    // aws-jit's own assignment: its sealed origin verifies, and expiry removes it.
    let (dev, dev_id) = sso.create_user(&format!("{}@example.com", unique("d")));
    let own = request_ps(&j, &dev, &ps_name);
    j.run(&["attach", &own]).ok();
    let stored: Option<String> = redis::cmd("GET")
        .arg(origin_key(&dev_id))
        .query(&mut redis)
        .expect("GET");
    assert!(
        stored
            .as_deref()
            .is_some_and(|s| s.starts_with(&format!("{own} "))),
        "origin not sealed: {stored:?}"
    );
    assert_eq!(sso.assigned_users(ACCOUNT, &ps).len(), 2);
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(sso.assigned_users(ACCOUNT, &ps), vec![colleague_id]);
}
