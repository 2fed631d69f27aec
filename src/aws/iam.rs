//! IAM users and roles: a customer-managed policy under `/jit/`, tagged with the
//! request, attached to the principal; removal detaches it everywhere and deletes it.

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;

use super::{classify, is_code, retry_later, GrantError, Grantor, Inspection};
use crate::grant::{Grant, GrantDetails, Holders, IamDetails};
use crate::request::{Beneficiary, Request, Target};

/// Tags on an IAM user or role that name the person it belongs to (keys compared without
/// regard to case). Every one present counts.
pub const OWNER_TAGS: &[&str] = &["aws-jit:owner", "owner", "email"];

pub const PATH: &str = "/jit/";
pub const TAG_REQUEST: &str = "aws-jit:request-id";
pub const TAG_SHA: &str = "aws-jit:policy-sha256";

pub struct IamGrantor {
    client: Client,
}

fn tag(k: &str, v: &str) -> Result<Tag, GrantError> {
    Tag::builder()
        .key(k)
        .value(v)
        .build()
        .map_err(|e| GrantError::refused(format!("tag {k}: {e}")))
}

/// IAM tag values allow letters, digits, white space and `_.:/=+-@`.
fn tag_value(v: &str) -> String {
    v.chars()
        .map(|c| {
            if c.is_alphanumeric() || " _.:/=+-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

impl IamGrantor {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        IamGrantor {
            client: Client::new(sdk),
        }
    }
}

impl Grantor for IamGrantor {
    /// The principal must exist. Its owner tags name the beneficiary; an IAM user is also
    /// known by its own name (a user called `boss` or `boss@example.com` is boss's).
    async fn inspect(&self, target: &Target) -> Result<Inspection, GrantError> {
        let principal = Principal::of(target)?;
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
        })
    }

    async fn attach(&self, r: &Request) -> Result<Grant, GrantError> {
        let policy = r.policy.as_ref().ok_or_else(|| {
            GrantError::refused(format!("request {} has no policy to attach", r.id))
        })?;
        let principal = Principal::of(&r.target)?;
        // Fail before creating anything when the principal does not exist.
        self.check_exists(&principal).await?;
        let arn = self.create_or_adopt(r, policy).await?;
        self.attach_to(&principal, &arn).await?;
        Ok(Grant {
            policy_arn: Some(arn),
            details: Some(GrantDetails::Iam(IamDetails {
                path: PATH.into(),
                policy_name: r.policy_name.clone(),
            })),
        })
    }

    /// Detach from every principal (ours first), delete non-default versions, delete.
    /// IAM policies are never shared between grants: `holders` is not consulted.
    async fn remove(&self, r: &Request, _holders: &dyn Holders) -> Result<(), GrantError> {
        let arn = match r.grant.as_ref().and_then(|g| g.policy_arn.clone()) {
            Some(arn) => arn,
            // Attach may have crashed before recording the ARN: look it up by name and
            // only touch it when its tag says it is this request's.
            None => match self.find(&r.policy_name).await? {
                Some(arn) => {
                    let tags = self.tags(&arn).await.or_else(not_found_is_empty)?;
                    if !tags.iter().any(|(k, v)| k == TAG_REQUEST && v == &r.id) {
                        return Ok(());
                    }
                    arn
                }
                None => return Ok(()),
            },
        };
        self.detach_everywhere(&arn).await?;
        let versions = self
            .client
            .list_policy_versions()
            .policy_arn(&arn)
            .send()
            .await;
        match versions {
            Ok(out) => {
                for v in out.versions() {
                    if v.is_default_version() {
                        continue;
                    }
                    if let Some(id) = v.version_id() {
                        match self
                            .client
                            .delete_policy_version()
                            .policy_arn(&arn)
                            .version_id(id)
                            .send()
                            .await
                        {
                            Ok(_) => {}
                            Err(e) if is_code(&e, "NoSuchEntity") => {}
                            Err(e) => return Err(classify("DeletePolicyVersion", e)),
                        }
                    }
                }
            }
            Err(e) if is_code(&e, "NoSuchEntity") => return Ok(()),
            Err(e) => return Err(classify("ListPolicyVersions", e)),
        }
        match self.client.delete_policy().policy_arn(&arn).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
            Err(e) => Err(retry_later(classify("DeletePolicy", e))),
        }
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

    async fn check_exists(&self, p: &Principal<'_>) -> Result<(), GrantError> {
        match *p {
            Principal::User(name) => self
                .client
                .get_user()
                .user_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify(&format!("IAM user {name}"), e)),
            Principal::Role(name) => self
                .client
                .get_role()
                .role_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify(&format!("IAM role {name}"), e)),
        }
    }

    /// Create the policy under `/jit/`, tagged with the request; or adopt the one an
    /// earlier attempt of this request created (never anyone else's).
    async fn create_or_adopt(
        &self,
        r: &Request,
        policy: &serde_json::Value,
    ) -> Result<String, GrantError> {
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
            .tags(tag(TAG_REQUEST, &r.id)?)
            .tags(tag(TAG_SHA, &sha)?)
            .tags(tag("aws-jit:requester", &tag_value(&r.requester))?)
            .tags(tag(
                "aws-jit:expires-at",
                &r.expires_at.map(|t| t.to_string()).unwrap_or_default(),
            )?)
            .send()
            .await;
        match created {
            Ok(out) => out
                .policy
                .and_then(|p| p.arn)
                .ok_or_else(|| GrantError::backend("CreatePolicy returned no ARN")),
            Err(e) if is_code(&e, "EntityAlreadyExists") => {
                // A previous attempt got this far: adopt the policy only if it is ours.
                let arn = self.find(&r.policy_name).await?.ok_or_else(|| {
                    GrantError::refused(format!(
                        "a policy named {} already exists outside {PATH}; pick another --policy-name",
                        r.policy_name
                    ))
                })?;
                let tags = self.tags(&arn).await?;
                let tag_of =
                    |key: &str| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
                if tag_of(TAG_REQUEST) != Some(r.id.as_str())
                    || tag_of(TAG_SHA) != Some(sha.as_str())
                {
                    return Err(GrantError::refused(format!(
                        "policy {arn} already exists and belongs to another request or holds another document; \
                         pick another --policy-name"
                    )));
                }
                Ok(arn)
            }
            Err(e) => Err(classify("CreatePolicy", e)),
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

    async fn detach_everywhere(&self, arn: &str) -> Result<(), GrantError> {
        let mut marker: Option<String> = None;
        loop {
            let out = match self
                .client
                .list_entities_for_policy()
                .policy_arn(arn)
                .set_marker(marker.clone())
                .send()
                .await
            {
                Ok(o) => o,
                Err(e) if is_code(&e, "NoSuchEntity") => return Ok(()),
                Err(e) => return Err(retry_later(classify("ListEntitiesForPolicy", e))),
            };
            for u in out.policy_users() {
                if let Some(name) = u.user_name() {
                    ok_if_gone(
                        self.client
                            .detach_user_policy()
                            .user_name(name)
                            .policy_arn(arn)
                            .send()
                            .await,
                        "DetachUserPolicy",
                    )?;
                }
            }
            for role in out.policy_roles() {
                if let Some(name) = role.role_name() {
                    ok_if_gone(
                        self.client
                            .detach_role_policy()
                            .role_name(name)
                            .policy_arn(arn)
                            .send()
                            .await,
                        "DetachRolePolicy",
                    )?;
                }
            }
            for g in out.policy_groups() {
                if let Some(name) = g.group_name() {
                    ok_if_gone(
                        self.client
                            .detach_group_policy()
                            .group_name(name)
                            .policy_arn(arn)
                            .send()
                            .await,
                        "DetachGroupPolicy",
                    )?;
                }
            }
            if out.is_truncated() {
                marker = out.marker().map(str::to_string);
            } else {
                return Ok(());
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

    async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, GrantError> {
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

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn not_found_is_empty(e: GrantError) -> Result<Vec<(String, String)>, GrantError> {
    match e {
        GrantError::NotFound { .. } => Ok(Vec::new()),
        other => Err(other),
    }
}

fn ok_if_gone<T, E, R>(
    res: Result<T, aws_sdk_iam::error::SdkError<E, R>>,
    what: &str,
) -> Result<(), GrantError>
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match res {
        Ok(_) => Ok(()),
        Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
        Err(e) => Err(retry_later(classify(what, e))),
    }
}
