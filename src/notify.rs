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
        "approvers": config.approvers,
        "communication": {"destination": config.slack_channel, "method": "Slack"},
    })
}

pub fn bodies(kinds: &[EventKind], r: &Request, config: &Config) -> Vec<Value> {
    if config.webhook.is_none() {
        // Nothing to deliver to: queueing would only grow the outbox forever.
        return Vec::new();
    }
    kinds
        .iter()
        .map(|k| event_body(*k, r, config, &crate::ids::new_id("evt")))
        .collect()
}

/// Carries `sha256=<hex HMAC-SHA256 of the raw body>` when JIT_WEBHOOK_SECRET is set.
pub const SIGNATURE_HEADER: &str = "X-Aws-Jit-Signature";

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Delivery {
    pub delivered: usize,
    pub waiting: usize,
}

/// Deliver queued events in order. Stops at the first failure so events are not
/// reordered; what is left waits for the next run. One deliverer at a time.
pub fn deliver(store: &dyn Store, config: &Config, owner: &str) -> anyhow::Result<Delivery> {
    let Some(url) = config.webhook.as_deref() else {
        return Ok(Delivery::default());
    };
    const BATCH: usize = 100;
    if !store.try_lock("outbox", owner, 60)? {
        return Ok(Delivery::default());
    }
    let result = (|| -> anyhow::Result<Delivery> {
        let mut client: Option<reqwest::blocking::Client> = None;
        let mut d = Delivery::default();
        loop {
            let items = store.outbox(BATCH)?;
            if items.is_empty() {
                return Ok(d);
            }
            // Built only when there is something to send: it costs a thread and TLS set-up.
            let client = match &client {
                Some(c) => c.clone(),
                None => {
                    let c = reqwest::blocking::Client::builder()
                        .timeout(config.webhook_timeout)
                        .build()?;
                    client = Some(c.clone());
                    c
                }
            };
            for (i, item) in items.iter().enumerate() {
                let body = item.body.to_string();
                let mut post = client
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json");
                if let Some(secret) = &config.webhook_secret {
                    let sig = crate::digest::hmac_sha256_hex(secret.as_bytes(), body.as_bytes());
                    post = post.header(SIGNATURE_HEADER, format!("sha256={sig}"));
                }
                let sent = post
                    .body(body)
                    .send()
                    .map_err(|e| e.to_string())
                    .and_then(|resp| {
                        if resp.status().is_success() {
                            Ok(())
                        } else {
                            Err(format!("HTTP {}", resp.status()))
                        }
                    });
                match sent {
                    Ok(()) => {
                        store.outbox_ack(&item.handle)?;
                        d.delivered += 1;
                    }
                    Err(e) => {
                        d.waiting = items.len() - i;
                        eprintln!(
                            "warning: webhook delivery failed ({e}); {} event(s) stay queued and the next aws-jit run retries",
                            d.waiting
                        );
                        return Ok(d);
                    }
                }
            }
        }
    })();
    store.unlock("outbox", owner)?;
    result
}
