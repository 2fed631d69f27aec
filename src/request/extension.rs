//! Extending an active grant: asked by its requester or beneficiary, within the rule's
//! budget and maximum TTL (counted from the original attach), approved as the rule says.
//! The expiry moves in the same commit as the approval that completes it; nothing new is
//! created in AWS, so the access never lapses in between. An extension still waiting when
//! the grant ends dies with it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::rules::{check_reviewer, same_person};
use super::transitions::{expect_state, refuse_second_approval, step};
use super::{
    Approval, ApproveInput, AuditAction, EventKind, Request, RuleError, State, Transition,
};
use crate::time::{human, Timestamp};

/// An extension asked for, waiting for approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub by: String,
    pub at: Timestamp,
    pub ttl_secs: u64,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<Approval>,
}

/// An extension granted: the expiry moved from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extended {
    pub by: String,
    pub at: Timestamp,
    pub ttl_secs: u64,
    pub reason: String,
    pub from: Timestamp,
    pub to: Timestamp,
    /// Who approved it: people, or `rule:<name>` for an auto rule.
    pub approved_by: Vec<String>,
}

impl Request {
    /// How many extensions the rule allows in all.
    pub fn extension_budget(&self) -> u32 {
        self.terms.as_ref().map(|t| t.extensions).unwrap_or(0)
    }

    /// The extension waiting for approval, if the grant it would extend is still live.
    pub fn live_extension(&self, now: Timestamp) -> Option<&Extension> {
        self.extension
            .as_ref()
            .filter(|_| self.state == State::Active && self.expires_at.is_some_and(|e| e > now))
    }
}

/// What `extend` asks for.
pub struct ExtendInput<'a> {
    pub by: &'a str,
    pub ttl: Duration,
    pub reason: &'a str,
    /// JIT_MAX_DURATION of the acting process: it can narrow the recorded maximum.
    pub max_ttl: Duration,
    /// The rule approves on its own (`approval = "auto"`, and the grant is one it may).
    pub at_once: Option<String>,
}

/// The grant is live, and the budget and the maximum TTL leave room for `ttl` more.
fn check_room(
    cur: &Request,
    ttl: Duration,
    max_configured: Duration,
    now: Timestamp,
) -> Result<Timestamp, RuleError> {
    expect_state(cur, &[State::Active], "extend")?;
    let (Some(expires), Some(attached)) = (cur.expires_at, cur.attached_at) else {
        return Err(RuleError::WrongState(format!(
            "{} has no expiry to move",
            cur.id
        )));
    };
    // Access may have begun before the attach that finally succeeded (an earlier attempt
    // whose AWS call took effect): count from the first attempt, whose expiry intent was
    // written before AWS was touched and is never moved but by an extension.
    let first_expiry = cur.extended.first().map(|e| e.from).unwrap_or(expires);
    let attached = attached.min(first_expiry.minus(cur.ttl()));
    if expires <= now {
        return Err(RuleError::WrongState(format!(
            "{} expired at {expires}; an expired grant is not extended, ask for it again",
            cur.id
        )));
    }
    let budget = cur.extension_budget();
    let used = cur.extended.len() as u32;
    if used >= budget {
        return Err(RuleError::NotAuthorised(format!(
            "{} cannot be extended: its rule ({}) allows {budget} extension(s) and {used} {} been used",
            cur.id,
            cur.rule_name().unwrap_or("the implicit rule, without a rules file"),
            if used == 1 { "has" } else { "have" }
        )));
    }
    let to = expires.plus(ttl);
    let max = cur.max_ttl_now(max_configured);
    let total = Duration::from_secs(to.0.saturating_sub(attached.0));
    if total > max {
        let room = Duration::from_secs(attached.plus(max).0.saturating_sub(expires.0));
        return Err(RuleError::Invalid(format!(
            "extending {} by {} would make it last {} from when its access began, above its maximum of {}; at most {} more",
            cur.id,
            human(ttl),
            human(total),
            human(max),
            human(room)
        )));
    }
    Ok(to)
}

fn apply(
    n: &mut Request,
    ext: &Extension,
    to: Timestamp,
    approved_by: Vec<String>,
    now: Timestamp,
) {
    let from = n.expires_at.unwrap_or(now);
    n.expires_at = Some(to);
    n.extension = None;
    n.extended.push(Extended {
        by: ext.by.clone(),
        at: now,
        ttl_secs: ext.ttl_secs,
        reason: ext.reason.clone(),
        from,
        to,
        approved_by,
    });
}

