//! `aws-jit rules check [FILE]` and `aws-jit rules explain <request flags>`.

use std::path::Path;

use serde_json::{json, Value};

use super::access::{self as rules, Decision};
use super::request::{judge, prepare, Judged};
use super::Ctx;
use crate::access::{self, LintSeverity};
use crate::cli::{RequestArgs, RulesCheckArgs};
use crate::config::{Config, RulesSource};
use crate::error::JitError;
use crate::output::{Failure, Outcome, Report};
use crate::text::safe;
use crate::time::human;

/// Parse and lint; exit 2 when any lint is an error. Needs no store and no AWS.
pub fn check(config: &Config, args: &RulesCheckArgs) -> Outcome {
    let (text, origin) = match (&args.file, &config.rules) {
        (Some(path), _) => (
            crate::input::read_text("FILE", path, rules::MAX_RULES_BYTES)?,
            if path == Path::new("-") {
                "standard input".to_string()
            } else {
                path.display().to_string()
            },
        ),
        (None, Some(RulesSource::File(path))) => (
            crate::input::read_text("JIT_RULES_FILE", path, rules::MAX_RULES_BYTES)?,
            path.display().to_string(),
        ),
        (None, Some(RulesSource::Inline(text))) => (text.clone(), "JIT_RULES".to_string()),
        (None, None) => {
            return Err(JitError::invalid(
                "FILE",
                "no rules to check: give a FILE, or set JIT_RULES_FILE or JIT_RULES \
                 (without them the implicit rule applies: APPROVAL_LIST, JIT_APPROVAL_QUORUM, JIT_MAX_DURATION)",
            )
            .into())
        }
    };
    let d = rules::defaults(config);
    let (file, lints) = access::check(&text, &origin, &d);
    let errors = lints
        .iter()
        .filter(|l| l.severity == LintSeverity::Error)
        .count();
    let warnings = lints.len() - errors;
    let listed: Vec<Value> = file
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let res = file.resolve(i, &d);
            json!({
                "name": r.name,
                "line": r.line,
                "approvers": res.approvers,
                "quorum": res.quorum,
                "max_ttl": human(res.max_ttl),
                "approval": res.approval.as_str(),
                "break_glass": res.break_glass,
                "extensions": res.extensions,
            })
        })
        .collect();
    let doc = json!({
        "file": origin,
        "sha256": file.sha256,
        "rules": listed,
        "errors": errors,
        "warnings": warnings,
        "lints": lints,
    });
    let mut out = String::new();
    for l in &lints {
        let sev = match l.severity {
            LintSeverity::Error => "error",
            LintSeverity::Warning => "warning",
        };
        let rule = l
            .rule
            .as_ref()
            .map(|r| format!(" (rule {})", safe(r)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}:{}: {sev} [{}]{rule}: {}\n",
            safe(&origin),
            l.line,
            l.code,
            safe(&l.message)
        ));
    }
    out.push_str(&format!(
        "{}: {} rule(s), {errors} error(s), {warnings} warning(s)\n",
        safe(&origin),
        file.rules.len()
    ));
    let report = Report::new(doc, out);
    if errors > 0 {
        return Err(Failure::with_report(
            JitError::invalid(
                "rules",
                format!("{origin} has {errors} error(s); every request would be refused until they are fixed"),
            ),
            report,
        ));
    }
    Ok(report)
}

/// Which rule would decide a request with these flags; stores nothing. Exit as `request`
/// would: 0 when a rule takes it, 5 when none does (with the explanation).
pub fn explain(ctx: &Ctx, args: &RequestArgs) -> Outcome {
    let p = prepare(ctx, args)?;
    let grants = p.grants();
    let security = p.security_codes();
    let facts = json!({
        "requester": p.requester,
        "target": p.target,
        "services": grants.services,
        "level": grants.level,
        "level_because": grants.because,
        "security_findings": security,
        "break_glass": args.break_glass,
    });
    match judge(ctx, &p, args.break_glass) {
        Ok(j) => {
            let (doc, text) = explained(&j.decision, Some(&j), facts, None);
            Ok(Report::new(doc, text))
        }
        Err(refused) => {
            let (d, e) = *refused;
            // Refused before any rule was looked at (an unreadable rules file): nothing
            // to explain.
            if d.file.is_none() && d.resolved.is_none() {
                return Err(e.into());
            }
            let (doc, text) = explained(&d, None, facts, Some(format!("{e:#}")));
            Err(Failure::with_report(e, Report::new(doc, text)))
        }
    }
}

