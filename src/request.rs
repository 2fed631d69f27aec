//! The access request record and its state machine. Pure: no I/O, no clock reads.
//!
//! Every transition takes the current record and returns the next one (version + 1)
//! together with the audit entry and the notification events it implies. The store
//! commits all three atomically or not at all.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::grant::Grant;
use crate::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum State {
    Pending,
    Approved,
    /// Intent recorded (expiry in the index), AWS calls under way.
    Attaching,
    Active,
    /// Removal claimed or failed; every `expire` run retries until AWS confirms.
    Removing,
    Expired,
    Revoked,
    Rejected,
    Cancelled,
    TimedOut,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Approved => "approved",
            State::Attaching => "attaching",
            State::Active => "active",
            State::Removing => "removing",
            State::Expired => "expired",
            State::Revoked => "revoked",
            State::Rejected => "rejected",
            State::Cancelled => "cancelled",
            State::TimedOut => "timed_out",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            State::Expired | State::Revoked | State::Rejected | State::Cancelled | State::TimedOut
        )
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who or what receives the access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    IamUser {
        name: String,
    },
    IamRole {
        name: String,
    },
    /// IAM Identity Center: a user in the identity store, one account, and either an
    /// existing permission set (`permission_set`) or an ephemeral one built from `policy`.
    Sso {
        user: String,
        account_id: String,
        permission_set: Option<String>,
    },
}

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::IamUser { name } => format!("IAM user {name}"),
            Target::IamRole { name } => format!("IAM role {name}"),
            Target::Sso {
                user,
                account_id,
                permission_set: Some(ps),
            } => format!(
                "Identity Center user {user} in account {account_id} via permission set {ps}"
            ),
            Target::Sso {
                user, account_id, ..
            } => format!("Identity Center user {user} in account {account_id}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub by: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The approver explicitly accepted the security findings listed on the request.
    #[serde(default)]
    pub acknowledged_findings: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: String,
    pub at: Timestamp,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    Expired,
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    pub reason: RemovalReason,
    pub requested_at: Timestamp,
    pub by: String,
    #[serde(default)]
    pub attempts: u32,
}

/// A time-limited claim on a record so that two processes never act on AWS for the
/// same grant at once. A crashed holder's lease runs out and the work can be re-claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub owner: String,
    pub until: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: String,
    pub version: u64,
    pub state: State,
    pub requester: String,
    pub purpose: String,
    pub ttl_secs: u64,
    pub target: Target,
    /// The IAM policy document; absent for an existing permission set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_sha256: Option<String>,
    pub policy_name: String,
    /// Which generator produced the policy ("file", "structured", "rules", "model:<name>").
    pub policy_source: String,
    /// What the generator wants approvers to know (a model fallback, a `*` region, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_notes: Vec<String>,
    #[serde(default)]
    pub findings: Vec<crate::policy::Finding>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Distinct approvals needed, fixed when the request is made; approvers' own
    /// configuration can raise it, never lower it.
    #[serde(default = "one")]
    pub quorum: usize,
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// SHA-256 of the canonical policy at the moment approval completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_sha256: Option<String>,
    /// Rejection, cancellation or revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<Grant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal: Option<Removal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

fn one() -> usize {
    1
}

impl Request {
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl_secs)
    }

    /// Score in the expiry index, derived from the state so index and record cannot
    /// disagree: anything that may exist in AWS is indexed until removal is confirmed.
    pub fn expiry_score(&self) -> Option<Timestamp> {
        match self.state {
            State::Approved | State::Attaching | State::Active => self.expires_at,
            State::Removing => Some(match (&self.removal, self.expires_at) {
                (Some(r), Some(e)) => r.requested_at.min(e),
                (Some(r), None) => r.requested_at,
                (None, Some(e)) => e,
                (None, None) => self.updated_at,
            }),
            _ => None,
        }
    }

    /// Score in the pending index while the request waits on people: a decision
    /// (since creation) or, once approved, an attach (since approval). An approval is
    /// not a standing permission: left unused for JIT_PENDING_TIMEOUT it times out.
    pub fn pending_score(&self) -> Option<Timestamp> {
        match self.state {
            State::Pending => Some(self.created_at),
            State::Approved if self.expires_at.is_none() => Some(self.updated_at),
            _ => None,
        }
    }

    pub fn lease_held(&self, now: Timestamp) -> Option<&Lease> {
        self.lease.as_ref().filter(|l| l.until > now)
    }
}

