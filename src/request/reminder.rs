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
            ReminderKind::Review => self
                .review_score()
                .is_some_and(|since| since.plus(t.every) <= as_of),
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
