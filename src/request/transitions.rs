//! Every state change, as a pure function from the current record to a [`Transition`].

use std::time::Duration;

use super::rules::{
    check_acknowledged, check_policy_hash, check_reviewer, check_revoker, maybe_same_person,
    same_person,
};
use super::{
    actors, Approval, AuditAction, AuditEntry, Claim, Decision, Drift, EventKind, Grant, Removal,
    RemovalReason, Request, RuleError, State, Transition,
};
use crate::time::Timestamp;

pub(super) fn step(
    cur: &Request,
    now: Timestamp,
    by: &str,
    action: AuditAction,
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
        action,
        from: Some(cur.state),
        to: next.state,
        reason,
        mac: None,
    };
    Transition {
        expected_version: cur.version,
        next,
        audit,
        events,
    }
}

pub(super) fn expect_state(cur: &Request, allowed: &[State], doing: &str) -> Result<(), RuleError> {
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
            action: AuditAction::Request,
            from: None,
            to: State::Pending,
            reason: Some(req.purpose.clone()),
            mac: None,
        },
        events: vec![EventKind::RequestCreated],
    }
}

pub struct ApproveInput<'a> {
    pub approver: &'a str,
    pub comment: Option<String>,
    /// The security finding codes the approver accepts, by name.
    pub acknowledge: &'a [String],
    /// The approving process's APPROVAL_LIST: it can narrow the recorded approvers.
    pub approvers: &'a [String],
    /// The approving process's JIT_APPROVAL_QUORUM: it can raise the recorded quorum.
    pub quorum: usize,
}

/// One person fills one place in a quorum, however they spell their address.
pub(super) fn refuse_second_approval(
    approvals: &[Approval],
    approver: &str,
    quorum: usize,
    what: &str,
) -> Result<(), RuleError> {
    if approvals.iter().any(|a| maybe_same_person(&a.by, approver)) {
        return Err(RuleError::WrongState(format!(
            "{approver} has already approved {what}; {} more distinct approver(s) needed",
            quorum.saturating_sub(approvals.len())
        )));
    }
    Ok(())
}

pub fn approve(
    cur: &Request,
    input: ApproveInput<'_>,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Pending], "approve")?;
    check_reviewer(cur, input.approver, input.approvers)?;
    let quorum = cur.quorum_needed(input.quorum);
    refuse_second_approval(&cur.approvals, input.approver, quorum, &cur.id)?;
    if crate::policy::blocking(&cur.findings) {
        return Err(RuleError::Invalid(format!(
            "request {} has blocking policy findings and cannot be approved",
            cur.id
        )));
    }
    check_acknowledged(cur, input.acknowledge)?;
    check_policy_hash(
        cur,
        cur.policy_sha256.as_ref(),
        "no longer matches the hash recorded when it was requested; \
         it was changed in the store and cannot be approved",
    )?;
    let complete = cur.approvals.len() + 1 >= quorum;
    let acknowledged = cur.security_codes();
    let ack = !acknowledged.is_empty();
    let noted = format!(
        "security findings acknowledged: {}",
        acknowledged.join(", ")
    );
    let reason = match (&input.comment, ack) {
        (Some(c), true) => Some(format!("{c} [{noted}]")),
        (Some(c), false) => Some(c.clone()),
        (None, true) => Some(noted),
        (None, false) => None,
    };
    let (action, events) = if complete {
        (AuditAction::Approve, vec![EventKind::Approved])
    } else {
        (AuditAction::ApprovePartial, vec![])
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
                acknowledged,
            });
            if complete {
                n.state = State::Approved;
                n.approved_sha256 = n.current_sha256();
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
        AuditAction::Reject,
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
        AuditAction::Cancel,
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
    // An approval counts from when it completed, whether or not an attach was tried since.
    let since = match cur.state {
        State::Pending => Some((cur.created_at, "no decision")),
        State::Approved => Some((cur.decided_at(), "approved but not attached")),
        _ => None,
    };
    let (since, why) = match since {
        Some(s) => s,
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
        actors::EXPIRE,
        AuditAction::TimeOut,
        Some(format!("{why} within {}", crate::time::human(timeout))),
        vec![EventKind::TimedOut],
        |n| n.state = State::TimedOut,
    ))
}

