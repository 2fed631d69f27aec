//! Text rendering for people. JSON output is the serde form of the same records.
//!
//! Every field that came from a person or from the store is escaped (`text::safe`): a
//! purpose holding `\e[2J`, an OSC title sequence or `\nstate  approved` shows as text,
//! never clears the screen or forges a line.

use crate::policy::Finding;
use crate::request::{AuditEntry, Request};
use crate::store::seal::Integrity;
use crate::text::safe;

/// One line of a listing.
pub enum Row {
    Record {
        record: Box<Request>,
        integrity: Integrity,
    },
    /// A stored record that cannot be decoded: listed, never silently skipped.
    Unreadable { id: String, error: String },
}

pub fn findings(list: &[Finding]) -> String {
    list.iter()
        .map(|f| {
            let at = match (f.statement, &f.action, &f.resource) {
                (Some(i), Some(a), _) => format!(" [statement {i}, {a}]"),
                (Some(i), None, Some(r)) => format!(" [statement {i}, {r}]"),
                (Some(i), None, None) => format!(" [statement {i}]"),
                (None, Some(a), _) => format!(" [{a}]"),
                _ => String::new(),
            };
            let sev = serde_json::to_value(f.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            safe(&format!(
                "  {sev} {}{at}: {} (fix: {})",
                f.code, f.message, f.fix
            ))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn request(r: &Request, timeline: &[AuditEntry], integrity: &Integrity) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<13} {}\n", safe(&v)));
    line("request", r.id.clone());
    line(
        "integrity",
        match integrity {
            Integrity::Verified => "verified (JIT_STATE_KEY): the record and its history".into(),
            Integrity::Unauthenticated => {
                "unauthenticated: JIT_STATE_KEY is not set, nothing here is verified".into()
            }
            Integrity::Failed(why) => format!("UNVERIFIED: {why}; it is not acted on"),
        },
    );
    line("state", r.state.to_string());
    line("requester", r.requester.clone());
    if let Some(b) = &r.beneficiary {
        line(
            "beneficiary",
            format!("{} (from {})", b.identities.join(" / "), b.source),
        );
    }
    line("purpose", r.purpose.clone());
    line("target", r.target.describe());
    line("ttl", crate::time::human(r.ttl()));
    if let Some(e) = r.expires_at {
        line("expires at", e.to_string());
    }
    line("policy name", r.policy_name.clone());
    line("policy from", r.policy_source.clone());
    if let Some(h) = &r.policy_sha256 {
        line("policy hash", h.clone());
    }
    if let Some(g) = &r.grant {
        if let Some(arn) = &g.policy_arn {
            line("policy arn", arn.clone());
        }
        if let Some(d) = g.sso() {
            line("account", d.account_id.clone());
            let kind = if d.ephemeral { "ephemeral" } else { "existing" };
            line(
                "perm. set",
                format!(
                    "{} ({kind}) {}",
                    d.permission_set_name, d.permission_set_arn
                ),
            );
            line("sso user", format!("{} ({})", d.user_name, d.user_id));
            if let Some(s) = &d.session_duration {
                line("session max", s.clone());
            }
            if let Some(a) = &d.assignment {
                let why = a
                    .failure_reason
                    .as_ref()
                    .map(|f| format!(": {f}"))
                    .unwrap_or_default();
                line("assignment", format!("{}{why}", a.status));
            }
        }
    }
    for n in &r.policy_notes {
        line("note", n.clone());
    }
    if !r.approvals.is_empty() {
        let who: Vec<String> = r.approvals.iter().map(|a| a.by.clone()).collect();
        line("approved by", who.join(", "));
    }
    for (k, v) in access_lines(r) {
        line(k, v);
    }
    if let Some(d) = &r.decision {
        line("decision", format!("{} by {}: {}", d.at, d.by, d.reason));
    }
    if let Some(e) = &r.last_error {
        line("last error", e.clone());
    }
    // What `reconcile` found changed in AWS (a detached or deleted policy, an assignment
    // removed by hand).
    for d in &r.drift {
        line("drift", format!("{}: {}", d.kind.as_str(), d.detail));
    }
    if let Some(p) = &r.policy {
        out.push_str("policy:\n");
        let pretty = serde_json::to_string_pretty(p).unwrap_or_default();
        // JSON strings escape control characters themselves; `safe` is belt and braces.
        for l in pretty.lines() {
            out.push_str(&format!("  {}\n", safe(l)));
        }
    }
    if !r.findings.is_empty() {
        out.push_str("findings:\n");
        out.push_str(&findings(&r.findings));
        out.push('\n');
    }
    if !timeline.is_empty() {
        out.push_str("timeline:\n");
        for e in timeline {
            let from = e.from.map(|s| format!("{s} -> ")).unwrap_or_default();
            let why = e
                .reason
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {} {:<16} {from}{} by {}{}\n",
                e.at,
                e.action,
                e.to,
                safe(&e.by),
                safe(&why)
            ));
        }
    }
    out
}

