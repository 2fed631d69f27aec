//! `reconcile`: the backstop for what no code path can see (a store that lost data, a
//! removal that failed for good, a hand edit in AWS). It lists what aws-jit owns in AWS
//! and compares it with the grants the store tracks:
//! - **orphans**: tagged by aws-jit, older than `--older-than`, and belonging to no live
//!   request (or to one the store does not know) are removed with the grantors' own
//!   removal steps, audited under the `reconcile` actor and sent as `reconciled` events.
//!   Something under `/jit/` without aws-jit's tags is reported, never touched; so is
//!   what another installation made (`foreign`: its `aws-jit:installation` tag names
//!   another, or a look-alike of this one's name) and what carries aws-jit's request tag
//!   but no installation tag (`untagged`: made before installations were tagged, or by
//!   hand). Only this installation's own objects are ever removed;
//! - **drift** of active grants (policy deleted or detached, document changed, assignment
//!   deleted) is recorded on the grant and sent as a `drift` event; a changed document is
//!   never re-attached silently: the grant is revoked and the event says why.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::holder::{self, Held};
use super::{removal, rule, Ctx};
use crate::aws::backoff::patiently;
use crate::aws::{concurrent, Backoff, Grantor, Owned, OwnedKind, Whose};
use crate::cli::ReconcileArgs;
use crate::error::JitError;
use crate::output::{Failure, Outcome, Report};
use crate::request::{
    self, actors, AuditAction, AuditEntry, Decision, Drift, DriftKind, EventKind, RemovalReason,
    Request, State,
};
use crate::time::Timestamp;

#[derive(Debug, Default, Serialize)]
pub struct Sweep {
    pub now: String,
    /// This installation's name: only objects tagged with exactly it are removed.
    pub installation: String,
    pub dry_run: bool,
    pub older_than: String,
    /// Everything aws-jit owns (or that sits under `/jit/`) that no live grant tracks.
    pub orphans: Vec<Orphan>,
    /// Active grants whose AWS side changed.
    pub drift: Vec<DriftItem>,
    /// ARNs removed by this run (gone from AWS).
    pub removed: Vec<String>,
    /// What could not be removed (or revoked); the next run retries.
    pub failed: Vec<FailedObject>,
    /// What a removal deliberately left in place (access aws-jit did not create).
    pub kept: Vec<String>,
    /// Grants found in AWS whose record says they should have ended more than
    /// `--older-than` ago yet are still live (missing from the expiry index, which is not
    /// authenticated): expired now, as `expire` would have.
    pub overdue: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Orphan {
    pub kind: OwnedKind,
    pub arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The request's state in the store; `None`: the store does not know it.
    pub state: Option<State>,
    pub attached_to: Vec<String>,
    /// `remove` (done or, with --dry-run, would be), `report` (not aws-jit's: left
    /// alone), `foreign` (another installation's: left alone), `untagged` (aws-jit's
    /// request tag without an installation tag: left alone), `wait` (younger than
    /// --older-than), `kept` (removal left it in place: attached elsewhere by someone else).
    pub action: &'static str,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct DriftItem {
    pub request_id: String,
    pub kind: DriftKind,
    pub detail: String,
    /// `reported`, or `revoke` (a changed document: the grant is revoked).
    pub action: &'static str,
}

#[derive(Debug, Serialize)]
pub struct FailedObject {
    pub arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub error: String,
}

pub fn run(ctx: &Ctx, args: &ReconcileArgs) -> Outcome {
    let older_than = humantime::parse_duration(args.older_than.trim()).map_err(|e| {
        JitError::invalid(
            "--older-than",
            format!(
                "`{}` is not a duration ({e}); use forms like 0s, 10m, 1h",
                args.older_than
            ),
        )
    })?;
    let rep = sweep(ctx, args.dry_run, older_than)?;
    let report = Report::of(&rep, text(&rep))?;
    if !rep.failed.is_empty() {
        return Err(Failure::with_report(
            JitError::Backend(format!(
                "{} object(s) could not be removed; the next `aws-jit reconcile` retries them",
                rep.failed.len()
            )),
            report,
        ));
    }
    Ok(report)
}

/// One reconcile run (also started by `expire --reconcile-every`).
pub fn sweep(ctx: &Ctx, dry_run: bool, older_than: Duration) -> anyhow::Result<Sweep> {
    let aws = ctx.aws()?;
    let now = Timestamp::now();
    let backoff = Backoff::default();
    let mut rep = Sweep {
        now: now.to_string(),
        installation: aws.installation.clone(),
        dry_run,
        older_than: crate::time::human(older_than),
        ..Sweep::default()
    };

    // What AWS holds that aws-jit owns.
    let mut owned: Vec<Owned> = Vec::new();
    for g in aws.grantors() {
        owned.extend(aws.block_on(g.list_owned(&backoff, ctx.config.expire_concurrency))?);
    }
    let live = live_grants(ctx)?;
    let pass = Pass {
        ctx,
        aws,
        now,
        older_than,
        live: &live,
    };
    let doomed = pass.judge_owned(&owned, &mut rep);
    if !dry_run {
        pass.remove_orphans(&backoff, doomed, &mut rep);
        pass.expire_overdue(&mut rep);
    }
    pass.check_drift(&owned, dry_run, &mut rep)?;
    Ok(rep)
}

/// What the store tracks: every grant in the expiry index whose record verifies. A record
/// that fails its seal (JIT_STATE_KEY) keeps nothing alive: a forged "active" record must
/// not shield an orphan.
fn live_grants(ctx: &Ctx) -> anyhow::Result<HashMap<String, Request>> {
    let mut live = HashMap::new();
    let mut offset = 0;
    loop {
        let page = ctx.store.due(crate::time::LAST, offset, 500)?;
        offset += page.len();
        for id in &page {
            if let Ok(Some(r)) = ctx.store.get(id) {
                if verifies(ctx, &r) {
                    live.insert(id.clone(), r);
                }
            }
        }
        if page.len() < 500 {
            return Ok(live);
        }
    }
}

fn verifies(ctx: &Ctx, r: &Request) -> bool {
    !matches!(ctx.integrity(r), crate::store::seal::Integrity::Failed(_))
}

/// An orphan to remove: the object, its request id, the request's record and why.
type Doomed<'o> = (&'o Owned, String, Option<Request>, String);

