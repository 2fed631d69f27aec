//! Golden tests for the deterministic generator: plain-language requests and structured
//! flags → the exact policy expected. Region is us-east-1 throughout; the account is given
//! where the row says so. If the catalog is regenerated and AWS added actions, review the
//! diff and update the rows.

use aws_jit::error::{exit_code_of, ExitCode};
use aws_jit::policy::{blocking, generate, needs_ack, GenerateInput, GeneratorChoice};
use serde_json::Value;

fn gen(description: &str, account: Option<&str>) -> anyhow::Result<aws_jit::policy::Generated> {
    let input = GenerateInput {
        description: Some(description.to_string()),
        region: Some("us-east-1".into()),
        account_id: account.map(str::to_string),
        ..Default::default()
    };
    generate(&input, GeneratorChoice::Rules, None)
}

const PLAIN_LANGUAGE: &[(&str, Option<&str>, &str)] = &[
    (
        "read objects in bucket my-data",
        None,
        // The smallest set that reads the objects (issue 13): GetObject on them and
        // ListBucket (which lists objects) on the bucket; no configuration reads.
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "S3NamedResources1", "Effect": "Allow",
   "Action": ["s3:ListBucket"],
   "Resource": ["arn:aws:s3:::my-data"]},
  {"Sid": "S3NamedResources2", "Effect": "Allow",
   "Action": ["s3:GetObject"],
   "Resource": ["arn:aws:s3:::my-data/*"]}
]}"#,
    ),
    (
        "list buckets",
        None,
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "S3NoResourceLevel", "Effect": "Allow",
   "Action": ["s3:ListAllMyBuckets"],
   "Resource": ["*"]}
]}"#,
    ),
    (
        "upload files to s3://my-data/reports/",
        None,
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "S3NamedResources", "Effect": "Allow",
   "Action": ["s3:PutObject"],
   "Resource": ["arn:aws:s3:::my-data/reports/*"]}
]}"#,
    ),
    (
        "list objects in bucket logs-archive",
        None,
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "S3NamedResources", "Effect": "Allow",
   "Action": ["s3:ListBucket"],
   "Resource": ["arn:aws:s3:::logs-archive"]}
]}"#,
    ),
    (
        "describe instance i-0123456789abcdef0 in eu-west-1",
        Some("123456789012"),
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "Ec2NoResourceLevel", "Effect": "Allow",
   "Action": ["ec2:DescribeInstances"],
   "Resource": ["*"]}
]}"#,
    ),
    (
        "start and stop instance i-0123456789abcdef0",
        Some("123456789012"),
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "Ec2NamedResources", "Effect": "Allow",
   "Action": ["ec2:StartInstances", "ec2:StopInstances"],
   "Resource": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"]}
]}"#,
    ),
    (
        "tag instances i-0123456789abcdef0",
        None,
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "Ec2NamedResources", "Effect": "Allow",
   "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
   "Resource": ["arn:aws:ec2:us-east-1:*:instance/i-0123456789abcdef0"]}
]}"#,
    ),
    (
        "read table Orders",
        Some("123456789012"),
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "DynamodbNamedResources", "Effect": "Allow",
   "Action": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
   "Resource": ["arn:aws:dynamodb:us-east-1:123456789012:table/Orders"]}
]}"#,
    ),
    (
        "read log group /aws/lambda/my-fn",
        Some("123456789012"),
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "LogsNamedResources1", "Effect": "Allow",
   "Action": ["logs:DescribeLogStreams", "logs:FilterLogEvents"],
   "Resource": ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/my-fn"]},
  {"Sid": "LogsNamedResources2", "Effect": "Allow",
   "Action": ["logs:GetLogEvents"],
   "Resource": ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/my-fn:log-stream:*"]}
]}"#,
    ),
    (
        "read secret prod/db-password",
        Some("123456789012"),
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "SecretsmanagerNamedResources", "Effect": "Allow",
   "Action": ["secretsmanager:GetSecretValue"],
   "Resource": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-password-??????"]}
]}"#,
    ),
    (
        "invoke function my-fn",
        Some("123456789012"),
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "LambdaNamedResources", "Effect": "Allow",
   "Action": ["lambda:InvokeFunction"],
   "Resource": ["arn:aws:lambda:us-east-1:123456789012:function:my-fn"]}
]}"#,
    ),
    (
        "send messages to queue jobs",
        Some("123456789012"),
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "SqsNamedResources", "Effect": "Allow",
   "Action": ["sqs:SendMessage"],
   "Resource": ["arn:aws:sqs:us-east-1:123456789012:jobs"]}
]}"#,
    ),
    (
        "publish to topic alerts",
        Some("123456789012"),
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "SnsNamedResources", "Effect": "Allow",
   "Action": ["sns:Publish"],
   "Resource": ["arn:aws:sns:us-east-1:123456789012:alerts"]}
]}"#,
    ),
    (
        "read parameter /app/prod/db-url",
        Some("123456789012"),
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "SsmNamedResources", "Effect": "Allow",
   "Action": ["ssm:GetParameter", "ssm:GetParameters"],
   "Resource": ["arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/db-url"]}
]}"#,
    ),
    (
        "read arn:aws:s3:::reports-bucket/2024/*",
        None,
        r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "S3NamedResources", "Effect": "Allow",
   "Action": ["s3:GetObject"],
   "Resource": ["arn:aws:s3:::reports-bucket/2024/*"]}
]}"#,
    ),
];