/// One line of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub request_id: String,
    pub at: Timestamp,
    pub by: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<State>,
    pub to: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Notification kinds sent to the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    RequestCreated,
    Approved,
    Rejected,
    Attached,
    Expired,
    Revoked,
    Cancelled,
    TimedOut,
    Failed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::RequestCreated => "request_created",
            EventKind::Approved => "approved",
            EventKind::Rejected => "rejected",
            EventKind::Attached => "attached",
            EventKind::Expired => "expired",
            EventKind::Revoked => "revoked",
            EventKind::Cancelled => "cancelled",
            EventKind::TimedOut => "timed_out",
            EventKind::Failed => "failed",
        }
    }
}

/// The outcome of a transition: the next record, its audit line and its events.
#[derive(Debug, Clone)]
pub struct Transition {
    pub expected_version: u64,
    pub next: Request,
    pub audit: AuditEntry,
    pub events: Vec<EventKind>,
}

/// Why a transition is refused. Maps onto exit codes in `commands`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("{0}")]
    NotAuthorised(String),
    #[error("{0}")]
    WrongState(String),
    #[error("{0}")]
    Invalid(String),
}

pub fn same_person(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

fn step(
    cur: &Request,
    now: Timestamp,
    by: &str,
    action: &str,
    reason: Option<String>,
    events: Vec<EventKind>,
    mutate: impl FnOnce(&mut Request),
) -> Transition {
    let mut next = cur.clone();
    mutate(&mut next);
    next.version = cur.version + 1;
    next.updated_at = now;
    let audit = AuditEntry {
        request_id: cur.id.clone(),
        at: now,
        by: by.to_string(),
        action: action.to_string(),
        from: Some(cur.state),
        to: next.state,
        reason,
    };
    Transition {
        expected_version: cur.version,
        next,
        audit,
        events,
    }
}

fn expect_state(cur: &Request, allowed: &[State], doing: &str) -> Result<(), RuleError> {
    if allowed.contains(&cur.state) {
        Ok(())
    } else {
        let want: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        Err(RuleError::WrongState(format!(
            "cannot {doing} request {}: it is {} (needs {})",
            cur.id,
            cur.state,
            want.join(" or ")
        )))
    }
}

/// The first audit entry and events for a freshly built pending request.
pub fn created(req: &Request) -> Transition {
    Transition {
        expected_version: 0,
        next: req.clone(),
        audit: AuditEntry {
            request_id: req.id.clone(),
            at: req.created_at,
            by: req.requester.clone(),
            action: "request".into(),
            from: None,
            to: State::Pending,
            reason: Some(req.purpose.clone()),
        },
        events: vec![EventKind::RequestCreated],
    }
}

/// The rules every reviewer (approve or reject) must pass.
fn check_reviewer(cur: &Request, reviewer: &str, approvers: &[String]) -> Result<(), RuleError> {
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

pub struct ApproveInput<'a> {
    pub approver: &'a str,
    pub comment: Option<String>,
    pub acknowledge_findings: bool,
    pub approvers: &'a [String],
    pub quorum: usize,
    /// SHA-256 of the canonical policy as it is now; recorded when approval completes.
    pub policy_sha256: Option<String>,
}

pub fn approve(
    cur: &Request,
    input: ApproveInput<'_>,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Pending], "approve")?;
    check_reviewer(cur, input.approver, input.approvers)?;
    if cur
        .approvals
        .iter()
        .any(|a| same_person(&a.by, input.approver))
    {
        return Err(RuleError::WrongState(format!(
            "{} has already approved {}; {} more distinct approver(s) needed",
            input.approver,
            cur.id,
            input
                .quorum
                .max(cur.quorum)
                .saturating_sub(cur.approvals.len())
        )));
    }
    if crate::policy::blocking(&cur.findings) {
        return Err(RuleError::Invalid(format!(
            "request {} has blocking policy findings and cannot be approved",
            cur.id
        )));
    }
    if crate::policy::needs_ack(&cur.findings) && !input.acknowledge_findings {
        return Err(RuleError::NotAuthorised(format!(
            "request {} has security findings (see `aws-jit status {}`); approve with \
             --acknowledge-findings to accept them explicitly",
            cur.id, cur.id
        )));
    }
    if cur.policy_sha256 != input.policy_sha256 {
        return Err(RuleError::NotAuthorised(format!(
            "the policy of {} no longer matches the hash recorded when it was requested; \
             it was changed in the store and cannot be approved",
            cur.id
        )));
    }
    let quorum = input.quorum.max(cur.quorum).max(1);
    let complete = cur.approvals.len() + 1 >= quorum;
    let ack = input.acknowledge_findings && crate::policy::needs_ack(&cur.findings);
    let reason = match (&input.comment, ack) {
        (Some(c), true) => Some(format!("{c} [security findings acknowledged]")),
        (Some(c), false) => Some(c.clone()),
        (None, true) => Some("security findings acknowledged".into()),
        (None, false) => None,
    };
    let events = if complete {
        vec![EventKind::Approved]
    } else {
        vec![]
    };
    let action = if complete {
        "approve"
    } else {
        "approve_partial"
    };
    Ok(step(
        cur,
        now,
        input.approver,
        action,
        reason,
        events,
        |n| {
            n.approvals.push(Approval {
                by: input.approver.to_string(),
                at: now,
                comment: input.comment.clone(),
                acknowledged_findings: ack,
            });
            if complete {
                n.state = State::Approved;
                n.approved_sha256 = input.policy_sha256.clone();
            }
        },
    ))
}

pub fn reject(
    cur: &Request,
    approver: &str,
    reason: &str,
    approvers: &[String],
    now: Timestamp,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Pending], "reject")?;
    check_reviewer(cur, approver, approvers)?;
    Ok(step(
        cur,
        now,
        approver,
        "reject",
        Some(reason.to_string()),
        vec![EventKind::Rejected],
        |n| {
            n.state = State::Rejected;
            n.decision = Some(Decision {
                by: approver.to_string(),
                at: now,
                reason: reason.to_string(),
            });
        },
    ))
}

