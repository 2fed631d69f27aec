//! What aws-jit owns in AWS, as `reconcile` sees it, and what a removal left in place.

use serde::Serialize;

use crate::time::Timestamp;

/// The tag (and, on Identity Center permission sets, the description marker) naming the
/// installation that created an object. Only an exact match makes an object one's own.
pub const TAG_INSTALLATION: &str = "aws-jit:installation";

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
    /// The installation that created it (`aws-jit:installation`); `None` on objects made
    /// before installations were tagged, or by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installation: Option<String>,
}

/// Whose an object is, as far as one installation can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whose {
    /// No aws-jit request tag: not made by aws-jit at all.
    NotJit,
    /// An aws-jit request tag but no installation tag: made before installations were
    /// tagged (or by hand). Possibly another installation's: never removed as an orphan.
    Untagged,
    /// Another installation's (or a look-alike of this one's name).
    Foreign(String),
    /// This installation's.
    Ours,
}

impl Owned {
    /// Made by aws-jit (tagged), not merely under its path.
    pub fn tagged(&self) -> bool {
        self.request_id.is_some()
    }

    /// Whose it is for the installation named `installation`: its own only when the
    /// installation tag is exactly that name (no trimming, no case folding).
    pub fn whose(&self, installation: &str) -> Whose {
        match (&self.request_id, &self.installation) {
            (None, _) => Whose::NotJit,
            (Some(_), None) => Whose::Untagged,
            (Some(_), Some(i)) if i == installation => Whose::Ours,
            (Some(_), Some(i)) => Whose::Foreign(i.clone()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(installation: Option<&str>) -> Owned {
        Owned {
            kind: OwnedKind::IamPolicy,
            arn: "arn:aws:iam::1:policy/jit/p".into(),
            name: "p".into(),
            request_id: Some("jit-abcdefghjkmn".into()),
            created: None,
            attached_to: vec![],
            target: None,
            document_sha256: None,
            tagged_sha256: None,
            installation: installation.map(str::to_string),
        }
    }

    #[test]
    fn only_an_exact_installation_tag_is_ours() {
        assert_eq!(tagged(Some("prod")).whose("prod"), Whose::Ours);
        assert_eq!(tagged(None).whose("prod"), Whose::Untagged);
        for look_alike in ["Prod", "prod ", " prod", "prod\u{200b}", "PROD"] {
            assert_eq!(
                tagged(Some(look_alike)).whose("prod"),
                Whose::Foreign(look_alike.into())
            );
        }
        let mut hand = tagged(Some("prod"));
        hand.request_id = None;
        assert_eq!(hand.whose("prod"), Whose::NotJit);
    }
}