/// Ask for more time on an active grant; applied at once under an auto rule.
pub fn extend(
    cur: &Request,
    input: ExtendInput<'_>,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Active], "extend")?;
    let is_requester = same_person(input.by, &cur.requester);
    let is_beneficiary = cur
        .beneficiary
        .as_ref()
        .is_some_and(|b| b.identities.iter().any(|i| same_person(i, input.by)));
    if !is_requester && !is_beneficiary {
        return Err(RuleError::NotAuthorised(format!(
            "only the requester ({}) or whoever received the access can extend {}",
            cur.requester, cur.id
        )));
    }
    if let Some(e) = cur.live_extension(now) {
        return Err(RuleError::WrongState(format!(
            "{} already has an extension of {} waiting for approval (asked by {} at {})",
            cur.id,
            human(Duration::from_secs(e.ttl_secs)),
            e.by,
            e.at
        )));
    }
    let to = check_room(cur, input.ttl, input.max_ttl, now)?;
    let ext = Extension {
        by: input.by.to_string(),
        at: now,
        ttl_secs: input.ttl.as_secs(),
        reason: input.reason.to_string(),
        approvals: vec![],
    };
    let why = format!("+{}: {}", human(input.ttl), input.reason);
    Ok(match input.at_once {
        Some(actor) => step(
            cur,
            now,
            input.by,
            AuditAction::Extend,
            Some(format!("{why} (approved by {actor}; until {to})")),
            vec![EventKind::Extended],
            |n| apply(n, &ext, to, vec![actor.clone()], now),
        ),
        None => step(
            cur,
            now,
            input.by,
            AuditAction::ExtendRequest,
            Some(why),
            vec![EventKind::ExtensionRequested],
            |n| n.extension = Some(ext.clone()),
        ),
    })
}

/// Approve the extension waiting on an active grant. The approval that completes the
/// quorum moves the expiry in the same commit.
pub fn approve_extension(
    cur: &Request,
    input: ApproveInput<'_>,
    max_ttl: Duration,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    let Some(ext) = cur.live_extension(now).cloned() else {
        return Err(RuleError::WrongState(format!(
            "{} has no extension waiting for approval (an extension dies with its grant)",
            cur.id
        )));
    };
    check_reviewer(cur, input.approver, input.approvers)?;
    let quorum = cur.quorum_needed(input.quorum);
    refuse_second_approval(
        &ext.approvals,
        input.approver,
        quorum,
        &format!("the extension of {}", cur.id),
    )?;
    // The budget and the maximum are checked again: the acting process may be narrower.
    let to = check_room(cur, Duration::from_secs(ext.ttl_secs), max_ttl, now)?;
    let approval = Approval {
        by: input.approver.to_string(),
        at: now,
        comment: input.comment.clone(),
        acknowledged_findings: false,
        acknowledged: vec![],
    };
    let complete = ext.approvals.len() + 1 >= quorum;
    if !complete {
        return Ok(step(
            cur,
            now,
            input.approver,
            AuditAction::ExtendApprovePartial,
            input.comment.clone(),
            vec![],
            |n| {
                if let Some(e) = n.extension.as_mut() {
                    e.approvals.push(approval.clone());
                }
            },
        ));
    }
    let mut approved_by: Vec<String> = ext.approvals.iter().map(|a| a.by.clone()).collect();
    approved_by.push(input.approver.to_string());
    Ok(step(
        cur,
        now,
        input.approver,
        AuditAction::Extend,
        Some(format!(
            "+{}: {} (until {to})",
            human(Duration::from_secs(ext.ttl_secs)),
            ext.reason
        )),
        vec![EventKind::Extended],
        |n| apply(n, &ext, to, approved_by, now),
    ))
}

/// Reject the extension waiting on an active grant; the grant runs to its expiry.
pub fn reject_extension(
    cur: &Request,
    approver: &str,
    reason: &str,
    approvers: &[String],
    now: Timestamp,
) -> Result<Transition, RuleError> {
    if cur.live_extension(now).is_none() {
        return Err(RuleError::WrongState(format!(
            "{} has no extension waiting for approval",
            cur.id
        )));
    }
    check_reviewer(cur, approver, approvers)?;
    Ok(step(
        cur,
        now,
        approver,
        AuditAction::ExtendReject,
        Some(reason.to_string()),
        vec![EventKind::ExtensionRejected],
        |n| n.extension = None,
    ))
}
