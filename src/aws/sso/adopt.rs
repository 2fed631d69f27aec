//! Adopting a permission set that already has the name attach would create. Legitimate
//! only when an earlier attempt of the same request made it; anyone allowed to create
//! permission sets can plant one with that name and a description naming the request. So
//! it is adopted only when it is exactly what aws-jit makes: this installation's marker,
//! the session length and no relay state, no managed policies, no customer-managed
//! references, no permissions boundary, an inline policy that is the approved one (or none
//! yet: attach puts it next), and assigned to nobody but the request's user in the
//! request's account (a planter who assigned it to themselves would share the grant).

use aws_sdk_ssoadmin::types::{PermissionSet, PrincipalType};

use super::naming::{installation_in, session_duration};
use super::SsoGrantor;
use crate::aws::GrantError;
use crate::grant::SsoDetails;
use crate::request::{Request, Target};

impl SsoGrantor {
    /// Why the permission set `arn` is not this request's, or `None` when it may be
    /// adopted. Errors are AWS failures reading it (the answer is unknown).
    pub(super) async fn refusal(
        &self,
        arn: &str,
        ps: &PermissionSet,
        r: &Request,
        d: &SsoDetails,
    ) -> Result<Option<String>, GrantError> {
        if ps.description().and_then(installation_in) != Some(self.installation.as_str()) {
            return Ok(Some(format!(
                "its description does not mark it as this installation's ({})",
                self.installation
            )));
        }
        let session = session_duration(r.ttl());
        if ps.session_duration() != Some(session.as_str()) {
            return Ok(Some(format!(
                "its sessions last {}, not the {session} aws-jit sets for this grant",
                crate::text::safe(ps.session_duration().unwrap_or("(unset)"))
            )));
        }
        if ps.relay_state().is_some_and(|s| !s.is_empty()) {
            return Ok(Some(
                "it has a relay state, which aws-jit never sets".into(),
            ));
        }
        let Target::Sso { account_id, .. } = &r.target else {
            return Ok(Some("the request is not an Identity Center request".into()));
        };
        let c = self.contents(&d.instance_arn, account_id, arn).await?;
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
        if let Some(have) = c.inline.as_ref().map(crate::digest::policy_sha256) {
            if have != approved {
                return Ok(Some(format!(
                    "its inline policy (hash {have}) is not the approved one ({approved})"
                )));
            }
        }
        Ok(self
            .other_assignee(arn, account_id, d)
            .await?
            .map(|who| format!("it is already assigned to {who}")))
    }

    /// An assignment of the permission set to anyone but the request's user in the
    /// request's account (any account it is provisioned to, users and groups).
    async fn other_assignee(
        &self,
        arn: &str,
        account_id: &str,
        d: &SsoDetails,
    ) -> Result<Option<String>, GrantError> {
        let mut accounts = self.provisioned_accounts(&d.instance_arn, arn).await?;
        if !accounts.iter().any(|a| a == account_id) {
            accounts.push(account_id.to_string());
        }
        for account in &accounts {
            let assignments = self.assignments(&d.instance_arn, account, arn).await?;
            for a in &assignments {
                let id = a.principal_id().unwrap_or_default();
                let ours = account == account_id
                    && a.principal_type() == Some(&PrincipalType::User)
                    && !d.user_id.is_empty()
                    && id == d.user_id;
                if !ours {
                    let kind = a.principal_type().map_or("principal", |t| t.as_str());
                    return Ok(Some(format!(
                        "{} {} in account {}",
                        kind.to_lowercase(),
                        crate::text::safe(id),
                        crate::text::safe(account)
                    )));
                }
            }
        }
        Ok(None)
    }
}
