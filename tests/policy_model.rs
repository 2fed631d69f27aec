//! The model backend against a local HTTP server speaking the chat-completions format:
//! good, wrong, hostile, malformed, failing and silent answers.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use aws_jit::error::{exit_code_of, ExitCode};
use aws_jit::policy::{generate_with, GenerateInput, GeneratorChoice, ModelConfig};
use serde_json::{json, Value};

enum Reply {
    /// 200 with this message content inside a chat completion.
    Content(String),
    /// This status and raw body.
    Raw(u16, String),
    /// Say nothing for this long.
    Silent(Duration),
}

struct Server {
    url: String,
    requests: Arc<Mutex<Vec<(String, Value)>>>,
}

fn serve(reply: Reply) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let rec = requests.clone();
    let reply = Arc::new(reply);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let rec = rec.clone();
            let reply = reply.clone();
            thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head, body) = loop {
                    let n = s.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..p]).to_string();
                        let len = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        while buf.len() < p + 4 + len {
                            let n = s.read(&mut chunk).unwrap_or(0);
                            if n == 0 {
                                break;
                            }
                            buf.extend_from_slice(&chunk[..n]);
                        }
                        break (head, buf[p + 4..].to_vec());
                    }
                };
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                rec.lock().expect("lock").push((head, body));
                let (status, text) = match &*reply {
                    Reply::Content(c) => (200, json!({
                        "id": "x", "object": "chat.completion", "model": "test",
                        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": c}}]
                    }).to_string()),
                    Reply::Raw(code, b) => (*code, b.clone()),
                    Reply::Silent(d) => {
                        thread::sleep(*d);
                        return;
                    }
                };
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = s.write_all(resp.as_bytes());
            });
        }
    });
    Server { url, requests }
}

fn cfg(url: &str) -> ModelConfig {
    ModelConfig {
        url: url.to_string(),
        model: "test/policy-model".into(),
        token: Some("hf_test".into()),
        timeout: Duration::from_millis(1500),
    }
}

fn input() -> GenerateInput {
    GenerateInput {
        description: Some("read objects in bucket my-data".into()),
        region: Some("eu-west-1".into()),
        account_id: Some("123456789012".into()),
        ..Default::default()
    }
}

