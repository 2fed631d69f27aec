//! What a resource pattern reaches, for the generator. A description may name resources,
//! never a pattern that reaches every resource of a type (`s3://*`, `arn:aws:s3:::*/*`,
//! `function:*`, `instance/i-*`): such a pattern is refused with what to name instead.
//! There is one reach model, the validator's (`ArnTemplate::reach`); this module only
//! asks it. The same rule guards the rules generator's output: a policy whose validation
//! carries a wildcard-reach finding is refused, never emitted.

use super::catalog;
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

/// The resource type (and its parent type) of the pattern's service that the pattern
/// reaches entirely, by the validator's own reach model (`ArnTemplate::reach`, which
/// knows the shapes of names: `instance/i-*` is every instance). A pattern whose service
/// is a wildcard reaches every resource of every service: `("resource", None)`.
pub fn reaches_every(pattern: &str) -> Option<(String, Option<String>)> {
    let parts = super::arn::fields(pattern);
    if parts.len() < 6 || parts[0] != "arn" {
        return None;
    }
    if parts[2].contains(['*', '?', '$']) {
        return Some(("resource".to_string(), None));
    }
    let svc = catalog::service(parts[2])?;
    let rest = parts[5];
    let rt = svc
        .resources
        .iter()
        .filter(|rt| rt.template.reach(pattern).is_some_and(|r| r.every))
        // The type the pattern is written for: its literal start (`instance/`).
        .max_by_key(|rt| {
            let head = rt.template.literal_head();
            (rest.starts_with(head), head.len())
        })?;
    let parent = svc
        .resources
        .iter()
        .filter(|p| target::is_child(p, rt))
        .max_by_key(|p| target::name_variables(&p.arn).len())
        .map(|p| p.name.clone());
    Some((rt.name.clone(), parent))
}

/// Refuses a pattern that reaches every resource of a type, saying what to name.
pub fn refuse_all_reaching(pattern: &str, field: &str) -> anyhow::Result<()> {
    if let Some((rtype, parent)) = reaches_every(pattern) {
        let what = parent.unwrap_or_else(|| rtype.clone()).to_ascii_lowercase();
        let msg = if rtype == "resource" && what == "resource" {
            format!("`{pattern}` names no service: it reaches every resource there is; name the service and the resource")
        } else {
            format!(
                "`{pattern}` reaches every {} there is; name the {what} (and a prefix or path inside it, if that is the scope) instead",
                rtype.to_ascii_lowercase()
            )
        };
        return Err(JitError::invalid(field, msg).into());
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
        // Names have shapes: every instance id starts with i-, every bucket name has at
        // least 3 characters.
        let (t, _) = reaches_every("arn:aws:ec2:us-east-1:*:instance/i-*").expect("reaches");
        assert_eq!(t, "instance");
        assert!(reaches_every("arn:aws:s3:::???*/*").is_some());
        assert!(reaches_every("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc*").is_none());
        assert!(reaches_every("arn:aws:s3:::*a*/*").is_none());
        assert!(reaches_every("arn:*:*:*:*:*").is_some());
    }
}
