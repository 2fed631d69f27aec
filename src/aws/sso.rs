//! IAM Identity Center: a temporary account assignment of a permission set to one user.
//!
//! Two modes, chosen by the request's target:
//! - existing permission set (`--permission-set NAME`): only the assignment is made, and it
//!   may be shared by several overlapping grants; the last one out removes it;
//! - ephemeral permission set (a policy): a permission set named from the request holds the
//!   approved policy inline, with a session duration of at most min(TTL, 12h); it is
//!   provisioned to the account, assigned, and deleted again on removal.
//!
//! CreateAccountAssignment, DeleteAccountAssignment and ProvisionPermissionSet are
//! asynchronous in AWS: each is polled to a terminal state with backoff, and a FAILED
//! status is an error carrying AWS's failure reason, never a success.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
use aws_sdk_ssoadmin::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssoadmin::types::{PrincipalType, ProvisionTargetType, StatusValues, Tag, TargetType};
use serde::{Deserialize, Serialize};

use super::{classify, is_code, retry_later, GrantError};
use crate::request::{Grant, Request, Target};

pub const TAG_REQUEST: &str = "aws-jit:request-id";
/// Identity Center caps permission set names at 32 characters.
pub const MAX_PERMISSION_SET_NAME: usize = 32;
/// Identity Center session durations run from 1 to 12 hours.
pub const MIN_SESSION: Duration = Duration::from_secs(3600);
pub const MAX_SESSION: Duration = Duration::from_secs(12 * 3600);

/// Settings read from the environment.
#[derive(Debug, Clone)]
pub struct SsoSettings {
    /// SSO_INSTANCE_ARN: skips ListInstances.
    pub instance_arn: Option<String>,
    /// IDENTITY_STORE_ID: the identity store of that instance.
    pub identity_store_id: Option<String>,
    /// JIT_SSO_POLL_TIMEOUT: how long one asynchronous operation may stay IN_PROGRESS (or
    /// keep answering Conflict/Throttling) before the attempt is given up and retried later.
    pub poll_timeout: Duration,
    /// JIT_SSO_POLL_INTERVAL: the first wait between polls; doubles up to `max_interval`.
    pub poll_interval: Duration,
    pub max_interval: Duration,
}

impl SsoSettings {
    pub fn from_env() -> Result<SsoSettings, GrantError> {
        // Sub-second values are allowed here (tests poll fast), unlike `--ttl`.
        let dur = |names: &[&str], default: Duration| -> Result<Duration, GrantError> {
            match crate::config::var(names) {
                Some(v) => match humantime::parse_duration(&v) {
                    Ok(d) if d >= Duration::from_millis(1) => Ok(d),
                    _ => Err(GrantError::Refused(format!(
                        "{}: `{v}` is not a duration of at least 1ms; use forms like 500ms, 2s, 5m",
                        names[0]
                    ))),
                },
                None => Ok(default),
            }
        };
        let poll_timeout = dur(&["JIT_SSO_POLL_TIMEOUT"], Duration::from_secs(300))?;
        let poll_interval = dur(&["JIT_SSO_POLL_INTERVAL"], Duration::from_secs(1))?;
        Ok(SsoSettings {
            instance_arn: crate::config::var(&["SSO_INSTANCE_ARN"]),
            identity_store_id: crate::config::var(&["IDENTITY_STORE_ID"]),
            poll_timeout,
            poll_interval,
            max_interval: Duration::from_secs(15).max(poll_interval),
        })
    }
}

/// The outcome of one asynchronous Identity Center operation, as recorded on the grant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpStatus {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// Everything removal needs, stored in `Grant.details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoDetails {
    /// Always "sso": tells these details apart from other targets'.
    pub kind: String,
    pub instance_arn: String,
    pub identity_store_id: String,
    pub user_id: String,
    pub user_name: String,
    pub account_id: String,
    pub permission_set_arn: String,
    pub permission_set_name: String,
    /// Created for this request (and deleted on removal), or an existing one.
    pub ephemeral: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<OpStatus>,
    /// The account assignment: its status is what `status` shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<OpStatus>,
    /// The assignment was already present when this grant attached (another grant's, or
    /// an earlier attempt of this one).
    #[serde(default)]
    pub assignment_existed: bool,
}

