//! Everything that talks to AWS. Built lazily: commands that never touch AWS (status,
//! request, approve, ...) never pay for SDK or runtime start-up.
//!
//! One [`Grantor`] per kind of target (IAM users and roles, Identity Center), chosen in
//! one place, [`Aws::grantor`].

pub mod backoff;
pub mod concurrent;
pub mod iam;
pub mod owned;
pub mod retag; // access rules: the expiry tag moves with an extension
pub mod sso;

use std::future::Future;
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_iam::error::ProvideErrorMetadata;

pub use backoff::Backoff;
pub use owned::{Owned, OwnedKind, Removed, Whose, TAG_INSTALLATION};

use crate::error::JitError;
use crate::grant::{Grant, Holders, HoldersError, PermissionSetContents, Progress, ProgressError};
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
    /// AWS asked us to slow down (Throttling, TooManyRequestsException, HTTP 429) and
    /// the SDK's own retries ran out: worth retrying after a pause, never a reason to fail.
    #[error("{what} (AWS is throttling requests)")]
    Throttled {
        what: String,
        #[source]
        source: Option<AwsError>,
    },
    /// AWS ran an asynchronous operation to FAILED: it made nothing, and says why.
    #[error("{0}")]
    AwsFailed(String),
    /// Something sits where aws-jit would create an object, and it is not provably what an
    /// earlier attempt of the same request made (a planted policy or permission set): never
    /// adopted, never attached.
    #[error("{0}")]
    NotOurs(String),
    /// The process's claim on the request was lost while it worked (taken over, or the
    /// store no longer answers): it stops before changing anything more.
    #[error("{0}")]
    ClaimLost(String),
    #[error("{0}")]
    Holders(#[from] HoldersError),
}

impl From<ProgressError> for GrantError {
    fn from(e: ProgressError) -> Self {
        GrantError::ClaimLost(e.0)
    }
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
            GrantError::Denied { .. } | GrantError::NotOurs(_) => ExitCode::NotAuthorised,
            GrantError::Backend { .. }
            | GrantError::Throttled { .. }
            | GrantError::AwsFailed(_)
            | GrantError::Holders(_) => ExitCode::Backend,
            GrantError::ClaimLost(_) => ExitCode::WrongState,
        }
    }

    pub fn is_throttling(&self) -> bool {
        matches!(self, GrantError::Throttled { .. })
    }
}

/// Service error codes AWS uses to say "slow down".
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
];

/// Classify an SDK error by its service error code (and HTTP 429, whatever the code).
pub(crate) fn classify<E>(
    what: &str,
    err: aws_sdk_iam::error::SdkError<E, HttpResponse>,
) -> GrantError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.code().map(str::to_string);
    let too_many = err
        .raw_response()
        .is_some_and(|r| r.status().as_u16() == 429);
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
    if too_many || code.as_deref().is_some_and(|c| THROTTLING.contains(&c)) {
        return GrantError::Throttled { what, source };
    }
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

type HttpResponse = aws_sdk_iam::config::http::HttpResponse;

/// During removal nothing is a reason to give up: every failure is retried by the next
/// `expire` run. Throttling stays recognisable so a run can slow down instead.
pub(crate) fn retry_later(e: GrantError) -> GrantError {
    match e {
        GrantError::Refused { what, source }
        | GrantError::NotFound { what, source }
        | GrantError::Denied { what, source } => GrantError::Backend { what, source },
        GrantError::AwsFailed(what) | GrantError::NotOurs(what) => GrantError::backend(what),
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
    /// The target as AWS names it (an IAM user or role in IAM's own spelling of its
    /// case-insensitive name): recorded on the request in place of what was typed.
    pub canonical: Option<Target>,
}

/// What an attach is given besides the request: who else holds a shared object, and
/// where to record what it is about to create (before creating it) or has created.
pub struct AttachEnv<'a> {
    pub holders: &'a dyn Holders,
    pub progress: &'a dyn Progress,
}

