//! Judging an existing permission set by what it grants: the validator over each policy
//! it holds, plus findings for the AWS-managed policies that amount to administrator
//! access and for policies that could not be read.

use super::findings::{codes, Finding, Severity};
use super::{PolicyTarget, ValidateOptions};
use crate::grant::PermissionSetContents;

/// AWS-managed policies whose presence alone needs an explicit acknowledgement.
pub const BROAD_MANAGED_POLICIES: &[&str] =
    &["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"];

/// The findings of everything the permission set grants. What AWS already accepted is
/// never blocking here: an error of the validator (an action newer than our catalog, a
/// size over a managed policy's limit) becomes a warning; security findings stay, and so
/// does a service outside `allowed_services`, which blocks.
pub fn judge(
    contents: &PermissionSetContents,
    allowed_services: Option<&[String]>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let opts = ValidateOptions {
        allowed_services: allowed_services.map(<[String]>::to_vec),
        target: PolicyTarget::PermissionSetInline,
    };
    for p in contents.managed.iter().chain(&contents.customer_managed) {
        let name = p.reference.rsplit('/').next().unwrap_or(&p.reference);
        if p.reference.starts_with("arn:aws:iam::aws:policy/")
            && BROAD_MANAGED_POLICIES.contains(&name)
        {
            out.push(Finding::new(
                codes::BROAD_MANAGED_POLICY,
                format!("permission set {} carries the AWS-managed policy {name}", contents.name),
                "assign a narrower permission set, or request a policy for exactly what is needed",
            ).resource(p.reference.clone()));
        }
        match (&p.document, &p.unread) {
            (Some(doc), _) => out.extend(from(&p.reference, super::validate(doc, &opts))),
            (None, why) => out.push(
                Finding::new(
                    codes::POLICY_UNREAD,
                    format!(
                        "{} of permission set {} could not be read ({}); what it grants is unknown",
                        p.reference,
                        contents.name,
                        why.as_deref().unwrap_or("no reason given")
                    ),
                    "read the policy in the target account before approving",
                )
                .resource(p.reference.clone()),
            ),
        }
    }
    if let Some(doc) = &contents.inline {
        out.extend(from("inline policy", super::validate(doc, &opts)));
    }
    out
}

/// Findings of one policy, labelled with where it came from. Never blocking, but for a
/// service outside ALLOWED_SERVICES: the permission set must stay within them as a
/// policy must.
fn from(source: &str, findings: Vec<Finding>) -> Vec<Finding> {
    findings
        .into_iter()
        .map(|mut f| {
            if f.severity == Severity::Error && f.code != codes::SERVICE_NOT_ALLOWED {
                f.severity = Severity::Warning;
            }
            f.message = format!("{source}: {}", f.message);
            f
        })
        .collect()
}
