//! Security review of one Allow statement: negated elements, escalation actions,
//! Permissions management, assuming any role.

use std::collections::{BTreeMap, BTreeSet};

use super::super::catalog::AccessLevel;
use super::super::document::Statement;
use super::super::findings::{codes, Finding};
use super::actions::Granted;
use super::escalation::ESCALATION_ACTIONS;
use super::lower;

pub(super) fn review(st: &Statement, granted: &[Granted], findings: &mut Vec<Finding>) {
    if st.not_action {
        findings.push(
            Finding::new(
                codes::ALLOW_NOT_ACTION,
                "Allow with NotAction grants every action not listed, including future ones",
                "list the allowed actions in Action instead",
            )
            .at(st.index),
        );
        return;
    }
    if st.not_resource {
        findings.push(
            Finding::new(
                codes::ALLOW_NOT_RESOURCE,
                "Allow with NotResource grants the actions on every resource not listed",
                "list the allowed resources in Resource instead",
            )
            .at(st.index),
        );
    }
    escalation_actions(st.index, granted, findings);
    permissions_management(st.index, granted, findings);
    assume_any_role(st, granted, findings);
}

fn escalation_actions(i: usize, granted: &[Granted], findings: &mut Vec<Finding>) {
    let escalation: BTreeSet<String> = ESCALATION_ACTIONS.iter().map(|a| lower(a)).collect();
    for g in granted {
        let full = g.full();
        if escalation.contains(&lower(&full)) {
            findings.push(
                Finding::new(
                    codes::PRIVILEGE_ESCALATION,
                    format!(
                        "{full} lets the holder give themselves more permissions{}",
                        g.pattern
                            .as_ref()
                            .map(|p| format!(" (granted by `{p}`)"))
                            .unwrap_or_default()
                    ),
                    "remove it; if it is truly needed, the approver must acknowledge it",
                )
                .at(i)
                .action(full),
            );
        }
    }
}

/// One finding per explicit action; one per wildcard that includes any.
fn permissions_management(i: usize, granted: &[Granted], findings: &mut Vec<Finding>) {
    let mut pm_by_pattern: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in granted
        .iter()
        .filter(|g| g.action.level == AccessLevel::PermissionsManagement)
    {
        let full = g.full();
        match &g.pattern {
            None => findings.push(
                Finding::new(
                    codes::PERMISSIONS_MANAGEMENT,
                    format!(
                        "{full} is a Permissions management action (it changes who can do what)"
                    ),
                    "remove it unless permission changes are the purpose of the request",
                )
                .at(i)
                .action(full),
            ),
            Some(p) => pm_by_pattern.entry(p.clone()).or_default().push(full),
        }
    }
    for (p, names) in pm_by_pattern {
        let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
        findings.push(
            Finding::new(
                codes::PERMISSIONS_MANAGEMENT,
                format!(
                    "`{p}` includes {} Permissions management actions ({}{})",
                    names.len(),
                    shown.join(", "),
                    if names.len() > 5 { ", ..." } else { "" }
                ),
                "name the actions needed instead of the wildcard",
            )
            .at(i)
            .action(p),
        );
    }
}

fn assume_any_role(st: &Statement, granted: &[Granted], findings: &mut Vec<Finding>) {
    for g in granted {
        let full = g.full();
        let lf = lower(&full);
        if lf != "sts:assumerole"
            && lf != "sts:assumerolewithsaml"
            && lf != "sts:assumerolewithwebidentity"
        {
            continue;
        }
        for r in &st.resources {
            if r == "*" || r.ends_with(":role/*") || r.ends_with(":*") {
                findings.push(
                    Finding::new(
                        codes::ASSUME_ANY_ROLE,
                        format!("{full} on `{r}` can assume any role that trusts the account"),
                        "name the role ARNs to assume",
                    )
                    .at(st.index)
                    .action(full.clone())
                    .resource(r.clone()),
                );
            }
        }
    }
}
