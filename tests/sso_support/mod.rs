//! Identity Center test support: SDK helpers against moto_server, and a fault-injecting
//! HTTP proxy that sits between the `aws-jit` binary and moto.
//!
//! Why a proxy: moto 5.2.5 answers every asynchronous Identity Center operation
//! (CreateAccountAssignment, DeleteAccountAssignment, ProvisionPermissionSet and the
//! Describe...Status calls) with SUCCEEDED at once, never IN_PROGRESS or FAILED, and it
//! does not implement DescribePermissionSetProvisioningStatus at all. Real AWS does all of
//! that, so the proxy forwards every call to moto but can rewrite a status, answer a call
//! itself, or inject an AWS error (ConflictException, ThrottlingException, ...) for a
//! given number of calls, keyed on the JSON protocol's X-Amz-Target operation name.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::common::{aws_endpoint, sdk_config, unique};

/// Where the emulator's Identity Center lives and SDK clients to inspect it.
pub struct Sso {
    pub rt: tokio::runtime::Runtime,
    pub admin: aws_sdk_ssoadmin::Client,
    pub store: aws_sdk_identitystore::Client,
    pub instance_arn: String,
    pub store_id: String,
}

impl Sso {
    pub fn new() -> Sso {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let conf = sdk_config(&rt);
        let admin = aws_sdk_ssoadmin::Client::new(&conf);
        let store = aws_sdk_identitystore::Client::new(&conf);
        let out = rt
            .block_on(admin.list_instances().send())
            .expect("ListInstances");
        let inst = out
            .instances()
            .first()
            .expect("moto lists a default instance");
        let instance_arn = inst.instance_arn().expect("instance arn").to_string();
        let store_id = inst.identity_store_id().expect("store id").to_string();
        Sso {
            rt,
            admin,
            store,
            instance_arn,
            store_id,
        }
    }

    /// A new identity store user; returns (user name, user id).
    pub fn create_user(&self, email: &str) -> (String, String) {
        let name = unique("sso");
        let out = self
            .rt
            .block_on(
                self.store
                    .create_user()
                    .identity_store_id(&self.store_id)
                    .user_name(&name)
                    .display_name(&name)
                    .name(
                        aws_sdk_identitystore::types::Name::builder()
                            .given_name("Dev")
                            .family_name("Eloper")
                            .build(),
                    )
                    .emails(
                        aws_sdk_identitystore::types::Email::builder()
                            .value(email)
                            .primary(true)
                            .build(),
                    )
                    .send(),
            )
            .expect("CreateUser");
        (name, out.user_id().to_string())
    }

    /// An existing permission set (as an administrator would have made); returns (name, arn).
    pub fn create_permission_set(&self) -> (String, String) {
        let name = unique("ps");
        let name: String = name.chars().take(32).collect();
        let out = self
            .rt
            .block_on(
                self.admin
                    .create_permission_set()
                    .instance_arn(&self.instance_arn)
                    .name(&name)
                    .description("standing permission set")
                    .session_duration("PT4H")
                    .send(),
            )
            .expect("CreatePermissionSet");
        let arn = out
            .permission_set()
            .and_then(|p| p.permission_set_arn())
            .expect("arn")
            .to_string();
        (name, arn)
    }

    /// Attach an IAM managed policy (by ARN) to a permission set, as an administrator would.
    pub fn attach_managed(&self, ps_arn: &str, policy_arn: &str) {
        self.rt
            .block_on(
                self.admin
                    .attach_managed_policy_to_permission_set()
                    .instance_arn(&self.instance_arn)
                    .permission_set_arn(ps_arn)
                    .managed_policy_arn(policy_arn)
                    .send(),
            )
            .expect("AttachManagedPolicyToPermissionSet");
    }

    /// Put an inline policy on a permission set.
    pub fn put_inline(&self, ps_arn: &str, doc: &Value) {
        self.rt
            .block_on(
                self.admin
                    .put_inline_policy_to_permission_set()
                    .instance_arn(&self.instance_arn)
                    .permission_set_arn(ps_arn)
                    .inline_policy(doc.to_string())
                    .send(),
            )
            .expect("PutInlinePolicyToPermissionSet");
    }

