//! The access rules as commands use them: read the file (JIT_RULES_FILE or JIT_RULES),
//! refuse one with errors, and decide which rule applies to a request as it will be
//! stored — for `request`, which records the decision, and `rules explain`, which shows it.

use anyhow::Result;

use crate::access::{self, Defaults, Evaluation, Resolved, RulesFile, Subject};
use crate::config::{Config, RulesSource};
use crate::error::JitError;
use crate::request::{maybe_same_person, same_person, Beneficiary, Target, Terms};

/// Largest rules file accepted.
pub const MAX_RULES_BYTES: u64 = 1024 * 1024;

pub fn defaults(config: &Config) -> Defaults {
    Defaults {
        approvers: config.approvers.clone(),
        quorum: config.quorum,
        max_ttl: config.max_duration,
    }
}

/// The field a rules problem is reported against.
pub fn field(config: &Config) -> &'static str {
    match config.rules {
        Some(RulesSource::Inline(_)) => "JIT_RULES",
        _ => "JIT_RULES_FILE",
    }
}

/// The text of the rules in force and where it came from; None without rules.
pub fn text(config: &Config) -> Result<Option<(String, String)>> {
    Ok(match &config.rules {
        None => None,
        Some(RulesSource::File(path)) => Some((
            crate::input::read_text("JIT_RULES_FILE", path, MAX_RULES_BYTES)?,
            path.display().to_string(),
        )),
        Some(RulesSource::Inline(text)) => {
            if text.len() as u64 > MAX_RULES_BYTES {
                return Err(JitError::invalid("JIT_RULES", "is larger than 1 MiB").into());
            }
            Some((text.clone(), "JIT_RULES".to_string()))
        }
    })
}

/// The rules in force, refused (exit 2) when `rules check` would report an error: a
/// file that does not say what its author meant decides nothing.
pub fn load(config: &Config) -> Result<Option<RulesFile>> {
    let Some((text, origin)) = text(config)? else {
        return Ok(None);
    };
    let (file, lints) = access::check(&text, &origin, &defaults(config));
    let errors: Vec<_> = lints
        .iter()
        .filter(|l| l.severity == access::LintSeverity::Error)
        .collect();
    if let Some(first) = errors.first() {
        return Err(JitError::invalid(
            field(config),
            format!(
                "the access rules in {origin} have {} error(s) and decide nothing until fixed \
                 (first: line {}: {}); run `aws-jit rules check` for all of them",
                errors.len(),
                first.line,
                first.message
            ),
        )
        .into());
    }
    Ok(Some(file))
}

/// Which rule applies, and what it decides.
pub struct Decision {
    /// None: no rules file, the implicit rule applies.
    pub file: Option<RulesFile>,
    pub evaluation: Option<Evaluation>,
    /// What applies: None when a rules file is in force and no rule matched.
    pub resolved: Option<Resolved>,
}

impl Decision {
    /// The refusal when no rule matched: the rules that came closest and why.
    pub fn no_match(&self) -> Option<String> {
        let (Some(file), Some(ev), None) = (&self.file, &self.evaluation, &self.resolved) else {
            return None;
        };
        let closest: Vec<String> = ev
            .closest(3)
            .iter()
            .map(|s| format!("rule `{}` (line {}): {}", s.rule, s.line, s.reason()))
            .collect();
        Some(format!(
            "no access rule in {} allows this request, so nothing was stored. Closest: {}. \
             `aws-jit rules explain` with the same flags shows every rule",
            file.origin,
            if closest.is_empty() {
                "none (the file has no rules)".to_string()
            } else {
                closest.join("; ")
            }
        ))
    }
}

/// Decide with the rules in force.
pub fn decide(config: &Config, subject: &Subject<'_>) -> Result<Decision> {
    let file = load(config)?;
    let d = defaults(config);
    let (evaluation, resolved) = match &file {
        None => (None, Some(access::implicit(&d))),
        Some(f) => {
            let ev = access::evaluate(f, subject);
            let resolved = ev.matched.map(|i| f.resolve(i, &d));
            (Some(ev), resolved)
        }
    };
    Ok(Decision {
        file,
        evaluation,
        resolved,
    })
}

