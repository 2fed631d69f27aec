//! Flags of `aws-jit policy generate|validate`.

use clap::{Args, Subcommand};

use crate::policy::{GeneratorChoice, PolicyTarget};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Write a least-privilege policy from plain language or from service/access/actions flags.
    ///
    /// Examples:
    ///   aws-jit policy generate --description "read objects in bucket my-data"
    ///   aws-jit policy generate --service s3 --access read,list --resources arn:aws:s3:::my-data
    ///   aws-jit policy generate --service s3 --actions GetObject,ListBucket --resources arn:aws:s3:::my-data,arn:aws:s3:::my-data/*
    Generate(GenerateArgs),
    /// Check a policy document: grammar, actions and ARNs against the IAM catalog, size, and
    /// security (escalation paths, wildcards). Exits 2 when a finding blocks.
    ///
    /// Example: aws-jit policy validate policy.json --allowed-services s3,logs
    Validate(ValidateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// What the access is for, in plain words: a verb (read, list, write, tag), a service or
    /// kind of resource (bucket, objects, instances, table, log group, secret, function...)
    /// and names or ARNs, e.g. "read objects in bucket my-data" or
    /// "describe instance i-0123456789abcdef0 in eu-west-1".
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// Service prefix for the structured form, as in IAM actions: s3, ec2, dynamodb, logs...
    #[arg(long, value_name = "PREFIX")]
    pub service: Option<String>,

    /// Access levels to grant with --service: read, list, write, tagging,
    /// permissions-management (comma list). Only actions of these levels are included.
    #[arg(long, value_delimiter = ',', value_name = "LEVELS")]
    pub access: Vec<String>,

    /// Exact actions (comma list): GetObject with --service, or s3:GetObject. Wildcards such
    /// as Get* expand against the catalog; the validator warns about them.
    #[arg(long, value_delimiter = ',', value_name = "ACTIONS")]
    pub actions: Vec<String>,

    /// Resource ARNs to scope the actions to (comma list). Each action gets only the ARNs
    /// whose resource type it accepts, e.g. s3:ListBucket the bucket, s3:GetObject bucket/*.
    #[arg(long, value_delimiter = ',', value_name = "ARNS")]
    pub resources: Vec<String>,

    /// Region used in generated ARNs (`*` when unset).
    #[arg(long, env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,

    /// 12-digit account id used in generated ARNs (`*` when unset).
    #[arg(long, env = "JIT_ACCOUNT_ID", value_name = "ID")]
    pub account_id: Option<String>,

    /// rules: deterministic; model: ask the model at JIT_MODEL_URL (JIT_MODEL, HF_TOKEN);
    /// auto: the model when configured, else (or when it fails or is refused) the rules.
    #[arg(long, value_enum, default_value_t = GeneratorChoice::Auto)]
    pub generator: GeneratorChoice,

    /// Services the policy may use (comma list of prefixes); anything else is refused.
    #[arg(
        long,
        env = "ALLOWED_SERVICES",
        value_delimiter = ',',
        value_name = "PREFIXES"
    )]
    pub allowed_services: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Policy JSON file, or `-` for standard input.
    #[arg(value_name = "FILE")]
    pub file: String,

    /// Where the policy will go; sets the size limit: managed-policy (6,144 characters
    /// without white space) or permission-set (inline policy, 32,768).
    #[arg(long, value_enum, default_value_t = PolicyTarget::ManagedPolicy)]
    pub target: PolicyTarget,

    /// Services the policy may use (comma list of prefixes); others are errors.
    #[arg(
        long,
        env = "ALLOWED_SERVICES",
        value_delimiter = ',',
        value_name = "PREFIXES"
    )]
    pub allowed_services: Vec<String>,
}
