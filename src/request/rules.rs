//! Who may act on a request, and what a request may ask for. Pure functions, each the one
//! place its rule is decided.

use std::time::Duration;

use super::{Request, RuleError};

/// Two ways of writing the same person (emails compare case-insensitively). Used where
/// a match grants something (membership of an approver list): exact, never looser.
pub fn same_person(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Could `a` and `b` be the same person? Used where a match refuses something (reviewing
/// one's own request or one's own access), so it errs towards yes: case, surrounding space
/// and a `+tag` in the local part (one mailbox for many addresses) are ignored, and a bare
/// user name (`admin`, as Identity Center may know someone) matches the local part of an
/// email (`admin@example.com`).
pub fn maybe_same_person(a: &str, b: &str) -> bool {
    fn mailbox(s: &str) -> (String, Option<String>) {
        let s = s.trim().to_ascii_lowercase();
        match s.split_once('@') {
            Some((local, domain)) => (
                local.split('+').next().unwrap_or(local).to_string(),
                // `example.com.` is `example.com` in DNS.
                Some(domain.trim_end_matches('.').to_string()),
            ),
            None => (s.split('+').next().unwrap_or(&s).to_string(), None),
        }
    }
    let (la, da) = mailbox(a);
    let (lb, db) = mailbox(b);
    !la.is_empty() && la == lb && (da == db || da.is_none() || db.is_none())
}

/// A TTL above the maximum allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{} is above the maximum of {} (JIT_MAX_DURATION)", crate::time::human(*.ttl), crate::time::human(*.max))]
pub struct TtlTooLong {
    pub ttl: Duration,
    pub max: Duration,
}

/// The TTL rule, checked when a request is made and again when it is attached.
pub fn check_ttl(ttl: Duration, max: Duration) -> Result<(), TtlTooLong> {
    if ttl > max {
        Err(TtlTooLong { ttl, max })
    } else {
        Ok(())
    }
}

/// The rules every reviewer (approve or reject) must pass: never the requester, never the
/// beneficiary, and listed among the approvers that apply to this request.
pub(super) fn check_reviewer(
    cur: &Request,
    reviewer: &str,
    configured: &[String],
) -> Result<(), RuleError> {
    if maybe_same_person(reviewer, &cur.requester) {
        return Err(RuleError::NotAuthorised(format!(
            "{reviewer} requested {} and cannot review their own request; ask another approver",
            cur.id
        )));
    }
    if let Some(b) = &cur.beneficiary {
        if let Some(who) = b.identities.iter().find(|i| maybe_same_person(reviewer, i)) {
            return Err(RuleError::NotAuthorised(format!(
                "{reviewer} would receive the access of {} (as {who}, from {}) and cannot review it; ask another approver",
                cur.id, b.source
            )));
        }
    }
    let approvers = cur.approvers_now(configured);
    if approvers.is_empty() {
        return Err(RuleError::NotAuthorised(
            "no approvers apply to this request: set APPROVAL_LIST to a comma-separated list of emails"
                .into(),
        ));
    }
    if !approvers.iter().any(|a| same_person(a, reviewer)) {
        let whose = match cur.rule_name() {
            Some(rule) => format!("those of access rule {rule}, recorded when it was made"),
            None => "APPROVAL_LIST when it was made".to_string(),
        };
        return Err(RuleError::NotAuthorised(format!(
            "{reviewer} is not among the approvers of {} ({whose}) and cannot review it",
            cur.id
        )));
    }
    Ok(())
}

/// The finding codes that keep a request from being approved by a rule alone: every
/// security finding, and reading credentials or secrets (`returns-credentials`) even on a
/// named resource — read level, but nothing a person should get without a person's yes.
pub fn auto_blockers(findings: &[crate::policy::Finding]) -> Vec<String> {
    let mut codes: Vec<String> = findings
        .iter()
        .filter(|f| {
            f.severity == crate::policy::Severity::Security
                || f.code == crate::policy::codes::RETURNS_CREDENTIALS
        })
        .map(|f| f.code.to_string())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// An approval must name every security finding of the request, and nothing else.
pub(super) fn check_acknowledged(cur: &Request, named: &[String]) -> Result<(), RuleError> {
    let present = cur.security_codes();
    let missing: Vec<&String> = present
        .iter()
        .filter(|c| !named.iter().any(|n| n.trim().eq_ignore_ascii_case(c)))
        .collect();
    let extra: Vec<&String> = named
        .iter()
        .filter(|n| !present.iter().any(|c| n.trim().eq_ignore_ascii_case(c)))
        .collect();
    if !extra.is_empty() {
        return Err(RuleError::Invalid(format!(
            "{} {} not among the security findings of {} ({})",
            join(&extra),
            if extra.len() == 1 { "is" } else { "are" },
            cur.id,
            if present.is_empty() {
                "it has none".to_string()
            } else {
                present.join(", ")
            }
        )));
    }
    if !missing.is_empty() {
        return Err(RuleError::NotAuthorised(format!(
            "request {} has security findings that need an explicit acknowledgement: {} (see `aws-jit status {}`)",
            cur.id,
            join(&missing),
            cur.id
        )));
    }
    Ok(())
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// Revocation: by the requester or an approver.
pub fn check_revoker(cur: &Request, by: &str, configured: &[String]) -> Result<(), RuleError> {
    let is_requester = same_person(by, &cur.requester);
    let is_approver = cur
        .approvers_now(configured)
        .iter()
        .any(|a| same_person(a, by));
    if is_requester || is_approver {
        Ok(())
    } else {
        Err(RuleError::NotAuthorised(format!(
            "{by} is neither the requester of {} nor one of its approvers and cannot revoke it",
            cur.id
        )))
    }
}

/// What is stored must be what was decided on. Approval compares the policy with its hash
/// taken when it was requested; attach with the hash recorded when approval completed.
/// Both re-hash the stored document, whatever its recorded hash fields say.
pub(super) fn check_policy_hash(
    cur: &Request,
    expected: Option<&String>,
    refusal: &str,
) -> Result<(), RuleError> {
    if expected == cur.current_sha256().as_ref() {
        Ok(())
    } else {
        Err(RuleError::NotAuthorised(format!(
            "the policy of {} {refusal}",
            cur.id
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusing_matches_err_towards_the_same_person() {
        assert!(maybe_same_person("Admin@Example.com ", "admin@example.com"));
        assert!(maybe_same_person(
            "admin+jit@example.com",
            "admin@example.com"
        ));
        assert!(maybe_same_person("admin", "admin@example.com"));
        assert!(maybe_same_person("admin@example.com.", "admin@example.com"));
        assert!(!maybe_same_person(
            "admin@example.com",
            "admin@other.example"
        ));
        assert!(!maybe_same_person("ad@example.com", "admin@example.com"));
        assert!(!maybe_same_person("", "@example.com"));
        // Granting matches stay exact.
        assert!(!same_person("boss+x@example.com", "boss@example.com"));
    }
}
