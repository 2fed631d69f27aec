//! The deterministic generator: turns an intent (service, verbs and nouns, access levels
//! or explicit actions, resources) into the smallest policy. Plain language (nl.rs) and
//! the structured flags both produce `ServiceIntent`s; `build_service` resolves the
//! service, chooses the grants, and groups them into statements.

use std::collections::{BTreeMap, BTreeSet};

use super::arn;
use super::catalog::{self, AccessLevel, Action, Service};
use super::document::AllowStatement;
use super::select::{self, Grant};
use super::target::{Ctx, Target};
use super::words::Verb;
use crate::error::JitError;

/// What to grant in one service.
#[derive(Debug, Clone, Default)]
pub struct ServiceIntent {
    pub prefix: String,
    /// Access levels: `--access`, or "read access"/"tag"/"manage" in a description.
    pub levels: BTreeSet<AccessLevel>,
    /// Explicit action names or globs without the prefix (`--actions`).
    pub actions: Vec<String>,
    /// Resource ARNs given with `--resources` (may contain wildcards).
    pub resources: Vec<String>,
    /// A description: the verbs it used.
    pub verbs: Vec<Verb>,
    /// A description: every word of it (lowercase, singular).
    pub words: BTreeSet<String>,
    /// A description asked "how many": the resource's attributes.
    pub count: bool,
    /// A description: kinds of resource of this service it mentioned, as
    /// (resource type, noun, plural and unnamed).
    pub kinds: Vec<(String, String, bool)>,
    /// A description: the resources it named, with how they were narrowed.
    pub targets: Vec<Target>,
    pub region: Option<String>,
    pub account: Option<String>,
}

impl ServiceIntent {
    /// Built from a description rather than from the structured flags.
    pub fn from_text(&self) -> bool {
        !self.verbs.is_empty()
            || !self.targets.is_empty()
            || !self.kinds.is_empty()
            || !self.words.is_empty()
    }
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
    let svc = resolve_service(intent, origin)?;
    let grants: Vec<(&'static Action, Vec<String>)> = if intent.from_text() {
        description_grants(svc, intent, notes)?
    } else {
        let resources = structured_resources(intent, origin)?;
        let grants = if intent.actions.is_empty() {
            level_grants(svc, intent, &resources, origin, notes)?
        } else {
            action_grants(svc, intent, &resources, notes)?
        };
        check_named_used(svc, &resources, &grants, origin)?;
        grants
    };
    Ok(group_statements(svc, grants))
}

/// Step 1: the catalog service, or what to use instead.
fn resolve_service(intent: &ServiceIntent, origin: Origin) -> anyhow::Result<&'static Service> {
    catalog::service(&intent.prefix).ok_or_else(|| {
        JitError::invalid(
            origin.field("--service"),
            format!(
                "`{}` is not an AWS service prefix; use the prefix from the Service Authorization Reference (s3, ec2, dynamodb, logs, ...)",
                intent.prefix
            ),
        )
        .into()
    })
}

/// Step 2a (description): verbs and nouns → actions (select.rs) with their ARNs.
fn description_grants(
    svc: &'static Service,
    intent: &ServiceIntent,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<(&'static Action, Vec<String>)>> {
    let contents_child = |rtype: &str| -> Option<&'static str> {
        match (svc.prefix.as_str(), rtype) {
            ("s3", "bucket") => Some("object"),
            ("logs", "log-group") => Some("log-stream"),
            _ => None,
        }
    };
    let cx = Ctx {
        region: intent.region.as_deref(),
        account: intent.account.as_deref(),
        contents_child: &contents_child,
    };
    let grants: Vec<Grant> = select::choose(svc, intent, &cx, notes)?;
    Ok(grants
        .into_iter()
        .map(|g| {
            let arns = if g.arns.is_empty() {
                vec!["*".to_string()]
            } else {
                g.arns.into_iter().map(|(a, _)| a).collect()
            };
            (g.action, arns)
        })
        .collect())
}

/// Step 2b (structured): the `--resources`, de-duplicated and checked.
fn structured_resources(intent: &ServiceIntent, origin: Origin) -> anyhow::Result<Vec<String>> {
    let mut seen = BTreeSet::new();
    let resources: Vec<String> = intent
        .resources
        .iter()
        .filter(|r| seen.insert((*r).clone()))
        .cloned()
        .collect();
    for r in &resources {
        if let Err(msg) = arn::check_syntax(r) {
            return Err(JitError::invalid(origin.field("--resources"), msg).into());
        }
    }
    Ok(resources)
}