impl SsoDetails {
    pub fn from_grant(g: &Grant) -> Option<SsoDetails> {
        serde_json::from_value::<SsoDetails>(g.details.clone())
            .ok()
            .filter(|d| d.kind == "sso")
    }
}

/// The ephemeral permission set name: the request's policy name when it fits Identity
/// Center's 32 characters, else the request id (`jit-` + 12 characters).
pub fn permission_set_name(r: &Request) -> String {
    let ok = |n: &str| {
        !n.is_empty()
            && n.len() <= MAX_PERMISSION_SET_NAME
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    };
    if ok(&r.policy_name) {
        r.policy_name.clone()
    } else if ok(&r.id) {
        r.id.clone()
    } else {
        r.id.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(MAX_PERMISSION_SET_NAME)
            .collect()
    }
}

/// ISO-8601 session duration: the TTL rounded down to whole minutes, within AWS's 1h..12h.
/// A TTL under one hour still gets PT1H, the shortest session Identity Center allows.
pub fn session_duration(ttl: Duration) -> String {
    let d = ttl.clamp(MIN_SESSION, MAX_SESSION);
    let mins = d.as_secs() / 60;
    let (h, m) = (mins / 60, mins % 60);
    if m == 0 {
        format!("PT{h}H")
    } else {
        format!("PT{h}H{m}M")
    }
}

/// The marker that says a permission set belongs to this request.
fn description_for(r: &Request) -> String {
    let text = format!(
        "aws-jit {} for {} until {}",
        r.id,
        r.requester,
        r.expires_at.map(|t| t.to_string()).unwrap_or_default()
    );
    text.chars()
        .filter(|c| (' '..='~').contains(c))
        .take(700)
        .collect()
}

fn owned_by(description: Option<&str>, id: &str) -> bool {
    description
        .is_some_and(|d| d == format!("aws-jit {id}") || d.starts_with(&format!("aws-jit {id} ")))
}

fn retryable<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(
        e.code(),
        Some(
            "ConflictException"
                | "ThrottlingException"
                | "TooManyRequestsException"
                | "InternalServerException"
                | "ServiceUnavailableException"
        )
    ) || matches!(e, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_))
}

fn op_status(
    status: Option<&StatusValues>,
    request_id: Option<&str>,
    reason: Option<&str>,
) -> OpStatus {
    OpStatus {
        status: status
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "UNKNOWN".into()),
        request_id: request_id.map(str::to_string),
        failure_reason: reason.map(str::to_string),
    }
}

/// What removal must act on: either from the recorded grant or looked up again.
enum Removal {
    Known(Box<SsoDetails>),
    /// Nothing of this request can exist in AWS.
    Nothing,
}

pub struct SsoGrantor {
    admin: aws_sdk_ssoadmin::Client,
    store: aws_sdk_identitystore::Client,
    settings: SsoSettings,
}

impl SsoGrantor {
    pub fn new(sdk: &aws_config::SdkConfig, settings: SsoSettings) -> Self {
        SsoGrantor {
            admin: aws_sdk_ssoadmin::Client::new(sdk),
            store: aws_sdk_identitystore::Client::new(sdk),
            settings,
        }
    }

    // ---------- attach ----------

