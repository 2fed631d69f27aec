//! Security rules, each with a test that fails if the rule is removed: who may approve,
//! what may be granted, that what is attached is what was approved, and that bad input
//! changes nothing.

mod common;

use common::*;
use serde_json::Value;

fn count_requests(jit: &Jit) -> usize {
    jit.run(&["status", "--output", "json"]).ok().json()["requests"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

#[test]
fn requester_can_never_review_own_request_even_when_listed() {
    for backend in BOTH {
        let mut jit = Jit::new(backend);
        // The requester is in APPROVAL_LIST too, in another case.
        jit.set("APPROVAL_LIST", &format!("{APPROVER},DEV@Example.com"));
        let id = jit.request_user("alice", &[]);
        let r = jit.run(&["approve", &id, "--approver", REQUESTER]).code(5);
        assert!(r.stderr.contains("own request"), "{}", r.stderr);
        jit.run(&[
            "reject",
            &id,
            "--approver",
            "Dev@Example.COM",
            "--reason",
            "x",
        ])
        .code(5);
        assert_eq!(jit.state(&id), "pending");
    }
}

#[test]
fn approver_must_be_in_approval_list() {
    let jit = Jit::new(Backend::Redis);
    let id = jit.request_user("alice", &[]);
    let r = jit
        .run(&["approve", &id, "--approver", "mallory@example.com"])
        .code(5);
    assert!(r.stderr.contains("APPROVAL_LIST"), "{}", r.stderr);
    jit.run(&[
        "reject",
        &id,
        "--approver",
        "mallory@example.com",
        "--reason",
        "no",
    ])
    .code(5);
    assert_eq!(jit.state(&id), "pending");
    // Case does not matter for listed approvers.
    jit.run(&["approve", &id, "--approver", "BOSS@example.com"])
        .ok();
    assert_eq!(jit.state(&id), "approved");
}

#[test]
fn empty_approval_list_approves_nobody() {
    let mut jit = Jit::new(Backend::Local);
    jit.unset("APPROVAL_LIST");
    let id = jit.request_user("alice", &[]);
    let r = jit.run(&["approve", &id, "--approver", APPROVER]).code(5);
    assert!(r.stderr.contains("APPROVAL_LIST"), "{}", r.stderr);
}

#[test]
fn rejected_request_cannot_be_approved_or_attached() {
    let jit = Jit::new(Backend::Redis);
    let id = jit.request_user("alice", &[]);
    jit.run(&[
        "reject",
        &id,
        "--approver",
        APPROVER,
        "--reason",
        "too broad",
    ])
    .ok();
    assert_eq!(jit.state(&id), "rejected");
    jit.run(&["approve", &id, "--approver", APPROVER2]).code(4);
    jit.run(&["attach", &id]).code(4);
    // Attach before approval is refused too.
    let id2 = jit.request_user("alice", &[]);
    jit.run(&["attach", &id2]).code(4);
}

#[test]
fn quorum_needs_distinct_approvers() {
    let mut jit = Jit::new(Backend::Local);
    jit.set("JIT_APPROVAL_QUORUM", "2");
    let id = jit.request_user("alice", &[]);
    jit.run(&["approve", &id, "--approver", APPROVER]).ok();
    assert_eq!(jit.state(&id), "pending");
    jit.run(&["approve", &id, "--approver", "Boss@Example.com"])
        .code(4);
    jit.run(&["attach", &id]).code(4);
    jit.run(&["approve", &id, "--approver", APPROVER2]).ok();
    assert_eq!(jit.state(&id), "approved");
}

#[test]
fn ttl_over_maximum_is_refused_and_nothing_stored() {
    for backend in BOTH {
        let mut jit = Jit::new(backend);
        let r = jit
            .run(&[
                "request",
                "--purpose",
                "p",
                "--ttl",
                "25h",
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
            ])
            .code(2);
        assert!(
            r.stderr.contains("--ttl") && r.stderr.contains("maximum"),
            "{}",
            r.stderr
        );
        assert_eq!(count_requests(&jit), 0, "a refused request was stored");
        // The maximum is configurable and inclusive.
        jit.set("JIT_MAX_DURATION", "2h")
            .set("JIT_DEFAULT_TTL", "1h");
        jit.request_user("alice", &[]); // asks for exactly 2h
        jit.run(&[
            "request",
            "--purpose",
            "p",
            "--ttl",
            "121m",
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
        ])
        .code(2);
        assert_eq!(count_requests(&jit), 1);
    }
}

/// Rewrite the stored record as someone with write access to the store could.
fn tamper(jit: &Jit, id: &str, f: impl FnOnce(&mut Value)) {
    match jit.backend {
        Backend::Redis => {
            let client = redis::Client::open(redis_url()).expect("redis url");
            let mut con = client.get_connection().expect("redis");
            let key = format!("{{{}}}:req:{id}", jit.prefix);
            let text: String = redis::cmd("HGET")
                .arg(&key)
                .arg("json")
                .query(&mut con)
                .expect("HGET");
            let mut v: Value = serde_json::from_str(&text).expect("json");
            f(&mut v);
            let _: () = redis::cmd("HSET")
                .arg(&key)
                .arg("json")
                .arg(v.to_string())
                .query(&mut con)
                .expect("HSET");
        }
        Backend::Local => {
            let db = rusqlite::Connection::open(jit.state_dir().join("aws-jit.sqlite3"))
                .expect("sqlite");
            let text: String = db
                .query_row("SELECT json FROM requests WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .expect("row");
            let mut v: Value = serde_json::from_str(&text).expect("json");
            f(&mut v);
            db.execute(
                "UPDATE requests SET json = ?1 WHERE id = ?2",
                [v.to_string(), id.to_string()],
            )
            .expect("update");
        }
    }
}

#[test]
fn policy_changed_after_approval_is_refused_at_attach() {
    let iam = Iam::new();
    for backend in BOTH {
        let user = iam.create_user();
        let jit = Jit::new(backend);
        let id = jit.request_user(&user, &[]);
        jit.run(&["approve", &id, "--approver", APPROVER]).ok();
        // Widen the policy, even "fixing up" the recorded request-time hash.
        tamper(&jit, &id, |v| {
            let wide = serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]});
            v["policy_sha256"] = Value::String(aws_jit::digest::policy_sha256(&wide));
            v["policy"] = wide;
        });
        let r = jit.run(&["attach", &id]).code(5);
        assert!(
            r.stderr.contains("differs from the one approved"),
            "{}",
            r.stderr
        );
        assert!(
            iam.user_policies(&user).is_empty(),
            "a tampered policy reached AWS"
        );
        assert!(iam.jit_policies_named(&id).is_empty());
    }
}

