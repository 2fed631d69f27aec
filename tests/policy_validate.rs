//! The validator on known-good and known-bad policies: every finding code has a policy
//! that triggers it, and the good policies trigger nothing.

use aws_jit::policy::{
    blocking, codes, needs_ack, validate, validate_text, Finding, PolicyTarget, Severity,
    ValidateOptions,
};
use serde_json::{json, Value};

fn opts() -> ValidateOptions {
    ValidateOptions::default()
}

fn run(doc: Value) -> Vec<Finding> {
    validate(&doc, &opts())
}

fn allow(action: Value, resource: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
}

fn has(findings: &[Finding], code: &str) -> bool {
    findings.iter().any(|f| f.code == code)
}

#[track_caller]
fn assert_code(findings: &[Finding], code: &str) {
    assert!(has(findings, code), "expected {code}, got {:#?}", findings);
    let f = findings.iter().find(|f| f.code == code).expect("present");
    assert_eq!(f.severity, codes::severity(code));
    assert!(!f.message.is_empty() && !f.fix.is_empty());
}

#[test]
fn good_policies_have_no_findings() {
    let good = [
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Bucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::my-data"},
            {"Sid": "Objects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::my-data/*"},
            {"Sid": "Listing", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
        ]}),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders",
             "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}, "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["a*"]}}},
            {"Effect": "Allow", "Action": ["logs:GetLogEvents"], "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:log-stream:*"},
            {"Effect": "Allow", "Action": ["logs:FilterLogEvents"], "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        ]}),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ec2:StartInstances", "ec2:StopInstances"], "Resource": "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"},
            {"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": ["arn:aws:lambda:us-east-1:123456789012:function:my-fn", "arn:aws:lambda:us-east-1:123456789012:function:my-fn:*"]},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::home/${aws:username}/*"}
        ]}),
    ];
    for doc in good {
        let f = run(doc.clone());
        assert!(f.is_empty(), "{doc}\n{f:#?}");
        assert!(!blocking(&f) && !needs_ack(&f));
    }
}

// ---- errors ----

#[test]
fn json_syntax() {
    let f = validate_text("{\"Version\": \"2012-10-17\", \"Statement\": [", &opts());
    assert_code(&f, codes::JSON_SYNTAX);
    assert!(blocking(&f));
}

#[test]
fn version() {
    let mut doc = allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"));
    doc["Version"] = json!("2020-01-01");
    assert_code(&run(doc.clone()), codes::VERSION);
    doc.as_object_mut().expect("object").remove("Version");
    let f = run(doc);
    assert_code(&f, codes::VERSION_MISSING);
    assert!(!blocking(&f));
}

#[test]
fn statement() {
    assert_code(&run(json!({"Version": "2012-10-17"})), codes::STATEMENT);
    assert_code(
        &run(json!({"Version": "2012-10-17", "Statement": []})),
        codes::STATEMENT,
    );
    assert_code(
        &run(json!({"Version": "2012-10-17", "Statement": ["x"]})),
        codes::STATEMENT,
    );
    assert_code(&run(json!([1, 2])), codes::STATEMENT);
    let mut doc = allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"));
    doc["Statement"][0]["Actions"] = json!("s3:GetObject");
    assert_code(&run(doc), codes::STATEMENT);
}

#[test]
fn sid() {
    let mut doc = allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"));
    doc["Statement"][0]["Sid"] = json!("has spaces!");
    assert_code(&run(doc), codes::SID);
    let dup = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
        {"Sid": "A", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"}]});
    assert_code(&run(dup), codes::SID);
}

#[test]
fn effect() {
    let mut doc = allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"));
    doc["Statement"][0]["Effect"] = json!("allow");
    assert_code(&run(doc.clone()), codes::EFFECT);
    doc["Statement"][0]
        .as_object_mut()
        .expect("object")
        .remove("Effect");
    assert_code(&run(doc), codes::EFFECT);
}

#[test]
fn action_element() {
    let mut doc = allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"));
    doc["Statement"][0]["NotAction"] = json!("s3:PutObject");
    assert_code(&run(doc), codes::ACTION_ELEMENT);
    assert_code(&run(allow(json!([]), json!("*"))), codes::ACTION_ELEMENT);
    assert_code(
        &run(allow(json!("GetObject"), json!("*"))),
        codes::ACTION_ELEMENT,
    );
    assert_code(&run(allow(json!(42), json!("*"))), codes::ACTION_ELEMENT);
    let none =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]});
    assert_code(&run(none), codes::ACTION_ELEMENT);
}

#[test]
fn resource_element() {
    let none = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]});
    assert_code(&run(none), codes::RESOURCE_ELEMENT);
    let mut both = allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"));
    both["Statement"][0]["NotResource"] = json!("arn:aws:s3:::c/*");
    assert_code(&run(both), codes::RESOURCE_ELEMENT);
    assert_code(
        &run(allow(json!("s3:GetObject"), json!({"a": 1}))),
        codes::RESOURCE_ELEMENT,
    );
}

#[test]
fn principal() {
    let mut doc = allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"));
    doc["Statement"][0]["Principal"] = json!({"AWS": "*"});
    let f = run(doc);
    assert_code(&f, codes::PRINCIPAL);
    assert!(blocking(&f));
}

#[test]
fn condition() {
    let mut doc = allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"));
    doc["Statement"][0]["Condition"] = json!({"StringEqualz": {"aws:username": "bob"}});
    assert_code(&run(doc.clone()), codes::CONDITION);
    doc["Statement"][0]["Condition"] = json!({"StringEquals": "bob"});
    assert_code(&run(doc.clone()), codes::CONDITION);
    doc["Statement"][0]["Condition"] = json!({"NullIfExists": {"aws:username": "true"}});
    assert_code(&run(doc.clone()), codes::CONDITION);
    doc["Statement"][0]["Condition"] = json!({"StringEqualsIfExists": {"aws:username": ["bob"]}});
    assert!(!has(&run(doc), codes::CONDITION));
}

#[test]
fn unknown_service() {
    let f = run(allow(json!("s4:GetObject"), json!("*")));
    assert_code(&f, codes::UNKNOWN_SERVICE);
}

#[test]
fn unknown_action() {
    let f = run(allow(json!("s3:GetObjekt"), json!("arn:aws:s3:::b/*")));
    assert_code(&f, codes::UNKNOWN_ACTION);
    assert!(f[0].message.contains("did you mean s3:GetObject"), "{f:#?}");
    let f = run(allow(json!("s3:GetObjectt"), json!("arn:aws:s3:::b/*")));
    assert!(
        f[0].message.contains("(did you mean s3:GetObject?)"),
        "{f:#?}"
    );
    // Case-insensitive, like IAM.
    assert!(run(allow(json!("s3:getobject"), json!("arn:aws:s3:::b/*"))).is_empty());
}

#[test]
fn wildcard_no_match() {
    assert_code(
        &run(allow(json!("s3:Frobnicate*"), json!("*"))),
        codes::WILDCARD_NO_MATCH,
    );
}

#[test]
fn malformed_arn() {
    for bad in [
        "s3://bucket",
        "arn:aws:s3",
        "arn:amazon:s3:::b",
        "arn:aws:s3:::",
        "bucket",
    ] {
        let f = run(allow(json!("s3:GetObject"), json!(bad)));
        assert_code(&f, codes::MALFORMED_ARN);
    }
}

#[test]
fn resource_mismatch() {
    // ListBucket on objects, GetObject on the bucket: the classic mix-up.
    let f = run(allow(json!("s3:ListBucket"), json!("arn:aws:s3:::b/*")));
    assert_code(&f, codes::RESOURCE_MISMATCH);
    let f = run(allow(json!("s3:GetObject"), json!("arn:aws:s3:::b")));
    assert_code(&f, codes::RESOURCE_MISMATCH);
    // Wrong service in the ARN.
    let f = run(allow(
        json!("s3:GetObject"),
        json!("arn:aws:dynamodb:us-east-1:123456789012:table/t"),
    ));
    assert_code(&f, codes::RESOURCE_MISMATCH);
    // An action without resource-level permissions on an ARN.
    let f = run(allow(json!("s3:ListAllMyBuckets"), json!("arn:aws:s3:::b")));
    assert_code(&f, codes::RESOURCE_MISMATCH);
    // A resource that no action of the statement accepts, next to one that serves every
    // action: harmless, a warning (issue 10, item 7).
    let f = run(allow(
        json!(["s3:GetObject"]),
        json!(["arn:aws:s3:::b/*", "arn:aws:sqs:us-east-1:123456789012:q"]),
    ));
    assert!(
        f.iter().any(|x| x.code == codes::RESOURCE_UNUSED
            && x.resource.as_deref() == Some("arn:aws:sqs:us-east-1:123456789012:q")),
        "{f:#?}"
    );
    assert!(!blocking(&f), "{f:#?}");
    // Alone, it grants nothing: still an error.
    let f = run(allow(
        json!(["s3:GetObject"]),
        json!(["arn:aws:sqs:us-east-1:123456789012:q"]),
    ));
    assert!(
        f.iter().any(|x| x.code == codes::RESOURCE_MISMATCH
            && x.resource.as_deref() == Some("arn:aws:sqs:us-east-1:123456789012:q")),
        "{f:#?}"
    );
}

#[test]
fn resource_unused() {
    // The bucket next to its objects for PutObject + PutObjectAcl: parliament and
    // cloudsplaining accept it, and it blocks nothing.
    let f = run(allow(
        json!(["s3:PutObject", "s3:PutObjectAcl"]),
        json!(["arn:aws:s3:::b", "arn:aws:s3:::b/*"]),
    ));
    assert_code(&f, codes::RESOURCE_UNUSED);
    assert!(!blocking(&f), "{f:#?}");
    assert!(
        !has(&f, codes::RESOURCE_MISMATCH),
        "the statement works: {f:#?}"
    );
}

#[test]
fn service_not_allowed() {
    let o = ValidateOptions {
        allowed_services: Some(vec!["s3".into()]),
        target: PolicyTarget::ManagedPolicy,
    };
    let f = validate(
        &allow(
            json!("dynamodb:GetItem"),
            json!("arn:aws:dynamodb:us-east-1:123456789012:table/t"),
        ),
        &o,
    );
    assert_code(&f, codes::SERVICE_NOT_ALLOWED);
    let f = validate(&allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*")), &o);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn size_limit() {
    let arns: Vec<String> = (0..200)
        .map(|i| format!("arn:aws:s3:::bucket-number-{i}/*"))
        .collect();
    let doc = allow(json!("s3:GetObject"), json!(arns));
    let f = run(doc.clone());
    assert_code(&f, codes::SIZE_LIMIT);
    let ps = ValidateOptions {
        allowed_services: None,
        target: PolicyTarget::PermissionSetInline,
    };
    assert!(!has(&validate(&doc, &ps), codes::SIZE_LIMIT));
}

// ---- security ----

#[test]
fn privilege_escalation_single_actions() {
    for a in [
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:AttachUserPolicy",
        "iam:AttachGroupPolicy",
        "iam:AttachRolePolicy",
        "iam:PutUserPolicy",
        "iam:PutGroupPolicy",
        "iam:PutRolePolicy",
        "iam:CreateAccessKey",
        "iam:CreateLoginProfile",
        "iam:UpdateLoginProfile",
        "iam:UpdateAssumeRolePolicy",
    ] {
        let f = run(allow(json!(a), json!("*")));
        assert!(
            f.iter()
                .any(|x| x.code == codes::PRIVILEGE_ESCALATION && x.action.as_deref() == Some(a)),
            "{a}: {f:#?}"
        );
        assert!(needs_ack(&f));
    }
    // Through a wildcard too.
    let f = run(allow(json!("iam:Attach*"), json!("*")));
    assert!(f.iter().any(|x| x.code == codes::PRIVILEGE_ESCALATION
        && x.action.as_deref() == Some("iam:AttachRolePolicy")));
    // Deny statements are not escalation.
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": "*"}]});
    assert!(!has(&run(deny), codes::PRIVILEGE_ESCALATION));
}

/// Security review: running commands as a maintenance window's role, and rewriting an
/// existing state machine before running it as its role.
#[test]
fn escalation_through_maintenance_windows_and_state_machines() {
    for a in [
        "ssm:RegisterTaskWithMaintenanceWindow",
        "ssm:UpdateMaintenanceWindowTask",
    ] {
        let f = run(allow(
            json!(a),
            json!("arn:aws:ssm:us-east-1:123456789012:maintenancewindow/mw-0123456789abcdef0"),
        ));
        assert!(flags(&f, codes::PRIVILEGE_ESCALATION, a), "{a}: {f:#?}");
    }
    let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
    let f = run(policy(vec![
        json!({"Effect": "Allow", "Action": "states:UpdateStateMachine", "Resource": sm}),
        json!({"Effect": "Allow", "Action": "states:StartExecution", "Resource": sm}),
    ]));
    assert!(
        flags(
            &f,
            codes::PRIVILEGE_ESCALATION,
            "states:UpdateStateMachine+states:StartExecution"
        ),
        "{f:#?}"
    );
    // Either alone is not this method.
    let f = run(allow(json!("states:StartExecution"), json!(sm)));
    assert!(!has(&f, codes::PRIVILEGE_ESCALATION), "{f:#?}");
}

#[test]
fn passrole_escalation() {
    for target in [
        "ec2:RunInstances",
        "lambda:CreateFunction",
        "glue:CreateDevEndpoint",
        "cloudformation:CreateStack",
        "datapipeline:CreatePipeline",
    ] {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/app"},
            {"Effect": "Allow", "Action": target, "Resource": "*"}]});
        let f = run(doc);
        assert!(
            f.iter().any(|x| x.code == codes::PASSROLE_ESCALATION
                && x.action.as_deref().is_some_and(|a| a.ends_with(target))),
            "{target}: {f:#?}"
        );
    }
    // RunInstances alone is not the combination.
    assert!(!has(
        &run(allow(json!("ec2:RunInstances"), json!("*"))),
        codes::PASSROLE_ESCALATION
    ));
}

#[test]
fn assume_any_role() {
    let f = run(allow(json!("sts:AssumeRole"), json!("*")));
    assert_code(&f, codes::ASSUME_ANY_ROLE);
    let f = run(allow(
        json!("sts:AssumeRole"),
        json!("arn:aws:iam::123456789012:role/*"),
    ));
    assert_code(&f, codes::ASSUME_ANY_ROLE);
    let f = run(allow(
        json!("sts:AssumeRole"),
        json!("arn:aws:iam::123456789012:role/reader"),
    ));
    assert!(!has(&f, codes::ASSUME_ANY_ROLE), "{f:#?}");
}

#[test]
fn permissions_management() {
    let f = run(allow(json!("s3:PutBucketPolicy"), json!("arn:aws:s3:::b")));
    assert_code(&f, codes::PERMISSIONS_MANAGEMENT);
    let f = run(allow(json!("s3:PutBucket*"), json!("arn:aws:s3:::b")));
    assert_code(&f, codes::PERMISSIONS_MANAGEMENT);
}

#[test]
fn full_wildcard() {
    let f = run(allow(json!("*"), json!("*")));
    assert_code(&f, codes::FULL_WILDCARD);
    assert!(needs_ack(&f));
    assert_code(
        &run(allow(json!("*:Get*"), json!("*"))),
        codes::FULL_WILDCARD,
    );
}

#[test]
fn service_wildcard() {
    let f = run(allow(json!("s3:*"), json!("arn:aws:s3:::b")));
    assert_code(&f, codes::SERVICE_WILDCARD);
    let f = run(allow(json!("iam:*"), json!("*")));
    assert_code(&f, codes::SERVICE_WILDCARD);
    assert_code(&f, codes::PRIVILEGE_ESCALATION);
}

#[test]
fn allow_not_action() {
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]});
    assert_code(&run(doc), codes::ALLOW_NOT_ACTION);
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}]});
    assert!(!has(&run(deny), codes::ALLOW_NOT_ACTION));
}

#[test]
fn allow_not_resource() {
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"}]});
    assert_code(&run(doc), codes::ALLOW_NOT_RESOURCE);
}

#[test]
fn resource_star() {
    let f = run(allow(json!("s3:GetObject"), json!("*")));
    assert_code(&f, codes::RESOURCE_STAR);
    let f = run(allow(json!("s3:Get*"), json!("*")));
    assert_code(&f, codes::RESOURCE_STAR);
    // Fine for actions without resource-level permissions.
    assert!(run(allow(json!("s3:ListAllMyBuckets"), json!("*"))).is_empty());
}

#[test]
fn model_extra_actions_is_reserved_for_the_model_comparison() {
    // The validator never emits it on its own; the model/rules comparison does.
    assert_eq!(
        codes::severity(codes::MODEL_EXTRA_ACTIONS),
        Severity::Security
    );
    let f = run(allow(json!("*"), json!("*")));
    assert!(!has(&f, codes::MODEL_EXTRA_ACTIONS));
}

// ---- issue 10: what an ARN pattern reaches ----

/// Findings with `code` on `resource`.
fn on(findings: &[Finding], code: &str, resource: &str) -> bool {
    findings
        .iter()
        .any(|f| f.code == code && f.resource.as_deref() == Some(resource))
}

#[test]
fn patterns_that_reach_every_resource_are_resource_star() {
    let cases: &[(&str, &str)] = &[
        ("iam:PassRole", "arn:aws:iam::*:role/**"),
        ("iam:PassRole", "arn:aws:iam::123456789012:role*"),
        ("iam:PassRole", "arn:aws:iam::123456789012:r*"),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/?*"),
        ("iam:PassRole", "arn:aws:iam::123456789012:*"),
        ("s3:GetObject", "arn:*:*:*:*:*"),
        ("s3:GetObject", "arn:aws:s3:::*/*"),
        ("s3:GetObject", "arn:aws:s3:::*"),
        ("s3:ListBucket", "arn:aws:s3:::*"),
        (
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:*:*:secret:*",
        ),
        (
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
        ),
        (
            "ssm:GetParameter",
            "arn:aws:ssm:us-east-1:123456789012:parameter/*",
        ),
        ("lambda:UpdateFunctionCode", "arn:aws:lambda:*:*:function:*"),
        ("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/*"),
        (
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:123456789012:table/*",
        ),
        ("ec2:StopInstances", "arn:aws:ec2:*:*:instance/*"),
    ];
    for (action, resource) in cases {
        let f = run(allow(json!(action), json!(resource)));
        assert!(
            on(&f, codes::RESOURCE_STAR, resource),
            "{action} on {resource}: {f:#?}"
        );
        assert!(needs_ack(&f));
    }
    // Through an action wildcard too: one finding for the pattern.
    let f = run(allow(json!("s3:Get*"), json!("arn:aws:s3:::*/*")));
    assert!(on(&f, codes::RESOURCE_STAR, "arn:aws:s3:::*/*"), "{f:#?}");
}

