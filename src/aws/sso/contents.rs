//! Reading what a request's target is before approvers see it: the Identity Center user
//! (the beneficiary, with every name they are known by) and, for an existing permission
//! set, everything it grants — managed policies, customer-managed references, the inline
//! policy — so the validator can judge it and attach can see whether it changed.

use serde_json::Value;

use super::SsoGrantor;
use crate::aws::{classify, GrantError};
use crate::grant::{PermissionSetContents, PolicyRead};
use crate::request::Beneficiary;

impl SsoGrantor {
    /// The user `who` names (user name or email): refused with NotFound when there is none.
    pub(super) async fn beneficiary(
        &self,
        store_id: &str,
        who: &str,
    ) -> Result<Beneficiary, GrantError> {
        let (user_id, _) = self.find_user(store_id, who).await?;
        let out = self
            .with_retry(|| {
                self.store
                    .describe_user()
                    .identity_store_id(store_id)
                    .user_id(&user_id)
                    .send()
            })
            .await
            .map_err(|e| classify(&format!("Identity Center user {who}"), e))?;
        let mut identities = vec![who.to_string()];
        identities.extend(out.user_name().map(str::to_string));
        identities.extend(
            out.emails()
                .iter()
                .filter_map(|e| e.value().map(str::to_string)),
        );
        let mut seen = Vec::new();
        for i in identities {
            let i = i.trim().to_string();
            if !i.is_empty() && !seen.iter().any(|s: &String| s.eq_ignore_ascii_case(&i)) {
                seen.push(i);
            }
        }
        Ok(Beneficiary {
            identities: seen,
            source: "identitystore".into(),
        })
    }

    /// Everything the permission set `name` grants, read now.
    pub(super) async fn contents(
        &self,
        instance_arn: &str,
        account_id: &str,
        name: &str,
    ) -> Result<PermissionSetContents, GrantError> {
        let (arn, name) = self
            .find_permission_set(instance_arn, name)
            .await?
            .ok_or_else(|| GrantError::NotFound {
                what: format!(
                    "no permission set named `{name}` in Identity Center instance {instance_arn}; check --permission-set (names are case-sensitive)"
                ),
                source: None,
            })?;
        let managed_arns = self
            .with_retry(|| {
                self.admin
                    .list_managed_policies_in_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(&arn)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
            })
            .await
            .map_err(|e| classify("ListManagedPoliciesInPermissionSet", e))?;
        let mut managed = Vec::new();
        for p in managed_arns {
            let reference = p.arn().unwrap_or_default().to_string();
            managed.push(self.read(reference.clone(), &reference).await);
        }
        let references = self
            .with_retry(|| {
                self.admin
                    .list_customer_managed_policy_references_in_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(&arn)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
            })
            .await
            .map_err(|e| classify("ListCustomerManagedPolicyReferencesInPermissionSet", e))?;
        let mut customer_managed = Vec::new();
        for r in references {
            let path = r.path().unwrap_or("/");
            let reference = format!("{path}{}", r.name());
            // The policy lives in the target account: readable here only when that is
            // the account these credentials belong to.
            let policy_arn = format!("arn:aws:iam::{account_id}:policy{reference}");
            customer_managed.push(self.read(reference, &policy_arn).await);
        }
        let inline = self
            .with_retry(|| {
                self.admin
                    .get_inline_policy_for_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(&arn)
                    .send()
            })
            .await
            .map_err(|e| classify("GetInlinePolicyForPermissionSet", e))?
            .inline_policy()
            .filter(|t| !t.trim().is_empty())
            .map(parse_document);
        // A boundary can only take permissions away: when it cannot be read, judging the
        // set without it overestimates, never underestimates, what it grants.
        let boundary = match self
            .admin
            .get_permissions_boundary_for_permission_set()
            .instance_arn(instance_arn)
            .permission_set_arn(&arn)
            .customize()
            // Optional reading: one attempt, no backoff (some emulators lack the call).
            .config_override(
                aws_sdk_ssoadmin::config::Config::builder()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await
        {
            Ok(out) => out.permissions_boundary().map(|b| {
                serde_json::json!({
                    "managed_policy_arn": b.managed_policy_arn(),
                    "customer_managed_policy_reference": b.customer_managed_policy_reference().map(|c| {
                        format!("{}{}", c.path().unwrap_or("/"), c.name())
                    }),
                })
            }),
            Err(_) => None,
        };
        Ok(PermissionSetContents {
            arn,
            name,
            managed,
            customer_managed,
            inline,
            boundary,
        })
    }

    /// One IAM policy's default version; what went wrong when it cannot be read.
    async fn read(&self, reference: String, arn: &str) -> PolicyRead {
        match crate::aws::iam::read_policy(&self.iam, arn).await {
            Ok(document) => PolicyRead {
                reference,
                document: Some(document),
                unread: None,
            },
            Err(e) => PolicyRead {
                reference,
                document: None,
                unread: Some(crate::error::chain(&e)),
            },
        }
    }
}

/// A policy document as Identity Center returns it (JSON text).
fn parse_document(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}