    pub async fn attach(&self, r: &Request) -> Result<Grant, GrantError> {
        let Target::Sso {
            user,
            account_id,
            permission_set,
        } = &r.target
        else {
            return Err(GrantError::Refused("not an Identity Center target".into()));
        };
        // A grant already attached converges on the recorded objects.
        let recorded = r.grant.as_ref().and_then(SsoDetails::from_grant);
        let (instance_arn, identity_store_id) = match &recorded {
            Some(d) => (d.instance_arn.clone(), d.identity_store_id.clone()),
            None => self.instance().await?,
        };
        // Fail before creating anything when the user is unknown.
        let (user_id, user_name) = match &recorded {
            Some(d) => (d.user_id.clone(), d.user_name.clone()),
            None => self.find_user(&identity_store_id, user).await?,
        };
        let mut d = SsoDetails {
            kind: "sso".into(),
            instance_arn,
            identity_store_id,
            user_id,
            user_name,
            account_id: account_id.clone(),
            permission_set_arn: String::new(),
            permission_set_name: String::new(),
            ephemeral: permission_set.is_none(),
            session_duration: None,
            provisioning: None,
            assignment: None,
            assignment_existed: false,
        };
        match permission_set {
            Some(ps) => {
                let (arn, name) = match &recorded {
                    Some(rd) => (rd.permission_set_arn.clone(), rd.permission_set_name.clone()),
                    None => self.find_permission_set(&d.instance_arn, ps).await?.ok_or_else(|| {
                        GrantError::Refused(format!(
                            "no permission set named `{ps}` in Identity Center instance {}; check --permission-set \
                             (names are case-sensitive) or omit it and give a policy for a temporary permission set",
                            d.instance_arn
                        ))
                    })?,
                };
                d.permission_set_arn = arn;
                d.permission_set_name = name;
                self.ensure_assignment(&mut d).await?;
            }
            None => {
                let created_now = self
                    .ephemeral_permission_set(r, &mut d, recorded.as_ref())
                    .await?;
                if let Err(e) = self.provision_and_assign(r, &mut d).await {
                    if created_now {
                        // Best effort: leave nothing half-made. When this fails too, the
                        // request stays in the expiry index and `expire` finds the
                        // permission set by name and removes it.
                        let _ = self.delete_assignment(&d).await;
                        let _ = self.delete_permission_set(&d).await;
                    }
                    return Err(e);
                }
            }
        }
        let details = serde_json::to_value(&d)
            .map_err(|e| GrantError::Backend(format!("grant details: {e}")))?;
        Ok(Grant {
            policy_arn: None,
            details,
        })
    }

    /// Create (or adopt, when an earlier attempt of this request made it) the ephemeral
    /// permission set. True when it was created by this call.
    async fn ephemeral_permission_set(
        &self,
        r: &Request,
        d: &mut SsoDetails,
        recorded: Option<&SsoDetails>,
    ) -> Result<bool, GrantError> {
        let name = permission_set_name(r);
        let duration = session_duration(r.ttl());
        d.permission_set_name = name.clone();
        d.session_duration = Some(duration.clone());
        if let Some(rd) = recorded.filter(|rd| !rd.permission_set_arn.is_empty()) {
            d.permission_set_arn = rd.permission_set_arn.clone();
            return Ok(false);
        }
        let tag = Tag::builder()
            .key(TAG_REQUEST)
            .value(&r.id)
            .build()
            .map_err(|e| GrantError::Refused(format!("tag {TAG_REQUEST}: {e}")))?;
        let description = description_for(r);
        // Not through `with_retry`: here ConflictException means "the name is taken",
        // which retrying cannot change (the SDK still retries throttling by itself).
        let created = self
            .admin
            .create_permission_set()
            .instance_arn(&d.instance_arn)
            .name(&name)
            .description(&description)
            .session_duration(&duration)
            .tags(tag)
            .send()
            .await;
        match created {
            Ok(out) => {
                d.permission_set_arn = out
                    .permission_set()
                    .and_then(|p| p.permission_set_arn())
                    .map(str::to_string)
                    .ok_or_else(|| {
                        GrantError::Backend("CreatePermissionSet returned no ARN".into())
                    })?;
                Ok(true)
            }
            // AWS refuses a second permission set with the same name: adopt it only when
            // it is this request's (an earlier attempt got this far).
            Err(e) if is_code(&e, "ConflictException") => {
                let found = self
                    .find_permission_set_described(&d.instance_arn, &name)
                    .await?;
                match found {
                    Some((arn, desc)) if owned_by(desc.as_deref(), &r.id) => {
                        d.permission_set_arn = arn;
                        Ok(false)
                    }
                    _ => Err(GrantError::Refused(format!(
                        "a permission set named `{name}` already exists and does not belong to {}; \
                         pick another --policy-name (at most {MAX_PERMISSION_SET_NAME} characters)",
                        r.id
                    ))),
                }
            }
            Err(e) => Err(classify("CreatePermissionSet", e)),
        }
    }

