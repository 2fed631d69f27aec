//! The escalation, evasion and exposure methods the validator knows, each with the public
//! research it comes from. Data only; `escalation.rs` applies them. A test checks that
//! every action here exists in the catalog.
//!
//! References: "Rhino #n" is method n of Rhino Security Labs' "AWS Privilege Escalation –
//! Methods and Mitigation" (part 1, 21 methods); "Rhino part 2" its sequel (CodeStar,
//! Lambda layers, SageMaker); "cloudsplaining X" is X in cloudsplaining 0.9.1's
//! PRIVILEGE_ESCALATION_METHODS (with pathfinding.cloud paths) or its
//! ACTIONS_THAT_RETURN_CREDENTIALS / data-exfiltration lists; "parliament" its community
//! auditors; "issue 10" a method named in this project's issue 10.

/// A single action, why it matters, and the reference that names it.
pub(super) type Entry = (&'static str, &'static str);

/// Single actions that let a holder raise their own privileges: change policies, take
/// over a principal, or run code as an existing role (no iam:PassRole needed).
pub(super) const SINGLE_ESCALATION: &[Entry] = &[
    ("iam:CreatePolicyVersion", "Rhino #1: rewrite a managed policy attached to oneself"),
    ("iam:SetDefaultPolicyVersion", "Rhino #2: switch a policy to a more permissive version"),
    ("iam:CreateAccessKey", "Rhino #4: keys for another user"),
    ("iam:CreateLoginProfile", "Rhino #5: a console password for another user"),
    ("iam:UpdateLoginProfile", "Rhino #6: reset another user's console password"),
    ("iam:AttachUserPolicy", "Rhino #7: attach any managed policy to a user"),
    ("iam:AttachGroupPolicy", "Rhino #8: attach any managed policy to a group"),
    ("iam:AttachRolePolicy", "Rhino #9: attach any managed policy to a role"),
    ("iam:PutUserPolicy", "Rhino #10: write an inline policy on a user"),
    ("iam:PutGroupPolicy", "Rhino #11: write an inline policy on a group"),
    ("iam:PutRolePolicy", "Rhino #12: write an inline policy on a role"),
    ("iam:AddUserToGroup", "Rhino #13: join a more privileged group"),
    ("iam:UpdateAssumeRolePolicy", "Rhino #14: make a role trust oneself, then assume it"),
    ("iam:PutUserPermissionsBoundary", "replace the boundary that caps a user"),
    ("iam:PutRolePermissionsBoundary", "replace the boundary that caps a role"),
    ("iam:DeleteUserPermissionsBoundary", "remove the boundary that caps a user"),
    ("iam:DeleteRolePermissionsBoundary", "remove the boundary that caps a role"),
    ("iam:AddRoleToInstanceProfile", "put a privileged role on an instance profile already attached to an instance (Pacu iam__privesc_scan)"),
    ("iam:UpdateSAMLProvider", "replace a trusted identity provider's metadata and sign in as any role that trusts it"),
    ("iam:TagUser", "issue 10: where principal tags drive access (ABAC), tag oneself into it"),
    ("iam:TagRole", "issue 10: where principal tags drive access (ABAC), tag a role into it"),
    ("iam:UntagUser", "issue 10: remove the tags that deny access under ABAC"),
    ("iam:UntagRole", "issue 10: remove the tags that deny access under ABAC"),
    ("sts:GetFederationToken", "issue 10: federation credentials that outlive the revocation of the caller's keys"),
    ("lambda:UpdateFunctionCode", "Rhino #17 / cloudsplaining EditExistingLambdaFunctionWithRole: run code as a function's role"),
    ("lambda:UpdateFunctionConfiguration", "Rhino part 2: add a layer (code) or environment to a function, which runs as its role"),
    ("glue:UpdateDevEndpoint", "Rhino #19 / cloudsplaining UpdateExistingGlueDevEndpoint: SSH into an endpoint running as its role"),
    ("glue:UpdateJob", "issue 10: change the script an existing job runs as its role"),
    ("ssm:SendCommand", "issue 10: run commands on an instance, as its instance profile"),
    ("ssm:StartSession", "issue 10: a shell on an instance, as its instance profile"),
    ("ssm:CreateAssociation", "issue 10: run a document on instances, as their instance profiles"),
    ("ecs:ExecuteCommand", "cloudsplaining ECSExecuteCommandOnRunningTask: a shell in a task, as its task role"),
    ("ec2-instance-connect:SendSSHPublicKey", "cloudsplaining EC2InstanceConnectSendSSHPublicKey: SSH to an instance, as its instance profile"),
    ("ec2-instance-connect:SendSerialConsoleSSHPublicKey", "issue 10: serial console on an instance, as its instance profile"),
    ("ec2:ModifyInstanceAttribute", "cloudsplaining ModifyEC2InstanceUserDataThenRestart: user data runs as the instance profile at the next start"),
    ("sagemaker:CreatePresignedNotebookInstanceUrl", "Rhino part 2 / cloudsplaining CreatePresignedSageMakerNotebookUrl: a notebook running as its role"),
    ("sagemaker:CreatePresignedDomainUrl", "issue 10: SageMaker Studio as a user profile's execution role"),
    ("cloudformation:UpdateStack", "issue 10: a stack's service role runs the new template"),
    ("cloudformation:CreateStack", "issue 10: a template creates IAM principals and infrastructure; with a service role it runs as that role"),
    ("cloudformation:SetStackPolicy", "issue 10: lift the protection off resources a stack's role manages"),
    ("cloudformation:UpdateStackSet", "cloudsplaining PassRoleToUpdateCloudFormationStackSet: stack instances run as the execution role"),
    ("codebuild:StartBuild", "issue 10: a buildspec override runs as the project's service role"),
    ("codebuild:StartBuildBatch", "issue 10: a buildspec override runs as the project's service role"),
    ("codebuild:UpdateProject", "issue 10: change what a project runs as its service role"),
    ("sso:CreateAccountAssignment", "Identity Center: assign any permission set to anyone"),
    ("sso:DeleteAccountAssignment", "issue 10: Identity Center assignments removed (takes access away from their holders)"),
    ("sso:PutInlinePolicyToPermissionSet", "Identity Center: rewrite a permission set's policy"),
    ("sso:AttachManagedPolicyToPermissionSet", "Identity Center: attach any managed policy to a permission set"),
    ("sso:AttachCustomerManagedPolicyReferenceToPermissionSet", "Identity Center: attach any customer policy to a permission set"),
    ("sso:PutPermissionsBoundaryToPermissionSet", "Identity Center: replace a permission set's boundary"),
    ("sso:DeletePermissionsBoundaryFromPermissionSet", "Identity Center: remove a permission set's boundary"),
    ("sso:ProvisionPermissionSet", "Identity Center: push a changed permission set to its accounts"),
    ("identitystore:CreateGroupMembership", "issue 10: join an Identity Center group and inherit its assignments"),
];

