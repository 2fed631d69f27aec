//! The lint rules of `rules check`, each with the line it is about. Errors make the file
//! unusable (every request is refused until it is fixed); warnings do not.

use super::glob::{self, Kind};
use super::{Defaults, FindingsAllowed, Level, Lint, Mode, Rule, RulesFile};
use crate::request::same_person;

/// The most rules a file may hold.
pub const MAX_RULES: usize = 500;

pub fn lint(file: &RulesFile, d: &Defaults) -> Vec<Lint> {
    let mut out = Vec::new();
    if file.rules.is_empty() {
        out.push(Lint::error(
            1,
            "no-rules",
            "the file has no [[rule]]: every request would be refused",
        ));
    }
    for (name, g) in &file.groups {
        if g.members.is_empty() {
            out.push(Lint::warning(
                g.line,
                "empty-group",
                format!("group `{name}` has no members"),
            ));
        }
        for m in &g.members {
            if let Some(why) = approver_problem(m, false) {
                out.push(Lint::error(
                    g.line,
                    "bad-approver",
                    format!("group `{name}`: `{}` {why}", crate::text::safe(m)),
                ));
            }
        }
    }
    // Finding shadowed rules compares every pair; past this many rules a file is not
    // something people can read anyway.
    let many = file.rules.len() > MAX_RULES;
    if many {
        out.push(Lint::error(
            file.rules[MAX_RULES].line,
            "too-many-rules",
            format!(
                "{} rules; at most {MAX_RULES} are read (first match wins: merge rules, or use globs)",
                file.rules.len()
            ),
        ));
    }
    for (i, rule) in file.rules.iter().enumerate().take(MAX_RULES) {
        let mut add = |l: Lint| out.push(l.of(rule));
        name(file, i, rule, &mut add);
        globs(rule, &mut add);
        services(rule, &mut add);
        ttl(rule, d, &mut add);
        approvers(file, rule, d, &mut add);
        auto(rule, &mut add);
        spill(rule, &mut add);
        if let Some(j) = (0..i).find(|&j| shadows(&file.rules[j], rule)) {
            let earlier = &file.rules[j];
            add(Lint::error(
                rule.line,
                "shadowed",
                format!(
                    "rule `{}` can never match: rule `{}` (line {}) comes first and matches every request it would",
                    rule.name, earlier.name, earlier.line
                ),
            ));
        }
    }
    out
}

fn name(file: &RulesFile, i: usize, rule: &Rule, add: &mut impl FnMut(Lint)) {
    let line = rule.line_of("name");
    if rule.name.is_empty() {
        add(Lint::error(
            line,
            "bad-name",
            "every rule needs a name (it is recorded on the requests it decides)",
        ));
        return;
    }
    let ok = rule.name.len() <= 64
        && rule
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !ok {
        add(Lint::error(
            line,
            "bad-name",
            format!(
                "rule name `{}` must be 1 to 64 letters, digits and ._-",
                crate::text::safe(&rule.name)
            ),
        ));
    }
    if let Some(first) = file.rules[..i].iter().find(|r| r.name == rule.name) {
        add(Lint::error(
            line,
            "duplicate-name",
            format!(
                "rule name `{}` is already used on line {}",
                rule.name, first.line
            ),
        ));
    }
}

fn globs(rule: &Rule, add: &mut impl FnMut(Lint)) {
    let fields: [(&str, &Option<Vec<String>>, Kind); 5] = [
        ("requesters", &rule.requesters, Kind::Email),
        ("accounts", &rule.accounts, Kind::Account),
        (
            "permission_sets",
            &rule.permission_sets,
            Kind::PermissionSet,
        ),
        ("iam_users", &rule.iam_users, Kind::IamName),
        ("iam_roles", &rule.iam_roles, Kind::IamName),
    ];
    for (key, list, kind) in fields {
        for p in list.iter().flatten() {
            if let Some(why) = glob::problem(kind, p) {
                add(Lint::error(
                    rule.line_of(key),
                    "bad-glob",
                    format!("{key}: `{}`: {why}", crate::text::safe(p)),
                ));
            }
        }
    }
    if rule.requesters.as_ref().is_some_and(Vec::is_empty) {
        add(Lint::warning(
            rule.line_of("requesters"),
            "no-requesters",
            format!(
                "rule `{}` has requesters = []: nobody can request under it",
                rule.name
            ),
        ));
    }
}

fn services(rule: &Rule, add: &mut impl FnMut(Lint)) {
    for s in rule.services.iter().flatten() {
        let known = s == &s.to_ascii_lowercase() && crate::policy::catalog::has_service(s);
        if !known {
            add(Lint::error(
                rule.line_of("services"),
                "unknown-service",
                format!(
                    "services: `{}` is not a service prefix the catalog knows (write them in lower case: s3, ec2, dynamodb)",
                    crate::text::safe(s)
                ),
            ));
        }
    }
}

fn ttl(rule: &Rule, d: &Defaults, add: &mut impl FnMut(Lint)) {
    if let Some(t) = rule.max_ttl {
        if t > d.max_ttl {
            add(Lint::error(
                rule.line_of("max_ttl"),
                "ttl-above-max",
                format!(
                    "max_ttl {} is above JIT_MAX_DURATION ({}); no rule can grant longer",
                    crate::time::human(t),
                    crate::time::human(d.max_ttl)
                ),
            ));
        }
    }
}