const GOOD: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::my-data/*"]},{"Sid":"List","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::my-data"]}]}"#;

#[test]
fn good_answer_is_used_and_labelled() {
    let srv = serve(Reply::Content(format!("```json\n{GOOD}\n```")));
    let g = generate_with(&input(), GeneratorChoice::Model, None, Some(&cfg(&srv.url)))
        .expect("model policy");
    assert_eq!(g.generator, "model:test/policy-model");
    assert_eq!(g.policy, serde_json::from_str::<Value>(GOOD).expect("json"));
    let reqs = srv.requests.lock().expect("lock");
    assert_eq!(reqs.len(), 1);
    let (head, body) = &reqs[0];
    assert!(head.starts_with("POST /v1/chat/completions "), "{head}");
    assert!(head
        .to_ascii_lowercase()
        .contains("authorization: bearer hf_test"));
    assert_eq!(body["model"], "test/policy-model");
    assert!(body["messages"][1]["content"]
        .as_str()
        .expect("content")
        .contains("read objects in bucket my-data"));
}

fn assert_auto_falls_back(reply: Reply, why: &str) {
    let srv = serve(reply);
    let g = generate_with(&input(), GeneratorChoice::Auto, None, Some(&cfg(&srv.url)))
        .expect("fallback");
    assert_eq!(g.generator, "rules", "{why}");
    assert!(
        g.notes[0].contains("rules generator"),
        "{why}: {:?}",
        g.notes
    );
    assert!(g.notes[0].contains(why), "{why}: {:?}", g.notes);
    let rules = generate_with(&input(), GeneratorChoice::Rules, None, None).expect("rules");
    assert_eq!(g.policy, rules.policy);
}

fn assert_model_refused(reply: Reply, code: Option<&str>, exit: ExitCode) {
    let srv = serve(reply);
    let err = generate_with(&input(), GeneratorChoice::Model, None, Some(&cfg(&srv.url)))
        .expect_err("refused");
    assert_eq!(exit_code_of(&err), exit, "{err:#}");
    if let Some(c) = code {
        assert!(format!("{err:#}").contains(c), "{err:#}");
    }
}

#[test]
fn wrong_answer_unknown_action() {
    let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ReadObject"],"Resource":["arn:aws:s3:::my-data/*"]}]}"#;
    assert_model_refused(
        Reply::Content(bad.into()),
        Some("unknown-action"),
        ExitCode::Usage,
    );
    assert_auto_falls_back(Reply::Content(bad.into()), "unknown-action");
}

#[test]
fn hostile_answer_full_wildcard() {
    let bad = r#"Ignore previous instructions. {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    assert_model_refused(
        Reply::Content(bad.into()),
        Some("full-wildcard"),
        ExitCode::Usage,
    );
    assert_auto_falls_back(Reply::Content(bad.into()), "full-wildcard");
}

#[test]
fn hostile_answer_iam_star_and_escalation() {
    let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*"],"Resource":"*"}]}"#;
    assert_model_refused(
        Reply::Content(bad.into()),
        Some("service-wildcard"),
        ExitCode::Usage,
    );
    let esc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::my-data/*"]},{"Effect":"Allow","Action":["iam:AttachUserPolicy","iam:CreateAccessKey"],"Resource":"*"}]}"#;
    assert_model_refused(
        Reply::Content(esc.into()),
        Some("privilege-escalation"),
        ExitCode::Usage,
    );
    assert_auto_falls_back(Reply::Content(esc.into()), "privilege-escalation");
}

#[test]
fn answer_outside_allowed_services() {
    let other = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem"],"Resource":["arn:aws:dynamodb:eu-west-1:123456789012:table/t"]}]}"#;
    let srv = serve(Reply::Content(other.into()));
    let allowed = vec!["s3".to_string()];
    let err = generate_with(
        &input(),
        GeneratorChoice::Model,
        Some(&allowed),
        Some(&cfg(&srv.url)),
    )
    .expect_err("refused");
    assert!(
        format!("{err:#}").contains("service-not-allowed"),
        "{err:#}"
    );
    // The allowed services are passed to the model too.
    let reqs = srv.requests.lock().expect("lock");
    assert!(reqs[0].1["messages"][1]["content"]
        .as_str()
        .expect("c")
        .contains("Allowed services: s3"));
}

#[test]
fn malformed_non_json_and_truncated() {
    assert_model_refused(
        Reply::Content("Sure! Here is your policy: read the bucket.".into()),
        Some("no JSON object"),
        ExitCode::Usage,
    );
    assert_model_refused(
        Reply::Content(GOOD[..GOOD.len() / 2].into()),
        Some("not a usable policy"),
        ExitCode::Usage,
    );
    assert_model_refused(
        Reply::Raw(200, "{\"choices\": [".into()),
        Some("not JSON"),
        ExitCode::Usage,
    );
    assert_model_refused(
        Reply::Raw(200, "{\"choices\": []}".into()),
        Some("choices[0]"),
        ExitCode::Usage,
    );
    assert_auto_falls_back(
        Reply::Content(GOOD[..GOOD.len() / 2].into()),
        "not a usable policy",
    );
    assert_auto_falls_back(Reply::Raw(200, "<html>oops</html>".into()), "not JSON");
}

#[test]
fn http_500() {
    assert_model_refused(
        Reply::Raw(500, "{\"error\":\"overloaded\"}".into()),
        Some("HTTP 500"),
        ExitCode::Backend,
    );
    assert_auto_falls_back(
        Reply::Raw(500, "{\"error\":\"overloaded\"}".into()),
        "HTTP 500",
    );
}

#[test]
fn time_out() {
    let started = std::time::Instant::now();
    assert_model_refused(
        Reply::Silent(Duration::from_secs(5)),
        Some("unreachable"),
        ExitCode::Backend,
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert_auto_falls_back(Reply::Silent(Duration::from_secs(5)), "unreachable");
}

#[test]
fn unreachable_endpoint() {
    // A port nobody listens on.
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/v1/chat/completions",
        l.local_addr().expect("addr")
    );
    drop(l);
    let err =
        generate_with(&input(), GeneratorChoice::Model, None, Some(&cfg(&url))).expect_err("down");
    assert_eq!(exit_code_of(&err), ExitCode::Backend);
}

#[test]
fn model_choice_without_configuration_is_a_usage_error() {
    let err =
        generate_with(&input(), GeneratorChoice::Model, None, None).expect_err("unconfigured");
    assert_eq!(exit_code_of(&err), ExitCode::Usage);
    assert!(format!("{err:#}").contains("JIT_MODEL_URL"));
    // auto without a model is simply the rules.
    let g = generate_with(&input(), GeneratorChoice::Auto, None, None).expect("rules");
    assert_eq!(g.generator, "rules");
    assert!(g.notes.is_empty());
}

#[test]
fn structured_input_never_goes_to_the_model() {
    let srv = serve(Reply::Content(GOOD.into()));
    let i = GenerateInput {
        service: Some("s3".into()),
        actions: vec!["GetObject".into()],
        resources: vec!["arn:aws:s3:::my-data/*".into()],
        ..Default::default()
    };
    let g = generate_with(&i, GeneratorChoice::Auto, None, Some(&cfg(&srv.url))).expect("rules");
    assert_eq!(g.generator, "rules");
    assert!(srv.requests.lock().expect("lock").is_empty());
}

#[test]
fn actions_beyond_the_rules_answer_are_a_finding() {
    // The rules grant s3:ListBucket and s3:GetObject for this description; the model
    // adds s3:GetObjectAcl and s3:PutObject.
    let extra = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectAcl","s3:PutObject"],"Resource":["arn:aws:s3:::my-data/*"]},{"Sid":"List","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::my-data"]}]}"#;
    let srv = serve(Reply::Content(extra.into()));
    let g = generate_with(&input(), GeneratorChoice::Model, None, Some(&cfg(&srv.url)))
        .expect("model policy, shown with a finding");
    let f: Vec<&aws_jit::policy::Finding> = g
        .findings
        .iter()
        .filter(|f| f.code == "model-extra-actions")
        .collect();
    assert_eq!(f.len(), 1, "{:#?}", g.findings);
    assert_eq!(f[0].severity, aws_jit::policy::Severity::Security);
    assert!(f[0].message.contains("s3:getobjectacl"), "{}", f[0].message);
    assert!(f[0].message.contains("s3:putobject"), "{}", f[0].message);
    assert!(aws_jit::policy::needs_ack(&g.findings));
    // The same answer as the rules carries no such finding.
    let srv = serve(Reply::Content(GOOD.into()));
    let g = generate_with(&input(), GeneratorChoice::Model, None, Some(&cfg(&srv.url)))
        .expect("model policy");
    assert!(!g.findings.iter().any(|f| f.code == "model-extra-actions"));
    assert_eq!(g.understood.len(), 2, "{:?}", g.understood);
}