/// Claim an approved request for attaching: the expiry is written (intent) before any
/// AWS call, so a crash after AWS acted still leaves the grant in the expiry index.
pub fn begin_attach(cur: &Request, claim: &Claim) -> Result<Transition, RuleError> {
    match cur.state {
        State::Approved => {}
        State::Attaching => {
            if let Some(l) = cur.lease_held(claim.now) {
                return Err(RuleError::WrongState(format!(
                    "request {} is being attached by {} until {}; try again after that",
                    cur.id, l.owner, l.until
                )));
            }
        }
        _ => expect_state(cur, &[State::Approved], "attach")?,
    }
    check_policy_hash(
        cur,
        cur.approved_sha256.as_ref(),
        "differs from the one approved (hash mismatch); refusing to attach",
    )?;
    // The first attempt's expiry stands: a retry (after a refused attempt, or a take-over
    // of a dead one) never restarts the TTL.
    let expires = cur.expires_at.unwrap_or_else(|| claim.now.plus(cur.ttl()));
    if expires <= claim.now {
        return Err(RuleError::WrongState(format!(
            "the time of {} ran out at {expires} before it was attached; ask for it again",
            cur.id
        )));
    }
    Ok(step(
        cur,
        claim.now,
        claim.by,
        AuditAction::AttachBegin,
        None,
        vec![],
        |n| {
            n.state = State::Attaching;
            n.expires_at = Some(expires);
            n.lease = Some(claim.lease());
        },
    ))
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
        AuditAction::Attach,
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
        AuditAction::AttachFailed,
        Some(error.to_string()),
        vec![EventKind::Failed],
        |n| {
            n.state = State::Approved;
            n.lease = None;
            n.last_error = Some(error.to_string());
            // Nothing was made (else the grant stays attaching): what this attempt decided
            // on the way (an assignment seen as aws-jit's to make) must not outlive it, or a
            // retry would take standing access granted meanwhile for its own.
            n.grant = None;
        },
    ))
}

/// Claim a grant for removal (expiry or revocation). Refused while another process
/// holds the lease, so two overlapping runs never act on one grant.
pub fn begin_removal(
    cur: &Request,
    reason: RemovalReason,
    claim: &Claim,
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
    if let Some(l) = cur.lease_held(claim.now) {
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
            requested_at: claim.now,
            by: claim.by.to_string(),
            attempts: 1,
        },
    };
    Ok(step(
        cur,
        claim.now,
        claim.by,
        AuditAction::RemoveBegin,
        None,
        vec![],
        |n| {
            n.state = State::Removing;
            n.removal = Some(removal);
            n.lease = Some(claim.lease());
        },
    ))
}

/// Claim a grant whose time is up. `as_of` decides whether it is due (`expire --at`);
/// the lease runs on the real clock, `claim.now`.
pub fn begin_expiry(
    cur: &Request,
    claim: &Claim,
    as_of: Timestamp,
) -> Result<Transition, RuleError> {
    if cur.state != State::Removing
        && !cur.revoke_pending()
        && cur.expires_at.is_none_or(|e| e > as_of)
    {
        return Err(RuleError::WrongState(format!(
            "{} has not expired yet",
            cur.id
        )));
    }
    begin_removal(cur, RemovalReason::Expired, claim)
}

pub fn removed(cur: &Request, by: &str, now: Timestamp) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Removing], "finish removing")?;
    let reason = cur
        .removal
        .as_ref()
        .map(|r| r.reason)
        .unwrap_or(RemovalReason::Expired);
    let (to, ev, action) = match reason {
        RemovalReason::Expired => (State::Expired, EventKind::Expired, AuditAction::Expire),
        RemovalReason::Revoked => (State::Revoked, EventKind::Revoked, AuditAction::Revoke),
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
        AuditAction::RemoveFailed,
        Some(error.to_string()),
        vec![EventKind::Failed],
        |n| {
            n.lease = None;
            n.last_error = Some(error.to_string());
        },
    ))
}

/// How a revocation starts.
pub enum Revocation {
    /// Never attached (no expiry intent recorded): nothing can exist in AWS, so the
    /// request is revoked outright, in one commit.
    Done(Transition),
    /// Claimed for removal: AWS is to be cleaned up, then [`removed`] records it.
    Claimed(Transition),
    /// A live attach holds the grant: the revocation is recorded on the record and that
    /// holder carries it out when it next commits (or `expire`, if the holder dies).
    Recorded(Transition),
}