#[test]
fn plain_language_golden_table() {
    for (description, account, expected) in PLAIN_LANGUAGE {
        let expected: Value = serde_json::from_str(expected).expect("expected JSON");
        let g = gen(description, *account).unwrap_or_else(|e| panic!("{description}: {e:#}"));
        assert_eq!(
            g.policy,
            expected,
            "{description}: got\n{}",
            serde_json::to_string_pretty(&g.policy).unwrap_or_default()
        );
        assert_eq!(g.generator, "rules");
        // Everything the rules write passes the validator without errors or security findings.
        assert!(
            !blocking(&g.findings) && !needs_ack(&g.findings),
            "{description}: {:#?}",
            g.findings
        );
    }
}

#[test]
fn never_permissions_management_unless_asked() {
    let g = gen("write to bucket my-data", None).expect("policy");
    let text = g.policy.to_string();
    assert!(
        !text.contains("s3:PutBucketPolicy") && !text.contains("s3:PutObjectAcl"),
        "{text}"
    );
    let g = gen("permissions management on bucket my-data", None).expect("policy");
    let text = g.policy.to_string();
    assert!(text.contains("s3:PutBucketPolicy"), "{text}");
    assert!(needs_ack(&g.findings));
}

#[test]
fn region_and_account_from_the_text_win() {
    let g = gen(
        "read table Orders in eu-west-2 account 210987654321",
        Some("123456789012"),
    )
    .expect("policy");
    assert!(g
        .policy
        .to_string()
        .contains("arn:aws:dynamodb:eu-west-2:210987654321:table/Orders"));
}

#[test]
fn descriptions_it_cannot_understand_are_refused_with_what_to_add() {
    for (d, hint) in [
        ("give me access", "name the service"),
        ("read stuff", "name the service"),
        (
            "do something with bucket my-data",
            "say read, list, write or tag",
        ),
        ("read s3", "name the s3 resources"),
        ("full access to s3", "broad access"),
        ("admin on everything", "broad access"),
        ("read *", "broad access"),
        ("read arn:aws:s3", "not an ARN"),
    ] {
        let err = gen(d, None).expect_err(d);
        assert_eq!(exit_code_of(&err), ExitCode::Usage, "{d}");
        let msg = format!("{err:#}");
        assert!(msg.starts_with("--policy-description: "), "{d}: {msg}");
        assert!(msg.contains(hint), "{d}: {msg}");
    }
}

