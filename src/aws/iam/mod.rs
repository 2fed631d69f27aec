//! IAM users and roles: a customer-managed policy under `/jit/`, tagged with the
//! request, attached to the principal; removal detaches it everywhere and deletes it.

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;

mod adopt;
mod owned;
mod tags;

use super::{
    classify, is_code, retry_later, AttachEnv, AttachFailure, Backoff, GrantError, Grantor,
    Inspection, Owned, Removed, TAG_INSTALLATION,
};
use crate::grant::{Grant, GrantDetails, Holders, IamDetails};
use crate::request::{Beneficiary, Request, Target};

/// Tags on an IAM user or role that name the person it belongs to (keys compared without
/// regard to case). Every one present counts.
pub const OWNER_TAGS: &[&str] = &["aws-jit:owner", "owner", "email"];

pub const PATH: &str = "/jit/";
pub const TAG_REQUEST: &str = "aws-jit:request-id";
pub const TAG_SHA: &str = "aws-jit:policy-sha256";
/// The principal aws-jit attaches the policy to (`user/NAME` or `role/NAME`, the name as
/// IAM spells it, encoded by [`tags::encode`]): removal detaches it from there, and from
/// nowhere else.
pub const TAG_TARGET: &str = "aws-jit:target";

pub struct IamGrantor {
    pub(crate) client: Client,
    /// Tagged on every policy this installation creates.
    installation: String,
}

pub use tags::same_principal;
use tags::{percent_decode, tag};

impl IamGrantor {
    pub fn new(sdk: &aws_config::SdkConfig, installation: &str) -> Self {
        IamGrantor {
            client: Client::new(sdk),
            installation: installation.to_string(),
        }
    }
}

impl Grantor for IamGrantor {
    /// The principal must exist. Its owner tags name the beneficiary; an IAM user is also
    /// known by its own name (a user called `boss` or `boss@example.com` is boss's).
    async fn inspect(&self, target: &Target) -> Result<Inspection, GrantError> {
        // IAM names are unique without regard to case: the request records the name as
        // IAM spells it, so every later lookup, tag and comparison uses that spelling.
        let canonical = match self.check_exists(&Principal::of(target)?).await? {
            Some(name) => match target {
                Target::IamUser { .. } => Target::IamUser { name },
                Target::IamRole { .. } => Target::IamRole { name },
                Target::Sso { .. } => target.clone(),
            },
            None => target.clone(),
        };
        let principal = Principal::of(&canonical)?;
        let tags = self.principal_tags(&principal).await?;
        let mut identities = Vec::new();
        let mut sources = Vec::new();
        if let Principal::User(name) = principal {
            identities.push(name.to_string());
            sources.push("iam-user-name".to_string());
        }
        for key in OWNER_TAGS {
            for (_, value) in tags.iter().filter(|(k, _)| k.eq_ignore_ascii_case(key)) {
                // One tag may name several people: "dev@example.com boss@example.com".
                let named: Vec<&str> = value
                    .split(|c: char| c.is_whitespace() || ",;/".contains(c))
                    .filter(|v| !v.is_empty())
                    .collect();
                if !named.is_empty() {
                    identities.extend(named.iter().map(|v| v.to_string()));
                    sources.push(format!("iam-tag:{key}"));
                }
            }
        }
        let beneficiary = (!identities.is_empty()).then(|| Beneficiary {
            identities,
            source: sources.join(", "),
        });
        Ok(Inspection {
            beneficiary,
            contents: None,
            canonical: Some(canonical.clone()),
        })
    }

