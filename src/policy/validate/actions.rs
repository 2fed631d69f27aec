//! The Action element resolved against the catalog: each entry becomes the actions it
//! grants (wildcards expanded), or a finding saying why it grants nothing.

use std::collections::BTreeSet;

use super::super::catalog::{self, Action, Service};
use super::super::document::{Effect, Statement};
use super::super::findings::{codes, Finding};
use super::{lower, suggest};

/// An action a statement grants, after wildcard expansion.
pub(super) struct Granted {
    pub service: &'static Service,
    pub action: &'static Action,
    /// The pattern it came from, when it came from a wildcard.
    pub pattern: Option<String>,
}

impl Granted {
    pub fn full(&self) -> String {
        format!("{}:{}", self.service.prefix, self.action.name)
    }

    /// The name of the service's resource type `index` (`object`, `role`).
    pub fn type_name(&self, index: usize) -> &'static str {
        self.service
            .resources
            .get(index)
            .map_or("resource", |t| t.name.as_str())
    }
}

/// What a statement's Action element resolves to.
pub(super) struct Resolved {
    pub granted: Vec<Granted>,
    /// Every entry named a known action or matching pattern (no unknowns, no `*`).
    pub all_known: bool,
}

/// What one Action entry stands for.
enum Entry {
    /// `"*"` or a wildcard service prefix: every service.
    Everything,
    /// Grants nothing (a finding was recorded).
    Nothing,
    Pattern(&'static Service, String),
    Exact(&'static Service, &'static Action),
}

pub(super) fn resolve(
    st: &Statement,
    allowed: Option<&[String]>,
    findings: &mut Vec<Finding>,
) -> Resolved {
    let ctx = Ctx {
        i: st.index,
        allow: st.effect == Effect::Allow && !st.not_action,
        effect_allow: st.effect == Effect::Allow,
        element: if st.not_action { "NotAction" } else { "Action" },
        allowed,
    };
    let mut granted: Vec<Granted> = Vec::new();
    let mut explicit_seen: BTreeSet<String> = BTreeSet::new();
    let mut patterns: Vec<(String, &'static Service)> = Vec::new();
    let mut all_known = true;

    for a in &st.actions {
        match classify(&ctx, a, findings) {
            Entry::Everything | Entry::Nothing => all_known = false,
            Entry::Pattern(service, name) => {
                let matched = service.matching(&name);
                if matched.is_empty() {
                    findings.push(
                        Finding::new(
                            codes::WILDCARD_NO_MATCH,
                            format!("`{a}` matches no {} action", service.prefix),
                            "check the spelling against the Service Authorization Reference",
                        )
                        .at(ctx.i)
                        .action(a.clone()),
                    );
                    continue;
                }
                flag_wildcard(&ctx, a, &name, service, matched.len(), findings);
                patterns.push((lower(&name), service));
                granted.extend(matched.into_iter().map(|m| Granted {
                    service,
                    action: m,
                    pattern: Some(a.clone()),
                }));
            }
            Entry::Exact(service, action) => {
                if !explicit_seen.insert(lower(a)) {
                    findings.push(
                        Finding::new(
                            codes::REDUNDANT_ACTION,
                            format!("`{a}` is listed more than once in {}", ctx.element),
                            "list each action once",
                        )
                        .at(ctx.i)
                        .action(a.clone()),
                    );
                    continue;
                }
                granted.push(Granted {
                    service,
                    action,
                    pattern: None,
                });
            }
        }
    }
    flag_covered_explicit(ctx.i, &granted, &patterns, findings);
    Resolved { granted, all_known }
}

struct Ctx<'a> {
    i: usize,
    /// Allow without NotAction: the statement grants what it names.
    allow: bool,
    effect_allow: bool,
    element: &'static str,
    allowed: Option<&'a [String]>,
}

/// Decides what one Action entry stands for, recording findings for the ones that fail.
fn classify(ctx: &Ctx, a: &str, findings: &mut Vec<Finding>) -> Entry {
    let i = ctx.i;
    if a == "*" {
        return everything(ctx, a, findings);
    }
    let Some((svc_part, name)) = a.split_once(':') else {
        findings.push(malformed_action(a, i));
        return Entry::Nothing;
    };
    if svc_part.contains(['*', '?']) {
        if ctx.allow {
            findings.push(
                Finding::new(
                    codes::FULL_WILDCARD,
                    format!("`{a}` has a wildcard in the service prefix and reaches many services"),
                    "name one service per action, e.g. s3:GetObject",
                )
                .at(i)
                .action(a),
            );
        }
        return Entry::Everything;
    }
    if name.is_empty() || name.contains(':') {
        findings.push(malformed_action(a, i));
        return Entry::Nothing;
    }
    let Some(service) = catalog::service(svc_part) else {
        findings.push(
            Finding::new(
                codes::UNKNOWN_SERVICE,
                format!("`{svc_part}` is not an AWS service prefix"),
                "use the prefix from the Service Authorization Reference, e.g. s3, ec2, dynamodb, logs",
            )
            .at(i)
            .action(a),
        );
        return Entry::Nothing;
    };
    check_allowed_service(ctx, a, service, findings);
    if name.contains(['*', '?']) {
        return Entry::Pattern(service, name.to_string());
    }
    match service.action(name) {
        Some(action) => Entry::Exact(service, action),
        None => {
            let hint = suggest::did_you_mean(service, name);
            findings.push(
                Finding::new(
                    codes::UNKNOWN_ACTION,
                    format!("`{a}` is not a {} action{hint}", service.prefix),
                    "check the spelling against the Service Authorization Reference",
                )
                .at(i)
                .action(a),
            );
            Entry::Nothing
        }
    }
}

/// `"Action": "*"`: every action of every service.
fn everything(ctx: &Ctx, a: &str, findings: &mut Vec<Finding>) -> Entry {
    if ctx.allow {
        findings.push(
            Finding::new(
                codes::FULL_WILDCARD,
                "\"Action\": \"*\" grants every action in every service",
                "name the service and the actions, e.g. s3:GetObject",
            )
            .at(ctx.i)
            .action(a),
        );
    }
    if ctx.allowed.is_some() && ctx.effect_allow {
        findings.push(
            Finding::new(
                codes::SERVICE_NOT_ALLOWED,
                "\"*\" includes services outside ALLOWED_SERVICES",
                "name actions of allowed services only",
            )
            .at(ctx.i)
            .action(a),
        );
    }
    Entry::Everything
}

fn check_allowed_service(ctx: &Ctx, a: &str, service: &Service, findings: &mut Vec<Finding>) {
    let Some(list) = ctx.allowed else {
        return;
    };
    if ctx.effect_allow && !list.iter().any(|s| s == &service.prefix) {
        findings.push(
            Finding::new(
                codes::SERVICE_NOT_ALLOWED,
                format!(
                    "service `{}` is not in ALLOWED_SERVICES ({})",
                    service.prefix,
                    list.join(",")
                ),
                "remove the action or ask an administrator to allow the service",
            )
            .at(ctx.i)
            .action(a),
        );
    }
}

/// `service:*` is a security finding; narrower wildcards are a warning.
fn flag_wildcard(
    ctx: &Ctx,
    a: &str,
    name: &str,
    service: &Service,
    matched: usize,
    findings: &mut Vec<Finding>,
) {
    if name == "*" {
        if ctx.allow {
            findings.push(
                Finding::new(
                    codes::SERVICE_WILDCARD,
                    format!("`{a}` grants all {matched} actions of {}", service.prefix),
                    "name the actions needed, or use `aws-jit policy generate --service ... --access read`",
                )
                .at(ctx.i)
                .action(a),
            );
        }
    } else {
        findings.push(
            Finding::new(
                codes::ACTION_WILDCARD,
                format!("`{a}` is a wildcard ({matched} actions today; AWS may add more later)"),
                "list the actions explicitly",
            )
            .at(ctx.i)
            .action(a),
        );
    }
}

/// Explicit actions already covered by a wildcard in the same statement.
fn flag_covered_explicit(
    i: usize,
    granted: &[Granted],
    patterns: &[(String, &'static Service)],
    findings: &mut Vec<Finding>,
) {
    for g in granted.iter().filter(|g| g.pattern.is_none()) {
        let covered = patterns.iter().find(|(p, svc)| {
            svc.prefix == g.service.prefix && catalog::glob_match(p, &lower(&g.action.name))
        });
        if let Some((p, svc)) = covered {
            findings.push(
                Finding::new(
                    codes::REDUNDANT_ACTION,
                    format!("`{}` is already covered by `{}:{p}`", g.full(), svc.prefix),
                    "remove one of them (prefer the explicit action)",
                )
                .at(i)
                .action(g.full()),
            );
        }
    }
}

/// An Action entry that is not `prefix:Name`.
fn malformed_action(a: &str, statement: usize) -> Finding {
    Finding::new(
        codes::ACTION_ELEMENT,
        format!("`{a}` is not of the form service:Action"),
        "write actions as prefix:Name, e.g. s3:GetObject",
    )
    .at(statement)
    .action(a.to_string())
}