fn structured(
    service: &str,
    access: &[&str],
    actions: &[&str],
    resources: &[&str],
) -> anyhow::Result<Value> {
    let input = GenerateInput {
        service: Some(service.into()),
        access: access.iter().map(|s| s.to_string()).collect(),
        actions: actions.iter().map(|s| s.to_string()).collect(),
        resources: resources.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    generate(&input, GeneratorChoice::Auto, None).map(|g| g.policy)
}

#[test]
fn structured_explicit_actions() {
    let got = structured(
        "s3",
        &[],
        &["GetObject", "ListBucket"],
        &["arn:aws:s3:::my-data", "arn:aws:s3:::my-data/*"],
    )
    .expect("policy");
    let want: Value = serde_json::from_str(r#"{"Version": "2012-10-17", "Statement": [
        {"Sid": "S3NamedResources1", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::my-data"]},
        {"Sid": "S3NamedResources2", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::my-data/*"]}]}"#).expect("json");
    assert_eq!(got, want);
}

#[test]
fn structured_wildcards_expand_against_the_catalog() {
    let got = structured(
        "s3",
        &[],
        &["Get*Tagging"],
        &["arn:aws:s3:::my-data", "arn:aws:s3:::my-data/*"],
    )
    .expect("policy");
    let want: Value = serde_json::from_str(r#"{"Version": "2012-10-17", "Statement": [
        {"Sid": "S3NamedResources1", "Effect": "Allow", "Action": ["s3:GetBucketTagging"], "Resource": ["arn:aws:s3:::my-data"]},
        {"Sid": "S3NamedResources2", "Effect": "Allow", "Action": ["s3:GetObjectTagging", "s3:GetObjectVersionTagging"], "Resource": ["arn:aws:s3:::my-data/*"]}]}"#).expect("json");
    assert_eq!(got, want);
}

#[test]
fn structured_access_levels() {
    let got = structured("s3", &["list"], &[], &["arn:aws:s3:::my-data"]).expect("policy");
    let want: Value = serde_json::from_str(r#"{"Version": "2012-10-17", "Statement": [
        {"Sid": "S3NamedResources", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:ListBucketVersions", "s3:ListTagsForResource"], "Resource": ["arn:aws:s3:::my-data"]},
        {"Sid": "S3NoResourceLevel", "Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": ["*"]}]}"#).expect("json");
    // A resource none of the asked levels' actions accept is refused, not dropped.
    let err = structured(
        "dynamodb",
        &["list"],
        &[],
        &["arn:aws:dynamodb:us-east-1:123456789012:table/Orders"],
    )
    .expect_err("fits nothing");
    assert!(
        format!("{err:#}").contains("fits no dynamodb action"),
        "{err:#}"
    );
    assert_eq!(
        got,
        want,
        "{}",
        serde_json::to_string_pretty(&got).unwrap_or_default()
    );
}

#[test]
fn structured_errors_name_the_flag() {
    for (args, field) in [
        (structured("s3", &["reed"], &[], &[]), "--access"),
        (structured("s3", &[], &["GetObjekt"], &[]), "--actions"),
        (
            structured("s3", &[], &["ListBucket"], &["arn:aws:s3:::b/*"]),
            "--resources",
        ),
        (
            structured("s3", &["read"], &[], &["not-an-arn"]),
            "--resources",
        ),
        (
            structured("s4", &["read"], &[], &["arn:aws:s3:::b"]),
            "--service",
        ),
    ] {
        let err = args.expect_err(field);
        assert_eq!(exit_code_of(&err), ExitCode::Usage);
        assert!(format!("{err:#}").starts_with(field), "{err:#}");
    }
}

#[test]
fn allowed_services_refuse_other_services() {
    let input = GenerateInput {
        description: Some("read table Orders".into()),
        ..Default::default()
    };
    let allowed = vec!["s3".to_string()];
    let err = generate(&input, GeneratorChoice::Rules, Some(&allowed)).expect_err("not allowed");
    assert!(format!("{err:#}").contains("ALLOWED_SERVICES"));
}

#[test]
fn structured_assume_role_keeps_the_named_role() {
    let role = "arn:aws:iam::123456789012:role/deployer";
    let got = structured("sts", &[], &["AssumeRole"], &[role]).expect("policy");
    assert_eq!(got["Statement"][0]["Resource"], serde_json::json!([role]));
}

#[test]
fn patterns_reaching_every_resource_are_refused_with_what_to_name() {
    for (d, hint) in [
        ("read objects in s3://*", "name the bucket"),
        ("manage arn:aws:s3:::*", "name the bucket"),
        (
            "update function arn:aws:lambda:*:*:function:*",
            "name the function",
        ),
        (
            "get secret arn:aws:secretsmanager:*:*:secret:*",
            "name the secret",
        ),
        ("assume role arn:aws:iam::*:role/**", "name the role"),
    ] {
        let err = gen(d, None).expect_err(d);
        assert_eq!(exit_code_of(&err), ExitCode::Usage, "{d}");
        let msg = format!("{err:#}");
        assert!(msg.starts_with("--policy-description: "), "{d}: {msg}");
        assert!(msg.contains(hint), "{d}: {msg}");
    }
}

#[test]
fn says_what_was_understood_and_ignored() {
    let g = gen(
        "upload the nightly builds to bucket build-artifacts under prefix releases/",
        None,
    )
    .expect("policy");
    assert_eq!(
        g.understood,
        ["s3:PutObject on every object under build-artifacts/releases/"]
    );
    assert!(g.ignored.iter().any(|w| w == "nightly"), "{:?}", g.ignored);
    // An ambiguous description is a question, not a guess.
    let err = gen("download the reports from the bucket", None).expect_err("which");
    assert!(format!("{err:#}").contains("which bucket?"), "{err:#}");
}

#[test]
fn hostile_descriptions_never_panic() {
    let huge = "read ".repeat(5_000);
    let inputs = [
        huge.as_str(),
        "read \u{0}\u{7}\u{1b}[31m objects in bucket my-data",
        "read objects in bucket my\u{2010}data",
        "read arn:aws:s3:::b\u{2010}x/*",
        "read * * * ? ?? arn:*:*:*:*:*",
        "read arn:aws:s3:::",
        "read objects in s3:// under prefix",
        "starting with",
        "read table named named named",
        "\u{202e}read bucket evil",
        "read bucket a-1 and and and",
    ];
    for d in inputs {
        let _ = gen(d, Some("123456789012"));
    }
}
