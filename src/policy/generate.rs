//! The deterministic generator: turns an intent (service, access levels or actions,
//! resources) into the smallest policy. Plain language (nl.rs) and the structured flags
//! both produce an `Intent`.

use std::collections::{BTreeMap, BTreeSet};

use super::arn;
use super::catalog::{self, AccessLevel, Action, Service};
use super::document::AllowStatement;
use crate::error::JitError;

/// What to grant in one service.
#[derive(Debug, Clone, Default)]
pub struct ServiceIntent {
    pub prefix: String,
    /// Access levels (level mode); ignored when `actions` is set.
    pub levels: BTreeSet<AccessLevel>,
    /// Write actions whose names start with one of these (from verbs such as "invoke"),
    /// used when Write itself was not asked for.
    pub write_prefixes: BTreeSet<String>,
    /// Explicit action names or globs without the prefix (action mode).
    pub actions: Vec<String>,
    /// Resource ARNs (may contain wildcards).
    pub resources: Vec<String>,
    /// ARNs derived from a name (a bucket's objects, a log group's streams) that may go
    /// unused; every other resource must fit some granted action.
    pub derived: BTreeSet<String>,
    /// Name fragments (e.g. `Bucket`, `LogGroup`) that select which actions without
    /// resource-level permissions belong to the request.
    pub stems: BTreeSet<String>,
    /// The kind of resource the request is about when it sits inside a named container
    /// ("objects in bucket X" → `object`): the container then only gets List actions,
    /// what reaching the focus needs, not the container's own Read/Write/Tagging.
    pub focus: Option<String>,
}

/// A field name for errors: the plain-language flag or the structured flags.
#[derive(Debug, Clone, Copy)]
pub enum Origin {
    Description,
    Structured,
}

