//! The access request record and its state machine. Pure: no I/O, no clock reads.
//!
//! Every transition (`transitions`) takes the current record and returns the next one
//! (version + 1) together with the audit entry and the notification events it implies;
//! the store commits all three atomically or not at all. Who may do what, and what a
//! request may ask for, are the rules in `rules`.

mod break_glass;
mod extension;
mod reminder;
mod rules;
mod transitions;

pub use break_glass::*;
pub use extension::*;
pub use reminder::*;
pub use rules::*;
pub use transitions::*;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::grant::{Grant, PermissionSetContents};
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
    /// The finding codes the approver named as accepted (`--acknowledge-findings A,B`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledged: Vec<String>,
}

/// What applies to a request, fixed when it was made: a later run with a wider
/// environment cannot widen it (a narrower one still narrows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// Who may approve or reject.
    pub approvers: Vec<String>,
    pub max_ttl_secs: u64,
    /// How long it may wait for a decision, and once approved for an attach.
    pub pending_timeout_secs: u64,
    /// Services the policy may use; absent = all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_services: Option<Vec<String>>,
    /// The access rule that matched (see `access`). Absent: the implicit rule made of
    /// APPROVAL_LIST, JIT_APPROVAL_QUORUM and JIT_MAX_DURATION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// SHA-256 of the rules file that decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_sha256: Option<String>,
    /// `auto`: approved by the rule itself (read-only, finding-free requests only).
    #[serde(default, skip_serializing_if = "ApprovalMode::is_required")]
    pub approval: ApprovalMode,
    /// How many times an active grant may be extended.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extensions: u32,
    /// The rule allows break-glass.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub break_glass: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How a rule's requests are approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    /// By people: the rule's approvers, its quorum of them.
    #[default]
    Required,
    /// By the rule, at once; only ever for read-only requests without security findings.
    Auto,
}

impl ApprovalMode {
    pub fn is_required(&self) -> bool {
        *self == ApprovalMode::Required
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalMode::Required => "required",
            ApprovalMode::Auto => "auto",
        }
    }
}

/// Who receives the access when it is not (only) the requester: the Identity Center user,
/// or the owner an IAM principal's tags name. Approvers who are the beneficiary are
/// refused as the requester is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beneficiary {
    /// User names and emails by which the beneficiary is known.
    pub identities: Vec<String>,
    /// Where they were read: `identitystore`, `iam-tag:aws-jit:owner`, `iam-tag:email`.
    pub source: String,
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
    /// What `reconcile` last found changed in AWS behind an active grant's back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
    /// Recorded when the request is made (absent on records of earlier versions, which
    /// fall back to the environment of the process acting on them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<Terms>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<Beneficiary>,
    /// For an existing permission set: what it granted when requested (hashed as the
    /// policy is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_set_contents: Option<PermissionSetContents>,
    /// Approved by the requester alone under a break-glass rule; needs a review after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlass>,
    /// An extension asked for and waiting for approval (it dies with the grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Extension>,
    /// Extensions granted, oldest first: the budget used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extended: Vec<Extended>,
    /// When `expire` last reminded about this request (sent once per interval).
    #[serde(default, skip_serializing_if = "Reminders::is_empty")]
    pub reminders: Reminders,
    /// With JIT_STATE_KEY: the MAC of the newest audit entry (the head of the chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<String>,
    /// With JIT_STATE_KEY: HMAC-SHA256 over this record version (see `store::seal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
}

/// The hash of a policy, or else of a permission set's contents.
pub fn contents_sha256(
    policy: Option<&Value>,
    contents: Option<&PermissionSetContents>,
) -> Option<String> {
    match (policy, contents) {
        (Some(p), _) => Some(crate::digest::policy_sha256(p)),
        (None, Some(c)) => serde_json::to_value(c)
            .ok()
            .map(|v| crate::digest::policy_sha256(&v)),
        (None, None) => None,
    }
}

/// How an active grant differs in AWS from what was attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// The policy (or ephemeral permission set) is gone.
    PolicyDeleted,
    /// The policy is no longer attached to the grant's principal.
    PolicyDetached,
    /// The document AWS holds is not the approved one.
    DocumentChanged,
    /// The account assignment was deleted.
    AssignmentDeleted,
}

impl DriftKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::PolicyDeleted => "policy_deleted",
            DriftKind::PolicyDetached => "policy_detached",
            DriftKind::DocumentChanged => "document_changed",
            DriftKind::AssignmentDeleted => "assignment_deleted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub kind: DriftKind,
    pub detail: String,
}

fn one() -> usize {
    1
}

/// Everything a new request is made of; the rest of the record starts empty.
pub struct NewRequest {
    pub id: String,
    pub requester: String,
    pub purpose: String,
    pub ttl: Duration,
    pub target: Target,
    pub policy: Option<Value>,
    pub policy_name: String,
    pub policy_source: String,
    pub policy_notes: Vec<String>,
    pub findings: Vec<crate::policy::Finding>,
    pub quorum: usize,
    pub terms: Option<Terms>,
    pub beneficiary: Option<Beneficiary>,
    pub permission_set_contents: Option<PermissionSetContents>,
    pub now: Timestamp,
}

