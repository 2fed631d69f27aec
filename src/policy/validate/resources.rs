//! The Resource element against the statement's actions: syntax, which resource types each
//! ARN pattern matches and how far it reaches in them, and patterns as broad as `"*"`.

use std::collections::{BTreeMap, HashMap};

use super::super::arn::{self, Reach};
use super::super::catalog::Service;
use super::super::document::{Effect, Statement};
use super::super::findings::{codes, Finding};
use super::super::words::creates_new;
use super::actions::{Granted, Resolved};

/// How far one granted action reaches in its statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Scope {
    /// No resource of the statement applies to it (a finding says so), or NotAction.
    Nothing,
    /// Named resources or prefixes.
    Confined,
    /// Every resource of one of its types: `"*"`, NotResource, or a pattern as broad.
    Every { resource: String },
    /// An action without resource-level permissions, on `"*"` (the only way to grant it).
    Unscoped,
}

impl Scope {
    /// Every resource the action can touch: a pattern as broad as `"*"`, or `"*"` itself.
    pub fn is_broad(&self) -> bool {
        matches!(self, Scope::Every { .. } | Scope::Unscoped)
    }
}

/// The broadest way one resource pattern reaches one granted action.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fit {
    pub reach: Reach,
    /// Index into the action's service's resource types.
    pub type_index: usize,
}

/// What the statement's resources reach, per granted action.
pub(super) struct Reached<'a> {
    /// The well-formed ARNs of the statement (not `"*"`).
    pub concrete: Vec<&'a str>,
    /// `fits[g][r]`: how `concrete[r]` reaches `granted[g]`, if it matches one of its types.
    pub fits: Vec<Vec<Option<Fit>>>,
    /// Per granted action: patterns that together (none alone) reach every resource of
    /// one of its types, as (type index, the patterns).
    pub together: Vec<Option<(usize, String)>>,
    /// Per granted action, aligned with `Resolved::granted`.
    pub scopes: Vec<Scope>,
}

pub(super) fn check<'a>(
    st: &'a Statement,
    resolved: &Resolved,
    findings: &mut Vec<Finding>,
) -> Reached<'a> {
    let (concrete, has_star) = parse_resources(st, findings);
    let granted = &resolved.granted;
    let fits = fit_matrix(granted, &concrete);
    let together = together(granted, &concrete, &fits);
    let scopes = scopes(st, granted, &concrete, &fits, &together, has_star);
    let reached = Reached {
        concrete,
        fits,
        together,
        scopes,
    };
    if st.not_resource || st.not_action {
        return reached;
    }
    let mut unmatched_actions = false;
    if !has_star && !reached.concrete.is_empty() {
        unmatched_actions |= each_action_has_a_resource(st.index, granted, &reached, findings);
        unmatched_actions |= each_pattern_has_a_resource(st.index, granted, &reached, findings);
    }
    if resolved.all_known && !granted.is_empty() {
        each_resource_fits_an_action(st.index, granted, &reached, unmatched_actions, findings);
    }
    if st.effect == Effect::Allow {
        if has_star {
            star_on_scopable_actions(st.index, granted, findings);
        } else {
            patterns_as_broad_as_star(st.index, granted, &reached, findings);
        }
        wildcard_account_or_region(st.index, &reached, findings);
    }
    reached
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

/// `fits[g][r]` for every granted action and ARN. A (service, type, ARN) triple is worked
/// out once: `s3:*` shares a handful of types among hundreds of actions.
fn fit_matrix(granted: &[Granted], concrete: &[&str]) -> Vec<Vec<Option<Fit>>> {
    let mut cache: HashMap<(*const Service, usize, usize), Option<Reach>> = HashMap::new();
    granted
        .iter()
        .map(|g| {
            concrete
                .iter()
                .enumerate()
                .map(|(ri, r)| {
                    let mut best: Option<Fit> = None;
                    for ar in &g.action.resources {
                        let Some(rt) = g.service.resources.get(ar.index) else {
                            continue;
                        };
                        let key = (g.service as *const Service, ar.index, ri);
                        let reach = *cache.entry(key).or_insert_with(|| rt.template.reach(r));
                        if let Some(mut reach) = reach {
                            // `ec2:CreateSnapshot` on `snapshot/*`: every name the snapshot
                            // to be made may get, not every snapshot there is.
                            reach.every &= !creates_new(&g.action.name, &rt.name);
                            if best.is_none_or(|b| reach.every && !b.reach.every) {
                                best = Some(Fit {
                                    reach,
                                    type_index: ar.index,
                                });
                            }
                        }
                    }
                    best
                })
                .collect()
        })
        .collect()
}

