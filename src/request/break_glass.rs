//! Approvals that are not a person's decision: by the rule itself (`approval = "auto"`),
//! and break-glass — the requester's own, under a rule that allows it, announced at once
//! and reviewed afterwards by one of the rule's approvers.

use serde::{Deserialize, Serialize};

use super::rules::{check_policy_hash, check_reviewer};
use super::transitions::{expect_state, step};
use super::{
    Approval, ApprovalMode, AuditAction, AuditEntry, EventKind, Request, RuleError, State,
    Transition,
};
use crate::time::Timestamp;

/// A break-glass request: why, when, and the review it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlass {
    pub reason: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub by: String,
    pub at: Timestamp,
    pub comment: String,
}

/// Who an approval by a rule is recorded as.
pub fn rule_actor(rule: &str) -> String {
    format!("rule:{rule}")
}

impl Request {
    /// A break-glass request still waiting for its review.
    pub fn unreviewed(&self) -> bool {
        self.break_glass
            .as_ref()
            .is_some_and(|b| b.review.is_none())
    }

    /// The rule recorded on the request, if an access rule (not the implicit one) decided it.
    pub fn rule_name(&self) -> Option<&str> {
        self.terms.as_ref().and_then(|t| t.rule.as_deref())
    }
}

/// A new request (as `Request::new` made it) approved at once by its requester under a
/// break-glass rule: one commit, so it is never seen pending, and the `break_glass`
/// event goes out with it. By asking, the requester accepts its security findings.
pub fn break_glass_created(req: &Request, reason: &str) -> Result<Transition, RuleError> {
    if req.state != State::Pending || req.version != 1 {
        return Err(RuleError::WrongState(format!(
            "{} is not a new request",
            req.id
        )));
    }
    let Some(rule) = req.terms.as_ref().filter(|t| t.break_glass) else {
        return Err(RuleError::NotAuthorised(format!(
            "the rule of {} does not allow break-glass",
            req.id
        )));
    };
    if crate::policy::blocking(&req.findings) {
        return Err(RuleError::Invalid(format!(
            "request {} has blocking policy findings and cannot be granted, not even by break-glass",
            req.id
        )));
    }
    let codes = req.security_codes();
    let mut next = req.clone();
    next.state = State::Approved;
    next.approvals.push(Approval {
        by: req.requester.clone(),
        at: req.created_at,
        comment: Some(format!("break-glass: {reason}")),
        acknowledged_findings: !codes.is_empty(),
        acknowledged: codes,
    });
    next.approved_sha256 = next.current_sha256();
    next.break_glass = Some(BreakGlass {
        reason: reason.to_string(),
        at: req.created_at,
        review: None,
    });
    Ok(Transition {
        expected_version: 0,
        audit: AuditEntry {
            request_id: req.id.clone(),
            at: req.created_at,
            by: req.requester.clone(),
            action: AuditAction::BreakGlass,
            from: None,
            to: State::Approved,
            reason: Some(format!(
                "break-glass under rule {}: {reason}",
                rule.rule.as_deref().unwrap_or("?")
            )),
            mac: None,
        },
        next,
        events: vec![EventKind::BreakGlass],
    })
}

/// Approval by the rule itself (`approval = "auto"`), recorded as by `rule:<name>` and
/// announced as any approval. The caller has judged the request one a rule may approve
/// (`access::may_auto_approve`); this refuses whatever the record itself says is not.
pub fn approve_by_rule(cur: &Request, now: Timestamp) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Pending], "approve")?;
    let Some(rule) = cur
        .terms
        .as_ref()
        .filter(|t| t.approval == ApprovalMode::Auto)
        .and_then(|t| t.rule.clone())
    else {
        return Err(RuleError::NotAuthorised(format!(
            "{} was not made under a rule that approves automatically",
            cur.id
        )));
    };
    let codes = super::auto_blockers(&cur.findings);
    if !codes.is_empty() || crate::policy::blocking(&cur.findings) {
        return Err(RuleError::NotAuthorised(format!(
            "{} has findings ({}); no rule approves those on its own",
            cur.id,
            codes.join(", ")
        )));
    }
    check_policy_hash(
        cur,
        cur.policy_sha256.as_ref(),
        "no longer matches the hash recorded when it was requested",
    )?;
    let actor = rule_actor(&rule);
    let note = format!("approved by rule {rule} (approval = \"auto\")");
    Ok(step(
        cur,
        now,
        &actor,
        AuditAction::Approve,
        Some(note.clone()),
        vec![EventKind::Approved],
        |n| {
            n.approvals.push(Approval {
                by: actor.clone(),
                at: now,
                comment: Some(note),
                acknowledged_findings: false,
                acknowledged: vec![],
            });
            n.state = State::Approved;
            n.approved_sha256 = n.current_sha256();
        },
    ))
}

/// The review a break-glass grant needs afterwards: by one of the approvers recorded on
/// it, never its requester nor the one who received the access. Any state: a grant
/// already over still needs one.
pub fn review(
    cur: &Request,
    reviewer: &str,
    comment: &str,
    approvers: &[String],
    now: Timestamp,
) -> Result<Transition, RuleError> {
    let Some(bg) = &cur.break_glass else {
        return Err(RuleError::WrongState(format!(
            "{} is not a break-glass request; only those are reviewed",
            cur.id
        )));
    };
    if let Some(r) = &bg.review {
        return Err(RuleError::WrongState(format!(
            "{} was already reviewed by {} at {}",
            cur.id, r.by, r.at
        )));
    }
    check_reviewer(cur, reviewer, approvers)?;
    if let Some(l) = cur.lease_held(now) {
        return Err(RuleError::WrongState(format!(
            "{} is being worked on by {} until {}; review it after that",
            cur.id, l.owner, l.until
        )));
    }
    let mut t = step(
        cur,
        now,
        reviewer,
        AuditAction::Review,
        Some(comment.to_string()),
        vec![EventKind::Reviewed],
        |n| {
            if let Some(b) = n.break_glass.as_mut() {
                b.review = Some(Review {
                    by: reviewer.to_string(),
                    at: now,
                    comment: comment.to_string(),
                });
            }
        },
    );
    // A review is not a decision about the grant: it does not restart the time an
    // approved, unattached request has left before it times out.
    t.next.updated_at = cur.updated_at;
    Ok(t)
}
