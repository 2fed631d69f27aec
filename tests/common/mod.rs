//! Shared test harness: runs the real `aws-jit` binary against the real servers that
//! `make test` starts (redis-server, moto_server) and small HTTP receivers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

pub fn redis_url() -> String {
    std::env::var("JIT_TEST_REDIS_URL").expect(
        "JIT_TEST_REDIS_URL is not set: run the tests with `make test`, which starts redis-server",
    )
}

pub fn aws_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect(
        "AWS_ENDPOINT_URL is not set: run the tests with `make test`, which starts moto_server",
    )
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// An HTTP endpoint nothing answers: an unreachable AWS, webhook, ...
pub fn dead_endpoint() -> String {
    format!("http://127.0.0.1:{}", closed_port())
}

pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}{}{n}x{nanos:x}", std::process::id())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Redis,
    Local,
}

pub const BOTH: [Backend; 2] = [Backend::Redis, Backend::Local];

/// One isolated installation: its own key prefix or state directory.
pub struct Jit {
    pub env: Vec<(String, String)>,
    pub backend: Backend,
    pub prefix: String,
    _dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    pub fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// An instant after every grant a test makes: `expire --at FAR_FUTURE` removes them all.
pub const FAR_FUTURE: &str = "2099-01-01T00:00:00Z";

pub const APPROVER: &str = "boss@example.com";
pub const APPROVER2: &str = "lead@example.com";
pub const REQUESTER: &str = "dev@example.com";

impl Jit {
    pub fn new(backend: Backend) -> Jit {
        let dir = tempfile::tempdir().expect("temp dir");
        let prefix = unique("t");
        let mut env = vec![
            (
                "APPROVAL_LIST".to_string(),
                format!("{APPROVER},{APPROVER2}"),
            ),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("JIT_STATE_DIR".into(), dir.path().display().to_string()),
            ("JIT_KEY_PREFIX".into(), prefix.clone()),
        ];
        if let Ok(ep) = std::env::var("AWS_ENDPOINT_URL") {
            env.push(("AWS_ENDPOINT_URL".into(), ep));
        }
        if backend == Backend::Redis {
            env.push(("BACKEND_URL".into(), redis_url()));
        }
        Jit {
            env,
            backend,
            prefix,
            _dir: dir,
        }
    }

