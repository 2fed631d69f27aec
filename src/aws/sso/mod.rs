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

mod adopt;
mod contents;
mod lookup;
mod naming;
mod ops;
mod origin;
mod owned;

use std::time::Duration;

use aws_sdk_ssoadmin::types::Tag;

use naming::{description_for, owned_by, owned_here, TAG_REQUEST};
pub use naming::{permission_set_name, session_duration, MAX_PERMISSION_SET_NAME};

use super::{
    classify, is_code, retry_later, AttachEnv, AttachFailure, Backoff, GrantError, Grantor,
    Inspection, Owned, Removed,
};
use crate::grant::{Grant, GrantDetails, Holder, Holders, SsoDetails, SsoKind};
use crate::request::{Request, Target};

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
                    _ => Err(GrantError::refused(format!(
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

/// What removal must act on: either from the recorded grant or looked up again.
enum Removal {
    Known(Box<SsoDetails>),
    /// Nothing of this request can exist in AWS.
    Nothing,
}

pub struct SsoGrantor {
    admin: aws_sdk_ssoadmin::Client,
    store: aws_sdk_identitystore::Client,
    /// Reads the IAM policies an existing permission set attaches.
    iam: aws_sdk_iam::Client,
    settings: SsoSettings,
    /// Marked on every permission set this installation creates (tag and description).
    installation: String,
}

impl SsoGrantor {
    pub fn new(sdk: &aws_config::SdkConfig, settings: SsoSettings, installation: &str) -> Self {
        SsoGrantor {
            admin: aws_sdk_ssoadmin::Client::new(sdk),
            store: aws_sdk_identitystore::Client::new(sdk),
            iam: aws_sdk_iam::Client::new(sdk),
            settings,
            installation: installation.to_string(),
        }
    }
}

/// The grant as recorded while attaching: what is known so far.
fn grant_of(d: &SsoDetails) -> Grant {
    Grant {
        policy_arn: None,
        details: Some(GrantDetails::Sso(Box::new(d.clone()))),
    }
}

/// A failure AWS reported for certain (a refusal, a FAILED status, a missing object):
/// the call changed nothing.
fn certain(e: &GrantError) -> bool {
    matches!(
        e,
        GrantError::Refused { .. }
            | GrantError::Denied { .. }
            | GrantError::NotFound { .. }
            | GrantError::AwsFailed { .. }
    )
}

impl Grantor for SsoGrantor {
    /// The user must exist (their user name and emails are the beneficiary); an existing
    /// permission set must exist, and is read whole.
    async fn inspect(&self, target: &Target) -> Result<Inspection, GrantError> {
        let Target::Sso {
            user,
            account_id,
            permission_set,
        } = target
        else {
            return Err(GrantError::refused("not an Identity Center target"));
        };
        let (instance_arn, store_id) = self.instance().await?;
        let beneficiary = Some(self.beneficiary(&store_id, user).await?);
        let contents = match permission_set {
            Some(ps) => Some(self.contents(&instance_arn, account_id, ps).await?),
            None => None,
        };
        Ok(Inspection {
            beneficiary,
            contents,
            canonical: None,
        })
    }

    async fn attach(&self, r: &Request, env: &AttachEnv<'_>) -> Result<Grant, AttachFailure> {
        let before = AttachFailure::before;
        let Target::Sso {
            user,
            account_id,
            permission_set,
        } = &r.target
        else {
            return Err(before(GrantError::refused("not an Identity Center target")));
        };
        // A grant already attached (or recorded by an earlier attempt) converges on the
        // recorded objects.
        let recorded = r.grant.as_ref().and_then(Grant::sso).cloned();
        let (instance_arn, identity_store_id) = match &recorded {
            Some(d) => (d.instance_arn.clone(), d.identity_store_id.clone()),
            None => self.instance().await.map_err(before)?,
        };
        // Fail before creating anything when the user is unknown.
        let (user_id, user_name) = match &recorded {
            Some(d) => (d.user_id.clone(), d.user_name.clone()),
            None => self
                .find_user(&identity_store_id, user)
                .await
                .map_err(before)?,
        };
        let mut d = SsoDetails {
            kind: SsoKind,
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
                // The ARN read when the request was made: one Describe instead of a
                // search through every permission set of the instance.
                let by = r
                    .permission_set_contents
                    .as_ref()
                    .map(|c| c.arn.as_str())
                    .unwrap_or(ps);
                let decided = recorded.filter(|rd| !rd.permission_set_arn.is_empty());
                let (arn, name) = match &decided {
                    Some(rd) => (rd.permission_set_arn.clone(), rd.permission_set_name.clone()),
                    None => self
                        .find_permission_set(&d.instance_arn, by)
                        .await
                        .map_err(before)?
                        .ok_or_else(|| before(GrantError::refused(format!(
                            "no permission set named `{ps}` in Identity Center instance {}; check --permission-set \
                             (names are case-sensitive) or omit it and give a policy for a temporary permission set",
                            d.instance_arn
                        ))))?,
                };
                d.permission_set_arn = arn;
                d.permission_set_name = name;
                let earlier = decided.map(|rd| rd.assignment_existed);
                let key = origin::assignment_key(&d);
                // Decided, recorded and created under the assignment's lock: concurrent
                // attaches and removals of it take turns (see `origin.rs`).
                origin::locked(
                    env.holders,
                    &key,
                    self.assign_existing(r, &mut d, earlier, env, &key),
                )
                .await
                .map_err(before)??;
            }
            None => {
                let created_now = self
                    .ephemeral_permission_set(r, &mut d, recorded.as_ref())
                    .await?;
                // Taken over meanwhile: stop before the permission set is assigned.
                if let Err(e) = env.progress.check() {
                    return Err(AttachFailure::after(e.into(), Some(grant_of(&d))));
                }
                if let Err(e) = self.provision_and_assign(r, &mut d).await {
                    if created_now && certain(&e) {
                        // Leave nothing half-made. When this fails too, the request stays
                        // in the expiry index (attaching) and `expire` removes it.
                        let undone = self.delete_assignment(&d).await.is_ok()
                            && self.delete_permission_set(&d).await.is_ok();
                        if undone {
                            return Err(before(e));
                        }
                    }
                    return Err(AttachFailure::after(e, Some(grant_of(&d))));
                }
            }
        }
        Ok(grant_of(&d))
    }

    /// Remove the grant. `holders` names the other grants (attaching or active) on the
    /// same (account, existing permission set); it is asked before deleting and again after
    /// the deletion completed, so a grant that attached meanwhile gets its assignment back
    /// (last one out, without the race). A standing assignment (there before the grant,
    /// held by no other aws-jit grant) is never deleted.
    async fn remove(&self, r: &Request, holders: &dyn Holders) -> Result<Removed, GrantError> {
        let d = match self.removal_target(r).await.map_err(retry_later)? {
            Removal::Known(d) => *d,
            Removal::Nothing => return Ok(Removed::all()),
        };
        self.settle_creation(&d).await.map_err(retry_later)?;
        if d.ephemeral {
            self.delete_assignment(&d).await.map_err(retry_later)?;
            self.delete_permission_set(&d).await.map_err(retry_later)?;
            return Ok(Removed::all());
        }
        if d.assignment_existed {
            return Ok(Removed::keeping(format!(
                "the assignment of permission set {} to {} in account {} stays: it existed before this grant",
                d.permission_set_name, d.user_name, d.account_id
            )));
        }
        let key = origin::assignment_key(&d);
        origin::locked(holders, &key, self.remove_shared(&d, holders, &key))
            .await
            .and_then(|done| done)
            .map_err(retry_later)
    }

    async fn list_owned(
        &self,
        backoff: &Backoff,
        concurrency: usize,
    ) -> Result<Vec<Owned>, GrantError> {
        owned::list(self, backoff, concurrency).await
    }

    async fn remove_owned(&self, o: &Owned) -> Result<Removed, GrantError> {
        owned::remove(self, o).await
    }
}

impl SsoGrantor {
    /// Whether the user holds the permission set in the account now (drift check).
    pub async fn assigned(&self, d: &SsoDetails) -> Result<bool, GrantError> {
        self.assignment_exists(d).await
    }

    /// Create (or adopt, when an earlier attempt of this request made it) the ephemeral
    /// permission set. True when it was created by this call.
    async fn ephemeral_permission_set(
        &self,
        r: &Request,
        d: &mut SsoDetails,
        recorded: Option<&SsoDetails>,
    ) -> Result<bool, AttachFailure> {
        let before = AttachFailure::before;
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
            .map_err(|e| before(GrantError::refused(format!("tag {TAG_REQUEST}: {e}"))))?;
        let mine = Tag::builder()
            .key(crate::aws::TAG_INSTALLATION)
            .value(&self.installation)
            .build()
            .map_err(|e| before(GrantError::refused(format!("tag: {e}"))))?;
        let description = description_for(r, &self.installation);
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
            .tags(mine)
            .send()
            .await;
        match created {
            Ok(out) => {
                d.permission_set_arn = out
                    .permission_set()
                    .and_then(|p| p.permission_set_arn())
                    .map(str::to_string)
                    .ok_or_else(|| {
                        AttachFailure::after(
                            GrantError::backend("CreatePermissionSet returned no ARN"),
                            None,
                        )
                    })?;
                Ok(true)
            }
            // AWS refuses a second permission set with the same name: adopt it only when
            // it is provably what an earlier attempt of this request made (see `adopt`).
            Err(e) if is_code(&e, "ConflictException") => {
                let found = self
                    .find_permission_set_described(&d.instance_arn, &name)
                    .await
                    .map_err(|e| AttachFailure::after(e, None))?;
                match found {
                    Some((arn, ps)) if owned_by(ps.description(), &r.id) => {
                        let refusal = self
                            .refusal(&arn, &ps, r, d)
                            .await
                            .map_err(|e| AttachFailure::after(e, None))?;
                        if let Some(why) = refusal {
                            return Err(before(GrantError::NotOurs(format!(
                                "permission set `{name}` ({arn}) already exists where aws-jit would \
                                 create it, but {why}: it was not assigned. It is not provably what an \
                                 earlier attempt of {} made (someone may have planted it); investigate \
                                 and delete it, or ask again with another --policy-name",
                                r.id
                            ))));
                        }
                        d.permission_set_arn = arn;
                        Ok(false)
                    }
                    _ => Err(before(GrantError::refused(format!(
                        "a permission set named `{name}` already exists and does not belong to {}; \
                         pick another --policy-name (at most {MAX_PERMISSION_SET_NAME} characters)",
                        r.id
                    )))),
                }
            }
            Err(e) => {
                let e = classify("CreatePermissionSet", e);
                Err(if certain(&e) {
                    before(e)
                } else {
                    AttachFailure::after(e, None)
                })
            }
        }
    }

    /// The assignment of an existing permission set, under its lock: decide whether it is
    /// standing access (recorded before anything is created), then create it when it is
    /// aws-jit's to make, recording that aws-jit made it.
    async fn assign_existing(
        &self,
        r: &Request,
        d: &mut SsoDetails,
        earlier: Option<bool>,
        env: &AttachEnv<'_>,
        key: &str,
    ) -> Result<(), AttachFailure> {
        let before = AttachFailure::before;
        d.assignment_existed = match earlier {
            // This grant may have created it: never turned into standing access, which
            // nothing would ever remove.
            Some(false) => false,
            // Decided now; or again when an earlier attempt found standing access, which
            // may be gone since (then this grant makes its own).
            _ => self.standing(d, env.holders, key).await.map_err(before)?,
        };
        if earlier != Some(d.assignment_existed) {
            // Recorded before anything is created, so a later attempt, a removal and the
            // other grants of this assignment know what was there before.
            env.progress
                .record(&grant_of(d))
                .map_err(|e| before(e.into()))?;
        }
        if d.assignment_existed {
            // Seen under the lock just now; nothing to make.
            d.assignment = Some(crate::grant::OpStatus::succeeded());
            return Ok(());
        }
        // Revoked (or taken over) meanwhile: stop before the assignment grants anything.
        if let Err(e) = env.progress.check() {
            return Err(AttachFailure::after(e.into(), Some(grant_of(d))));
        }
        let fresh = env
            .holders
            .origin(key)
            .map_err(|e| before(e.into()))?
            .is_none();
        if fresh {
            env.holders
                .set_origin(key, Some(&r.id))
                .map_err(|e| before(e.into()))?;
        }
        if let Err(e) = self.ensure_assignment(d).await {
            if !certain(&e) {
                return Err(AttachFailure::after(e, Some(grant_of(d))));
            }
            // Nothing was made: an origin this attempt wrote, and nobody else relies on,
            // goes again, so it never vouches for an assignment someone makes later.
            let alone = match env.holders.holders() {
                Ok(others) => matches!(self.needed_by(d, others).await, Ok(false)),
                Err(_) => false,
            };
            if fresh && alone {
                let _ = env.holders.set_origin(key, None);
            }
            return Err(before(e));
        }
        Ok(())
    }

    /// Whether the user holds the permission set in the account as standing access:
    /// assigned, and recorded as made by no aws-jit grant. Grants recorded by an aws-jit
    /// before origins existed are still recognised by their decision (`holders`).
    async fn standing(
        &self,
        d: &SsoDetails,
        holders: &dyn Holders,
        key: &str,
    ) -> Result<bool, GrantError> {
        if holders.origin(key)?.is_some() {
            return Ok(false);
        }
        if !self.assignment_exists(d).await? {
            return Ok(false);
        }
        Ok(!self.needed_by(d, holders.holders()?).await?)
    }

    /// Remove aws-jit's assignment of an existing permission set, under its lock, unless
    /// another grant of the same person relies on it (last one out).
    async fn remove_shared(
        &self,
        d: &SsoDetails,
        holders: &dyn Holders,
        key: &str,
    ) -> Result<Removed, GrantError> {
        if let Some(other) = self.needing(d, holders.holders()?).await? {
            // It stays (and is restored if an earlier removal's deletion raced with that
            // grant's attach, before assignments had locks).
            let mut keep = d.clone();
            self.ensure_assignment(&mut keep).await?;
            if holders.origin(key)?.is_none() {
                holders.set_origin(key, Some(&other))?;
            }
            return Ok(Removed::all());
        }
        // The origin goes first: a removal stopped halfway leaves an assignment that looks
        // standing (kept by a newcomer, deleted by this removal's retry), never an origin
        // that would make a standing assignment made later look like aws-jit's.
        holders.set_origin(key, None)?;
        self.delete_assignment(d).await?;
        // Asked again after the deletion: a grant that decided meanwhile (a lock lapsed)
        // gets its assignment back.
        if let Some(other) = self.needing(d, holders.holders()?).await? {
            let mut keep = d.clone();
            self.ensure_assignment(&mut keep).await?;
            holders.set_origin(key, Some(&other))?;
        }
        Ok(Removed::all())
    }

    async fn provision_and_assign(
        &self,
        r: &Request,
        d: &mut SsoDetails,
    ) -> Result<(), GrantError> {
        let policy = r.policy.as_ref().ok_or_else(|| {
            GrantError::refused(format!(
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

    /// Is one of `holders` the same identity-store user as `d`? Holders that have not
    /// recorded a user id yet (still attaching) are resolved now, so a user named by user
    /// name in one request and by email in another is recognised as one person, and a
    /// different person never keeps someone else's assignment alive.
    async fn needed_by(&self, d: &SsoDetails, holders: Vec<Holder>) -> Result<bool, GrantError> {
        Ok(self.needing(d, holders).await?.is_some())
    }

    /// The first of `holders` that is the same person as `d` (see `needed_by`).
    async fn needing(
        &self,
        d: &SsoDetails,
        holders: Vec<Holder>,
    ) -> Result<Option<String>, GrantError> {
        if d.user_id.is_empty() {
            return Ok(None);
        }
        for h in holders {
            let id = match h.user_id {
                Some(id) => id,
                None => match self.find_user(&d.identity_store_id, &h.user).await {
                    Ok((id, _)) => id,
                    Err(GrantError::NotFound { .. } | GrantError::Refused { .. }) => continue,
                    Err(e) => return Err(e),
                },
            };
            if id == d.user_id {
                return Ok(Some(h.request_id));
            }
        }
        Ok(None)
    }

    /// The recorded details, or (when attach failed or crashed before recording them)
    /// the same objects looked up again.
    async fn removal_target(&self, r: &Request) -> Result<Removal, GrantError> {
        if let Some(d) = r.grant.as_ref().and_then(Grant::sso) {
            return Ok(Removal::Known(Box::new(d.clone())));
        }
        let Target::Sso {
            user,
            account_id,
            permission_set,
        } = &r.target
        else {
            return Ok(Removal::Nothing);
        };
        // Attach records its decision before it creates an assignment of an existing
        // permission set: with nothing recorded, any assignment there is not this grant's
        // (it may well be standing access).
        if permission_set.is_some() {
            return Ok(Removal::Nothing);
        }
        let (instance_arn, identity_store_id) = self.instance().await?;
        let (user_id, user_name) = match self.find_user(&identity_store_id, user).await {
            Ok(u) => u,
            Err(GrantError::NotFound { .. } | GrantError::Refused { .. }) => {
                (String::new(), user.clone())
            }
            Err(e) => return Err(e),
        };
        let name = permission_set_name(r);
        let (arn, name) = match self
            .find_permission_set_described(&instance_arn, &name)
            .await?
        {
            // This installation's, or marked before installations were: never another's.
            Some((arn, ps)) if owned_here(ps.description(), &r.id, &self.installation, true) => {
                (arn, name)
            }
            _ => return Ok(Removal::Nothing),
        };
        Ok(Removal::Known(Box::new(SsoDetails {
            kind: SsoKind,
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
}