/// What access rules add to a request: its rule, break-glass and review, extensions.
fn access_lines(r: &Request) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(t) = &r.terms {
        if let Some(rule) = &t.rule {
            let sha = t.rules_sha256.as_deref().unwrap_or("");
            out.push((
                "rule",
                format!(
                    "{rule} (rules file sha256 {}…), approval {}, quorum {}, approvers {}",
                    sha.get(..12).unwrap_or(sha),
                    t.approval.as_str(),
                    r.quorum,
                    t.approvers.join(", ")
                ),
            ));
        }
    }
    if let Some(b) = &r.break_glass {
        out.push(("break-glass", format!("{} at {}", b.reason, b.at)));
        out.push((
            "review",
            match &b.review {
                Some(v) => format!("{} by {}: {}", v.at, v.by, v.comment),
                None => "NOT REVIEWED YET (`aws-jit review ID --comment ...`)".into(),
            },
        ));
    }
    if let Some(e) = &r.extension {
        let live = r.live_extension(crate::time::Timestamp::now()).is_some();
        out.push((
            "extension",
            format!(
                "+{} asked by {} at {}: {} ({})",
                crate::time::human(std::time::Duration::from_secs(e.ttl_secs)),
                e.by,
                e.at,
                e.reason,
                if live {
                    format!("waiting; {} approval(s) so far", e.approvals.len())
                } else {
                    "lapsed with the grant".to_string()
                }
            ),
        ));
    }
    for x in &r.extended {
        out.push((
            "extended",
            format!(
                "{} -> {} (+{}, asked by {}, approved by {}): {}",
                x.from,
                x.to,
                crate::time::human(std::time::Duration::from_secs(x.ttl_secs)),
                x.by,
                x.approved_by.join(", "),
                x.reason
            ),
        ));
    }
    out
}

pub fn list(rows: &[Row], sealed: bool) -> String {
    if rows.is_empty() {
        return "no requests".into();
    }
    let mut out = format!(
        "{:<17} {:<10} {:<28} {:<21} {}\n",
        "ID", "STATE", "REQUESTER", "EXPIRES", "TARGET"
    );
    for row in rows {
        match row {
            Row::Record {
                record: r,
                integrity,
            } => {
                let state = match integrity {
                    Integrity::Failed(_) => "UNVERIFIED",
                    _ => r.state.as_str(),
                };
                out.push_str(&format!(
                    "{:<17} {:<10} {:<28} {:<21} {}\n",
                    safe(&r.id),
                    state,
                    safe(&r.requester),
                    r.expires_at
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "-".into()),
                    safe(&r.target.describe())
                ));
            }
            Row::Unreadable { id, error } => out.push_str(&format!(
                "{:<17} {:<10} {}\n",
                safe(id),
                "UNREADABLE",
                safe(error)
            )),
        }
    }
    if !sealed {
        out.push_str("(records are unauthenticated: JIT_STATE_KEY is not set)\n");
    }
    out
}
