//! `aws-jit policy generate|validate`: the policy engine on its own.

use std::path::Path;

use serde_json::json;

use crate::cli::policy::{GenerateArgs, PolicyCommand, ValidateArgs};
use crate::error::JitError;
use crate::output::{Failure, Outcome, Report};
use crate::policy::{self, GenerateInput, ValidateOptions};

fn allowed(list: &[String]) -> Option<Vec<String>> {
    let v: Vec<String> = list
        .iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    if v.is_empty() {
        None
    } else {
        Some(v)
    }
}

pub fn run(cmd: &PolicyCommand) -> Outcome {
    match cmd {
        PolicyCommand::Generate(a) => generate(a),
        PolicyCommand::Validate(a) => validate(a),
    }
}

fn generate(a: &GenerateArgs) -> Outcome {
    let input = GenerateInput {
        description: a.description.clone(),
        service: a.service.clone(),
        access: a.access.clone(),
        actions: a.actions.clone(),
        resources: a.resources.clone(),
        region: a.region.clone().filter(|s| !s.is_empty()),
        account_id: a.account_id.clone().filter(|s| !s.is_empty()),
    };
    let allowed = allowed(&a.allowed_services);
    let g = policy::generate(&input, a.generator, allowed.as_deref())?;
    let blocking = policy::blocking(&g.findings);
    let doc = json!({
        "generator": g.generator,
        "policy": g.policy,
        "findings": g.findings,
        "notes": g.notes,
        "understood": g.understood,
        "ignored": g.ignored,
        "blocking": blocking,
        "needs_ack": policy::needs_ack(&g.findings),
    });
    let mut text = understood_text(&g);
    text.push_str(&crate::output::json_text(&g.policy));
    text.push_str(&format!("\n\ngenerator: {}\n", g.generator));
    for n in &g.notes {
        text.push_str(&format!("note: {}\n", crate::text::safe(n)));
    }
    text.push_str(&findings_text(&g.findings));
    let report = Report::new(doc, text);
    if blocking {
        return Err(Failure::with_report(
            JitError::invalid("policy", "the generated policy has blocking findings"),
            report,
        ));
    }
    Ok(report)
}

fn validate(a: &ValidateArgs) -> Outcome {
    let text = crate::input::read_text("FILE", Path::new(&a.file), crate::input::MAX_POLICY_BYTES)?;
    let opts = ValidateOptions {
        allowed_services: allowed(&a.allowed_services),
        target: a.target,
    };
    let findings = policy::validate_text(&text, &opts);
    let blocking = policy::blocking(&findings);
    let needs_ack = policy::needs_ack(&findings);
    let doc = json!({
        "valid": !blocking,
        "blocking": blocking,
        "needs_ack": needs_ack,
        "findings": findings,
    });
    let verdict = if blocking {
        "blocked: fix the errors above"
    } else if needs_ack {
        "needs acknowledgement: an approver must accept the security findings"
    } else {
        "ok"
    };
    let report = Report::new(doc, format!("{}{verdict}", findings_text(&findings)));
    if blocking {
        let n = findings
            .iter()
            .filter(|f| f.severity == policy::Severity::Error)
            .count();
        return Err(Failure::with_report(
            JitError::invalid("policy", format!("{n} blocking finding(s)")),
            report,
        ));
    }
    Ok(report)
}

/// What the generator understood, in words, before the policy it wrote.
pub fn understood_text(g: &policy::Generated) -> String {
    let mut out = String::new();
    if !g.understood.is_empty() {
        out.push_str("understood:\n");
        for line in &g.understood {
            out.push_str(&format!("  - {}\n", crate::text::safe(line)));
        }
    }
    if !g.ignored.is_empty() {
        out.push_str(&format!(
            "ignored: {}\n",
            crate::text::safe(&g.ignored.join(", "))
        ));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn findings_text(findings: &[policy::Finding]) -> String {
    if findings.is_empty() {
        return "no findings\n".into();
    }
    findings
        .iter()
        .map(|f| format!("{}\n", crate::text::safe(&f.to_line())))
        .collect()
}
