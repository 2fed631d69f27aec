//! Finding things in Identity Center: the instance, a user (by user name or email), and a
//! permission set by name. Listing uses the SDK's paginators; Conflict and Throttling
//! restart a listing with backoff.

use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
use aws_sdk_ssoadmin::types::PermissionSet;

use super::SsoGrantor;
use crate::aws::{classify, is_code, GrantError};

impl SsoGrantor {
    /// (instance ARN, identity store id): from SSO_INSTANCE_ARN / IDENTITY_STORE_ID when
    /// both are set, else from ListInstances (which must then show exactly one match).
    pub async fn instance(&self) -> Result<(String, String), GrantError> {
        if let (Some(a), Some(s)) = (
            &self.settings.instance_arn,
            &self.settings.identity_store_id,
        ) {
            return Ok((a.clone(), s.clone()));
        }
        let all: Vec<(String, String)> = self
            .with_retry(|| {
                self.admin
                    .list_instances()
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
            })
            .await
            .map_err(|e| {
                classify(
                    "ListInstances (set SSO_INSTANCE_ARN and IDENTITY_STORE_ID to skip it)",
                    e,
                )
            })?
            .iter()
            .filter_map(|i| {
                Some((
                    i.instance_arn()?.to_string(),
                    i.identity_store_id()?.to_string(),
                ))
            })
            .collect();
        let wanted = |(a, s): &&(String, String)| {
            self.settings.instance_arn.as_ref().is_none_or(|w| w == a)
                && self
                    .settings
                    .identity_store_id
                    .as_ref()
                    .is_none_or(|w| w == s)
        };
        let matching: Vec<&(String, String)> = all.iter().filter(wanted).collect();
        match matching.as_slice() {
            [one] => Ok((*one).clone()),
            [] if all.is_empty() => Err(GrantError::refused(
                "no IAM Identity Center instance is visible to these credentials: enable Identity Center, \
                 use credentials of its management or delegated administrator account, or set \
                 SSO_INSTANCE_ARN and IDENTITY_STORE_ID",
            )),
            [] => Err(GrantError::refused(format!(
                "no IAM Identity Center instance matches SSO_INSTANCE_ARN / IDENTITY_STORE_ID; visible: {}",
                all.iter().map(|(a, s)| format!("{a} ({s})")).collect::<Vec<_>>().join(", ")
            ))),
            several => Err(GrantError::refused(format!(
                "{} IAM Identity Center instances are visible; set SSO_INSTANCE_ARN to one of: {}",
                several.len(),
                several.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// (user id, user name): by user name first, then by email address.
    pub async fn find_user(
        &self,
        store_id: &str,
        who: &str,
    ) -> Result<(String, String), GrantError> {
        let by_name = UniqueAttribute::builder()
            .attribute_path("userName")
            .attribute_value(who.into())
            .build()
            .map_err(|e| GrantError::refused(format!("--sso-user: {e}")))?;
        let res = self
            .with_retry(|| {
                self.store
                    .get_user_id()
                    .identity_store_id(store_id)
                    .alternate_identifier(AlternateIdentifier::UniqueAttribute(by_name.clone()))
                    .send()
            })
            .await;
        match res {
            Ok(out) => return Ok((out.user_id().to_string(), who.to_string())),
            Err(e) if is_code(&e, "ResourceNotFoundException") => {}
            Err(e) => {
                return Err(classify(
                    &format!("looking up Identity Center user {who}"),
                    e,
                ))
            }
        }
        // Emails are not unique in every identity source: list and count the matches.
        let users = self
            .with_retry(|| {
                self.store
                    .list_users()
                    .identity_store_id(store_id)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
            })
            .await
            .map_err(|e| classify("ListUsers", e))?;
        let matches: Vec<(String, String)> = users
            .iter()
            .filter(|u| {
                u.emails()
                    .iter()
                    .any(|e| e.value().is_some_and(|v| v.eq_ignore_ascii_case(who)))
            })
            .map(|u| {
                (
                    u.user_id().to_string(),
                    u.user_name().unwrap_or(u.user_id()).to_string(),
                )
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(GrantError::NotFound {
                what: format!(
                    "no Identity Center user has the user name or email `{who}` in identity store {store_id}; \
                     check --sso-user"
                ),
                source: None,
            }),
            several => Err(GrantError::refused(format!(
                "{} Identity Center users have the email `{who}` ({}); give the user name with --sso-user instead",
                several.len(),
                several.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// (ARN, name) of the permission set called `name` (or with this ARN).
    pub async fn find_permission_set(
        &self,
        instance_arn: &str,
        name: &str,
    ) -> Result<Option<(String, String)>, GrantError> {
        if name.starts_with("arn:") {
            let out = self
                .with_retry(|| {
                    self.admin
                        .describe_permission_set()
                        .instance_arn(instance_arn)
                        .permission_set_arn(name)
                        .send()
                })
                .await;
            return match out {
                Ok(o) => Ok(Some((
                    name.to_string(),
                    o.permission_set()
                        .and_then(|p| p.name())
                        .unwrap_or(name)
                        .to_string(),
                ))),
                Err(e) if is_code(&e, "ResourceNotFoundException") => Ok(None),
                Err(e) => Err(classify("DescribePermissionSet", e)),
            };
        }
        Ok(self
            .find_permission_set_described(instance_arn, name)
            .await?
            .map(|(arn, _)| (arn, name.to_string())))
    }

    /// The ARN and description of the permission set named `name`. Identity Center has no
    /// lookup by name: list the instance's permission sets and describe each.
    pub(super) async fn find_permission_set_described(
        &self,
        instance_arn: &str,
        name: &str,
    ) -> Result<Option<(String, PermissionSet)>, GrantError> {
        let arns = self
            .with_retry(|| {
                self.admin
                    .list_permission_sets()
                    .instance_arn(instance_arn)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
            })
            .await
            .map_err(|e| classify("ListPermissionSets", e))?;
        for arn in arns {
            let described = self
                .with_retry(|| {
                    self.admin
                        .describe_permission_set()
                        .instance_arn(instance_arn)
                        .permission_set_arn(&arn)
                        .send()
                })
                .await;
            let p = match described {
                Ok(p) => p,
                // Deleted between list and describe.
                Err(e) if is_code(&e, "ResourceNotFoundException") => continue,
                Err(e) => return Err(classify("DescribePermissionSet", e)),
            };
            if let Some(ps) = p.permission_set().filter(|ps| ps.name() == Some(name)) {
                return Ok(Some((arn.clone(), ps.clone())));
            }
        }
        Ok(None)
    }
}