    pub fn set(&mut self, k: &str, v: &str) -> &mut Self {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    pub fn unset(&mut self, k: &str) -> &mut Self {
        self.env.retain(|(key, _)| key != k);
        self
    }

    pub fn state_dir(&self) -> PathBuf {
        self._dir.path().to_path_buf()
    }

    pub fn cmd<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_aws-jit"));
        c.args(args).env_clear();
        for k in ["PATH", "HOME", "LANG"] {
            if let Ok(v) = std::env::var(k) {
                c.env(k, v);
            }
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// `sh -c script` with this installation's environment; `$0` is the binary.
    pub fn shell(&self, script: &str) -> Command {
        let mut c = self.cmd::<&str>(&[]);
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_aws-jit"))
            .env_clear();
        for (k, v) in c.get_envs() {
            if let Some(v) = v {
                sh.env(k, v);
            }
        }
        let _ = &mut c;
        sh
    }

    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Run {
        self.cmd(args).output().expect("run aws-jit").into()
    }

    /// A `request` to build: by REQUESTER, purpose "debug the ingest job", TTL 2h, until
    /// a target, a policy or other flags are set.
    pub fn request(&self) -> RequestBuilder<'_> {
        RequestBuilder {
            jit: self,
            args: [
                "--purpose",
                "debug the ingest job",
                "--ttl",
                "2h",
                "--requester",
                REQUESTER,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        }
    }

    /// `request` for an IAM user (made in the emulator if missing: `request` reads it)
    /// with a small S3 read policy; returns the id.
    pub fn request_user(&self, user: &str, extra: &[&str]) -> String {
        Iam::new().ensure_user(user);
        self.request()
            .flag("--iam-user", user)
            .s3_read()
            .args(extra)
            .id()
    }

    /// The security finding codes of a request: what an approval must name.
    pub fn security_codes(&self, id: &str) -> Vec<String> {
        let rec = self.record(id);
        let mut codes: Vec<String> = rec["request"]["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["severity"] == "security")
            .filter_map(|f| f["code"].as_str().map(str::to_string))
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }

    /// Approve as `approver`, naming every security finding of the request (as an
    /// approver does after reading them); must succeed.
    pub fn approve_accepting_findings(&self, id: &str, approver: &str) {
        let codes = self.security_codes(id).join(",");
        let mut args = vec!["approve", id, "--approver", approver];
        if !codes.is_empty() {
            args.extend(["--acknowledge-findings", &codes]);
        }
        self.run(&args).ok();
    }

    /// Approve (as APPROVER) and attach; both must succeed.
    pub fn approve_and_attach(&self, id: &str) {
        self.run(&["approve", id, "--approver", APPROVER]).ok();
        self.run(&["attach", id]).ok();
    }

    pub fn state(&self, id: &str) -> String {
        let r = self.run(&["status", id, "--output", "json"]).ok();
        r.json()["request"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn record(&self, id: &str) -> Value {
        self.run(&["status", id, "--output", "json"]).ok().json()
    }
}

/// Flags of one `request`; a later flag of the same name replaces an earlier one.
pub struct RequestBuilder<'a> {
    jit: &'a Jit,
    args: Vec<String>,
}

impl RequestBuilder<'_> {
    /// Set `flag` to `value`, replacing the default or an earlier value.
    pub fn flag(mut self, flag: &str, value: &str) -> Self {
        match self.args.iter().position(|a| a == flag) {
            Some(i) if i + 1 < self.args.len() => self.args[i + 1] = value.to_string(),
            _ => self.args.extend([flag.to_string(), value.to_string()]),
        }
        self
    }

    /// Append flags as they are.
    pub fn args(mut self, extra: &[&str]) -> Self {
        self.args.extend(extra.iter().map(|s| s.to_string()));
        self
    }

    /// The small S3 read policy most tests grant.
    pub fn s3_read(self) -> Self {
        self.flag("--service", "s3")
            .flag("--actions", "GetObject,ListBucket")
            .flag(
                "--resources",
                "arn:aws:s3:::team-logs,arn:aws:s3:::team-logs/*",
            )
    }

    /// A policy document, through a file.
    pub fn policy(self, doc: &Value) -> Self {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), doc.to_string()).expect("write policy");
        let (_, path) = file.keep().expect("keep policy file");
        self.flag("--policy-file", &path.display().to_string())
    }

    pub fn run(self) -> Run {
        let mut all = vec!["request".to_string()];
        all.extend(self.args);
        self.jit.run(&all)
    }

    /// Run it, expect success, and return the new id.
    pub fn id(self) -> String {
        let json = self
            .args
            .windows(2)
            .any(|w| w[0] == "--output" && w[1] == "json");
        let r = self.run().ok();
        if json {
            r.json()["id"].as_str().unwrap_or_default().to_string()
        } else {
            r.stdout
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        }
    }
}

// ---------- AWS (moto) through the real SDK ----------

pub struct Iam {
    pub rt: tokio::runtime::Runtime,
    pub client: aws_sdk_iam::Client,
}

pub fn sdk_config(rt: &tokio::runtime::Runtime) -> aws_config::SdkConfig {
    let ep = aws_endpoint();
    rt.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_iam::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .endpoint_url(ep)
            .load(),
    )
}

impl Iam {
    pub fn new() -> Iam {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let conf = sdk_config(&rt);
        Iam {
            client: aws_sdk_iam::Client::new(&conf),
            rt,
        }
    }

    pub fn create_user(&self) -> String {
        let name = unique("u");
        self.rt
            .block_on(self.client.create_user().user_name(&name).send())
            .expect("CreateUser");
        name
    }

    /// The user `name`, made if it does not exist yet.
    pub fn ensure_user(&self, name: &str) {
        let exists = self
            .rt
            .block_on(self.client.get_user().user_name(name).send())
            .is_ok();
        if !exists {
            // Another test may make it at the same moment; either way it exists after.
            let _ = self
                .rt
                .block_on(self.client.create_user().user_name(name).send());
        }
    }

    /// Delete a user that has nothing attached (a target that vanished after the request).
    pub fn delete_user(&self, name: &str) {
        self.rt
            .block_on(self.client.delete_user().user_name(name).send())
            .expect("DeleteUser");
    }

