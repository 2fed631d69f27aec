//! Third security review: each test is one finding and FAILS on the code it was written
//! against (0263412). Against moto_server (each test in an AWS account of its own, through
//! the fault proxy) and real stores.

mod common;
mod fault_support;

use common::*;
use fault_support::{AccountSso, FaultProxy};
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

/// Finding: an attach of an existing permission set that AWS refuses for certain (here
/// CreateAccountAssignment answers AccessDenied) goes back to `approved` but keeps its
/// recorded decision `assignment_existed: false`. The administrator then gives the user
/// the permission set as standing access. The retried attach trusts the old decision
/// ("this grant may have created it": `earlier == Some(false)`), writes itself in as the
/// assignment's origin, and its expiry deletes the administrator's standing access —
/// although aws-jit never created anything.
#[test]
fn a_certainly_failed_attach_later_takes_new_standing_access_for_its_own_and_deletes_it() {
    let proxy = FaultProxy::aws(0);
    let sso = AccountSso::new(&proxy);
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("ff")));
    let (ps_name, ps_arn) = sso.create_permission_set();
    let j = jit_via(Backend::Local, &proxy);
    let id = request_ps(&j, &user, &ps_name);

    proxy.rule(
        json!({"op": "CreateAccountAssignment", "times": 1, "action": "fail",
        "status": 400, "code": "AccessDeniedException", "message": "not now"}),
    );
    j.run(&["attach", &id]);
    assert_eq!(
        j.state(&id),
        "approved",
        "a certain refusal sends it back to approved"
    );
    assert!(
        sso.assigned_users(ACCOUNT, &ps_arn).is_empty(),
        "nothing was created"
    );

    // The administrator's own assignment, made after aws-jit made nothing.
    sso.assign(ACCOUNT, &ps_arn, &user_id);
    j.run(&["attach", &id]).ok();
    let details = j.record(&id)["request"]["grant"]["details"].clone();
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&id), "expired");
    assert_eq!(
        sso.assigned_users(ACCOUNT, &ps_arn),
        vec![user_id],
        "the standing assignment made after a failed attach was deleted at expiry \
         (grant recorded {details})"
    );
}

/// Finding: with JIT_STATE_KEY set, `LiveHolders::holders` counts every record the
/// (unauthenticated) holder index names, whatever its state. Someone who can write to
/// Redis but has no key adds the id of an *expired*, genuine (verifying) grant of the same
/// user to `holders:<account>|<permission set>`: the next grant takes the administrator's
/// standing assignment for aws-jit's (an aws-jit grant still "relies" on it), records
/// `assignment_existed: false`, seals an origin, and its removal deletes standing access.
#[test]
fn a_finished_grant_put_back_in_the_holder_index_makes_standing_access_removable() {
    let proxy = FaultProxy::aws(0);
    let sso = AccountSso::new(&proxy);
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("hx")));
    let (ps_name, ps_arn) = sso.create_permission_set();
    let mut j = jit_via(Backend::Redis, &proxy);
    j.set("JIT_STATE_KEY", "0123456789abcdef0123456789abcdef");

    // An earlier, genuine grant: aws-jit made its assignment and removed it at expiry.
    let old = request_ps(&j, &user, &ps_name);
    j.run(&["attach", &old]).ok();
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&old), "expired");
    assert!(sso.assigned_users(ACCOUNT, &ps_arn).is_empty());

    // Standing access, then the store write (no key needed: the index is not sealed).
    sso.assign(ACCOUNT, &ps_arn, &user_id);
    let mut redis = redis::Client::open(redis_url())
        .expect("client")
        .get_connection()
        .expect("connection");
    let holders = format!("{{{}}}:holders:sso|{ACCOUNT}|{ps_arn}", j.prefix);
    let _: () = redis::cmd("SADD")
        .arg(&holders)
        .arg(&old)
        .query(&mut redis)
        .expect("SADD");

    let next = request_ps(&j, &user, &ps_name);
    j.run(&["attach", &next]).ok();
    let details = j.record(&next)["request"]["grant"]["details"].clone();
    let _: () = redis::cmd("SREM")
        .arg(&holders)
        .arg(&old)
        .query(&mut redis)
        .expect("SREM");
    j.run(&["revoke", &next, "--by", REQUESTER, "--reason", "done"])
        .ok();
    assert_eq!(
        sso.assigned_users(ACCOUNT, &ps_arn),
        vec![user_id],
        "standing access deleted: an expired holder planted in the index counted as live \
         (next grant recorded {details})"
    );
}

/// Plant a permission set under the name attach gives `id`'s temporary set, marked as
/// this installation's (`prod`) and this request's, with no inline policy yet (what an
/// attempt that crashed before PutInlinePolicy leaves). Returns its ARN.
fn plant_permission_set(sso: &AccountSso, name: &str, id: &str, session: &str) -> String {
    let out = sso
        .rt
        .block_on(
            sso.admin
                .create_permission_set()
                .instance_arn(&sso.instance_arn)
                .name(name)
                .description(format!("aws-jit {id} installation=prod for x"))
                .session_duration(session)
                .send(),
        )
        .expect("CreatePermissionSet");
    out.permission_set()
        .and_then(|p| p.permission_set_arn())
        .expect("arn")
        .to_string()
}