impl Request {
    /// A pending request, version 1, with the hash of its policy as requested.
    pub fn new(n: NewRequest) -> Request {
        Request {
            id: n.id,
            version: 1,
            state: State::Pending,
            requester: n.requester,
            purpose: n.purpose,
            ttl_secs: n.ttl.as_secs(),
            target: n.target,
            policy_sha256: contents_sha256(n.policy.as_ref(), n.permission_set_contents.as_ref()),
            policy: n.policy,
            policy_name: n.policy_name,
            policy_source: n.policy_source,
            policy_notes: n.policy_notes,
            findings: n.findings,
            created_at: n.now,
            updated_at: n.now,
            quorum: n.quorum.max(1),
            approvals: vec![],
            approved_sha256: None,
            decision: None,
            expires_at: None,
            attached_at: None,
            grant: None,
            lease: None,
            removal: None,
            last_error: None,
            drift: vec![],
            terms: n.terms,
            beneficiary: n.beneficiary,
            permission_set_contents: n.permission_set_contents,
            break_glass: None,
            extension: None,
            extended: vec![],
            reminders: Reminders::default(),
            audit_head: None,
            seal: None,
        }
    }

    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl_secs)
    }

    /// The hash of what is granted, as stored now (the policy, or what an existing
    /// permission set held when requested): what an approval or attach must match.
    pub fn current_sha256(&self) -> Option<String> {
        contents_sha256(self.policy.as_ref(), self.permission_set_contents.as_ref())
    }

    /// Distinct approvals needed: the quorum fixed at request time, raised (never
    /// lowered) by the approving process's own setting.
    pub fn quorum_needed(&self, configured: usize) -> usize {
        self.quorum.max(configured).max(1)
    }

    /// Who may review: the approvers recorded on the request, narrowed to the acting
    /// process's APPROVAL_LIST when that is set. Records without terms use the process's.
    /// A request an access rule decided keeps exactly the rule's approvers: APPROVAL_LIST
    /// is only that rule's default, and the rules file in force later does not apply to it.
    pub fn approvers_now(&self, configured: &[String]) -> Vec<String> {
        match &self.terms {
            None => configured.to_vec(),
            Some(t) if configured.is_empty() || t.rule.is_some() => t.approvers.clone(),
            Some(t) => t
                .approvers
                .iter()
                .filter(|a| configured.iter().any(|c| rules::same_person(a, c)))
                .cloned()
                .collect(),
        }
    }

    /// The longest TTL that applies now: the recorded maximum, or a lower one configured.
    pub fn max_ttl_now(&self, configured: Duration) -> Duration {
        match &self.terms {
            Some(t) => configured.min(Duration::from_secs(t.max_ttl_secs)),
            None => configured,
        }
    }

    /// How long a decision or an attach may wait: recorded, or shorter if configured.
    pub fn pending_timeout_now(&self, configured: Duration) -> Duration {
        match &self.terms {
            Some(t) => configured.min(Duration::from_secs(t.pending_timeout_secs)),
            None => configured,
        }
    }

    /// The finding codes an approval must name.
    pub fn security_codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.severity == crate::policy::Severity::Security)
            .map(|f| f.code.to_string())
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }

    /// Score in the expiry index, derived from the state so index and record cannot
    /// disagree: anything that may exist in AWS is indexed until removal is confirmed.
    pub fn expiry_score(&self) -> Option<Timestamp> {
        match self.state {
            // A revocation recorded while an attach holds the grant is due at once: if
            // that attach dies, the next `expire` after its lease finishes the revoke.
            State::Attaching if self.removal.is_some() => {
                Some(match (&self.removal, self.expires_at) {
                    (Some(r), Some(e)) => r.requested_at.min(e),
                    (Some(r), None) => r.requested_at,
                    (None, e) => e.unwrap_or(self.updated_at),
                })
            }
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

    /// When the approval completed (the last approval's time); for other states, the last
    /// change.
    pub fn decided_at(&self) -> Timestamp {
        match self.state {
            State::Approved => self
                .approvals
                .last()
                .map(|a| a.at)
                .unwrap_or(self.updated_at),
            _ => self.updated_at,
        }
    }

    pub fn lease_held(&self, now: Timestamp) -> Option<&Lease> {
        self.lease.as_ref().filter(|l| l.until > now)
    }

    /// `owner` holds this record's claim (attaching or removing), whether or not its
    /// lease has run out: until someone else re-claims it, its commits still apply.
    pub fn claimed_by(&self, owner: &str) -> bool {
        matches!(self.state, State::Attaching | State::Removing)
            && self.lease.as_ref().is_some_and(|l| l.owner == owner)
    }

    /// A revocation is recorded and not carried out yet.
    pub fn revoke_pending(&self) -> bool {
        self.removal
            .as_ref()
            .is_some_and(|r| r.reason == RemovalReason::Revoked)
    }
}

/// One line of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub request_id: String,
    pub at: Timestamp,
    pub by: String,
    pub action: AuditAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<State>,
    pub to: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With JIT_STATE_KEY: HMAC-SHA256 chained to the previous entry of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// What an audit entry records. Serialised as the snake_case strings of the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Request,
    Approve,
    ApprovePartial,
    Reject,
    Cancel,
    TimeOut,
    AttachBegin,
    Attach,
    AttachFailed,
    RemoveBegin,
    RevokeBegin,
    RemoveFailed,
    Expire,
    Revoke,
    /// An attach recorded what it is about to create (before creating it).
    AttachProgress,
    /// A lease holder renewed its lease while it works (heartbeat).
    LeaseRenew,
    /// A revocation recorded on a grant another live process holds; that holder honours it.
    RevokeRequested,
    /// Removal put off (AWS throttling, a run's time up); the next run retries.
    RemoveDeferred,
    /// `reconcile` removed (or would remove) something in AWS no live grant tracks.
    Reconcile,
    /// `reconcile` found an active grant changed in AWS.
    Drift,
    /// Approved by the requester alone, under a break-glass rule.
    BreakGlass,
    /// A break-glass grant reviewed afterwards by one of its rule's approvers.
    Review,
    /// An extension asked for (it waits for approval).
    ExtendRequest,
    /// An extension approved, short of its quorum.
    ExtendApprovePartial,
    /// An extension rejected; the grant runs to its expiry.
    ExtendReject,
    /// The grant's expiry moved (an extension approved, or an auto rule's at once).
    Extend,
    /// `expire` sent a reminder (pending decision, grant ending soon, review missing).
    Remind,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Request => "request",
            AuditAction::Approve => "approve",
            AuditAction::ApprovePartial => "approve_partial",
            AuditAction::Reject => "reject",
            AuditAction::Cancel => "cancel",
            AuditAction::TimeOut => "time_out",
            AuditAction::AttachBegin => "attach_begin",
            AuditAction::Attach => "attach",
            AuditAction::AttachFailed => "attach_failed",
            AuditAction::RemoveBegin => "remove_begin",
            AuditAction::RevokeBegin => "revoke_begin",
            AuditAction::RemoveFailed => "remove_failed",
            AuditAction::Expire => "expire",
            AuditAction::Revoke => "revoke",
            AuditAction::AttachProgress => "attach_progress",
            AuditAction::LeaseRenew => "lease_renew",
            AuditAction::RevokeRequested => "revoke_requested",
            AuditAction::RemoveDeferred => "remove_deferred",
            AuditAction::Reconcile => "reconcile",
            AuditAction::Drift => "drift",
            AuditAction::BreakGlass => "break_glass",
            AuditAction::Review => "review",
            AuditAction::ExtendRequest => "extend_request",
            AuditAction::ExtendApprovePartial => "extend_approve_partial",
            AuditAction::ExtendReject => "extend_reject",
            AuditAction::Extend => "extend",
            AuditAction::Remind => "remind",
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Names the tool acts under when no person does (audit `by`).
pub mod actors {
    pub const EXPIRE: &str = "aws-jit expire";
    pub const ATTACH: &str = "aws-jit attach";
    pub const RECONCILE: &str = "reconcile";
}

/// Who acts, as which lease holder, how long the lease lasts, and when: the parameters
/// every claiming transition shares.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub by: &'a str,
    pub owner: &'a str,
    pub lease: Duration,
    pub now: Timestamp,
}