impl Origin {
    fn field(self, structured_flag: &'static str) -> &'static str {
        match self {
            Origin::Description => "--policy-description",
            Origin::Structured => structured_flag,
        }
    }
}

/// CamelCase of a resource type name: `log-group` → `LogGroup`, `Secret` → `Secret`.
pub fn stem_of(type_name: &str) -> String {
    type_name
        .split(['-', ' ', '_'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn sid_prefix(prefix: &str) -> String {
    stem_of(prefix)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Builds the statements for one service. Notes explain what was left out and why.
pub fn build_service(
    intent: &ServiceIntent,
    origin: Origin,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<AllowStatement>> {
    let Some(svc) = catalog::service(&intent.prefix) else {
        return Err(JitError::invalid(
            origin.field("--service"),
            format!(
                "`{}` is not an AWS service prefix; use the prefix from the Service Authorization Reference (s3, ec2, dynamodb, logs, ...)",
                intent.prefix
            ),
        )
        .into());
    };
    let resources: Vec<String> = {
        let mut seen = BTreeSet::new();
        intent
            .resources
            .iter()
            .filter(|r| seen.insert((*r).clone()))
            .cloned()
            .collect()
    };
    for r in &resources {
        if let Err(msg) = arn::check_syntax(r) {
            return Err(JitError::invalid(origin.field("--resources"), msg).into());
        }
    }
    let concrete: Vec<&String> = resources.iter().filter(|r| *r != "*").collect();
    let star_given = resources.iter().any(|r| r == "*");

    // action → resources it gets ("*" for actions without resource-level permissions)
    let mut grants: Vec<(&Action, Vec<String>)> = Vec::new();
    if !intent.actions.is_empty() {
        for name in &intent.actions {
            let name = name
                .strip_prefix(&format!("{}:", svc.prefix))
                .unwrap_or(name);
            let matched: Vec<&Action> = if name.contains(['*', '?']) {
                svc.matching(name)
            } else {
                svc.action(name).into_iter().collect()
            };
            if matched.is_empty() {
                return Err(JitError::invalid(
                    "--actions",
                    format!(
                        "`{}:{name}` matches no {} action; check the spelling against the Service Authorization Reference",
                        svc.prefix, svc.prefix
                    ),
                )
                .into());
            }
            for a in matched {
                if grants.iter().any(|(g, _)| std::ptr::eq(*g, a)) {
                    continue;
                }
                let fit = scope(svc, a, &concrete);
                if svc.action_resource_types(a).is_empty() {
                    grants.push((a, vec!["*".into()]));
                } else if !fit.is_empty() {
                    grants.push((a, fit));
                } else if concrete.is_empty() {
                    notes.push(format!(
                        "{}:{} is granted on \"*\" because no resources were named; name them with --resources",
                        svc.prefix, a.name
                    ));
                    grants.push((a, vec!["*".into()]));
                } else if !name.contains(['*', '?']) {
                    let want: Vec<String> = svc
                        .action_resource_types(a)
                        .iter()
                        .map(|t| format!("{} ({})", t.name, t.arn))
                        .collect();
                    return Err(JitError::invalid(
                        "--resources",
                        format!(
                            "none of the resources fits {}:{}, which accepts {}",
                            svc.prefix,
                            a.name,
                            want.join(", ")
                        ),
                    )
                    .into());
                }
            }
        }
    } else {
        if intent.levels.is_empty() && intent.write_prefixes.is_empty() {
            return Err(JitError::invalid(
                origin.field("--access"),
                "say what access is needed: read, list, write or tag",
            )
            .into());
        }
        let mut stems: BTreeSet<String> = intent
            .stems
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        // The kinds of the named resources also select resource-less actions.
        for r in &concrete {
            for rt in &svc.resources {
                if rt.template.matches(r) {
                    stems.insert(stem_of(&rt.name).to_ascii_lowercase());
                }
            }
        }
        let focus = intent
            .focus
            .as_ref()
            .and_then(|f| svc.resources.iter().find(|rt| &rt.name == f));
        if let Some(f) = focus {
            // Resource-less actions must be about the focus, not the container.
            stems = BTreeSet::from([stem_of(&f.name).to_ascii_lowercase()]);
        }
        let mut left_out = 0usize;
        let wanted = |a: &Action| {
            intent.levels.contains(&a.level)
                || (a.level == AccessLevel::Write
                    && intent
                        .write_prefixes
                        .iter()
                        .any(|p| a.name.starts_with(p.as_str())))
        };
        for a in svc.actions.iter().filter(|a| wanted(a)) {
            if svc.action_resource_types(a).is_empty() {
                let lname = a.name.to_ascii_lowercase();
                if star_given || stems.iter().any(|s| lname.contains(s.as_str())) {
                    grants.push((a, vec!["*".into()]));
                }
            } else {
                let mut fit = if star_given {
                    vec!["*".to_string()]
                } else {
                    scope(svc, a, &concrete)
                };
                if let Some(f) = focus.filter(|_| a.level != AccessLevel::List) {
                    let before = fit.len();
                    fit.retain(|r| f.template.matches(r));
                    if fit.is_empty() && before > 0 {
                        continue; // container-only action, narrowed away on purpose
                    }
                }
                if fit.is_empty() {
                    left_out += 1;
                } else {
                    grants.push((a, fit));
                }
            }
        }
        if concrete.is_empty() && !star_given && left_out > 0 {
            notes.push(format!(
                "{left_out} {} actions that need a named resource were left out; name the resources (ARNs or names) to include them",
                svc.prefix
            ));
        }
        if grants.is_empty() {
            let mut levels: Vec<String> = intent
                .levels
                .iter()
                .map(|l| l.as_str().to_string())
                .collect();
            levels.extend(intent.write_prefixes.iter().map(|p| format!("{p}*")));
            return Err(JitError::invalid(
                origin.field("--resources"),
                format!(
                    "no {} action of access level {} applies to {}; name the resources (ARNs, or e.g. a bucket/table/function name) the access is for",
                    svc.prefix,
                    levels.join("/"),
                    if concrete.is_empty() {
                        "what was asked".to_string()
                    } else {
                        concrete
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            )
            .into());
        }
    }

    // A named resource that no granted action accepts means the request was misread.
    for r in concrete
        .iter()
        .filter(|r| !intent.derived.contains(r.as_str()))
    {
        if !grants.iter().any(|(_, res)| res.iter().any(|x| x == *r)) {
            return Err(JitError::invalid(
                origin.field("--resources"),
                format!(
                    "`{r}` fits no {} action that was asked for; check the ARN's service and resource type",
                    svc.prefix
                ),
            )
            .into());
        }
    }

    // Group actions by identical resource lists.
    let mut scoped: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    let mut unscoped: BTreeSet<String> = BTreeSet::new();
    for (a, res) in grants {
        let full = format!("{}:{}", svc.prefix, a.name);
        if res == ["*"] {
            unscoped.insert(full);
        } else {
            scoped.entry(res).or_default().insert(full);
        }
    }
    let base = sid_prefix(&svc.prefix);
    let mut out = Vec::new();
    let n = scoped.len();
    for (k, (res, acts)) in scoped.into_iter().enumerate() {
        out.push(AllowStatement {
            sid: if n == 1 {
                format!("{base}NamedResources")
            } else {
                format!("{base}NamedResources{}", k + 1)
            },
            actions: sort_actions(acts),
            resources: res,
        });
    }
    if !unscoped.is_empty() {
        out.push(AllowStatement {
            sid: format!("{base}NoResourceLevel"),
            actions: sort_actions(unscoped),
            resources: vec!["*".into()],
        });
    }
    Ok(out)
}

fn sort_actions(set: BTreeSet<String>) -> Vec<String> {
    let mut v: Vec<String> = set.into_iter().collect();
    v.sort_by_key(|a| a.to_ascii_lowercase());
    v
}

/// The given resources this action accepts, in the given order.
fn scope(svc: &Service, a: &Action, resources: &[&String]) -> Vec<String> {
    resources
        .iter()
        .filter(|r| svc.action_accepts(a, r))
        .map(|r| (*r).clone())
        .collect()
}

/// The structured path: `--service s3 --access read,list --resources ...` or
/// `--service s3 --actions GetObject,ListBucket --resources ...`.
pub fn structured_intent(
    service: Option<&str>,
    access: &[String],
    actions: &[String],
    resources: &[String],
) -> anyhow::Result<Vec<ServiceIntent>> {
    let mut levels = BTreeSet::new();
    for a in access.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match AccessLevel::parse(a) {
            Some(l) => {
                levels.insert(l);
            }
            None => {
                return Err(JitError::invalid(
                    "--access",
                    format!("`{a}` is not an access level; use read, list, write, tagging or permissions-management"),
                )
                .into())
            }
        }
    }
    let actions: Vec<String> = actions
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if !levels.is_empty() && !actions.is_empty() {
        return Err(JitError::invalid(
            "--access",
            "give either --access (access levels) or --actions (explicit actions), not both",
        )
        .into());
    }
    // Actions may carry their own prefixes (`s3:GetObject,logs:GetLogEvents`).
    let mut by_service: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in &actions {
        match (a.split_once(':'), service) {
            (Some((p, n)), _) => by_service
                .entry(p.to_ascii_lowercase())
                .or_default()
                .push(n.to_string()),
            (None, Some(s)) => by_service
                .entry(s.to_ascii_lowercase())
                .or_default()
                .push(a.clone()),
            (None, None) => {
                return Err(JitError::invalid(
                    "--service",
                    format!("`{a}` has no service prefix; add --service or write it as prefix:{a}"),
                )
                .into())
            }
        }
    }
    let resources: Vec<String> = resources
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if by_service.is_empty() {
        let Some(s) = service else {
            return Err(JitError::invalid(
                "--service",
                "name the service (--service s3) with --access or --actions, or use --description",
            )
            .into());
        };
        if levels.is_empty() {
            return Err(JitError::invalid(
                "--access",
                "give --access read,list,... or --actions Action1,Action2 for the service",
            )
            .into());
        }
        return Ok(vec![ServiceIntent {
            prefix: s.trim().to_ascii_lowercase(),
            levels,
            resources,
            ..Default::default()
        }]);
    }
    let mut out = Vec::new();
    for (prefix, acts) in by_service {
        let mine: Vec<String> = resources
            .iter()
            .filter(|r| *r == "*" || arn::service_of(r).is_none_or(|s| s == prefix))
            .cloned()
            .collect();
        out.push(ServiceIntent {
            prefix,
            actions: acts,
            resources: mine,
            ..Default::default()
        });
    }
    Ok(out)
}
