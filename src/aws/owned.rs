//! What aws-jit owns in AWS, as `reconcile` sees it, and what a removal left in place.

use serde::Serialize;

use crate::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnedKind {
    /// A customer-managed IAM policy under `/jit/`.
    IamPolicy,
    /// An Identity Center permission set aws-jit created for one request.
    PermissionSet,
}

/// One object aws-jit owns (or that sits where aws-jit's objects sit).
#[derive(Debug, Clone, Serialize)]
pub struct Owned {
    pub kind: OwnedKind,
    pub arn: String,
    pub name: String,
    /// The request its `aws-jit:request-id` tag (or description marker) names. `None`:
    /// it sits under `/jit/` but carries no aws-jit tag, so it is not aws-jit's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// Where it grants access now: `user/NAME`, `role/NAME`, `group/NAME` (IAM), or
    /// `ACCOUNT/USER_ID` (Identity Center assignments).
    pub attached_to: Vec<String>,
    /// The principal aws-jit attached it to (`aws-jit:target` tag), when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// SHA-256 of the document AWS holds now (canonical JSON), when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_sha256: Option<String>,
    /// The approved hash it was tagged with when created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tagged_sha256: Option<String>,
}

impl Owned {
    /// Made by aws-jit (tagged), not merely under its path.
    pub fn tagged(&self) -> bool {
        self.request_id.is_some()
    }
}

/// What a removal deliberately left in place: access aws-jit did not create (a standing
/// assignment, an attachment someone else made). Empty when everything went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub kept: Vec<String>,
}

impl Removed {
    pub fn all() -> Removed {
        Removed::default()
    }

    pub fn keeping(what: impl Into<String>) -> Removed {
        Removed {
            kept: vec![what.into()],
        }
    }
}
