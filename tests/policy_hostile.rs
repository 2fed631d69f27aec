//! Hostile and malformed documents: the validator answers every one with findings — never
//! a panic, never a run-away — and a blocking policy stays blocked.

use std::time::{Duration, Instant};

use aws_jit::policy::{blocking, validate, validate_text, ValidateOptions};
use serde_json::{json, Value};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const PIECES: &[&str] = &[
    "*",
    "?",
    "arn",
    ":",
    "/",
    "aws",
    "s3",
    "iam",
    "role",
    "${aws:username}",
    "${",
    "}",
    "::",
    "é",
    "\u{0}",
    "\u{202e}",
    "𝔸",
    " ",
    "\\",
    "\"",
    "Action",
    "Effect",
    "Allow",
    "Deny",
    "ec2",
    "instance",
    "i-0123",
    "secret",
    "${aws:PrincipalTag/x}",
    "*/*",
    "arn:*:*:*:*:*",
];

fn junk(rng: &mut Rng, max: usize) -> String {
    (0..rng.below(max)).map(|_| rng.pick(PIECES)).collect()
}

/// Any JSON value, biased towards policy-looking shapes.
fn value(rng: &mut Rng, depth: usize) -> Value {
    match if depth > 4 {
        rng.below(4)
    } else {
        rng.below(9)
    } {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.next() as i64),
        3 => json!(junk(rng, 12)),
        4 | 5 => {
            let n = rng.below(5);
            Value::Array((0..n).map(|_| value(rng, depth + 1)).collect())
        }
        _ => {
            let keys = [
                "Version",
                "Statement",
                "Effect",
                "Action",
                "NotAction",
                "Resource",
                "NotResource",
                "Condition",
                "Sid",
                "Principal",
                "StringEquals",
                "aws:SourceIp",
                "ForAllValues:StringLike",
                "Bool",
                "DateLessThan",
                "s3:prefix",
                "x",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..rng.below(6) {
                let k = if rng.below(3) == 0 {
                    junk(rng, 4)
                } else {
                    rng.pick(&keys).to_string()
                };
                m.insert(k, value(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

/// A policy with well-formed bones and hostile flesh.
fn policy(rng: &mut Rng) -> Value {
    let actions = [
        "*",
        "s3:*",
        "iam:Pass*",
        "IAM:passrole",
        "s3:GetObject",
        "sts:AssumeRole",
        "*:*",
        "ec2:Run?nstances",
        "s3:",
        ":",
        "s3:Get*Object*",
        "lambda:UpdateFunctionCode",
    ];
    let n = 1 + rng.below(4);
    let sts: Vec<Value> = (0..n)
        .map(|_| {
            let a: Vec<&str> = (0..1 + rng.below(3)).map(|_| rng.pick(&actions)).collect();
            let r: Vec<String> = (0..1 + rng.below(3))
                .map(|_| match rng.below(4) {
                    0 => "*".to_string(),
                    1 => format!("arn:aws:s3:::{}", junk(rng, 10)),
                    2 => format!("arn:aws:iam::{}:role/{}", junk(rng, 3), junk(rng, 8)),
                    _ => junk(rng, 12),
                })
                .collect();
            let mut st = json!({"Effect": if rng.below(5) == 0 { "Deny" } else { "Allow" }, "Action": a, "Resource": r});
            if rng.below(2) == 0 {
                st["Condition"] = value(rng, 2);
            }
            st
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": sts})
}

#[test]
fn random_documents_never_panic() {
    let opts = ValidateOptions::default();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let started = Instant::now();
    for _ in 0..3000 {
        let _ = validate(&value(&mut rng, 0), &opts);
        let _ = validate(&policy(&mut rng), &opts);
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn random_text_never_panics() {
    let opts = ValidateOptions::default();
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let text = junk(&mut rng, 40);
        let f = validate_text(&text, &opts);
        assert!(!f.is_empty(), "{text:?} produced no finding");
    }
}

#[test]
fn pathological_patterns_stay_fast_and_blocked_policies_stay_blocked() {
    let opts = ValidateOptions::default();
    let long_glob = format!("arn:aws:iam::123456789012:role/{}", "*a?".repeat(600));
    let many_stars = format!("arn:aws:s3:::{}", "*/".repeat(1000));
    let deep_var = format!("arn:aws:s3:::{}", "${aws:username}".repeat(200));
    let huge = "x".repeat(200_000);
    for r in [
        long_glob.as_str(),
        many_stars.as_str(),
        deep_var.as_str(),
        huge.as_str(),
    ] {
        let started = Instant::now();
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "iam:PassRole", "sts:AssumeRole"], "Resource": [r, r, r]}]});
        let _ = validate(&doc, &opts);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{} chars took {:?}",
            r.len(),
            started.elapsed()
        );
    }
    // Many statements, many resources: still one answer, and the size error blocks.
    let sts: Vec<Value> = (0..300)
        .map(|i| json!({"Effect": "Allow", "Action": "s3:*", "Resource": [format!("arn:aws:s3:::b{i}/*"), "arn:aws:s3:::*"]}))
        .collect();
    let started = Instant::now();
    let f = validate(&json!({"Version": "2012-10-17", "Statement": sts}), &opts);
    assert!(blocking(&f));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // Nesting as deep as the JSON parser allows.
    let deep = format!("{}{}", "[".repeat(120), "]".repeat(120));
    assert!(blocking(&validate_text(&deep, &opts)));
    let deeper = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(blocking(&validate_text(&deeper, &opts)));
}
