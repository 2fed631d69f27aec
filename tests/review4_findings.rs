//! Fourth security review: each test is one finding and FAILS on the code it was written
//! against (5fcc50d). Against moto_server and the real stores.

mod common;

use common::*;
use serde_json::{json, Value};

fn with_rules(backend: Backend, rules: &str) -> Jit {
    let mut j = Jit::new(backend);
    let path = j.state_dir().join("rules.toml");
    std::fs::write(&path, rules).expect("write rules");
    j.set("JIT_RULES_FILE", &path.display().to_string());
    j
}

const AUTO_READ: &str = r#"
[[rule]]
name = "read-only"
max_access = "read"
findings = "none"
approval = "auto"
max_ttl = "4h"

[[rule]]
name = "people"
approvers = ["boss@example.com", "lead@example.com"]
"#;

const BREAK_GLASS: &str = r#"
[groups]
security = ["sec-lead@example.com", "ciso@example.com"]

[[rule]]
name = "admin"
requesters = ["*@example.com"]
approvers = ["group:security"]
max_ttl = "2h"
break_glass = true
"#;

fn security_codes_of(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "security")
        .filter_map(|f| f["code"].as_str().map(str::to_string))
        .collect()
}

/// Finding: a policy variable with a default value (`${aws:username, '*'}`) is judged as
/// "one value per principal" (principal-bound) whatever its default. An IAM role has no
/// `aws:username`, so for a role the default applies to every session: the resource is
/// `arn:aws:s3:::*/*`, every object of every bucket. The validator reports nothing (where
/// the literal `arn:aws:s3:::*/*` is resource-star and data-exfiltration), so a read-only
/// `auto` rule approves it with no person involved.
#[test]
fn a_policy_variable_default_of_star_reaches_every_bucket_and_is_auto_approved() {
    let role = Iam::new().create_role();
    let doc = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::${aws:username,'*'}/*"}]});
    // The same policy with the default written out: every bucket.
    let literal = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"}]});
    let j = with_rules(Backend::Local, AUTO_READ);
    let lit = j
        .request()
        .flag("--iam-role", &role)
        .policy(&literal)
        .flag("--output", "json")
        .id();
    let lit = j.record(&lit)["request"].clone();
    assert_eq!(
        lit["state"], "pending",
        "the literal every-bucket policy is not auto-approved: {lit}"
    );
    let id = j
        .request()
        .flag("--iam-role", &role)
        .policy(&doc)
        .flag("--output", "json")
        .id();
    let rec = j.record(&id)["request"].clone();
    let r = &rec;
    assert_ne!(
        r["state"],
        "approved",
        "s3:GetObject on arn:aws:s3:::${{aws:username,'*'}}/* for a role (no aws:username: \
         the default `*` applies) was approved by rule read-only with findings {:?}",
        security_codes_of(r)
    );
}

/// Finding: break-glass is "only for oneself": an IAM user named after the requester
/// (`dev` for dev@example.com). `only_for` compares a bare IAM user name with
/// `maybe_same_person`, which drops a `+tag`, so dev@example.com may break glass, with no
/// approver, onto the IAM user `dev+prod` — another principal, not named after them.
#[test]
fn break_glass_onto_an_iam_user_whose_name_only_shares_the_requesters_local_part() {
    let user = format!("dev+{}", unique("p").replace('-', ""));
    Iam::new().ensure_user(&user);
    let j = with_rules(Backend::Local, BREAK_GLASS);
    let r = j
        .request()
        .flag("--iam-user", &user)
        .s3_read()
        .flag("--ttl", "1h")
        .args(&[
            "--break-glass",
            "--reason",
            "prod is down",
            "--output",
            "json",
        ])
        .run();
    assert_eq!(
        r.code, 5,
        "dev@example.com broke glass onto IAM user {user}, approved by themselves (exit {}): {}{}",
        r.code, r.stdout, r.stderr
    );
}