/// Patterns of the statement that together reach every resource of a type an action
/// accepts, where no one of them does alone (`s3:::*a*/*`, …, `s3:::*9*/*`). Worked out
/// once per (service, type).
fn together(
    granted: &[Granted],
    concrete: &[&str],
    fits: &[Vec<Option<Fit>>],
) -> Vec<Option<(usize, String)>> {
    let mut cache: HashMap<(*const Service, usize), Option<String>> = HashMap::new();
    granted
        .iter()
        .zip(fits)
        .map(|(g, row)| {
            let matched = row.iter().filter(|f| f.is_some()).count();
            if matched < 2 || row.iter().any(|f| f.is_some_and(|f| f.reach.every)) {
                return None;
            }
            g.action.resources.iter().find_map(|ar| {
                let rt = g
                    .service
                    .resources
                    .get(ar.index)
                    .filter(|rt| !creates_new(&g.action.name, &rt.name))?;
                let key = (g.service as *const Service, ar.index);
                cache
                    .entry(key)
                    .or_insert_with(|| {
                        rt.template
                            .reached_together(concrete)
                            .then(|| label(concrete.iter().filter(|r| rt.template.matches(r))))
                    })
                    .clone()
                    .map(|l| (ar.index, l))
            })
        })
        .collect()
}

/// Several patterns, for a finding: the first few and how many.
fn label<'a>(patterns: impl Iterator<Item = &'a &'a str>) -> String {
    let all: Vec<&str> = patterns.copied().collect();
    if all.len() <= 3 {
        all.join(", ")
    } else {
        format!("{}, … ({} patterns)", all[..2].join(", "), all.len())
    }
}

fn scopes(
    st: &Statement,
    granted: &[Granted],
    concrete: &[&str],
    fits: &[Vec<Option<Fit>>],
    together: &[Option<(usize, String)>],
    has_star: bool,
) -> Vec<Scope> {
    granted
        .iter()
        .zip(fits)
        .zip(together)
        .map(|((g, row), together)| {
            if st.not_action {
                return Scope::Nothing;
            }
            if g.action.resources.is_empty() {
                return if has_star || st.not_resource {
                    Scope::Unscoped
                } else {
                    Scope::Nothing
                };
            }
            if has_star {
                return Scope::Every {
                    resource: "*".into(),
                };
            }
            if st.not_resource {
                return Scope::Every {
                    resource: "NotResource".into(),
                };
            }
            let broad = row
                .iter()
                .zip(concrete)
                .find(|(f, _)| f.is_some_and(|f| f.reach.every));
            match (broad, together) {
                (Some((_, r)), _) => Scope::Every {
                    resource: (*r).to_string(),
                },
                (None, Some((_, patterns))) => Scope::Every {
                    resource: patterns.clone(),
                },
                (None, None) if row.iter().any(Option::is_some) => Scope::Confined,
                (None, None) => Scope::Nothing,
            }
        })
        .collect()
}

