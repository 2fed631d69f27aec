//! Who may act on a request, and what a request may ask for. Pure functions, each the one
//! place its rule is decided.

use std::time::Duration;

use super::{Request, RuleError};

/// Two ways of writing the same person (emails compare case-insensitively).
pub fn same_person(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
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

/// The rules every reviewer (approve or reject) must pass.
pub(super) fn check_reviewer(
    cur: &Request,
    reviewer: &str,
    approvers: &[String],
) -> Result<(), RuleError> {
    if same_person(reviewer, &cur.requester) {
        return Err(RuleError::NotAuthorised(format!(
            "{reviewer} requested {} and cannot review their own request; ask another approver",
            cur.id
        )));
    }
    if approvers.is_empty() {
        return Err(RuleError::NotAuthorised(
            "no approvers are configured: set APPROVAL_LIST to a comma-separated list of emails"
                .into(),
        ));
    }
    if !approvers.iter().any(|a| same_person(a, reviewer)) {
        return Err(RuleError::NotAuthorised(format!(
            "{reviewer} is not in APPROVAL_LIST and cannot review requests"
        )));
    }
    Ok(())
}

/// Revocation: by the requester or an approver.
pub fn check_revoker(cur: &Request, by: &str, approvers: &[String]) -> Result<(), RuleError> {
    let is_requester = same_person(by, &cur.requester);
    let is_approver = approvers.iter().any(|a| same_person(a, by));
    if is_requester || is_approver {
        Ok(())
    } else {
        Err(RuleError::NotAuthorised(format!(
            "{by} is neither the requester of {} nor in APPROVAL_LIST and cannot revoke it",
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
