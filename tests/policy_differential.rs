//! Differential test of the validator against two independent oracles, parliament 1.6.4
//! and cloudsplaining 0.9.1 (issue 10, "How to measure it yourselves").
//!
//! A corpus of a few hundred policies — the Rhino Security Labs methods, the issue's
//! classes, a generated matrix of actions × resource patterns, conditions, grammar
//! errors, plus one policy per method in the peers' own lists (added by the oracle
//! script) — goes through both peers in one Python process, then through our validator.
//!
//! * Rule A: whatever a peer flags as privilege escalation, credentials exposure,
//!   resource exposure, data exfiltration or a bad condition carries a finding of ours.
//! * Rule B: whatever we block (an error), a peer considers broken; whatever we flag as
//!   security, a peer flags too — or the reason it does not is one of the documented
//!   ones below (docs/policy-engine.md, "Differential test").
//!
//! Needs the dev venv's python in JIT_TEST_PYTHON (`make test` sets it); fails without.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use aws_jit::policy::{catalog, codes, validate, AccessLevel, Finding, Severity, ValidateOptions};
use serde_json::{json, Value};

// ---------------------------------------------------------------- the corpus

fn allow(action: Value, resource: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
}

fn statements(sts: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": sts})
}

/// ARNs for the resource types `action` accepts, each variable filled by `value`.
fn arns(action: &str, value: &str, region: &str, account: &str) -> Vec<String> {
    let Some((svc, a)) = catalog::action(action) else {
        return Vec::new();
    };
    svc.action_resource_types(a)
        .iter()
        .map(|t| {
            let vals = [value; 6];
            aws_jit::policy::arn::fill(&t.arn, Some(region), Some(account), &vals)
        })
        .collect()
}

fn named(action: &str) -> Value {
    let a = arns(action, "named", "us-east-1", "123456789012");
    if a.is_empty() {
        json!("*")
    } else {
        json!(a)
    }
}

struct Corpus(Vec<(String, Value)>);

impl Corpus {
    fn add(&mut self, name: impl Into<String>, policy: Value) {
        self.0.push((name.into(), policy));
    }
}