/// Every explicit action needs a resource it accepts. Returns whether one had none.
fn each_action_has_a_resource(
    i: usize,
    granted: &[Granted],
    reached: &Reached,
    findings: &mut Vec<Finding>,
) -> bool {
    let mut any = false;
    for (g, row) in granted.iter().zip(&reached.fits) {
        if g.pattern.is_some() {
            continue;
        }
        let types = g.service.action_resource_types(g.action);
        if types.is_empty() {
            any = true;
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
        } else if row.iter().all(Option::is_none) {
            any = true;
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
    any
}

/// Every wildcard pattern needs at least one of its actions to fit a resource.
fn each_pattern_has_a_resource(
    i: usize,
    granted: &[Granted],
    reached: &Reached,
    findings: &mut Vec<Finding>,
) -> bool {
    let mut any = false;
    let mut pattern_names: Vec<&String> =
        granted.iter().filter_map(|g| g.pattern.as_ref()).collect();
    pattern_names.dedup();
    for p in pattern_names {
        let fits = granted
            .iter()
            .zip(&reached.fits)
            .filter(|(g, _)| g.pattern.as_ref() == Some(p))
            .any(|(_, row)| row.iter().any(Option::is_some));
        if !fits {
            any = true;
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
    any
}

/// Every resource should fit some action of the statement. One that fits none, next to
/// resources that serve every action, is harmless (a bucket next to its objects for
/// `s3:PutObject`): a warning. In a statement that grants nothing it is an error.
fn each_resource_fits_an_action(
    i: usize,
    granted: &[Granted],
    reached: &Reached,
    unmatched_actions: bool,
    findings: &mut Vec<Finding>,
) {
    for (ri, r) in reached.concrete.iter().enumerate() {
        if reached.fits.iter().any(|row| row[ri].is_some()) {
            continue;
        }
        let serves_other = reached
            .concrete
            .iter()
            .enumerate()
            .any(|(o, _)| o != ri && reached.fits.iter().any(|row| row[o].is_some()));
        let f = if unmatched_actions || !serves_other {
            Finding::new(
                codes::RESOURCE_MISMATCH,
                format!("`{r}` matches no resource type of the statement's actions"),
                "check the ARN (service, resource type, separators) or remove it",
            )
        } else {
            let names: Vec<String> = granted.iter().take(3).map(Granted::full).collect();
            Finding::new(
                codes::RESOURCE_UNUSED,
                format!(
                    "`{r}` matches no resource type of the statement's actions ({}{}); it grants nothing",
                    names.join(", "),
                    if granted.len() > 3 { ", ..." } else { "" }
                ),
                "remove it, or move it to a statement with the actions it is for",
            )
        };
        findings.push(f.at(i).resource(*r));
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
                    format!("name the resources instead of \"*\" ({})", templates(g)),
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

/// A pattern that reaches every resource of a type is the same finding as `"*"`.
fn patterns_as_broad_as_star(
    i: usize,
    granted: &[Granted],
    reached: &Reached,
    findings: &mut Vec<Finding>,
) {
    // (pattern, resource) → actions, so `s3:*` on `arn:aws:s3:::*` is one finding.
    let mut by_pattern: BTreeMap<(String, String), usize> = BTreeMap::new();
    for ((g, row), together) in granted.iter().zip(&reached.fits).zip(&reached.together) {
        for (f, r) in row.iter().zip(&reached.concrete) {
            let Some(f) = f.filter(|f| f.reach.every) else {
                continue;
            };
            match &g.pattern {
                None => {
                    let type_name = g.type_name(f.type_index);
                    findings.push(
                        Finding::new(
                            codes::RESOURCE_STAR,
                            format!(
                                "{} is granted on `{r}`, which reaches every {type_name}{}: as broad as \"*\"",
                                g.full(),
                                where_(f.reach)
                            ),
                            format!(
                                "name the resources instead of a pattern that matches all of them ({})",
                                templates(g)
                            ),
                        )
                        .at(i)
                        .action(g.full())
                        .resource(*r),
                    );
                }
                Some(p) => *by_pattern.entry((p.clone(), (*r).to_string())).or_default() += 1,
            }
        }
        let Some((type_index, patterns)) = together else {
            continue;
        };
        match &g.pattern {
            None => {
                let type_name = g.type_name(*type_index);
                findings.push(
                    Finding::new(
                        codes::RESOURCE_STAR,
                        format!(
                            "{} is granted on patterns that together reach every {type_name}: {patterns}; as broad as \"*\"",
                            g.full()
                        ),
                        format!(
                            "name the resources instead of patterns that between them match all of them ({})",
                            templates(g)
                        ),
                    )
                    .at(i)
                    .action(g.full())
                    .resource(patterns.clone()),
                );
            }
            Some(p) => *by_pattern.entry((p.clone(), patterns.clone())).or_default() += 1,
        }
    }
    for ((p, r), n) in by_pattern {
        findings.push(
            Finding::new(
                codes::RESOURCE_STAR,
                format!(
                    "{n} actions of `{p}` are granted on `{r}`, which reaches every resource of their type: as broad as \"*\""
                ),
                "name the actions and the resources instead of patterns that match all of them",
            )
            .at(i)
            .action(p)
            .resource(r),
        );
    }
}

/// A wildcard account or region segment, where the matched type has one.
fn wildcard_account_or_region(i: usize, reached: &Reached, findings: &mut Vec<Finding>) {
    for (ri, r) in reached.concrete.iter().enumerate() {
        let (mut account, mut region) = (false, false);
        for f in reached.fits.iter().filter_map(|row| row[ri]) {
            account |= f.reach.any_account;
            region |= f.reach.any_region;
        }
        let what = match (account, region) {
            (true, true) => "any account and any region",
            (true, false) => "any account",
            (false, true) => "any region",
            (false, false) => continue,
        };
        findings.push(
            Finding::new(
                codes::WILDCARD_ACCOUNT_REGION,
                format!(
                    "`{r}` names resources in {what}, not only the account and region they live in"
                ),
                "write the 12-digit account id and the region into the ARN",
            )
            .at(i)
            .resource(*r),
        );
    }
}

fn where_(reach: Reach) -> &'static str {
    match (reach.any_account, reach.any_region) {
        (true, true) => " in every account and region",
        (true, false) => " in every account",
        (false, true) => " in every region",
        (false, false) => "",
    }
}

/// The ARN templates an action accepts, for a fix text.
fn templates(g: &Granted) -> String {
    g.service
        .action_resource_types(g.action)
        .iter()
        .map(|t| t.arn.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