#[test]
fn policy_changed_before_approval_cannot_be_approved() {
    let jit = Jit::new(Backend::Redis);
    let id = jit.request_user("alice", &[]);
    tamper(&jit, &id, |v| {
        v["policy"]["Statement"][0]["Action"] = Value::String("*".into())
    });
    jit.run(&["approve", &id, "--approver", APPROVER]).code(5);
    assert_eq!(jit.state(&id), "pending");
}

#[test]
fn concurrent_approve_and_attach_make_exactly_one_policy() {
    let iam = Iam::new();
    for backend in BOTH {
        let user = iam.create_user();
        let jit = Jit::new(backend);
        let id = jit.request_user(&user, &[]);
        let runs: Vec<std::process::Child> = [APPROVER, APPROVER2]
            .iter()
            .map(|who| {
                jit.shell(&format!(
                    "\"$0\" approve {id} --approver {who}; \"$0\" attach {id}; exit 0"
                ))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("spawn")
            })
            .collect();
        for mut c in runs {
            c.wait().expect("wait");
        }
        // Whatever interleaving happened, converge and check: one policy, attached once.
        jit.run(&["attach", &id]).ok();
        assert_eq!(jit.state(&id), "active");
        assert_eq!(iam.jit_policies_named(&id).len(), 1, "{backend:?}");
        assert_eq!(iam.user_policies(&user).len(), 1);
        let rec = jit.record(&id);
        let approvals = rec["request"]["approvals"].as_array().map(Vec::len);
        assert_eq!(
            approvals,
            Some(1),
            "quorum 1: exactly one approval recorded"
        );
    }
}