/// Rhino Security Labs' methods (part 1: 21, part 2), as the research writes them (on
/// "*") and narrowed to named resources.
fn rhino(c: &mut Corpus) {
    let methods: &[(&str, &[&str])] = &[
        ("1 CreatePolicyVersion", &["iam:CreatePolicyVersion"]),
        (
            "2 SetDefaultPolicyVersion",
            &["iam:SetDefaultPolicyVersion"],
        ),
        (
            "3 PassRole+RunInstances",
            &["iam:PassRole", "ec2:RunInstances"],
        ),
        ("4 CreateAccessKey", &["iam:CreateAccessKey"]),
        ("5 CreateLoginProfile", &["iam:CreateLoginProfile"]),
        ("6 UpdateLoginProfile", &["iam:UpdateLoginProfile"]),
        ("7 AttachUserPolicy", &["iam:AttachUserPolicy"]),
        ("8 AttachGroupPolicy", &["iam:AttachGroupPolicy"]),
        (
            "9 AttachRolePolicy",
            &["iam:AttachRolePolicy", "sts:AssumeRole"],
        ),
        ("10 PutUserPolicy", &["iam:PutUserPolicy"]),
        ("11 PutGroupPolicy", &["iam:PutGroupPolicy"]),
        ("12 PutRolePolicy", &["iam:PutRolePolicy", "sts:AssumeRole"]),
        ("13 AddUserToGroup", &["iam:AddUserToGroup"]),
        (
            "14 UpdateAssumeRolePolicy",
            &["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"],
        ),
        (
            "15 PassRole+Lambda+Invoke",
            &[
                "iam:PassRole",
                "lambda:CreateFunction",
                "lambda:InvokeFunction",
            ],
        ),
        (
            "16 PassRole+Lambda+EventSource",
            &[
                "iam:PassRole",
                "lambda:CreateFunction",
                "lambda:CreateEventSourceMapping",
            ],
        ),
        ("17 UpdateFunctionCode", &["lambda:UpdateFunctionCode"]),
        (
            "18 PassRole+GlueDevEndpoint",
            &["iam:PassRole", "glue:CreateDevEndpoint"],
        ),
        ("19 UpdateDevEndpoint", &["glue:UpdateDevEndpoint"]),
        (
            "20 PassRole+CloudFormation",
            &["iam:PassRole", "cloudformation:CreateStack"],
        ),
        (
            "21 PassRole+DataPipeline",
            &[
                "iam:PassRole",
                "datapipeline:CreatePipeline",
                "datapipeline:PutPipelineDefinition",
            ],
        ),
        (
            "p2 PassRole+CodeStar",
            &["iam:PassRole", "codestar:CreateProject"],
        ),
        (
            "p2 CodeStar+AssociateTeamMember",
            &["codestar:CreateProject", "codestar:AssociateTeamMember"],
        ),
        (
            "p2 UpdateFunctionConfiguration",
            &["lambda:UpdateFunctionConfiguration"],
        ),
        (
            "p2 PassRole+SageMakerNotebook",
            &[
                "iam:PassRole",
                "sagemaker:CreateNotebookInstance",
                "sagemaker:CreatePresignedNotebookInstanceUrl",
            ],
        ),
        (
            "p2 PresignedNotebookUrl",
            &["sagemaker:CreatePresignedNotebookInstanceUrl"],
        ),
    ];
    for (name, actions) in methods {
        c.add(
            format!("rhino {name} on *"),
            allow(json!(actions), json!("*")),
        );
        // Narrowed: each action on its own named resources, in its own statement.
        let sts = actions
            .iter()
            .map(|a| json!({"Effect": "Allow", "Action": a, "Resource": named(a)}))
            .collect();
        c.add(format!("rhino {name} named"), statements(sts));
    }
}

/// Issue 10's classes on named resources (they passed with no finding before).
fn issue_classes(c: &mut Corpus) {
    for a in aws_jit::policy::ESCALATION_ACTIONS {
        c.add(format!("escalation {a} named"), allow(json!(a), named(a)));
    }
    for t in aws_jit::policy::PASSROLE_TARGETS {
        c.add(
            format!("passrole+{t} across statements"),
            statements(vec![
                json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/app"}),
                json!({"Effect": "Allow", "Action": t, "Resource": named(t)}),
            ]),
        );
    }
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
        c.add(format!("evasion {a} named"), allow(json!(a), named(a)));
    }
}