/// One run's fixed inputs.
struct Pass<'a> {
    ctx: &'a Ctx,
    aws: &'a crate::aws::Aws,
    now: Timestamp,
    older_than: Duration,
    live: &'a HashMap<String, Request>,
}

impl Pass<'_> {
    /// Sorts what AWS holds: reported, left alone, overdue, or to be removed (returned).
    fn judge_owned<'o>(&self, owned: &'o [Owned], rep: &mut Sweep) -> Vec<Doomed<'o>> {
        let mut doomed = Vec::new();
        for o in owned {
            let Some(id) = o.request_id.clone() else {
                rep.orphans.push(orphan(
                    o,
                    None,
                    "report",
                    "under /jit/ but without aws-jit's tags: not made by aws-jit, left alone"
                        .into(),
                ));
                continue;
            };
            if let Some(entry) = self.not_ours(o) {
                rep.orphans.push(entry);
                continue;
            }
            let record = match self.live.get(&id) {
                Some(r) => Some(r.clone()),
                None => self
                    .ctx
                    .store
                    .get(&id)
                    .ok()
                    .flatten()
                    .filter(|r| verifies(self.ctx, r)),
            };
            if record.as_ref().is_some_and(removal::covered)
                || record.as_ref().is_some_and(|r| r.state == State::Removing)
            {
                let overdue = record.as_ref().and_then(|r| r.expires_at).is_some_and(|e| {
                    e.plus(self.older_than) <= self.now && !self.live.contains_key(&id)
                });
                if overdue && !rep.overdue.contains(&id) {
                    rep.overdue.push(id.clone());
                }
                continue;
            }
            let state = record.as_ref().map(|r| r.state);
            let why = match state {
                Some(s) => format!("its request is {s}"),
                None => "its request is unknown to the store".to_string(),
            };
            if o.created
                .is_some_and(|c| c.plus(self.older_than) > self.now)
            {
                rep.orphans.push(orphan(
                    o,
                    state,
                    "wait",
                    format!(
                        "{why}, but it is younger than --older-than (an attach may be in flight)"
                    ),
                ));
                continue;
            }
            rep.orphans.push(orphan(o, state, "remove", why.clone()));
            doomed.push((o, id, record, why));
        }
        doomed
    }

    /// The report entry for an object another installation (or nobody known) made.
    fn not_ours(&self, o: &Owned) -> Option<Orphan> {
        match o.whose(&self.aws.installation) {
            Whose::Ours => None,
            Whose::Foreign(other) => Some(orphan(
                o,
                None,
                "foreign",
                format!(
                    "made by another installation (aws-jit:installation `{}`, this one is `{}`): left alone",
                    crate::text::safe(&other),
                    self.aws.installation
                ),
            )),
            Whose::Untagged | Whose::NotJit => Some(orphan(
                o,
                None,
                "untagged",
                "aws-jit's request tag but no aws-jit:installation tag (made before installations \
                 were tagged, or by hand; perhaps another installation's): left alone, remove it \
                 by hand once no installation tracks it"
                    .into(),
            )),
        }
    }

    /// Removed a few at a time, under one throttling pause; each recorded afterwards.
    fn remove_orphans(&self, backoff: &Backoff, doomed: Vec<Doomed<'_>>, rep: &mut Sweep) {
        let aws = self.aws;
        let outcomes = std::cell::RefCell::new(Vec::new());
        aws.block_on(concurrent::for_each(
            doomed,
            self.ctx.config.expire_concurrency,
            || true,
            |(o, id, record, why)| {
                let outcomes = &outcomes;
                async move {
                    let removed = match aws.grantor_for(o.kind) {
                        Ok(g) => patiently(backoff, || g.remove_owned(o))
                            .await
                            .map_err(anyhow::Error::from),
                        Err(e) => Err(e.into()),
                    };
                    outcomes.borrow_mut().push((o, id, record, why, removed));
                }
            },
        ));
        for (o, id, record, why, removed) in outcomes.into_inner() {
            match removed {
                Ok(done) => self.removed(o, &id, record.as_ref(), &why, &done.kept, rep),
                Err(e) => rep.failed.push(FailedObject {
                    arn: o.arn.clone(),
                    request_id: Some(id.clone()),
                    error: format!("{e:#}"),
                }),
            }
        }
    }

    /// Records one orphan's removal (what was left in place is never listed as removed).
    fn removed(
        &self,
        o: &Owned,
        id: &str,
        record: Option<&Request>,
        why: &str,
        kept: &[String],
        rep: &mut Sweep,
    ) {
        if kept.is_empty() {
            rep.removed.push(o.arn.clone());
        } else if let Some(entry) = rep.orphans.iter_mut().find(|e| e.arn == o.arn) {
            entry.action = "kept";
        }
        rep.kept.extend(kept.iter().cloned());
        let reason = if kept.is_empty() {
            format!("removed {} ({why})", o.arn)
        } else {
            format!(
                "removed what aws-jit made of {} ({why}); left in place: {}",
                o.arn,
                kept.join("; ")
            )
        };
        if let Err(e) = audit(self.ctx, id, record, o, &reason, self.now) {
            crate::output::warn(format!(
                "recording the removal of {} in the audit log failed: {e:#}",
                o.arn
            ));
        }
    }

    /// Overdue grants go through expire's own removal (claimed, removed, recorded).
    fn expire_overdue(&self, rep: &mut Sweep) {
        if rep.overdue.is_empty() {
            return;
        }
        let mut expired = super::expire::Sweep::default();
        let horizon = std::time::Instant::now() + self.ctx.config.lease;
        super::expire::remove_due(
            self.ctx,
            self.aws,
            rep.overdue.clone(),
            self.now,
            horizon,
            &mut expired,
        );
        rep.failed
            .extend(expired.failed.into_iter().map(|f| FailedObject {
                arn: String::new(),
                request_id: Some(f.request_id),
                error: f.error,
            }));
    }

    /// Drift of active grants: recorded; a changed document revokes the grant.
    fn check_drift(&self, owned: &[Owned], dry_run: bool, rep: &mut Sweep) -> anyhow::Result<()> {
        let mut active: Vec<&Request> = self
            .live
            .values()
            .filter(|r| r.state == State::Active)
            .collect();
        active.sort_by(|a, b| a.id.cmp(&b.id));
        for r in active {
            let found = match drift_of(self.aws, r, owned) {
                Ok(d) => d,
                Err(e) => {
                    rep.failed.push(failed(r, format!("checking drift: {e:#}")));
                    continue;
                }
            };
            let changed = found.iter().any(|d| d.kind == DriftKind::DocumentChanged);
            for d in &found {
                rep.drift.push(DriftItem {
                    request_id: r.id.clone(),
                    kind: d.kind,
                    detail: d.detail.clone(),
                    action: if changed { "revoke" } else { "reported" },
                });
            }
            if dry_run || (found == r.drift && !changed) {
                continue;
            }
            // Acted on only when it verifies (JIT_STATE_KEY), read afresh.
            let fresh = match self.ctx.load(&r.id) {
                Ok(f) if f.version == r.version => f,
                Ok(_) => continue,
                Err(e) => {
                    rep.failed.push(failed(r, format!("{e:#}")));
                    continue;
                }
            };
            let recorded = match holder::claim(
                self.ctx,
                request::drift_found(&fresh, found, Timestamp::now()).map_err(rule)?,
            ) {
                Ok(Some(rec)) => rec,
                // Changed meanwhile (expired, revoked): the next run looks again.
                Ok(None) => continue,
                Err(e) => {
                    rep.failed
                        .push(failed(r, format!("recording drift: {e:#}")));
                    continue;
                }
            };
            if changed {
                if let Err(e) = revoke_for_drift(self.ctx, &recorded) {
                    rep.failed.push(FailedObject {
                        arn: recorded
                            .grant
                            .as_ref()
                            .and_then(|g| g.policy_arn.clone())
                            .unwrap_or_default(),
                        request_id: Some(recorded.id.clone()),
                        error: format!("revoking after drift: {e:#}"),
                    });
                }
            }
        }
        Ok(())
    }
}

