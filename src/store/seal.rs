//! Records that cannot be forged: with JIT_STATE_KEY set, every record version carries an
//! HMAC-SHA256 (`seal`) over its canonical JSON (which includes its version), and every
//! audit entry an HMAC chained to the one before it (`mac`); the record names the newest
//! (`audit_head`), so the seal covers the whole history. Whoever can write to the store
//! but does not hold the key cannot make a record, an approval or a history that verifies.
//!
//! What this does not stop: putting back an older version that was once genuine (a
//! rollback), together with its history. Approvals expire after JIT_PENDING_TIMEOUT, which
//! bounds how old such a version can be and still be attached.

use serde_json::Value;

use crate::digest::{canonical_json, hmac_sha256_hex};
use crate::request::{AuditEntry, Request, Transition};

pub struct Sealer {
    key: Vec<u8>,
}

/// What a record's seal says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    /// The seal (and, when checked, the audit chain) verifies under JIT_STATE_KEY.
    Verified,
    /// No JIT_STATE_KEY: records are not authenticated.
    Unauthenticated,
    /// JIT_STATE_KEY is set and the record or its history does not verify.
    Failed(String),
}

impl Integrity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Integrity::Verified => "verified",
            Integrity::Unauthenticated => "unauthenticated",
            Integrity::Failed(_) => "unverified",
        }
    }
}

impl Sealer {
    pub fn new(key: &str) -> Sealer {
        Sealer {
            key: key.as_bytes().to_vec(),
        }
    }

    /// Seal a transition before it is committed: its audit entry is chained to the
    /// record's current head, and the new record version is sealed with the new head.
    pub fn seal(&self, t: &mut Transition) {
        t.audit.mac = None;
        let mac = self.entry_mac(t.next.audit_head.as_deref(), &t.audit);
        t.audit.mac = Some(mac.clone());
        t.next.audit_head = Some(mac);
        t.next.seal = None;
        t.next.seal = Some(self.record_mac(&t.next));
    }

    /// The record's own seal.
    pub fn verify(&self, r: &Request) -> Integrity {
        match &r.seal {
            None => Integrity::Failed(
                "the record carries no seal (written without JIT_STATE_KEY, or forged)".into(),
            ),
            Some(seal) if constant_eq(seal, &self.record_mac(r)) => Integrity::Verified,
            Some(_) => Integrity::Failed("the record's seal does not match its contents".into()),
        }
    }

    /// The record's seal and its whole history: each entry chained to the one before, the
    /// newest the one the record names.
    pub fn verify_history(&self, r: &Request, timeline: &[AuditEntry]) -> Integrity {
        let own = self.verify(r);
        if own != Integrity::Verified {
            return own;
        }
        let mut head: Option<String> = None;
        for (i, e) in timeline.iter().enumerate() {
            let want = self.entry_mac(head.as_deref(), e);
            match &e.mac {
                Some(m) if constant_eq(m, &want) => head = Some(want),
                _ => {
                    return Integrity::Failed(format!(
                        "audit entry {} ({}, {}) does not verify: the history was edited",
                        i + 1,
                        e.action,
                        e.at
                    ))
                }
            }
        }
        if head != r.audit_head {
            return Integrity::Failed(
                "the history does not end where the record says: entries were removed or added"
                    .into(),
            );
        }
        Integrity::Verified
    }

    /// The value to store as an assignment's origin: who made it, and a MAC binding that
    /// to the assignment (so a forged origin cannot make standing access look like
    /// aws-jit's, nor one assignment's origin be copied to another).
    pub fn seal_origin(&self, key: &str, by: &str) -> String {
        format!("{by} {}", self.origin_mac(key, by))
    }

    /// Who made the assignment, if the stored origin verifies.
    pub fn open_origin<'v>(&self, key: &str, stored: &'v str) -> Option<&'v str> {
        let (by, mac) = stored.rsplit_once(' ')?;
        constant_eq(mac, &self.origin_mac(key, by)).then_some(by)
    }

    fn origin_mac(&self, key: &str, by: &str) -> String {
        hmac_sha256_hex(&self.key, format!("origin\0{key}\0{by}").as_bytes())
    }

    fn record_mac(&self, r: &Request) -> String {
        let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.remove("seal");
        }
        hmac_sha256_hex(
            &self.key,
            format!("record\0{}", canonical_json(&v)).as_bytes(),
        )
    }

    fn entry_mac(&self, previous: Option<&str>, e: &AuditEntry) -> String {
        let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.remove("mac");
        }
        hmac_sha256_hex(
            &self.key,
            format!("audit\0{}\0{}", previous.unwrap_or(""), canonical_json(&v)).as_bytes(),
        )
    }
}

/// Comparing MACs in time that does not depend on where they differ.
fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
