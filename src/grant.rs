//! What exists in AWS for a grant, as recorded on the request. Typed per target kind, and
//! serialised exactly as earlier versions stored it: IAM details as `{path, policy_name}`,
//! Identity Center details as an object with `"kind": "sso"`.

use serde::{Deserialize, Serialize};

/// The AWS objects a grant made (or adopted).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<GrantDetails>,
}

impl Grant {
    pub fn sso(&self) -> Option<&SsoDetails> {
        match &self.details {
            Some(GrantDetails::Sso(d)) => Some(d),
            _ => None,
        }
    }
}

/// Target-specific facts. Untagged for compatibility with stored records; the variants
/// cannot be mistaken for each other: only Identity Center details carry `kind: "sso"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GrantDetails {
    Sso(Box<SsoDetails>),
    Iam(IamDetails),
}

/// A customer-managed policy attached to an IAM user or role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamDetails {
    pub path: String,
    pub policy_name: String,
}

/// The marker `"kind": "sso"`; deserialising anything else fails, which keeps the
/// untagged [`GrantDetails`] unambiguous.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SsoKind;

impl Serialize for SsoKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("sso")
    }
}

impl<'de> Deserialize<'de> for SsoKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text == "sso" {
            Ok(SsoKind)
        } else {
            Err(serde::de::Error::custom(format!(
                "grant details of kind `{text}`"
            )))
        }
    }
}

/// The outcome of one asynchronous Identity Center operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpStatus {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

impl OpStatus {
    pub fn succeeded() -> OpStatus {
        OpStatus {
            status: "SUCCEEDED".into(),
            request_id: None,
            failure_reason: None,
        }
    }
}

/// An Identity Center account assignment (and, when ephemeral, its permission set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoDetails {
    pub kind: SsoKind,
    pub instance_arn: String,
    pub identity_store_id: String,
    pub user_id: String,
    pub user_name: String,
    pub account_id: String,
    pub permission_set_arn: String,
    pub permission_set_name: String,
    /// Created for this request (and deleted on removal), or an existing one.
    pub ephemeral: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<OpStatus>,
    /// The account assignment: its status is what `status` shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<OpStatus>,
    /// The assignment was standing access when this grant attached: present, and held by
    /// no other aws-jit grant. aws-jit did not create it, so no removal ever deletes it.
    /// Decided once, before any assignment is created, and recorded before creating.
    #[serde(default)]
    pub assignment_existed: bool,
}

/// What an existing permission set grants, as read when the request was made: the
/// approver judges this, and attach refuses when it has changed since (its hash is the
/// request's policy hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionSetContents {
    pub arn: String,
    pub name: String,
    /// AWS-managed (and other IAM) policies attached by ARN.
    #[serde(default)]
    pub managed: Vec<PolicyRead>,
    /// Customer-managed policy references: a name and path in each target account.
    #[serde(default)]
    pub customer_managed: Vec<PolicyRead>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<serde_json::Value>,
    /// The permissions boundary as Identity Center describes it; it can only narrow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<serde_json::Value>,
}

/// One policy of a permission set: where it is, and its document when it could be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRead {
    /// The ARN, or `path/name` for a customer-managed reference.
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<serde_json::Value>,
    /// Why the document could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<String>,
}

/// Another grant on the same shared object (an existing permission set in one account):
/// its user id when attach recorded one, and the user as requested (name or email) so the
/// grantor can resolve it when not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub request_id: String,
    pub user_id: Option<String>,
    pub user: String,
}

