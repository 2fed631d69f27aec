//! Everything that talks to AWS. Built lazily: commands that never touch AWS (status,
//! request, approve, ...) never pay for SDK or runtime start-up.
//!
//! One [`Grantor`] per kind of target (IAM users and roles, Identity Center), chosen in
//! one place, [`Aws::grantor`].

pub mod iam;
pub mod retag; // access rules: the expiry tag moves with an extension
pub mod sso;

use std::future::Future;
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_iam::error::ProvideErrorMetadata;

use crate::grant::{Grant, Holders, HoldersError, PermissionSetContents};
use crate::request::{Beneficiary, Request, Target};

/// An AWS API error as the SDK explained it, with its service error code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AwsError {
    pub code: Option<String>,
    pub message: String,
}

/// Why a grant could not be made or removed. `Backend` is worth retrying as is; the
/// others need a person to change something first. `what` says what was being done.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("{what}")]
    NotFound {
        what: String,
        #[source]
        source: Option<AwsError>,
    },
    #[error("{what}")]
    Refused {
        what: String,
        #[source]
        source: Option<AwsError>,
    },
    /// AWS refused the runner's own identity: it lacks a permission.
    #[error("{what} (the AWS identity running aws-jit lacks this permission; see the README's security model)")]
    Denied {
        what: String,
        #[source]
        source: Option<AwsError>,
    },
    #[error("{what}")]
    Backend {
        what: String,
        #[source]
        source: Option<AwsError>,
    },
    #[error("{0}")]
    Holders(#[from] HoldersError),
}

impl GrantError {
    pub fn refused(what: impl Into<String>) -> Self {
        GrantError::Refused {
            what: what.into(),
            source: None,
        }
    }

    pub fn backend(what: impl Into<String>) -> Self {
        GrantError::Backend {
            what: what.into(),
            source: None,
        }
    }

    pub fn exit_code(&self) -> crate::error::ExitCode {
        use crate::error::ExitCode;
        match self {
            GrantError::NotFound { .. } => ExitCode::NotFound,
            GrantError::Refused { .. } => ExitCode::Usage,
            GrantError::Denied { .. } => ExitCode::NotAuthorised,
            GrantError::Backend { .. } | GrantError::Holders(_) => ExitCode::Backend,
        }
    }
}

/// Classify an SDK error by its service error code.
pub(crate) fn classify<E, R>(what: &str, err: aws_sdk_iam::error::SdkError<E, R>) -> GrantError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().map(str::to_string);
    // A service error says it best in its code and message; anything else (time-outs,
    // connection trouble) through its whole chain.
    let message = match (&code, err.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        _ => aws_sdk_iam::error::DisplayErrorContext(&err).to_string(),
    };
    let source = Some(AwsError {
        message,
        code: code.clone(),
    });
    let what = what.to_string();
    match code.as_deref().unwrap_or("") {
        "NoSuchEntity" | "ResourceNotFoundException" => GrantError::NotFound { what, source },
        "MalformedPolicyDocument"
        | "InvalidInput"
        | "LimitExceeded"
        | "ValidationException"
        | "EntityAlreadyExists" => GrantError::Refused { what, source },
        "AccessDenied" | "AccessDeniedException" => GrantError::Denied { what, source },
        _ => GrantError::Backend { what, source },
    }
}

/// During removal nothing is a reason to give up: every failure is retried by the next
/// `expire` run.
pub(crate) fn retry_later(e: GrantError) -> GrantError {
    match e {
        GrantError::Refused { what, source }
        | GrantError::NotFound { what, source }
        | GrantError::Denied { what, source } => GrantError::Backend { what, source },
        other => other,
    }
}

pub(crate) fn is_code<E, R>(err: &aws_sdk_iam::error::SdkError<E, R>, code: &str) -> bool
where
    E: ProvideErrorMetadata,
{
    err.code() == Some(code)
}

/// What a grantor reads about a target when a request is made.
#[derive(Debug, Default)]
pub struct Inspection {
    /// Who would receive the access, when the target says (Identity Center user, owner tag).
    pub beneficiary: Option<Beneficiary>,
    /// What an existing permission set grants.
    pub contents: Option<PermissionSetContents>,
}

/// What each kind of target implements: look at it before a request is stored, make a
/// grant real, and take it away again.
///
/// Not `Send`: grantors run on the process's one current-thread runtime.
#[allow(async_fn_in_trait)]
pub trait Grantor {
    /// Read what approvers must know about the target: who benefits, and for an existing
    /// permission set what it grants. A target that does not exist is `NotFound`.
    async fn inspect(&self, target: &Target) -> Result<Inspection, GrantError>;
    /// Make the grant real. Idempotent: a repeat converges to the same AWS objects.
    async fn attach(&self, r: &Request) -> Result<Grant, GrantError>;
    /// Remove what `r` holds. Missing objects count as removed; a shared object stays
    /// while `holders` names another grant of the same person (last one out).
    async fn remove(&self, r: &Request, holders: &dyn Holders) -> Result<(), GrantError>;
}

/// The grantor for one target kind.
pub enum AnyGrantor {
    Iam(iam::IamGrantor),
    Sso(sso::SsoGrantor),
}

impl Grantor for AnyGrantor {
    async fn inspect(&self, target: &Target) -> Result<Inspection, GrantError> {
        match self {
            AnyGrantor::Iam(g) => g.inspect(target).await,
            AnyGrantor::Sso(g) => g.inspect(target).await,
        }
    }

    async fn attach(&self, r: &Request) -> Result<Grant, GrantError> {
        match self {
            AnyGrantor::Iam(g) => g.attach(r).await,
            AnyGrantor::Sso(g) => g.attach(r).await,
        }
    }

    async fn remove(&self, r: &Request, holders: &dyn Holders) -> Result<(), GrantError> {
        match self {
            AnyGrantor::Iam(g) => g.remove(r, holders).await,
            AnyGrantor::Sso(g) => g.remove(r, holders).await,
        }
    }
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

    /// The grantor for a target: the one place that tells target kinds apart.
    pub fn grantor(&self, target: &Target) -> Result<AnyGrantor, GrantError> {
        Ok(match target {
            Target::IamUser { .. } | Target::IamRole { .. } => {
                AnyGrantor::Iam(iam::IamGrantor::new(&self.sdk))
            }
            Target::Sso { .. } => AnyGrantor::Sso(sso::SsoGrantor::new(
                &self.sdk,
                sso::SsoSettings::from_env()?,
            )),
        })
    }

    /// Read the target before a request is stored (blocking).
    pub fn inspect(&self, target: &Target) -> Result<Inspection, GrantError> {
        let g = self.grantor(target)?;
        self.block_on(g.inspect(target))
    }

    /// Make the grant real (blocking).
    pub fn attach(&self, r: &Request) -> Result<Grant, GrantError> {
        let g = self.grantor(&r.target)?;
        self.block_on(g.attach(r))
    }

    /// Remove the grant (blocking); see [`Grantor::remove`].
    pub fn remove(&self, r: &Request, holders: &dyn Holders) -> Result<(), GrantError> {
        let g = self.grantor(&r.target)?;
        self.block_on(g.remove(r, holders))
    }
}