    /// User principal ids assigned this permission set in this account.
    pub fn assigned_users(&self, account: &str, ps_arn: &str) -> Vec<String> {
        let out = self
            .rt
            .block_on(
                self.admin
                    .list_account_assignments()
                    .instance_arn(&self.instance_arn)
                    .account_id(account)
                    .permission_set_arn(ps_arn)
                    .send(),
            )
            .expect("ListAccountAssignments");
        out.account_assignments()
            .iter()
            .filter_map(|a| a.principal_id().map(str::to_string))
            .collect()
    }

    /// ARNs of the permission sets with this name.
    pub fn permission_sets_named(&self, name: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .rt
                .block_on(
                    self.admin
                        .list_permission_sets()
                        .instance_arn(&self.instance_arn)
                        .set_next_token(token.clone())
                        .send(),
                )
                .expect("ListPermissionSets");
            for arn in out.permission_sets() {
                if let Ok(d) = self.rt.block_on(
                    self.admin
                        .describe_permission_set()
                        .instance_arn(&self.instance_arn)
                        .permission_set_arn(arn)
                        .send(),
                ) {
                    if d.permission_set().and_then(|p| p.name()) == Some(name) {
                        found.push(arn.clone());
                    }
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return found,
            }
        }
    }

    /// (name, session duration, description) of a permission set, None when gone.
    pub fn describe(&self, ps_arn: &str) -> Option<(String, String, String)> {
        let out = self
            .rt
            .block_on(
                self.admin
                    .describe_permission_set()
                    .instance_arn(&self.instance_arn)
                    .permission_set_arn(ps_arn)
                    .send(),
            )
            .ok()?;
        let p = out.permission_set()?;
        Some((
            p.name().unwrap_or_default().to_string(),
            p.session_duration().unwrap_or_default().to_string(),
            p.description().unwrap_or_default().to_string(),
        ))
    }

    pub fn inline_policy(&self, ps_arn: &str) -> Value {
        let out = self
            .rt
            .block_on(
                self.admin
                    .get_inline_policy_for_permission_set()
                    .instance_arn(&self.instance_arn)
                    .permission_set_arn(ps_arn)
                    .send(),
            )
            .expect("GetInlinePolicyForPermissionSet");
        serde_json::from_str(out.inline_policy().unwrap_or("null")).unwrap_or(Value::Null)
    }
}

/// What the proxy does with one matching call.
#[derive(Clone, Debug)]
pub enum Action {
    /// Forward to moto, then set `Status` (and `FailureReason`) inside the response's
    /// top-level `object` (e.g. "AccountAssignmentCreationStatus").
    SetStatus {
        object: &'static str,
        status: &'static str,
        reason: Option<&'static str>,
    },
    /// Answer without forwarding: `{object: {Status, RequestId, FailureReason}}`.
    Answer {
        object: &'static str,
        status: &'static str,
        request_id: &'static str,
        reason: Option<&'static str>,
    },
    /// Wait, then forward: a slow AWS call.
    Delay { millis: u64 },
    /// Answer with an AWS JSON-protocol error without forwarding.
    Fail {
        http: u16,
        code: &'static str,
        message: &'static str,
    },
}

#[derive(Clone, Debug)]
struct Rule {
    op: &'static str,
    times: usize,
    action: Action,
}

pub struct Proxy {
    pub url: String,
    rules: Arc<Mutex<Vec<Rule>>>,
    /// Operation names seen, in order.
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    pub fn start() -> Proxy {
        let upstream = aws_endpoint();
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (r, s) = (rules.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (r, s, up) = (r.clone(), s.clone(), upstream.clone());
                std::thread::spawn(move || serve(stream, &up, &r, &s));
            }
        });
        Proxy { url, rules, seen }
    }

    /// Apply `action` to the next `times` calls of operation `op` (e.g.
    /// "CreateAccountAssignment"). Rules for one operation are used in the order added.
    pub fn on(&self, op: &'static str, times: usize, action: Action) -> &Self {
        self.rules
            .lock()
            .expect("lock")
            .push(Rule { op, times, action });
        self
    }

    pub fn clear(&self) {
        self.rules.lock().expect("lock").clear();
    }

    pub fn count(&self, op: &str) -> usize {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .filter(|o| *o == op)
            .count()
    }

    /// Rules not used up yet (a test that expects all of them to fire checks this is 0).
    pub fn pending(&self) -> usize {
        self.rules
            .lock()
            .expect("lock")
            .iter()
            .map(|r| r.times)
            .sum()
    }
}

