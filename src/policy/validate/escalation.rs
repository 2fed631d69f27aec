//! Escalation, evasion and exposure: the methods of `methods.rs` applied to what the policy
//! allows. Single actions are findings on their statement; combinations (iam:PassRole with
//! a service that runs the passed role, and the others) are found across statements.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::super::catalog::{self, Action, Service};
use super::super::document::{Effect, Statement};
use super::super::findings::{codes, Code, Finding};
use super::actions::Granted;
use super::lower;
use super::methods::{
    Entry, COMBO_ESCALATION, CREDENTIALS, DATA_EXFILTRATION, DEFENSE_EVASION, ECR_PULL, PASSROLE,
    SINGLE_ESCALATION,
};
use super::resources::{Reached, Scope};

/// What the whole policy allows, gathered statement by statement.
#[derive(Default)]
pub(super) struct PolicyGrants {
    /// Lowercase `svc:action` → the resources of the statements that allow it.
    pub by_action: BTreeMap<String, Vec<String>>,
    /// Lowercase actions allowed on every resource of a type (or without resource scope).
    pub broad: BTreeSet<String>,
    /// Lowercase `svc:action` → (statement, ARN pattern) of each Allow statement's
    /// resources that fit it: judged together across statements.
    patterns: BTreeMap<String, Vec<(usize, String)>>,
    /// Actions named without a wildcard: (statement, service, action).
    pub explicit: Vec<(usize, &'static Service, &'static Action)>,
    /// `"*"` or a wildcard service prefix in an Allow statement.
    pub allows_everything: bool,
    /// Lowercase Action entries of Allow statements that span services (`*`, `*:get*`).
    wide_patterns: Vec<String>,
    /// Allow + NotAction: the lowercase entries each statement excludes.
    not_actions: Vec<Vec<String>>,
    /// Lowercase Action entries (patterns too) denied outright: Deny on `"*"`, no Condition.
    denied: Vec<String>,
}

impl PolicyGrants {
    pub fn record(&mut self, st: &Statement, granted: &[Granted], reached: &Reached) {
        let entries: Vec<String> = st.actions.iter().map(|a| lower(a)).collect();
        if st.effect == Effect::Deny {
            let outright = !st.has_condition
                && !st.not_action
                && !st.not_resource
                && st.resources.iter().any(|r| r == "*");
            if outright {
                self.denied.extend(entries);
            }
            return;
        }
        if st.not_action {
            self.not_actions.push(entries);
            return;
        }
        for e in entries.into_iter().filter(|e| spans_services(e)) {
            self.allows_everything = true;
            self.wide_patterns.push(e);
        }
        for ((g, scope), row) in granted.iter().zip(&reached.scopes).zip(&reached.fits) {
            let full = lower(&g.full());
            if scope.is_broad() {
                self.broad.insert(full.clone());
            }
            if !st.not_resource {
                let mine = row
                    .iter()
                    .zip(&reached.concrete)
                    .filter(|(f, _)| f.is_some())
                    .map(|(_, r)| (st.index, (*r).to_string()));
                self.patterns.entry(full.clone()).or_default().extend(mine);
            }
            self.by_action
                .entry(full)
                .or_default()
                .extend(st.resources.iter().cloned());
            if g.pattern.is_none() {
                self.explicit.push((st.index, g.service, g.action));
            }
        }
    }

    /// Does the policy allow `svc:Action` (any case), by name, pattern or NotAction,
    /// and no Deny takes it away outright?
    pub fn allows(&self, action: &str) -> bool {
        let a = lower(action);
        if self.denied(&a) {
            return false;
        }
        self.by_action.contains_key(&a)
            || self
                .wide_patterns
                .iter()
                .any(|p| catalog::glob_match(p, &a))
            || self
                .not_actions
                .iter()
                .any(|ex| !ex.iter().any(|p| catalog::glob_match(p, &a)))
    }

    /// Allowed on every resource of its type (or by a statement that spans services).
    fn allows_broadly(&self, action: &str) -> bool {
        let a = lower(action);
        !self.denied(&a)
            && (self.broad.contains(&a) || (self.allows(&a) && !self.by_action.contains_key(&a)))
    }

    fn denied(&self, lowercase: &str) -> bool {
        self.denied
            .iter()
            .any(|p| catalog::glob_match(p, lowercase))
    }
}