/// Revoke: by the requester or an approver, with a reason.
pub fn revoke(
    cur: &Request,
    reason: &str,
    approvers: &[String],
    claim: &Claim,
) -> Result<Revocation, RuleError> {
    check_revoker(cur, claim.by, approvers)?;
    if cur.removal.is_some() {
        return Err(RuleError::WrongState(format!(
            "request {} is already being removed; `aws-jit expire` retries it",
            cur.id
        )));
    }
    let decision = Decision {
        by: claim.by.to_string(),
        at: claim.now,
        reason: reason.to_string(),
    };
    if cur.state == State::Approved && cur.expires_at.is_none() {
        return Ok(Revocation::Done(step(
            cur,
            claim.now,
            claim.by,
            AuditAction::Revoke,
            Some(reason.to_string()),
            vec![EventKind::Revoked],
            |n| {
                n.state = State::Revoked;
                n.decision = Some(decision);
            },
        )));
    }
    if cur.state == State::Attaching {
        if let Some(l) = cur.lease_held(claim.now) {
            let holder = l.owner.clone();
            let removal = Removal {
                reason: RemovalReason::Revoked,
                requested_at: claim.now,
                by: claim.by.to_string(),
                attempts: 0,
            };
            return Ok(Revocation::Recorded(step(
                cur,
                claim.now,
                claim.by,
                AuditAction::RevokeRequested,
                Some(format!(
                    "{reason} (carried out by {holder}, which is attaching it)"
                )),
                vec![],
                |n| {
                    n.decision = Some(decision);
                    n.removal = Some(removal);
                },
            )));
        }
    }
    let mut t = begin_removal(cur, RemovalReason::Revoked, claim)?;
    t.next.decision = Some(decision);
    t.audit.action = AuditAction::RevokeBegin;
    t.audit.reason = Some(reason.to_string());
    Ok(Revocation::Claimed(t))
}

/// Refused unless `claim.owner` still holds `cur` (attaching or removing).
fn expect_holder(cur: &Request, claim: &Claim, doing: &str) -> Result<(), RuleError> {
    if cur.claimed_by(claim.owner) {
        Ok(())
    } else {
        Err(RuleError::WrongState(format!(
            "cannot {doing} {}: {} no longer holds it (it is {})",
            cur.id, claim.owner, cur.state
        )))
    }
}

/// Heartbeat: the holder is alive and still working; its lease runs on from now.
pub fn renew_lease(cur: &Request, claim: &Claim) -> Result<Transition, RuleError> {
    expect_holder(cur, claim, "renew the lease on")?;
    Ok(step(
        cur,
        claim.now,
        claim.by,
        AuditAction::LeaseRenew,
        None,
        vec![],
        |n| n.lease = Some(claim.lease()),
    ))
}

/// An attach records what it is about to create (or has created) while it holds the
/// grant, so a crash leaves the store knowing it.
pub fn attach_progress(
    cur: &Request,
    claim: &Claim,
    grant: Grant,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Attaching], "record attach progress on")?;
    expect_holder(cur, claim, "record attach progress on")?;
    Ok(step(
        cur,
        claim.now,
        claim.by,
        AuditAction::AttachProgress,
        None,
        vec![],
        |n| {
            n.grant = Some(grant);
            n.lease = Some(claim.lease());
        },
    ))
}

/// Attach failed after a call that may have taken effect: the grant stays `attaching`
/// (and in the expiry index) with what is known of it, the lease released so a retried
/// `attach` converges and `expire` removes whatever exists when it is due.
pub fn attach_failed_after(
    cur: &Request,
    by: &str,
    error: &str,
    partial: Option<Grant>,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Attaching], "record attach failure on")?;
    Ok(step(
        cur,
        now,
        by,
        AuditAction::AttachFailed,
        Some(error.to_string()),
        vec![EventKind::Failed],
        |n| {
            n.lease = None;
            n.last_error = Some(error.to_string());
            if partial.is_some() {
                n.grant = partial;
            }
        },
    ))
}

/// The holder of an attach honours a revocation recorded meanwhile: what it made (`grant`,
/// when known) is recorded and claimed for removal under the same lease.
pub fn honour_revoke(
    cur: &Request,
    claim: &Claim,
    grant: Option<Grant>,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Attaching], "carry out the revocation of")?;
    expect_holder(cur, claim, "carry out the revocation of")?;
    let reason = cur.decision.as_ref().map(|d| d.reason.clone());
    Ok(step(
        cur,
        claim.now,
        claim.by,
        AuditAction::RevokeBegin,
        reason,
        vec![],
        |n| {
            n.state = State::Removing;
            if grant.is_some() {
                n.grant = grant;
            }
            n.lease = Some(claim.lease());
            if let Some(r) = n.removal.as_mut() {
                r.attempts += 1;
            }
        },
    ))
}

