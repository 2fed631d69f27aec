//! What a resource pattern reaches. A description may name resources, never a pattern
//! that reaches every resource of a type (`s3://*`, `arn:aws:s3:::*/*`,
//! `function:*`): such a pattern is refused with what to name instead. The same rule
//! guards the rules generator's output: a policy whose validation carries a
//! wildcard-reach finding is refused, never emitted.

use std::collections::BTreeMap;

use super::catalog::{self, glob_match};
use super::findings::Finding;
use super::target;
use crate::error::JitError;

/// Finding codes that mean "this reaches every resource of a kind". Kept as text so the
/// list holds whatever the validator names them.
pub const WILDCARD_REACH_CODES: &[&str] = &[
    "resource-star",
    "full-wildcard",
    "service-wildcard",
    "assume-any-role",
];

/// Two made-up names no real pattern narrows to: a pattern matching both, for some
/// resource type, reaches every resource of that type.
const PROBES: [&str; 2] = ["zq1x9-probe", "yw2v8/probe-k"];

/// The resource type names (and parent types) a pattern reaches entirely.
pub fn reaches_every(pattern: &str) -> Option<(String, Option<String>)> {
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return None;
    }
    let svc = catalog::service(parts[2])?;
    let concrete = |s: &str| !s.is_empty() && !s.contains(['*', '?', '$']);
    let region = Some(parts[3])
        .filter(|r| concrete(r))
        .unwrap_or("us-east-1");
    let account = Some(parts[4])
        .filter(|a| concrete(a))
        .unwrap_or("123456789012");
    for rt in &svc.resources {
        let all = PROBES.iter().all(|probe| {
            let mut values = BTreeMap::new();
            for v in target::name_variables(&rt.arn) {
                values.insert(v, (*probe).to_string());
            }
            let arn = target::fill(&rt.arn, Some(region), Some(account), &values);
            glob_match(pattern, &arn)
        });
        if all {
            let parent = svc
                .resources
                .iter()
                .filter(|p| target::is_child(p, rt))
                .max_by_key(|p| target::name_variables(&p.arn).len())
                .map(|p| p.name.clone());
            return Some((rt.name.clone(), parent));
        }
    }
    None
}

/// Refuses a pattern that reaches every resource of a type, saying what to name.
pub fn refuse_all_reaching(pattern: &str, field: &str) -> anyhow::Result<()> {
    if let Some((rtype, parent)) = reaches_every(pattern) {
        let what = parent.unwrap_or_else(|| rtype.clone()).to_ascii_lowercase();
        return Err(JitError::invalid(
            field,
            format!(
                "`{pattern}` reaches every {} there is; name the {what} (and a prefix or path inside it, if that is the scope) instead",
                rtype.to_ascii_lowercase()
            ),
        )
        .into());
    }
    Ok(())
}

/// Is this finding about a wildcard that reaches every resource of a kind?
pub fn is_wildcard_reach(f: &Finding) -> bool {
    let code: &str = &f.code;
    WILDCARD_REACH_CODES.contains(&code)
}

/// A `resource-star` finding on an action that takes only another service's optional
/// resources (Cost Explorer's billing views): `"*"` is how it is scoped.
pub fn star_is_the_scope(f: &Finding) -> bool {
    let code: &str = &f.code;
    code == "resource-star"
        && f.action
            .as_deref()
            .and_then(catalog::action)
            .is_some_and(|(svc, a)| super::select::foreign_optional(svc, a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_reaching_everything() {
        assert!(reaches_every("arn:aws:s3:::*").is_some());
        assert!(reaches_every("arn:aws:s3:::*/*").is_some());
        assert!(reaches_every("arn:aws:lambda:*:*:function:*").is_some());
        assert!(reaches_every("arn:aws:secretsmanager:*:*:secret:*").is_some());
        assert!(reaches_every("arn:aws:iam::*:role/**").is_some());
        assert!(reaches_every("arn:aws:s3:::my-data/*").is_none());
        assert!(reaches_every("arn:aws:s3:::my-data").is_none());
        assert!(reaches_every("arn:aws:lambda:us-east-1:123456789012:function:etl-*").is_none());
        let (t, parent) = reaches_every("arn:aws:s3:::*/*").expect("reaches");
        assert_eq!((t.as_str(), parent.as_deref()), ("object", Some("bucket")));
    }
}
