//! Matching a request, as it will be stored, against the rules in file order: the first
//! rule with nothing against it wins; for every rule before it (or all of them, when none
//! matches) the reasons it did not match.

use serde::Serialize;

use super::glob::{self, Kind};
use super::{FindingsAllowed, Grants, Rule, RulesFile};
use crate::request::Target;

/// What rules look at.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub requester: &'a str,
    pub target: &'a Target,
    /// For an existing permission set: its name as Identity Center knows it (read when
    /// the request is made), so a request naming it by ARN is matched by its name.
    pub permission_set: Option<&'a str>,
    pub grants: &'a Grants,
    /// The request's security finding codes.
    pub security: &'a [String],
    pub break_glass: bool,
}

/// A rule that did not match, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub rule: String,
    pub line: usize,
    pub reasons: Vec<String>,
}

impl Skip {
    pub fn reason(&self) -> String {
        self.reasons.join("; ")
    }
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Index of the matching rule.
    pub matched: Option<usize>,
    /// Every rule before the match (every rule, when none matched), in file order.
    pub skipped: Vec<Skip>,
}

impl Evaluation {
    /// The rules that came closest to matching: those with the fewest reasons against.
    pub fn closest(&self, n: usize) -> Vec<&Skip> {
        let mut v: Vec<&Skip> = self.skipped.iter().collect();
        v.sort_by_key(|s| s.reasons.len());
        v.truncate(n);
        v
    }
}

pub fn evaluate(file: &RulesFile, s: &Subject<'_>) -> Evaluation {
    let mut skipped = Vec::new();
    for (i, rule) in file.rules.iter().enumerate() {
        let reasons = misses(rule, s);
        if reasons.is_empty() {
            return Evaluation {
                matched: Some(i),
                skipped,
            };
        }
        skipped.push(Skip {
            rule: rule.name.clone(),
            line: rule.line,
            reasons,
        });
    }
    Evaluation {
        matched: None,
        skipped,
    }
}

fn shown(list: &[String]) -> String {
    if list.is_empty() {
        return "[] — none".into();
    }
    let mut v: Vec<String> = list.iter().take(5).cloned().collect();
    if list.len() > 5 {
        v.push(format!("and {} more", list.len() - 5));
    }
    v.join(", ")
}

fn any(kind: Kind, list: &[String], text: &str) -> bool {
    list.iter().any(|p| glob::matches(kind, p, text))
}

/// Everything that keeps `rule` from matching; empty when it matches.
pub fn misses(rule: &Rule, s: &Subject<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if s.break_glass && !rule.break_glass {
        out.push("break-glass is not allowed under it".to_string());
    }
    if let Some(req) = &rule.requesters {
        if !any(Kind::Email, req, s.requester) {
            out.push(format!(
                "requester {} is not among its requesters ({})",
                s.requester,
                shown(req)
            ));
        }
    }
    match s.target {
        Target::IamUser { name } => {
            if let Some(users) = &rule.iam_users {
                if !any(Kind::IamName, users, name) {
                    out.push(format!(
                        "IAM user {name} is not among its iam_users ({})",
                        shown(users)
                    ));
                }
            }
        }
        Target::IamRole { name } => {
            if let Some(roles) = &rule.iam_roles {
                if !any(Kind::IamName, roles, name) {
                    out.push(format!(
                        "IAM role {name} is not among its iam_roles ({})",
                        shown(roles)
                    ));
                }
            }
        }
        Target::Sso {
            account_id,
            permission_set,
            ..
        } => {
            if let Some(accounts) = &rule.accounts {
                if !any(Kind::Account, accounts, account_id) {
                    out.push(format!(
                        "account {account_id} is not among its accounts ({})",
                        shown(accounts)
                    ));
                }
            }
            if let Some(sets) = &rule.permission_sets {
                match s.permission_set.or(permission_set.as_deref()) {
                    Some(ps) if any(Kind::PermissionSet, sets, ps) => {}
                    Some(ps) => out.push(format!(
                        "permission set {ps} is not among its permission_sets ({})",
                        shown(sets)
                    )),
                    None => out.push(format!(
                        "it is for existing permission sets ({}) and this request brings its own policy",
                        shown(sets)
                    )),
                }
            }
        }
    }
    if let Some(services) = &rule.services {
        match &s.grants.services {
            None => out.push(format!(
                "the policy can reach every service ({}) and it allows only {}",
                s.grants.because.as_deref().unwrap_or("*"),
                shown(services)
            )),
            Some(used) => {
                let outside: Vec<String> = used
                    .iter()
                    .filter(|u| !services.iter().any(|a| a.eq_ignore_ascii_case(u)))
                    .cloned()
                    .collect();
                if !outside.is_empty() {
                    out.push(format!(
                        "the policy uses {}, outside its services ({})",
                        outside.join(", "),
                        shown(services)
                    ));
                }
            }
        }
    }
    if let Some(max) = rule.max_access {
        if s.grants.level > max {
            out.push(format!(
                "the policy reaches {} access{}, above its max_access {}",
                s.grants.level.as_str(),
                s.grants
                    .because
                    .as_ref()
                    .map(|b| format!(" ({b})"))
                    .unwrap_or_default(),
                max.as_str()
            ));
        }
    }
    if rule.findings == FindingsAllowed::None && !s.security.is_empty() {
        out.push(format!(
            "the request has security findings ({}) and it allows none",
            s.security.join(", ")
        ));
    }
    out
}
