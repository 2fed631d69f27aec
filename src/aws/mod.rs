//! Everything that talks to AWS. Built lazily: commands that never touch AWS (status,
//! request, approve, ...) never pay for SDK or runtime start-up.

pub mod iam;
pub mod sso;

use std::future::Future;
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

use crate::request::{Grant, Request, Target};

/// Why a grant could not be made or removed. `Backend` is worth retrying as is;
/// the others need a person to change something first.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GrantError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(String),
    /// AWS refused the runner's own identity: it lacks a permission.
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    Backend(String),
}

impl From<GrantError> for crate::error::JitError {
    fn from(e: GrantError) -> Self {
        use crate::error::JitError;
        match e {
            GrantError::NotFound(m) => JitError::NotFound(m),
            GrantError::Refused(m) => JitError::invalid("target", m),
            GrantError::Denied(m) => JitError::NotAuthorised(format!(
                "{m}; the AWS identity running aws-jit lacks this permission (see the README's security model)"
            )),
            GrantError::Backend(m) => JitError::Backend(m),
        }
    }
}

/// Classify an SDK error by its service error code.
pub(crate) fn classify<E, R>(what: &str, err: aws_sdk_iam::error::SdkError<E, R>) -> GrantError
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_iam::error::ProvideErrorMetadata;
    let code = err.code().unwrap_or("").to_string();
    let message = format!("{what}: {}", aws_sdk_iam::error::DisplayErrorContext(&err));
    match code.as_str() {
        "NoSuchEntity" | "ResourceNotFoundException" => GrantError::NotFound(message),
        "MalformedPolicyDocument"
        | "InvalidInput"
        | "LimitExceeded"
        | "ValidationException"
        | "EntityAlreadyExists" => GrantError::Refused(message),
        "AccessDenied" | "AccessDeniedException" => GrantError::Denied(message),
        _ => GrantError::Backend(message),
    }
}

/// During removal nothing is a reason to give up: every failure is retried by the next
/// `expire` run.
pub(crate) fn retry_later(e: GrantError) -> GrantError {
    match e {
        GrantError::Refused(m) | GrantError::NotFound(m) | GrantError::Denied(m) => {
            GrantError::Backend(m)
        }
        backend => backend,
    }
}

pub(crate) fn is_code<E, R>(err: &aws_sdk_iam::error::SdkError<E, R>, code: &str) -> bool
where
    E: aws_sdk_iam::error::ProvideErrorMetadata,
{
    use aws_sdk_iam::error::ProvideErrorMetadata;
    err.code() == Some(code)
}

/// Another grant on the same shared object: its user id when attach recorded one, and
/// the user as requested (name or email) so the grantor can resolve it when not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub request_id: String,
    pub user_id: Option<String>,
    pub user: String,
}

pub struct Aws {
    rt: tokio::runtime::Runtime,
    pub sdk: SdkConfig,
}

impl Aws {
    /// Loads region, credentials and endpoint (AWS_ENDPOINT_URL) the standard way.
    pub fn connect() -> anyhow::Result<Aws> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let sdk = rt.block_on(async {
            aws_config::defaults(BehaviorVersion::latest())
                .region(RegionProviderChain::default_provider().or_else("us-east-1"))
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(Duration::from_secs(5))
                        .operation_attempt_timeout(Duration::from_secs(30))
                        .operation_timeout(Duration::from_secs(120))
                        .build(),
                )
                .retry_config(RetryConfig::standard().with_max_attempts(4))
                .load()
                .await
        });
        Ok(Aws { rt, sdk })
    }

    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Make the grant real. Idempotent: a repeat converges to the same AWS objects.
    pub fn attach(&self, r: &Request) -> Result<Grant, GrantError> {
        match &r.target {
            Target::IamUser { .. } | Target::IamRole { .. } => {
                self.block_on(iam::IamGrantor::new(&self.sdk).attach(r))
            }
            Target::Sso { .. } => self.block_on(self.sso()?.attach(r)),
        }
    }

    fn sso(&self) -> Result<sso::SsoGrantor, GrantError> {
        Ok(sso::SsoGrantor::new(
            &self.sdk,
            sso::SsoSettings::from_env()?,
        ))
    }

    /// Remove a grant that shares nothing with other grants. Missing objects count as
    /// removed.
    pub fn remove(&self, r: &Request) -> Result<(), GrantError> {
        self.remove_checked(r, || Ok(Vec::new()))
    }

    /// Remove the grant, asking `holders` for the other grants (attaching or active) on
    /// the same shared object right before deleting a shared Identity Center assignment and
    /// again once the deletion completed: if one of them is the same person, the
    /// assignment stays (or comes back), so the last one out never cuts a newcomer's access.
    pub fn remove_checked<F>(&self, r: &Request, holders: F) -> Result<(), GrantError>
    where
        F: Fn() -> Result<Vec<Holder>, GrantError>,
    {
        match &r.target {
            Target::IamUser { .. } | Target::IamRole { .. } => {
                self.block_on(iam::IamGrantor::new(&self.sdk).remove(r))
            }
            Target::Sso { .. } => self.block_on(self.sso()?.remove(r, holders)),
        }
    }
}