    async fn attach(&self, r: &Request, env: &AttachEnv<'_>) -> Result<Grant, AttachFailure> {
        let policy = r.policy.as_ref().ok_or_else(|| {
            AttachFailure::before(GrantError::refused(format!(
                "request {} has no policy to attach",
                r.id
            )))
        })?;
        let principal = Principal::of(&r.target).map_err(AttachFailure::before)?;
        // Fail before creating anything when the principal does not exist.
        self.check_exists(&principal)
            .await
            .map_err(AttachFailure::before)?;
        let (arn, created_now) = self.create_or_adopt(r, policy, &principal).await?;
        let grant = Grant {
            policy_arn: Some(arn.clone()),
            details: Some(GrantDetails::Iam(IamDetails {
                path: PATH.into(),
                policy_name: r.policy_name.clone(),
            })),
        };
        // Taken over meanwhile: stop before the policy grants anything.
        if let Err(e) = env.progress.check() {
            return Err(AttachFailure::after(e.into(), Some(grant)));
        }
        match self.attach_to(&principal, &arn).await {
            Ok(()) => Ok(grant),
            // AWS refused for certain (a quota, a permission): undo a policy made just now
            // so the request can go back to approved with nothing left in AWS.
            Err(
                e @ (GrantError::Refused { .. }
                | GrantError::Denied { .. }
                | GrantError::NotFound { .. }),
            ) if created_now => match self.remove_policy(&arn, Some(&principal.tag())).await {
                Ok(_) => Err(AttachFailure::before(e)),
                Err(_) => Err(AttachFailure::after(e, Some(grant))),
            },
            // Anything else may have attached it (an answer lost, a 5xx after the fact).
            Err(e) => Err(AttachFailure::after(e, Some(grant))),
        }
    }

    /// Detach the policy from the request's principal, then delete it with its versions.
    /// Attachments aws-jit did not make (someone attached the policy elsewhere by hand)
    /// are left alone, and so is the policy they still need.
    async fn remove(&self, r: &Request, _holders: &dyn Holders) -> Result<Removed, GrantError> {
        let arn = match r.grant.as_ref().and_then(|g| g.policy_arn.clone()) {
            Some(arn) => arn,
            // Attach may have crashed before recording the ARN: look it up by name and
            // only touch it when its tag says it is this request's.
            None => match self.find(&r.policy_name).await? {
                Some(arn) => {
                    let tags = self.tags(&arn).await.or_else(not_found_is_empty)?;
                    let tag_of =
                        |key: &str| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
                    // This request's, and this installation's (or made before installations
                    // were tagged): never another installation's.
                    let installation = tag_of(TAG_INSTALLATION);
                    if tag_of(TAG_REQUEST) != Some(r.id.as_str())
                        || installation.is_some_and(|i| i != self.installation)
                    {
                        return Ok(Removed::all());
                    }
                    arn
                }
                None => return Ok(Removed::all()),
            },
        };
        let principal = Principal::of(&r.target).ok().map(|p| p.tag());
        self.remove_policy(&arn, principal.as_deref()).await
    }

    async fn list_owned(
        &self,
        backoff: &Backoff,
        concurrency: usize,
    ) -> Result<Vec<Owned>, GrantError> {
        owned::list(self, backoff, concurrency).await
    }

    async fn remove_owned(&self, o: &Owned) -> Result<Removed, GrantError> {
        self.remove_policy(&o.arn, o.target.as_deref()).await
    }
}

