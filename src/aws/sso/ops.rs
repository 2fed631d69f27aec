//! Identity Center operations: retry on Conflict/Throttling, and the asynchronous calls
//! (provisioning, assignment creation and deletion) polled to a terminal state by one
//! polling helper. A FAILED status is an error carrying AWS's reason, never a success.

use std::future::Future;
use std::time::Instant;

use aws_sdk_ssoadmin::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssoadmin::types::{
    AccountAssignment, PrincipalType, ProvisionTargetType, StatusValues, TargetType,
};

use super::SsoGrantor;
use crate::aws::{classify, is_code, GrantError};
use crate::grant::{OpStatus, SsoDetails};

pub(super) fn retryable<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
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

/// An operation's status as AWS reports it (provisioning, or an assignment's creation or
/// deletion, which share one type).
trait StatusView {
    fn view(&self) -> OpStatus;
}

impl StatusView for aws_sdk_ssoadmin::types::PermissionSetProvisioningStatus {
    fn view(&self) -> OpStatus {
        op_status(self.status(), self.request_id(), self.failure_reason())
    }
}

impl StatusView for aws_sdk_ssoadmin::types::AccountAssignmentOperationStatus {
    fn view(&self) -> OpStatus {
        op_status(self.status(), self.request_id(), self.failure_reason())
    }
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

fn view<S: StatusView>(s: Option<&S>) -> OpStatus {
    s.map(StatusView::view)
        .unwrap_or_else(|| op_status(None, None, None))
}

/// A status read: `None` when reading failed transiently (polling goes on).
fn read<S, E>(
    what: &str,
    res: Result<Option<S>, SdkError<E, aws_sdk_ssoadmin::config::http::HttpResponse>>,
) -> Result<Option<OpStatus>, GrantError>
where
    S: StatusView,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match res {
        Ok(s) => Ok(Some(view(s.as_ref()))),
        Err(e) if retryable(&e) => Ok(None),
        Err(e) => Err(classify(&format!("{what}: reading its status"), e)),
    }
}

/// The asynchronous operations, each with its own Describe…Status call.
#[derive(Clone, Copy)]
enum Async {
    Provision,
    Assign,
    Unassign,
}

impl SsoGrantor {
    /// Call again on Conflict, Throttling and server-side errors, with backoff, until the
    /// poll timeout runs out; the SDK's own retries sit inside each call.
    pub(super) async fn with_retry<T, E, R, F, Fut>(&self, mut call: F) -> Result<T, SdkError<E, R>>
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

    /// The status of one asynchronous request, as AWS reports it now.
    async fn describe(
        &self,
        op: Async,
        instance_arn: &str,
        what: &str,
        id: String,
    ) -> Result<Option<OpStatus>, GrantError> {
        let admin = &self.admin;
        match op {
            Async::Provision => read(
                what,
                admin
                    .describe_permission_set_provisioning_status()
                    .instance_arn(instance_arn)
                    .provision_permission_set_request_id(id)
                    .send()
                    .await
                    .map(|o| o.permission_set_provisioning_status),
            ),
            Async::Assign => read(
                what,
                admin
                    .describe_account_assignment_creation_status()
                    .instance_arn(instance_arn)
                    .account_assignment_creation_request_id(id)
                    .send()
                    .await
                    .map(|o| o.account_assignment_creation_status),
            ),
            Async::Unassign => read(
                what,
                admin
                    .describe_account_assignment_deletion_status()
                    .instance_arn(instance_arn)
                    .account_assignment_deletion_request_id(id)
                    .send()
                    .await
                    .map(|o| o.account_assignment_deletion_status),
            ),
        }
    }

    /// Poll an asynchronous operation to SUCCEEDED (Ok) or FAILED (Err with AWS's reason).
    /// Still IN_PROGRESS at the deadline is an error too: the next attempt looks again.
    async fn poll(
        &self,
        op: Async,
        instance_arn: &str,
        what: &str,
        first: OpStatus,
    ) -> Result<OpStatus, GrantError> {
        let deadline = Instant::now() + self.settings.poll_timeout;
        let mut wait = self.settings.poll_interval;
        let mut cur = first;
        loop {
            match cur.status.as_str() {
                "SUCCEEDED" => return Ok(cur),
                "FAILED" => {
                    return Err(GrantError::AwsFailed(format!(
                        "{what}: AWS reports FAILED: {} (request id {})",
                        cur.failure_reason.as_deref().unwrap_or("no reason given"),
                        cur.request_id.as_deref().unwrap_or("unknown")
                    )))
                }
                _ => {}
            }
            let Some(id) = cur.request_id.clone() else {
                return Err(GrantError::backend(format!(
                    "{what}: AWS reported {} without a request id to follow",
                    cur.status
                )));
            };
            if Instant::now() + wait > deadline {
                return Err(GrantError::backend(format!(
                    "{what}: still {} after {} (request id {id}); it is retried by the next run \
                     (raise JIT_SSO_POLL_TIMEOUT to wait longer)",
                    cur.status,
                    crate::time::human(self.settings.poll_timeout)
                )));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.settings.max_interval);
            // Transient trouble reading the status keeps the last known one.
            if let Some(next) = self.describe(op, instance_arn, what, id.clone()).await? {
                cur = OpStatus {
                    request_id: next.request_id.clone().or(Some(id)),
                    ..next
                };
            }
        }
    }