/// A grant-level failure (no one object to name).
fn failed(r: &Request, error: String) -> FailedObject {
    FailedObject {
        arn: String::new(),
        request_id: Some(r.id.clone()),
        error,
    }
}

fn orphan(o: &Owned, state: Option<State>, action: &'static str, reason: String) -> Orphan {
    Orphan {
        kind: o.kind,
        arn: o.arn.clone(),
        name: o.name.clone(),
        request_id: o.request_id.clone(),
        state,
        attached_to: o.attached_to.clone(),
        action,
        reason,
    }
}

/// How an active grant's AWS side differs from what was attached.
fn drift_of(aws: &crate::aws::Aws, r: &Request, owned: &[Owned]) -> anyhow::Result<Vec<Drift>> {
    let Some(grant) = r.grant.as_ref() else {
        return Ok(vec![]);
    };
    let approved = r.approved_sha256.as_deref();
    let mut out = Vec::new();
    let document = |o: &Owned, out: &mut Vec<Drift>| {
        if let (Some(have), Some(want)) = (o.document_sha256.as_deref(), approved) {
            if have != want {
                out.push(Drift {
                    kind: DriftKind::DocumentChanged,
                    detail: format!(
                        "{} holds a document with hash {have}, not the approved {want}",
                        o.arn
                    ),
                });
            }
        }
    };
    if let Some(arn) = &grant.policy_arn {
        match owned.iter().find(|o| &o.arn == arn) {
            None => out.push(Drift {
                kind: DriftKind::PolicyDeleted,
                detail: format!("policy {arn} no longer exists"),
            }),
            Some(o) => {
                document(o, &mut out);
                let principal = match &r.target {
                    request::Target::IamUser { name } => Some(format!("user/{name}")),
                    request::Target::IamRole { name } => Some(format!("role/{name}")),
                    request::Target::Sso { .. } => None,
                };
                let attached = |p: &String| {
                    o.attached_to
                        .iter()
                        .any(|a| crate::aws::iam::same_principal(a, p))
                };
                if let Some(p) = principal.filter(|p| !attached(p)) {
                    out.push(Drift {
                        kind: DriftKind::PolicyDetached,
                        detail: format!("policy {arn} is no longer attached to {p}"),
                    });
                }
            }
        }
    }
    if let Some(d) = grant.sso() {
        let assignment = format!("{}/{}", d.account_id, d.user_id);
        if d.ephemeral {
            match owned.iter().find(|o| o.arn == d.permission_set_arn) {
                None => out.push(Drift {
                    kind: DriftKind::PolicyDeleted,
                    detail: format!("permission set {} no longer exists", d.permission_set_arn),
                }),
                Some(o) => {
                    document(o, &mut out);
                    if !o.attached_to.contains(&assignment) && !aws.block_on(aws.sso_assigned(d))? {
                        out.push(Drift {
                            kind: DriftKind::AssignmentDeleted,
                            detail: format!(
                                "{} is no longer assigned permission set {} in account {}",
                                d.user_name, d.permission_set_name, d.account_id
                            ),
                        });
                    }
                }
            }
        } else if !aws.block_on(aws.sso_assigned(d))? {
            out.push(Drift {
                kind: DriftKind::AssignmentDeleted,
                detail: format!(
                    "{} is no longer assigned permission set {} in account {}",
                    d.user_name, d.permission_set_name, d.account_id
                ),
            });
        }
    }
    Ok(out)
}