    async fn provision_and_assign(
        &self,
        r: &Request,
        d: &mut SsoDetails,
    ) -> Result<(), GrantError> {
        let policy = r.policy.as_ref().ok_or_else(|| {
            GrantError::Refused(format!(
                "request {} has no policy for its permission set",
                r.id
            ))
        })?;
        let doc = crate::digest::canonical_json(policy);
        self.with_retry(|| {
            self.admin
                .put_inline_policy_to_permission_set()
                .instance_arn(&d.instance_arn)
                .permission_set_arn(&d.permission_set_arn)
                .inline_policy(&doc)
                .send()
        })
        .await
        .map_err(|e| classify("PutInlinePolicyToPermissionSet", e))?;
        d.provisioning = Some(self.provision(d).await?);
        self.ensure_assignment(d).await
    }

    /// ProvisionPermissionSet to the one account, polled until SUCCEEDED or FAILED.
    async fn provision(&self, d: &SsoDetails) -> Result<OpStatus, GrantError> {
        let out = self
            .with_retry(|| {
                self.admin
                    .provision_permission_set()
                    .instance_arn(&d.instance_arn)
                    .permission_set_arn(&d.permission_set_arn)
                    .target_type(ProvisionTargetType::AwsAccount)
                    .target_id(&d.account_id)
                    .send()
            })
            .await
            .map_err(|e| classify("ProvisionPermissionSet", e))?;
        let s = out.permission_set_provisioning_status();
        let first = op_status(
            s.and_then(|s| s.status()),
            s.and_then(|s| s.request_id()),
            s.and_then(|s| s.failure_reason()),
        );
        let what = format!(
            "provisioning permission set {} to account {}",
            d.permission_set_name, d.account_id
        );
        self.poll(&what, first, |id| async move {
            let out = self
                .admin
                .describe_permission_set_provisioning_status()
                .instance_arn(&d.instance_arn)
                .provision_permission_set_request_id(id)
                .send()
                .await?;
            let s = out.permission_set_provisioning_status();
            Ok(op_status(
                s.and_then(|s| s.status()),
                s.and_then(|s| s.request_id()),
                s.and_then(|s| s.failure_reason()),
            ))
        })
        .await
    }

    /// Make sure the user holds the permission set in the account; create the assignment
    /// when missing and poll it to completion.
    async fn ensure_assignment(&self, d: &mut SsoDetails) -> Result<(), GrantError> {
        if self.assignment_exists(d).await? {
            d.assignment_existed = true;
            d.assignment = Some(OpStatus {
                status: "SUCCEEDED".into(),
                request_id: None,
                failure_reason: None,
            });
            return Ok(());
        }
        let out = self
            .with_retry(|| {
                self.admin
                    .create_account_assignment()
                    .instance_arn(&d.instance_arn)
                    .target_type(TargetType::AwsAccount)
                    .target_id(&d.account_id)
                    .permission_set_arn(&d.permission_set_arn)
                    .principal_type(PrincipalType::User)
                    .principal_id(&d.user_id)
                    .send()
            })
            .await
            .map_err(|e| classify("CreateAccountAssignment", e))?;
        let s = out.account_assignment_creation_status();
        let first = op_status(
            s.and_then(|s| s.status()),
            s.and_then(|s| s.request_id()),
            s.and_then(|s| s.failure_reason()),
        );
        let what = format!(
            "assigning permission set {} to {} in account {}",
            d.permission_set_name, d.user_name, d.account_id
        );
        let inst = d.instance_arn.clone();
        let done = self
            .poll(&what, first, |id| {
                let inst = inst.clone();
                async move {
                    let out = self
                        .admin
                        .describe_account_assignment_creation_status()
                        .instance_arn(inst)
                        .account_assignment_creation_request_id(id)
                        .send()
                        .await?;
                    let s = out.account_assignment_creation_status();
                    Ok(op_status(
                        s.and_then(|s| s.status()),
                        s.and_then(|s| s.request_id()),
                        s.and_then(|s| s.failure_reason()),
                    ))
                }
            })
            .await?;
        d.assignment = Some(done);
        Ok(())
    }