    /// ProvisionPermissionSet to the one account, polled until SUCCEEDED or FAILED.
    pub(super) async fn provision(&self, d: &SsoDetails) -> Result<OpStatus, GrantError> {
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
        let first = view(out.permission_set_provisioning_status());
        let what = format!(
            "provisioning permission set {} to account {}",
            d.permission_set_name, d.account_id
        );
        self.poll(Async::Provision, &d.instance_arn, &what, first)
            .await
    }

    /// Make sure the user holds the permission set in the account; create the assignment
    /// when missing and poll it to completion. (Whether it was standing access is decided
    /// by the caller, before: here it may be this very grant's from an earlier attempt.)
    pub(super) async fn ensure_assignment(&self, d: &mut SsoDetails) -> Result<(), GrantError> {
        if self.assignment_exists(d).await? {
            d.assignment = Some(OpStatus::succeeded());
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
        let first = view(out.account_assignment_creation_status());
        let what = format!(
            "assigning permission set {} to {} in account {}",
            d.permission_set_name, d.user_name, d.account_id
        );
        // Known before polling: if polling gives up while AWS still works on it, the
        // grant records the creation's request id and removal waits for it to finish.
        d.assignment = Some(first.clone());
        d.assignment = Some(
            self.poll(Async::Assign, &d.instance_arn, &what, first)
                .await?,
        );
        Ok(())
    }

    /// An assignment creation recorded as still under way finishes (or fails) before
    /// removal looks for the assignment: deleting first would find nothing, and the
    /// creation would complete after the grant was recorded as removed.
    pub(super) async fn settle_creation(&self, d: &SsoDetails) -> Result<(), GrantError> {
        let Some(op) = d.assignment.as_ref() else {
            return Ok(());
        };
        if matches!(op.status.as_str(), "SUCCEEDED" | "FAILED") || op.request_id.is_none() {
            return Ok(());
        }
        let what = format!(
            "assigning permission set {} to {} in account {} (still under way when attach gave up)",
            d.permission_set_name, d.user_name, d.account_id
        );
        match self
            .poll(Async::Assign, &d.instance_arn, &what, op.clone())
            .await
        {
            Ok(_) | Err(GrantError::AwsFailed(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn assignment_exists(&self, d: &SsoDetails) -> Result<bool, GrantError> {
        Ok(self
            .assignment_principals(d)
            .await?
            .iter()
            .any(|p| p == &d.user_id))
    }

    /// The user principals holding this permission set in this account.
    pub(super) async fn assignment_principals(
        &self,
        d: &SsoDetails,
    ) -> Result<Vec<String>, GrantError> {
        let all = self
            .assignments(&d.instance_arn, &d.account_id, &d.permission_set_arn)
            .await?;
        Ok(all
            .iter()
            .filter(|a| a.principal_type() == Some(&PrincipalType::User))
            .filter_map(|a| a.principal_id().map(str::to_string))
            .collect())
    }

    /// Every assignment (users and groups) of a permission set in one account.
    pub(super) async fn assignments(
        &self,
        instance: &str,
        account: &str,
        permission_set: &str,
    ) -> Result<Vec<AccountAssignment>, GrantError> {
        self.with_retry(|| {
            self.admin
                .list_account_assignments()
                .instance_arn(instance)
                .account_id(account)
                .permission_set_arn(permission_set)
                .into_paginator()
                .items()
                .send()
                .try_collect()
        })
        .await
        .map_err(|e| classify("ListAccountAssignments", e))
    }

    /// The accounts a permission set is provisioned to.
    pub(super) async fn provisioned_accounts(
        &self,
        instance: &str,
        permission_set: &str,
    ) -> Result<Vec<String>, GrantError> {
        self.with_retry(|| {
            self.admin
                .list_accounts_for_provisioned_permission_set()
                .instance_arn(instance)
                .permission_set_arn(permission_set)
                .into_paginator()
                .items()
                .send()
                .try_collect()
        })
        .await
        .map_err(|e| classify("ListAccountsForProvisionedPermissionSet", e))
    }

    /// Delete the user's assignment (all user assignments of an ephemeral permission set,
    /// which only this request uses) and poll each deletion to completion.
    pub(super) async fn delete_assignment(&self, d: &SsoDetails) -> Result<(), GrantError> {
        let principals = match self.assignment_principals(d).await {
            Ok(p) => p,
            Err(GrantError::NotFound { .. }) => return Ok(()),
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
            let first = view(out.account_assignment_deletion_status());
            let what = format!(
                "removing permission set {} from user {principal} in account {}",
                d.permission_set_name, d.account_id
            );
            self.poll(Async::Unassign, &d.instance_arn, &what, first)
                .await?;
        }
        Ok(())
    }

    /// Delete the ephemeral permission set. AWS answers Conflict while it is still being
    /// deprovisioned after the last assignment went; that is retried with backoff.
    pub(super) async fn delete_permission_set(&self, d: &SsoDetails) -> Result<(), GrantError> {
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
}