/// A changed document is never left (nor silently re-attached): revoke the grant, under
/// the `reconcile` actor, saying why.
fn revoke_for_drift(ctx: &Ctx, cur: &Request) -> anyhow::Result<()> {
    let claim = request::Claim {
        by: actors::RECONCILE,
        owner: &ctx.owner,
        lease: ctx.config.lease,
        now: Timestamp::now(),
    };
    let mut t = request::begin_removal(cur, RemovalReason::Revoked, &claim).map_err(rule)?;
    let reason = "drift: the policy document in AWS is not the approved one".to_string();
    t.next.decision = Some(Decision {
        by: actors::RECONCILE.into(),
        at: claim.now,
        reason: reason.clone(),
    });
    t.audit.action = AuditAction::RevokeBegin;
    t.audit.reason = Some(reason);
    let Some(claimed) = holder::claim(ctx, t)? else {
        return Ok(());
    };
    let held = Held::new(ctx, claimed, actors::RECONCILE);
    match removal::finish(ctx, &held)? {
        removal::Removed::Failed { error, .. } => Err(anyhow::anyhow!(error)),
        _ => Ok(()),
    }
}

/// The audit entry (and `reconciled` event) for a removed orphan. A known request records
/// it as a transition of its own (sealed, chained, state unchanged); a request the store no
/// longer knows gets an entry in its audit log, keyed by the id the object was tagged with.
fn audit(
    ctx: &Ctx,
    id: &str,
    record: Option<&Request>,
    o: &Owned,
    reason: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    if let Some(r) = record {
        // A fresh read: the record may have moved on since the listing.
        let cur = ctx.load(&r.id)?;
        ctx.commit(request::reconciled(&cur, reason, now))?;
        return Ok(());
    }
    // No state to record: the entry says what the access is now (gone).
    let entry = AuditEntry {
        request_id: id.to_string(),
        at: now,
        by: actors::RECONCILE.to_string(),
        action: AuditAction::Reconcile,
        from: None,
        to: State::Expired,
        reason: Some(reason.to_string()),
        mac: None,
    };
    let body = json!({
        "event": EventKind::Reconciled.as_str(),
        "event_id": crate::ids::new_id("evt"),
        "request_id": id,
        "state": serde_json::Value::Null,
        "error": reason,
        "object": {"kind": o.kind, "arn": o.arn, "name": o.name},
        "communication": {"destination": ctx.config.slack_channel, "method": "Slack"},
    });
    ctx.store
        .append_audit(&entry, &crate::notify::queued(&body, &ctx.config))?;
    Ok(())
}