/// Removal confirmed, with what it deliberately left in place (access aws-jit did not
/// create) named in the audit entry.
pub fn removed_keeping(
    cur: &Request,
    by: &str,
    kept: &[String],
    now: Timestamp,
) -> Result<Transition, RuleError> {
    let mut t = removed(cur, by, now)?;
    if !kept.is_empty() {
        let note = format!("left in place: {}", kept.join("; "));
        t.audit.reason = Some(match t.audit.reason.take() {
            Some(r) => format!("{r}; {note}"),
            None => note,
        });
    }
    Ok(t)
}

/// A removal put off without failing (AWS throttling, the run's time up): the lease is
/// released and the grant stays `removing` for the next run.
pub fn removal_deferred(
    cur: &Request,
    by: &str,
    why: &str,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Removing], "put off removing")?;
    Ok(step(
        cur,
        now,
        by,
        AuditAction::RemoveDeferred,
        Some(why.to_string()),
        vec![],
        |n| n.lease = None,
    ))
}

/// `reconcile` removed something in AWS that belonged to this (no longer live) request:
/// the record only gains the audit entry (under the `reconcile` actor) and a `reconciled`
/// event; its state stays.
pub fn reconciled(cur: &Request, reason: &str, now: Timestamp) -> Transition {
    step(
        cur,
        now,
        actors::RECONCILE,
        AuditAction::Reconcile,
        Some(reason.to_string()),
        vec![EventKind::Reconciled],
        |_| {},
    )
}