/// Why `a` cannot be an approver entry, or None. Approvers are exact emails (a glob
/// would let everyone it matches approve) or, in a rule, `group:NAME`.
fn approver_problem(a: &str, groups_allowed: bool) -> Option<String> {
    if groups_allowed && a.starts_with("group:") {
        return None;
    }
    if a.contains(['*', '?']) {
        return Some("is a pattern; approvers are exact emails (or group:NAME)".into());
    }
    let ok = a.is_ascii()
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
        && a.split_once('@').is_some_and(|(l, dom)| {
            !l.is_empty() && !dom.contains('@') && dom.contains('.') && !dom.starts_with('.')
        });
    if ok {
        None
    } else {
        Some("is not an email address".into())
    }
}

fn approvers(file: &RulesFile, rule: &Rule, d: &Defaults, add: &mut impl FnMut(Lint)) {
    let line = rule.line_of("approvers");
    for a in rule.approvers.iter().flatten() {
        if let Some(g) = a.strip_prefix("group:") {
            if !file.groups.contains_key(g) {
                add(Lint::error(
                    line,
                    "unknown-group",
                    format!(
                        "approvers: group `{}` does not exist in [groups]",
                        crate::text::safe(g)
                    ),
                ));
            }
        } else if let Some(why) = approver_problem(a, true) {
            add(Lint::error(
                line,
                "bad-approver",
                format!("approvers: `{}` {why}", crate::text::safe(a)),
            ));
        }
    }
    let resolved = file.approvers(rule, d);
    if resolved.is_empty() {
        let why = match &rule.approvers {
            Some(l) if l.is_empty() => "approvers = [] names nobody".to_string(),
            Some(_) => "its approvers and groups name nobody".to_string(),
            None => "it names no approvers and APPROVAL_LIST is empty".to_string(),
        };
        add(Lint::error(
            line,
            "empty-approvers",
            format!(
                "rule `{}` has no approvers: {why}; nobody could approve, review or extend under it",
                rule.name
            ),
        ));
    } else if rule.approval == Mode::Required && distinct(&resolved) < rule.quorum {
        add(Lint::error(
            rule.line_of("quorum"),
            "quorum",
            format!(
                "quorum {} needs more approvers than the rule has ({}: {})",
                rule.quorum,
                resolved.len(),
                resolved.join(", ")
            ),
        ));
    }
}

/// People among `approvers`: one mailbox fills one place in a quorum, however it is
/// spelled (`boss@` and `Boss+jit@` are one approver).
fn distinct(approvers: &[String]) -> usize {
    let mut seen: Vec<&String> = Vec::new();
    for a in approvers {
        if !seen.iter().any(|s| crate::request::maybe_same_person(s, a)) {
            seen.push(a);
        }
    }
    seen.len()
}

fn auto(rule: &Rule, add: &mut impl FnMut(Lint)) {
    if rule.approval != Mode::Auto {
        return;
    }
    let line = rule.line_of("approval");
    let narrow = rule.max_access.is_some_and(|l| l <= Level::Read);
    if !narrow {
        add(Lint::error(
            line,
            "auto-broad",
            format!(
                "approval = \"auto\" needs max_access = \"read\" (or \"list\"); rule `{}` allows {}",
                rule.name,
                rule.max_access.map(Level::as_str).unwrap_or("any access level")
            ),
        ));
    }
    if rule.findings != FindingsAllowed::None {
        add(Lint::error(
            line,
            "auto-broad",
            format!(
                "approval = \"auto\" needs findings = \"none\"; rule `{}` would approve requests with security findings",
                rule.name
            ),
        ));
    }
    if rule.break_glass {
        add(Lint::warning(
            rule.line_of("break_glass"),
            "break-glass-auto",
            "break_glass on an auto rule is never needed: its requests are approved at once",
        ));
    }
}

/// A rule that restricts one kind of target still matches every target of the other
/// kind, whose keys it leaves out: absent means any.
fn spill(rule: &Rule, add: &mut impl FnMut(Lint)) {
    let sso = rule.accounts.is_some() || rule.permission_sets.is_some();
    let iam = rule.iam_users.is_some() || rule.iam_roles.is_some();
    if sso && !iam {
        add(Lint::warning(
            rule.line,
            "target-spill",
            format!(
                "rule `{}` restricts accounts or permission_sets but also matches every IAM user and role; add iam_users = [] and iam_roles = [] if it is for Identity Center only",
                rule.name
            ),
        ));
    }
    if iam && !sso {
        add(Lint::warning(
            rule.line,
            "target-spill",
            format!(
                "rule `{}` restricts iam_users or iam_roles but also matches every Identity Center request; add accounts = [] if it is for IAM only",
                rule.name
            ),
        ));
    }
}

/// Does `a`, placed before `b`, match every request `b` would? Then `b` is dead.
fn shadows(a: &Rule, b: &Rule) -> bool {
    use glob::covers_list;
    // A break-glass request skips rules without break-glass, so `b` stays reachable
    // for those when `a` does not allow it.
    if b.break_glass && !a.break_glass {
        return false;
    }
    let level = match (a.max_access, b.max_access) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(x), Some(y)) => y <= x,
    };
    let findings = a.findings == FindingsAllowed::Any || b.findings == FindingsAllowed::None;
    let services = match (&a.services, &b.services) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(x), Some(y)) => y.iter().all(|s| x.iter().any(|t| same_person(s, t))),
    };
    level
        && findings
        && services
        && covers_list(
            Kind::Email,
            a.requesters.as_deref(),
            b.requesters.as_deref(),
        )
        && covers_list(Kind::Account, a.accounts.as_deref(), b.accounts.as_deref())
        && covers_list(
            Kind::PermissionSet,
            a.permission_sets.as_deref(),
            b.permission_sets.as_deref(),
        )
        && covers_list(
            Kind::IamName,
            a.iam_users.as_deref(),
            b.iam_users.as_deref(),
        )
        && covers_list(
            Kind::IamName,
            a.iam_roles.as_deref(),
            b.iam_roles.as_deref(),
        )
}
