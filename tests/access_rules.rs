//! Access rules as code (issue 12), against real redis-server and moto_server: first match
//! wins; no match is refused with nothing stored; auto approval only where allowed; quorum
//! and approver groups per rule; requesters restricted; existing permission sets matched by
//! what they grant; break-glass and its review; extensions within budget, refused beyond
//! it; reminders once per interval across `expire` runs; a rules-file edit never changes a
//! request already made. And the attacker's attempts: look-alike, case and +tag identities,
//! glob tricks, a rule that would auto-approve a broad policy, a forged rule in the record.

mod common;
mod sso_support;

use aws_jit::time::Timestamp;
use common::*;
use serde_json::{json, Value};
use sso_support::Sso;

const ACCOUNT: &str = "111122223333";
const SEC1: &str = "sec-lead@example.com";
const SEC2: &str = "ciso@example.com";

/// An installation whose access rules are `rules` (in a file, JIT_RULES_FILE).
fn with_rules(backend: Backend, rules: &str) -> Jit {
    let mut j = Jit::new(backend);
    let path = j.state_dir().join("rules.toml");
    std::fs::write(&path, rules).expect("write rules");
    j.set("JIT_RULES_FILE", &path.display().to_string());
    j
}

fn edit_rules(j: &Jit, rules: &str) {
    std::fs::write(j.state_dir().join("rules.toml"), rules).expect("edit rules");
}

