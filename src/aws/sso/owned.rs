//! Listing the permission sets aws-jit created (marked by their description, `aws-jit
//! <request id> ...`) with the accounts and users they are assigned to and the inline
//! policy they hold now; and removing one no live request tracks.

use std::cell::RefCell;

use super::naming::{account_in, installation_in, owned_by};
use super::SsoGrantor;
use crate::aws::backoff::patiently;
use crate::aws::{classify, concurrent, Backoff, GrantError, Owned, OwnedKind, Removed};
use crate::grant::{SsoDetails, SsoKind};
use crate::time::Timestamp;

/// The request id in an aws-jit description (`aws-jit jit-... for ... until ...`).
fn request_of(description: Option<&str>) -> Option<String> {
    let id = description?.strip_prefix("aws-jit ")?.split(' ').next()?;
    (crate::ids::is_request_id(id) && owned_by(description, id)).then(|| id.to_string())
}

pub(super) async fn list(
    g: &SsoGrantor,
    backoff: &Backoff,
    concurrency: usize,
) -> Result<Vec<Owned>, GrantError> {
    // No Identity Center for these credentials: nothing of aws-jit's can be there.
    let (instance, _) = match g.instance().await {
        Ok(i) => i,
        Err(GrantError::Refused { .. } | GrantError::Denied { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let arns = patiently(backoff, || async {
        g.with_retry(|| {
            g.admin
                .list_permission_sets()
                .instance_arn(&instance)
                .into_paginator()
                .items()
                .send()
                .try_collect()
        })
        .await
        .map_err(|e| classify("ListPermissionSets", e))
    })
    .await?;
    let found = RefCell::new(Vec::new());
    let failure: RefCell<Option<GrantError>> = RefCell::new(None);
    concurrent::for_each(
        arns,
        concurrency,
        || failure.borrow().is_none(),
        |arn| {
            let (found, failure, instance) = (&found, &failure, &instance);
            async move {
                match describe(g, backoff, instance, arn).await {
                    Ok(Some(o)) => found.borrow_mut().push(o),
                    Ok(None) | Err(GrantError::NotFound { .. }) => {}
                    Err(e) => *failure.borrow_mut() = Some(e),
                }
            }
        },
    )
    .await;
    if let Some(e) = failure.into_inner() {
        return Err(e);
    }
    let mut all = found.into_inner();
    all.sort_by(|a, b| a.arn.cmp(&b.arn));
    Ok(all)
}

/// One permission set, when aws-jit made it.
async fn describe(
    g: &SsoGrantor,
    backoff: &Backoff,
    instance: &str,
    arn: String,
) -> Result<Option<Owned>, GrantError> {
    let out = patiently(backoff, || async {
        g.with_retry(|| {
            g.admin
                .describe_permission_set()
                .instance_arn(instance)
                .permission_set_arn(&arn)
                .send()
        })
        .await
        .map_err(|e| classify("DescribePermissionSet", e))
    })
    .await?;
    let Some(ps) = out.permission_set() else {
        return Ok(None);
    };
    let Some(request_id) = request_of(ps.description()) else {
        return Ok(None);
    };
    let mut accounts = patiently(backoff, || g.provisioned_accounts(instance, &arn)).await?;
    // The account the request named, in case listing the provisioned accounts falls short.
    if let Some(a) = ps.description().and_then(account_in) {
        if !accounts.contains(&a) {
            accounts.push(a);
        }
    }
    let mut attached_to = Vec::new();
    for account in accounts {
        let d = details(instance, &arn, &account);
        for user in patiently(backoff, || g.assignment_principals(&d)).await? {
            attached_to.push(format!("{account}/{user}"));
        }
    }
    let inline = patiently(backoff, || async {
        g.with_retry(|| {
            g.admin
                .get_inline_policy_for_permission_set()
                .instance_arn(instance)
                .permission_set_arn(&arn)
                .send()
        })
        .await
        .map_err(|e| classify("GetInlinePolicyForPermissionSet", e))
    })
    .await?;
    let document_sha256 = inline
        .inline_policy()
        .filter(|p| !p.is_empty())
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
        .map(|v| crate::digest::policy_sha256(&v));
    Ok(Some(Owned {
        kind: OwnedKind::PermissionSet,
        arn: arn.clone(),
        name: ps.name().unwrap_or_default().to_string(),
        request_id: Some(request_id),
        created: ps.created_date().map(|d| Timestamp(d.secs().max(0) as u64)),
        attached_to,
        target: None,
        document_sha256,
        tagged_sha256: None,
        installation: ps
            .description()
            .and_then(installation_in)
            .map(str::to_string),
    }))
}

/// What removal needs to know of one (permission set, account).
fn details(instance: &str, arn: &str, account: &str) -> SsoDetails {
    SsoDetails {
        kind: SsoKind,
        instance_arn: instance.to_string(),
        identity_store_id: String::new(),
        user_id: String::new(),
        user_name: String::new(),
        account_id: account.to_string(),
        permission_set_arn: arn.to_string(),
        permission_set_name: String::new(),
        // Every assignment of a permission set aws-jit made is aws-jit's.
        ephemeral: true,
        session_duration: None,
        provisioning: None,
        assignment: None,
        assignment_existed: false,
    }
}

/// Delete every assignment of an orphaned permission set, then the set itself: the
/// steps `remove` takes for an ephemeral grant, in every account it reaches.
pub(super) async fn remove(g: &SsoGrantor, o: &Owned) -> Result<Removed, GrantError> {
    let (instance, _) = g.instance().await?;
    let mut accounts: Vec<&str> = o
        .attached_to
        .iter()
        .filter_map(|a| a.split_once('/').map(|(acct, _)| acct))
        .collect();
    accounts.dedup();
    for account in &accounts {
        g.delete_assignment(&details(&instance, &o.arn, account))
            .await
            .map_err(crate::aws::retry_later)?;
    }
    g.delete_permission_set(&details(
        &instance,
        &o.arn,
        accounts.first().copied().unwrap_or(""),
    ))
    .await
    .map_err(crate::aws::retry_later)?;
    Ok(Removed::all())
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_id_from_description() {
        assert_eq!(
            super::request_of(Some("aws-jit jit-abcdefghjkmn for a@b.c until x")),
            Some("jit-abcdefghjkmn".into())
        );
        assert_eq!(super::request_of(Some("standing permission set")), None);
        assert_eq!(super::request_of(Some("aws-jit notanid")), None);
        assert_eq!(super::request_of(None), None);
    }
}