/// Where a grantor asks, right before and after removing a shared object, which other
/// grants still hold it (last one out). Read afresh on every call.
///
/// Also where it keeps, per assignment, the durable answer to "did aws-jit create it?"
/// (`origin`) and the lock under which that is decided, so that concurrent attaches and
/// removals of one assignment take turns. The defaults keep nothing and always lock (a
/// grant that shares nothing, a test).
pub trait Holders {
    /// Grants that rely on aws-jit's assignment: attaching or active, and recorded that it
    /// was not standing access. A grant still undecided is none of them.
    fn holders(&self) -> Result<Vec<Holder>, HoldersError>;
    /// The request recorded as having created the assignment `key`, if aws-jit did.
    fn origin(&self, _key: &str) -> Result<Option<String>, HoldersError> {
        Ok(None)
    }
    fn set_origin(&self, _key: &str, _by: Option<&str>) -> Result<(), HoldersError> {
        Ok(())
    }
    /// Take (or renew) the lock on the assignment `key` for `lease()`; false: busy.
    fn lock(&self, _key: &str) -> Result<bool, HoldersError> {
        Ok(true)
    }
    fn unlock(&self, _key: &str) {}
    fn lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(60)
    }
}

/// The holders could not be read; removal stops and is retried.
#[derive(Debug, thiserror::Error)]
#[error("reading the other holders of a shared assignment")]
pub struct HoldersError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Where an attach records, while it works, what it is about to create or has created,
/// so a crash or an ambiguous failure leaves the store knowing it. An error means the
/// caller's claim is gone: the attach stops before changing anything more.
pub trait Progress {
    fn record(&self, grant: &Grant) -> Result<(), ProgressError>;
    /// The claim is still the caller's (read-only): checked before a call that grants
    /// access, so a run taken over stops instead of granting more.
    fn check(&self) -> Result<(), ProgressError>;
}

/// Recording progress failed: the claim was lost, or the store could not be reached.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProgressError(pub String);

/// For an attach that records nothing along the way (tests, previews).
pub struct NoProgress;

impl Progress for NoProgress {
    fn record(&self, _: &Grant) -> Result<(), ProgressError> {
        Ok(())
    }

    fn check(&self) -> Result<(), ProgressError> {
        Ok(())
    }
}

/// For grants that share nothing.
pub struct NoHolders;

impl Holders for NoHolders {
    fn holders(&self) -> Result<Vec<Holder>, HoldersError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_details_as_earlier_versions_stored_them() {
        let iam: Grant = serde_json::from_value(json!({
            "policy_arn": "arn:aws:iam::123456789012:policy/jit/jit-abc",
            "details": {"path": "/jit/", "policy_name": "jit-abc"}
        }))
        .expect("iam grant");
        assert_eq!(
            iam.details,
            Some(GrantDetails::Iam(IamDetails {
                path: "/jit/".into(),
                policy_name: "jit-abc".into()
            }))
        );
        let sso: Grant = serde_json::from_value(json!({"details": {
            "kind": "sso", "instance_arn": "arn:aws:sso:::instance/ssoins-1",
            "identity_store_id": "d-1", "user_id": "u-1", "user_name": "alice",
            "account_id": "123456789012", "permission_set_arn": "arn:ps", "permission_set_name": "ps",
            "ephemeral": false, "assignment": {"status": "SUCCEEDED"}
        }}))
        .expect("sso grant");
        assert_eq!(sso.sso().map(|d| d.user_id.as_str()), Some("u-1"));
        let none: Grant = serde_json::from_value(json!({})).expect("empty grant");
        assert_eq!(none, Grant::default());
        // Round trip keeps the stored shape.
        let v = serde_json::to_value(&sso).expect("serialise");
        assert_eq!(v["details"]["kind"], "sso");
        let v = serde_json::to_value(&iam).expect("serialise");
        assert_eq!(
            v["details"],
            json!({"path": "/jit/", "policy_name": "jit-abc"})
        );
        // Only `kind: "sso"` selects Identity Center details.
        assert!(serde_json::from_value::<SsoDetails>(json!({
            "kind": "iam", "instance_arn": "a", "identity_store_id": "d", "user_id": "u",
            "user_name": "n", "account_id": "1", "permission_set_arn": "p",
            "permission_set_name": "p", "ephemeral": true
        }))
        .is_err());
    }
}
