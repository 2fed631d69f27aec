//! Security review of one Allow statement: negated elements, the escalation, evasion and
//! exposure methods, Permissions management, assuming any role.

use std::collections::BTreeMap;

use super::super::catalog::AccessLevel;
use super::super::document::Statement;
use super::super::findings::{codes, Finding};
use super::actions::Granted;
use super::escalation::{self, PolicyGrants};
use super::lower;
use super::resources::{Reached, Scope};

pub(super) fn review(
    st: &Statement,
    granted: &[Granted],
    reached: &Reached,
    grants: &PolicyGrants,
    findings: &mut Vec<Finding>,
) {
    if st.not_action {
        findings.push(
            Finding::new(
                codes::ALLOW_NOT_ACTION,
                "Allow with NotAction grants every action not listed, including future ones",
                "list the allowed actions in Action instead",
            )
            .at(st.index),
        );
        escalation::statement_methods(st, granted, reached, grants, findings);
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
    escalation::statement_methods(st, granted, reached, grants, findings);
    permissions_management(st.index, granted, findings);
    assume_any_role(st.index, granted, reached, findings);
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

/// sts:AssumeRole* on every role (`"*"`, `role/*`, `r*`, ...) or on a role name in any
/// account (`arn:aws:iam::*:role/OrganizationAccountAccessRole` reaches every account).
fn assume_any_role(i: usize, granted: &[Granted], reached: &Reached, findings: &mut Vec<Finding>) {
    const ASSUME: [&str; 3] = [
        "sts:assumerole",
        "sts:assumerolewithsaml",
        "sts:assumerolewithwebidentity",
    ];
    for (gi, g) in granted.iter().enumerate() {
        let full = g.full();
        if !ASSUME.contains(&lower(&full).as_str()) {
            continue;
        }
        let mut hits: Vec<(String, &str)> = Vec::new();
        if let Some(Scope::Every { resource }) = reached.scopes.get(gi) {
            hits.push((resource.clone(), "any role that trusts the account"));
        }
        for (f, r) in reached.fits[gi].iter().zip(&reached.concrete) {
            if f.is_some_and(|f| f.reach.any_account && !f.reach.every) {
                hits.push((
                    (*r).to_string(),
                    "this role in every account that trusts this one",
                ));
            }
        }
        for (r, what) in hits {
            findings.push(
                Finding::new(
                    codes::ASSUME_ANY_ROLE,
                    format!("{full} on `{r}` can assume {what}"),
                    "name the role ARNs to assume, with their account ids",
                )
                .at(i)
                .action(full.clone())
                .resource(r),
            );
        }
    }
}