/// Combinations (all needed, in any statements) that escalate without iam:PassRole.
pub(super) const COMBO_ESCALATION: &[(&[&str], &str)] = &[
    (
        &["codestar:CreateProject", "codestar:AssociateTeamMember"],
        "Rhino part 2: create a CodeStar project and make oneself its owner",
    ),
    (
        &["cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"],
        "cloudsplaining ExecuteCloudFormationChangeSet: a change set runs as the stack's role",
    ),
    (
        &["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"],
        "cloudsplaining ModifyExistingEC2LaunchTemplate: new instances run new user data as the template's instance profile",
    ),
    (
        &[
            "sagemaker:CreateNotebookInstanceLifecycleConfig",
            "sagemaker:UpdateNotebookInstance",
        ],
        "cloudsplaining UpdateSageMakerNotebookLifecycleConfig: a lifecycle script runs as the notebook's role",
    ),
    (
        &[
            "bedrock-agentcore:StartCodeInterpreterSession",
            "bedrock-agentcore:InvokeCodeInterpreter",
        ],
        "cloudsplaining AccessExistingBedrockCodeInterpreterSession: code runs as the interpreter's role",
    ),
];

/// Actions that start code or infrastructure running as a role passed with iam:PassRole.
pub(super) const PASSROLE: &[Entry] = &[
    (
        "ec2:RunInstances",
        "Rhino #3 / cloudsplaining CreateEC2WithExistingIP",
    ),
    (
        "ec2:RequestSpotInstances",
        "cloudsplaining PassExistingRoleToNewEC2SpotInstance",
    ),
    (
        "ec2:RequestSpotFleet",
        "EC2 Spot Fleet instances with an instance profile",
    ),
    (
        "ec2:CreateFleet",
        "EC2 Fleet instances with an instance profile",
    ),
    (
        "ec2:AssociateIamInstanceProfile",
        "put an instance profile on a running instance",
    ),
    (
        "ec2:ReplaceIamInstanceProfileAssociation",
        "swap a running instance's instance profile",
    ),
    (
        "ec2:CreateLaunchTemplate",
        "launch templates carry an instance profile",
    ),
    (
        "ec2:CreateLaunchTemplateVersion",
        "launch templates carry an instance profile",
    ),
    (
        "autoscaling:CreateLaunchConfiguration",
        "Auto Scaling instances with an instance profile",
    ),
    (
        "autoscaling:CreateAutoScalingGroup",
        "Auto Scaling instances with an instance profile",
    ),
    (
        "autoscaling:UpdateAutoScalingGroup",
        "Auto Scaling instances with an instance profile",
    ),
    (
        "lambda:CreateFunction",
        "Rhino #15, #16 / cloudsplaining PassExistingRoleToNewLambda*",
    ),
    (
        "lambda:UpdateFunctionConfiguration",
        "give a function another role",
    ),
    (
        "glue:CreateDevEndpoint",
        "Rhino #18 / cloudsplaining PassExistingRoleToNewGlueDevEndpoint",
    ),
    ("glue:UpdateDevEndpoint", "Rhino #19 with a new role"),
    (
        "glue:CreateJob",
        "cloudsplaining PassExistingRoleToNewGlueJob*",
    ),
    (
        "glue:UpdateJob",
        "cloudsplaining PassExistingRoleToUpdatedGlueJob*",
    ),
    (
        "glue:CreateSession",
        "Glue interactive sessions run as the passed role",
    ),
    (
        "cloudformation:CreateStack",
        "Rhino #20 / cloudsplaining PassExistingRoleToCloudFormation",
    ),
    (
        "cloudformation:UpdateStack",
        "a stack updated with a new service role",
    ),
    (
        "cloudformation:CreateChangeSet",
        "a change set with a service role",
    ),
    (
        "cloudformation:CreateStackSet",
        "cloudsplaining PassExistingRoleToNewCloudFormationStackSet",
    ),
    (
        "cloudformation:UpdateStackSet",
        "cloudsplaining PassRoleToUpdateCloudFormationStackSet",
    ),
    (
        "datapipeline:CreatePipeline",
        "Rhino #21 / cloudsplaining PassExistingRoleToNewDataPipeline",
    ),
    ("datapipeline:PutPipelineDefinition", "Rhino #21"),
    (
        "ecs:RunTask",
        "cloudsplaining PassExistingRoleToNewECSTaskViaRunTask",
    ),
    (
        "ecs:StartTask",
        "cloudsplaining PassExistingRoleToNewECSTaskViaStartTask",
    ),
    (
        "ecs:RegisterTaskDefinition",
        "cloudsplaining PassExistingRoleToNewECS* (task role)",
    ),
    (
        "ecs:CreateService",
        "cloudsplaining PassExistingRoleToNewECSService",
    ),
    (
        "ecs:UpdateService",
        "an ECS service moved to a task definition with another role",
    ),
    (
        "sagemaker:CreateNotebookInstance",
        "Rhino part 2 / cloudsplaining PassExistingRoleToNewSageMakerNotebookInstance",
    ),
    (
        "sagemaker:UpdateNotebookInstance",
        "a notebook given another role",
    ),
    (
        "sagemaker:CreateTrainingJob",
        "cloudsplaining PassExistingRoleToNewSageMakerTrainingJob",
    ),
    (
        "sagemaker:CreateProcessingJob",
        "cloudsplaining PassExistingRoleToNewSageMakerProcessingJob",
    ),
    (
        "sagemaker:CreateHyperParameterTuningJob",
        "training containers run as the passed role",
    ),
    (
        "sagemaker:CreateModel",
        "model containers run as the passed role",
    ),
    (
        "sagemaker:CreateDomain",
        "Studio apps run as the domain's execution role",
    ),
    (
        "sagemaker:CreateUserProfile",
        "Studio apps run as the profile's execution role",
    ),
    (
        "sagemaker:CreatePipeline",
        "pipeline steps run as the passed role",
    ),
    (
        "sagemaker:CreateAutoMLJob",
        "AutoML containers run as the passed role",
    ),
    (
        "codebuild:CreateProject",
        "cloudsplaining PassExistingRoleToNewCodeBuildProjectThenBuild",
    ),
    (
        "codebuild:UpdateProject",
        "a project given another service role",
    ),
    (
        "codebuild:StartBuild",
        "issue 10: a build with a service role override",
    ),
    (
        "codebuild:StartBuildBatch",
        "cloudsplaining PassExistingRoleToNewCodeBuildProjectThenBuildBatch",
    ),
    (
        "states:CreateStateMachine",
        "Step Functions: a state machine runs as the passed role",
    ),
    (
        "states:UpdateStateMachine",
        "Step Functions: a state machine given another role",
    ),
    (
        "batch:RegisterJobDefinition",
        "Batch: job containers run as the passed role",
    ),
    (
        "batch:SubmitJob",
        "Batch: job containers run as the passed role",
    ),
    (
        "batch:CreateComputeEnvironment",
        "Batch: instances run with the passed instance profile",
    ),
    (
        "elasticmapreduce:RunJobFlow",
        "EMR: cluster instances run as the passed roles",
    ),
    (
        "emr-serverless:StartJobRun",
        "EMR Serverless: jobs run as the passed execution role",
    ),
    (
        "emr-containers:StartJobRun",
        "EMR on EKS: jobs run as the passed execution role",
    ),
    (
        "apprunner:CreateService",
        "cloudsplaining PassExistingRoleToNewAppRunnerService",
    ),
    (
        "apprunner:UpdateService",
        "App Runner: a service given another instance role",
    ),
    (
        "scheduler:CreateSchedule",
        "EventBridge Scheduler: targets run as the passed role",
    ),
    (
        "scheduler:UpdateSchedule",
        "EventBridge Scheduler: targets run as the passed role",
    ),
    (
        "events:PutTargets",
        "EventBridge: rule targets (ECS tasks, Step Functions, ...) run as the passed role",
    ),
    (
        "codestar:CreateProject",
        "Rhino part 2: a CodeStar project runs as the passed service role",
    ),
    (
        "codepipeline:CreatePipeline",
        "CodePipeline: actions run as the passed role",
    ),
    (
        "codepipeline:UpdatePipeline",
        "CodePipeline: actions run as the passed role",
    ),
    (
        "airflow:CreateEnvironment",
        "MWAA: DAGs run as the passed execution role",
    ),
    (
        "airflow:UpdateEnvironment",
        "MWAA: DAGs run as the passed execution role",
    ),
    (
        "kafkaconnect:CreateConnector",
        "MSK Connect: connector code runs as the passed role",
    ),
    (
        "elasticbeanstalk:CreateEnvironment",
        "Elastic Beanstalk: instances run with the passed instance profile",
    ),
    (
        "elasticbeanstalk:UpdateEnvironment",
        "Elastic Beanstalk: instances run with the passed instance profile",
    ),
    (
        "eks:CreateNodegroup",
        "EKS: nodes run with the passed node role",
    ),
    (
        "imagebuilder:CreateInfrastructureConfiguration",
        "Image Builder: build instances run with the passed instance profile",
    ),
    (
        "ssm:StartAutomationExecution",
        "SSM Automation runs as the passed AutomationAssumeRole",
    ),
    (
        "ssm:CreateAssociation",
        "SSM Automation associations run as the passed role",
    ),
    (
        "bedrock-agentcore:CreateCodeInterpreter",
        "cloudsplaining PassExistingRoleToNewBedrockCodeInterpreter",
    ),
    (
        "gamelift:CreateFleet",
        "GameLift: fleet instances run as the passed role",
    ),
];