fn explained(
    d: &Decision,
    judged: Option<&Judged>,
    facts: Value,
    refused: Option<String>,
) -> (Value, String) {
    let skipped: Vec<Value> = d
        .evaluation
        .iter()
        .flat_map(|e| &e.skipped)
        .map(|s| json!({"rule": s.rule, "line": s.line, "reason": s.reason()}))
        .collect();
    let resolved = d.resolved.as_ref();
    // What would happen to the request: approved by its rule, by its requester
    // (break-glass), by people, or refused (nothing stored).
    let approval = match judged {
        None => "refused",
        Some(j) if j.auto => "auto",
        Some(_) if facts["break_glass"] == true => "break_glass",
        Some(_) => "required",
    };
    let doc = json!({
        "rule": resolved.and_then(|r| r.rule.clone()),
        "line": resolved.and_then(|r| r.line),
        "implicit": d.file.is_none(),
        "rules_file": d.file.as_ref().map(|f| f.origin.clone()),
        "rules_sha256": d.file.as_ref().map(|f| f.sha256.clone()),
        "approvers": resolved.map(|r| r.approvers.clone()).unwrap_or_default(),
        "quorum": resolved.map(|r| r.quorum),
        "max_ttl": resolved.map(|r| human(r.max_ttl)),
        "max_ttl_secs": resolved.map(|r| r.max_ttl.as_secs()),
        "ttl": judged.map(|j| human(j.ttl)),
        "approval": approval,
        "not_auto": judged.and_then(|j| j.not_auto.clone()),
        "break_glass": resolved.map(|r| r.break_glass).unwrap_or(false),
        "extensions": resolved.map(|r| r.extensions).unwrap_or(0),
        "skipped": skipped,
        "request": facts,
        "refused": refused,
    });
    let mut out = String::new();
    match (resolved, &d.file) {
        (Some(r), None) => out.push_str(&format!(
            "no rules file: the implicit rule applies (APPROVAL_LIST, JIT_APPROVAL_QUORUM, JIT_MAX_DURATION)\n\
             approvers: {}\nquorum: {}\nmax ttl: {}\napproval: {approval}\n",
            safe(&r.approvers.join(", ")),
            r.quorum,
            human(r.max_ttl)
        )),
        (Some(r), Some(f)) => out.push_str(&format!(
            "rule: {} (line {} of {})\napprovers: {}\nquorum: {}\nmax ttl: {}\napproval: {approval}\nbreak-glass: {}\nextensions: {}\n",
            safe(r.rule.as_deref().unwrap_or("")),
            r.line.unwrap_or(0),
            safe(&f.origin),
            safe(&r.approvers.join(", ")),
            r.quorum,
            human(r.max_ttl),
            if r.break_glass { "allowed" } else { "no" },
            r.extensions
        )),
        (None, _) => out.push_str("no rule matches\n"),
    }
    if let Some(j) = judged {
        if let Some(why) = &j.not_auto {
            out.push_str(&format!("not approved automatically: {}\n", safe(why)));
        }
    }
    if let Some(why) = &refused {
        out.push_str(&format!("refused: {}\n", safe(why)));
    }
    for s in d.evaluation.iter().flat_map(|e| &e.skipped) {
        out.push_str(&format!(
            "skipped rule {} (line {}): {}\n",
            safe(&s.rule),
            s.line,
            safe(&s.reason())
        ));
    }
    (doc, out)
}