pub fn cancel(cur: &Request, by: &str, now: Timestamp) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Pending], "cancel")?;
    if !same_person(by, &cur.requester) {
        return Err(RuleError::NotAuthorised(format!(
            "only the requester ({}) can cancel {}; approvers reject instead",
            cur.requester, cur.id
        )));
    }
    Ok(step(
        cur,
        now,
        by,
        "cancel",
        None,
        vec![EventKind::Cancelled],
        |n| {
            n.state = State::Cancelled;
            n.decision = Some(Decision {
                by: by.to_string(),
                at: now,
                reason: "withdrawn by requester".into(),
            });
        },
    ))
}

pub fn time_out(cur: &Request, timeout: Duration, now: Timestamp) -> Result<Transition, RuleError> {
    let (since, why) = match cur.pending_score() {
        Some(since) if cur.state == State::Pending => (since, "no decision"),
        Some(since) => (since, "approved but not attached"),
        None => {
            return Err(RuleError::WrongState(format!(
                "{} is {}: only pending or unattached approved requests time out",
                cur.id, cur.state
            )))
        }
    };
    if since.plus(timeout) > now {
        return Err(RuleError::WrongState(format!(
            "{} is not stale yet",
            cur.id
        )));
    }
    Ok(step(
        cur,
        now,
        "aws-jit expire",
        "time_out",
        Some(format!("{why} within {}", crate::time::human(timeout))),
        vec![EventKind::TimedOut],
        |n| n.state = State::TimedOut,
    ))
}