/// `--actions`: each action (globs expanded) gets the named ARNs its types accept.
fn action_grants(
    svc: &'static Service,
    intent: &ServiceIntent,
    resources: &[String],
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<(&'static Action, Vec<String>)>> {
    let concrete: Vec<&String> = resources.iter().filter(|r| *r != "*").collect();
    let mut grants: Vec<(&'static Action, Vec<String>)> = Vec::new();
    for name in &intent.actions {
        let name = name
            .strip_prefix(&format!("{}:", svc.prefix))
            .unwrap_or(name);
        let matched: Vec<&'static Action> = if name.contains(['*', '?']) {
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
    Ok(grants)
}

/// `--access`: every action of the levels that fits the named resources.
fn level_grants(
    svc: &'static Service,
    intent: &ServiceIntent,
    resources: &[String],
    origin: Origin,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<(&'static Action, Vec<String>)>> {
    if intent.levels.is_empty() {
        return Err(JitError::invalid(
            origin.field("--access"),
            "say what access is needed: read, list, write or tag",
        )
        .into());
    }
    let concrete: Vec<&String> = resources.iter().filter(|r| *r != "*").collect();
    let star_given = resources.iter().any(|r| r == "*");
    // The kinds of the named resources select resource-less actions (`Bucket` →
    // ListAllMyBuckets).
    let mut stems: BTreeSet<String> = BTreeSet::new();
    for r in &concrete {
        for rt in &svc.resources {
            if rt.template.matches(r) {
                stems.insert(stem_of(&rt.name).to_ascii_lowercase());
            }
        }
    }
    let mut grants = Vec::new();
    let mut left_out = 0usize;
    for a in svc
        .actions
        .iter()
        .filter(|a| intent.levels.contains(&a.level))
    {
        if svc.action_resource_types(a).is_empty() {
            let lname = a.name.to_ascii_lowercase();
            if star_given || stems.iter().any(|s| lname.contains(s.as_str())) {
                grants.push((a, vec!["*".into()]));
            }
            continue;
        }
        let fit = if star_given {
            vec!["*".to_string()]
        } else {
            scope(svc, a, &concrete)
        };
        if fit.is_empty() {
            left_out += 1;
        } else {
            grants.push((a, fit));
        }
    }
    if concrete.is_empty() && !star_given && left_out > 0 {
        notes.push(format!(
            "{left_out} {} actions that need a named resource were left out; name the resources (ARNs or names) to include them",
            svc.prefix
        ));
    }
    if grants.is_empty() {
        let levels: Vec<&str> = intent.levels.iter().map(|l| l.as_str()).collect();
        return Err(JitError::invalid(
            origin.field("--resources"),
            format!(
                "no {} action of access level {} applies to {}; name the resources (ARNs, or e.g. a bucket/table/function name) the access is for",
                svc.prefix,
                levels.join("/"),
                if concrete.is_empty() {
                    "what was asked".to_string()
                } else {
                    concrete.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                }
            ),
        )
        .into());
    }
    Ok(grants)
}

/// Step 3 (structured): a named resource that no granted action accepts means the
/// request was misread; never silently dropped.
fn check_named_used(
    svc: &Service,
    resources: &[String],
    grants: &[(&'static Action, Vec<String>)],
    origin: Origin,
) -> anyhow::Result<()> {
    for r in resources.iter().filter(|r| *r != "*") {
        if !grants.iter().any(|(_, res)| res.iter().any(|x| x == r)) {
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
    Ok(())
}

/// Step 4: actions with the same resources share a statement; resource-less ones go to
/// one `"*"` statement.
fn group_statements(
    svc: &Service,
    grants: Vec<(&'static Action, Vec<String>)>,
) -> Vec<AllowStatement> {
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
    out
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
        // A resource belongs to a service whose resource types accept it: an IAM role
        // ARN is what `sts:AssumeRole` is scoped to.
        let mine: Vec<String> = resources
            .iter()
            .filter(|r| *r == "*" || belongs_to(r, &prefix))
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

fn belongs_to(resource: &str, prefix: &str) -> bool {
    match arn::service_of(resource) {
        None => true,
        Some(s) if s == prefix => true,
        Some(_) => catalog::service(prefix)
            .is_some_and(|svc| svc.resources.iter().any(|r| r.template.matches(resource))),
    }
}