/// The IAM principal a request targets.
enum Principal<'a> {
    User(&'a str),
    Role(&'a str),
}

impl<'a> Principal<'a> {
    fn of(target: &'a Target) -> Result<Self, GrantError> {
        match target {
            Target::IamUser { name } => Ok(Principal::User(name)),
            Target::IamRole { name } => Ok(Principal::Role(name)),
            Target::Sso { .. } => Err(GrantError::refused("not an IAM target")),
        }
    }

    /// `user/NAME` or `role/NAME`, as tagged and as listed in `attached_to`.
    fn tag(&self) -> String {
        match self {
            Principal::User(n) => format!("user/{n}"),
            Principal::Role(n) => format!("role/{n}"),
        }
    }
}

impl IamGrantor {
    /// The tags of a user or role; NotFound when it does not exist.
    async fn principal_tags(&self, p: &Principal<'_>) -> Result<Vec<(String, String)>, GrantError> {
        let pairs = |t: &[Tag]| -> Vec<(String, String)> {
            t.iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()
        };
        match *p {
            Principal::User(name) => self
                .client
                .list_user_tags()
                .user_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map(|t| pairs(&t))
                .map_err(|e| classify(&format!("IAM user {name}"), e)),
            Principal::Role(name) => self
                .client
                .list_role_tags()
                .role_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map(|t| pairs(&t))
                .map_err(|e| classify(&format!("IAM role {name}"), e)),
        }
    }

    /// The principal must exist: its name as IAM spells it (when IAM says).
    async fn check_exists(&self, p: &Principal<'_>) -> Result<Option<String>, GrantError> {
        match *p {
            Principal::User(name) => self
                .client
                .get_user()
                .user_name(name)
                .send()
                .await
                .map(|o| o.user().map(|u| u.user_name().to_string()))
                .map_err(|e| classify(&format!("IAM user {name}"), e)),
            Principal::Role(name) => self
                .client
                .get_role()
                .role_name(name)
                .send()
                .await
                .map(|o| o.role().map(|r| r.role_name().to_string()))
                .map_err(|e| classify(&format!("IAM role {name}"), e)),
        }
    }

    /// Create the policy under `/jit/`, tagged with the request; or adopt the one an
    /// earlier attempt of this request created (never anyone else's). True when created
    /// by this call.
    async fn create_or_adopt(
        &self,
        r: &Request,
        policy: &serde_json::Value,
        principal: &Principal<'_>,
    ) -> Result<(String, bool), AttachFailure> {
        let before = AttachFailure::before;
        let sha = r.approved_sha256.clone().unwrap_or_default();
        let created = self
            .client
            .create_policy()
            .path(PATH)
            .policy_name(&r.policy_name)
            .policy_document(crate::digest::canonical_json(policy))
            .description(
                format!("aws-jit grant {} for {}", r.id, r.requester)
                    .chars()
                    .take(1000)
                    .collect::<String>(),
            )
            .tags(tag(TAG_REQUEST, &r.id).map_err(before)?)
            .tags(tag(TAG_INSTALLATION, &self.installation).map_err(before)?)
            .tags(tag(TAG_SHA, &sha).map_err(before)?)
            .tags(tag(TAG_TARGET, &tags::encode(&principal.tag())).map_err(before)?)
            .tags(tag("aws-jit:requester", &tags::encode(&r.requester)).map_err(before)?)
            .tags(
                tag(
                    "aws-jit:expires-at",
                    &r.expires_at.map(|t| t.to_string()).unwrap_or_default(),
                )
                .map_err(before)?,
            )
            .send()
            .await;
        match created {
            Ok(out) => out
                .policy
                .and_then(|p| p.arn)
                .map(|arn| (arn, true))
                .ok_or_else(|| {
                    AttachFailure::after(GrantError::backend("CreatePolicy returned no ARN"), None)
                }),
            Err(e) if is_code(&e, "EntityAlreadyExists") => {
                // A previous attempt got this far: adopt the policy only if it is provably
                // what that attempt made (see `adopt`). Until that is known, the policy may
                // be this request's: an error here is ambiguous.
                let arn = self
                    .find(&r.policy_name)
                    .await
                    .map_err(|e| AttachFailure::after(e, None))?
                    .ok_or_else(|| {
                        before(GrantError::refused(format!(
                            "a policy named {} already exists outside {PATH}; pick another --policy-name",
                            r.policy_name
                        )))
                    })?;
                let refusal = adopt::refusal(self, &arn, r, &principal.tag())
                    .await
                    .map_err(|e| AttachFailure::after(e, None))?;
                if let Some(adopt::Refusal::Taken) = refusal {
                    return Err(before(GrantError::refused(format!(
                        "policy {arn} already exists and belongs to another request (or to no \
                         request of aws-jit); pick another --policy-name"
                    ))));
                }
                if let Some(adopt::Refusal::NotOurs(why)) = refusal {
                    return Err(before(GrantError::NotOurs(format!(
                        "policy {arn} already exists where aws-jit would create it, but {why}: it was \
                         not attached. It is not provably what an earlier attempt of {} made (someone \
                         may have planted it); investigate and delete it, or ask again with another \
                         --policy-name",
                        r.id
                    ))));
                }
                Ok((arn, false))
            }
            // A certain refusal made nothing; anything else (a 5xx, a lost answer,
            // throttling after the fact) may have created it.
            Err(e) => match classify("CreatePolicy", e) {
                e @ (GrantError::Refused { .. }
                | GrantError::Denied { .. }
                | GrantError::NotFound { .. }) => Err(before(e)),
                e => Err(AttachFailure::after(e, None)),
            },
        }
    }

    /// Detach the policy from `principal` (aws-jit's own attachment), then delete it with
    /// its versions, unless someone else attached it elsewhere: then it stays (with that
    /// access), and the answer says so.
    pub(crate) async fn remove_policy(
        &self,
        arn: &str,
        principal: Option<&str>,
    ) -> Result<Removed, GrantError> {
        // Where it is attached now: ours is detached, anyone else's stays.
        let attached = match self.attachments(arn).await {
            Ok(a) => a,
            Err(GrantError::NotFound { .. }) => return Ok(Removed::all()),
            Err(e) => return Err(retry_later(e)),
        };
        // IAM names are unique without regard to case: `principal` may be spelt otherwise
        // than AWS lists it; detached by AWS's spelling.
        let ours = principal.and_then(|p| {
            attached
                .iter()
                .find(|a| tags::same_principal(a, p))
                .cloned()
        });
        if let Some(p) = &ours {
            self.detach(arn, p).await?;
        }
        let others: Vec<String> = attached
            .into_iter()
            .filter(|a| Some(a) != ours.as_ref())
            .collect();
        if !others.is_empty() {
            let note = match principal {
                Some(p) if ours.is_none() => format!(
                    " (aws-jit attached it to {p}, which it is not attached to; a tag written before \
                     aws-jit kept commas in names reads `_` for `,`)"
                ),
                _ => String::new(),
            };
            return Ok(Removed::keeping(format!(
                "policy {arn} stays: attached to {} by someone other than aws-jit{note}",
                others.join(", ")
            )));
        }
        // aws-jit makes one version; only when AWS says there are more (someone added
        // some, DeleteConflict) are they listed and deleted first. Saves a call per grant.
        match self.client.delete_policy().policy_arn(arn).send().await {
            Ok(_) => return Ok(Removed::all()),
            Err(e) if is_code(&e, "NoSuchEntity") => return Ok(Removed::all()),
            Err(e) if is_code(&e, "DeleteConflict") => {}
            Err(e) => return Err(retry_later(classify("DeletePolicy", e))),
        }
        self.delete_other_versions(arn).await?;
        match self.client.delete_policy().policy_arn(arn).send().await {
            Ok(_) => Ok(Removed::all()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(Removed::all()),
            Err(e) => Err(retry_later(classify("DeletePolicy", e))),
        }
    }

    /// Delete every version but the default one.
    async fn delete_other_versions(&self, arn: &str) -> Result<(), GrantError> {
        let out = match self
            .client
            .list_policy_versions()
            .policy_arn(arn)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if is_code(&e, "NoSuchEntity") => return Ok(()),
            Err(e) => return Err(retry_later(classify("ListPolicyVersions", e))),
        };
        for v in out.versions().iter().filter(|v| !v.is_default_version()) {
            let Some(id) = v.version_id() else { continue };
            match self
                .client
                .delete_policy_version()
                .policy_arn(arn)
                .version_id(id)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if is_code(&e, "NoSuchEntity") => {}
                Err(e) => return Err(retry_later(classify("DeletePolicyVersion", e))),
            }
        }
        Ok(())
    }

    /// Detach from one principal (`user/NAME`, `role/NAME`); gone counts as detached.
    async fn detach(&self, arn: &str, principal: &str) -> Result<(), GrantError> {
        match principal.split_once('/') {
            Some(("user", name)) => ok_if_gone(
                self.client
                    .detach_user_policy()
                    .user_name(name)
                    .policy_arn(arn)
                    .send()
                    .await,
                "DetachUserPolicy",
            ),
            Some(("role", name)) => ok_if_gone(
                self.client
                    .detach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await,
                "DetachRolePolicy",
            ),
            _ => Ok(()),
        }
    }

    async fn attach_to(&self, p: &Principal<'_>, arn: &str) -> Result<(), GrantError> {
        match *p {
            Principal::User(name) => self
                .client
                .attach_user_policy()
                .user_name(name)
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("AttachUserPolicy", e)),
            Principal::Role(name) => self
                .client
                .attach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("AttachRolePolicy", e)),
        }
    }

    /// Every principal the policy is attached to: `user/NAME`, `role/NAME`, `group/NAME`.
    pub(crate) async fn attachments(&self, arn: &str) -> Result<Vec<String>, GrantError> {
        let mut marker: Option<String> = None;
        let mut all = Vec::new();
        loop {
            let out = self
                .client
                .list_entities_for_policy()
                .policy_arn(arn)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| classify("ListEntitiesForPolicy", e))?;
            all.extend(
                out.policy_users()
                    .iter()
                    .filter_map(|u| u.user_name())
                    .map(|n| format!("user/{n}")),
            );
            all.extend(
                out.policy_roles()
                    .iter()
                    .filter_map(|u| u.role_name())
                    .map(|n| format!("role/{n}")),
            );
            all.extend(
                out.policy_groups()
                    .iter()
                    .filter_map(|u| u.group_name())
                    .map(|n| format!("group/{n}")),
            );
            if out.is_truncated() {
                marker = out.marker().map(str::to_string);
            } else {
                return Ok(all);
            }
        }
    }

    /// The ARN of our policy with this name under `/jit/`, if any.
    async fn find(&self, name: &str) -> Result<Option<String>, GrantError> {
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .client
                .list_policies()
                .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                .path_prefix(PATH)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| retry_later(classify("ListPolicies", e)))?;
            if let Some(p) = out
                .policies()
                .iter()
                .find(|p| p.policy_name() == Some(name))
            {
                return Ok(p.arn().map(str::to_string));
            }
            if out.is_truncated() {
                marker = out.marker().map(str::to_string);
            } else {
                return Ok(None);
            }
        }
    }

    pub(crate) async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, GrantError> {
        let out = self
            .client
            .list_policy_tags()
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| classify("ListPolicyTags", e))?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect())
    }
}