/// `*`, `*:Get*`, `i*:*`: an Action entry whose service part is a wildcard.
fn spans_services(entry: &str) -> bool {
    entry == "*"
        || entry
            .split(':')
            .next()
            .is_some_and(|s| s.contains(['*', '?']))
}

/// Patterns of several statements that together reach every resource of a type an
/// action accepts, where no statement does alone (`*a*/*` … `*m*/*` in one statement,
/// `*n*/*` … `*9*/*` in another): the same findings as one statement would get, without a
/// statement index. The action then counts as allowed broadly.
pub(super) fn across_statements(grants: &mut PolicyGrants, findings: &mut Vec<Finding>) {
    let mut cache: HashMap<(*const Service, usize, Vec<String>), bool> = HashMap::new();
    let mut broad = Vec::new();
    for (action, list) in &grants.patterns {
        let statements: BTreeSet<usize> = list.iter().map(|(i, _)| *i).collect();
        if statements.len() < 2 || grants.broad.contains(action) || grants.denied(action) {
            continue;
        }
        let Some((svc, a)) = catalog::action(action) else {
            continue;
        };
        let mut patterns: Vec<String> = list.iter().map(|(_, r)| r.clone()).collect();
        patterns.sort();
        patterns.dedup();
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let hit = a.resources.iter().find_map(|ar| {
            let rt = svc
                .resources
                .get(ar.index)
                .filter(|rt| !super::super::words::creates_new(&a.name, &rt.name))?;
            let key = (svc as *const Service, ar.index, patterns.clone());
            let every = *cache
                .entry(key)
                .or_insert_with(|| rt.template.reached_together(&refs));
            every.then_some(rt)
        });
        let Some(rt) = hit else {
            continue;
        };
        let full = format!("{}:{}", svc.prefix, a.name);
        let on: Vec<&str> = refs
            .iter()
            .copied()
            .filter(|r| rt.template.matches(r))
            .collect();
        let shown = if on.len() <= 3 {
            on.join(", ")
        } else {
            format!("{}, … ({} patterns)", on[..2].join(", "), on.len())
        };
        let stmts: Vec<String> = statements.iter().map(usize::to_string).collect();
        findings.push(
            Finding::new(
                codes::RESOURCE_STAR,
                format!(
                    "{full} is granted in statements {} on patterns that together reach every {}: {shown}; as broad as \"*\"",
                    stmts.join(", "),
                    rt.name
                ),
                "name the resources instead of patterns that between them match all of them",
            )
            .action(full.clone())
            .resource(shown.clone()),
        );
        let lf = lower(&full);
        let escalation = lookup(SINGLE_ESCALATION, &lf).is_some();
        if let Some(why) = lookup(CREDENTIALS, &lf).filter(|_| !escalation) {
            let code = if lf.starts_with("sts:assumerole") {
                codes::ASSUME_ANY_ROLE
            } else {
                codes::CREDENTIALS_EXPOSURE
            };
            findings.push(
                Finding::new(
                    code,
                    format!("{full} on `{shown}` returns credentials or secrets of every resource of its type: {why}"),
                    "name the secrets, parameters, keys, users or roles it is for",
                )
                .action(full.clone())
                .resource(shown.clone()),
            );
        }
        if let Some(why) = lookup(DATA_EXFILTRATION, &lf) {
            findings.push(
                Finding::new(
                    codes::DATA_EXFILTRATION,
                    format!("{full} on `{shown}` reads or copies data out of every resource of its type: {why}"),
                    "name the buckets, tables or snapshots it is for",
                )
                .action(full.clone())
                .resource(shown),
            );
        }
        broad.push(action.clone());
    }
    grants.broad.extend(broad);
}