/// An attach that failed. `acted`: a call that changes AWS may have taken effect and was
/// not undone, so something may exist (the request stays `attaching`, in the expiry
/// index); false when AWS certainly holds nothing of this attempt.
#[derive(Debug)]
pub struct AttachFailure {
    pub error: GrantError,
    pub acted: bool,
    /// What is known to exist (or to have been asked for) so far.
    pub partial: Option<Grant>,
}

impl AttachFailure {
    /// Failed before anything in AWS was changed.
    pub fn before(error: GrantError) -> Self {
        AttachFailure {
            error,
            acted: false,
            partial: None,
        }
    }

    /// Failed after a change that may have taken effect.
    pub fn after(error: GrantError, partial: Option<Grant>) -> Self {
        AttachFailure {
            error,
            acted: true,
            partial,
        }
    }
}

/// What each kind of target implements: look at it before a request is stored, make a
/// grant real, take it away again, and list what aws-jit owns (for `reconcile`).
///
/// Not `Send`: grantors run on the process's one current-thread runtime.
#[allow(async_fn_in_trait)]
pub trait Grantor {
    /// Read what approvers must know about the target: who benefits, and for an existing
    /// permission set what it grants. A target that does not exist is `NotFound`.
    async fn inspect(&self, target: &Target) -> Result<Inspection, GrantError>;
    /// Make the grant real. Idempotent: a repeat converges to the same AWS objects.
    async fn attach(&self, r: &Request, env: &AttachEnv<'_>) -> Result<Grant, AttachFailure>;
    /// Remove what `r` holds. Missing objects count as removed; a shared object stays
    /// while `holders` names another grant of the same person (last one out); what
    /// aws-jit did not create (a standing assignment, someone else's attachment) stays
    /// and is named in the answer.
    async fn remove(&self, r: &Request, holders: &dyn Holders) -> Result<Removed, GrantError>;
    /// Everything of this kind that aws-jit owns (by path, tag or description), with
    /// what `reconcile` needs to judge it.
    async fn list_owned(
        &self,
        backoff: &Backoff,
        concurrency: usize,
    ) -> Result<Vec<Owned>, GrantError>;
    /// Remove an owned object no live request tracks (an orphan), with the same steps as
    /// [`Grantor::remove`].
    async fn remove_owned(&self, o: &Owned) -> Result<Removed, GrantError>;
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

    async fn attach(&self, r: &Request, env: &AttachEnv<'_>) -> Result<Grant, AttachFailure> {
        match self {
            AnyGrantor::Iam(g) => g.attach(r, env).await,
            AnyGrantor::Sso(g) => g.attach(r, env).await,
        }
    }

    async fn remove(&self, r: &Request, holders: &dyn Holders) -> Result<Removed, GrantError> {
        match self {
            AnyGrantor::Iam(g) => g.remove(r, holders).await,
            AnyGrantor::Sso(g) => g.remove(r, holders).await,
        }
    }

    async fn list_owned(
        &self,
        backoff: &Backoff,
        concurrency: usize,
    ) -> Result<Vec<Owned>, GrantError> {
        match self {
            AnyGrantor::Iam(g) => g.list_owned(backoff, concurrency).await,
            AnyGrantor::Sso(g) => g.list_owned(backoff, concurrency).await,
        }
    }

    async fn remove_owned(&self, o: &Owned) -> Result<Removed, GrantError> {
        match self {
            AnyGrantor::Iam(g) => g.remove_owned(o).await,
            AnyGrantor::Sso(g) => g.remove_owned(o).await,
        }
    }
}

/// The standard AWS retry settings, read the way the AWS CLI and SDKs document them:
/// AWS_MAX_ATTEMPTS (default 3: one call and two retries) and AWS_RETRY_MODE
/// (`standard`, the default, or `adaptive`; `legacy` is taken as `standard`).
pub fn retry_config() -> Result<RetryConfig, JitError> {
    let attempts = match crate::config::var(&["AWS_MAX_ATTEMPTS"]) {
        Some(v) => v.parse::<u32>().ok().filter(|n| (1..=20).contains(n)).ok_or_else(|| {
            JitError::invalid(
                "AWS_MAX_ATTEMPTS",
                format!("`{v}` is not a whole number from 1 to 20 (the total calls per AWS request)"),
            )
        })?,
        None => 3,
    };
    let base = match crate::config::var(&["AWS_RETRY_MODE"]).as_deref() {
        None | Some("standard") | Some("legacy") => RetryConfig::standard(),
        Some("adaptive") => RetryConfig::adaptive(),
        Some(other) => {
            return Err(JitError::invalid(
                "AWS_RETRY_MODE",
                format!("`{other}` is not a retry mode; use standard or adaptive"),
            ))
        }
    };
    Ok(base.with_max_attempts(attempts))
}

pub struct Aws {
    rt: tokio::runtime::Runtime,
    pub sdk: SdkConfig,
    /// This installation's name: tagged on what it creates; only what carries it is its own.
    pub installation: String,
}

impl Aws {
    /// [`Aws::connect_as`] the installation the environment configures.
    pub fn connect() -> anyhow::Result<Aws> {
        let config = crate::config::Config::from_env()?;
        let installation = config.installation()?;
        Aws::connect_as(&installation)
    }