pub fn text(rep: &Sweep) -> String {
    let mut out = String::new();
    let would = if rep.dry_run { "would " } else { "" };
    for o in &rep.orphans {
        let what = match o.action {
            "remove" => format!("{would}remove"),
            "wait" => "leave for now".into(),
            "kept" => "kept (left in place)".into(),
            "foreign" => "report (another installation's)".into(),
            "untagged" => "report (no installation tag)".into(),
            _ => "report (not aws-jit's)".into(),
        };
        out.push_str(&format!(
            "orphan {} ({}): {what}: {}\n",
            o.arn,
            o.request_id.as_deref().unwrap_or("no request"),
            o.reason
        ));
    }
    for d in &rep.drift {
        out.push_str(&format!(
            "drift {} {}: {} ({}{})\n",
            d.request_id,
            d.kind.as_str(),
            d.detail,
            would,
            d.action
        ));
    }
    for k in &rep.kept {
        out.push_str(&format!("kept: {k}\n"));
    }
    for id in &rep.overdue {
        out.push_str(&format!(
            "overdue {id}: past its expiry but missing from the expiry index; {would}expired now\n"
        ));
    }
    for f in &rep.failed {
        out.push_str(&format!(
            "FAILED {} {}: {}\n",
            f.request_id.as_deref().unwrap_or(""),
            f.arn,
            f.error
        ));
    }
    if out.is_empty() {
        out.push_str("reconcile: AWS matches the store (no orphans, no drift)\n");
    }
    out
}