/// Switching off or blinding the guardrails and the audit trail.
pub(super) const DEFENSE_EVASION: &[Entry] = &[
    (
        "organizations:DetachPolicy",
        "issue 10: detach a service control policy",
    ),
    (
        "organizations:DeletePolicy",
        "issue 10: delete a service control policy",
    ),
    (
        "organizations:UpdatePolicy",
        "issue 10: rewrite a service control policy",
    ),
    (
        "organizations:DisablePolicyType",
        "turn off SCPs for a root",
    ),
    (
        "organizations:LeaveOrganization",
        "leave the organization and its SCPs",
    ),
    ("cloudtrail:StopLogging", "issue 10: stop a trail"),
    ("cloudtrail:DeleteTrail", "issue 10: delete a trail"),
    (
        "cloudtrail:UpdateTrail",
        "issue 10: redirect or narrow a trail",
    ),
    (
        "cloudtrail:PutEventSelectors",
        "issue 10: stop recording chosen events",
    ),
    (
        "cloudtrail:PutInsightSelectors",
        "turn off CloudTrail Insights",
    ),
    (
        "cloudtrail:DeleteEventDataStore",
        "delete a CloudTrail Lake store",
    ),
    (
        "cloudtrail:StopEventDataStoreIngestion",
        "stop a CloudTrail Lake store",
    ),
    (
        "cloudtrail:UpdateEventDataStore",
        "narrow a CloudTrail Lake store",
    ),
    ("guardduty:DeleteDetector", "issue 10: delete GuardDuty"),
    (
        "guardduty:UpdateDetector",
        "issue 10: disable GuardDuty or its sources",
    ),
    (
        "guardduty:DisassociateFromMasterAccount",
        "leave the GuardDuty administrator",
    ),
    (
        "guardduty:DisassociateFromAdministratorAccount",
        "leave the GuardDuty administrator",
    ),
    (
        "guardduty:CreateIPSet",
        "trust an IP list GuardDuty then ignores",
    ),
    (
        "guardduty:UpdateIPSet",
        "trust an IP list GuardDuty then ignores",
    ),
    ("guardduty:CreateFilter", "auto-archive findings"),
    ("guardduty:UpdateFilter", "auto-archive findings"),
    ("guardduty:DeleteMembers", "drop accounts from GuardDuty"),
    (
        "guardduty:DisassociateMembers",
        "drop accounts from GuardDuty",
    ),
    (
        "guardduty:StopMonitoringMembers",
        "stop monitoring accounts",
    ),
    (
        "guardduty:DeletePublishingDestination",
        "stop exporting findings",
    ),
    (
        "config:StopConfigurationRecorder",
        "issue 10: stop AWS Config",
    ),
    (
        "config:DeleteConfigurationRecorder",
        "delete AWS Config's recorder",
    ),
    ("config:DeleteDeliveryChannel", "stop AWS Config's delivery"),
    (
        "config:PutConfigurationRecorder",
        "narrow what AWS Config records",
    ),
    ("config:DeleteConfigRule", "delete a compliance rule"),
    ("iam:DeactivateMFADevice", "issue 10: remove a user's MFA"),
    ("iam:DeleteVirtualMFADevice", "remove a user's MFA device"),
    (
        "iam:DeleteRolePermissionsBoundary",
        "issue 10: remove a role's boundary",
    ),
    (
        "iam:DeleteUserPermissionsBoundary",
        "remove a user's boundary",
    ),
    (
        "iam:DeleteAccountPasswordPolicy",
        "remove the password policy",
    ),
    ("securityhub:DisableSecurityHub", "turn off Security Hub"),
    (
        "securityhub:BatchUpdateFindings",
        "suppress Security Hub findings",
    ),
    (
        "securityhub:DisableImportFindingsForProduct",
        "stop importing findings",
    ),
    (
        "access-analyzer:DeleteAnalyzer",
        "delete IAM Access Analyzer",
    ),
    ("detective:DeleteGraph", "delete Amazon Detective"),
    ("macie2:DisableMacie", "turn off Macie"),
    ("inspector2:Disable", "turn off Inspector"),
    ("ec2:DeleteFlowLogs", "stop VPC flow logs"),
];