#[test]
fn confined_patterns_are_not_resource_star() {
    for (action, resource) in [
        ("s3:GetObject", "arn:aws:s3:::my-data/*"),
        ("s3:GetObject", "arn:aws:s3:::my-*/reports/*"),
        ("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"),
        (
            "iam:GetUser",
            "arn:aws:iam::123456789012:user/${aws:username}",
        ),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/app-*"),
        (
            "iam:PassRole",
            "arn:aws:iam::123456789012:role/service-role/?",
        ),
        (
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????",
        ),
        (
            "logs:GetLogEvents",
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:log-stream:*",
        ),
    ] {
        let f = run(allow(json!(action), json!(resource)));
        assert!(
            !has(&f, codes::RESOURCE_STAR),
            "{action} on {resource}: {f:#?}"
        );
    }
}

// ---- security review (branch `review`, tests/review_findings.rs): names have shapes ----

/// Patterns that reach every resource of a type in practice: S3 bucket names are at least
/// 3 characters, every secret ARN ends in `-` + 6 characters, every KMS key id holds a
/// `-`, every snapshot id starts with `snap-`, every instance id with `i-`.
#[test]
fn patterns_that_reach_every_bucket_secret_or_key_are_findings() {
    let cases: &[(Value, &str)] = &[
        (
            json!(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
            "arn:aws:s3:::???*/*",
        ),
        (
            json!("secretsmanager:GetSecretValue"),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:*-??????",
        ),
        (
            json!("kms:Decrypt"),
            "arn:aws:kms:us-east-1:123456789012:key/*-*",
        ),
        (
            json!(["ebs:GetSnapshotBlock", "ebs:ListSnapshotBlocks"]),
            "arn:aws:ec2:us-east-1::snapshot/snap-*",
        ),
        (
            json!("ec2:RebootInstances"),
            "arn:aws:ec2:us-east-1:123456789012:instance/i-*",
        ),
    ];
    for (actions, resource) in cases {
        let f = run(allow(actions.clone(), json!(resource)));
        assert!(on(&f, codes::RESOURCE_STAR, resource), "{resource}: {f:#?}");
        assert!(needs_ack(&f));
    }
    // What each exposes is judged at that breadth too.
    let f = run(allow(
        json!("secretsmanager:GetSecretValue"),
        json!("arn:aws:secretsmanager:us-east-1:123456789012:secret:*-??????"),
    ));
    assert!(flags(
        &f,
        codes::CREDENTIALS_EXPOSURE,
        "secretsmanager:GetSecretValue"
    ));
    let f = run(allow(json!("s3:GetObject"), json!("arn:aws:s3:::???*/*")));
    assert!(flags(&f, codes::DATA_EXFILTRATION, "s3:GetObject"));
}

/// Shapes narrow nothing that was named: prefixes of real names stay confined.
#[test]
fn prefixes_inside_a_shape_are_confined() {
    for (action, resource) in [
        ("s3:GetObject", "arn:aws:s3:::????*/*"),
        ("s3:GetObject", "arn:aws:s3:::a*/*"),
        (
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/*-??????",
        ),
        (
            "kms:Decrypt",
            "arn:aws:kms:us-east-1:123456789012:key/????????-*",
        ),
        (
            "ec2:RebootInstances",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc*",
        ),
    ] {
        let f = run(allow(json!(action), json!(resource)));
        assert!(
            !has(&f, codes::RESOURCE_STAR),
            "{action} on {resource}: {f:#?}"
        );
    }
}

/// The union of a statement's patterns is judged, not each alone: every bucket name
/// holds a letter or a digit.
#[test]
fn patterns_that_together_reach_every_resource_are_resource_star() {
    let every: Vec<String> = ('a'..='z')
        .chain('0'..='9')
        .map(|c| format!("arn:aws:s3:::*{c}*/*"))
        .collect();
    let f = run(allow(json!("s3:GetObject"), json!(every)));
    assert!(flags(&f, codes::RESOURCE_STAR, "s3:GetObject"), "{f:#?}");
    assert!(
        flags(&f, codes::DATA_EXFILTRATION, "s3:GetObject"),
        "{f:#?}"
    );
    // Every hex digit after `i-`.
    let hex: Vec<String> = "0123456789abcdef"
        .chars()
        .map(|c| format!("arn:aws:ec2:us-east-1:123456789012:instance/i-{c}*"))
        .collect();
    let f = run(allow(json!("ec2:GetPasswordData"), json!(hex)));
    assert!(
        flags(&f, codes::RESOURCE_STAR, "ec2:GetPasswordData"),
        "{f:#?}"
    );
    assert!(flags(
        &f,
        codes::CREDENTIALS_EXPOSURE,
        "ec2:GetPasswordData"
    ));
    // Through an action wildcard: one finding for the pattern.
    let f = run(allow(json!("s3:Get*"), json!(every)));
    assert!(flags(&f, codes::RESOURCE_STAR, "s3:Get*"), "{f:#?}");
    // Split over statements, they still add up (the finding names no statement).
    let (first, rest) = every.split_at(10);
    let f = run(policy(vec![
        json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": first}),
        json!({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": rest}),
    ]));
    assert!(
        f.iter().any(|x| x.code == codes::RESOURCE_STAR
            && x.statement.is_none()
            && x.action.as_deref() == Some("s3:GetObject")),
        "{f:#?}"
    );
    assert!(
        flags(&f, codes::DATA_EXFILTRATION, "s3:GetObject"),
        "{f:#?}"
    );
    assert!(!flags(&f, codes::RESOURCE_STAR, "s3:PutObject"), "{f:#?}");
    // One letter short is not every bucket (`qqq`); several named prefixes are confined.
    let short: Vec<&String> = every.iter().filter(|p| !p.contains("*q*")).collect();
    assert!(!has(
        &run(allow(json!("s3:GetObject"), json!(short))),
        codes::RESOURCE_STAR
    ));
    let named = json!([
        "arn:aws:s3:::reports-*/*",
        "arn:aws:s3:::logs-*/*",
        "arn:aws:s3:::my-data/*"
    ]);
    assert!(!has(
        &run(allow(json!("s3:GetObject"), named)),
        codes::RESOURCE_STAR
    ));
}

/// Policy variables the caller sets (an HTTP header, a request tag) are wildcards; those
/// bound to the caller's own identity name one resource per caller.
#[test]
fn caller_controlled_policy_variables_in_resources_are_findings() {
    for (actions, resource) in [
        (
            json!(["s3:GetObject", "s3:PutObject"]),
            "arn:aws:s3:::${aws:UserAgent}/*",
        ),
        (
            json!("secretsmanager:GetSecretValue"),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:${aws:Referer}",
        ),
        (
            json!("s3:GetObject"),
            "arn:aws:s3:::${aws:RequestTag/bucket}/*",
        ),
    ] {
        let f = run(allow(actions, json!(resource)));
        assert!(on(&f, codes::RESOURCE_STAR, resource), "{resource}: {f:#?}");
        assert!(needs_ack(&f));
    }
    for resource in [
        "arn:aws:s3:::home-${aws:username}/*",
        "arn:aws:s3:::team-${aws:PrincipalTag/team}/*",
        "arn:aws:s3:::${cognito-identity.amazonaws.com:sub}/*",
    ] {
        let f = run(allow(json!("s3:GetObject"), json!(resource)));
        assert!(!has(&f, codes::RESOURCE_STAR), "{resource}: {f:#?}");
    }
}

#[test]
fn wildcard_account_region() {
    let f = run(allow(
        json!("dynamodb:GetItem"),
        json!("arn:aws:dynamodb:*:123456789012:table/Orders"),
    ));
    assert_code(&f, codes::WILDCARD_ACCOUNT_REGION);
    assert!(!has(&f, codes::RESOURCE_STAR), "{f:#?}");
    assert!(!blocking(&f) && !needs_ack(&f), "{f:#?}");
    let f = run(allow(
        json!(["ec2:StartInstances", "ec2:StopInstances"]),
        json!("arn:aws:ec2:*:*:instance/i-0123456789abcdef0"),
    ));
    assert_code(&f, codes::WILDCARD_ACCOUNT_REGION);
    // S3 ARNs have no account or region: nothing to say.
    assert!(!has(
        &run(allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"))),
        codes::WILDCARD_ACCOUNT_REGION
    ));
}

#[test]
fn assume_role_on_patterns() {
    for r in [
        "arn:aws:iam::*:role/**",
        "arn:aws:iam::123456789012:role*",
        "arn:aws:iam::123456789012:r*",
        "arn:aws:iam::123456789012:role/?*",
        "arn:*:*:*:*:*",
        // One role name in every account: OrganizationAccountAccessRole is everywhere.
        "arn:aws:iam::*:role/OrganizationAccountAccessRole",
    ] {
        let f = run(allow(json!("sts:AssumeRole"), json!(r)));
        assert!(on(&f, codes::ASSUME_ANY_ROLE, r), "{r}: {f:#?}");
    }
    // Mixed case in the action does not hide it either.
    let f = run(allow(
        json!("STS:assumeROLE"),
        json!("arn:aws:iam::123456789012:role/*"),
    ));
    assert_code(&f, codes::ASSUME_ANY_ROLE);
}

// ---- issue 10: escalation without PassRole, PassRole combinations, evasion, exposure ----

/// One named ARN for each resource type the action accepts (`"*"` when it has none), so
/// the policy is as narrow as it can be and only the action itself is in question.
fn named(action: &str) -> Value {
    let (svc, a) = aws_jit::policy::catalog::action(action).expect("in the catalog");
    let types = svc.action_resource_types(a);
    if types.is_empty() {
        return json!("*");
    }
    let arns: Vec<String> = types
        .iter()
        .map(|t| {
            aws_jit::policy::arn::fill(
                &t.arn,
                Some("us-east-1"),
                Some("123456789012"),
                &["named1", "named2", "named3", "named4", "named5"],
            )
        })
        .collect();
    json!(arns)
}

fn narrow(action: &str) -> Value {
    json!({"Effect": "Allow", "Action": action, "Resource": named(action)})
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn flags(findings: &[Finding], code: &str, action: &str) -> bool {
    findings
        .iter()
        .any(|f| f.code == code && f.action.as_deref() == Some(action))
}

#[test]
fn escalation_without_passrole_on_named_resources() {
    for a in [
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "glue:UpdateDevEndpoint",
        "ssm:SendCommand",
        "ssm:StartSession",
        "ecs:ExecuteCommand",
        "ec2-instance-connect:SendSSHPublicKey",
        "ec2:ModifyInstanceAttribute",
        "sagemaker:CreatePresignedNotebookInstanceUrl",
        "cloudformation:UpdateStack",
        "cloudformation:CreateStack",
        "cloudformation:SetStackPolicy",
        "codebuild:StartBuild",
        "codebuild:UpdateProject",
        "iam:UpdateAssumeRolePolicy",
        "iam:TagUser",
        "iam:TagRole",
        "sts:GetFederationToken",
        "identitystore:CreateGroupMembership",
        "sso:CreateAccountAssignment",
        "sso:DeleteAccountAssignment",
    ] {
        let f = run(policy(vec![narrow(a)]));
        assert!(flags(&f, codes::PRIVILEGE_ESCALATION, a), "{a}: {f:#?}");
        assert!(!blocking(&f), "{a} is a valid policy: {f:#?}");
    }
    // Combinations, across statements.
    let f = run(policy(vec![
        narrow("codestar:CreateProject"),
        narrow("codestar:AssociateTeamMember"),
    ]));
    assert!(
        flags(
            &f,
            codes::PRIVILEGE_ESCALATION,
            "codestar:CreateProject+codestar:AssociateTeamMember"
        ),
        "{f:#?}"
    );
}

#[test]
fn passrole_with_every_service_that_runs_a_passed_role() {
    for target in [
        "elasticmapreduce:RunJobFlow",
        "apprunner:CreateService",
        "scheduler:CreateSchedule",
        "ecs:CreateService",
        "ecs:RunTask",
        "batch:SubmitJob",
        "states:CreateStateMachine",
        "sagemaker:CreateTrainingJob",
        "codestar:CreateProject",
        "datapipeline:CreatePipeline",
        "events:PutTargets",
        "lambda:CreateFunction",
    ] {
        // PassRole on one named role, in another statement than the target.
        let f = run(policy(vec![
            json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/app"}),
            narrow(target),
        ]));
        assert!(
            flags(
                &f,
                codes::PASSROLE_ESCALATION,
                &format!("iam:PassRole+{target}")
            ),
            "{target}: {f:#?}"
        );
    }
    // Through a wildcard and mixed case.
    let f = run(policy(vec![
        json!({"Effect": "Allow", "Action": "IAM:pass*", "Resource": "arn:aws:iam::123456789012:role/app"}),
        narrow("ec2:RunInstances"),
    ]));
    assert!(
        flags(
            &f,
            codes::PASSROLE_ESCALATION,
            "iam:PassRole+ec2:RunInstances"
        ),
        "{f:#?}"
    );
    // NotAction grants both: one summary for the statement.
    let f = run(policy(vec![
        json!({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}),
    ]));
    assert!(flags(&f, codes::PASSROLE_ESCALATION, "NotAction"), "{f:#?}");
    assert!(
        flags(&f, codes::PRIVILEGE_ESCALATION, "NotAction"),
        "{f:#?}"
    );
    // A Deny on "*" takes PassRole away.
    let f = run(policy(vec![
        json!({"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}),
        json!({"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}),
    ]));
    assert!(!has(&f, codes::PASSROLE_ESCALATION), "{f:#?}");
}

#[test]
fn defense_evasion() {
    for a in [
        "organizations:DetachPolicy",
        "organizations:DeletePolicy",
        "organizations:UpdatePolicy",
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors",
        "guardduty:DeleteDetector",
        "guardduty:UpdateDetector",
        "config:StopConfigurationRecorder",
        "iam:DeactivateMFADevice",
        "iam:DeleteRolePermissionsBoundary",
    ] {
        let f = run(policy(vec![narrow(a)]));
        assert!(flags(&f, codes::DEFENSE_EVASION, a), "{a}: {f:#?}");
        assert!(needs_ack(&f));
    }
    let f = run(allow(json!("*"), json!("*")));
    assert!(flags(&f, codes::DEFENSE_EVASION, "*"), "{f:#?}");
}

#[test]
fn credentials_exposure_at_breadth() {
    let cases: &[(&str, &str)] = &[
        (
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:*:*:secret:*",
        ),
        (
            "ssm:GetParameter",
            "arn:aws:ssm:us-east-1:123456789012:parameter/*",
        ),
        ("ssm:GetParametersByPath", "arn:aws:ssm:*:*:*"),
        ("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/*"),
        (
            "redshift:GetClusterCredentials",
            "arn:aws:redshift:us-east-1:123456789012:dbuser:*/*",
        ),
        (
            "ec2:GetPasswordData",
            "arn:aws:ec2:us-east-1:123456789012:instance/*",
        ),
        (
            "lambda:GetFunction",
            "arn:aws:lambda:us-east-1:123456789012:function:*",
        ),
        ("secretsmanager:GetSecretValue", "*"),
    ];
    for (action, resource) in cases {
        let f = run(allow(json!(action), json!(resource)));
        assert!(
            flags(&f, codes::CREDENTIALS_EXPOSURE, action),
            "{action} on {resource}: {f:#?}"
        );
    }
    // Every object of every bucket.
    let f = run(allow(json!("s3:GetObject"), json!("arn:aws:s3:::*/*")));
    assert!(
        flags(&f, codes::DATA_EXFILTRATION, "s3:GetObject"),
        "{f:#?}"
    );
    // A registry token with pulls on every repository.
    let f = run(policy(vec![
        json!({"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}),
        json!({"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
               "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/*"}),
    ]));
    assert_code(&f, codes::CREDENTIALS_EXPOSURE);
    // Named: a warning the approver sees, nothing to acknowledge.
    let f = run(allow(
        json!("secretsmanager:GetSecretValue"),
        json!("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"),
    ));
    assert_code(&f, codes::RETURNS_CREDENTIALS);
    assert!(!needs_ack(&f), "{f:#?}");
    let f = run(allow(
        json!("sts:AssumeRole"),
        json!("arn:aws:iam::123456789012:role/reader"),
    ));
    assert_code(&f, codes::RETURNS_CREDENTIALS);
    assert!(!needs_ack(&f), "{f:#?}");
}

// ---- issue 10: conditions against the catalog ----

fn with_condition(action: &str, resource: &str, condition: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": action, "Resource": resource, "Condition": condition}]})
}

fn cond(condition: Value) -> Vec<Finding> {
    run(with_condition(
        "s3:GetObject",
        "arn:aws:s3:::b/*",
        condition,
    ))
}

#[test]
fn conditions_that_are_right_have_no_findings() {
    for (action, resource, c) in [
        (
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            json!({"DateGreaterThan": {"aws:EpochTime": "1735689600"}}),
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}),
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            json!({"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}),
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            json!({"Bool": {"aws:MultiFactorAuthPresent": true}}),
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/app-*"}}),
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            json!({"Null": {"aws:TokenIssueTime": "true"}}),
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            json!({"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}}),
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            json!({"ForAnyValue:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}}),
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            json!({"StringEquals": {"s3:ExistingObjectTag/team": "data"}}),
        ),
        (
            "s3:ListBucket",
            "arn:aws:s3:::b",
            json!({"StringLike": {"S3:Prefix": ["home/${aws:username}/*"]}}),
        ),
        (
            "iam:PassRole",
            "arn:aws:iam::123456789012:role/app",
            json!({"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
        ),
        (
            "sts:AssumeRoleWithSAML",
            "arn:aws:iam::123456789012:role/app",
            json!({"StringEquals": {"saml:aud": "https://signin.aws.amazon.com/saml"}}),
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            json!({"ArnEquals": {"ec2:SourceInstanceArn": "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"}}),
        ),
    ] {
        let f = run(with_condition(action, resource, c.clone()));
        let cond_findings: Vec<&Finding> = f
            .iter()
            .filter(|x| x.code.as_str().starts_with("condition") || x.code == codes::MFA_CONDITION)
            .collect();
        assert!(cond_findings.is_empty(), "{c}: {f:#?}");
    }
}

#[test]
fn condition_key() {
    let f = cond(json!({"IpAddress": {"aws:SourceIpp": "203.0.113.0/24"}}));
    assert_code(&f, codes::CONDITION_KEY);
    assert!(blocking(&f));
    assert!(
        f.iter()
            .any(|x| x.message.contains("did you mean aws:SourceIp")),
        "{f:#?}"
    );
    let f = run(with_condition(
        "s3:ListBucket",
        "arn:aws:s3:::b",
        json!({"StringLike": {"s3:prefixx": "home/*"}}),
    ));
    assert_code(&f, codes::CONDITION_KEY);
    assert!(
        f.iter()
            .any(|x| x.message.contains("did you mean s3:prefix")),
        "{f:#?}"
    );
    assert_code(
        &cond(json!({"StringEquals": {"nosuchservice:Key": "x"}})),
        codes::CONDITION_KEY,
    );
}

#[test]
fn condition_key_not_applicable() {
    // s3:prefix is in ListBucket's request, never in GetObject's.
    let f = run(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        "Condition": {"StringLike": {"s3:prefix": "home/*"}}}]}),
    );
    assert_code(&f, codes::CONDITION_KEY_NOT_APPLICABLE);
    let w = f
        .iter()
        .find(|x| x.code == codes::CONDITION_KEY_NOT_APPLICABLE)
        .expect("present");
    assert!(
        w.message.contains("s3:GetObject") && !w.message.contains("s3:ListBucket"),
        "{w:#?}"
    );
    assert!(!blocking(&f));
}

#[test]
fn condition_type() {
    for c in [
        json!({"NumericLessThan": {"aws:SourceIp": "10"}}),
        json!({"DateGreaterThan": {"aws:username": "2025-01-01"}}),
        json!({"Bool": {"aws:SourceIp": "true"}}),
        json!({"StringEquals": {"aws:MultiFactorAuthAge": "3600"}}),
        json!({"IpAddress": {"aws:username": "10.0.0.0/8"}}),
    ] {
        let f = cond(c.clone());
        assert!(has(&f, codes::CONDITION_TYPE), "{c}: {f:#?}");
        assert!(blocking(&f));
    }
}

#[test]
fn condition_value() {
    for c in [
        json!({"DateGreaterThan": {"aws:CurrentTime": "yesterday"}}),
        json!({"DateLessThan": {"aws:CurrentTime": "2025-13-01T00:00:00Z"}}),
        json!({"NumericLessThan": {"aws:MultiFactorAuthAge": "an hour"}}),
        json!({"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}),
        json!({"Bool": {"aws:SecureTransport": "yes"}}),
        json!({"Null": {"aws:TokenIssueTime": "maybe"}}),
        json!({"ArnLike": {"aws:SourceArn": "my-bucket"}}),
    ] {
        let f = cond(c.clone());
        assert!(has(&f, codes::CONDITION_VALUE), "{c}: {f:#?}");
        assert!(blocking(&f));
    }
}

#[test]
fn condition_set_operator() {
    let f = cond(json!({"ForAllValues:StringEquals": {"aws:username": ["alice", "bob"]}}));
    assert_code(&f, codes::CONDITION_SET_OPERATOR);
    let f = run(with_condition(
        "ec2:CreateTags",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0",
        json!({"StringEquals": {"aws:TagKeys": "team"}}),
    ));
    assert_code(&f, codes::CONDITION_SET_OPERATOR);
    assert!(!blocking(&f));
}

#[test]
fn mfa_condition() {
    let f = cond(json!({"Bool": {"aws:MultiFactorAuthPresent": "false"}}));
    assert_code(&f, codes::MFA_CONDITION);
    assert!(!blocking(&f));
    let deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": false}}}]});
    assert_code(&run(deny), codes::MFA_CONDITION);
    // The right pattern is quiet.
    let ok = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]});
    assert!(!has(&run(ok), codes::MFA_CONDITION));
    assert!(!has(
        &cond(json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})),
        codes::MFA_CONDITION
    ));
    // Security review: in an Allow, IfExists lets long-term keys (no key at all) through.
    for value in ["false", "true"] {
        let f = cond(json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": value}}));
        assert_code(&f, codes::MFA_CONDITION);
    }
}

// ---- warnings ----

#[test]
fn redundant_action() {
    let f = run(allow(
        json!(["s3:GetObject", "s3:GetObject"]),
        json!("arn:aws:s3:::b/*"),
    ));
    assert_code(&f, codes::REDUNDANT_ACTION);
    let f = run(allow(
        json!(["s3:GetObject", "s3:GetObj*"]),
        json!("arn:aws:s3:::b/*"),
    ));
    assert_code(&f, codes::REDUNDANT_ACTION);
    assert!(!blocking(&f) && !needs_ack(&f));
}

#[test]
fn missing_dependent_action() {
    let f = run(allow(
        json!("dynamodb:RestoreTableFromBackup"),
        json!([
            "arn:aws:dynamodb:us-east-1:123456789012:table/t",
            "arn:aws:dynamodb:us-east-1:123456789012:table/t/backup/x"
        ]),
    ));
    assert_code(&f, codes::MISSING_DEPENDENT_ACTION);
    assert!(!blocking(&f));
}

#[test]
fn action_wildcard() {
    let f = run(allow(json!("s3:GetObject*"), json!("arn:aws:s3:::b/*")));
    assert_code(&f, codes::ACTION_WILDCARD);
    assert!(f.iter().all(|x| x.severity == Severity::Warning), "{f:#?}");
}

/// An existing permission set is judged by what it holds: the AWS-managed administrator
/// policies are named as such, a policy that could not be read is flagged, the documents
/// are validated, and what AWS already accepted never blocks.
#[test]
fn permission_set_contents() {
    use aws_jit::grant::{PermissionSetContents, PolicyRead};
    let admin = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let contents = PermissionSetContents {
        arn: "arn:aws:sso:::permissionSet/ssoins-1/ps-1".into(),
        name: "Admins".into(),
        managed: vec![PolicyRead {
            reference: "arn:aws:iam::aws:policy/AdministratorAccess".into(),
            document: Some(admin),
            unread: None,
        }],
        customer_managed: vec![PolicyRead {
            reference: "/team/extra".into(),
            document: None,
            unread: Some("AccessDenied".into()),
        }],
        inline: Some(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]}),
        ),
        boundary: None,
    };
    let f = aws_jit::policy::permission_set::judge(&contents, None);
    assert_code(&f, codes::BROAD_MANAGED_POLICY);
    assert_code(&f, codes::POLICY_UNREAD);
    assert!(has(&f, codes::FULL_WILDCARD), "{f:#?}");
    // An unknown action in what AWS holds is a warning here, never blocking.
    assert!(f
        .iter()
        .any(|x| x.code == codes::UNKNOWN_ACTION && x.severity == Severity::Warning));
    assert!(!blocking(&f));
    // ReadOnlyAccess is not an administrator policy.
    let mut read_only = contents.clone();
    read_only.managed[0].reference = "arn:aws:iam::aws:policy/ReadOnlyAccess".into();
    read_only.managed[0].document = Some(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}),
    );
    assert!(!has(
        &aws_jit::policy::permission_set::judge(&read_only, None),
        codes::BROAD_MANAGED_POLICY
    ));
}

#[test]
fn every_code_is_tested_here() {
    let src = include_str!("policy_validate.rs");
    for (code, _) in codes::ALL {
        let konst = code.to_ascii_uppercase().replace('-', "_");
        assert!(
            src.contains(&format!("codes::{konst}")),
            "no test uses {code}"
        );
    }
}

#[test]
fn findings_serialize_to_the_documented_schema() {
    let f = run(allow(json!("s3:GetObject"), json!("*")));
    let v = serde_json::to_value(&f[0]).expect("serialize");
    assert_eq!(v["code"], "resource-star");
    assert_eq!(v["severity"], "security");
    assert_eq!(v["statement"], 0);
    assert_eq!(v["action"], "s3:GetObject");
    assert_eq!(v["resource"], "*");
    assert!(v["message"].is_string() && v["fix"].is_string());
    let back: Finding = serde_json::from_value(v).expect("deserialize");
    assert_eq!(back, f[0]);
}

/// A Create action's own new resource: `ec2:CreateSnapshot` needs `snapshot/*` (the id of
/// the snapshot to be made is not known in advance), which names no existing snapshot.
/// Everything else on such a pattern — tagging, copying, another kind of resource, or a
/// create that changes an existing resource — is still as broad as `"*"`.
#[test]
fn a_create_actions_new_resource_is_not_every_resource() {
    let volume = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0";
    let snapshots = "arn:aws:ec2:us-east-1::snapshot/*";
    let f = run(allow(
        json!("ec2:CreateSnapshot"),
        json!([volume, snapshots]),
    ));
    assert!(!f.iter().any(|x| x.severity == Severity::Security), "{f:?}");
    let f = run(allow(
        json!("rds:CreateDBSnapshot"),
        json!([
            "arn:aws:rds:us-east-1:123456789012:db:billing-db",
            "arn:aws:rds:us-east-1:123456789012:snapshot:*"
        ]),
    ));
    assert!(!f.iter().any(|x| x.severity == Severity::Security), "{f:?}");
    for (action, resource) in [
        ("ec2:CreateTags", snapshots),
        ("ec2:CopySnapshot", snapshots),
        (
            "ec2:CreateSnapshot",
            "arn:aws:ec2:us-east-1:123456789012:volume/*",
        ),
        (
            "iam:CreatePolicyVersion",
            "arn:aws:iam::123456789012:policy/*",
        ),
    ] {
        let f = run(allow(json!(action), json!(resource)));
        assert!(
            f.iter().any(|x| x.severity == Severity::Security),
            "{action} on {resource}: {f:?}"
        );
    }
}
