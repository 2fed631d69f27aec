//! Adopting a policy that already sits where attach would create one (`/jit/<name>`).
//! Legitimate only when an earlier attempt of the same request made it (a lost reply, a
//! crash). Anyone allowed to create policies can plant one there, tagged with the request
//! id and approved hash (both shown to the requester), so tags alone prove nothing: the
//! policy is adopted only when everything aws-jit would have made matches — this
//! installation's tags, one version whose document hashes to the approved hash, and no
//! attachment but to the request's own principal.

use super::tags::{decode, same_principal};
use super::{read_policy, IamGrantor, TAG_REQUEST, TAG_SHA, TAG_TARGET};
use crate::aws::{classify, GrantError, TAG_INSTALLATION};
use crate::request::Request;

/// Why an existing policy is not adopted.
pub(super) enum Refusal {
    /// It does not claim to be this request's: a name taken by someone else (another
    /// request's `--policy-name`, a hand-made policy). A usage error.
    Taken,
    /// It claims to be this request's but is not what aws-jit made: a planted policy.
    NotOurs(String),
}

/// Why the policy at `arn` is not this request's, or `None` when it may be adopted.
/// Errors are AWS failures reading it (the answer is unknown).
pub(super) async fn refusal(
    g: &IamGrantor,
    arn: &str,
    r: &Request,
    principal: &str,
) -> Result<Option<Refusal>, GrantError> {
    let sha = r.approved_sha256.clone().unwrap_or_default();
    let tags = g.tags(arn).await?;
    let tag_of = |key: &str| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    if tag_of(TAG_REQUEST) != Some(r.id.as_str()) {
        return Ok(Some(Refusal::Taken));
    }
    let why = policy_refusal(g, arn, principal, &sha, &tags).await?;
    Ok(why.map(Refusal::NotOurs))
}

/// What makes a policy tagged with this request's id other than what aws-jit made.
async fn policy_refusal(
    g: &IamGrantor,
    arn: &str,
    principal: &str,
    sha: &str,
    tags: &[(String, String)],
) -> Result<Option<String>, GrantError> {
    let tag_of = |key: &str| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    if tag_of(TAG_INSTALLATION) != Some(g.installation.as_str()) {
        return Ok(Some(format!(
            "it is not tagged {TAG_INSTALLATION}={} (this installation)",
            g.installation
        )));
    }
    if sha.is_empty() || tag_of(TAG_SHA) != Some(sha) {
        return Ok(Some(format!(
            "it is not tagged with the approved hash {sha}"
        )));
    }
    if !tag_of(TAG_TARGET).is_some_and(|t| same_principal(&decode(t), principal)) {
        return Ok(Some(format!("it is not tagged {TAG_TARGET}={principal}")));
    }
    let versions = g
        .client
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| classify("ListPolicyVersions", e))?;
    if versions.versions().len() != 1 {
        return Ok(Some(format!(
            "it has {} versions; aws-jit makes one",
            versions.versions().len()
        )));
    }
    let document = read_policy(&g.client, arn).await?;
    let have = crate::digest::policy_sha256(&document);
    if have != sha {
        return Ok(Some(format!(
            "its document (hash {have}) is not the approved one ({sha})"
        )));
    }
    let elsewhere: Vec<String> = g
        .attachments(arn)
        .await?
        .into_iter()
        .filter(|a| !same_principal(a, principal))
        .collect();
    if !elsewhere.is_empty() {
        return Ok(Some(format!(
            "it is attached to {}, which aws-jit never does",
            elsewhere.join(", ")
        )));
    }
    Ok(None)
}