/// Claim an approved request for attaching: the expiry is written (intent) before any
/// AWS call, so a crash after AWS acted still leaves the grant in the expiry index.
pub fn begin_attach(
    cur: &Request,
    by: &str,
    owner: &str,
    lease: Duration,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    match cur.state {
        State::Approved => {}
        State::Attaching => {
            if let Some(l) = cur.lease_held(now) {
                return Err(RuleError::WrongState(format!(
                    "request {} is being attached by {} until {}; try again after that",
                    cur.id, l.owner, l.until
                )));
            }
        }
        _ => expect_state(cur, &[State::Approved], "attach")?,
    }
    // Re-hash what is stored now: a policy edited in the store after approval, whatever
    // its recorded hash fields say, is not what the approver saw.
    let current = cur.policy.as_ref().map(crate::digest::policy_sha256);
    match (&cur.approved_sha256, &current) {
        (Some(a), Some(p)) if a == p => {}
        (None, None) => {}
        _ => {
            return Err(RuleError::NotAuthorised(format!(
            "the policy of {} differs from the one approved (hash mismatch); refusing to attach",
            cur.id
        )))
        }
    }
    let expires = now.plus(cur.ttl());
    Ok(step(cur, now, by, "attach_begin", None, vec![], |n| {
        n.state = State::Attaching;
        n.expires_at = Some(expires);
        n.lease = Some(Lease {
            owner: owner.to_string(),
            until: now.plus(lease),
        });
    }))
}

pub fn attached(
    cur: &Request,
    by: &str,
    grant: Grant,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Attaching], "finish attaching")?;
    let reason = grant.policy_arn.clone();
    Ok(step(
        cur,
        now,
        by,
        "attach",
        reason,
        vec![EventKind::Attached],
        |n| {
            n.state = State::Active;
            n.attached_at = Some(now);
            n.grant = Some(grant);
            n.lease = None;
            n.last_error = None;
        },
    ))
}

/// Attach failed: back to approved with the error; the expiry intent stays so that
/// `expire` cleans up anything half-made if nobody retries.
pub fn attach_failed(
    cur: &Request,
    by: &str,
    error: &str,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Attaching], "record attach failure on")?;
    Ok(step(
        cur,
        now,
        by,
        "attach_failed",
        Some(error.to_string()),
        vec![EventKind::Failed],
        |n| {
            n.state = State::Approved;
            n.lease = None;
            n.last_error = Some(error.to_string());
        },
    ))
}

/// Claim a grant for removal (expiry or revocation). Refused while another process
/// holds the lease, so two overlapping runs never act on one grant.
pub fn begin_removal(
    cur: &Request,
    reason: RemovalReason,
    by: &str,
    owner: &str,
    lease: Duration,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    expect_state(
        cur,
        &[
            State::Approved,
            State::Attaching,
            State::Active,
            State::Removing,
        ],
        "remove",
    )?;
    if let Some(l) = cur.lease_held(now) {
        return Err(RuleError::WrongState(format!(
            "request {} is being worked on by {} until {}",
            cur.id, l.owner, l.until
        )));
    }
    let removal = match &cur.removal {
        // A revocation already under way keeps its reason and author.
        Some(r) => Removal {
            attempts: r.attempts + 1,
            ..r.clone()
        },
        None => Removal {
            reason,
            requested_at: now,
            by: by.to_string(),
            attempts: 1,
        },
    };
    Ok(step(cur, now, by, "remove_begin", None, vec![], |n| {
        n.state = State::Removing;
        n.removal = Some(removal);
        n.lease = Some(Lease {
            owner: owner.to_string(),
            until: now.plus(lease),
        });
    }))
}

/// Claim a grant whose time is up. `as_of` decides whether it is due (`expire --at`);
/// the lease runs on the real clock, `now`.
pub fn begin_expiry(
    cur: &Request,
    by: &str,
    owner: &str,
    lease: Duration,
    as_of: Timestamp,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    if cur.state != State::Removing && cur.expires_at.is_none_or(|e| e > as_of) {
        return Err(RuleError::WrongState(format!(
            "{} has not expired yet",
            cur.id
        )));
    }
    begin_removal(cur, RemovalReason::Expired, by, owner, lease, now)
}

