//! Privilege escalation: the single actions and the combinations (across statements) that
//! let a holder raise their own privileges.

use std::collections::BTreeMap;

use super::super::catalog::{Action, Service};
use super::super::document::{Effect, Statement};
use super::super::findings::{codes, Finding};
use super::actions::Granted;
use super::lower;

/// Single actions that let a holder raise their own privileges (Rhino Security Labs'
/// IAM escalation methods plus their Identity Center equivalents).
pub const ESCALATION_ACTIONS: &[&str] = &[
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup",
    "iam:PutUserPermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "sso:PutInlinePolicyToPermissionSet",
    "sso:AttachManagedPolicyToPermissionSet",
    "sso:AttachCustomerManagedPolicyReferenceToPermissionSet",
    "sso:PutPermissionsBoundaryToPermissionSet",
    "sso:CreateAccountAssignment",
];

/// Actions that run code or infrastructure as a role passed with `iam:PassRole`.
pub const PASSROLE_TARGETS: &[&str] = &[
    "ec2:RunInstances",
    "ec2:RequestSpotInstances",
    "ec2:AssociateIamInstanceProfile",
    "ec2:ReplaceIamInstanceProfileAssociation",
    "lambda:CreateFunction",
    "lambda:UpdateFunctionConfiguration",
    "glue:CreateDevEndpoint",
    "glue:UpdateDevEndpoint",
    "glue:CreateJob",
    "glue:UpdateJob",
    "glue:CreateSession",
    "cloudformation:CreateStack",
    "cloudformation:UpdateStack",
    "cloudformation:CreateChangeSet",
    "cloudformation:CreateStackSet",
    "datapipeline:CreatePipeline",
    "datapipeline:PutPipelineDefinition",
    "ecs:RunTask",
    "ecs:StartTask",
    "ecs:RegisterTaskDefinition",
    "ecs:CreateService",
    "sagemaker:CreateNotebookInstance",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "codebuild:CreateProject",
    "codebuild:UpdateProject",
    "states:CreateStateMachine",
    "autoscaling:CreateLaunchConfiguration",
    "batch:RegisterJobDefinition",
];

/// What the whole policy allows, gathered statement by statement.
#[derive(Default)]
pub(super) struct PolicyGrants {
    /// Lowercase `svc:action` → the resources of the statements that allow it.
    pub by_action: BTreeMap<String, Vec<String>>,
    /// Actions named without a wildcard: (statement, service, action).
    pub explicit: Vec<(usize, &'static Service, &'static Action)>,
    /// `"*"` or a wildcard service prefix in an Allow statement.
    pub allows_everything: bool,
}

impl PolicyGrants {
    pub fn record(&mut self, st: &Statement, granted: &[Granted]) {
        if st.effect != Effect::Allow || st.not_action {
            return;
        }
        if st
            .actions
            .iter()
            .any(|a| a == "*" || a.split(':').next().is_some_and(|s| s.contains('*')))
        {
            self.allows_everything = true;
        }
        for g in granted {
            self.by_action
                .entry(lower(&g.full()))
                .or_default()
                .extend(st.resources.iter().cloned());
            if g.pattern.is_none() {
                self.explicit.push((st.index, g.service, g.action));
            }
        }
    }

    /// Does an Allow statement grant `svc:Action` (any case)?
    pub fn allows(&self, action: &str) -> bool {
        self.by_action.contains_key(&lower(action))
    }
}

/// iam:PassRole together with a service that runs as the passed role.
pub(super) fn passrole_combinations(grants: &PolicyGrants, findings: &mut Vec<Finding>) {
    let Some(passrole_resources) = grants.by_action.get("iam:passrole") else {
        return;
    };
    for target in PASSROLE_TARGETS {
        if grants.allows(target) {
            findings.push(
                Finding::new(
                    codes::PASSROLE_ESCALATION,
                    format!(
                        "iam:PassRole (on {}) with {target} lets the holder run code as any role it can pass",
                        passrole_resources.join(", ")
                    ),
                    "drop iam:PassRole, or scope it to one role ARN and add an iam:PassedToService condition; the approver must acknowledge it",
                )
                .action(format!("iam:PassRole+{target}")),
            );
        }
    }
}
