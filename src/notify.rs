//! Webhook notifications. Events are queued in the store's outbox in the same atomic
//! step as the state change they describe, and delivered afterwards — by the command
//! that made the change or by any later run — so a webhook outage never loses one.

use serde_json::{json, Value};

use crate::config::Config;
use crate::request::{EventKind, Request};
use crate::store::Store;

/// The JSON body POSTed for an event. Field names are a contract with the Kubiya
/// webhook (`communication` as the original teammate sent it): only add, never rename.
pub fn event_body(kind: EventKind, r: &Request, config: &Config, event_id: &str) -> Value {
    json!({
        "event": kind.as_str(),
        "event_id": event_id,
        "request_id": r.id,
        "state": r.state.as_str(),
        "requester": r.requester,
        "purpose": r.purpose,
        "ttl": crate::time::human(r.ttl()),
        "ttl_seconds": r.ttl_secs,
        "expires_at": r.expires_at,
        "target": r.target,
        "policy": r.policy,
        "policy_name": r.policy_name,
        "policy_source": r.policy_source,
        "policy_sha256": r.policy_sha256,
        "findings": r.findings,
        "approvals": r.approvals,
        "decision": r.decision,
        "grant": r.grant,
        "error": r.last_error,
        // Who may approve this request: its rule's approvers, recorded when it was made.
        "approvers": r.approvers_now(&config.approvers),
        "rule": r.rule_name(),
        "break_glass": r.break_glass,
        "extension": r.extension,
        "extended": r.extended.last(),
        "reminder": match kind {
            EventKind::Reminder if r.state == crate::request::State::Pending => Some("decision"),
            EventKind::Reminder => Some("review"),
            EventKind::ExpiringSoon => Some("expiring_soon"),
            _ => None,
        },
        "communication": {"destination": config.slack_channel, "method": "Slack"},
        "text": slack_text(kind, r),
    })
}

/// One line for a Slack channel, safe as mrkdwn: every user- or store-supplied part is
/// escaped, so a purpose cannot ping `<!channel>` or hide a link.
pub fn slack_text(kind: EventKind, r: &Request) -> String {
    use crate::text::slack;
    let mut t = format!(
        "*{}*: request {} by {} for {}, {}: {}",
        kind.as_str(),
        slack(&r.id),
        slack(&r.requester),
        slack(&r.target.describe()),
        crate::time::human(r.ttl()),
        slack(&r.purpose),
    );
    if let Some(d) = &r.decision {
        t.push_str(&format!(
            " ({} by {}: {})",
            r.state.as_str(),
            slack(&d.by),
            slack(&d.reason)
        ));
    }
    if let Some(e) = &r.last_error {
        t.push_str(&format!(" (error: {})", slack(e)));
    }
    t.push_str(&access_text(kind, r));
    t
}

/// What the access-rules events add to the Slack line.
fn access_text(kind: EventKind, r: &Request) -> String {
    use crate::text::slack;
    let approvers = || {
        r.terms
            .as_ref()
            .map(|t| slack(&t.approvers.join(", ")))
            .unwrap_or_default()
    };
    let until = || r.expires_at.map(|t| t.to_string()).unwrap_or_default();
    match kind {
        EventKind::BreakGlass => format!(
            " — BREAK-GLASS ({}): approved by the requester alone under rule {}; one of {} must review it",
            slack(r.break_glass.as_ref().map(|b| b.reason.as_str()).unwrap_or("")),
            slack(r.rule_name().unwrap_or("?")),
            approvers()
        ),
        EventKind::Reviewed => r
            .break_glass
            .as_ref()
            .and_then(|b| b.review.as_ref())
            .map(|v| format!(" — break-glass reviewed by {}: {}", slack(&v.by), slack(&v.comment)))
            .unwrap_or_default(),
        EventKind::Reminder if r.state == crate::request::State::Pending => format!(
            " — still waiting for a decision since {} (approvers: {})",
            r.created_at,
            approvers()
        ),
        EventKind::Reminder => format!(
            " — break-glass grant still has no review (one of {} reviews it: `aws-jit review {}`)",
            approvers(),
            slack(&r.id)
        ),
        EventKind::ExpiringSoon => format!(" — ends at {}", until()),
        EventKind::ExtensionRequested => r
            .extension
            .as_ref()
            .map(|e| {
                format!(
                    " — {} asks for {} more: {}",
                    slack(&e.by),
                    crate::time::human(std::time::Duration::from_secs(e.ttl_secs)),
                    slack(&e.reason)
                )
            })
            .unwrap_or_default(),
        EventKind::Extended => format!(" — extended, now until {}", until()),
        EventKind::ExtensionRejected => format!(" — extension rejected; ends at {}", until()),
        _ => String::new(),
    }
}