/// Revocation: by the requester or an approver, with a reason. Starts removal.
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

pub fn removed(cur: &Request, by: &str, now: Timestamp) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Removing], "finish removing")?;
    let reason = cur
        .removal
        .as_ref()
        .map(|r| r.reason)
        .unwrap_or(RemovalReason::Expired);
    let (to, ev, action) = match reason {
        RemovalReason::Expired => (State::Expired, EventKind::Expired, "expire"),
        RemovalReason::Revoked => (State::Revoked, EventKind::Revoked, "revoke"),
    };
    let why = match reason {
        RemovalReason::Revoked => cur.decision.as_ref().map(|d| d.reason.clone()),
        RemovalReason::Expired => None,
    };
    Ok(step(cur, now, by, action, why, vec![ev], |n| {
        n.state = to;
        n.lease = None;
        n.last_error = None;
    }))
}

/// Removal failed: the grant stays `removing` (and in the expiry index) with the error,
/// lease released so the next run retries at once.
pub fn removal_failed(
    cur: &Request,
    by: &str,
    error: &str,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Removing], "record removal failure on")?;
    Ok(step(
        cur,
        now,
        by,
        "remove_failed",
        Some(error.to_string()),
        vec![EventKind::Failed],
        |n| {
            n.lease = None;
            n.last_error = Some(error.to_string());
        },
    ))
}