    pub fn create_role(&self) -> String {
        let name = unique("r");
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        self.rt
            .block_on(
                self.client
                    .create_role()
                    .role_name(&name)
                    .assume_role_policy_document(trust)
                    .send(),
            )
            .expect("CreateRole");
        name
    }

    pub fn user_policies(&self, user: &str) -> Vec<String> {
        let out = self
            .rt
            .block_on(
                self.client
                    .list_attached_user_policies()
                    .user_name(user)
                    .send(),
            )
            .expect("ListAttachedUserPolicies");
        out.attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect()
    }

    pub fn role_policies(&self, role: &str) -> Vec<String> {
        let out = self
            .rt
            .block_on(
                self.client
                    .list_attached_role_policies()
                    .role_name(role)
                    .send(),
            )
            .expect("ListAttachedRolePolicies");
        out.attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect()
    }

    /// Our policies with this name under /jit/.
    pub fn jit_policies_named(&self, name: &str) -> Vec<String> {
        let out = self
            .rt
            .block_on(
                self.client
                    .list_policies()
                    .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                    .path_prefix("/jit/")
                    .max_items(1000)
                    .send(),
            )
            .expect("ListPolicies");
        out.policies()
            .iter()
            .filter(|p| p.policy_name() == Some(name))
            .filter_map(|p| p.arn().map(str::to_string))
            .collect()
    }

    pub fn policy_exists(&self, arn: &str) -> bool {
        self.rt
            .block_on(self.client.get_policy().policy_arn(arn).send())
            .is_ok()
    }

    pub fn policy_document(&self, arn: &str) -> Value {
        let p = self
            .rt
            .block_on(self.client.get_policy().policy_arn(arn).send())
            .expect("GetPolicy");
        let v = p
            .policy()
            .and_then(|p| p.default_version_id())
            .unwrap_or("v1")
            .to_string();
        let out = self
            .rt
            .block_on(
                self.client
                    .get_policy_version()
                    .policy_arn(arn)
                    .version_id(v)
                    .send(),
            )
            .expect("GetPolicyVersion");
        let doc = out
            .policy_version()
            .and_then(|v| v.document())
            .unwrap_or("{}")
            .to_string();
        let decoded = percent_decode(&doc);
        serde_json::from_str(&decoded).unwrap_or(Value::Null)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------- HTTP receiver for webhooks ----------

/// (raw body, signature header)
pub type Delivered = (Vec<u8>, Option<String>);

pub struct Receiver {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<Value>>>,
    /// Raw body and X-Aws-Jit-Signature header of each accepted delivery.
    pub raw: Arc<Mutex<Vec<Delivered>>>,
    pub fail: Arc<AtomicBool>,
    /// Answer 400 (a permanent refusal) while set.
    pub reject: Arc<AtomicBool>,
}

impl Receiver {
    /// Records every POSTed JSON body; answers 500 while `fail` is set.
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicBool::new(false));
        let reject = Arc::new(AtomicBool::new(false));
        let (b, f, rw, rj) = (bodies.clone(), fail.clone(), raw.clone(), reject.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut len = 0usize;
                let mut signature = None;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let l = line.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        if k.eq_ignore_ascii_case("x-aws-jit-signature") {
                            signature = Some(v.trim().to_string());
                        }
                    }
                }
                let mut body = vec![0u8; len];
                let _ = reader.read_exact(&mut body);
                let rejecting = rj.load(Ordering::SeqCst);
                let failing = f.load(Ordering::SeqCst) || rejecting;
                if !failing {
                    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                        b.lock().expect("lock").push(v);
                    }
                    rw.lock()
                        .expect("lock")
                        .push((body.clone(), signature.clone()));
                }
                let status = if rejecting {
                    "400 Bad Request"
                } else if failing {
                    "500 Internal Server Error"
                } else {
                    "200 OK"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Receiver {
            url,
            bodies,
            raw,
            fail,
            reject,
        }
    }

    pub fn events_for(&self, id: &str) -> Vec<String> {
        self.bodies
            .lock()
            .expect("lock")
            .iter()
            .filter(|b| b["request_id"] == id)
            .filter_map(|b| b["event"].as_str().map(str::to_string))
            .collect()
    }
}
