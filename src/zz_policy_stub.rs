// TEMPORARY stub of the policy API until src/policy lands.
use serde::{Deserialize, Serialize};
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Security,
    Warning,
}
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    pub statement: Option<usize>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub message: String,
    pub fix: String,
}
pub enum PolicyTarget {
    ManagedPolicy,
    PermissionSetInline,
}
pub struct ValidateOptions {
    pub allowed_services: Option<Vec<String>>,
    pub target: PolicyTarget,
}
pub fn validate(_doc: &serde_json::Value, _o: &ValidateOptions) -> Vec<Finding> {
    vec![]
}
pub fn blocking(f: &[Finding]) -> bool {
    f.iter().any(|f| f.severity == Severity::Error)
}
pub fn needs_ack(f: &[Finding]) -> bool {
    f.iter().any(|f| f.severity == Severity::Security)
}
pub struct GenerateInput {
    pub description: Option<String>,
    pub service: Option<String>,
    pub access: Vec<String>,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub region: Option<String>,
    pub account_id: Option<String>,
}
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GeneratorChoice {
    Rules,
    Model,
    Auto,
}
pub struct Generated {
    pub policy: serde_json::Value,
    pub generator: String,
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
}
pub fn generate(
    i: &GenerateInput,
    _c: GeneratorChoice,
    _a: Option<&[String]>,
) -> anyhow::Result<Generated> {
    let svc = i.service.clone().unwrap_or_default();
    let actions: Vec<String> = i.actions.iter().map(|a| format!("{svc}:{a}")).collect();
    Ok(Generated {
        policy: serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":actions,"Resource":i.resources}]}),
        generator: "rules".into(),
        findings: vec![],
        notes: vec![],
    })
}
