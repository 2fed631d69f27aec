//! Every input, however hostile, ends in a typed error: exit 2 with a message naming the
//! field — never exit 1 or 101, never unbounded reading, never a hang. And every command
//! prints exactly one JSON document with `--output json`, and survives a closed stdout.

mod common;

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

fn words(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Wait for a child, killing it (and failing) if it outlives `limit`.
fn wait_bounded(mut child: Child, limit: Duration, what: &str) -> Run {
    let start = Instant::now();
    loop {
        if let Some(_status) = child.try_wait().expect("try_wait") {
            return child.wait_with_output().expect("output").into();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{what}: still running after {limit:?} (hangs on its input)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_os(jit: &Jit, args: Vec<OsString>) -> Run {
    let mut c = jit.cmd::<&str>(&[]);
    c.args(args);
    c.output().expect("run aws-jit").into()
}

fn assert_usage_error(r: &Run, field: &str, what: &str) {
    assert_eq!(
        r.code, 2,
        "{what}: expected exit 2\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert!(
        r.stderr.contains(field),
        "{what}: the error must name {field}\nstderr: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
}

/// A request's flags with one of them replaced by hostile bytes.
fn request_with(flag: &str, value: OsString) -> Vec<OsString> {
    let mut args = words(&[
        "request",
        "--purpose",
        "p",
        "--requester",
        REQUESTER,
        "--iam-user",
        "alice",
        "--service",
        "s3",
        "--actions",
        "GetObject",
        "--resources",
        "arn:aws:s3:::b/*",
    ]);
    match args.iter().position(|a| a == flag) {
        Some(i) => args[i + 1] = value,
        None => args.extend([OsString::from(flag), value]),
    }
    args
}

#[test]
fn invalid_utf8_in_any_argument_names_the_field() {
    let jit = Jit::new(Backend::Local);
    let bad = || os(b"jit-\xff");
    let cases: Vec<(Vec<OsString>, &str)> = vec![
        (vec![os(b"\xff")], "COMMAND"),
        (vec![OsString::from("status"), bad()], "ID"),
        (
            vec![
                OsString::from("approve"),
                bad(),
                "--approver".into(),
                APPROVER.into(),
            ],
            "ID",
        ),
        (vec!["attach".into(), bad()], "ID"),
        (vec!["cancel".into(), bad()], "ID"),
        (
            vec![
                "revoke".into(),
                "jit-000000000000".into(),
                "--reason".into(),
                os(b"r\xff"),
            ],
            "--reason",
        ),
        (
            vec!["reject".into(), bad(), "--reason".into(), "no".into()],
            "ID",
        ),
        (
            vec!["expire".into(), "--at".into(), os(b"\xfe\xff")],
            "--at",
        ),
        (request_with("--purpose", os(b"debug \xff")), "--purpose"),
        (
            request_with("--requester", os(b"dev\xff@example.com")),
            "--requester",
        ),
        (request_with("--iam-user", os(b"al\xffice")), "--iam-user"),
        (request_with("--ttl", os(b"2\xffh")), "--ttl"),
        (request_with("--policy-name", os(b"n\xff")), "--policy-name"),
        (
            request_with("--policy-file", os(b"/tmp/\xff.json")),
            "--policy-file",
        ),
        (vec!["request".into(), os(b"--purpose=\xff")], "--purpose"),
        (
            vec!["policy".into(), "validate".into(), os(b"/tmp/\xff.json")],
            "FILE",
        ),
        (
            vec![
                "policy".into(),
                "generate".into(),
                "--description".into(),
                os(b"read \xff"),
            ],
            "--description",
        ),
    ];
    for (args, field) in cases {
        let what = format!("{args:?}");
        let r = run_os(&jit, args.clone());
        assert_usage_error(&r, field, &what);
        // The same with --output json: exactly one document, the error.
        let mut json_args = args;
        json_args.extend(words(&["--output", "json"]));
        let r = run_os(&jit, json_args);
        assert_eq!(r.code, 2, "{what}: {}", r.stderr);
        assert_eq!(r.json()["error"]["exit_code"], 2, "{what}: {}", r.stdout);
    }
}

#[test]
fn invalid_utf8_in_the_environment_names_the_variable() {
    let mut jit = Jit::new(Backend::Local);
    jit.unset("APPROVAL_LIST");
    let mut c = jit.cmd(&["status"]);
    c.env("APPROVAL_LIST", os(b"boss\xff@example.com"));
    let r: Run = c.output().expect("run").into();
    assert_usage_error(&r, "APPROVAL_LIST", "APPROVAL_LIST");
}

#[test]
fn policy_input_is_bounded_checked_and_never_hangs() {
    let jit = Jit::new(Backend::Local);
    let dir = tempfile::tempdir().expect("dir");
    let limit = Duration::from_secs(20);

    // Invalid UTF-8 on stdin is the same usage error as in a file.
    let file = dir.path().join("bad-utf8.json");
    std::fs::write(&file, b"{\"Version\": \"2012-10-17\xff\"}").expect("write");
    let from_file = jit.run(&request_args(&file.display().to_string()));
    assert_usage_error(&from_file, "--policy-file", "invalid UTF-8 from a file");
    let mut child = jit
        .cmd(&request_args("-"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"{\"Version\": \"2012-10-17\xff\"}")
        .expect("write stdin");
    let r = wait_bounded(child, limit, "invalid UTF-8 on stdin");
    assert_usage_error(&r, "--policy-file", "invalid UTF-8 on stdin");

    // An endless stream on stdin stops at the bound.
    let mut child = jit
        .cmd(&request_args("-"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let chunk = vec![b' '; 64 * 1024];
        // Stops with a broken pipe once aws-jit stops reading.
        for _ in 0..16 * 1024 {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let r = wait_bounded(child, limit, "endless stdin");
    assert_usage_error(&r, "--policy-file", "endless stdin");
    assert!(r.stderr.contains("larger than"), "{}", r.stderr);
    let _ = writer.join();

    // Devices and FIFOs are refused before they are opened; a large file by its size.
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 4 * 1024 * 1024]).expect("write");
    for path in [
        "/dev/zero".to_string(),
        fifo.display().to_string(),
        big.display().to_string(),
    ] {
        for args in [
            request_args(&path),
            vec!["policy".to_string(), "validate".into(), path.clone()],
        ] {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let child = jit
                .cmd(&refs)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn");
            let r = wait_bounded(child, limit, &path);
            let field = if args[0] == "policy" {
                "FILE"
            } else {
                "--policy-file"
            };
            assert_usage_error(&r, field, &path);
        }
    }
    assert_eq!(
        jit.run(&["status", "--output", "json"]).ok().json()["requests"]
            .as_array()
            .map(Vec::len),
        Some(0),
        "nothing stored"
    );
}

fn request_args(policy_file: &str) -> Vec<String> {
    [
        "request",
        "--purpose",
        "p",
        "--requester",
        REQUESTER,
        "--iam-user",
        "alice",
        "--policy-file",
        policy_file,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn durations_that_would_overflow_are_usage_errors() {
    let mut jit = Jit::new(Backend::Local);
    let base = |ttl: &str| {
        vec![
            "request".to_string(),
            "--purpose".into(),
            "p".into(),
            "--requester".into(),
            REQUESTER.into(),
            "--iam-user".into(),
            "alice".into(),
            "--service".into(),
            "s3".into(),
            "--actions".into(),
            "GetObject".into(),
            "--resources".into(),
            "arn:aws:s3:::b/*".into(),
            "--ttl".into(),
            ttl.into(),
        ]
    };
    jit.set("JIT_MAX_DURATION", "100y");
    for ttl in ["9000y", "100000000000000000000000s", "584942417355y"] {
        let args = base(ttl);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_usage_error(&jit.run(&refs), "--ttl", ttl);
    }
    // The longest allowed TTL is stored and shown without trouble.
    Iam::new().ensure_user("alice");
    let args = base("99y");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let id = jit.run(&refs).ok().stdout.trim().to_string();
    jit.run(&["approve", &id, "--approver", APPROVER]).ok();
    jit.run(&["status", &id]).ok();
    jit.set("JIT_MAX_DURATION", "20000y");
    assert_usage_error(
        &jit.run(&["status"]),
        "JIT_MAX_DURATION",
        "JIT_MAX_DURATION",
    );
}

#[test]
fn a_set_but_empty_backend_url_is_an_error_not_a_fresh_store() {
    let mut jit = Jit::new(Backend::Local);
    for empty in ["", "   "] {
        jit.set("BACKEND_URL", empty);
        assert_usage_error(&jit.run(&["expire"]), "BACKEND_URL", "empty BACKEND_URL");
    }
}

/// One representative invocation of every subcommand: (args, expected exit code).
fn every_command(jit: &Jit, user: &str) -> Vec<(Vec<String>, i32)> {
    let id = jit.request_user(user, &[]);
    let pending = jit.request_user(user, &[]);
    let policy = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(
        policy.path(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    )
    .expect("write");
    let bad_policy = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(
        bad_policy.path(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"}]}"#,
    )
    .expect("write");
    let (p, b) = (
        policy.path().display().to_string(),
        bad_policy.path().display().to_string(),
    );
    // Kept on disk for the whole test.
    std::mem::forget(policy);
    std::mem::forget(bad_policy);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        (s(&["--help"]), 0),
        (s(&["--version"]), 0),
        (s(&["request", "--help"]), 0),
        (s(&["cli-spec"]), 0),
        (s(&["request", "--purpose"]), 2),
        (s(&["status"]), 0),
        (s(&["status", &id]), 0),
        (s(&["status", "jit-000000000000"]), 3),
        (s(&["approve", &id, "--approver", APPROVER]), 0),
        (s(&["approve", &id, "--approver", APPROVER]), 4),
        (s(&["attach", &id]), 0),
        (s(&["attach", &id]), 0),
        (s(&["revoke", &id, "--by", APPROVER, "--reason", "done"]), 0),
        (
            s(&["reject", &pending, "--approver", REQUESTER, "--reason", "x"]),
            5,
        ),
        (s(&["cancel", &pending, "--by", REQUESTER]), 0),
        (s(&["expire"]), 0),
        (s(&["expire", "--dry-run"]), 0),
        (s(&["policy", "validate", &p]), 0),
        (s(&["policy", "validate", &b]), 2),
        (
            s(&[
                "policy",
                "generate",
                "--description",
                "read objects in bucket b",
            ]),
            0,
        ),
        (s(&["policy", "generate", "--description", "everything"]), 2),
        (
            s(&[
                "request",
                "--purpose",
                "p",
                "--requester",
                REQUESTER,
                "--iam-user",
                user,
                "--policy-file",
                &b,
            ]),
            2,
        ),
    ]
}

#[test]
fn json_output_is_exactly_one_document_for_every_command_and_error() {
    let iam = Iam::new();
    let user = iam.create_user();
    let jit = Jit::new(Backend::Local);
    for (args, code) in every_command(&jit, &user) {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        if a.iter().any(|x| *x == "--help" || *x == "--version") {
            // Help and version are text in both modes; they still print once.
            let r = jit.run(&a).code(code);
            assert!(!r.stdout.is_empty());
            continue;
        }
        a.extend(["--output", "json"]);
        let r = jit.run(&a);
        assert_eq!(
            r.code, code,
            "{a:?}\nstdout: {}\nstderr: {}",
            r.stdout, r.stderr
        );
        // `from_str` refuses trailing content: a second document fails here.
        let doc: serde_json::Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("{a:?}: not one JSON document ({e}):\n{}", r.stdout));
        if code != 0 {
            assert_eq!(doc["error"]["exit_code"], code, "{a:?}: {doc}");
        }
    }
}

#[test]
fn no_command_panics_on_a_closed_stdout() {
    let iam = Iam::new();
    let user = iam.create_user();
    for json in [false, true] {
        let jit = Jit::new(Backend::Local);
        for (args, code) in every_command(&jit, &user) {
            let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
            if json {
                a.push("--output=json");
            }
            let (reader, writer) = std::io::pipe().expect("pipe");
            drop(reader);
            let out = jit
                .cmd(&a)
                .stdout(writer)
                .stderr(Stdio::piped())
                .output()
                .expect("run");
            let r: Run = out.into();
            assert_eq!(r.code, code, "{a:?} with stdout closed: {}", r.stderr);
            assert!(!r.stderr.contains("panicked"), "{a:?}: {}", r.stderr);
        }
    }
}
