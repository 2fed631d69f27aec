//! Installations sharing an AWS account, and objects aws-jit did not make sitting where it
//! makes its own (second security review, findings 1, 3 and 4): each installation removes
//! only what carries its own `aws-jit:installation` tag; attach never adopts a planted
//! policy or permission set; principals whose IAM names hold a comma (or are spelt in
//! another case) are detached like any other. Against moto_server (each test in an AWS
//! account of its own, through the fault proxy) and real stores.

mod common;
mod fault_support;

use common::*;
use fault_support::{AccountIam, AccountSso, FaultProxy};
use serde_json::{json, Value};

const SSO_ACCOUNT: &str = "111122223333";
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;

fn jit_via(proxy: &FaultProxy, backend: Backend) -> Jit {
    let mut j = Jit::new(backend);
    j.set("AWS_ENDPOINT_URL", &proxy.url)
        .set("JIT_SSO_POLL_INTERVAL", "20ms");
    j
}

fn s3_read_request(j: &Jit, user: &str) -> String {
    j.request()
        .flag("--iam-user", user)
        .flag("--service", "s3")
        .flag("--actions", "GetObject")
        .flag("--resources", "arn:aws:s3:::team-logs/*")
        .id()
}

fn tag(k: &str, v: &str) -> aws_sdk_iam::types::Tag {
    aws_sdk_iam::types::Tag::builder()
        .key(k)
        .value(v)
        .build()
        .expect("tag")
}

/// A policy under /jit/ made by hand (or by another tool), with these tags and document.
fn plant(iam: &AccountIam, name: &str, doc: &str, tags: &[(&str, &str)]) -> String {
    let mut call = iam
        .client
        .create_policy()
        .path("/jit/")
        .policy_name(name)
        .policy_document(doc);
    for (k, v) in tags {
        call = call.tags(tag(k, v));
    }
    iam.rt
        .block_on(call.send())
        .expect("CreatePolicy")
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string()
}

fn reconcile(j: &Jit) -> Value {
    j.run(&["reconcile", "--older-than", "0s", "--output", "json"])
        .ok()
        .json()
}

fn orphan<'a>(v: &'a Value, arn: &str) -> &'a Value {
    v["orphans"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["arn"] == arn))
        .unwrap_or_else(|| panic!("{arn} not among the orphans: {v:#}"))
}