/// `reconcile` found an active grant changed in AWS: recorded on the grant (shown by
/// `status`) and sent as a `drift` event. An empty `drift` clears an earlier finding.
pub fn drift_found(
    cur: &Request,
    drift: Vec<Drift>,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    expect_state(cur, &[State::Active], "record drift on")?;
    let summary = if drift.is_empty() {
        "no drift any more".to_string()
    } else {
        drift
            .iter()
            .map(|d| format!("{}: {}", d.kind.as_str(), d.detail))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let events = if drift.is_empty() {
        vec![]
    } else {
        vec![EventKind::Drift]
    };
    Ok(step(
        cur,
        now,
        actors::RECONCILE,
        AuditAction::Drift,
        Some(summary),
        events,
        |n| n.drift = drift,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{NewRequest, Target};

    fn pending() -> Request {
        Request::new(NewRequest {
            id: "jit-test".into(),
            requester: "dev@example.com".into(),
            purpose: "debug".into(),
            ttl: Duration::from_secs(3600),
            target: Target::IamUser { name: "dev".into() },
            policy: Some(serde_json::json!({"Version":"2012-10-17"})),
            policy_name: "jit-test".into(),
            policy_source: "file".into(),
            policy_notes: vec![],
            findings: vec![],
            quorum: 1,
            terms: None,
            beneficiary: None,
            permission_set_contents: None,
            now: Timestamp(1_000_000),
        })
    }

    fn claim(by: &'static str, owner: &'static str, now: u64) -> Claim<'static> {
        Claim {
            by,
            owner,
            lease: Duration::from_secs(60),
            now: Timestamp(now),
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
                acknowledge: &[],
                approvers: &approvers(),
                quorum: 1,
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
        let err = begin_attach(&r, &claim("x", "o", 1_000_020)).unwrap_err();
        assert!(matches!(err, RuleError::NotAuthorised(_)));
    }

    #[test]
    fn attach_writes_expiry_before_acting() {
        let r = approve_as(&pending(), "boss@example.com")
            .expect("approve")
            .next;
        let t = begin_attach(&r, &claim("x", "o", 1_000_020)).expect("attach");
        assert_eq!(t.next.state, State::Attaching);
        assert_eq!(t.next.expiry_score(), Some(Timestamp(1_003_620)));
        // A second attach while the lease is live is refused.
        assert!(begin_attach(&t.next, &claim("y", "p", 1_000_030)).is_err());
        // After the lease runs out it may be re-claimed (crash recovery).
        assert!(begin_attach(&t.next, &claim("y", "p", 1_000_090)).is_ok());
    }

    #[test]
    fn removal_is_single_flight_and_retried() {
        let r = approve_as(&pending(), "boss@example.com")
            .expect("approve")
            .next;
        let a = begin_attach(&r, &claim("x", "o", 1_000_020)).expect("attach");
        let active = attached(&a.next, "x", Grant::default(), Timestamp(1_000_021))
            .expect("attached")
            .next;
        let late = Timestamp(1_010_000);
        // Not due yet: refused, whatever the clock.
        assert!(begin_expiry(&active, &claim("e", "o", late.0), Timestamp(1_000_100)).is_err());
        // Due as of a previewed instant: the lease still runs on the real clock.
        let early = begin_expiry(&active, &claim("e", "o", 1_000_100), late).expect("due");
        assert_eq!(
            early.next.lease.as_ref().map(|l| l.until),
            Some(Timestamp(1_000_160))
        );
        let claimed = begin_removal(&active, RemovalReason::Expired, &claim("e", "o", late.0))
            .expect("claim");
        assert!(begin_removal(
            &claimed.next,
            RemovalReason::Expired,
            &claim("e", "p", late.0)
        )
        .is_err());
        let failed = removal_failed(&claimed.next, "e", "boom", late)
            .expect("fail")
            .next;
        assert_eq!(failed.state, State::Removing);
        assert!(
            failed.expiry_score().is_some(),
            "failed removal stays indexed"
        );
        let again = begin_removal(&failed, RemovalReason::Expired, &claim("e", "p", late.0))
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

    #[test]
    fn revoke_while_a_live_attach_holds_it_is_recorded_and_honoured() {
        let r = approve_as(&pending(), "boss@example.com")
            .expect("approve")
            .next;
        let attaching = begin_attach(&r, &claim("x", "attacher", 1_000_020))
            .expect("attach")
            .next;
        let rec = match revoke(
            &attaching,
            "incident",
            &approvers(),
            &claim("boss@example.com", "rev", 1_000_030),
        )
        .expect("revoke")
        {
            Revocation::Recorded(t) => t.next,
            _ => panic!("a live holder's grant must be recorded, not claimed"),
        };
        assert_eq!(rec.state, State::Attaching);
        assert!(rec.revoke_pending());
        assert_eq!(
            rec.lease.as_ref().map(|l| l.owner.as_str()),
            Some("attacher")
        );
        // Due at once: if the holder dies, the next expire after its lease finishes it.
        assert_eq!(rec.expiry_score(), Some(Timestamp(1_000_030)));
        assert!(begin_expiry(&rec, &claim("e", "exp", 1_000_100), Timestamp(1_000_100)).is_ok());
        // The holder itself carries it out.
        let removing = honour_revoke(
            &rec,
            &claim("x", "attacher", 1_000_040),
            Some(Grant::default()),
        )
        .expect("honour")
        .next;
        assert_eq!(removing.state, State::Removing);
        assert!(honour_revoke(&rec, &claim("x", "stranger", 1_000_040), None).is_err());
        let done = removed(&removing, "x", Timestamp(1_000_041))
            .expect("removed")
            .next;
        assert_eq!(done.state, State::Revoked);
        assert_eq!(done.expiry_score(), None);
    }

    #[test]
    fn only_the_holder_renews_and_an_ambiguous_failure_stays_indexed() {
        let r = approve_as(&pending(), "boss@example.com")
            .expect("approve")
            .next;
        let attaching = begin_attach(&r, &claim("x", "o", 1_000_020))
            .expect("attach")
            .next;
        let renewed = renew_lease(&attaching, &claim("x", "o", 1_000_050))
            .expect("renew")
            .next;
        assert_eq!(
            renewed.lease.as_ref().map(|l| l.until),
            Some(Timestamp(1_000_110))
        );
        assert!(renew_lease(&attaching, &claim("x", "p", 1_000_050)).is_err());
        let failed = attach_failed_after(&renewed, "x", "timed out", None, Timestamp(1_000_060))
            .expect("failed")
            .next;
        assert_eq!(failed.state, State::Attaching);
        assert!(failed.lease.is_none());
        assert!(failed.expiry_score().is_some(), "stays in the expiry index");
        assert_eq!(failed.pending_score(), None);
        // A retry re-claims it at once.
        assert!(begin_attach(&failed, &claim("y", "q", 1_000_061)).is_ok());
    }
}
