//! Dependent actions (from the catalog) that the policy does not grant.

use std::collections::BTreeSet;

use super::super::findings::{codes, Finding};
use super::escalation::PolicyGrants;
use super::lower;

/// One warning per explicitly granted action with ungranted dependencies.
pub(super) fn missing(grants: &PolicyGrants, findings: &mut Vec<Finding>) {
    let mut reported = BTreeSet::new();
    for (i, svc, a) in &grants.explicit {
        let full = format!("{}:{}", svc.prefix, a.name);
        if !reported.insert(lower(&full)) {
            continue;
        }
        let missing: Vec<&str> = a
            .dependent_actions
            .iter()
            .filter(|d| !grants.allows(d))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            continue;
        }
        findings.push(
            Finding::new(
                codes::MISSING_DEPENDENT_ACTION,
                format!(
                    "{full} may also need {} (dependent actions in the Service Authorization Reference)",
                    missing.join(", ")
                ),
                "add them if the call fails with AccessDenied",
            )
            .at(*i)
            .action(full),
        );
    }
}
