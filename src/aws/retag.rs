//! Moving a grant's `aws-jit:expires-at` tag when its expiry moves (an extension). The
//! store stays the source of truth for when a grant ends; the tag lets someone reading IAM
//! see it too. Identity Center grants carry no such tag.

use aws_sdk_iam::types::Tag;

use super::{classify, Aws, GrantError};
use crate::request::Request;

/// The tag `attach` writes on an IAM grant's policy.
pub const TAG_EXPIRES: &str = "aws-jit:expires-at";

impl Aws {
    /// Rewrite the expiry tag of `r`'s IAM policy to `r.expires_at` (blocking).
    pub fn move_expiry_tag(&self, r: &Request) -> Result<(), GrantError> {
        let Some(arn) = r.grant.as_ref().and_then(|g| g.policy_arn.clone()) else {
            return Ok(());
        };
        let value = r.expires_at.map(|t| t.to_string()).unwrap_or_default();
        let tag = Tag::builder()
            .key(TAG_EXPIRES)
            .value(value)
            .build()
            .map_err(|e| GrantError::refused(format!("tag {TAG_EXPIRES}: {e}")))?;
        let client = aws_sdk_iam::Client::new(&self.sdk);
        self.block_on(client.tag_policy().policy_arn(&arn).tags(tag).send())
            .map_err(|e| classify("TagPolicy", e))?;
        Ok(())
    }
}