#[test]
fn concurrent_expire_runs_act_once() {
    let iam = Iam::new();
    for backend in BOTH {
        let user = iam.create_user();
        let jit = Jit::new(backend);
        let ids: Vec<String> = (0..3).map(|_| jit.request_user(&user, &[])).collect();
        for id in &ids {
            jit.approve_and_attach(id);
        }
        let children: Vec<_> = (0..3)
            .map(|_| {
                jit.cmd(&["expire", "--at", FAR_FUTURE, "--output", "json"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        let mut expired_total = 0;
        for c in children {
            let out: Run = c.wait_with_output().expect("wait").into();
            let v = out.ok().json();
            expired_total += v["expired"].as_array().map(Vec::len).unwrap_or(0);
        }
        assert_eq!(
            expired_total,
            ids.len(),
            "each grant expired by exactly one run"
        );
        for id in &ids {
            assert_eq!(jit.state(id), "expired");
            let timeline = jit.record(id)["timeline"].clone();
            let n = timeline
                .as_array()
                .expect("timeline")
                .iter()
                .filter(|e| e["action"] == "remove_begin")
                .count();
            assert_eq!(n, 1, "{id} claimed more than once: {timeline}");
        }
        assert!(iam.user_policies(&user).is_empty());
    }
}

#[test]
fn failed_removal_is_retried_by_every_later_run_until_aws_confirms() {
    let iam = Iam::new();
    let user = iam.create_user();
    let mut jit = Jit::new(Backend::Redis);
    let id = jit.request_user(&user, &[]);
    jit.approve_and_attach(&id);
    let good = aws_endpoint();
    // AWS unreachable: a closed loopback port.
    jit.set("AWS_ENDPOINT_URL", &dead_endpoint());
    for _ in 0..2 {
        let r = jit
            .run(&["expire", "--at", FAR_FUTURE, "--output", "json"])
            .code(6);
        assert_eq!(r.json()["failed"][0]["request_id"], id.as_str());
        let rec = jit.record(&id)["request"].clone();
        assert_eq!(rec["state"], "removing");
        assert!(rec["last_error"].as_str().is_some_and(|e| !e.is_empty()));
        assert_eq!(
            iam.user_policies(&user).len(),
            1,
            "still attached while AWS is down"
        );
    }
    jit.set("AWS_ENDPOINT_URL", &good);
    jit.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(jit.state(&id), "expired");
    assert!(iam.user_policies(&user).is_empty());
    assert!(iam.jit_policies_named(&id).is_empty());
}

#[test]
fn attach_failure_keeps_request_approved_and_retryable() {
    let iam = Iam::new();
    let jit = Jit::new(Backend::Local);
    let missing = unique("nosuchuser");
    let id = jit.request_user(&missing, &[]);
    // The user goes away between the request (which reads it) and the attach.
    iam.delete_user(&missing);
    jit.run(&["approve", &id, "--approver", APPROVER]).ok();
    let r = jit.run(&["attach", &id]).code(3);
    assert!(r.stderr.contains(&missing), "{}", r.stderr);
    let rec = jit.record(&id)["request"].clone();
    assert_eq!(rec["state"], "approved");
    assert!(rec["last_error"]
        .as_str()
        .is_some_and(|e| e.contains(&missing)));
    assert!(
        iam.jit_policies_named(&id).is_empty(),
        "nothing created for a missing user"
    );
    // Once the user exists the same request attaches.
    iam.rt
        .block_on(iam.client.create_user().user_name(&missing).send())
        .expect("CreateUser");
    jit.run(&["attach", &id]).ok();
    assert_eq!(iam.user_policies(&missing).len(), 1);
}

#[test]
fn redis_unreachable_exits_6_with_a_clear_message() {
    let port = closed_port();
    let mut jit = Jit::new(Backend::Redis);
    jit.set("BACKEND_URL", "127.0.0.1")
        .set("BACKEND_PORT", &port.to_string());
    for args in [vec!["status"], vec!["expire"]] {
        let r = jit.run(&args).code(6);
        assert!(
            r.stderr.contains("cannot reach Redis") && r.stderr.contains("BACKEND_URL"),
            "{}",
            r.stderr
        );
    }
    let r = jit
        .run(&[
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
        ])
        .code(6);
    assert!(r.stderr.contains("cannot reach Redis"), "{}", r.stderr);
}

#[test]
fn bad_input_names_the_field_and_changes_nothing() {
    let jit = Jit::new(Backend::Local);
    let dir = tempfile::tempdir().expect("dir");
    let bad_json = dir.path().join("bad.json");
    std::fs::write(&bad_json, "{\"Version\": ").expect("write");
    let bad_json = bad_json.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--ttl", "soon"], "--ttl"),
        (vec!["--ttl", "0s"], "--ttl"),
        (vec!["--iam-user", "bad name"], "--iam-user"),
        (vec!["--policy-name", "has/slash"], "--policy-name"),
        (vec!["--requester", "not-an-email"], "--requester"),
        (vec!["--policy-file", bad_json.as_str()], "--policy-file"),
        (
            vec!["--policy-file", "/nonexistent/p.json"],
            "--policy-file",
        ),
    ];
    for (override_args, field) in cases {
        let mut args = vec!["request", "--purpose", "p"];
        let has = |f: &str| override_args.contains(&f);
        if !has("--requester") {
            args.extend(["--requester", REQUESTER]);
        }
        if !has("--iam-user") {
            args.extend(["--iam-user", "alice"]);
        }
        if !has("--policy-file") {
            args.extend([
                "--service",
                "s3",
                "--actions",
                "GetObject",
                "--resources",
                "arn:aws:s3:::b/*",
            ]);
        }
        args.extend(override_args.iter().copied());
        let r = jit.run(&args).code(2);
        assert!(r.stderr.contains(field), "{field}: {}", r.stderr);
    }
    // clap-level usage errors are exit 2 as well.
    jit.run(&["request", "--purpose", "p"]).code(2);
    jit.run(&["expire", "--at", "tomorrow"]).code(2);
    jit.run(&["status", "not-an-id"]).code(2);
    jit.run(&["status", "jit-000000000000"]).code(3);
    assert_eq!(count_requests(&jit), 0);
}

#[test]
fn attach_after_a_crash_half_way_converges_to_one_policy() {
    let iam = Iam::new();
    for backend in BOTH {
        let user = iam.create_user();
        let mut jit = Jit::new(backend);
        jit.set("JIT_LEASE", "1s");
        let id = jit.request_user(&user, &[]);
        jit.approve_and_attach(&id);
        let arn = jit.record(&id)["request"]["grant"]["policy_arn"].clone();
        // Rewind the record to "attach claimed, AWS done, crashed before recording":
        // state attaching, lease already run out, no grant recorded.
        tamper(&jit, &id, |v| {
            v["state"] = "attaching".into();
            v["lease"] = serde_json::json!({"owner": "crashed", "until": "2000-01-01T00:00:00Z"});
            v.as_object_mut().expect("object").remove("grant");
        });
        if backend == Backend::Redis {
            let client = redis::Client::open(redis_url()).expect("redis url");
            let mut con = client.get_connection().expect("redis");
            let key = format!("{{{}}}:req:{id}", jit.prefix);
            let _: () = redis::cmd("HSET")
                .arg(&key)
                .arg("state")
                .arg("attaching")
                .query(&mut con)
                .expect("HSET");
        } else {
            let db = rusqlite::Connection::open(jit.state_dir().join("aws-jit.sqlite3"))
                .expect("sqlite");
            db.execute(
                "UPDATE requests SET state = 'attaching' WHERE id = ?1",
                [&id],
            )
            .expect("update");
        }
        jit.run(&["attach", &id]).ok();
        let rec = jit.record(&id)["request"].clone();
        assert_eq!(rec["state"], "active");
        assert_eq!(
            rec["grant"]["policy_arn"], arn,
            "adopted the policy the crashed run made"
        );
        assert_eq!(iam.jit_policies_named(&id).len(), 1);
        assert_eq!(iam.user_policies(&user).len(), 1);
        // A policy of the same name that belongs to another request is never adopted.
        let other = jit.request_user(&user, &["--policy-name", &id]);
        jit.run(&["approve", &other, "--approver", APPROVER]).ok();
        let r = jit.run(&["attach", &other]).code(2);
        assert!(
            r.stderr.contains("belongs to another request"),
            "{}",
            r.stderr
        );
        assert_eq!(jit.state(&other), "approved");
    }
}

fn request_with_policy(jit: &Jit, user: &str, policy: &Value) -> Run {
    jit.request()
        .flag("--purpose", "p")
        .flag("--iam-user", user)
        .policy(policy)
        .flag("--output", "json")
        .run()
}

#[test]
fn blocking_findings_refuse_the_request_and_store_nothing() {
    let jit = Jit::new(Backend::Local);
    let bad = [
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::b/*"}]}),
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s4:::b/*"}]}),
        serde_json::json!({"Statement":[{"Effect":"Maybe","Action":"s3:GetObject","Resource":"*"}]}),
    ];
    for policy in bad {
        let r = request_with_policy(&jit, "alice", &policy).code(2);
        assert!(
            r.json()["findings"]
                .as_array()
                .is_some_and(|f| !f.is_empty()),
            "{}",
            r.stdout
        );
        assert!(r.stderr.contains("nothing was stored"), "{}", r.stderr);
    }
    let mut limited = Jit::new(Backend::Local);
    limited.set("ALLOWED_SERVICES", "s3");
    let ec2 = serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}]});
    request_with_policy(&limited, "alice", &ec2).code(2);
    assert_eq!(count_requests(&jit), 0);
    assert_eq!(count_requests(&limited), 0);
}

#[test]
fn security_findings_need_an_audited_acknowledgement() {
    let iam = Iam::new();
    let user = iam.create_user();
    let jit = Jit::new(Backend::Redis);
    let escalation = serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::123456789012:user/someone"}]});
    let r = request_with_policy(&jit, &user, &escalation).ok().json();
    let id = r["id"].as_str().expect("id").to_string();
    assert!(
        r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["severity"] == "security"),
        "{r}"
    );
    let codes = jit.security_codes(&id);
    assert!(!codes.is_empty());
    // No acknowledgement: refused, naming the findings, never telling an automated
    // caller which flag would make it pass.
    let refused = jit.run(&["approve", &id, "--approver", APPROVER]).code(5);
    assert!(
        codes.iter().all(|c| refused.stderr.contains(c.as_str()))
            && !refused.stderr.contains("--acknowledge-findings"),
        "{}",
        refused.stderr
    );
    // The bare flag accepts nothing: it is refused with the codes to name.
    let bare = jit
        .run(&[
            "approve",
            &id,
            "--approver",
            APPROVER,
            "--acknowledge-findings",
        ])
        .code(2);
    assert!(
        codes.iter().all(|c| bare.stderr.contains(c.as_str())),
        "{}",
        bare.stderr
    );
    // Naming a code the request does not have is refused; so is naming too few.
    jit.run(&[
        "approve",
        &id,
        "--approver",
        APPROVER,
        "--acknowledge-findings",
        &format!("{},full-wildcard", codes.join(",")),
    ])
    .code(2);
    if codes.len() > 1 {
        let partial = jit
            .run(&[
                "approve",
                &id,
                "--approver",
                APPROVER,
                "--acknowledge-findings",
                &codes[0],
            ])
            .code(5);
        assert!(
            partial.stderr.contains(codes[1].as_str()),
            "{}",
            partial.stderr
        );
    }
    assert_eq!(jit.state(&id), "pending");
    jit.run(&[
        "approve",
        &id,
        "--approver",
        APPROVER,
        "--acknowledge-findings",
        &codes.join(","),
    ])
    .ok();
    assert_eq!(
        jit.record(&id)["request"]["approvals"][0]["acknowledged"],
        serde_json::json!(codes)
    );
    let rec = jit.record(&id);
    assert_eq!(
        rec["request"]["approvals"][0]["acknowledged_findings"],
        true
    );
    let approve_entry = rec["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .find(|e| e["action"] == "approve")
        .cloned()
        .expect("approve entry");
    assert!(
        approve_entry["reason"]
            .as_str()
            .is_some_and(|r| r.contains("acknowledged")),
        "{approve_entry}"
    );
    // `status` shows the findings to people too.
    let text = jit.run(&["status", &id]).ok().stdout;
    assert!(
        text.contains("findings:") && text.contains("security"),
        "{text}"
    );
}

#[test]
fn plain_language_request_runs_the_whole_cycle() {
    let iam = Iam::new();
    let user = iam.create_user();
    let jit = Jit::new(Backend::Local);
    let r = jit
        .run(&[
            "request",
            "--purpose",
            "debug ingest",
            "--requester",
            REQUESTER,
            "--iam-user",
            &user,
            "--policy-description",
            "read objects in bucket team-logs",
            "--generator",
            "rules",
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(r["policy_source"], "rules");
    let id = r["id"].as_str().expect("id").to_string();
    let statements = r["policy"]["Statement"]
        .as_array()
        .expect("statements")
        .clone();
    let get = statements
        .iter()
        .find(|s| {
            s["Action"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "s3:GetObject"))
        })
        .expect("GetObject statement");
    assert_eq!(
        get["Resource"],
        serde_json::json!(["arn:aws:s3:::team-logs/*"])
    );
    assert!(
        !statements.iter().any(|s| s["Action"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "s3:GetBucketPolicy"))),
        "bucket configuration reads are not part of reading objects"
    );
    jit.approve_and_attach(&id);
    let arn = jit.record(&id)["request"]["grant"]["policy_arn"]
        .as_str()
        .expect("arn")
        .to_string();
    assert_eq!(iam.policy_document(&arn), r["policy"]);
    jit.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert!(!iam.policy_exists(&arn));
    // A description it cannot understand is refused with what to add.
    let refused = jit
        .run(&[
            "request",
            "--purpose",
            "p",
            "--requester",
            REQUESTER,
            "--iam-user",
            &user,
            "--policy-description",
            "give me access to everything",
            "--generator",
            "rules",
        ])
        .code(2);
    assert!(
        refused.stderr.contains("--policy-description"),
        "{}",
        refused.stderr
    );
}

#[test]
fn attach_on_an_active_grant_never_rewrites_aws() {
    let iam = Iam::new();
    let user = iam.create_user();
    let jit = Jit::new(Backend::Redis);
    let id = jit.request_user(&user, &[]);
    jit.approve_and_attach(&id);
    let rec = jit.record(&id)["request"].clone();
    let arn = rec["grant"]["policy_arn"]
        .as_str()
        .expect("arn")
        .to_string();
    tamper(&jit, &id, |v| {
        v["policy"]["Statement"][0]["Action"] = Value::String("*".into())
    });
    jit.run(&["attach", &id]).ok();
    assert_eq!(
        iam.policy_document(&arn),
        rec["policy"],
        "a second attach changed what AWS holds"
    );
    assert_eq!(iam.jit_policies_named(&id).len(), 1);
}

#[test]
fn one_unreadable_record_does_not_stop_other_expiries() {
    let iam = Iam::new();
    let user = iam.create_user();
    for backend in BOTH {
        let jit = Jit::new(backend);
        let broken = jit.request_user(&user, &[]);
        let healthy = jit.request_user(&user, &[]);
        for id in [&broken, &healthy] {
            jit.approve_and_attach(id);
        }
        // As a newer version might write it: a state this binary does not know.
        tamper(&jit, &broken, |v| v["state"] = "quarantined".into());
        let r = jit
            .run(&["expire", "--at", FAR_FUTURE, "--output", "json"])
            .code(6);
        let v = r.json();
        assert_eq!(
            v["expired"],
            serde_json::json!([healthy]),
            "{backend:?}: {}",
            r.stdout
        );
        assert_eq!(v["failed"][0]["request_id"], broken.as_str());
        assert_eq!(jit.state(&healthy), "expired");
        assert!(iam.jit_policies_named(&healthy).is_empty());
    }
}

#[test]
fn unattached_approvals_time_out() {
    let mut jit = Jit::new(Backend::Local);
    jit.set("JIT_PENDING_TIMEOUT", "1h");
    let id = jit.request_user("alice", &[]);
    jit.run(&["approve", &id, "--approver", APPROVER]).ok();
    jit.run(&["expire"]).ok();
    assert_eq!(jit.state(&id), "approved");
    jit.run(&["expire", "--at", FAR_FUTURE]).ok();
    assert_eq!(jit.state(&id), "timed_out");
    jit.run(&["attach", &id]).code(4);
}

#[test]
fn quorum_is_fixed_when_the_request_is_made() {
    let mut jit = Jit::new(Backend::Redis);
    jit.set("JIT_APPROVAL_QUORUM", "2");
    let id = jit.request_user("alice", &[]);
    // An approver whose own environment says 1 cannot complete it alone.
    jit.set("JIT_APPROVAL_QUORUM", "1");
    jit.run(&["approve", &id, "--approver", APPROVER]).ok();
    assert_eq!(jit.state(&id), "pending");
    jit.run(&["approve", &id, "--approver", APPROVER2]).ok();
    assert_eq!(jit.state(&id), "approved");
}

#[test]
fn revoking_an_unattached_approval_needs_no_aws() {
    let mut jit = Jit::new(Backend::Local);
    let id = jit.request_user("alice", &[]);
    jit.run(&["approve", &id, "--approver", APPROVER]).ok();
    jit.set("AWS_ENDPOINT_URL", &dead_endpoint());
    jit.run(&["revoke", &id, "--by", APPROVER, "--reason", "not needed"])
        .ok();
    assert_eq!(jit.state(&id), "revoked");
}

#[test]
fn usage_errors_with_json_output_print_one_error_document() {
    let jit = Jit::new(Backend::Local);
    let r = jit
        .run(&["request", "--output", "json", "--purpose"])
        .code(2);
    assert_eq!(r.json()["error"]["exit_code"], 2);
    let r = jit
        .run(&["status", "--limit", "0", "--output", "json"])
        .code(2);
    assert!(r.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("--limit")));
}