/// The single-action methods, on one Allow statement.
pub(super) fn statement_methods(
    st: &Statement,
    granted: &[Granted],
    reached: &Reached,
    grants: &PolicyGrants,
    findings: &mut Vec<Finding>,
) {
    wide_statement_summaries(st, grants, findings);
    for (g, scope) in granted.iter().zip(&reached.scopes) {
        let full = g.full();
        let lf = lower(&full);
        if grants.denied(&lf) {
            continue;
        }
        let via = g
            .pattern
            .as_ref()
            .map(|p| format!(" (granted by `{p}`)"))
            .unwrap_or_default();
        if let Some(why) = lookup(SINGLE_ESCALATION, &lf) {
            findings.push(
                Finding::new(
                    codes::PRIVILEGE_ESCALATION,
                    format!("{full} lets the holder give themselves more permissions{via}: {why}"),
                    "remove it; if it is truly needed, the approver must acknowledge it",
                )
                .at(st.index)
                .action(full.clone()),
            );
        }
        if let Some(why) = lookup(DEFENSE_EVASION, &lf) {
            findings.push(
                Finding::new(
                    codes::DEFENSE_EVASION,
                    format!("{full} switches off or blinds a guardrail{via}: {why}"),
                    "remove it; guardrail changes belong to the security team's own roles",
                )
                .at(st.index)
                .action(full.clone()),
            );
        }
        exposure(st.index, &full, &via, scope, findings);
    }
}

/// Credentials and data exposure of one granted action, by how far it reaches.
fn exposure(i: usize, full: &str, via: &str, scope: &Scope, findings: &mut Vec<Finding>) {
    let lf = lower(full);
    // These are privilege escalation already, or assume-any-role when broad.
    let escalation = lookup(SINGLE_ESCALATION, &lf).is_some();
    let assume = lf.starts_with("sts:assumerole");
    if let Some(why) = lookup(CREDENTIALS, &lf).filter(|_| !escalation) {
        match scope {
            Scope::Every { resource } if !assume => findings.push(
                Finding::new(
                    codes::CREDENTIALS_EXPOSURE,
                    format!("{full} on `{resource}` returns credentials or secrets of every resource of its type{via}: {why}"),
                    "name the secrets, parameters, keys or users it is for",
                )
                .at(i)
                .action(full)
                .resource(resource.clone()),
            ),
            Scope::Confined | Scope::Unscoped => findings.push(
                Finding::new(
                    codes::RETURNS_CREDENTIALS,
                    format!("{full} returns credentials or secrets{via}: {why}"),
                    "make sure the approver expects credentials to be handed out",
                )
                .at(i)
                .action(full),
            ),
            Scope::Every { .. } | Scope::Nothing => {}
        }
    }
    if let (Some(why), Scope::Every { resource }) = (lookup(DATA_EXFILTRATION, &lf), scope) {
        findings.push(
            Finding::new(
                codes::DATA_EXFILTRATION,
                format!("{full} on `{resource}` reads or copies data out of every resource of its type{via}: {why}"),
                "name the buckets, tables or snapshots it is for",
            )
            .at(i)
            .action(full)
            .resource(resource.clone()),
        );
    }
}

/// A statement whose Action spans services (`*`, `*:Get*`) or uses NotAction: it grants
/// whole tables of methods at once.
struct Wide<'a> {
    st: &'a Statement,
    /// Lowercase Action entries that span services (Action statements).
    patterns: Vec<String>,
    /// Lowercase NotAction entries (NotAction statements).
    excluded: Vec<String>,
    /// How findings name it: the patterns, or `NotAction`.
    label: String,
}

impl<'a> Wide<'a> {
    fn of(st: &'a Statement) -> Option<Self> {
        let entries = st.actions.iter().map(|a| lower(a));
        if st.not_action {
            return Some(Wide {
                st,
                patterns: Vec::new(),
                excluded: entries.collect(),
                label: "NotAction".to_string(),
            });
        }
        let patterns: Vec<String> = entries.filter(|a| spans_services(a)).collect();
        (!patterns.is_empty()).then(|| Wide {
            st,
            label: patterns.join(", "),
            patterns,
            excluded: Vec::new(),
        })
    }

    fn grants(&self, policy: &PolicyGrants, action: &str) -> bool {
        let a = lower(action);
        !policy.denied(&a)
            && if self.st.not_action {
                !self.excluded.iter().any(|p| catalog::glob_match(p, &a))
            } else {
                self.patterns.iter().any(|p| catalog::glob_match(p, &a))
            }
    }

    /// On every resource: `"*"` or NotResource.
    fn broad(&self) -> bool {
        self.st.not_resource || self.st.resources.iter().any(|r| r == "*")
    }