/// Actions that return credentials, tokens or secrets. On every resource of their type
/// they are credentials exposure; on named resources a warning.
/// Left out because the catalog has no such action (so a policy naming one is an
/// unknown-action error): connect:GetFederationTokens, sso:GetRoleCredentials,
/// iot:AssumeRoleWithCertificate, cloudsplaining's misspelt gamelist:*.
pub(super) const CREDENTIALS: &[Entry] = &[
    (
        "secretsmanager:GetSecretValue",
        "issue 10 / cloudsplaining data exfiltration: secret values",
    ),
    (
        "ssm:GetParameter",
        "issue 10 / cloudsplaining data exfiltration: SecureString parameters",
    ),
    (
        "ssm:GetParameters",
        "issue 10 / cloudsplaining data exfiltration: SecureString parameters",
    ),
    (
        "ssm:GetParametersByPath",
        "issue 10 / cloudsplaining data exfiltration: SecureString parameters",
    ),
    (
        "ssm:GetParameterHistory",
        "parameter values, including old ones",
    ),
    (
        "kms:Decrypt",
        "issue 10: decrypt anything encrypted under the keys",
    ),
    (
        "lambda:GetFunction",
        "issue 10: function code and environment variables",
    ),
    (
        "lambda:GetFunctionConfiguration",
        "function environment variables",
    ),
    (
        "redshift:GetClusterCredentials",
        "issue 10 / cloudsplaining: database credentials",
    ),
    (
        "redshift:GetClusterCredentialsWithIAM",
        "cloudsplaining: database credentials",
    ),
    (
        "redshift-serverless:GetCredentials",
        "cloudsplaining: database credentials",
    ),
    (
        "rds-db:connect",
        "cloudsplaining / parliament: database login as the users named",
    ),
    (
        "ec2:GetPasswordData",
        "issue 10 / cloudsplaining: Windows administrator passwords",
    ),
    (
        "ecr:GetAuthorizationToken",
        "issue 10 / cloudsplaining / parliament: a registry token",
    ),
    (
        "ecr-public:GetAuthorizationToken",
        "cloudsplaining: a registry token",
    ),
    (
        "codeartifact:GetAuthorizationToken",
        "cloudsplaining: a repository token",
    ),
    (
        "iam:CreateServiceSpecificCredential",
        "cloudsplaining / parliament: CodeCommit or Keyspaces credentials for a user",
    ),
    (
        "iam:ResetServiceSpecificCredential",
        "cloudsplaining / parliament: new service-specific password for a user",
    ),
    (
        "iam:UpdateAccessKey",
        "cloudsplaining / parliament: reactivate a user's access key",
    ),
    (
        "sts:AssumeRole",
        "cloudsplaining / parliament: role credentials",
    ),
    (
        "sts:AssumeRoleWithSAML",
        "cloudsplaining / parliament: role credentials",
    ),
    (
        "sts:AssumeRoleWithWebIdentity",
        "cloudsplaining / parliament: role credentials",
    ),
    (
        "sts:GetSessionToken",
        "cloudsplaining / parliament: session credentials",
    ),
    (
        "airflow:CreateCliToken",
        "cloudsplaining: an Airflow CLI token",
    ),
    (
        "airflow:CreateWebLoginToken",
        "cloudsplaining: an Airflow web token",
    ),
    ("appsync:CreateApiKey", "cloudsplaining: an API key"),
    ("chime:CreateApiKey", "cloudsplaining: an API key"),
    (
        "cloud9:CreateEnvironmentToken",
        "cloudsplaining: an environment token",
    ),
    (
        "codepipeline:PollForJobs",
        "cloudsplaining / parliament: job credentials",
    ),
    (
        "cognito-identity:GetOpenIdToken",
        "cloudsplaining / parliament: an OpenID token",
    ),
    (
        "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
        "cloudsplaining / parliament: an OpenID token",
    ),
    (
        "cognito-identity:GetCredentialsForIdentity",
        "cloudsplaining / parliament: identity credentials",
    ),
    (
        "cognito-idp:GetSigningCertificate",
        "cloudsplaining: a signing certificate",
    ),
    (
        "cognito-idp:AssociateSoftwareToken",
        "parliament: a TOTP secret",
    ),
    (
        "cognito-idp:DescribeUserPoolClient",
        "parliament: the app client secret",
    ),
    (
        "connect:GetFederationToken",
        "cloudsplaining / parliament: a federation token",
    ),
    (
        "emr-containers:GetManagedEndpointSessionCredentials",
        "cloudsplaining: session credentials",
    ),
    (
        "finspace-api:GetProgrammaticAccessCredentials",
        "cloudsplaining: programmatic credentials",
    ),
    (
        "gamelift:RequestUploadCredentials",
        "cloudsplaining / parliament: upload credentials",
    ),
    (
        "gamelift:GetInstanceAccess",
        "cloudsplaining: instance credentials",
    ),
    (
        "gamelift:GetComputeAccess",
        "cloudsplaining: compute credentials",
    ),
    (
        "gamelift:GetComputeAuthToken",
        "cloudsplaining: a compute token",
    ),
    (
        "grafana:CreateWorkspaceApiKey",
        "cloudsplaining: a workspace API key",
    ),
    (
        "license-manager:GetAccessToken",
        "cloudsplaining: an access token",
    ),
    (
        "lightsail:GetInstanceAccessDetails",
        "cloudsplaining / parliament: instance SSH keys",
    ),
    (
        "lightsail:DownloadDefaultKeyPair",
        "cloudsplaining: the default key pair",
    ),
    (
        "lightsail:CreateBucketAccessKey",
        "cloudsplaining: bucket access keys",
    ),
    (
        "lightsail:GetRelationalDatabaseMasterUserPassword",
        "cloudsplaining / parliament: a database password",
    ),
    (
        "mediapackage:RotateChannelCredentials",
        "cloudsplaining: channel credentials",
    ),
    (
        "mediapackage:RotateIngestEndpointCredentials",
        "cloudsplaining / parliament: ingest credentials",
    ),
];

