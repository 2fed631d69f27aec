//! The latency and fault proxy (`scripts/fault_proxy.py`) from tests: one in front of
//! moto_server (AWS calls, with an AWS account of the test's own so `reconcile` sees only
//! what the test made) or in front of redis-server (lost replies, an outage).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{aws_endpoint, redis_url, sdk_config};

pub struct FaultProxy {
    child: Child,
    /// Where clients connect: `http://127.0.0.1:PORT` or `redis://127.0.0.1:PORT/0`.
    pub url: String,
    control: String,
    /// The AWS account this proxy's calls land in (HTTP mode).
    pub account: String,
}

fn script() -> String {
    format!("{}/scripts/fault_proxy.py", env!("CARGO_MANIFEST_DIR"))
}

/// A fresh 12-digit account id: each test has an AWS account of its own in moto.
pub fn fresh_account() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:012}",
        (n ^ u128::from(std::process::id()) << 20) % 1_000_000_000_000
    )
}

fn spawn(args: &[&str]) -> (Child, Vec<String>) {
    let mut child = Command::new("python3")
        .arg(script())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start scripts/fault_proxy.py (python3)");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let n = if args[0] == "redis" { 2 } else { 1 };
    let ports = (0..n)
        .map(|_| lines.next().expect("port").expect("port line"))
        .collect();
    (child, ports)
}

impl FaultProxy {
    /// In front of moto_server, adding `latency_ms` to every call, in an account of its own.
    pub fn aws(latency_ms: u64) -> FaultProxy {
        let account = fresh_account();
        let (child, ports) = spawn(&[
            "http",
            "--upstream",
            &aws_endpoint(),
            "--latency-ms",
            &latency_ms.to_string(),
            "--account",
            &account,
        ]);
        let url = format!("http://127.0.0.1:{}", ports[0]);
        FaultProxy {
            child,
            control: url.clone(),
            url,
            account,
        }
    }

    /// In front of the test redis-server.
    pub fn redis() -> FaultProxy {
        let up = redis_url();
        let hostport = up
            .trim_start_matches("redis://")
            .split('/')
            .next()
            .expect("host:port")
            .to_string();
        let (child, ports) = spawn(&["redis", "--upstream", &hostport]);
        FaultProxy {
            child,
            url: format!("redis://127.0.0.1:{}/0", ports[0]),
            control: format!("http://127.0.0.1:{}", ports[1]),
            account: String::new(),
        }
    }

    fn call(&self, path: &str, body: Option<Value>) -> Value {
        let client = reqwest::blocking::Client::new();
        let url = format!("{}/__proxy/{path}", self.control);
        let resp = match body {
            Some(b) => client.post(&url).json(&b).send(),
            None => client.get(&url).send(),
        }
        .expect("proxy control");
        resp.json().expect("proxy control answer")
    }

    /// Add a rule (see scripts/fault_proxy.py): `{"op", "times", "action", ...}`.
    pub fn rule(&self, rule: Value) -> &Self {
        self.call("rules", Some(rule));
        self
    }

    pub fn clear(&self) {
        self.call("clear", Some(json!({})));
    }

    /// Every call seen: `{"op", "action", "arg"}`.
    pub fn log(&self) -> Vec<Value> {
        self.call("log", None)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn count(&self, op: &str) -> usize {
        self.log().iter().filter(|e| e["op"] == op).count()
    }

    /// Wait until `op` was seen (at most 30 s).
    pub fn wait_for(&self, op: &str) {
        for _ in 0..600 {
            if self.count(op) > 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{op} never reached the proxy");
    }

    /// SDK config reaching moto through this proxy (so in its account).
    pub fn sdk(&self, rt: &tokio::runtime::Runtime) -> aws_config::SdkConfig {
        let base = sdk_config(rt);
        base.into_builder().endpoint_url(&self.url).build()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// IAM through a proxy: the test's own account.
pub struct AccountIam {
    pub rt: tokio::runtime::Runtime,
    pub client: aws_sdk_iam::Client,
}

impl AccountIam {
    pub fn new(proxy: &FaultProxy) -> AccountIam {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let conf = proxy.sdk(&rt);
        AccountIam {
            client: aws_sdk_iam::Client::new(&conf),
            rt,
        }
    }

    pub fn create_user(&self) -> String {
        let name = crate::common::unique("u");
        self.rt
            .block_on(self.client.create_user().user_name(&name).send())
            .expect("CreateUser");
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

    /// ARNs of the policies under /jit/.
    pub fn jit_policies(&self) -> Vec<String> {
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
            .filter_map(|p| p.arn().map(str::to_string))
            .collect()
    }

    pub fn policy_exists(&self, arn: &str) -> bool {
        self.rt
            .block_on(self.client.get_policy().policy_arn(arn).send())
            .is_ok()
    }
}

/// Identity Center through a proxy: the test's own account's instance and identity store.
pub struct AccountSso {
    pub rt: tokio::runtime::Runtime,
    pub admin: aws_sdk_ssoadmin::Client,
    pub store: aws_sdk_identitystore::Client,
    pub instance_arn: String,
    pub store_id: String,
}

impl AccountSso {
    pub fn new(proxy: &FaultProxy) -> AccountSso {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let conf = proxy.sdk(&rt);
        let admin = aws_sdk_ssoadmin::Client::new(&conf);
        let store = aws_sdk_identitystore::Client::new(&conf);
        let out = rt
            .block_on(admin.list_instances().send())
            .expect("ListInstances");
        let inst = out.instances().first().expect("an instance");
        let instance_arn = inst.instance_arn().expect("arn").to_string();
        let store_id = inst.identity_store_id().expect("store").to_string();
        AccountSso {
            rt,
            admin,
            store,
            instance_arn,
            store_id,
        }
    }

    /// (user name, user id) of a new user with this email.
    pub fn create_user(&self, email: &str) -> (String, String) {
        let name = crate::common::unique("sso");
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
                            .given_name("Col")
                            .family_name("League")
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

    /// (name, arn) of a permission set an administrator made.
    pub fn create_permission_set(&self) -> (String, String) {
        let name: String = crate::common::unique("ps").chars().take(32).collect();
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

    /// An administrator's own assignment (standing access).
    pub fn assign(&self, account: &str, ps_arn: &str, user_id: &str) {
        self.rt
            .block_on(
                self.admin
                    .create_account_assignment()
                    .instance_arn(&self.instance_arn)
                    .target_type(aws_sdk_ssoadmin::types::TargetType::AwsAccount)
                    .target_id(account)
                    .permission_set_arn(ps_arn)
                    .principal_type(aws_sdk_ssoadmin::types::PrincipalType::User)
                    .principal_id(user_id)
                    .send(),
            )
            .expect("CreateAccountAssignment");
    }

    pub fn unassign(&self, account: &str, ps_arn: &str, user_id: &str) {
        self.rt
            .block_on(
                self.admin
                    .delete_account_assignment()
                    .instance_arn(&self.instance_arn)
                    .target_type(aws_sdk_ssoadmin::types::TargetType::AwsAccount)
                    .target_id(account)
                    .permission_set_arn(ps_arn)
                    .principal_type(aws_sdk_ssoadmin::types::PrincipalType::User)
                    .principal_id(user_id)
                    .send(),
            )
            .expect("DeleteAccountAssignment");
    }

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

    pub fn exists(&self, ps_arn: &str) -> bool {
        self.rt
            .block_on(
                self.admin
                    .describe_permission_set()
                    .instance_arn(&self.instance_arn)
                    .permission_set_arn(ps_arn)
                    .send(),
            )
            .is_ok()
    }
}
