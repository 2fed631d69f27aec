//! The policy engine: IAM action catalog, least-privilege generator (rules or a model),
//! and the validator that guards everything generated. Pure logic, except `model`, which
//! talks HTTP to an optional chat-completions endpoint. See docs/policy-engine.md.

pub mod arn;
pub mod catalog;
mod compare;
pub mod document;
pub mod findings;
pub mod generate;
pub mod model;
pub mod nl;
pub mod permission_set;
pub mod reach;
pub mod select;
pub mod summary;
pub mod target;
mod validate;
pub mod vocab;
pub mod words;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::JitError;

pub use catalog::AccessLevel;
pub use findings::{codes, Code, Finding, Severity};
pub use model::{ModelConfig, ModelError};
pub use validate::{ESCALATION_ACTIONS, PASSROLE_TARGETS};

/// Where the policy will live; decides the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyTarget {
    /// IAM customer managed policy: 6,144 characters without white space.
    #[default]
    ManagedPolicy,
    /// IAM Identity Center permission-set inline policy: 32,768 characters.
    #[value(name = "permission-set")]
    #[serde(rename = "permission-set")]
    PermissionSetInline,
}

#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// Lowercase service prefixes that may appear in Allow statements; `None` allows all.
    pub allowed_services: Option<Vec<String>>,
    pub target: PolicyTarget,
}

/// Validates a policy document. Reads only the catalog services the policy names.
pub fn validate(doc: &Value, opts: &ValidateOptions) -> Vec<Finding> {
    validate::validate(doc, opts)
}

/// Like `validate`, from text: a JSON syntax error becomes a `json-syntax` error finding.
pub fn validate_text(text: &str, opts: &ValidateOptions) -> Vec<Finding> {
    match serde_json::from_str::<Value>(text) {
        Ok(doc) => validate(&doc, opts),
        Err(e) => vec![Finding::new(
            codes::JSON_SYNTAX,
            format!("the policy is not valid JSON: {e}"),
            "fix the JSON syntax at the line and column shown",
        )],
    }
}

/// Any error-severity finding: the policy cannot be used.
pub fn blocking(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// Any security finding: approval needs an explicit acknowledgement.
pub fn needs_ack(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Security)
}

#[derive(Debug, Clone, Default)]
pub struct GenerateInput {
    /// Plain-language description ("read objects in bucket my-data").
    pub description: Option<String>,
    pub service: Option<String>,
    /// Access levels: read, list, write, tagging, permissions-management.
    pub access: Vec<String>,
    /// Explicit actions (`GetObject` with --service, or `s3:GetObject`); globs expand.
    pub actions: Vec<String>,
    /// ARNs (or `*`).
    pub resources: Vec<String>,
    pub region: Option<String>,
    pub account_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GeneratorChoice {
    /// The deterministic generator only.
    Rules,
    /// The model only (fails if it is not configured or its answer is refused).
    Model,
    /// The model when JIT_MODEL_URL and JIT_MODEL are set, falling back to rules.
    #[default]
    Auto,
}

#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    pub policy: Value,
    /// `rules` or `model:<JIT_MODEL>`.
    pub generator: String,
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
    /// What was understood: one line per statement, in words ("s3:PutObject on every
    /// object under build-artifacts/releases/"). Shown before the policy.
    pub understood: Vec<String>,
    /// Words of the description that did not change the policy ("nightly", "cpu").
    pub ignored: Vec<String>,
}

/// Generates a least-privilege policy; the model settings come from the environment.
pub fn generate(
    input: &GenerateInput,
    choice: GeneratorChoice,
    allowed_services: Option<&[String]>,
) -> anyhow::Result<Generated> {
    generate_with(
        input,
        choice,
        allowed_services,
        ModelConfig::from_env().as_ref(),
    )
}

/// `generate` with an explicit model configuration (tests, embedding).
pub fn generate_with(
    input: &GenerateInput,
    choice: GeneratorChoice,
    allowed_services: Option<&[String]>,
    model_cfg: Option<&ModelConfig>,
) -> anyhow::Result<Generated> {
    let description = input
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    match choice {
        GeneratorChoice::Rules => rules(input, allowed_services),
        GeneratorChoice::Model => {
            let Some(cfg) = model_cfg else {
                return Err(JitError::invalid(
                    "--generator",
                    "the model generator needs JIT_MODEL_URL (an OpenAI-compatible endpoint), JIT_MODEL and usually HF_TOKEN; or use --generator rules",
                )
                .into());
            };
            let Some(d) = description else {
                return Err(JitError::invalid(
                    "--generator",
                    "the model generator works from a plain-language description; add --description (or --policy-description)",
                )
                .into());
            };
            match from_model(cfg, d, input, allowed_services) {
                Ok(g) => Ok(g),
                Err(e @ (ModelError::Unreachable(_) | ModelError::Http(..))) => {
                    Err(JitError::Backend(e.to_string()).into())
                }
                Err(e) => Err(JitError::invalid("model", e).into()),
            }
        }
        GeneratorChoice::Auto => {
            match (model_cfg, description) {
                (Some(cfg), Some(d)) => match from_model(cfg, d, input, allowed_services) {
                    Ok(g) => Ok(g),
                    Err(e) => {
                        let mut g = rules(input, allowed_services)?;
                        g.notes.insert(
                        0,
                        format!("model {} was not used ({e}); the rules generator wrote this policy", cfg.model),
                    );
                        Ok(g)
                    }
                },
                _ => rules(input, allowed_services),
            }
        }
    }
}