/// Why the rule's approvers cannot reach its quorum for this request, once the requester
/// and whoever receives the access are set aside (they never approve it).
pub fn short_of_approvers(
    resolved: &Resolved,
    requester: &str,
    beneficiary: Option<&Beneficiary>,
) -> Option<String> {
    let mut eligible: Vec<&String> = Vec::new();
    for a in resolved
        .approvers
        .iter()
        .filter(|a| !maybe_same_person(a, requester))
        .filter(|a| {
            !beneficiary.is_some_and(|b| b.identities.iter().any(|i| maybe_same_person(a, i)))
        })
    {
        // One mailbox fills one place in a quorum, however it is spelled.
        if !eligible.iter().any(|e| maybe_same_person(e, a)) {
            eligible.push(a);
        }
    }
    if eligible.len() >= resolved.quorum {
        return None;
    }
    Some(format!(
        "rule `{}` needs {} approver(s) who are neither the requester nor whoever receives the access, \
         and only {} of its approvers ({}) qualify; nothing was stored",
        resolved.rule.as_deref().unwrap_or("(implicit)"),
        resolved.quorum,
        eligible.len(),
        if resolved.approvers.is_empty() {
            "none".to_string()
        } else {
            resolved.approvers.join(", ")
        }
    ))
}

/// Whether the access would go to `requester` alone (break-glass is only for oneself).
/// This check lets something through, so it errs towards no: an address is matched
/// exactly (ignoring case), never by its `+tag`-less mailbox. An Identity Center user is
/// one person known by several names: one of its emails must be the requester's. An IAM
/// principal is known by its name and by owner tags that may name several people: every
/// one of them must be the requester; a bare name (an IAM user called `dev`) stands for
/// the requester only when it is exactly their address's local part (`dev+prod` is not).
pub fn only_for(requester: &str, target: &Target, b: &Beneficiary) -> bool {
    let local = requester.trim().split_once('@').map(|(l, _)| l);
    let mine = |i: &String| {
        if i.contains('@') {
            same_person(i, requester)
        } else {
            local.is_some_and(|l| !l.is_empty() && l.eq_ignore_ascii_case(i.trim()))
        }
    };
    match target {
        Target::Sso { .. } => b
            .identities
            .iter()
            .any(|i| i.contains('@') && same_person(i, requester)),
        _ => !b.identities.is_empty() && b.identities.iter().all(mine),
    }
}

/// The terms recorded on a request: what its rule decided, fixed from now on.
pub fn terms(config: &Config, decision: &Decision, resolved: &Resolved, auto: bool) -> Terms {
    Terms {
        approvers: resolved.approvers.clone(),
        max_ttl_secs: resolved.max_ttl.as_secs(),
        pending_timeout_secs: config.pending_timeout.as_secs(),
        allowed_services: config.allowed_services.clone(),
        rule: resolved.rule.clone(),
        rules_sha256: decision.file.as_ref().map(|f| f.sha256.clone()),
        approval: if auto {
            crate::request::ApprovalMode::Auto
        } else {
            crate::request::ApprovalMode::Required
        },
        extensions: resolved.extensions,
        break_glass: resolved.break_glass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(ids: &[&str]) -> Beneficiary {
        Beneficiary {
            identities: ids.iter().map(|s| s.to_string()).collect(),
            source: "test".into(),
        }
    }

    #[test]
    fn break_glass_is_only_for_oneself() {
        let me = "dev@example.com";
        let user = |n: &str| Target::IamUser { name: n.into() };
        let sso = Target::Sso {
            user: "u-123".into(),
            account_id: "111122223333".into(),
            permission_set: None,
        };
        assert!(only_for(me, &user("dev"), &b(&["dev"])));
        assert!(only_for(me, &user("dev"), &b(&["dev", "DEV@example.com"])));
        assert!(!only_for(me, &user("alice"), &b(&["alice"])));
        // A tag naming someone besides the requester: not only theirs.
        assert!(!only_for(
            me,
            &user("dev"),
            &b(&["dev", "dev@example.com", "ops@example.com"])
        ));
        // An address is matched exactly: another domain, or a +tag, is someone else.
        assert!(!only_for(
            me,
            &user("dev"),
            &b(&["dev", "dev@other.example"])
        ));
        // One Identity Center user, several names: one of them must be the requester's.
        assert!(only_for(me, &sso, &b(&["u-123", "dev@example.com"])));
        assert!(!only_for(me, &sso, &b(&["u-123", "alice@example.com"])));
        assert!(!only_for(me, &user("x"), &b(&[])));
        // A name that only shares the mailbox (`+tag`), or an Identity Center user known
        // to the requester by a bare name alone: someone else.
        assert!(!only_for(me, &user("dev+prod"), &b(&["dev+prod"])));
        assert!(!only_for(me, &sso, &b(&["dev", "ops@example.com"])));
        assert!(!only_for(me, &sso, &b(&["dev+admin"])));
    }
}