fn removed(v: &Value) -> Vec<String> {
    v["removed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// Finding 1: two installations (two key prefixes on one Redis; Redis and an embedded
/// store) in one AWS account. Neither's reconcile takes the other's live grant for an
/// orphan.
#[test]
fn reconcile_leaves_live_grants_of_another_installation_alone() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let b = jit_via(&proxy, Backend::Redis);
    let a = jit_via(&proxy, Backend::Redis);
    let c = jit_via(&proxy, Backend::Local);
    assert_ne!(a.prefix, b.prefix);
    let id = s3_read_request(&b, &user);
    b.approve_and_attach(&id);
    let arn = iam.user_policies(&user)[0].clone();

    for other in [&a, &c] {
        let v = reconcile(other);
        assert_eq!(orphan(&v, &arn)["action"], "foreign", "{v:#}");
        assert!(removed(&v).is_empty(), "{v:#}");
    }
    assert_eq!(b.state(&id), "active");
    assert_eq!(
        iam.user_policies(&user),
        vec![arn.clone()],
        "another installation's reconcile removed {id}'s active grant"
    );
    // Its own installation still tracks it: no orphan, no drift.
    let own = reconcile(&b);
    assert_eq!(own["orphans"], json!([]), "{own:#}");
    // And its own expiry still removes it.
    b.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert!(iam.user_policies(&user).is_empty());
}

/// Finding 1, attacker's side: only an exact installation tag makes an object this
/// installation's. A legacy object (aws-jit's request tag, no installation tag) and
/// look-alikes of the installation's name (another case, a trailing space) are reported
/// and stay; an orphan of its own is removed.
#[test]
fn only_an_exact_installation_tag_lets_reconcile_remove_an_orphan() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let mut j = jit_via(&proxy, Backend::Local);
    j.set("JIT_INSTALLATION", "prod-eu");
    let req = ("aws-jit:request-id", "jit-000000000007");
    let own = plant(
        &iam,
        &unique("own"),
        DOC,
        &[req, ("aws-jit:installation", "prod-eu")],
    );
    let legacy = plant(&iam, &unique("old"), DOC, &[req]);
    let cased = plant(
        &iam,
        &unique("case"),
        DOC,
        &[req, ("aws-jit:installation", "Prod-EU")],
    );
    let spaced = plant(
        &iam,
        &unique("space"),
        DOC,
        &[req, ("aws-jit:installation", "prod-eu ")],
    );

    let dry = j
        .run(&[
            "reconcile",
            "--older-than",
            "0s",
            "--dry-run",
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(dry["installation"], "prod-eu");
    assert_eq!(orphan(&dry, &own)["action"], "remove");

    let v = reconcile(&j);
    assert_eq!(removed(&v), vec![own.clone()], "{v:#}");
    assert!(!iam.policy_exists(&own));
    assert_eq!(orphan(&v, &legacy)["action"], "untagged");
    assert_eq!(orphan(&v, &cased)["action"], "foreign");
    assert_eq!(orphan(&v, &spaced)["action"], "foreign");
    for arn in [&legacy, &cased, &spaced] {
        assert!(iam.policy_exists(arn), "{arn} was removed");
    }

    // A bad installation name is refused before anything is touched.
    j.set("JIT_INSTALLATION", "prod eu");
    j.run(&["reconcile", "--older-than", "0s"]).code(2);
    assert!(iam.policy_exists(&legacy));
}

/// Finding 3: a policy planted at /jit/<policy name> with `Action: *`, tagged with the
/// request id and approved hash (both shown to the requester) and the installation's name
/// (on every policy it made), is never adopted.
#[test]
fn attach_refuses_a_planted_policy_whose_document_was_never_approved() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let mut j = jit_via(&proxy, Backend::Redis);
    j.set("JIT_INSTALLATION", "prod");
    let id = s3_read_request(&j, &user);
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    let rec = j.record(&id)["request"].clone();
    let sha = rec["approved_sha256"].as_str().expect("hash").to_string();
    let name = rec["policy_name"].as_str().expect("name").to_string();
    let admin = json!({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let planted = plant(
        &iam,
        &name,
        &admin.to_string(),
        &[
            ("aws-jit:request-id", &id),
            ("aws-jit:installation", "prod"),
            ("aws-jit:policy-sha256", &sha),
            ("aws-jit:target", &format!("user/{user}")),
        ],
    );

    let r = j.run(&["attach", &id]).code(5);
    assert!(r.stderr.contains("planted"), "{}", r.stderr);
    assert!(
        iam.user_policies(&user).is_empty(),
        "{user} holds the planted {planted}"
    );
    assert_eq!(j.state(&id), "approved");
    // The refusal is on the record.
    let audit = j.record(&id).to_string();
    assert!(audit.contains("not the approved one"), "{audit}");
    assert!(
        iam.policy_exists(&planted),
        "someone else's policy was deleted"
    );
}

/// Finding 3, the approved document planted: adopted only when it is exactly what an
/// earlier attempt would have made — this installation's tags and attached nowhere else.
/// (A copy identical in every respect cannot be told from aws-jit's own and is adopted: it
/// grants exactly what was approved, to whom it was approved for.)
#[test]
fn a_planted_copy_of_the_approved_policy_is_adopted_only_when_everything_matches() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let other = iam.create_user();
    let mut j = jit_via(&proxy, Backend::Redis);
    j.set("JIT_INSTALLATION", "prod");
    let approved = |j: &Jit| {
        let id = s3_read_request(j, &user);
        j.run(&["approve", &id, "--approver", APPROVER]).ok();
        let rec = j.record(&id)["request"].clone();
        let doc = aws_jit::digest::canonical_json(&rec["policy"]);
        let sha = rec["approved_sha256"].as_str().expect("hash").to_string();
        let name = rec["policy_name"].as_str().expect("name").to_string();
        (id, doc, sha, name)
    };
    let target = format!("user/{user}");

    // No installation tag (or another installation's): refused.
    let (id, doc, sha, name) = approved(&j);
    plant(
        &iam,
        &name,
        &doc,
        &[
            ("aws-jit:request-id", &id),
            ("aws-jit:policy-sha256", &sha),
            ("aws-jit:target", &target),
        ],
    );
    j.run(&["attach", &id]).code(5);
    assert!(iam.user_policies(&user).is_empty());

    // Every tag right, but attached to someone else: refused, and left as it is.
    let (id, doc, sha, name) = approved(&j);
    let planted = plant(
        &iam,
        &name,
        &doc,
        &[
            ("aws-jit:request-id", &id),
            ("aws-jit:installation", "prod"),
            ("aws-jit:policy-sha256", &sha),
            ("aws-jit:target", &target),
        ],
    );
    iam.rt
        .block_on(
            iam.client
                .attach_user_policy()
                .user_name(&other)
                .policy_arn(&planted)
                .send(),
        )
        .expect("attach elsewhere");
    let r = j.run(&["attach", &id]).code(5);
    assert!(r.stderr.contains(&other), "{}", r.stderr);
    assert!(iam.user_policies(&user).is_empty());
    assert_eq!(iam.user_policies(&other), vec![planted]);

    // Identical in every respect: adopted.
    let (id, doc, sha, name) = approved(&j);
    plant(
        &iam,
        &name,
        &doc,
        &[
            ("aws-jit:request-id", &id),
            ("aws-jit:installation", "prod"),
            ("aws-jit:policy-sha256", &sha),
            ("aws-jit:target", &target),
        ],
    );
    j.run(&["attach", &id]).ok();
    assert_eq!(iam.user_policies(&user).len(), 1);
}

/// The adoption check still lets a real retry converge: CreatePolicy took effect but
/// answered an error; the next attach adopts what the first one made.
#[test]
fn a_retry_after_a_lost_create_policy_reply_adopts_its_own_policy() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let mut j = jit_via(&proxy, Backend::Redis);
    j.set("AWS_MAX_ATTEMPTS", "1");
    let id = s3_read_request(&j, &user);
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    proxy.rule(
        json!({"op": "CreatePolicy", "times": 1, "action": "apply_then_fail",
        "status": 500, "code": "ServiceFailure", "message": "lost"}),
    );
    j.run(&["attach", &id]).code(6);
    assert_eq!(iam.jit_policies().len(), 1);
    j.run(&["attach", &id]).ok();
    assert_eq!(j.state(&id), "active");
    assert_eq!(iam.user_policies(&user).len(), 1);
}

/// Finding 3 for Identity Center: a permission set planted under the name attach would
/// give the request's temporary set, its description naming the request and this
/// installation, holding another inline policy: never adopted nor assigned.
#[test]
fn attach_refuses_a_planted_permission_set() {
    let proxy = FaultProxy::aws(0);
    let sso = AccountSso::new(&proxy);
    let (user, user_id) = sso.create_user(&format!("{}@example.com", unique("pl")));
    let mut j = jit_via(&proxy, Backend::Local);
    j.set("JIT_INSTALLATION", "prod");
    let name: String = format!("p{}", unique("").chars().rev().take(12).collect::<String>());
    let id = j
        .request()
        .flag("--sso-user", &user)
        .flag("--account-id", SSO_ACCOUNT)
        .flag("--policy-name", &name)
        .s3_read()
        .id();
    j.approve_accepting_findings(&id, APPROVER);
    let out = sso
        .rt
        .block_on(
            sso.admin
                .create_permission_set()
                .instance_arn(&sso.instance_arn)
                .name(&name)
                .description(format!("aws-jit {id} installation=prod for x"))
                // moto gap: without it DescribePermissionSet answers what the SDK cannot parse.
                .session_duration("PT1H")
                .send(),
        )
        .expect("CreatePermissionSet");
    let ps = out
        .permission_set()
        .and_then(|p| p.permission_set_arn())
        .expect("arn")
        .to_string();
    let admin = json!({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    sso.rt
        .block_on(
            sso.admin
                .put_inline_policy_to_permission_set()
                .instance_arn(&sso.instance_arn)
                .permission_set_arn(&ps)
                .inline_policy(admin.to_string())
                .send(),
        )
        .expect("PutInlinePolicy");

    // AWS refuses a second permission set of that name; moto keeps duplicates.
    proxy.rule(
        json!({"op": "CreatePermissionSet", "times": 1, "action": "fail", "status": 400,
        "code": "ConflictException", "message": "PermissionSet with the name already exists"}),
    );
    let r = j.run(&["attach", &id]).code(5);
    assert!(r.stderr.contains("planted"), "{}", r.stderr);
    assert!(
        !sso.assigned_users(SSO_ACCOUNT, &ps).contains(&user_id),
        "{user} was assigned the planted permission set"
    );
    assert_eq!(j.state(&id), "approved");
}

/// Finding 4: reconcile detaches (and deletes) an orphan attached to a user whose IAM
/// name holds a comma, which tags cannot hold verbatim.
#[test]
fn reconcile_removes_an_orphan_attached_to_a_user_whose_name_has_a_comma() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = format!("svc,{}", unique("ops"));
    iam.rt
        .block_on(iam.client.create_user().user_name(&user).send())
        .expect("CreateUser");
    let j = jit_via(&proxy, Backend::Local);
    let id = s3_read_request(&j, &user);
    j.approve_and_attach(&id);
    let arn = iam.user_policies(&user)[0].clone();

    // The store loses the record (a restore from an older backup).
    std::fs::remove_file(j.state_dir().join("aws-jit.sqlite3")).expect("remove store");
    let v = reconcile(&j);
    assert_eq!(removed(&v), vec![arn.clone()], "{v:#}");
    assert!(
        iam.user_policies(&user).is_empty(),
        "the orphan of {id} is still attached to {user}: {v:#}"
    );
    assert!(!iam.policy_exists(&arn));
}

/// Finding 4, case: IAM names are unique without regard to case, so a grant whose record
/// spells the user otherwise than IAM does (a request made before aws-jit recorded IAM's
/// spelling) is still detached by expire, not kept as "someone else's".
#[test]
fn expire_detaches_from_a_user_spelt_in_another_case() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = format!("Svc,{}", unique("Ops"));
    iam.rt
        .block_on(iam.client.create_user().user_name(&user).send())
        .expect("CreateUser");
    let j = jit_via(&proxy, Backend::Local);
    let id = s3_read_request(&j, &user);
    j.approve_and_attach(&id);
    assert_eq!(iam.user_policies(&user).len(), 1);

    // The record names the user in upper case, as typed on the command line.
    let db = rusqlite::Connection::open(j.state_dir().join("aws-jit.sqlite3")).expect("db");
    let json: String = db
        .query_row("SELECT json FROM requests WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .expect("record");
    let shouted = json.replace(&user, &user.to_uppercase());
    assert_ne!(shouted, json);
    db.execute(
        "UPDATE requests SET json = ?1 WHERE id = ?2",
        [&shouted, &id],
    )
    .expect("update");
    drop(db);

    let v = j
        .run(&["expire", "--at", FAR_FUTURE, "--output", "json"])
        .ok()
        .json();
    assert!(
        iam.user_policies(&user).is_empty(),
        "{id} is still attached to {user}: {v:#}"
    );
    assert!(iam.jit_policies().is_empty(), "{v:#}");
}

/// Finding 1, tampered records: the access of a record that fails verification is removed
/// by aws-jit's tags, but only this installation's objects; another installation's, or an
/// untagged one, carrying the same request id stays.
#[test]
fn a_tampered_records_revoke_removes_only_this_installations_objects() {
    let proxy = FaultProxy::aws(0);
    let iam = AccountIam::new(&proxy);
    let user = iam.create_user();
    let mut j = jit_via(&proxy, Backend::Local);
    j.set("JIT_STATE_KEY", "installations-state-key")
        .set("JIT_INSTALLATION", "prod");
    let id = s3_read_request(&j, &user);
    j.approve_and_attach(&id);
    let own = iam.user_policies(&user)[0].clone();
    let req = ("aws-jit:request-id", id.as_str());
    let foreign = plant(
        &iam,
        &unique("other"),
        DOC,
        &[req, ("aws-jit:installation", "staging")],
    );
    let legacy = plant(&iam, &unique("old"), DOC, &[req]);

    // Someone without the key edits the record.
    let db = rusqlite::Connection::open(j.state_dir().join("aws-jit.sqlite3")).expect("db");
    let json: String = db
        .query_row("SELECT json FROM requests WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .expect("record");
    let edited = json.replace("debug the ingest job", "edited without the key");
    assert_ne!(edited, json);
    db.execute(
        "UPDATE requests SET json = ?1 WHERE id = ?2",
        [&edited, &id],
    )
    .expect("update");
    drop(db);

    let v = j
        .run(&[
            "revoke", &id, "--by", APPROVER, "--reason", "incident", "--output", "json",
        ])
        .ok()
        .json();
    assert_eq!(v["removed"], json!([own.clone()]), "{v:#}");
    assert!(!iam.policy_exists(&own));
    assert!(
        iam.policy_exists(&foreign),
        "another installation's policy was removed"
    );
    assert!(iam.policy_exists(&legacy), "an untagged policy was removed");
}
