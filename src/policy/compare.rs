//! The model's answer against the rules generator's: actions the model granted that the
//! rules did not find in the description are a security finding for the approver.

use std::collections::BTreeSet;

use serde_json::Value;

use super::catalog;
use super::findings::{codes, Finding};

/// Every action a policy's Allow statements grant, lowercase, globs expanded.
fn granted(policy: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    for st in statements {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let actions: Vec<&str> = match st.get("Action") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for a in actions {
            let lower = a.to_ascii_lowercase();
            let expanded = a.split_once(':').and_then(|(p, n)| {
                if !n.contains(['*', '?']) {
                    return None;
                }
                let svc = catalog::service(p)?;
                Some(
                    svc.matching(n)
                        .into_iter()
                        .map(|x| format!("{}:{}", svc.prefix, x.name).to_ascii_lowercase())
                        .collect::<Vec<_>>(),
                )
            });
            match expanded {
                Some(list) => out.extend(list),
                None => {
                    out.insert(lower);
                }
            }
        }
    }
    out
}

/// A `model-extra-actions` finding when the model granted actions the rules did not.
pub fn extra_actions(model: &Value, rules: &Value) -> Option<Finding> {
    let theirs = granted(rules);
    let extra: Vec<String> = granted(model)
        .into_iter()
        .filter(|a| !theirs.contains(a))
        .collect();
    if extra.is_empty() {
        return None;
    }
    let shown: Vec<&str> = extra.iter().take(10).map(String::as_str).collect();
    Some(Finding::new(
        codes::MODEL_EXTRA_ACTIONS,
        format!(
            "the model granted {} action(s) the rules generator did not find in the description: {}{}",
            extra.len(),
            shown.join(", "),
            if extra.len() > 10 { ", ..." } else { "" }
        ),
        "check that the request needs them; otherwise remove them or ask with --generator rules",
    ))
}
