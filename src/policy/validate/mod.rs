//! The validator: grammar, catalog facts, target limits, and security review.
//! It reads only the catalog services a policy names.
//!
//! Each statement goes through named steps — resolve its actions, check its resources,
//! review it for security — and the whole policy then through the checks that span
//! statements (PassRole combinations, dependent actions).

mod actions;
mod conditions;
mod dependent;
mod escalation;
mod global_keys;
mod methods;
mod resources;
mod security;
mod suggest;

use serde_json::Value;

use super::document::{self, Effect};
use super::findings::{codes, Finding};
use super::{PolicyTarget, ValidateOptions};

pub use methods::{ESCALATION_ACTIONS, PASSROLE_TARGETS};

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

pub fn validate(doc: &Value, opts: &ValidateOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    let statements = document::parse(doc, &mut findings);
    check_size(doc, opts.target, &mut findings);
    let allowed = allowed_services(opts);

    // First what every statement grants and reaches, then the review: a Deny further
    // down can take an action away, and combinations span statements.
    let mut grants = escalation::PolicyGrants::default();
    let mut analysed = Vec::with_capacity(statements.len());
    for st in &statements {
        let resolved = actions::resolve(st, allowed.as_deref(), &mut findings);
        let reached = resources::check(st, &resolved, &mut findings);
        conditions::check(st, &resolved.granted, &mut findings);
        grants.record(st, &resolved.granted, &reached);
        analysed.push((st, resolved, reached));
    }
    for (st, resolved, reached) in &analysed {
        if st.effect == Effect::Allow {
            security::review(st, &resolved.granted, reached, &grants, &mut findings);
        }
    }
    escalation::combinations(&grants, &mut findings);
    if !grants.allows_everything {
        dependent::missing(&grants, &mut findings);
    }
    findings
}

fn check_size(doc: &Value, target: PolicyTarget, findings: &mut Vec<Finding>) {
    let size = document::size_without_whitespace(doc);
    let limit = target.size_limit();
    if size > limit {
        findings.push(Finding::new(
            codes::SIZE_LIMIT,
            format!(
                "the policy is {size} characters without white space; a {} allows {limit}",
                target.describe()
            ),
            "split the grant, name fewer actions, or use a permission set (32,768 characters)",
        ));
    }
}

/// ALLOWED_SERVICES, lowercased and trimmed.
fn allowed_services(opts: &ValidateOptions) -> Option<Vec<String>> {
    opts.allowed_services
        .as_ref()
        .map(|v| v.iter().map(|s| lower(s.trim())).collect())
}

impl PolicyTarget {
    pub fn size_limit(self) -> usize {
        match self {
            PolicyTarget::ManagedPolicy => 6144,
            PolicyTarget::PermissionSetInline => 32768,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            PolicyTarget::ManagedPolicy => "managed policy",
            PolicyTarget::PermissionSetInline => "permission-set inline policy",
        }
    }
}