    /// Loads region, credentials and endpoint (AWS_ENDPOINT_URL) the standard way.
    pub fn connect_as(installation: &str) -> anyhow::Result<Aws> {
        let retry = retry_config()?;
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
                .retry_config(retry)
                .load()
                .await
        });
        Ok(Aws {
            rt,
            sdk,
            installation: installation.to_string(),
        })
    }

    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The grantor for a target: the one place that tells target kinds apart.
    pub fn grantor(&self, target: &Target) -> Result<AnyGrantor, GrantError> {
        Ok(match target {
            Target::IamUser { .. } | Target::IamRole { .. } => {
                AnyGrantor::Iam(iam::IamGrantor::new(&self.sdk, &self.installation))
            }
            Target::Sso { .. } => AnyGrantor::Sso(sso::SsoGrantor::new(
                &self.sdk,
                sso::SsoSettings::from_env()?,
                &self.installation,
            )),
        })
    }

    /// Read the target before a request is stored (blocking).
    pub fn inspect(&self, target: &Target) -> Result<Inspection, GrantError> {
        let g = self.grantor(target)?;
        self.block_on(g.inspect(target))
    }

    /// Every grantor, for listing what aws-jit owns. Identity Center is left out when it
    /// is not set up for these credentials (no instance visible): nothing can be owned there.
    pub fn grantors(&self) -> Vec<AnyGrantor> {
        let mut all = vec![AnyGrantor::Iam(iam::IamGrantor::new(
            &self.sdk,
            &self.installation,
        ))];
        if let Ok(settings) = sso::SsoSettings::from_env() {
            all.push(AnyGrantor::Sso(sso::SsoGrantor::new(
                &self.sdk,
                settings,
                &self.installation,
            )));
        }
        all
    }

    /// Whether the Identity Center user still holds a recorded assignment.
    pub async fn sso_assigned(&self, d: &crate::grant::SsoDetails) -> Result<bool, GrantError> {
        sso::SsoGrantor::new(&self.sdk, sso::SsoSettings::from_env()?, &self.installation)
            .assigned(d)
            .await
    }

    /// The grantor for what `reconcile` found.
    pub fn grantor_for(&self, kind: OwnedKind) -> Result<AnyGrantor, GrantError> {
        Ok(match kind {
            OwnedKind::IamPolicy => {
                AnyGrantor::Iam(iam::IamGrantor::new(&self.sdk, &self.installation))
            }
            OwnedKind::PermissionSet => AnyGrantor::Sso(sso::SsoGrantor::new(
                &self.sdk,
                sso::SsoSettings::from_env()?,
                &self.installation,
            )),
        })
    }

    /// Remove the grant (blocking); see [`Grantor::remove`].
    pub fn remove(&self, r: &Request, holders: &dyn Holders) -> Result<Removed, GrantError> {
        let g = self.grantor(&r.target)?;
        self.block_on(g.remove(r, holders))
    }
}