fn from_model(
    cfg: &ModelConfig,
    description: &str,
    input: &GenerateInput,
    allowed_services: Option<&[String]>,
) -> Result<Generated, ModelError> {
    let (policy, mut findings) = model::ask(
        cfg,
        description,
        input.region.as_deref(),
        input.account_id.as_deref(),
        allowed_services,
    )?;
    let mut notes = Vec::new();
    // The same bar as the rules: what the model added beyond the rules' answer is shown
    // to the approver. Where the rules refuse the description, there is nothing to
    // compare with, and a note says so.
    match rules(input, allowed_services) {
        Ok(r) => findings.extend(compare::extra_actions(&policy, &r.policy)),
        Err(e) => notes.push(format!(
            "the rules generator could not write this policy ({e:#}), so the model's actions were not compared with it"
        )),
    }
    Ok(Generated {
        understood: summary::understood(&policy),
        policy,
        generator: format!("model:{}", cfg.model),
        findings,
        notes,
        ignored: Vec::new(),
    })
}

/// The deterministic generator (plain language or structured flags), then the validator.
/// A policy whose validation finds a wildcard reaching every resource of a kind is
/// refused, never emitted: the generator must not write what the validator flags.
pub fn rules(
    input: &GenerateInput,
    allowed_services: Option<&[String]>,
) -> anyhow::Result<Generated> {
    let mut notes = Vec::new();
    let mut ignored = Vec::new();
    let (intents, origin) = rules_intents(input, &mut notes, &mut ignored)?;
    check_allowed(&intents, origin, allowed_services)?;
    let mut statements = Vec::new();
    for i in &intents {
        statements.extend(generate::build_service(i, origin, &mut notes)?);
    }
    let policy = document::build(&statements);
    let findings = validate(
        &policy,
        &ValidateOptions {
            allowed_services: allowed_services.map(<[String]>::to_vec),
            target: PolicyTarget::ManagedPolicy,
        },
    );
    refuse_wildcard_reach(&findings, origin)?;
    Ok(Generated {
        understood: summary::understood(&policy),
        policy,
        generator: "rules".to_string(),
        findings,
        notes,
        ignored,
    })
}

/// Step 1: the intents, from the description or from the structured flags.
fn rules_intents(
    input: &GenerateInput,
    notes: &mut Vec<String>,
    ignored: &mut Vec<String>,
) -> anyhow::Result<(Vec<generate::ServiceIntent>, generate::Origin)> {
    let region = input.region.as_deref().filter(|s| !s.is_empty());
    let account = input.account_id.as_deref().filter(|s| !s.is_empty());
    let description = input
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    match description {
        Some(d) => {
            if input.service.is_some() || !input.access.is_empty() || !input.actions.is_empty() {
                return Err(JitError::invalid(
                    "--policy-description",
                    "give either a description or --service/--access/--actions, not both",
                )
                .into());
            }
            Ok((
                nl::intents(d, &input.resources, region, account, notes, ignored)?,
                generate::Origin::Description,
            ))
        }
        None => Ok((
            generate::structured_intent(
                input.service.as_deref(),
                &input.access,
                &input.actions,
                &input.resources,
            )?,
            generate::Origin::Structured,
        )),
    }
}

/// Step 2: every service is in ALLOWED_SERVICES.
fn check_allowed(
    intents: &[generate::ServiceIntent],
    origin: generate::Origin,
    allowed_services: Option<&[String]>,
) -> anyhow::Result<()> {
    let Some(list) = allowed_services else {
        return Ok(());
    };
    for i in intents {
        if !list
            .iter()
            .any(|s| s.trim().eq_ignore_ascii_case(&i.prefix))
        {
            return Err(JitError::invalid(
                origin_field(origin, "--service"),
                format!(
                    "service `{}` is not in ALLOWED_SERVICES ({})",
                    i.prefix,
                    list.join(",")
                ),
            )
            .into());
        }
    }
    Ok(())
}

fn origin_field(origin: generate::Origin, structured: &'static str) -> &'static str {
    match origin {
        generate::Origin::Description => "--policy-description",
        generate::Origin::Structured => structured,
    }
}

/// Step 3: the validator found a wildcard reaching every resource of a kind: refuse,
/// saying what to name.
fn refuse_wildcard_reach(findings: &[Finding], origin: generate::Origin) -> anyhow::Result<()> {
    let Some(f) = findings
        .iter()
        .find(|f| reach::is_wildcard_reach(f) && !reach::star_is_the_scope(f))
    else {
        return Ok(());
    };
    Err(JitError::invalid(
        origin_field(origin, "--resources"),
        format!(
            "the policy would reach every resource of a kind ({}: {}); {}",
            f.code, f.message, f.fix
        ),
    )
    .into())
}
