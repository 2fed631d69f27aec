//! The validator: grammar, catalog facts, target limits, and security review.
//! It reads only the catalog services a policy names.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::arn;
use super::catalog::{self, AccessLevel, Action, Service};
use super::document::{self, Effect, Statement};
use super::findings::{codes, Finding};
use super::{PolicyTarget, ValidateOptions};

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

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// An action a statement grants, after wildcard expansion.
struct Granted {
    service: &'static Service,
    action: &'static Action,
    /// The pattern it came from, when it came from a wildcard.
    pattern: Option<String>,
}

impl Granted {
    fn full(&self) -> String {
        format!("{}:{}", self.service.prefix, self.action.name)
    }
}

pub fn validate(doc: &Value, opts: &ValidateOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    let statements = document::parse(doc, &mut findings);

    let size = document::size_without_whitespace(doc);
    let limit = opts.target.size_limit();
    if size > limit {
        findings.push(Finding::new(
            codes::SIZE_LIMIT,
            format!(
                "the policy is {size} characters without white space; a {} allows {limit}",
                opts.target.describe()
            ),
            "split the grant, name fewer actions, or use a permission set (32,768 characters)",
        ));
    }

    let allowed: Option<Vec<String>> = opts
        .allowed_services
        .as_ref()
        .map(|v| v.iter().map(|s| lower(s.trim())).collect());

    // Everything the policy allows (lowercase `svc:action`) and, per action, its resources.
    let mut policy_allows: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut explicit_allows: Vec<(usize, &'static Service, &'static Action)> = Vec::new();
    let mut allows_everything = false;

    for st in &statements {
        let granted = check_statement(st, allowed.as_deref(), &mut findings);
        let allow = st.effect == Effect::Allow;
        if allow && !st.not_action {
            if st
                .actions
                .iter()
                .any(|a| a == "*" || a.split(':').next().is_some_and(|s| s.contains('*')))
            {
                allows_everything = true;
            }
            for g in &granted {
                policy_allows
                    .entry(lower(&g.full()))
                    .or_default()
                    .extend(st.resources.iter().cloned());
                if g.pattern.is_none() {
                    explicit_allows.push((st.index, g.service, g.action));
                }
            }
        }
        if allow {
            security_review(st, &granted, &mut findings);
        }
    }

    // iam:PassRole together with a service that runs as the passed role.
    if !allows_everything {
        if let Some(passrole_resources) = policy_allows.get("iam:passrole") {
            for target in PASSROLE_TARGETS {
                if policy_allows.contains_key(&lower(target)) {
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

        // Dependent actions the policy does not grant (one finding per action).
        let mut reported = BTreeSet::new();
        for (i, svc, a) in &explicit_allows {
            let full = format!("{}:{}", svc.prefix, a.name);
            if !reported.insert(lower(&full)) {
                continue;
            }
            let missing: Vec<&str> = a
                .dependent_actions
                .iter()
                .filter(|d| !policy_allows.contains_key(&lower(d)))
                .map(String::as_str)
                .collect();
            if missing.is_empty() {
                continue;
            }
            findings.push(
                Finding::new(
                    codes::MISSING_DEPENDENT_ACTION,
                    format!(
                        "{full} may also need {} (dependent actions in the Service Authorization Reference)",
                        missing.join(", ")
                    ),
                    "add them if the call fails with AccessDenied",
                )
                .at(*i)
                .action(full),
            );
        }
    }
    findings
}

fn check_statement(
    st: &Statement,
    allowed: Option<&[String]>,
    findings: &mut Vec<Finding>,
) -> Vec<Granted> {
    let i = st.index;
    let allow = st.effect == Effect::Allow && !st.not_action;
    let element = if st.not_action { "NotAction" } else { "Action" };
    let mut granted: Vec<Granted> = Vec::new();
    let mut explicit_seen: BTreeSet<String> = BTreeSet::new();
    let mut patterns: Vec<(String, &'static Service)> = Vec::new();
    let mut all_known = true;

    for a in &st.actions {
        if a == "*" {
            all_known = false;
            if allow {
                findings.push(
                    Finding::new(
                        codes::FULL_WILDCARD,
                        "\"Action\": \"*\" grants every action in every service",
                        "name the service and the actions, e.g. s3:GetObject",
                    )
                    .at(i)
                    .action(a.clone()),
                );
            }
            if allowed.is_some() && st.effect == Effect::Allow {
                findings.push(
                    Finding::new(
                        codes::SERVICE_NOT_ALLOWED,
                        "\"*\" includes services outside ALLOWED_SERVICES",
                        "name actions of allowed services only",
                    )
                    .at(i)
                    .action(a.clone()),
                );
            }
            continue;
        }
        let Some((svc_part, name)) = a.split_once(':') else {
            findings.push(malformed_action(a, i));
            all_known = false;
            continue;
        };
        if svc_part.contains(['*', '?']) {
            all_known = false;
            if allow {
                findings.push(
                    Finding::new(
                        codes::FULL_WILDCARD,
                        format!(
                            "`{a}` has a wildcard in the service prefix and reaches many services"
                        ),
                        "name one service per action, e.g. s3:GetObject",
                    )
                    .at(i)
                    .action(a.clone()),
                );
            }
            continue;
        }
        if name.is_empty() || name.contains(':') {
            findings.push(malformed_action(a, i));
            all_known = false;
            continue;
        }
        let Some(service) = catalog::service(svc_part) else {
            findings.push(
                Finding::new(
                    codes::UNKNOWN_SERVICE,
                    format!("`{svc_part}` is not an AWS service prefix"),
                    "use the prefix from the Service Authorization Reference, e.g. s3, ec2, dynamodb, logs",
                )
                .at(i)
                .action(a.clone()),
            );
            all_known = false;
            continue;
        };
        if let Some(list) = allowed {
            if st.effect == Effect::Allow && !list.iter().any(|s| s == &service.prefix) {
                findings.push(
                    Finding::new(
                        codes::SERVICE_NOT_ALLOWED,
                        format!(
                            "service `{}` is not in ALLOWED_SERVICES ({})",
                            service.prefix,
                            list.join(",")
                        ),
                        "remove the action or ask an administrator to allow the service",
                    )
                    .at(i)
                    .action(a.clone()),
                );
            }
        }
        if name.contains(['*', '?']) {
            let matched = service.matching(name);
            if matched.is_empty() {
                findings.push(
                    Finding::new(
                        codes::WILDCARD_NO_MATCH,
                        format!("`{a}` matches no {} action", service.prefix),
                        "check the spelling against the Service Authorization Reference",
                    )
                    .at(i)
                    .action(a.clone()),
                );
                continue;
            }
            if name == "*" {
                if allow {
                    findings.push(
                        Finding::new(
                            codes::SERVICE_WILDCARD,
                            format!(
                                "`{a}` grants all {} actions of {}",
                                matched.len(),
                                service.prefix
                            ),
                            "name the actions needed, or use `aws-jit policy generate --service ... --access read`",
                        )
                        .at(i)
                        .action(a.clone()),
                    );
                }
            } else {
                findings.push(
                    Finding::new(
                        codes::ACTION_WILDCARD,
                        format!(
                            "`{a}` is a wildcard ({} actions today; AWS may add more later)",
                            matched.len()
                        ),
                        "list the actions explicitly",
                    )
                    .at(i)
                    .action(a.clone()),
                );
            }
            patterns.push((lower(name), service));
            for m in matched {
                granted.push(Granted {
                    service,
                    action: m,
                    pattern: Some(a.clone()),
                });
            }
        } else {
            match service.action(name) {
                Some(action) => {
                    let key = lower(a);
                    if !explicit_seen.insert(key) {
                        findings.push(
                            Finding::new(
                                codes::REDUNDANT_ACTION,
                                format!("`{a}` is listed more than once in {element}"),
                                "list each action once",
                            )
                            .at(i)
                            .action(a.clone()),
                        );
                        continue;
                    }
                    granted.push(Granted {
                        service,
                        action,
                        pattern: None,
                    });
                }
                None => {
                    let hint = suggestion(service, name);
                    findings.push(
                        Finding::new(
                            codes::UNKNOWN_ACTION,
                            format!("`{a}` is not a {} action{hint}", service.prefix),
                            "check the spelling against the Service Authorization Reference",
                        )
                        .at(i)
                        .action(a.clone()),
                    );
                    all_known = false;
                }
            }
        }
    }

    // Explicit actions already covered by a wildcard in the same statement.
    for g in granted.iter().filter(|g| g.pattern.is_none()) {
        let covered = patterns.iter().find(|(p, svc)| {
            svc.prefix == g.service.prefix && catalog::glob_match(p, &lower(&g.action.name))
        });
        if let Some((p, svc)) = covered {
            findings.push(
                Finding::new(
                    codes::REDUNDANT_ACTION,
                    format!("`{}` is already covered by `{}:{p}`", g.full(), svc.prefix),
                    "remove one of them (prefer the explicit action)",
                )
                .at(i)
                .action(g.full()),
            );
        }
    }

    // Resources.
    let mut concrete: Vec<&String> = Vec::new();
    let mut has_star = false;
    for r in &st.resources {
        match arn::check_syntax(r) {
            Ok(()) if r == "*" => has_star = true,
            Ok(()) => concrete.push(r),
            Err(msg) => findings.push(
                Finding::new(
                    codes::MALFORMED_ARN,
                    msg,
                    "write a full ARN, e.g. arn:aws:s3:::my-bucket, or \"*\"",
                )
                .at(i)
                .resource(r.clone()),
            ),
        }
    }
    if !st.not_resource && !st.not_action {
        if !has_star {
            // Every explicit action needs a resource it accepts.
            for g in granted.iter().filter(|g| g.pattern.is_none()) {
                if concrete.is_empty() {
                    continue;
                }
                let types = g.service.action_resource_types(g.action);
                if types.is_empty() {
                    findings.push(
                        Finding::new(
                            codes::RESOURCE_MISMATCH,
                            format!(
                                "{} supports no resource-level permissions, so no ARN can grant it",
                                g.full()
                            ),
                            "move it to a statement with \"Resource\": \"*\"",
                        )
                        .at(i)
                        .action(g.full()),
                    );
                } else if !concrete
                    .iter()
                    .any(|r| g.service.action_accepts(g.action, r))
                {
                    let want: Vec<String> = types
                        .iter()
                        .map(|t| format!("{} ({})", t.name, t.arn))
                        .collect();
                    findings.push(
                        Finding::new(
                            codes::RESOURCE_MISMATCH,
                            format!(
                                "no resource of the statement is of a type {} accepts: {}",
                                g.full(),
                                want.join(", ")
                            ),
                            "add an ARN of one of those types, or move the action to its own statement",
                        )
                        .at(i)
                        .action(g.full()),
                    );
                }
            }
            // Every wildcard pattern needs at least one of its actions to fit a resource.
            let mut pattern_names: Vec<&String> =
                granted.iter().filter_map(|g| g.pattern.as_ref()).collect();
            pattern_names.dedup();
            for p in pattern_names {
                let fits = granted
                    .iter()
                    .filter(|g| g.pattern.as_ref() == Some(p))
                    .any(|g| {
                        concrete
                            .iter()
                            .any(|r| g.service.action_accepts(g.action, r))
                    });
                if !fits && !concrete.is_empty() {
                    findings.push(
                        Finding::new(
                            codes::RESOURCE_MISMATCH,
                            format!("none of the actions `{p}` matches accepts the statement's resources"),
                            "use ARNs of the resource types these actions accept",
                        )
                        .at(i)
                        .action(p.clone()),
                    );
                }
            }
        }
        // Every resource must fit some action of the statement.
        if all_known && !granted.is_empty() {
            for r in &concrete {
                if !granted
                    .iter()
                    .any(|g| g.service.action_accepts(g.action, r))
                {
                    findings.push(
                        Finding::new(
                            codes::RESOURCE_MISMATCH,
                            format!("`{r}` matches no resource type of the statement's actions"),
                            "check the ARN (service, resource type, separators) or remove it",
                        )
                        .at(i)
                        .resource((*r).clone()),
                    );
                }
            }
        }
        // "Resource": "*" on actions that could be scoped.
        if has_star && st.effect == Effect::Allow {
            let mut by_pattern: BTreeMap<String, usize> = BTreeMap::new();
            for g in &granted {
                if g.action.resources.is_empty() {
                    continue;
                }
                match &g.pattern {
                    None => findings.push(
                        Finding::new(
                            codes::RESOURCE_STAR,
                            format!(
                                "{} supports resource-level permissions but is granted on \"*\"",
                                g.full()
                            ),
                            format!(
                                "name the resources instead of \"*\" ({})",
                                g.service
                                    .action_resource_types(g.action)
                                    .iter()
                                    .map(|t| t.arn.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                        .at(i)
                        .action(g.full())
                        .resource("*"),
                    ),
                    Some(p) => *by_pattern.entry(p.clone()).or_default() += 1,
                }
            }
            for (p, n) in by_pattern {
                findings.push(
                    Finding::new(
                        codes::RESOURCE_STAR,
                        format!("{n} actions of `{p}` support resource-level permissions but are granted on \"*\""),
                        "name the actions and their resources instead of \"*\"",
                    )
                    .at(i)
                    .action(p)
                    .resource("*"),
                );
            }
        }
    }
    granted
}

fn security_review(st: &Statement, granted: &[Granted], findings: &mut Vec<Finding>) {
    let i = st.index;
    if st.not_action {
        findings.push(
            Finding::new(
                codes::ALLOW_NOT_ACTION,
                "Allow with NotAction grants every action not listed, including future ones",
                "list the allowed actions in Action instead",
            )
            .at(i),
        );
        return;
    }
    if st.not_resource {
        findings.push(
            Finding::new(
                codes::ALLOW_NOT_RESOURCE,
                "Allow with NotResource grants the actions on every resource not listed",
                "list the allowed resources in Resource instead",
            )
            .at(i),
        );
    }
    let escalation: BTreeSet<String> = ESCALATION_ACTIONS.iter().map(|a| lower(a)).collect();
    let mut pm_by_pattern: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in granted {
        let full = g.full();
        if escalation.contains(&lower(&full)) {
            findings.push(
                Finding::new(
                    codes::PRIVILEGE_ESCALATION,
                    format!(
                        "{full} lets the holder give themselves more permissions{}",
                        g.pattern
                            .as_ref()
                            .map(|p| format!(" (granted by `{p}`)"))
                            .unwrap_or_default()
                    ),
                    "remove it; if it is truly needed, the approver must acknowledge it",
                )
                .at(i)
                .action(full.clone()),
            );
        }
        if g.action.level == AccessLevel::PermissionsManagement {
            match &g.pattern {
                None => findings.push(
                    Finding::new(
                        codes::PERMISSIONS_MANAGEMENT,
                        format!("{full} is a Permissions management action (it changes who can do what)"),
                        "remove it unless permission changes are the purpose of the request",
                    )
                    .at(i)
                    .action(full.clone()),
                ),
                Some(p) => pm_by_pattern.entry(p.clone()).or_default().push(full.clone()),
            }
        }
        let lf = lower(&full);
        if lf == "sts:assumerole"
            || lf == "sts:assumerolewithsaml"
            || lf == "sts:assumerolewithwebidentity"
        {
            for r in &st.resources {
                if r == "*" || r.ends_with(":role/*") || r.ends_with(":*") {
                    findings.push(
                        Finding::new(
                            codes::ASSUME_ANY_ROLE,
                            format!("{full} on `{r}` can assume any role that trusts the account"),
                            "name the role ARNs to assume",
                        )
                        .at(i)
                        .action(full.clone())
                        .resource(r.clone()),
                    );
                }
            }
        }
    }
    for (p, names) in pm_by_pattern {
        let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
        findings.push(
            Finding::new(
                codes::PERMISSIONS_MANAGEMENT,
                format!(
                    "`{p}` includes {} Permissions management actions ({}{})",
                    names.len(),
                    shown.join(", "),
                    if names.len() > 5 { ", ..." } else { "" }
                ),
                "name the actions needed instead of the wildcard",
            )
            .at(i)
            .action(p),
        );
    }
}

/// ` (did you mean s3:GetObject?)` for a near miss: same name ignoring case was handled by
/// the lookup, so try a shared prefix.
fn suggestion(service: &Service, name: &str) -> String {
    let l = lower(name);
    let best = service
        .actions
        .iter()
        .map(|a| {
            let al = lower(&a.name);
            let common = al
                .chars()
                .zip(l.chars())
                .take_while(|(x, y)| x == y)
                .count();
            (common, a)
        })
        .filter(|(c, _)| *c >= 4)
        .max_by_key(|(c, _)| *c);
    match best {
        Some((_, a)) => format!(" (did you mean {}:{}?)", service.prefix, a.name),
        None => String::new(),
    }
}

impl PolicyTarget {
    pub fn size_limit(self) -> usize {
        match self {
            PolicyTarget::ManagedPolicy => 6144,
            PolicyTarget::PermissionSetInline => 32768,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            PolicyTarget::ManagedPolicy => "managed policy",
            PolicyTarget::PermissionSetInline => "permission-set inline policy",
        }
    }
}

/// An Action entry that is not `prefix:Name`.
fn malformed_action(a: &str, statement: usize) -> Finding {
    Finding::new(
        codes::ACTION_ELEMENT,
        format!("`{a}` is not of the form service:Action"),
        "write actions as prefix:Name, e.g. s3:GetObject",
    )
    .at(statement)
    .action(a.to_string())
}