    async fn assignment_exists(&self, d: &SsoDetails) -> Result<bool, GrantError> {
        Ok(self
            .assignment_principals(d)
            .await?
            .iter()
            .any(|p| p == &d.user_id))
    }

    /// The user principals holding this permission set in this account.
    async fn assignment_principals(&self, d: &SsoDetails) -> Result<Vec<String>, GrantError> {
        let mut token: Option<String> = None;
        let mut users = Vec::new();
        loop {
            let out = self
                .with_retry(|| {
                    self.admin
                        .list_account_assignments()
                        .instance_arn(&d.instance_arn)
                        .account_id(&d.account_id)
                        .permission_set_arn(&d.permission_set_arn)
                        .set_next_token(token.clone())
                        .send()
                })
                .await
                .map_err(|e| classify("ListAccountAssignments", e))?;
            users.extend(
                out.account_assignments()
                    .iter()
                    .filter(|a| a.principal_type() == Some(&PrincipalType::User))
                    .filter_map(|a| a.principal_id().map(str::to_string)),
            );
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(users),
            }
        }
    }

    // ---------- remove ----------

    /// Remove the grant. `still_needed` asks the store whether another grant (attaching
    /// or active) holds the same (user, account, existing permission set); it is asked
    /// before deleting and again after the deletion completed, so a grant that attached
    /// meanwhile gets its assignment back (last one out, without the race).
    pub async fn remove<F>(&self, r: &Request, holders: F) -> Result<(), GrantError>
    where
        F: Fn() -> Result<Vec<super::Holder>, GrantError>,
    {
        let d = match self.removal_target(r).await.map_err(retry_later)? {
            Removal::Known(d) => *d,
            Removal::Nothing => return Ok(()),
        };
        if d.ephemeral {
            self.delete_assignment(&d).await.map_err(retry_later)?;
            return self.delete_permission_set(&d).await.map_err(retry_later);
        }
        if self.needed_by(&d, holders()?).await.map_err(retry_later)? {
            // Another grant of the same person needs the assignment: it stays (and is
            // restored if a previous removal's deletion raced with that grant's attach).
            let mut keep = d.clone();
            return self.ensure_assignment(&mut keep).await.map_err(retry_later);
        }
        self.delete_assignment(&d).await.map_err(retry_later)?;
        if self.needed_by(&d, holders()?).await.map_err(retry_later)? {
            let mut keep = d.clone();
            return self.ensure_assignment(&mut keep).await.map_err(retry_later);
        }
        Ok(())
    }

    /// Is one of `holders` the same identity-store user as `d`? Holders that have not
    /// recorded a user id yet (still attaching) are resolved now, so a user named by user
    /// name in one request and by email in another is recognised as one person, and a
    /// different person never keeps someone else's assignment alive.
    async fn needed_by(
        &self,
        d: &SsoDetails,
        holders: Vec<super::Holder>,
    ) -> Result<bool, GrantError> {
        if d.user_id.is_empty() {
            return Ok(false);
        }
        for h in holders {
            let id = match h.user_id {
                Some(id) => id,
                None => match self.find_user(&d.identity_store_id, &h.user).await {
                    Ok((id, _)) => id,
                    Err(GrantError::NotFound(_)) | Err(GrantError::Refused(_)) => continue,
                    Err(e) => return Err(e),
                },
            };
            if id == d.user_id {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The recorded details, or (when attach failed or crashed before recording them)
    /// the same objects looked up again.
    async fn removal_target(&self, r: &Request) -> Result<Removal, GrantError> {
        if let Some(d) = r.grant.as_ref().and_then(SsoDetails::from_grant) {
            return Ok(Removal::Known(Box::new(d)));
        }
        let Target::Sso {
            user,
            account_id,
            permission_set,
        } = &r.target
        else {
            return Ok(Removal::Nothing);
        };
        let (instance_arn, identity_store_id) = self.instance().await?;
        let (user_id, user_name) = match self.find_user(&identity_store_id, user).await {
            Ok(u) => u,
            Err(GrantError::NotFound(_)) | Err(GrantError::Refused(_))
                if permission_set.is_some() =>
            {
                return Ok(Removal::Nothing)
            }
            Err(GrantError::NotFound(_)) | Err(GrantError::Refused(_)) => {
                (String::new(), user.clone())
            }
            Err(e) => return Err(e),
        };
        let (arn, name) = match permission_set {
            Some(ps) => match self.find_permission_set(&instance_arn, ps).await? {
                Some(found) => found,
                None => return Ok(Removal::Nothing),
            },
            None => {
                let name = permission_set_name(r);
                match self
                    .find_permission_set_described(&instance_arn, &name)
                    .await?
                {
                    Some((arn, desc)) if owned_by(desc.as_deref(), &r.id) => (arn, name),
                    _ => return Ok(Removal::Nothing),
                }
            }
        };
        Ok(Removal::Known(Box::new(SsoDetails {
            kind: "sso".into(),
            instance_arn,
            identity_store_id,
            user_id,
            user_name,
            account_id: account_id.clone(),
            permission_set_arn: arn,
            permission_set_name: name,
            ephemeral: permission_set.is_none(),
            session_duration: None,
            provisioning: None,
            assignment: None,
            assignment_existed: false,
        })))
    }

    /// Delete the user's assignment (all user assignments of an ephemeral permission set,
    /// which only this request uses) and poll each deletion to completion.
    async fn delete_assignment(&self, d: &SsoDetails) -> Result<(), GrantError> {
        let principals = match self.assignment_principals(d).await {
            Ok(p) => p,
            Err(GrantError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        for principal in principals
            .iter()
            .filter(|p| d.ephemeral || **p == d.user_id)
        {
            let res = self
                .with_retry(|| {
                    self.admin
                        .delete_account_assignment()
                        .instance_arn(&d.instance_arn)
                        .target_type(TargetType::AwsAccount)
                        .target_id(&d.account_id)
                        .permission_set_arn(&d.permission_set_arn)
                        .principal_type(PrincipalType::User)
                        .principal_id(principal)
                        .send()
                })
                .await;
            let out = match res {
                Ok(out) => out,
                Err(e) if is_code(&e, "ResourceNotFoundException") => continue,
                Err(e) => return Err(classify("DeleteAccountAssignment", e)),
            };
            let s = out.account_assignment_deletion_status();
            let first = op_status(
                s.and_then(|s| s.status()),
                s.and_then(|s| s.request_id()),
                s.and_then(|s| s.failure_reason()),
            );
            let what = format!(
                "removing permission set {} from user {principal} in account {}",
                d.permission_set_name, d.account_id
            );
            let inst = d.instance_arn.clone();
            self.poll(&what, first, |id| {
                let inst = inst.clone();
                async move {
                    let out = self
                        .admin
                        .describe_account_assignment_deletion_status()
                        .instance_arn(inst)
                        .account_assignment_deletion_request_id(id)
                        .send()
                        .await?;
                    let s = out.account_assignment_deletion_status();
                    Ok(op_status(
                        s.and_then(|s| s.status()),
                        s.and_then(|s| s.request_id()),
                        s.and_then(|s| s.failure_reason()),
                    ))
                }
            })
            .await?;
        }
        Ok(())
    }

    /// Delete the ephemeral permission set. AWS answers Conflict while it is still being
    /// deprovisioned after the last assignment went; that is retried with backoff.
    async fn delete_permission_set(&self, d: &SsoDetails) -> Result<(), GrantError> {
        let res = self
            .with_retry(|| {
                self.admin
                    .delete_permission_set()
                    .instance_arn(&d.instance_arn)
                    .permission_set_arn(&d.permission_set_arn)
                    .send()
            })
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "ResourceNotFoundException") => Ok(()),
            Err(e) => Err(classify("DeletePermissionSet", e)),
        }
    }

    // ---------- lookups ----------

    /// (instance ARN, identity store id): from SSO_INSTANCE_ARN / IDENTITY_STORE_ID when
    /// both are set, else from ListInstances (which must then show exactly one match).
    pub async fn instance(&self) -> Result<(String, String), GrantError> {
        if let (Some(a), Some(s)) = (
            &self.settings.instance_arn,
            &self.settings.identity_store_id,
        ) {
            return Ok((a.clone(), s.clone()));
        }
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .with_retry(|| {
                    self.admin
                        .list_instances()
                        .set_next_token(token.clone())
                        .send()
                })
                .await
                .map_err(|e| {
                    classify(
                        "ListInstances (set SSO_INSTANCE_ARN and IDENTITY_STORE_ID to skip it)",
                        e,
                    )
                })?;
            for i in out.instances() {
                if let (Some(a), Some(s)) = (i.instance_arn(), i.identity_store_id()) {
                    all.push((a.to_string(), s.to_string()));
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        let matching: Vec<_> = all
            .iter()
            .filter(|(a, s)| {
                self.settings
                    .instance_arn
                    .as_ref()
                    .is_none_or(|want| want == a)
                    && self
                        .settings
                        .identity_store_id
                        .as_ref()
                        .is_none_or(|want| want == s)
            })
            .cloned()
            .collect();
        match matching.as_slice() {
            [one] => Ok(one.clone()),
            [] if all.is_empty() => Err(GrantError::Refused(
                "no IAM Identity Center instance is visible to these credentials: enable Identity Center, \
                 use credentials of its management or delegated administrator account, or set \
                 SSO_INSTANCE_ARN and IDENTITY_STORE_ID"
                    .into(),
            )),
            [] => Err(GrantError::Refused(format!(
                "no IAM Identity Center instance matches SSO_INSTANCE_ARN / IDENTITY_STORE_ID; visible: {}",
                all.iter().map(|(a, s)| format!("{a} ({s})")).collect::<Vec<_>>().join(", ")
            ))),
            several => Err(GrantError::Refused(format!(
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
            .map_err(|e| GrantError::Refused(format!("--sso-user: {e}")))?;
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
        let mut matches: Vec<(String, String)> = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .with_retry(|| {
                    self.store
                        .list_users()
                        .identity_store_id(store_id)
                        .set_next_token(token.clone())
                        .send()
                })
                .await
                .map_err(|e| classify("ListUsers", e))?;
            for u in out.users() {
                if u.emails()
                    .iter()
                    .any(|e| e.value().is_some_and(|v| v.eq_ignore_ascii_case(who)))
                {
                    matches.push((
                        u.user_id().to_string(),
                        u.user_name().unwrap_or(u.user_id()).to_string(),
                    ));
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        match matches.as_slice() {
            [one] => Ok(one.clone()),
            // Refused rather than NotFound: NotFound reads as "request ... not found".
            [] => Err(GrantError::Refused(format!(
                "no Identity Center user has the user name or email `{who}` in identity store {store_id}; \
                 check --sso-user"
            ))),
            several => Err(GrantError::Refused(format!(
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

    /// (ARN, description) of the permission set named `name`. Identity Center has no
    /// lookup by name: list the instance's permission sets and describe each.
    async fn find_permission_set_described(
        &self,
        instance_arn: &str,
        name: &str,
    ) -> Result<Option<(String, Option<String>)>, GrantError> {
        let mut token: Option<String> = None;
        loop {
            let out = self
                .with_retry(|| {
                    self.admin
                        .list_permission_sets()
                        .instance_arn(instance_arn)
                        .set_next_token(token.clone())
                        .send()
                })
                .await
                .map_err(|e| classify("ListPermissionSets", e))?;
            for arn in out.permission_sets() {
                let described = self
                    .with_retry(|| {
                        self.admin
                            .describe_permission_set()
                            .instance_arn(instance_arn)
                            .permission_set_arn(arn)
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
                    return Ok(Some((arn.clone(), ps.description().map(str::to_string))));
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(None),
            }
        }
    }

    // ---------- retry and polling ----------

    /// Call again on Conflict, Throttling and server-side errors, with backoff, until the
    /// poll timeout runs out; the SDK's own retries sit inside each call.
    async fn with_retry<T, E, R, F, Fut>(&self, mut call: F) -> Result<T, SdkError<E, R>>
    where
        E: ProvideErrorMetadata,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
    {
        let deadline = Instant::now() + self.settings.poll_timeout;
        let mut wait = self.settings.poll_interval;
        loop {
            match call().await {
                Err(e) if retryable(&e) && Instant::now() + wait < deadline => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(self.settings.max_interval);
                }
                other => return other,
            }
        }
    }

    /// Poll an asynchronous operation to SUCCEEDED (Ok) or FAILED (Err with AWS's reason).
    /// Still IN_PROGRESS at the deadline is an error too: the next attempt looks again.
    async fn poll<F, Fut, E, R>(
        &self,
        what: &str,
        first: OpStatus,
        mut describe: F,
    ) -> Result<OpStatus, GrantError>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<OpStatus, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let deadline = Instant::now() + self.settings.poll_timeout;
        let mut wait = self.settings.poll_interval;
        let mut cur = first;
        loop {
            match cur.status.as_str() {
                "SUCCEEDED" => return Ok(cur),
                "FAILED" => {
                    return Err(GrantError::Backend(format!(
                        "{what}: AWS reports FAILED: {} (request id {})",
                        cur.failure_reason.as_deref().unwrap_or("no reason given"),
                        cur.request_id.as_deref().unwrap_or("unknown")
                    )))
                }
                _ => {}
            }
            let Some(id) = cur.request_id.clone() else {
                return Err(GrantError::Backend(format!(
                    "{what}: AWS reported {} without a request id to follow",
                    cur.status
                )));
            };
            if Instant::now() + wait > deadline {
                return Err(GrantError::Backend(format!(
                    "{what}: still {} after {} (request id {id}); it is retried by the next run \
                     (raise JIT_SSO_POLL_TIMEOUT to wait longer)",
                    cur.status,
                    crate::time::human(self.settings.poll_timeout)
                )));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.settings.max_interval);
            match describe(id.clone()).await {
                Ok(next) => {
                    cur = OpStatus {
                        request_id: next.request_id.clone().or(Some(id)),
                        ..next
                    }
                }
                // Transient trouble reading the status: keep polling until the deadline.
                Err(e) if retryable(&e) => {}
                Err(e) => return Err(classify(&format!("{what}: reading its status"), e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_duration_is_ttl_within_aws_bounds() {
        assert_eq!(session_duration(Duration::from_secs(2 * 3600)), "PT2H");
        assert_eq!(
            session_duration(Duration::from_secs(90 * 60 + 30)),
            "PT1H30M"
        );
        assert_eq!(session_duration(Duration::from_secs(600)), "PT1H");
        assert_eq!(session_duration(Duration::from_secs(24 * 3600)), "PT12H");
    }

    #[test]
    fn ownership_marker_is_exact() {
        assert!(owned_by(Some("aws-jit jit-abc for x until y"), "jit-abc"));
        assert!(!owned_by(Some("aws-jit jit-abcd for x"), "jit-abc"));
        assert!(!owned_by(None, "jit-abc"));
    }
}