/// The outbox entries for a transition's events: each body as the exact text that will be
/// POSTed, with its signature computed now (JIT_WEBHOOK_SECRET), so whoever can write to
/// the outbox without the secret cannot get a body signed on delivery.
pub fn bodies(kinds: &[EventKind], r: &Request, config: &Config) -> Vec<Value> {
    if config.webhook.is_none() {
        // Nothing to deliver to: queueing would only grow the outbox forever.
        return Vec::new();
    }
    kinds
        .iter()
        .map(|k| {
            envelope(
                &event_body(*k, r, config, &crate::ids::new_id("evt")),
                config,
            )
        })
        .collect()
}

/// The outbox entry for a body not built from a record (a `reconciled` event for a request
/// the store no longer knows), signed now like every other; none without a webhook.
pub fn queued(body: &Value, config: &Config) -> Vec<Value> {
    match config.webhook {
        Some(_) => vec![envelope(body, config)],
        None => Vec::new(),
    }
}

fn envelope(body: &Value, config: &Config) -> Value {
    let raw = body.to_string();
    let signature = config.webhook_secret.as_ref().map(|s| sign(s, &raw));
    let mac = config.state_key.as_ref().map(|k| outbox_mac(k, &raw));
    json!({"raw": raw, "signature": signature, "mac": mac})
}

/// With JIT_STATE_KEY, outbox entries are authenticated like records: whoever can write to
/// the store without the key cannot queue an event, signed or not.
fn outbox_mac(key: &str, raw: &str) -> String {
    crate::digest::hmac_sha256_hex(key.as_bytes(), format!("outbox\0{raw}").as_bytes())
}

fn sign(secret: &str, raw: &str) -> String {
    format!(
        "sha256={}",
        crate::digest::hmac_sha256_hex(secret.as_bytes(), raw.as_bytes())
    )
}

/// What to POST for an outbox entry: its text and signature, or why it is not sent. An
/// entry that was not signed when queued is refused while a secret is set: the deliverer
/// never signs what it finds in the store.
fn unpack(item: &Value, config: &Config) -> Result<(String, Option<String>), &'static str> {
    let (raw, signature) = match (
        item.get("raw").and_then(Value::as_str),
        item.get("signature"),
    ) {
        (Some(raw), sig) => (
            raw.to_string(),
            sig.and_then(Value::as_str).map(str::to_string),
        ),
        // An entry from a version that queued bare bodies.
        (None, _) => (item.to_string(), None),
    };
    if let Some(key) = &config.state_key {
        match item.get("mac").and_then(Value::as_str) {
            Some(mac) if mac == outbox_mac(key, &raw) => {}
            _ => {
                return Err(
                    "it does not verify under JIT_STATE_KEY (written to the store by someone else)",
                )
            }
        }
    }
    match (&config.webhook_secret, &signature) {
        (Some(_), None) => Err("it was not signed when it was queued"),
        (Some(secret), Some(sig)) if *sig != sign(secret, &raw) => {
            Err("its signature does not match (signed with another secret, or forged)")
        }
        _ => Ok((raw, signature)),
    }
}

/// A `tamper` event, POSTed now rather than queued: the store it would be queued in is the
/// one that was written to. Best effort; a failure is a warning.
pub fn tamper(config: &Config, request_id: &str, why: &str) {
    let Some(url) = config.webhook.as_deref() else {
        return;
    };
    let body = json!({
        "event": "tamper",
        "event_id": crate::ids::new_id("evt"),
        "request_id": request_id,
        "error": why,
        "communication": {"destination": config.slack_channel, "method": "Slack"},
        "text": format!(
            "*tamper*: request {} failed verification and is not acted on: {}",
            crate::text::slack(request_id),
            crate::text::slack(why)
        ),
    });
    let raw = body.to_string();
    let signature = config.webhook_secret.as_ref().map(|s| sign(s, &raw));
    let sent = reqwest::blocking::Client::builder()
        .timeout(config.webhook_timeout)
        .build()
        .map_err(|e| e.without_url().to_string())
        .map(|client| post(&client, url, raw, signature));
    match sent {
        Ok(Outcome::Delivered) => {}
        Ok(Outcome::Retry(why) | Outcome::Rejected(why)) | Err(why) => {
            crate::output::warn(format!("could not send the tamper event: {why}"))
        }
    }
}