/// Record who revoked and why, then claim removal.
pub fn begin_revoke(
    cur: &Request,
    by: &str,
    reason: &str,
    approvers: &[String],
    owner: &str,
    lease: Duration,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    check_revoker(cur, by, approvers)?;
    if cur.removal.is_some() {
        return Err(RuleError::WrongState(format!(
            "request {} is already being removed; `aws-jit expire` retries it",
            cur.id
        )));
    }
    let mut t = begin_removal(cur, RemovalReason::Revoked, by, owner, lease, now)?;
    t.next.decision = Some(Decision {
        by: by.to_string(),
        at: now,
        reason: reason.to_string(),
    });
    t.audit.action = "revoke_begin".into();
    t.audit.reason = Some(reason.to_string());
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Request {
        let now = Timestamp(1_000_000);
        Request {
            id: "jit-test".into(),
            version: 1,
            state: State::Pending,
            requester: "dev@example.com".into(),
            purpose: "debug".into(),
            ttl_secs: 3600,
            target: Target::IamUser { name: "dev".into() },
            policy: Some(serde_json::json!({"Version":"2012-10-17"})),
            policy_sha256: Some(crate::digest::policy_sha256(
                &serde_json::json!({"Version":"2012-10-17"}),
            )),
            policy_name: "jit-test".into(),
            policy_source: "file".into(),
            policy_notes: vec![],
            findings: vec![],
            created_at: now,
            updated_at: now,
            quorum: 1,
            approvals: vec![],
            approved_sha256: None,
            decision: None,
            expires_at: None,
            attached_at: None,
            grant: None,
            lease: None,
            removal: None,
            last_error: None,
        }
    }

    fn approvers() -> Vec<String> {
        vec!["Boss@Example.com".into(), "dev@example.com".into()]
    }

    fn approve_as(r: &Request, who: &str) -> Result<Transition, RuleError> {
        approve(
            r,
            ApproveInput {
                approver: who,
                comment: None,
                acknowledge_findings: false,
                approvers: &approvers(),
                quorum: 1,
                policy_sha256: r.policy.as_ref().map(crate::digest::policy_sha256),
            },
            Timestamp(1_000_010),
        )
    }

    #[test]
    fn requester_cannot_approve_even_when_listed() {
        let err = approve_as(&pending(), "DEV@example.com").unwrap_err();
        assert!(matches!(err, RuleError::NotAuthorised(_)), "{err}");
    }

    #[test]
    fn approver_must_be_listed_case_insensitively() {
        assert!(matches!(
            approve_as(&pending(), "mallory@example.com"),
            Err(RuleError::NotAuthorised(_))
        ));
        let t = approve_as(&pending(), "boss@example.COM").expect("listed approver");
        assert_eq!(t.next.state, State::Approved);
        assert_eq!(t.next.approved_sha256, pending().policy_sha256);
        assert_eq!(t.next.version, 2);
        assert_eq!(t.expected_version, 1);
    }

    #[test]
    fn attach_refuses_changed_policy() {
        let mut r = approve_as(&pending(), "boss@example.com")
            .expect("approve")
            .next;
        r.policy = Some(
            serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}),
        );
        let err =
            begin_attach(&r, "x", "o", Duration::from_secs(60), Timestamp(1_000_020)).unwrap_err();
        assert!(matches!(err, RuleError::NotAuthorised(_)));
    }

    #[test]
    fn attach_writes_expiry_before_acting() {
        let r = approve_as(&pending(), "boss@example.com")
            .expect("approve")
            .next;
        let t = begin_attach(&r, "x", "o", Duration::from_secs(60), Timestamp(1_000_020))
            .expect("attach");
        assert_eq!(t.next.state, State::Attaching);
        assert_eq!(t.next.expiry_score(), Some(Timestamp(1_003_620)));
        // A second attach while the lease is live is refused.
        assert!(begin_attach(
            &t.next,
            "y",
            "p",
            Duration::from_secs(60),
            Timestamp(1_000_030)
        )
        .is_err());
        // After the lease runs out it may be re-claimed (crash recovery).
        assert!(begin_attach(
            &t.next,
            "y",
            "p",
            Duration::from_secs(60),
            Timestamp(1_000_090)
        )
        .is_ok());
    }

    #[test]
    fn removal_is_single_flight_and_retried() {
        let r = approve_as(&pending(), "boss@example.com")
            .expect("approve")
            .next;
        let a = begin_attach(&r, "x", "o", Duration::from_secs(60), Timestamp(1_000_020))
            .expect("attach");
        let active = attached(&a.next, "x", Grant::default(), Timestamp(1_000_021))
            .expect("attached")
            .next;
        let late = Timestamp(1_010_000);
        let minute = Duration::from_secs(60);
        // Not due yet: refused, whatever the clock.
        assert!(begin_expiry(&active, "e", "o", minute, Timestamp(1_000_100), late).is_err());
        // Due as of a previewed instant: the lease still runs on the real clock.
        let early =
            begin_expiry(&active, "e", "o", minute, late, Timestamp(1_000_100)).expect("due");
        assert_eq!(
            early.next.lease.as_ref().map(|l| l.until),
            Some(Timestamp(1_000_160))
        );
        let claim = begin_removal(
            &active,
            RemovalReason::Expired,
            "e",
            "o",
            Duration::from_secs(60),
            late,
        )
        .expect("claim");
        assert!(begin_removal(
            &claim.next,
            RemovalReason::Expired,
            "e",
            "p",
            Duration::from_secs(60),
            late
        )
        .is_err());
        let failed = removal_failed(&claim.next, "e", "boom", late)
            .expect("fail")
            .next;
        assert_eq!(failed.state, State::Removing);
        assert!(
            failed.expiry_score().is_some(),
            "failed removal stays indexed"
        );
        let again = begin_removal(
            &failed,
            RemovalReason::Expired,
            "e",
            "p",
            Duration::from_secs(60),
            late,
        )
        .expect("retry");
        let done = removed(&again.next, "e", late).expect("done").next;
        assert_eq!(done.state, State::Expired);
        assert_eq!(done.expiry_score(), None);
    }

    #[test]
    fn only_requester_cancels() {
        assert!(cancel(&pending(), "boss@example.com", Timestamp(1)).is_err());
        assert_eq!(
            cancel(&pending(), "dev@example.com", Timestamp(1))
                .expect("cancel")
                .next
                .state,
            State::Cancelled
        );
    }
}
