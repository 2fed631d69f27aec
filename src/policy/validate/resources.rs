//! The Resource element against the statement's actions: syntax, which resource types each
//! ARN can match, and `"*"` on actions that could be scoped.

use std::collections::BTreeMap;

use super::super::arn;
use super::super::document::{Effect, Statement};
use super::super::findings::{codes, Finding};
use super::actions::{Granted, Resolved};

pub(super) fn check(st: &Statement, resolved: &Resolved, findings: &mut Vec<Finding>) {
    let (concrete, has_star) = parse_resources(st, findings);
    if st.not_resource || st.not_action {
        return;
    }
    let granted = &resolved.granted;
    if !has_star && !concrete.is_empty() {
        each_action_has_a_resource(st.index, granted, &concrete, findings);
        each_pattern_has_a_resource(st.index, granted, &concrete, findings);
    }
    if resolved.all_known && !granted.is_empty() {
        each_resource_fits_an_action(st.index, granted, &concrete, findings);
    }
    if has_star && st.effect == Effect::Allow {
        star_on_scopable_actions(st.index, granted, findings);
    }
}

/// Syntax of each entry; returns the well-formed ARNs and whether `"*"` is among them.
fn parse_resources<'a>(st: &'a Statement, findings: &mut Vec<Finding>) -> (Vec<&'a str>, bool) {
    let mut concrete = Vec::new();
    let mut has_star = false;
    for r in &st.resources {
        match arn::check_syntax(r) {
            Ok(()) if r == "*" => has_star = true,
            Ok(()) => concrete.push(r.as_str()),
            Err(msg) => findings.push(
                Finding::new(
                    codes::MALFORMED_ARN,
                    msg,
                    "write a full ARN, e.g. arn:aws:s3:::my-bucket, or \"*\"",
                )
                .at(st.index)
                .resource(r.clone()),
            ),
        }
    }
    (concrete, has_star)
}

/// Every explicit action needs a resource it accepts.
fn each_action_has_a_resource(
    i: usize,
    granted: &[Granted],
    concrete: &[&str],
    findings: &mut Vec<Finding>,
) {
    for g in granted.iter().filter(|g| g.pattern.is_none()) {
        let types = g.service.action_resource_types(g.action);
        if types.is_empty() {
            findings.push(
                Finding::new(
                    codes::RESOURCE_MISMATCH,
                    format!(
                        "{} supports no resource-level permissions, so no ARN can grant it",
                        g.full()
                    ),
                    "move it to a statement with \"Resource\": \"*\"",
                )
                .at(i)
                .action(g.full()),
            );
        } else if !concrete
            .iter()
            .any(|r| g.service.action_accepts(g.action, r))
        {
            let want: Vec<String> = types
                .iter()
                .map(|t| format!("{} ({})", t.name, t.arn))
                .collect();
            findings.push(
                Finding::new(
                    codes::RESOURCE_MISMATCH,
                    format!(
                        "no resource of the statement is of a type {} accepts: {}",
                        g.full(),
                        want.join(", ")
                    ),
                    "add an ARN of one of those types, or move the action to its own statement",
                )
                .at(i)
                .action(g.full()),
            );
        }
    }
}

/// Every wildcard pattern needs at least one of its actions to fit a resource.
fn each_pattern_has_a_resource(
    i: usize,
    granted: &[Granted],
    concrete: &[&str],
    findings: &mut Vec<Finding>,
) {
    let mut pattern_names: Vec<&String> =
        granted.iter().filter_map(|g| g.pattern.as_ref()).collect();
    pattern_names.dedup();
    for p in pattern_names {
        let fits = granted
            .iter()
            .filter(|g| g.pattern.as_ref() == Some(p))
            .any(|g| {
                concrete
                    .iter()
                    .any(|r| g.service.action_accepts(g.action, r))
            });
        if !fits {
            findings.push(
                Finding::new(
                    codes::RESOURCE_MISMATCH,
                    format!("none of the actions `{p}` matches accepts the statement's resources"),
                    "use ARNs of the resource types these actions accept",
                )
                .at(i)
                .action(p.clone()),
            );
        }
    }
}

/// Every resource must fit some action of the statement.
fn each_resource_fits_an_action(
    i: usize,
    granted: &[Granted],
    concrete: &[&str],
    findings: &mut Vec<Finding>,
) {
    for r in concrete {
        if !granted
            .iter()
            .any(|g| g.service.action_accepts(g.action, r))
        {
            findings.push(
                Finding::new(
                    codes::RESOURCE_MISMATCH,
                    format!("`{r}` matches no resource type of the statement's actions"),
                    "check the ARN (service, resource type, separators) or remove it",
                )
                .at(i)
                .resource(*r),
            );
        }
    }
}

/// `"Resource": "*"` on actions that could be scoped.
fn star_on_scopable_actions(i: usize, granted: &[Granted], findings: &mut Vec<Finding>) {
    let mut by_pattern: BTreeMap<String, usize> = BTreeMap::new();
    for g in granted {
        if g.action.resources.is_empty() {
            continue;
        }
        match &g.pattern {
            None => findings.push(
                Finding::new(
                    codes::RESOURCE_STAR,
                    format!(
                        "{} supports resource-level permissions but is granted on \"*\"",
                        g.full()
                    ),
                    format!(
                        "name the resources instead of \"*\" ({})",
                        g.service
                            .action_resource_types(g.action)
                            .iter()
                            .map(|t| t.arn.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .at(i)
                .action(g.full())
                .resource("*"),
            ),
            Some(p) => *by_pattern.entry(p.clone()).or_default() += 1,
        }
    }
    for (p, n) in by_pattern {
        findings.push(
            Finding::new(
                codes::RESOURCE_STAR,
                format!(
                    "{n} actions of `{p}` support resource-level permissions but are granted on \"*\""
                ),
                "name the actions and their resources instead of \"*\"",
            )
            .at(i)
            .action(p)
            .resource("*"),
        );
    }
}