fn count_requests(j: &Jit) -> usize {
    j.run(&["status", "--output", "json"]).ok().json()["requests"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

fn s3_write(b: RequestBuilder<'_>) -> RequestBuilder<'_> {
    b.flag("--service", "s3")
        .flag("--actions", "PutObject")
        .flag("--resources", "arn:aws:s3:::team-logs/*")
}

/// A permissions-management policy (with a security finding).
fn iam_admin(b: RequestBuilder<'_>) -> RequestBuilder<'_> {
    b.flag("--service", "iam")
        .flag("--actions", "CreateUser")
        .flag("--resources", "arn:aws:iam::123456789012:user/someone")
}

fn rec(j: &Jit, id: &str) -> Value {
    j.record(id)["request"].clone()
}

fn timeline_actions(j: &Jit, id: &str) -> Vec<String> {
    j.record(id)["timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str().map(str::to_string))
        .collect()
}

fn instant(v: &Value) -> Timestamp {
    Timestamp::parse(v.as_str().expect("an instant")).expect("RFC 3339")
}

const COMPANY: &str = r#"
[groups]
security = ["sec-lead@example.com", "ciso@example.com"]

[[rule]]
name = "read-only"
max_access = "read"
findings = "none"
max_ttl = "4h"
approval = "auto"
extensions = 1

[[rule]]
name = "writes"
requesters = ["*@example.com"]
max_access = "write"
findings = "none"
approvers = ["boss@example.com"]
max_ttl = "4h"
extensions = 1

[[rule]]
name = "admin"
requesters = ["*@example.com"]
approvers = ["group:security"]
quorum = 2
max_ttl = "2h"
break_glass = true
"#;

#[test]
fn first_match_wins_and_is_recorded_with_the_file_hash() {
    Iam::new().ensure_user("alice");
    for backend in BOTH {
        let j = with_rules(backend, COMPANY);
        let sha = j.run(&["rules", "check", "--output", "json"]).ok().json()["sha256"].clone();
        // Read-only s3 matches the first rule, although "writes" and "admin" would too.
        let read = j.request().flag("--iam-user", "alice").s3_read().id();
        let r = rec(&j, &read);
        assert_eq!(r["terms"]["rule"], "read-only", "{r}");
        assert_eq!(r["terms"]["rules_sha256"], sha);
        // A write passes "read-only" by and lands on "writes", with its approvers.
        let write = s3_write(j.request().flag("--iam-user", "alice")).id();
        let w = rec(&j, &write);
        assert_eq!(w["terms"]["rule"], "writes");
        assert_eq!(w["terms"]["approvers"], json!([APPROVER]));
        assert_eq!(w["terms"]["extensions"], 1);
        assert_eq!(w["terms"]["max_ttl_secs"], 4 * 3600);
        assert_eq!(w["quorum"], 1);
        // Permissions management goes past both to "admin": groups expanded, quorum 2.
        let admin = iam_admin(j.request().flag("--iam-user", "alice")).id();
        let a = rec(&j, &admin);
        assert_eq!(a["terms"]["rule"], "admin");
        assert_eq!(a["terms"]["approvers"], json!([SEC1, SEC2]));
        assert_eq!(a["quorum"], 2);
        assert_eq!(a["terms"]["break_glass"], true);
        // No --ttl: the default (8h) is brought under the rule's maximum.
        assert_eq!(a["ttl_secs"], 2 * 3600);
    }
}

#[test]
fn no_match_is_refused_naming_the_closest_rules_and_nothing_is_stored() {
    Iam::new().ensure_user("alice");
    let rules = r#"
[[rule]]
name = "corp-staff"
requesters = ["*@corp.example.com"]
approvers = ["boss@example.com"]

[[rule]]
name = "s3-only"
services = ["s3"]
approvers = ["boss@example.com"]
"#;
    for backend in BOTH {
        let j = with_rules(backend, rules);
        let r = iam_admin(j.request().flag("--iam-user", "alice"))
            .run()
            .code(5);
        assert!(r.stderr.contains("no access rule"), "{}", r.stderr);
        assert!(
            r.stderr.contains("corp-staff") && r.stderr.contains("not among its requesters"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("s3-only") && r.stderr.contains("outside its services"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("nothing was stored"), "{}", r.stderr);
        assert_eq!(count_requests(&j), 0);
    }
}

#[test]
fn auto_approval_only_for_read_only_finding_free_requests() {
    Iam::new().ensure_user("alice");
    let hook = Receiver::start();
    let mut j = with_rules(Backend::Redis, COMPANY);
    j.set("KUBIYA_JIT_WEBHOOK", &hook.url);
    let read = j.request().flag("--iam-user", "alice").s3_read().id();
    let r = rec(&j, &read);
    assert_eq!(r["state"], "approved");
    assert_eq!(r["approvals"][0]["by"], "rule:read-only");
    assert_eq!(r["terms"]["approval"], "auto");
    assert_eq!(r["approved_sha256"], r["policy_sha256"]);
    assert_eq!(timeline_actions(&j, &read), ["request", "approve"]);
    // Announced like any approval.
    assert_eq!(hook.events_for(&read), ["request_created", "approved"]);
    let approved = hook
        .bodies
        .lock()
        .expect("lock")
        .iter()
        .find(|b| b["request_id"] == read.as_str() && b["event"] == "approved")
        .cloned()
        .expect("approved event");
    assert_eq!(approved["rule"], "read-only");
    j.run(&["attach", &read]).ok();

    // A read of every object in every bucket is still a read, but it has security
    // findings: not for the auto rule (nor for "writes"), so "admin" and its quorum.
    let everywhere = j
        .request()
        .flag("--iam-user", "alice")
        .policy(&json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
        .id();
    let b = rec(&j, &everywhere);
    assert!(!j.security_codes(&everywhere).is_empty(), "{b}");
    assert_eq!(b["terms"]["rule"], "admin", "{b}");
    assert_eq!(b["state"], "pending");
    // Writes wait for their approver.
    let write = s3_write(j.request().flag("--iam-user", "alice")).id();
    assert_eq!(j.state(&write), "pending");

    // A rules file that would auto-approve a broad policy is refused as a whole: no
    // request is stored under it, whatever it asks for.
    edit_rules(
        &j,
        r#"
[[rule]]
name = "yolo"
approval = "auto"
"#,
    );
    let before = count_requests(&j);
    let r = iam_admin(j.request().flag("--iam-user", "alice"))
        .run()
        .code(2);
    assert!(r.stderr.contains("rules check"), "{}", r.stderr);
    j.request()
        .flag("--iam-user", "alice")
        .s3_read()
        .run()
        .code(2);
    assert_eq!(count_requests(&j), before);
    let lint = j
        .run(&["rules", "check", "--output", "json"])
        .code(2)
        .json();
    assert!(lint["lints"].to_string().contains("auto-broad"), "{lint}");
}

#[test]
fn quorum_and_approver_groups_apply_per_rule() {
    Iam::new().ensure_user("alice");
    for backend in BOTH {
        let j = with_rules(backend, COMPANY);
        let id = iam_admin(j.request().flag("--iam-user", "alice")).id();
        let codes = j.security_codes(&id).join(",");
        // boss is in APPROVAL_LIST, but not among the rule's approvers.
        let r = j
            .run(&[
                "approve",
                &id,
                "--approver",
                APPROVER,
                "--acknowledge-findings",
                &codes,
            ])
            .code(5);
        assert!(r.stderr.contains("access rule admin"), "{}", r.stderr);
        j.run(&[
            "approve",
            &id,
            "--approver",
            SEC1,
            "--acknowledge-findings",
            &codes,
        ])
        .ok();
        assert_eq!(
            j.state(&id),
            "pending",
            "quorum 2: one approval is not enough"
        );
        // The same approver twice, in another case, is still one.
        j.run(&[
            "approve",
            &id,
            "--approver",
            "SEC-LEAD@example.com",
            "--acknowledge-findings",
            &codes,
        ])
        .code(4);
        j.run(&[
            "approve",
            &id,
            "--approver",
            SEC2,
            "--acknowledge-findings",
            &codes,
        ])
        .ok();
        assert_eq!(j.state(&id), "approved");
        // The writes rule: boss alone, quorum 1; the security group cannot approve it.
        let w = s3_write(j.request().flag("--iam-user", "alice")).id();
        j.run(&["approve", &w, "--approver", SEC1]).code(5);
        j.run(&["approve", &w, "--approver", APPROVER]).ok();
        assert_eq!(j.state(&w), "approved");
    }
}

#[test]
fn requesters_hold_against_look_alike_case_and_tag_identities() {
    Iam::new().ensure_user("alice");
    let rules = r#"
[[rule]]
name = "staff"
requesters = ["*@example.com"]
approvers = ["boss@example.com"]

[[rule]]
name = "one-person"
requesters = ["ops@other.example"]
approvers = ["boss@example.com"]
"#;
    let j = with_rules(Backend::Local, rules);
    let ask = |who: &str| {
        j.request()
            .flag("--requester", who)
            .flag("--iam-user", "alice")
            .s3_read()
            .run()
    };
    for ok in ["dev@example.com", "DEV@EXAMPLE.COM", "dev+jit@example.com"] {
        let r = ask(ok).ok();
        let id = r.stdout.lines().next().unwrap_or_default().to_string();
        assert_eq!(rec(&j, &id)["terms"]["rule"], "staff", "{ok}");
    }
    // The domain is matched whole, and a wildcard never crosses the @.
    for refused in [
        "evil@example.com.attacker.net",
        "evil@attacker.net@example.com",
        "evil@notexample.com",
        "evil@sub.example.com",
    ] {
        let r = ask(refused).code(5);
        assert!(
            r.stderr.contains("not among its requesters"),
            "{refused}: {}",
            r.stderr
        );
    }
    // Exact entries are exact: a +tag is another address.
    ask("OPS@other.example").ok();
    ask("ops+x@other.example").code(5);
    // Look-alike letters never reach the rules: identities are plain ASCII.
    ask("dev@ex\u{430}mple.com").code(2);
    assert_eq!(count_requests(&j), 4);
}

#[test]
fn no_rule_lets_anyone_approve_their_own_request_or_benefit() {
    let iam = Iam::new();
    iam.ensure_user("alice");
    // The requester is listed among the rule's approvers, in another spelling.
    let rules = r#"
[[rule]]
name = "self-service"
approvers = ["DEV+approver@example.com", "boss@example.com"]
"#;
    let j = with_rules(Backend::Redis, rules);
    let id = j.request().flag("--iam-user", "alice").s3_read().id();
    for me in [REQUESTER, "dev+approver@example.com", "DEV@example.com"] {
        let r = j.run(&["approve", &id, "--approver", me]).code(5);
        assert!(r.stderr.contains("own request"), "{me}: {}", r.stderr);
    }
    j.run(&["approve", &id, "--approver", APPROVER]).ok();

    // Two approvers needed, but one of them is the requester: refused when asked,
    // nothing stored, rather than a request nobody can ever approve.
    edit_rules(
        &j,
        r#"
[[rule]]
name = "pair"
approvers = ["dev@example.com", "boss@example.com"]
quorum = 2
"#,
    );
    let before = count_requests(&j);
    let r = j
        .request()
        .flag("--iam-user", "alice")
        .s3_read()
        .run()
        .code(5);
    assert!(r.stderr.contains("neither the requester"), "{}", r.stderr);
    assert_eq!(count_requests(&j), before);

    // The beneficiary, named in the IAM user's owner tag, is refused too.
    let owned = iam.create_user();
    iam.rt
        .block_on(
            iam.client
                .tag_user()
                .user_name(&owned)
                .tags(
                    aws_sdk_iam::types::Tag::builder()
                        .key("aws-jit:owner")
                        .value(APPROVER)
                        .build()
                        .expect("tag"),
                )
                .send(),
        )
        .expect("TagUser");
    edit_rules(
        &j,
        r#"
[[rule]]
name = "owner-approves"
approvers = ["boss@example.com", "lead@example.com"]
"#,
    );
    let id = j.request().flag("--iam-user", &owned).s3_read().id();
    let r = j.run(&["approve", &id, "--approver", APPROVER]).code(5);
    assert!(r.stderr.contains("would receive"), "{}", r.stderr);
    j.run(&["approve", &id, "--approver", APPROVER2]).ok();
}

#[test]
fn empty_lists_match_nothing_and_absent_keys_match_anything() {
    let iam = Iam::new();
    iam.ensure_user("alice");
    let role = iam.create_role();
    let rules = r#"
[[rule]]
name = "no-iam-users"
iam_users = []
approvers = ["boss@example.com"]

[[rule]]
name = "prod-roles"
iam_roles = ["prod-*"]
approvers = ["lead@example.com"]
"#;
    let j = with_rules(Backend::Local, rules);
    // iam_users = []: no IAM user under the first rule; iam_roles absent: any role.
    let user = j.request().flag("--iam-user", "alice").s3_read().id();
    assert_eq!(rec(&j, &user)["terms"]["rule"], "prod-roles");
    let r = j.request().flag("--iam-role", &role).s3_read().id();
    assert_eq!(rec(&j, &r)["terms"]["rule"], "no-iam-users");
    let explained = j
        .run(&[
            "rules",
            "explain",
            "--requester",
            REQUESTER,
            "--iam-user",
            "alice",
            "--service",
            "s3",
            "--actions",
            "GetObject",
            "--resources",
            "arn:aws:s3:::team-logs/*",
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(explained["skipped"][0]["rule"], "no-iam-users");
    assert!(
        explained["skipped"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("[] — none"),
        "{explained}"
    );
}

#[test]
fn an_existing_permission_set_is_matched_by_what_it_grants() {
    let sso = Sso::new();
    let (user, _) = sso.create_user(REQUESTER);
    // Meant for read-only permission sets, named so an admin one fits the glob too.
    let (admin_name, admin_arn) = sso.create_permission_set();
    sso.attach_managed(&admin_arn, "arn:aws:iam::aws:policy/AdministratorAccess");
    let (read_name, read_arn) = sso.create_permission_set();
    sso.put_inline(
        &read_arn,
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::team-logs/*"}]}),
    );
    let rules = r#"
[[rule]]
name = "ps-read"
permission_sets = ["ps*"]
max_access = "read"
findings = "none"
approval = "auto"
iam_users = []
iam_roles = []

[[rule]]
name = "ps-admin"
permission_sets = ["ps*"]
approvers = ["group:security"]
quorum = 2
iam_users = []
iam_roles = []

[groups]
security = ["sec-lead@example.com", "ciso@example.com"]
"#;
    let mut j = with_rules(Backend::Redis, rules);
    j.set("JIT_SSO_POLL_INTERVAL", "20ms")
        .set("JIT_SSO_POLL_TIMEOUT", "20s");
    let ask = |ps: &str| {
        j.request()
            .flag("--sso-user", &user)
            .flag("--account-id", ACCOUNT)
            .flag("--permission-set", ps)
            .id()
    };
    let admin = ask(&admin_name);
    let a = rec(&j, &admin);
    assert_eq!(a["terms"]["rule"], "ps-admin", "{a}");
    assert_eq!(a["state"], "pending");
    assert_eq!(a["quorum"], 2);
    // Named by its ARN, the same permission set is matched by its name, and by contents.
    let by_arn = ask(&admin_arn);
    assert_eq!(rec(&j, &by_arn)["terms"]["rule"], "ps-admin");
    let read = ask(&read_name);
    let r = rec(&j, &read);
    assert_eq!(r["terms"]["rule"], "ps-read", "{r}");
    assert_eq!(r["state"], "approved");
    // explain says why the admin one is not read-only.
    let ex = j
        .run(&[
            "rules",
            "explain",
            "--requester",
            REQUESTER,
            "--sso-user",
            &user,
            "--account-id",
            ACCOUNT,
            "--permission-set",
            &admin_name,
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(ex["rule"], "ps-admin");
    let why = ex["skipped"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        why.contains("permissions-management") && why.contains("above its max_access read"),
        "{ex}"
    );
}

#[test]
fn break_glass_is_self_approved_announced_at_once_and_reviewed_after() {
    // The requester's own IAM user: `dev` is dev@example.com's by its name.
    Iam::new().ensure_user("dev");
    let hook = Receiver::start();
    for backend in BOTH {
        let mut j = with_rules(backend, COMPANY);
        j.set("KUBIYA_JIT_WEBHOOK", &hook.url);
        // Capped at the rule's maximum (2h).
        iam_admin(j.request().flag("--iam-user", "dev"))
            .flag("--ttl", "3h")
            .args(&["--break-glass", "--reason", "prod is down"])
            .run()
            .code(2);
        let id = iam_admin(j.request().flag("--iam-user", "dev"))
            .flag("--ttl", "1h")
            .args(&["--break-glass", "--reason", "prod is down"])
            .id();
        let r = rec(&j, &id);
        assert_eq!(r["state"], "approved");
        assert_eq!(r["approvals"][0]["by"], REQUESTER);
        assert_eq!(r["break_glass"]["reason"], "prod is down");
        assert_eq!(r["terms"]["rule"], "admin");
        assert_eq!(timeline_actions(&j, &id), ["break_glass"]);
        // The event went out with the request, before anything else happened.
        assert_eq!(hook.events_for(&id), ["break_glass"]);
        j.run(&["attach", &id]).ok();

        let listed = j
            .run(&["status", "--unreviewed", "--output", "json"])
            .ok()
            .json();
        assert_eq!(listed["requests"][0]["id"], id.as_str(), "{listed}");
        // Never the requester (in any spelling), never someone outside the rule.
        for who in [REQUESTER, "Dev+review@example.com", APPROVER] {
            j.run(&["review", &id, "--by", who, "--comment", "fine"])
                .code(5);
        }
        j.run(&[
            "review",
            &id,
            "--by",
            SEC2,
            "--comment",
            "justified, rotated keys",
        ])
        .ok();
        let r = rec(&j, &id);
        assert_eq!(r["break_glass"]["review"]["by"], SEC2);
        assert!(j
            .run(&["status", "--unreviewed", "--output", "json"])
            .ok()
            .json()["requests"]
            .as_array()
            .is_some_and(Vec::is_empty));
        j.run(&["review", &id, "--by", SEC1, "--comment", "again"])
            .code(4);
        assert_eq!(
            hook.events_for(&id),
            ["break_glass", "attached", "reviewed"]
        );
        j.run(&["expire", "--at", FAR_FUTURE]).ok();
    }
}

#[test]
fn break_glass_needs_a_rule_that_allows_it_and_is_only_for_oneself() {
    let iam = Iam::new();
    iam.ensure_user("alice");
    let rules = r#"
[[rule]]
name = "writes"
approvers = ["boss@example.com"]
"#;
    let j = with_rules(Backend::Local, rules);
    let r = s3_write(j.request().flag("--iam-user", "alice"))
        .args(&["--break-glass", "--reason", "now"])
        .run()
        .code(5);
    assert!(
        r.stderr.contains("break-glass is not allowed"),
        "{}",
        r.stderr
    );
    // Without --reason, no break-glass at all.
    s3_write(j.request().flag("--iam-user", "alice"))
        .args(&["--break-glass"])
        .run()
        .code(2);
    assert_eq!(count_requests(&j), 0);

    // Break-glass on a principal someone else owns: that would be granting them access
    // without any approver.
    edit_rules(&j, COMPANY);
    let owned = iam.create_user();
    iam.rt
        .block_on(
            iam.client
                .tag_user()
                .user_name(&owned)
                .tags(
                    aws_sdk_iam::types::Tag::builder()
                        .key("email")
                        .value("accomplice@example.com")
                        .build()
                        .expect("tag"),
                )
                .send(),
        )
        .expect("TagUser");
    let r = iam_admin(j.request().flag("--iam-user", &owned))
        .flag("--ttl", "1h")
        .args(&["--break-glass", "--reason", "now"])
        .run()
        .code(5);
    assert!(
        r.stderr.contains("only to the one who asks"),
        "{}",
        r.stderr
    );
    // An IAM user called alice is alice's, not dev's.
    iam_admin(j.request().flag("--iam-user", "alice"))
        .flag("--ttl", "1h")
        .args(&["--break-glass", "--reason", "now"])
        .run()
        .code(5);
    assert_eq!(count_requests(&j), 0);
    // dev's own user: allowed.
    iam.ensure_user("dev");
    iam_admin(j.request().flag("--iam-user", "dev"))
        .flag("--ttl", "1h")
        .args(&["--break-glass", "--reason", "now"])
        .id();
}

#[test]
fn an_extension_within_budget_moves_the_expiry_index_record_and_tag_at_once() {
    let iam = Iam::new();
    iam.ensure_user("alice");
    let hook = Receiver::start();
    for backend in BOTH {
        let mut j = with_rules(backend, COMPANY);
        j.set("KUBIYA_JIT_WEBHOOK", &hook.url);
        let id = s3_write(j.request().flag("--iam-user", "alice"))
            .flag("--ttl", "1h")
            .id();
        j.run(&["approve", &id, "--approver", APPROVER]).ok();
        j.run(&["attach", &id]).ok();
        let before = instant(&rec(&j, &id)["expires_at"]);
        // Only the requester or the beneficiary asks.
        j.run(&[
            "extend", &id, "--ttl", "30m", "--reason", "x", "--by", APPROVER2,
        ])
        .code(5);
        // Beyond the rule's maximum (4h from the attach): refused, saying how much is left.
        let r = j
            .run(&[
                "extend", &id, "--ttl", "4h", "--reason", "x", "--by", REQUESTER,
            ])
            .code(2);
        assert!(r.stderr.contains("at most 3h"), "{}", r.stderr);
        j.run(&[
            "extend",
            &id,
            "--ttl",
            "2h",
            "--reason",
            "migration overran",
            "--by",
            REQUESTER,
        ])
        .ok();
        assert_eq!(
            instant(&rec(&j, &id)["expires_at"]),
            before,
            "not before approval"
        );
        // A second one while the first waits: refused.
        j.run(&[
            "extend", &id, "--ttl", "10m", "--reason", "x", "--by", REQUESTER,
        ])
        .code(4);
        // The requester never approves their own extension.
        j.run(&["approve", &id, "--approver", REQUESTER]).code(5);
        j.run(&["approve", &id, "--approver", APPROVER]).ok();
        let r = rec(&j, &id);
        let after = instant(&r["expires_at"]);
        assert_eq!(after.0, before.0 + 2 * 3600);
        assert_eq!(r["extended"][0]["approved_by"], json!([APPROVER]));
        assert!(r["extension"].is_null());
        // The index moved with the record: due neither at the old expiry nor before the new.
        let at_old = Timestamp(before.0 + 1).to_string();
        let swept = j
            .run(&["expire", "--at", &at_old, "--output", "json"])
            .ok()
            .json();
        assert!(
            swept["expired"].as_array().is_some_and(Vec::is_empty),
            "{swept}"
        );
        assert_eq!(j.state(&id), "active");
        // The IAM policy's expiry tag moved too; no new policy was made.
        let arn = r["grant"]["policy_arn"].as_str().expect("arn").to_string();
        let tags = iam
            .rt
            .block_on(iam.client.list_policy_tags().policy_arn(&arn).send())
            .expect("ListPolicyTags");
        let tag = tags
            .tags()
            .iter()
            .find(|t| t.key() == "aws-jit:expires-at")
            .map(|t| t.value().to_string());
        assert_eq!(tag, Some(after.to_string()));
        assert_eq!(
            iam.user_policies("alice")
                .iter()
                .filter(|p| **p == arn)
                .count(),
            1
        );
        // The budget (1) is used up.
        let r = j
            .run(&[
                "extend", &id, "--ttl", "10m", "--reason", "x", "--by", REQUESTER,
            ])
            .code(5);
        assert!(r.stderr.contains("allows 1 extension"), "{}", r.stderr);
        assert_eq!(
            hook.events_for(&id),
            [
                "request_created",
                "approved",
                "attached",
                "extension_requested",
                "extended"
            ]
        );
        let at_new = Timestamp(after.0 + 1).to_string();
        let swept = j
            .run(&["expire", "--at", &at_new, "--output", "json"])
            .ok()
            .json();
        assert_eq!(swept["expired"], json!([id]));
    }
}

#[test]
fn extensions_are_refused_without_budget_and_die_with_their_grant() {
    Iam::new().ensure_user("alice");
    // No rules file: the implicit rule allows no extension.
    let j = Jit::new(Backend::Redis);
    let id = j.request_user("alice", &[]);
    j.approve_and_attach(&id);
    let r = j
        .run(&[
            "extend", &id, "--ttl", "10m", "--reason", "x", "--by", REQUESTER,
        ])
        .code(5);
    assert!(r.stderr.contains("allows 0 extension"), "{}", r.stderr);
    j.run(&["expire", "--at", FAR_FUTURE]).ok();

    // A pending extension dies with the grant.
    let j = with_rules(Backend::Redis, COMPANY);
    let id = s3_write(j.request().flag("--iam-user", "alice"))
        .flag("--ttl", "1h")
        .id();
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    j.run(&["attach", &id]).ok();
    j.run(&[
        "extend", &id, "--ttl", "1h", "--reason", "x", "--by", REQUESTER,
    ])
    .ok();
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(j.state(&id), "expired");
    j.run(&["approve", &id, "--approver", APPROVER]).code(4);
    j.run(&[
        "extend", &id, "--ttl", "1h", "--reason", "x", "--by", REQUESTER,
    ])
    .code(4);
    let shown = j.run(&["status", &id]).ok().stdout;
    assert!(shown.contains("lapsed with the grant"), "{shown}");

    // Rejected: the grant runs to its expiry, and the budget is still there.
    let id = s3_write(j.request().flag("--iam-user", "alice"))
        .flag("--ttl", "1h")
        .id();
    j.run(&["approve", &id, "--approver", APPROVER]).ok();
    j.run(&["attach", &id]).ok();
    let before = rec(&j, &id)["expires_at"].clone();
    j.run(&[
        "extend", &id, "--ttl", "1h", "--reason", "x", "--by", REQUESTER,
    ])
    .ok();
    j.run(&[
        "reject",
        &id,
        "--approver",
        APPROVER,
        "--reason",
        "finish tomorrow",
    ])
    .ok();
    let r = rec(&j, &id);
    assert_eq!(r["state"], "active");
    assert_eq!(r["expires_at"], before);
    assert!(r["extension"].is_null() && r["extended"].is_null(), "{r}");
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
}

#[test]
fn an_auto_rule_extends_at_once() {
    Iam::new().ensure_user("alice");
    let j = with_rules(Backend::Local, COMPANY);
    let id = j
        .request()
        .flag("--iam-user", "alice")
        .s3_read()
        .flag("--ttl", "1h")
        .id();
    j.run(&["attach", &id]).ok();
    let before = instant(&rec(&j, &id)["expires_at"]);
    j.run(&[
        "extend",
        &id,
        "--ttl",
        "1h",
        "--reason",
        "still reading",
        "--by",
        REQUESTER,
    ])
    .ok();
    let r = rec(&j, &id);
    assert_eq!(instant(&r["expires_at"]).0, before.0 + 3600);
    assert_eq!(r["extended"][0]["approved_by"], json!(["rule:read-only"]));
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
}

#[test]
fn reminders_are_sent_once_per_interval_across_expire_runs() {
    Iam::new().ensure_user("alice");
    Iam::new().ensure_user("dev");
    let hook = Receiver::start();
    for backend in BOTH {
        let mut j = with_rules(backend, COMPANY);
        j.set("KUBIYA_JIT_WEBHOOK", &hook.url)
            .set("JIT_REMIND_AFTER", "30m")
            .set("JIT_WARN_BEFORE", "15m");
        let pending = s3_write(j.request().flag("--iam-user", "alice")).id();
        let created = instant(&rec(&j, &pending)["created_at"]);
        let active = s3_write(j.request().flag("--iam-user", "alice"))
            .flag("--ttl", "2h")
            .id();
        j.run(&["approve", &active, "--approver", APPROVER]).ok();
        j.run(&["attach", &active]).ok();
        let ends = instant(&rec(&j, &active)["expires_at"]);
        let bg = iam_admin(j.request().flag("--iam-user", "dev"))
            .flag("--ttl", "1h")
            .args(&["--break-glass", "--reason", "incident"])
            .id();
        let run = |mins: u64| {
            let at = Timestamp(created.0 + mins * 60).to_string();
            j.run(&["expire", "--at", &at, "--output", "json"])
                .ok()
                .json()
        };
        let count =
            |id: &str, event: &str| hook.events_for(id).iter().filter(|e| *e == event).count();
        run(10);
        assert_eq!(count(&pending, "reminder"), 0);
        run(31);
        run(32);
        run(45);
        assert_eq!(count(&pending, "reminder"), 1, "once in the first interval");
        assert_eq!(count(&bg, "reminder"), 1);
        // A dry run sends nothing and records nothing.
        let dry = j
            .run(&[
                "expire",
                "--dry-run",
                "--at",
                &Timestamp(created.0 + 62 * 60).to_string(),
                "--output",
                "json",
            ])
            .ok()
            .json();
        assert!(dry["reminded"].to_string().contains(&pending), "{dry}");
        run(62);
        run(70);
        assert_eq!(count(&pending, "reminder"), 2, "then again every interval");
        assert_eq!(count(&bg, "reminder"), 2);
        let body = hook
            .bodies
            .lock()
            .expect("lock")
            .iter()
            .rev()
            .find(|b| b["request_id"] == bg.as_str() && b["event"] == "reminder")
            .cloned()
            .expect("reminder");
        assert_eq!(body["reminder"], "review");
        // The grant ending soon: once, within 15 minutes of its end.
        let before_end = |mins: u64| {
            let at = Timestamp(ends.0 - mins * 60).to_string();
            j.run(&["expire", "--at", &at]).ok();
        };
        // 20 minutes before the end (about 100 minutes in): not yet ending soon, but the
        // third interval of the waiting request and the unreviewed break-glass has come.
        before_end(20);
        assert_eq!(count(&active, "expiring_soon"), 0);
        assert_eq!(
            (count(&pending, "reminder"), count(&bg, "reminder")),
            (3, 3)
        );
        before_end(14);
        before_end(10);
        before_end(1);
        assert_eq!(count(&active, "expiring_soon"), 1);
        assert_eq!(
            (count(&pending, "reminder"), count(&bg, "reminder")),
            (3, 3)
        );
        // Reviewed: no more review reminders; the waiting request keeps getting its own.
        j.run(&["review", &bg, "--by", SEC1, "--comment", "ok"])
            .ok();
        run(200);
        assert_eq!(
            (count(&pending, "reminder"), count(&bg, "reminder")),
            (4, 3)
        );
        // Each one sent is in the audit log, and only those.
        assert_eq!(
            timeline_actions(&j, &pending)
                .iter()
                .filter(|a| *a == "remind")
                .count(),
            4
        );
        j.run(&["expire", "--at", FAR_FUTURE]).ok();
    }
}

#[test]
fn a_rules_file_edit_does_not_change_an_in_flight_request() {
    Iam::new().ensure_user("alice");
    for backend in BOTH {
        let j = with_rules(backend, COMPANY);
        let id = s3_write(j.request().flag("--iam-user", "alice"))
            .flag("--ttl", "1h")
            .id();
        let sha = rec(&j, &id)["terms"]["rules_sha256"].clone();
        // The writes rule now wants lead and a quorum of 2, no extensions, 30m at most.
        edit_rules(
            &j,
            r#"
[[rule]]
name = "writes"
approvers = ["lead@example.com", "ciso@example.com"]
quorum = 2
max_ttl = "30m"
"#,
        );
        let r = j.run(&["approve", &id, "--approver", APPROVER2]).code(5);
        assert!(r.stderr.contains("not among the approvers"), "{}", r.stderr);
        j.run(&["approve", &id, "--approver", APPROVER]).ok();
        assert_eq!(j.state(&id), "approved", "the recorded quorum of 1");
        j.run(&["attach", &id]).ok();
        j.run(&[
            "extend", &id, "--ttl", "1h", "--reason", "x", "--by", REQUESTER,
        ])
        .ok();
        let r = rec(&j, &id);
        assert_eq!(r["terms"]["rules_sha256"], sha);
        assert_eq!(r["terms"]["extensions"], 1);
        // A new request is decided by the file as it is now.
        let fresh = s3_write(j.request().flag("--iam-user", "alice"))
            .flag("--ttl", "20m")
            .id();
        let f = rec(&j, &fresh);
        assert_ne!(f["terms"]["rules_sha256"], sha);
        assert_eq!(f["quorum"], 2);
        j.run(&["expire", "--at", FAR_FUTURE]).ok();
    }
}

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn redis_conn() -> redis::Connection {
    redis::Client::open(redis_url())
        .expect("client")
        .get_connection()
        .expect("connection")
}

#[test]
fn a_forged_rule_in_the_record_is_caught_by_the_seal() {
    Iam::new().ensure_user("alice");
    let mut j = with_rules(Backend::Redis, COMPANY);
    j.set("JIT_STATE_KEY", KEY);
    let id = iam_admin(j.request().flag("--iam-user", "alice")).id();
    // Someone with write access to Redis rewrites the rule and its approvers to a
    // friendlier one: one approver, theirs.
    let mut forged = rec(&j, &id);
    forged["terms"]["rule"] = json!("writes");
    forged["terms"]["approvers"] = json!(["mallory@example.com"]);
    forged["quorum"] = json!(1);
    let key = format!("{{{}}}:req:{id}", j.prefix);
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("json")
        .arg(forged.to_string())
        .query(&mut redis_conn())
        .expect("HSET");
    let codes = j.security_codes(&id).join(",");
    let r = j
        .run(&[
            "approve",
            &id,
            "--approver",
            "mallory@example.com",
            "--acknowledge-findings",
            &codes,
        ])
        .code(5);
    assert!(r.stderr.contains("failed verification"), "{}", r.stderr);
    assert_eq!(j.record(&id)["integrity"], "unverified");
    // Without the key the same forgery is not caught: the README says so.
}

/// One failing example per lint rule of `rules check`, with the line it must name.
#[test]
fn rules_check_names_every_problem_with_its_line() {
    let cases: &[(&str, &str, usize)] = &[
        ("syntax", "[[rule]]\nname = \"x\nquorum = 1\n", 2),
        ("unknown-key", "colour = \"red\"\n", 1),
        ("unknown-key", "[[rule]]\nname = \"a\"\nself_approval = true\n", 3),
        ("type", "[[rule]]\nname = \"a\"\nquorum = \"2\"\n", 3),
        ("type", "[[rule]]\nname = \"a\"\nmax_access = \"admin\"\n", 3),
        ("type", "[[rule]]\nname = \"a\"\napproval = \"maybe\"\n", 3),
        ("type", "[[rule]]\nname = \"a\"\nrequesters = \"*@example.com\"\n", 3),
        ("bad-name", "[[rule]]\nmax_access = \"read\"\n", 1),
        ("bad-name", "[[rule]]\nname = \"has space\"\n", 2),
        ("duplicate-name", "[[rule]]\nname = \"a\"\nservices = [\"s3\"]\n\n[[rule]]\nname = \"a\"\n", 6),
        ("bad-glob", "[[rule]]\nname = \"a\"\nrequesters = [\"*@example.com*\"]\n", 3),
        ("bad-glob", "[[rule]]\nname = \"a\"\nrequesters = [\"*@*example.com\"]\n", 3),
        ("bad-glob", "[[rule]]\nname = \"a\"\nrequesters = [\"a@b@example.com\"]\n", 3),
        ("bad-glob", "[[rule]]\nname = \"a\"\naccounts = [\"12345\"]\n", 3),
        ("bad-glob", "[[rule]]\nname = \"a\"\niam_users = [\"[a-z]*\"]\n", 3),
        ("bad-glob", "[[rule]]\nname = \"a\"\npermission_sets = [\"Admin Access\"]\n", 3),
        ("unknown-service", "[[rule]]\nname = \"a\"\nservices = [\"s4\"]\n", 3),
        ("bad-duration", "[[rule]]\nname = \"a\"\nmax_ttl = \"soon\"\n", 3),
        ("bad-duration", "[[rule]]\nname = \"a\"\nmax_ttl = 3600\n", 3),
        ("ttl-above-max", "[[rule]]\nname = \"a\"\nmax_ttl = \"2d\"\n", 3),
        ("empty-approvers", "[[rule]]\nname = \"a\"\napprovers = []\n", 3),
        ("unknown-group", "[[rule]]\nname = \"a\"\napprovers = [\"group:nope\"]\n", 3),
        ("bad-approver", "[[rule]]\nname = \"a\"\napprovers = [\"*@example.com\"]\n", 3),
        ("bad-approver", "[groups]\nops = [\"not-an-email\"]\n\n[[rule]]\nname = \"a\"\n", 2),
        ("quorum", "[[rule]]\nname = \"a\"\napprovers = [\"boss@example.com\"]\nquorum = 2\n", 4),
        // One mailbox, two spellings: one approver.
        (
            "quorum",
            "[[rule]]\nname = \"a\"\napprovers = [\"boss@example.com\", \"Boss+jit@example.com\"]\nquorum = 2\n",
            4,
        ),
        ("auto-broad", "[[rule]]\nname = \"a\"\napproval = \"auto\"\nfindings = \"none\"\n", 3),
        ("auto-broad", "[[rule]]\nname = \"a\"\napproval = \"auto\"\nmax_access = \"read\"\n", 3),
        ("auto-broad", "[[rule]]\nname = \"a\"\napproval = \"auto\"\nmax_access = \"write\"\nfindings = \"none\"\n", 3),
        ("shadowed", "[[rule]]\nname = \"all\"\n\n[[rule]]\nname = \"later\"\nservices = [\"s3\"]\n", 4),
        ("shadowed", "[[rule]]\nname = \"staff\"\nrequesters = [\"*@example.com\"]\nmax_access = \"write\"\n\n[[rule]]\nname = \"dev\"\nrequesters = [\"dev@example.com\"]\nmax_access = \"read\"\n", 6),
        ("no-rules", "[groups]\nops = [\"a@example.com\"]\n", 1),
    ];
    let j = Jit::new(Backend::Local);
    let dir = tempfile::tempdir().expect("dir");
    for (i, (code, text, line)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.toml"));
        std::fs::write(&path, text).expect("write");
        let r = j
            .run(&[
                "rules",
                "check",
                &path.display().to_string(),
                "--output",
                "json",
            ])
            .code(2);
        let doc = r.json();
        let found =
            doc["lints"].as_array().into_iter().flatten().any(|l| {
                l["code"] == *code && l["severity"] == "error" && l["line"] == *line as u64
            });
        assert!(found, "{code} on line {line} expected in:\n{text}\n{doc}");
        // And in words, for people.
        let r = j
            .run(&["rules", "check", &path.display().to_string()])
            .code(2);
        assert!(
            r.stdout.contains(&format!(":{line}: error [{code}]")),
            "{code}: {}",
            r.stdout
        );
    }
    // More rules than anyone can read: refused, at the first rule past the limit.
    let many: String = (0..501)
        .map(|i| format!("[[rule]]\nname = \"r{i}\"\n\n"))
        .collect();
    let path = dir.path().join("many.toml");
    std::fs::write(&path, many).expect("write");
    let doc = j
        .run(&[
            "rules",
            "check",
            &path.display().to_string(),
            "--output",
            "json",
        ])
        .code(2)
        .json();
    assert!(
        doc["lints"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|l| l["code"] == "too-many-rules" && l["line"] == 1501),
        "{}",
        doc["errors"]
    );
    // Warnings name their line but leave the file usable.
    let warnings: &[(&str, &str, usize)] = &[
        ("empty-group", "[groups]\nnobody = []\n\n[[rule]]\nname = \"a\"\n", 2),
        ("no-requesters", "[[rule]]\nname = \"a\"\nrequesters = []\n", 3),
        ("target-spill", "[[rule]]\nname = \"a\"\naccounts = [\"123456789012\"]\n", 1),
        ("break-glass-auto", "[[rule]]\nname = \"a\"\nmax_access = \"read\"\nfindings = \"none\"\napproval = \"auto\"\nbreak_glass = true\n", 6),
    ];
    for (i, (code, text, line)) in warnings.iter().enumerate() {
        let path = dir.path().join(format!("warn{i}.toml"));
        std::fs::write(&path, text).expect("write");
        let doc = j
            .run(&[
                "rules",
                "check",
                &path.display().to_string(),
                "--output",
                "json",
            ])
            .ok()
            .json();
        let found =
            doc["lints"].as_array().into_iter().flatten().any(|l| {
                l["code"] == *code && l["severity"] == "warning" && l["line"] == *line as u64
            });
        assert!(found, "{code} on line {line} expected in:\n{text}\n{doc}");
    }
    // The company example of the README is clean.
    let path = dir.path().join("company.toml");
    std::fs::write(&path, COMPANY).expect("write");
    let doc = j
        .run(&[
            "rules",
            "check",
            &path.display().to_string(),
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(doc["errors"], 0, "{doc}");
    assert_eq!(doc["warnings"], 0, "{doc}");
}

#[test]
fn rules_explain_stores_nothing_and_explains_every_skipped_rule() {
    Iam::new().ensure_user("alice");
    let j = with_rules(Backend::Redis, COMPANY);
    let explain = |extra: &[&str]| {
        let mut args = vec![
            "rules",
            "explain",
            "--requester",
            REQUESTER,
            "--iam-user",
            "alice",
            "--output",
            "json",
        ];
        args.extend(extra);
        j.run(&args)
    };
    let doc = explain(&[
        "--service",
        "iam",
        "--actions",
        "CreateUser",
        "--resources",
        "arn:aws:iam::123456789012:user/x",
    ])
    .ok()
    .json();
    assert_eq!(doc["rule"], "admin");
    assert_eq!(doc["approvers"], json!([SEC1, SEC2]));
    assert_eq!(doc["quorum"], 2);
    assert_eq!(doc["max_ttl"], "2h");
    assert_eq!(doc["approval"], "required");
    let skipped: Vec<&str> = doc["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter_map(|s| s["rule"].as_str())
        .collect();
    assert_eq!(skipped, ["read-only", "writes"]);
    assert!(doc["skipped"][1]["reason"]
        .as_str()
        .unwrap_or_default()
        .contains("above its max_access write"));
    let doc = explain(&[
        "--service",
        "s3",
        "--actions",
        "GetObject",
        "--resources",
        "arn:aws:s3:::team-logs/*",
    ])
    .ok()
    .json();
    assert_eq!(
        (doc["rule"].as_str(), doc["approval"].as_str()),
        (Some("read-only"), Some("auto"))
    );
    // No purpose needed, nothing stored.
    assert_eq!(count_requests(&j), 0);
    // No match: exit 5, as `request` would, with the explanation.
    let r = j
        .run(&[
            "rules",
            "explain",
            "--requester",
            "evil@example.com.attacker.net",
            "--iam-user",
            "alice",
            "--service",
            "iam",
            "--actions",
            "CreateUser",
            "--resources",
            "arn:aws:iam::123456789012:user/x",
            "--output",
            "json",
        ])
        .code(5);
    let doc = r.json();
    assert!(doc["rule"].is_null());
    assert_eq!(doc["approval"], "refused");
    assert_eq!(doc["skipped"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["error"]["exit_code"], 5);
}

#[test]
fn inline_rules_work_and_a_broken_file_decides_nothing() {
    Iam::new().ensure_user("alice");
    let mut j = Jit::new(Backend::Local);
    j.set("JIT_RULES", COMPANY);
    let id = j.request().flag("--iam-user", "alice").s3_read().id();
    assert_eq!(rec(&j, &id)["terms"]["rule"], "read-only");
    // Both a file and inline rules: ambiguous, refused.
    j.set("JIT_RULES_FILE", "/nonexistent.toml");
    j.request()
        .flag("--iam-user", "alice")
        .s3_read()
        .run()
        .code(2);
    j.unset("JIT_RULES");
    let r = j
        .request()
        .flag("--iam-user", "alice")
        .s3_read()
        .run()
        .code(2);
    assert!(r.stderr.contains("JIT_RULES_FILE"), "{}", r.stderr);
    // Without any rules the implicit rule stays today's behaviour: no rule recorded.
    j.unset("JIT_RULES_FILE");
    let id = j.request().flag("--iam-user", "alice").s3_read().id();
    let r = rec(&j, &id);
    assert!(
        r["terms"]["rule"].is_null() && r["terms"]["rules_sha256"].is_null(),
        "{r}"
    );
    assert_eq!(r["state"], "pending");
}

#[test]
fn a_rule_never_auto_approves_what_the_request_itself_shows_is_broad() {
    use aws_jit::access::{grants, may_auto_approve};
    let broad = grants::of_policy(&json!({"Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"}]}));
    assert!(may_auto_approve(&broad, &[]).is_err());
    let everything = grants::of_policy(&json!({"Statement": [
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}));
    assert!(may_auto_approve(&everything, &[]).is_err());
    let read = grants::of_policy(&json!({"Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}));
    assert!(may_auto_approve(&read, &[]).is_ok());
    assert!(may_auto_approve(&read, &["resource-star".to_string()]).is_err());
}

/// The example rules file of the README and of docs/kubiya.md: clean, and deciding as
/// they say (read-only auto, writes with one approver, admin with two and break-glass).
#[test]
fn the_documented_example_rules_are_clean_and_decide_as_documented() {
    Iam::new().ensure_user("alice");
    let root = env!("CARGO_MANIFEST_DIR");
    for (doc, after) in [
        ("README.md", "## Access rules"),
        ("docs/kubiya.md", "## 10. Access rules for the teammate"),
    ] {
        let text = std::fs::read_to_string(format!("{root}/{doc}")).expect("doc");
        let from = text.find(after).expect("section");
        let block = text[from..]
            .split("```toml\n")
            .nth(1)
            .and_then(|b| b.split("```").next())
            .expect("a toml block");
        let j = with_rules(Backend::Local, block);
        let checked = j.run(&["rules", "check", "--output", "json"]).ok().json();
        assert_eq!(
            (checked["errors"].as_u64(), checked["warnings"].as_u64()),
            (Some(0), Some(0)),
            "{doc}: {checked}"
        );
        let read = j.request().flag("--iam-user", "alice").s3_read().id();
        assert_eq!(
            rec(&j, &read)["approvals"][0]["by"],
            "rule:read-only",
            "{doc}"
        );
        let write = s3_write(j.request().flag("--iam-user", "alice")).id();
        let w = rec(&j, &write);
        assert_eq!(
            (w["terms"]["rule"].as_str(), w["quorum"].as_u64()),
            (Some("writes"), Some(1))
        );
        let admin = iam_admin(j.request().flag("--iam-user", "alice")).id();
        let a = rec(&j, &admin);
        assert_eq!(
            (a["terms"]["rule"].as_str(), a["quorum"].as_u64()),
            (Some("admin"), Some(2))
        );
        assert_eq!(a["terms"]["break_glass"], true);
    }
}

/// The maximum TTL of an extended grant counts from when access could first begin (the
/// first attach attempt, whose expiry intent is never moved), not from the attach that
/// finally succeeded: a failed first attempt cannot buy extra time.
#[test]
fn an_extension_counts_from_the_first_attach_attempt() {
    let iam = Iam::new();
    let user = iam.create_user();
    let j = with_rules(
        Backend::Local,
        r#"
[[rule]]
name = "short-reads"
max_access = "read"
findings = "none"
max_ttl = "3m"
approval = "auto"
extensions = 1
"#,
    );
    let id = j
        .request()
        .flag("--iam-user", &user)
        .s3_read()
        .flag("--ttl", "1m")
        .id();
    // The first attempt is refused (the user went away); the intent stays.
    iam.delete_user(&user);
    j.run(&["attach", &id]).code(3);
    let first = instant(&rec(&j, &id)["expires_at"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    iam.ensure_user(&user);
    j.run(&["attach", &id]).ok();
    assert_eq!(instant(&rec(&j, &id)["expires_at"]), first);
    // 1m + 121s from the first attempt is over 3m, although under 3m from the late attach.
    let r = j
        .run(&[
            "extend", &id, "--ttl", "121s", "--reason", "x", "--by", REQUESTER,
        ])
        .code(2);
    assert!(r.stderr.contains("maximum"), "{}", r.stderr);
    j.run(&[
        "extend", &id, "--ttl", "119s", "--reason", "x", "--by", REQUESTER,
    ])
    .ok();
    j.run(&["expire", "--at", FAR_FUTURE]).ok();
}

/// Reading credentials or secrets is read level, but no rule approves it on its own, even
/// on one named secret: it waits for a person.
#[test]
fn credential_reads_are_never_approved_automatically() {
    Iam::new().ensure_user("alice");
    let j = with_rules(Backend::Local, COMPANY);
    for (service, action, resource) in [
        (
            "secretsmanager",
            "GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
        ),
        (
            "ec2",
            "GetPasswordData",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0",
        ),
    ] {
        let id = j
            .request()
            .flag("--iam-user", "alice")
            .flag("--service", service)
            .flag("--actions", action)
            .flag("--resources", resource)
            .id();
        let r = rec(&j, &id);
        assert_eq!(r["state"], "pending", "{action}: {r}");
        let explained = j
            .run(&[
                "rules",
                "explain",
                "--output",
                "json",
                "--requester",
                REQUESTER,
                "--iam-user",
                "alice",
                "--service",
                service,
                "--actions",
                action,
                "--resources",
                resource,
            ])
            .ok()
            .json();
        assert_ne!(explained["approval"], "auto", "{action}: {explained}");
    }
}