fn planted_request(j: &Jit, user: &str, name: &str) -> String {
    let id = j
        .request()
        .flag("--sso-user", user)
        .flag("--account-id", ACCOUNT)
        .flag("--policy-name", name)
        .flag("--ttl", "1h")
        .s3_read()
        .id();
    j.approve_accepting_findings(&id, APPROVER);
    id
}

/// Finding: adoption of a temporary permission set checks marker, managed policies,
/// references, boundary and inline policy, but not where the set is already assigned.
/// Someone able to create permission sets and assignments (but not approved for this
/// access) plants one with the request's marker and no inline policy, assigns it to
/// themselves, and waits: attach adopts it, puts the approved policy in and provisions it,
/// so the planter holds the approved access too. The IAM side refuses the same thing (a
/// policy "attached to nobody else").
#[test]
fn a_planted_permission_set_already_assigned_to_someone_else_is_adopted() {
    let proxy = FaultProxy::aws(0);
    let sso = AccountSso::new(&proxy);
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("pa")));
    let (_, planter_id) = sso.create_user(&format!("{}@example.com", unique("mal")));
    let mut j = jit_via(Backend::Local, &proxy);
    j.set("JIT_INSTALLATION", "prod");
    let name: String = format!("p{}", unique("").chars().rev().take(12).collect::<String>());
    let id = planted_request(&j, &user, &name);
    let ps = plant_permission_set(&sso, &name, &id, "PT1H");
    sso.assign(ACCOUNT, &ps, &planter_id);

    // AWS refuses a second permission set of that name; moto keeps duplicates.
    proxy.rule(
        json!({"op": "CreatePermissionSet", "times": 1, "action": "fail", "status": 400,
        "code": "ConflictException", "message": "PermissionSet with the name already exists"}),
    );
    let r = j.run(&["attach", &id]);
    let assigned = sso.assigned_users(ACCOUNT, &ps);
    assert!(
        !(assigned.contains(&user_id) && assigned.contains(&planter_id)),
        "attach adopted a planted permission set assigned to someone else: {assigned:?} \
         now hold the approved access (attach exit {}, state {})",
        r.code,
        j.state(&id)
    );
    assert_eq!(r.code, 5, "{}", r.stderr);
}

/// Finding: adoption does not compare the planted set's session duration with the one
/// aws-jit would set (min(TTL, 12h)). A set planted with PT12H for a 1h grant is adopted:
/// every session the grant opens lasts up to 12 hours, long after expiry or revoke
/// deleted the assignment.
#[test]
fn a_planted_permission_set_with_a_longer_session_is_adopted() {
    let proxy = FaultProxy::aws(0);
    let sso = AccountSso::new(&proxy);
    let (user, _) = sso.create_user(&format!("{}@example.com", unique("ps")));
    let mut j = jit_via(Backend::Local, &proxy);
    j.set("JIT_INSTALLATION", "prod");
    let name: String = format!("p{}", unique("").chars().rev().take(12).collect::<String>());
    let id = planted_request(&j, &user, &name);
    let ps = plant_permission_set(&sso, &name, &id, "PT12H");

    proxy.rule(
        json!({"op": "CreatePermissionSet", "times": 1, "action": "fail", "status": 400,
        "code": "ConflictException", "message": "PermissionSet with the name already exists"}),
    );
    let r = j.run(&["attach", &id]);
    let session = sso
        .rt
        .block_on(
            sso.admin
                .describe_permission_set()
                .instance_arn(&sso.instance_arn)
                .permission_set_arn(&ps)
                .send(),
        )
        .expect("DescribePermissionSet")
        .permission_set()
        .and_then(|p| p.session_duration().map(str::to_string));
    assert_eq!(
        r.code,
        5,
        "a 1h grant adopted a planted permission set whose sessions last {session:?} \
         (state {}): {}",
        j.state(&id),
        r.stderr
    );
}

/// Finding: the validator treats `${aws:ResourceAccount}` (and `aws:ResourceOrgID`) as a
/// principal-bound variable ("one value per caller"), but it is the account of the
/// resource being accessed: in an ARN's account field it matches every account, exactly
/// like `*`. `sts:AssumeRole` on `arn:aws:iam::${aws:ResourceAccount}:role/OrganizationAccountAccessRole`
/// reaches that role in every account that trusts this one, with none of the findings
/// the `*` spelling gets (`assume-any-role`, `wildcard-account-region`).
#[test]
fn resource_account_variable_hides_a_role_in_every_account() {
    use aws_jit::policy::{validate, ValidateOptions};
    let codes_for = |resource: &str| -> Vec<String> {
        let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "sts:AssumeRole", "Resource": resource}]});
        let mut c: Vec<String> = validate(&doc, &ValidateOptions::default())
            .into_iter()
            .map(|f| f.code.to_string())
            .collect();
        c.sort();
        c.dedup();
        c
    };
    let star = codes_for("arn:aws:iam::*:role/OrganizationAccountAccessRole");
    assert!(
        star.iter().any(|c| c == "assume-any-role"),
        "harness: the `*` spelling is a finding: {star:?}"
    );
    let var = codes_for("arn:aws:iam::${aws:ResourceAccount}:role/OrganizationAccountAccessRole");
    assert_eq!(
        var, star,
        "`${{aws:ResourceAccount}}` in the account field reaches every account like `*`"
    );
}