/// Reading or copying data out of every resource of a type.
pub(super) const DATA_EXFILTRATION: &[Entry] = &[
    (
        "s3:GetObject",
        "cloudsplaining data exfiltration: every object",
    ),
    ("s3:GetObjectVersion", "every object version"),
    (
        "rds:CopyDBSnapshot",
        "cloudsplaining default exclusions include-actions: copy database snapshots",
    ),
    (
        "rds:CreateDBSnapshot",
        "cloudsplaining default exclusions include-actions: snapshot databases",
    ),
    ("rds:CopyDBClusterSnapshot", "copy cluster snapshots"),
    ("rds:CreateDBClusterSnapshot", "snapshot clusters"),
    (
        "rds:ModifyDBSnapshotAttribute",
        "share database snapshots with other accounts",
    ),
    (
        "rds:ModifyDBClusterSnapshotAttribute",
        "share cluster snapshots with other accounts",
    ),
    (
        "ec2:ModifySnapshotAttribute",
        "share volume snapshots with other accounts",
    ),
    ("ec2:CreateSnapshot", "snapshot volumes"),
    ("dynamodb:Scan", "read every table"),
    ("dynamodb:Query", "read every table"),
    ("dynamodb:GetItem", "read every table"),
    ("dynamodb:BatchGetItem", "read every table"),
    ("dynamodb:ExportTableToPointInTime", "export every table"),
];

