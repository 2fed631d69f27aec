//! Reminders `expire` sends: a decision still awaited (every JIT_REMIND_AFTER), a grant
//! ending within JIT_WARN_BEFORE (once per expiry), a break-glass grant still unreviewed
//! (every JIT_REMIND_AFTER). When each was last sent is part of the record, committed
//! with the event, so overlapping or later runs never send one twice in an interval.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::transitions::step;
use super::{actors, AuditAction, EventKind, Request, RuleError, State, Transition};
use crate::time::{human, Timestamp};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminders {
    /// When the last reminder that a decision is awaited went out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Timestamp>,
    /// The expiry the last `expiring_soon` warned of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiring: Option<Timestamp>,
    /// When the last reminder that a break-glass grant awaits its review went out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Timestamp>,
}

impl Reminders {
    pub fn is_empty(&self) -> bool {
        *self == Reminders::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    /// Pending longer than JIT_REMIND_AFTER (and again every interval).
    Decision,
    /// The grant ends within JIT_WARN_BEFORE.
    ExpiringSoon,
    /// A break-glass grant without its review (every JIT_REMIND_AFTER).
    Review,
}

impl ReminderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::Decision => "decision",
            ReminderKind::ExpiringSoon => "expiring_soon",
            ReminderKind::Review => "review",
        }
    }
}

/// How often and how early reminders go out.
#[derive(Debug, Clone, Copy)]
pub struct ReminderTimes {
    /// JIT_REMIND_AFTER.
    pub every: Duration,
    /// JIT_WARN_BEFORE.
    pub warn_before: Duration,
}

impl Request {
    /// Score in the index of break-glass grants awaiting review: when they were last
    /// announced (at first, when the break-glass happened).
    pub fn review_score(&self) -> Option<Timestamp> {
        let bg = self.break_glass.as_ref().filter(|b| b.review.is_none())?;
        Some(self.reminders.review.unwrap_or(bg.at))
    }

    /// Whether a reminder of `kind` is due as of `as_of`.
    pub fn reminder_due(&self, kind: ReminderKind, as_of: Timestamp, t: ReminderTimes) -> bool {
        match kind {
            ReminderKind::Decision => {
                self.state == State::Pending
                    && self
                        .reminders
                        .decision
                        .unwrap_or(self.created_at)
                        .plus(t.every)
                        <= as_of
            }
            ReminderKind::ExpiringSoon => {
                self.state == State::Active
                    && self.expires_at.is_some_and(|e| {
                        e > as_of
                            && e <= as_of.plus(t.warn_before)
                            && self.reminders.expiring != Some(e)
                    })
            }
            // Never while a process holds the grant to act on AWS: a reminder's commit
            // would change the version under it. The next run sends it.
            ReminderKind::Review => {
                self.lease.is_none()
                    && self
                        .review_score()
                        .is_some_and(|since| since.plus(t.every) <= as_of)
            }
        }
    }
}

/// Send a reminder: the event, an audit line, and the record of when it went out.
pub fn remind(
    cur: &Request,
    kind: ReminderKind,
    times: ReminderTimes,
    as_of: Timestamp,
    now: Timestamp,
) -> Result<Transition, RuleError> {
    if !cur.reminder_due(kind, as_of, times) {
        return Err(RuleError::WrongState(format!(
            "no {} reminder is due for {}",
            kind.as_str(),
            cur.id
        )));
    }
    let (event, why) = match kind {
        ReminderKind::Decision => (
            EventKind::Reminder,
            format!("waiting for a decision since {}", cur.created_at),
        ),
        ReminderKind::ExpiringSoon => (
            EventKind::ExpiringSoon,
            format!(
                "ends at {} (within {})",
                cur.expires_at.unwrap_or(as_of),
                human(times.warn_before)
            ),
        ),
        ReminderKind::Review => (
            EventKind::Reminder,
            format!(
                "break-glass at {} still has no review",
                cur.break_glass.as_ref().map(|b| b.at).unwrap_or(as_of)
            ),
        ),
    };
    let mut t = step(
        cur,
        now,
        actors::EXPIRE,
        AuditAction::Remind,
        Some(why),
        vec![event],
        |n| match kind {
            ReminderKind::Decision => n.reminders.decision = Some(as_of),
            ReminderKind::ExpiringSoon => n.reminders.expiring = n.expires_at,
            ReminderKind::Review => n.reminders.review = Some(as_of),
        },
    );
    // A reminder changes nothing about the request: an approved, unattached one keeps
    // the time it has left before it times out.
    t.next.updated_at = cur.updated_at;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{
        approve_by_rule, break_glass_created, review, ApprovalMode, Lease, NewRequest, Target,
        Terms,
    };

    fn terms(approval: ApprovalMode, break_glass: bool) -> Terms {
        Terms {
            approvers: vec!["boss@example.com".into()],
            max_ttl_secs: 7200,
            pending_timeout_secs: 86400,
            allowed_services: None,
            rule: Some("r".into()),
            rules_sha256: Some("0".repeat(64)),
            approval,
            extensions: 1,
            break_glass,
        }
    }

    fn new(t: Terms, findings: Vec<crate::policy::Finding>) -> Request {
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
            findings,
            quorum: 1,
            terms: Some(t),
            beneficiary: None,
            permission_set_contents: None,
            now: Timestamp(1_000_000),
        })
    }

    #[test]
    fn only_a_rule_that_allows_it_approves_on_its_own() {
        let r = new(terms(ApprovalMode::Required, false), vec![]);
        assert!(approve_by_rule(&r, Timestamp(1_000_001)).is_err());
        assert!(break_glass_created(&r, "incident").is_err());
        let finding = crate::policy::Finding::new(
            crate::policy::codes::RESOURCE_STAR,
            "every resource",
            "name one",
        );
        // Even a record that says auto is not approved by its rule with a security finding.
        let r = new(terms(ApprovalMode::Auto, false), vec![finding]);
        assert!(approve_by_rule(&r, Timestamp(1_000_001)).is_err());
        let r = new(terms(ApprovalMode::Auto, false), vec![]);
        let t = approve_by_rule(&r, Timestamp(1_000_001)).expect("auto");
        assert_eq!(t.next.approvals[0].by, "rule:r");
        assert_eq!(t.next.state, State::Approved);
    }

    #[test]
    fn nothing_commits_under_a_live_lease() {
        let r = new(terms(ApprovalMode::Required, true), vec![]);
        let mut bg = break_glass_created(&r, "incident")
            .expect("break-glass")
            .next;
        let times = ReminderTimes {
            every: Duration::from_secs(60),
            warn_before: Duration::from_secs(60),
        };
        let later = Timestamp(1_000_000 + 3600);
        assert!(bg.reminder_due(ReminderKind::Review, later, times));
        bg.state = State::Attaching;
        bg.lease = Some(Lease {
            owner: "other".into(),
            until: Timestamp(2_000_000),
        });
        assert!(!bg.reminder_due(ReminderKind::Review, later, times));
        assert!(remind(&bg, ReminderKind::Review, times, later, later).is_err());
        let approvers = vec!["boss@example.com".to_string()];
        assert!(review(&bg, "boss@example.com", "ok", &approvers, later).is_err());
        bg.lease = None;
        assert!(review(&bg, "boss@example.com", "ok", &approvers, later).is_ok());
    }
}