/// The default version of an IAM policy (customer- or AWS-managed), parsed.
pub(crate) async fn read_policy(
    client: &Client,
    arn: &str,
) -> Result<serde_json::Value, GrantError> {
    let policy = client
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| classify(&format!("GetPolicy {arn}"), e))?;
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .ok_or_else(|| GrantError::backend(format!("GetPolicy {arn}: no default version")))?
        .to_string();
    let out = client
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .map_err(|e| classify(&format!("GetPolicyVersion {arn} {version}"), e))?;
    let text = out
        .policy_version()
        .and_then(|v| v.document())
        .ok_or_else(|| GrantError::backend(format!("GetPolicyVersion {arn}: no document")))?;
    // IAM returns the document URL-encoded (RFC 3986).
    let decoded = percent_decode(text);
    serde_json::from_str(&decoded)
        .map_err(|e| GrantError::backend(format!("policy {arn} is not JSON: {e}")))
}

fn not_found_is_empty(e: GrantError) -> Result<Vec<(String, String)>, GrantError> {
    match e {
        GrantError::NotFound { .. } => Ok(Vec::new()),
        other => Err(other),
    }
}

fn ok_if_gone<T, E>(
    res: Result<T, aws_sdk_iam::error::SdkError<E, aws_sdk_iam::config::http::HttpResponse>>,
    what: &str,
) -> Result<(), GrantError>
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match res {
        Ok(_) => Ok(()),
        Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
        Err(e) => Err(retry_later(classify(what, e))),
    }
}