struct HttpMsg {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_msg(reader: &mut impl BufRead, until_eof: bool) -> Option<HttpMsg> {
    let mut start = String::new();
    if reader.read_line(&mut start).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            break;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0u8; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if until_eof {
        reader.read_to_end(&mut body).ok()?;
    }
    Some(HttpMsg {
        start: start.trim_end().to_string(),
        headers,
        body,
    })
}

fn serve(client: TcpStream, upstream: &str, rules: &Mutex<Vec<Rule>>, seen: &Mutex<Vec<String>>) {
    let Ok(read_half) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut out = client;
    while let Some(req) = read_msg(&mut reader, false) {
        let op = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))
            .and_then(|(_, v)| v.rsplit('.').next().map(str::to_string))
            .unwrap_or_default();
        seen.lock().expect("lock").push(op.clone());
        let action = {
            let mut rules = rules.lock().expect("lock");
            match rules.iter_mut().find(|r| r.op == op && r.times > 0) {
                Some(rule) => {
                    rule.times -= 1;
                    Some(rule.action.clone())
                }
                None => None,
            }
        };
        let (status, headers, body) = match action {
            Some(Action::Fail {
                http,
                code,
                message,
            }) => (
                format!("HTTP/1.1 {http} Injected"),
                vec![("x-amzn-ErrorType".to_string(), code.to_string())],
                json!({"__type": code, "message": message})
                    .to_string()
                    .into_bytes(),
            ),
            Some(Action::Answer {
                object,
                status,
                request_id,
                reason,
            }) => {
                let mut o = json!({"Status": status, "RequestId": request_id});
                if let Some(r) = reason {
                    o["FailureReason"] = json!(r);
                }
                (
                    "HTTP/1.1 200 OK".to_string(),
                    vec![],
                    Value::Object([(object.to_string(), o)].into_iter().collect())
                        .to_string()
                        .into_bytes(),
                )
            }
            Some(Action::SetStatus {
                object,
                status,
                reason,
            }) => match forward(upstream, &req) {
                Some(resp) => {
                    let mut v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
                    if v.get(object).is_some() {
                        v[object]["Status"] = json!(status);
                        if let Some(r) = reason {
                            v[object]["FailureReason"] = json!(r);
                        }
                    }
                    (resp.start, resp.headers, v.to_string().into_bytes())
                }
                None => return,
            },
            Some(Action::Delay { millis }) => {
                std::thread::sleep(std::time::Duration::from_millis(millis));
                match forward(upstream, &req) {
                    Some(resp) => (resp.start, resp.headers, resp.body),
                    None => return,
                }
            }
            None => match forward(upstream, &req) {
                Some(resp) => (resp.start, resp.headers, resp.body),
                None => return,
            },
        };
        let mut head = format!("{status}\r\n");
        for (k, v) in headers.iter().filter(|(k, _)| {
            !["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|h| k.eq_ignore_ascii_case(h))
        }) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            head.push_str("Content-Type: application/x-amz-json-1.1\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        if out.write_all(head.as_bytes()).is_err() || out.write_all(&body).is_err() {
            return;
        }
    }
}

fn forward(upstream: &str, req: &HttpMsg) -> Option<HttpMsg> {
    let mut up = TcpStream::connect(upstream).ok()?;
    let mut head = format!("{}\r\n", req.start);
    for (k, v) in req.headers.iter().filter(|(k, _)| {
        !["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|h| k.eq_ignore_ascii_case(h))
    }) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        req.body.len()
    ));
    up.write_all(head.as_bytes()).ok()?;
    up.write_all(&req.body).ok()?;
    let mut reader = BufReader::new(up);
    read_msg(&mut reader, true)
}