/// Actions × resource patterns: "*", named, every resource of the type, a prefix, and a
/// named resource in any account and region.
fn matrix(c: &mut Corpus) {
    let actions = [
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "s3:PutBucketPolicy",
        "s3:DeleteObject",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutResourcePolicy",
        "ssm:GetParameter",
        "ssm:GetParametersByPath",
        "ssm:SendCommand",
        "kms:Decrypt",
        "kms:CreateGrant",
        "lambda:GetFunction",
        "lambda:InvokeFunction",
        "lambda:UpdateFunctionCode",
        "lambda:AddPermission",
        "dynamodb:GetItem",
        "dynamodb:Scan",
        "dynamodb:PutItem",
        "ec2:StartInstances",
        "ec2:GetPasswordData",
        "ec2:ModifyInstanceAttribute",
        "iam:PassRole",
        "iam:GetRole",
        "iam:CreateAccessKey",
        "iam:TagRole",
        "sts:AssumeRole",
        "logs:GetLogEvents",
        "logs:DeleteLogGroup",
        "sqs:SendMessage",
        "sqs:SetQueueAttributes",
        "sns:Publish",
        "ecr:BatchGetImage",
        "rds:CreateDBSnapshot",
        "rds-db:connect",
        "redshift:GetClusterCredentials",
        "cloudtrail:StopLogging",
        "glue:UpdateDevEndpoint",
        "codebuild:StartBuild",
        "states:StartExecution",
    ];
    for a in actions {
        c.add(format!("matrix {a} on *"), allow(json!(a), json!("*")));
        if !arns(a, "x", "us-east-1", "1").is_empty() {
            c.add(format!("matrix {a} named"), allow(json!(a), named(a)));
            c.add(
                format!("matrix {a} every"),
                allow(json!(a), json!(arns(a, "*", "us-east-1", "123456789012"))),
            );
            c.add(
                format!("matrix {a} prefix"),
                allow(
                    json!(a),
                    json!(arns(a, "app-*", "us-east-1", "123456789012")),
                ),
            );
            c.add(
                format!("matrix {a} any account"),
                allow(json!(a), json!(arns(a, "named", "*", "*"))),
            );
        }
    }
    // Wildcards in every position (issue 10, item 1).
    for (a, r) in [
        ("iam:PassRole", "arn:aws:iam::*:role/**"),
        ("iam:PassRole", "arn:aws:iam::123456789012:role*"),
        ("iam:PassRole", "arn:aws:iam::123456789012:r*"),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/?*"),
        ("sts:AssumeRole", "arn:aws:iam::*:role/**"),
        ("sts:AssumeRole", "arn:aws:iam::123456789012:role/?*"),
        (
            "sts:AssumeRole",
            "arn:aws:iam::*:role/OrganizationAccountAccessRole",
        ),
        ("s3:GetObject", "arn:*:*:*:*:*"),
        ("s3:GetObject", "arn:aws:s3:::*/*"),
        ("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"),
        (
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:*:*:secret:*",
        ),
        ("lambda:UpdateFunctionCode", "arn:aws:lambda:*:*:function:*"),
        (
            "iam:CreateAccessKey",
            "arn:aws:iam::123456789012:user/${aws:username}",
        ),
        ("s3:GetObject", "arn:aws:S3:::b/*"),
        ("IAM:PassRole", "arn:aws:iam::123456789012:role/app"),
    ] {
        c.add(format!("wildcard {a} on {r}"), allow(json!(a), json!(r)));
    }
    // Action wildcards, NotAction, NotResource, everything.
    for (name, p) in [
        ("iam:*", allow(json!("iam:*"), json!("*"))),
        ("s3:Get*", allow(json!("s3:Get*"), json!("*"))),
        (
            "s3:*Object",
            allow(json!("s3:*Object"), json!("arn:aws:s3:::b/*")),
        ),
        ("ec2:*", allow(json!("ec2:*"), json!("*"))),
        ("ssm:Get*", allow(json!("ssm:GetParam*"), json!("*"))),
        ("*", allow(json!("*"), json!("*"))),
        (
            "NotAction iam",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
        ),
        (
            "NotResource",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"}]}),
        ),
        (
            "deny cancels passrole",
            statements(vec![
                json!({"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}),
                json!({"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}),
            ]),
        ),
        (
            "ecr token + pull every repo",
            statements(vec![
                json!({"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}),
                json!({"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/*"}),
            ]),
        ),
        (
            "bucket next to objects",
            allow(
                json!(["s3:PutObject", "s3:PutObjectAcl"]),
                json!(["arn:aws:s3:::b", "arn:aws:s3:::b/*"]),
            ),
        ),
    ] {
        c.add(format!("pattern {name}"), p);
    }
}

/// Conditions: right ones, and each kind of wrong one, in Allow statements.
fn conditions(c: &mut Corpus) {
    let get = ("s3:GetObject", json!("arn:aws:s3:::b/*"));
    let list = ("s3:ListBucket", json!("arn:aws:s3:::b"));
    let blocks = [
        (
            "ok region",
            json!({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}),
        ),
        (
            "ok ip",
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        ),
        (
            "ok date",
            json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
        ),
        (
            "ok mfa",
            json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
        ),
        (
            "ok mfa age",
            json!({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}),
        ),
        (
            "ok principal tag",
            json!({"StringEquals": {"aws:PrincipalTag/team": "data"}}),
        ),
        (
            "ok tagkeys",
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}),
        ),
        ("ok null", json!({"Null": {"aws:TokenIssueTime": "true"}})),
        (
            "ok arn",
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/app-*"}}),
        ),
        (
            "misspelt global",
            json!({"IpAddress": {"aws:SourceIpp": "203.0.113.0/24"}}),
        ),
        (
            "misspelt service",
            json!({"StringLike": {"s3:prefixx": "home/*"}}),
        ),
        (
            "unknown operator",
            json!({"StringEqualz": {"aws:username": "bob"}}),
        ),
        (
            "numeric on ip",
            json!({"NumericLessThan": {"aws:SourceIp": "10"}}),
        ),
        (
            "date on string",
            json!({"DateGreaterThan": {"aws:username": "2025-01-01T00:00:00Z"}}),
        ),
        ("bool on ip", json!({"Bool": {"aws:SourceIp": "true"}})),
        (
            "string on numeric",
            json!({"StringEquals": {"aws:MultiFactorAuthAge": "3600"}}),
        ),
        (
            "bad date",
            json!({"DateGreaterThan": {"aws:CurrentTime": "yesterday"}}),
        ),
        (
            "bad number",
            json!({"NumericLessThan": {"aws:MultiFactorAuthAge": "an hour"}}),
        ),
        (
            "bad ip",
            json!({"IpAddress": {"aws:SourceIp": "10.0.0.300"}}),
        ),
        ("bad bool", json!({"Bool": {"aws:SecureTransport": "yes"}})),
        ("bad null", json!({"Null": {"aws:TokenIssueTime": "maybe"}})),
        (
            "mfa false",
            json!({"Bool": {"aws:MultiFactorAuthPresent": "false"}}),
        ),
        (
            "forall single",
            json!({"ForAllValues:StringEquals": {"aws:username": ["a", "b"]}}),
        ),
        (
            "prefix on getobject",
            json!({"StringLike": {"s3:prefix": "home/*"}}),
        ),
        (
            "prefix on listbucket",
            json!({"StringLike": {"s3:prefix": "home/*"}}),
        ),
    ];
    for (name, block) in blocks {
        let (a, r) = if name == "prefix on listbucket" {
            &list
        } else {
            &get
        };
        c.add(
            format!("condition {name}"),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": a, "Resource": r, "Condition": block}]}),
        );
    }
}

/// Grammar and catalog errors.
fn grammar(c: &mut Corpus) {
    let base = || allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"));
    let mut edit = |name: &str, f: &dyn Fn(&mut Value)| {
        let mut p = base();
        f(&mut p);
        c.add(format!("grammar {name}"), p);
    };
    edit("version", &|p| p["Version"] = json!("2020-01-01"));
    edit("effect", &|p| p["Statement"][0]["Effect"] = json!("allow"));
    edit("sid", &|p| p["Statement"][0]["Sid"] = json!("has spaces"));
    edit("unknown element", &|p| {
        p["Statement"][0]["Actions"] = json!("s3:GetObject")
    });
    edit("unknown action", &|p| {
        p["Statement"][0]["Action"] = json!("s3:GetObjectt")
    });
    edit("unknown service", &|p| {
        p["Statement"][0]["Action"] = json!("s4:GetObject")
    });
    edit("no match glob", &|p| {
        p["Statement"][0]["Action"] = json!("s3:Frob*")
    });
    edit("bad arn", &|p| {
        p["Statement"][0]["Resource"] = json!("arn:aws:s3")
    });
    edit("s3 uri", &|p| {
        p["Statement"][0]["Resource"] = json!("s3://b/*")
    });
    edit("mismatch", &|p| {
        p["Statement"][0]["Resource"] = json!("arn:aws:s3:::b")
    });
    edit("wrong service arn", &|p| {
        p["Statement"][0]["Resource"] = json!("arn:aws:sqs:us-east-1:123456789012:q")
    });
    edit("no resource", &|p| {
        if let Some(o) = p["Statement"][0].as_object_mut() {
            o.remove("Resource");
        }
    });
    edit("both actions", &|p| {
        p["Statement"][0]["NotAction"] = json!("s3:PutObject")
    });
    c.add(
        "grammar resource-less on arn",
        allow(json!("s3:ListAllMyBuckets"), json!("arn:aws:s3:::b")),
    );
}

fn corpus() -> Vec<(String, Value)> {
    let mut c = Corpus(Vec::new());
    rhino(&mut c);
    issue_classes(&mut c);
    matrix(&mut c);
    conditions(&mut c);
    grammar(&mut c);
    c.0
}

// ---------------------------------------------------------------- the oracles

fn oracles(corpus: &[(String, Value)]) -> Vec<Value> {
    let python = std::env::var("JIT_TEST_PYTHON").expect(
        "JIT_TEST_PYTHON is not set: run the tests with `make test`, which points it at the dev venv (parliament, cloudsplaining)",
    );
    let dir = std::env::temp_dir().join(format!("aws-jit-differential-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let input = dir.join("corpus.json");
    let output = dir.join("oracles.json");
    let policies: Vec<Value> = corpus
        .iter()
        .map(|(n, p)| json!({"name": n, "policy": p}))
        .collect();
    std::fs::write(&input, json!({"policies": policies}).to_string()).expect("write corpus");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/differential/oracles.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(&input)
        .arg(&output)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        out.status.success(),
        "the oracles failed (is parliament 1.6.4 and cloudsplaining 0.9.1 installed for {python}?):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&output).expect("oracle output");
    let _ = std::fs::remove_dir_all(&dir);
    let v: Value = serde_json::from_str(&text).expect("oracle output is JSON");
    v["results"].as_array().cloned().expect("results")
}

// ---------------------------------------------------------------- the rules

/// What a peer said about one policy, by category.
#[derive(Default, Debug)]
struct Peers {
    /// Lowercase actions a peer names in each category; a method counts when any of its
    /// actions is covered by a finding of ours.
    escalation: Vec<Vec<String>>,
    credentials: Vec<String>,
    resource_exposure: Vec<String>,
    data_exfiltration: Vec<String>,
    /// parliament's condition findings.
    bad_condition: Vec<String>,
    /// Any parliament issue that says the policy is broken, or a peer crashed on it.
    broken: Vec<String>,
    /// Any security concern at all (for rule B).
    security: bool,
    parliament_ran: bool,
}

const PARLIAMENT_BROKEN: &[&str] = &[
    "MALFORMED",
    "MALFORMED_JSON",
    "EXCEPTION",
    "CRASH",
    "INVALID_SID",
    "INVALID_ARN",
    "INVALID_VERSION",
    "UNKNOWN_ACTION",
    "UNKNOWN_PREFIX",
    "RESOURCE_MISMATCH",
    "DUPLICATE_SID",
    "UNKNOWN_OPERATOR",
    "MISMATCHED_TYPE",
    "MISMATCHED_TYPE_OPERATION_TO_NULL",
    "UNKNOWN_CONDITION_FOR_ACTION",
    "UNKNOWN_PRINCIPAL",
];

const PARLIAMENT_CONDITION: &[&str] = &[
    "UNKNOWN_OPERATOR",
    "MISMATCHED_TYPE",
    "MISMATCHED_TYPE_OPERATION_TO_NULL",
    "UNKNOWN_CONDITION_FOR_ACTION",
    "BAD_PATTERN_FOR_MFA",
    "SINGLE_VALUE_CONDITION_TOO_PERMISSIVE",
];

const PARLIAMENT_SECURITY: &[&str] = &[
    "PRIVILEGE_ESCALATION",
    "CREDENTIALS_EXPOSURE",
    "PERMISSIONS_MANAGEMENT_ACTIONS",
    "RESOURCE_STAR",
    "RESOURCE_EFFECTIVELY_STAR",
    "NOTRESOURCE_WITH_ALLOW",
    "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
    "SENSITIVE_ACCESS",
];

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

fn peers(r: &Value) -> Peers {
    let mut p = Peers::default();
    if let Some(list) = r["parliament"].as_array() {
        p.parliament_ran = true;
        for f in list {
            let issue = f["issue"].as_str().unwrap_or("");
            let actions = strs(&f["actions"]);
            match issue {
                "PRIVILEGE_ESCALATION" => p.escalation.push(actions.clone()),
                "CREDENTIALS_EXPOSURE" => p.credentials.extend(actions.clone()),
                "PERMISSIONS_MANAGEMENT_ACTIONS" => p.resource_exposure.extend(actions.clone()),
                _ => {}
            }
            if PARLIAMENT_CONDITION.contains(&issue) {
                p.bad_condition
                    .push(format!("{issue}: {}", f["detail"].as_str().unwrap_or("")));
            }
            if PARLIAMENT_BROKEN.contains(&issue) {
                p.broken.push(format!("parliament {issue}"));
            }
            if PARLIAMENT_SECURITY.contains(&issue) {
                p.security = true;
            }
        }
    }
    let cs = &r["cloudsplaining"];
    if cs.get("CRASH").is_some() {
        p.broken.push("cloudsplaining crashed".into());
    } else {
        for m in cs["PrivilegeEscalation"].as_array().into_iter().flatten() {
            p.escalation.push(strs(&m["actions"]));
        }
        p.credentials.extend(strs(&cs["CredentialsExposure"]));
        p.resource_exposure.extend(strs(&cs["ResourceExposure"]));
        p.data_exfiltration.extend(strs(&cs["DataExfiltration"]));
        let any = |k: &str| cs[k].as_array().is_some_and(|a| !a.is_empty());
        if [
            "PrivilegeEscalation",
            "CredentialsExposure",
            "ResourceExposure",
            "DataExfiltration",
            "ServiceWildcard",
            "InfrastructureModification",
        ]
        .iter()
        .any(|k| any(k))
        {
            p.security = true;
        }
    }
    p
}

/// Does our finding speak about `action` (lowercase)? Its `action` is the action, a
/// `a+b` combination holding it, a pattern matching it (`iam:*`, `*`), or NotAction.
fn speaks_about(f: &Finding, action: &str) -> bool {
    let Some(ours) = f.action.as_deref() else {
        return false;
    };
    let ours = ours.to_ascii_lowercase();
    ours == "notaction"
        || ours.split('+').any(|a| a == action)
        || ours
            .split(", ")
            .any(|p| p.contains(['*', '?']) && catalog::glob_match(p, action))
}

/// A finding of ours about `action` with one of `codes`, or an error refusing the policy
/// because of it (an unknown action is refused outright, which is stronger).
fn covered(ours: &[Finding], action: &str, accepted: &[&str]) -> bool {
    let wide = [
        codes::FULL_WILDCARD.as_str(),
        codes::SERVICE_WILDCARD.as_str(),
        codes::ALLOW_NOT_ACTION.as_str(),
    ];
    ours.iter().any(|f| {
        // Allow + NotAction, and Action "*", grant every action: the finding says so.
        let everything = f.code == codes::ALLOW_NOT_ACTION || f.code == codes::FULL_WILDCARD;
        everything
            || speaks_about(f, action)
                && (accepted.contains(&f.code.as_str())
                    || wide.contains(&f.code.as_str())
                    || f.severity == Severity::Error)
    })
}

/// Rule A exceptions, each documented in docs/policy-engine.md.
fn rule_a_exception(category: &str, action: &str) -> Option<&'static str> {
    match category {
        // parliament's hard-coded Permissions-management list predates the catalog
        // (sqs:CreateQueue, sns:CreateTopic, ... are Write today): our
        // permissions-management follows the catalog's access level.
        "resource exposure" => catalog::action(action)
            .filter(|(_, a)| a.level != AccessLevel::PermissionsManagement)
            .map(|_| "parliament's Permissions-management list is older than the catalog"),
        _ => None,
    }
}

/// Rule A for conditions: parliament findings we deliberately do not share.
fn condition_exception(detail: &str) -> Option<&'static str> {
    // parliament's MISMATCHED_TYPE for String operators on ARN keys is its
    // MISMATCHED_TYPE_BUT_USABLE elsewhere; IAM compares them as strings.
    if detail.contains("requires a value of type String but given Arn") {
        return Some("String operators on ARN keys work in IAM");
    }
    None
}

/// Rule B: why a security finding of ours may have no peer counterpart.
fn security_only_ours(code: &str) -> Option<&'static str> {
    match code {
        c if c == codes::RESOURCE_STAR.as_str() => Some(
            "a pattern as broad as \"*\": cloudsplaining treats only the literal \"*\" as unconstrained, parliament only patterns equal to the documented ARN formats",
        ),
        c if c == codes::PRIVILEGE_ESCALATION.as_str() => Some(
            "escalation methods beyond the peers' lists (issue 10: ssm:SendCommand, codebuild:StartBuild, iam:TagRole, ...), and any resource: the peers look at \"*\" only",
        ),
        c if c == codes::PASSROLE_ESCALATION.as_str() => Some(
            "iam:PassRole with services the peers do not list (EMR, Batch, Step Functions, Scheduler, ...), and on named resources",
        ),
        c if c == codes::DEFENSE_EVASION.as_str() => Some("no peer checks defence evasion"),
        c if c == codes::CREDENTIALS_EXPOSURE.as_str() || c == codes::DATA_EXFILTRATION.as_str() => {
            Some("a pattern that reaches every secret, key or object: the peers see only the literal \"*\"")
        }
        c if c == codes::ASSUME_ANY_ROLE.as_str() => {
            Some("a role pattern that reaches every role, or one role in every account")
        }
        c if c == codes::PERMISSIONS_MANAGEMENT.as_str() => Some(
            "Permissions-management actions on named resources: cloudsplaining looks at \"*\" only, parliament's list is older than the catalog",
        ),
        _ => None,
    }
}

/// Rule B: why an error of ours may have no peer counterpart.
fn error_only_ours(code: &str) -> Option<&'static str> {
    match code {
        c if c == codes::CONDITION_VALUE.as_str() => {
            Some("parliament checks values only for global keys and types it maps, not dates or CIDR ranges")
        }
        c if c == codes::CONDITION_TYPE.as_str() => {
            Some("parliament checks the operator's type only for service keys")
        }
        c if c == codes::EFFECT.as_str() || c == codes::STATEMENT.as_str() => {
            Some("parliament stops at the first malformed element")
        }
        _ => None,
    }
}

#[test]
fn validator_agrees_with_parliament_and_cloudsplaining() {
    let started = Instant::now();
    let corpus = corpus();
    let results = oracles(&corpus);
    let oracle_time = started.elapsed();
    let opts = ValidateOptions::default();

    let mut violations: Vec<String> = Vec::new();
    let mut exceptions: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut checks = 0usize;
    for r in &results {
        let name = r["name"].as_str().unwrap_or("?");
        let ours = validate(&r["policy"], &opts);
        let p = peers(r);
        let codes_of = |f: &[Finding]| {
            let mut c: Vec<&str> = f.iter().map(|x| x.code.as_str()).collect();
            c.sort_unstable();
            c.dedup();
            c.join(",")
        };

        // Rule A: peer flags → a finding of ours.
        for method in &p.escalation {
            checks += 1;
            let ok = method.iter().any(|a| {
                covered(
                    &ours,
                    a,
                    &[
                        codes::PRIVILEGE_ESCALATION.as_str(),
                        codes::PASSROLE_ESCALATION.as_str(),
                        codes::ASSUME_ANY_ROLE.as_str(),
                    ],
                )
            });
            if !ok {
                violations.push(format!(
                    "A {name}: peer escalation {method:?}, ours [{}]",
                    codes_of(&ours)
                ));
            }
        }
        let per_action: [(&str, &Vec<String>, &[&str]); 3] = [
            (
                "credentials",
                &p.credentials,
                &[
                    codes::CREDENTIALS_EXPOSURE.as_str(),
                    codes::RETURNS_CREDENTIALS.as_str(),
                    codes::PRIVILEGE_ESCALATION.as_str(),
                    codes::ASSUME_ANY_ROLE.as_str(),
                ],
            ),
            (
                "resource exposure",
                &p.resource_exposure,
                &[codes::PERMISSIONS_MANAGEMENT.as_str()],
            ),
            (
                "data exfiltration",
                &p.data_exfiltration,
                &[
                    codes::DATA_EXFILTRATION.as_str(),
                    codes::CREDENTIALS_EXPOSURE.as_str(),
                ],
            ),
        ];
        for (category, actions, accepted) in per_action {
            for a in actions {
                checks += 1;
                if covered(&ours, a, accepted) {
                    continue;
                }
                match rule_a_exception(category, a) {
                    Some(why) => *exceptions.entry(why).or_default() += 1,
                    None => violations.push(format!(
                        "A {name}: peer {category} {a}, ours [{}]",
                        codes_of(&ours)
                    )),
                }
            }
        }
        if !p.bad_condition.is_empty() {
            checks += 1;
            let ours_cond = ours.iter().any(|f| {
                f.code.as_str().starts_with("condition") || f.code == codes::MFA_CONDITION
            });
            if !ours_cond {
                let unexplained: Vec<&String> = p
                    .bad_condition
                    .iter()
                    .filter(|d| match condition_exception(d) {
                        Some(why) => {
                            *exceptions.entry(why).or_default() += 1;
                            false
                        }
                        None => true,
                    })
                    .collect();
                if !unexplained.is_empty() {
                    violations.push(format!(
                        "A {name}: parliament {unexplained:?}, ours [{}]",
                        codes_of(&ours)
                    ));
                }
            }
        }

        // Rule B: we block → a peer considers it broken; we flag security → a peer flags.
        for f in ours.iter().filter(|f| f.severity == Severity::Error) {
            checks += 1;
            if !p.broken.is_empty() {
                continue;
            }
            match error_only_ours(f.code.as_str()) {
                Some(why) => *exceptions.entry(why).or_default() += 1,
                None => violations.push(format!(
                    "B {name}: our error {} ({}) but no peer considers it broken",
                    f.code, f.message
                )),
            }
        }
        if p.parliament_ran {
            for f in ours.iter().filter(|f| f.severity == Severity::Security) {
                checks += 1;
                if p.security {
                    continue;
                }
                match security_only_ours(f.code.as_str()) {
                    Some(why) => *exceptions.entry(why).or_default() += 1,
                    None => violations.push(format!(
                        "B {name}: our {} ({}) but no peer flags anything",
                        f.code, f.message
                    )),
                }
            }
        }
    }
    eprintln!(
        "differential: {} policies ({} from the peers' own lists), {checks} checks, oracles {:.1} s, total {:.1} s",
        results.len(),
        results.len().saturating_sub(corpus.len()),
        oracle_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    for (why, n) in &exceptions {
        eprintln!("  documented exception x{n}: {why}");
    }
    assert!(results.len() >= 300, "corpus too small: {}", results.len());
    assert!(
        violations.is_empty(),
        "{} disagreements:\n{}",
        violations.len(),
        violations.join("\n")
    );
}