/// `ecr:GetAuthorizationToken` plus pulling from every repository: every image.
pub(super) const ECR_PULL: &[&str] = &["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

const fn names<const N: usize>(table: &[Entry]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = table[i].0;
        i += 1;
    }
    out
}

/// Single actions that let a holder raise their own privileges (Rhino Security Labs'
/// methods, cloudsplaining's, and the Identity Center equivalents).
pub const ESCALATION_ACTIONS: &[&str] = &names::<{ SINGLE_ESCALATION.len() }>(SINGLE_ESCALATION);

/// Actions that run code or infrastructure as a role passed with `iam:PassRole`.
pub const PASSROLE_TARGETS: &[&str] = &names::<{ PASSROLE.len() }>(PASSROLE);

#[cfg(test)]
mod tests {
    use super::super::super::catalog;
    use super::*;

    #[test]
    fn every_action_exists_in_the_catalog() {
        let singles = SINGLE_ESCALATION
            .iter()
            .chain(PASSROLE)
            .chain(DEFENSE_EVASION)
            .chain(CREDENTIALS)
            .chain(DATA_EXFILTRATION)
            .map(|(a, _)| *a);
        let combos = COMBO_ESCALATION.iter().flat_map(|(a, _)| a.iter().copied());
        for a in singles.chain(combos).chain(ECR_PULL.iter().copied()) {
            assert!(catalog::action(a).is_some(), "{a} is not in the catalog");
        }
        assert_eq!(ESCALATION_ACTIONS.len(), SINGLE_ESCALATION.len());
        assert_eq!(PASSROLE_TARGETS[0], "ec2:RunInstances");
    }
}
