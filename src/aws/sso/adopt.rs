//! Adopting a permission set that already has the name attach would create. Legitimate
//! only when an earlier attempt of the same request made it; anyone allowed to create
//! permission sets can plant one with that name and a description naming the request. So
//! it is adopted only when it is exactly what aws-jit makes: this installation's marker,
//! no managed policies, no customer-managed references, no permissions boundary, and an
//! inline policy that is the approved one (or none yet: attach puts it next).

use super::naming::installation_in;
use super::SsoGrantor;
use crate::aws::GrantError;
use crate::request::{Request, Target};

impl SsoGrantor {
    /// Why the permission set `arn` is not this request's, or `None` when it may be
    /// adopted. Errors are AWS failures reading it (the answer is unknown).
    pub(super) async fn refusal(
        &self,
        instance: &str,
        arn: &str,
        description: Option<&str>,
        r: &Request,
    ) -> Result<Option<String>, GrantError> {
        if description.and_then(installation_in) != Some(self.installation.as_str()) {
            return Ok(Some(format!(
                "its description does not mark it as this installation's ({})",
                self.installation
            )));
        }
        let Target::Sso { account_id, .. } = &r.target else {
            return Ok(Some("the request is not an Identity Center request".into()));
        };
        let c = self.contents(instance, account_id, arn).await?;
        if !c.managed.is_empty() || !c.customer_managed.is_empty() {
            return Ok(Some(
                "it attaches managed policies or customer-managed policy references, which aws-jit never adds"
                    .into(),
            ));
        }
        if c.boundary.is_some() {
            return Ok(Some(
                "it has a permissions boundary, which aws-jit never sets".into(),
            ));
        }
        let approved = r.approved_sha256.as_deref().unwrap_or_default();
        match c.inline.as_ref().map(crate::digest::policy_sha256) {
            Some(have) if have != approved => Ok(Some(format!(
                "its inline policy (hash {have}) is not the approved one ({approved})"
            ))),
            _ => Ok(None),
        }
    }
}
