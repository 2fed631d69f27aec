//! Listing the IAM policies under `/jit/` for `reconcile`: tags, attachments and the
//! document AWS holds now, read with bounded concurrency under the run's shared backoff.

use std::cell::RefCell;

use aws_sdk_iam::types::PolicyScopeType;

use super::{tags, IamGrantor, PATH, TAG_REQUEST, TAG_SHA, TAG_TARGET};
use crate::aws::backoff::patiently;
use crate::aws::{classify, concurrent, Backoff, GrantError, Owned, OwnedKind, TAG_INSTALLATION};
use crate::time::Timestamp;

pub(super) async fn list(
    g: &IamGrantor,
    backoff: &Backoff,
    concurrency: usize,
) -> Result<Vec<Owned>, GrantError> {
    let mut found = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = patiently(backoff, || async {
            g.client
                .list_policies()
                .scope(PolicyScopeType::Local)
                .path_prefix(PATH)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| classify("ListPolicies", e))
        })
        .await?;
        for p in out.policies() {
            let (Some(arn), Some(name)) = (p.arn(), p.policy_name()) else {
                continue;
            };
            found.push(Owned {
                kind: OwnedKind::IamPolicy,
                arn: arn.to_string(),
                name: name.to_string(),
                request_id: None,
                created: p.create_date().map(|d| Timestamp(d.secs().max(0) as u64)),
                attached_to: Vec::new(),
                target: None,
                document_sha256: None,
                tagged_sha256: None,
                installation: None,
            });
        }
        if out.is_truncated() {
            marker = out.marker().map(str::to_string);
        } else {
            break;
        }
    }
    // The details of each policy, a few at a time.
    let done = RefCell::new(Vec::with_capacity(found.len()));
    let failure: RefCell<Option<GrantError>> = RefCell::new(None);
    concurrent::for_each(
        found,
        concurrency,
        || failure.borrow().is_none(),
        |mut o| {
            let (done, failure) = (&done, &failure);
            async move {
                match details(g, backoff, &mut o).await {
                    Ok(()) => done.borrow_mut().push(o),
                    // Deleted while listing: nothing to judge.
                    Err(GrantError::NotFound { .. }) => {}
                    Err(e) => *failure.borrow_mut() = Some(e),
                }
            }
        },
    )
    .await;
    if let Some(e) = failure.into_inner() {
        return Err(e);
    }
    let mut all = done.into_inner();
    all.sort_by(|a, b| a.arn.cmp(&b.arn));
    Ok(all)
}

async fn details(g: &IamGrantor, backoff: &Backoff, o: &mut Owned) -> Result<(), GrantError> {
    let tags = patiently(backoff, || g.tags(&o.arn)).await?;
    let tag = |key: &str| {
        tags.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    o.request_id = tag(TAG_REQUEST);
    o.tagged_sha256 = tag(TAG_SHA);
    o.target = tag(TAG_TARGET).map(|t| tags::decode(&t));
    o.installation = tag(TAG_INSTALLATION);
    o.attached_to = patiently(backoff, || g.attachments(&o.arn)).await?;
    o.document_sha256 = patiently(backoff, || document_sha256(g, &o.arn)).await?;
    Ok(())
}

/// The SHA-256 of the policy's default version, as aws-jit hashes documents.
async fn document_sha256(g: &IamGrantor, arn: &str) -> Result<Option<String>, GrantError> {
    let policy = g
        .client
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| classify("GetPolicy", e))?;
    let Some(version) = policy.policy().and_then(|p| p.default_version_id()) else {
        return Ok(None);
    };
    let out = g
        .client
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .map_err(|e| classify("GetPolicyVersion", e))?;
    let Some(doc) = out.policy_version().and_then(|v| v.document()) else {
        return Ok(None);
    };
    // IAM returns the document URL-encoded (RFC 3986).
    let text = tags::percent_decode(doc);
    Ok(serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .map(|v| crate::digest::policy_sha256(&v)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_iam_documents() {
        assert_eq!(
            super::tags::percent_decode("%7B%22a%22%3A1%7D"),
            "{\"a\":1}"
        );
        assert_eq!(super::tags::percent_decode("100%"), "100%");
        assert_eq!(super::tags::percent_decode("%zz"), "%zz");
    }
}