    /// One finding for the table's methods this statement grants, naming the first few.
    fn summarise(
        &self,
        policy: &PolicyGrants,
        (code, table, what): (&'static Code, &[Entry], &str),
        findings: &mut Vec<Finding>,
    ) {
        let hit: Vec<&str> = table
            .iter()
            .map(|(a, _)| *a)
            .filter(|a| self.grants(policy, a))
            .collect();
        if hit.is_empty() {
            return;
        }
        let shown: Vec<&str> = hit.iter().take(6).copied().collect();
        findings.push(
            Finding::new(
                code,
                format!(
                    "`{}` grants {} {what} ({}{})",
                    self.label,
                    hit.len(),
                    shown.join(", "),
                    if hit.len() > 6 { ", ..." } else { "" }
                ),
                "name the actions (and the resources) needed instead",
            )
            .at(self.st.index)
            .action(self.label.clone()),
        );
    }
}

/// One finding per kind of method a wide statement grants.
fn wide_statement_summaries(st: &Statement, policy: &PolicyGrants, findings: &mut Vec<Finding>) {
    let Some(wide) = Wide::of(st) else {
        return;
    };
    let mut kinds = vec![
        (
            codes::PRIVILEGE_ESCALATION,
            SINGLE_ESCALATION,
            "privilege-escalation actions",
        ),
        (
            codes::DEFENSE_EVASION,
            DEFENSE_EVASION,
            "actions that switch off guardrails",
        ),
    ];
    if wide.grants(policy, "iam:PassRole") {
        kinds.push((
            codes::PASSROLE_ESCALATION,
            PASSROLE,
            "actions that run a role passed with iam:PassRole, which it grants too",
        ));
    }
    if wide.broad() {
        kinds.push((
            codes::CREDENTIALS_EXPOSURE,
            CREDENTIALS,
            "actions that return credentials or secrets, on every resource",
        ));
        kinds.push((
            codes::DATA_EXFILTRATION,
            DATA_EXFILTRATION,
            "actions that read or copy data, on every resource",
        ));
    }
    for kind in kinds {
        wide.summarise(policy, kind, findings);
    }
}

fn lookup(table: &[Entry], lowercase: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(lowercase))
        .map(|(_, why)| *why)
}

/// Combinations across statements: iam:PassRole with a service that runs the passed role,
/// the other multi-action methods, and a registry token with pull on every repository.
/// A statement that allows everything was summarised on its own already.
pub(super) fn combinations(grants: &PolicyGrants, findings: &mut Vec<Finding>) {
    if grants.allows_everything {
        return;
    }
    passrole(grants, findings);
    for (actions, why) in COMBO_ESCALATION {
        if actions.iter().all(|a| grants.allows(a)) {
            findings.push(
                Finding::new(
                    codes::PRIVILEGE_ESCALATION,
                    format!(
                        "{} together let the holder escalate: {why}",
                        actions.join(" + ")
                    ),
                    "remove one of them; if all are needed, the approver must acknowledge it",
                )
                .action(actions.join("+")),
            );
        }
    }
    if grants.allows("ecr:GetAuthorizationToken")
        && ECR_PULL.iter().any(|a| grants.allows_broadly(a))
    {
        findings.push(
            Finding::new(
                codes::CREDENTIALS_EXPOSURE,
                "ecr:GetAuthorizationToken with image pulls on every repository hands out every container image (and the secrets baked into them)",
                "name the repositories to pull from",
            )
            .action(format!("ecr:GetAuthorizationToken+{}", ECR_PULL.join("+"))),
        );
    }
}

/// iam:PassRole together with a service that runs as the passed role.
fn passrole(grants: &PolicyGrants, findings: &mut Vec<Finding>) {
    if !grants.allows("iam:PassRole") {
        return;
    }
    let on = grants
        .by_action
        .get("iam:passrole")
        .map_or_else(|| "every role".to_string(), |r| r.join(", "));
    for (target, why) in PASSROLE {
        if grants.allows(target) {
            findings.push(
                Finding::new(
                    codes::PASSROLE_ESCALATION,
                    format!(
                        "iam:PassRole (on {on}) with {target} lets the holder run code as any role it can pass: {why}"
                    ),
                    "drop iam:PassRole, or scope it to one role ARN and add an iam:PassedToService condition; the approver must acknowledge it",
                )
                .action(format!("iam:PassRole+{target}")),
            );
        }
    }
}