impl Claim<'_> {
    fn lease(&self) -> Lease {
        Lease {
            owner: self.owner.to_string(),
            until: self.now.plus(self.lease),
        }
    }
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
    /// `reconcile` removed something no live grant tracked.
    Reconciled,
    /// `reconcile` found an active grant changed in AWS.
    Drift,
    /// A break-glass request, approved by its requester alone: sent at once.
    BreakGlass,
    /// A break-glass grant was reviewed.
    Reviewed,
    /// An extension waits for approval.
    ExtensionRequested,
    /// An extension was rejected.
    ExtensionRejected,
    /// The grant's expiry moved.
    Extended,
    /// Still waiting: a decision (pending longer than JIT_REMIND_AFTER) or the review of
    /// a break-glass grant.
    Reminder,
    /// The grant ends within JIT_WARN_BEFORE.
    ExpiringSoon,
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
            EventKind::Reconciled => "reconciled",
            EventKind::Drift => "drift",
            EventKind::BreakGlass => "break_glass",
            EventKind::Reviewed => "reviewed",
            EventKind::ExtensionRequested => "extension_requested",
            EventKind::ExtensionRejected => "extension_rejected",
            EventKind::Extended => "extended",
            EventKind::Reminder => "reminder",
            EventKind::ExpiringSoon => "expiring_soon",
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