/// Carries `sha256=<hex HMAC-SHA256 of the raw body>` when JIT_WEBHOOK_SECRET is set.
pub const SIGNATURE_HEADER: &str = "X-Aws-Jit-Signature";

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Delivery {
    pub delivered: usize,
    pub waiting: usize,
}

/// Events one run delivers at most; the rest wait for the next run. Bounds how long a
/// run holds the delivery lock, which is sized to outlast this many time-outs.
const PER_RUN: usize = 50;

enum Outcome {
    Delivered,
    /// Worth retrying: network errors, time-outs, 5xx, 408, 429.
    Retry(String),
    /// The receiver refuses this event for good (other 4xx): retrying cannot help.
    Rejected(String),
}

fn post(
    client: &reqwest::blocking::Client,
    url: &str,
    body: String,
    signature: Option<String>,
) -> Outcome {
    let mut req = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(sig) = signature {
        req = req.header(SIGNATURE_HEADER, sig);
    }
    match req.body(body).send() {
        // The URL often carries a token in its path: never in a message.
        Err(e) => Outcome::Retry(e.without_url().to_string()),
        Ok(resp) => {
            let status = resp.status();
            if status.is_success() {
                Outcome::Delivered
            } else if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
                Outcome::Rejected(format!("HTTP {status}"))
            } else {
                Outcome::Retry(format!("HTTP {status}"))
            }
        }
    }
}

/// Deliver queued events in order. Stops at the first retryable failure so events are
/// not reordered; what is left waits for the next run. One deliverer at a time.
pub fn deliver(store: &dyn Store, config: &Config, owner: &str) -> anyhow::Result<Delivery> {
    let Some(url) = config.webhook.as_deref() else {
        return Ok(Delivery::default());
    };
    let mut items = store.outbox(PER_RUN)?;
    if items.is_empty() {
        return Ok(Delivery::default());
    }
    let lock_secs = config.webhook_timeout.as_secs().saturating_add(1) * PER_RUN as u64 + 30;
    if !store.try_lock("outbox", owner, lock_secs)? {
        return Ok(Delivery::default());
    }
    // Re-read under the lock: another deliverer may have sent some meanwhile.
    let result = store.outbox(PER_RUN).map_err(anyhow::Error::from).and_then(|fresh| {
        items = fresh;
        let client = reqwest::blocking::Client::builder()
            .timeout(config.webhook_timeout)
            .build()
            .map_err(|e| anyhow::anyhow!("building the webhook client: {}", e.without_url()))?;
        let mut d = Delivery::default();
        for (i, item) in items.iter().enumerate() {
            let (raw, signature) = match unpack(&item.body, config) {
                Ok(ready) => ready,
                Err(why) => {
                    store.outbox_ack(&item.handle)?;
                    crate::output::warn(format!("dropped an outbox entry: {why}"));
                    continue;
                }
            };
            let shown: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
            match post(&client, url, raw, signature) {
                Outcome::Delivered => {
                    store.outbox_ack(&item.handle)?;
                    d.delivered += 1;
                }
                Outcome::Rejected(why) => {
                    // Kept back, it would block every later event forever. The state
                    // change itself is in the store and the audit log.
                    store.outbox_ack(&item.handle)?;
                    crate::output::warn(format!(
                        "the webhook refused event {} for {} ({why}); dropped, it is in the audit log",
                        crate::text::safe(shown["event"].as_str().unwrap_or("?")),
                        crate::text::safe(shown["request_id"].as_str().unwrap_or("?")),
                    ));
                }
                Outcome::Retry(why) => {
                    d.waiting = items.len() - i;
                    crate::output::warn(format!(
                        "webhook delivery failed ({why}); {} event(s) stay queued and the next aws-jit run retries",
                        d.waiting
                    ));
                    return Ok(d);
                }
            }
        }
        Ok(d)
    });
    store.unlock("outbox", owner)?;
    result
}
