//! `aws-jit request`: build the policy, validate it, store a pending request, notify.

use anyhow::{Context as _, Result};
use serde_json::Value;

use super::Ctx;
use crate::cli::RequestArgs;
use crate::error::{invalid, JitError};
use crate::output::{Failure, Outcome, Report};
use crate::policy::{self, GenerateInput, GeneratorChoice, PolicyTarget, ValidateOptions};
use crate::request::{self, NewRequest, Request, Target, Terms};
use crate::time::{parse_duration, Timestamp};

/// IAM names: users and roles up to 64, policies up to 128 characters of `[\w+=,.@-]`.
pub fn check_iam_name(field: &str, name: &str, max: usize) -> Result<(), JitError> {
    let ok = !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(JitError::invalid(
            field,
            format!("`{name}` is not a valid IAM name: 1 to {max} characters of letters, digits and _+=,.@-"),
        ))
    }
}

fn target(args: &RequestArgs) -> Result<Target> {
    if let Some(name) = &args.iam_user {
        check_iam_name("--iam-user", name, 64)?;
        return Ok(Target::IamUser { name: name.clone() });
    }
    if let Some(name) = &args.iam_role {
        check_iam_name("--iam-role", name, 64)?;
        return Ok(Target::IamRole { name: name.clone() });
    }
    match (&args.sso_user, &args.account_id) {
        (Some(user), Some(account)) => {
            if user.trim().is_empty() || user.len() > 128 {
                return invalid("--sso-user", "give the Identity Center user name or email");
            }
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return invalid(
                    "--account-id",
                    format!("`{account}` is not a 12-digit AWS account id"),
                );
            }
            Ok(Target::Sso {
                user: user.trim().to_string(),
                account_id: account.clone(),
                permission_set: args.permission_set.clone(),
            })
        }
        _ => invalid(
            "target",
            "choose one of --iam-user, --iam-role or --sso-user with --account-id",
        ),
    }
}

fn read_policy_file(path: &std::path::Path) -> Result<Value> {
    let text = crate::input::read_text("--policy-file", path, crate::input::MAX_POLICY_BYTES)?;
    serde_json::from_str(&text).map_err(|e| {
        JitError::invalid(
            "--policy-file",
            format!("{} is not valid JSON: {e}", path.display()),
        )
        .into()
    })
}

/// Where the request's policy came from.
struct Sourced {
    policy: Option<Value>,
    /// Which generator made it: file, structured, rules, model:<name>, permission_set.
    source: String,
    /// The generator's notes for approvers.
    notes: Vec<String>,
    /// What a description was understood as, one line per statement.
    understood: Vec<String>,
}

fn sourced(policy: Option<Value>, source: &str) -> Sourced {
    Sourced {
        policy,
        source: source.into(),
        notes: vec![],
        understood: vec![],
    }
}

fn policy(ctx: &Ctx, args: &RequestArgs) -> Result<Sourced> {
    if args.permission_set.is_some() {
        return Ok(sourced(None, "permission_set"));
    }
    if let Some(path) = &args.policy_file {
        return Ok(sourced(Some(read_policy_file(path)?), "file"));
    }
    let structured = args.service.is_some();
    if structured && args.actions.is_empty() && args.access.is_empty() {
        return invalid(
            "--service",
            "add --actions A,B or --access read,list to say what to allow",
        );
    }
    let input = GenerateInput {
        description: args.policy_description.clone(),
        service: args.service.clone(),
        access: args.access.clone(),
        actions: args.actions.clone(),
        resources: args.resources.clone(),
        region: args.region.clone(),
        account_id: args.account_id.clone(),
    };
    let choice = if structured {
        GeneratorChoice::Rules
    } else {
        args.generator
    };
    let generated = policy::generate(&input, choice, ctx.config.allowed_services.as_deref())?;
    let source = if structured {
        "structured".to_string()
    } else {
        generated.generator.clone()
    };
    Ok(Sourced {
        policy: Some(generated.policy),
        source,
        notes: generated.notes,
        // Structured flags say exactly what they mean; a description is worth restating.
        understood: if structured {
            vec![]
        } else {
            generated.understood
        },
    })
}

pub fn run(ctx: &Ctx, args: &RequestArgs) -> Outcome {
    let requester = ctx
        .config
        .caller(args.requester.as_deref(), "--requester")?;
    let purpose = crate::input::required_text(
        "--purpose",
        &args.purpose,
        "say why you need access; approvers read it",
    )?;
    let ttl = match &args.ttl {
        Some(t) => parse_duration("--ttl", t)?,
        None => ctx.config.default_ttl,
    };
    if let Err(e) = request::check_ttl(ttl, ctx.config.max_duration) {
        return Err(JitError::invalid("--ttl", format!("{e}; ask for less")).into());
    }
    let target = target(args)?;
    let id = crate::ids::new_id("jit");
    let policy_name = args.policy_name.clone().unwrap_or_else(|| id.clone());
    // An ephemeral Identity Center permission set is named after the policy; AWS caps
    // those names at 32 characters.
    let name_max = match target {
        Target::Sso { .. } => 32,
        _ => 128,
    };
    check_iam_name("--policy-name", &policy_name, name_max)?;

    let Sourced {
        policy: policy_doc,
        source: policy_source,
        notes: policy_notes,
        understood,
    } = policy(ctx, args)?;
    let mut findings = match &policy_doc {
        Some(doc) => policy::validate(
            doc,
            &ValidateOptions {
                allowed_services: ctx.config.allowed_services.clone(),
                target: match target {
                    Target::Sso { .. } => PolicyTarget::PermissionSetInline,
                    _ => PolicyTarget::ManagedPolicy,
                },
            },
        ),
        None => Vec::new(),
    };
    if policy::blocking(&findings) {
        let listing = crate::render::findings(&findings);
        return Err(Failure::with_report(
            JitError::invalid(
                "policy",
                format!("the policy has blocking findings; nothing was stored\n{listing}"),
            ),
            Report::new(serde_json::json!({ "findings": findings }), ""),
        ));
    }
    // Who benefits, and what an existing permission set grants, are read from AWS now:
    // approvers judge them, and nobody may approve access that is theirs.
    let inspection = ctx
        .aws()?
        .inspect(&target)
        .context("reading the target before storing the request")?;
    if let Some(contents) = &inspection.contents {
        findings.extend(policy::permission_set::judge(
            contents,
            ctx.config.allowed_services.as_deref(),
        ));
        if policy::blocking(&findings) {
            let listing = crate::render::findings(&findings);
            return Err(Failure::with_report(
                JitError::invalid(
                    "--permission-set",
                    format!("the permission set grants what this installation does not allow; nothing was stored\n{listing}"),
                ),
                Report::new(serde_json::json!({ "findings": findings }), ""),
            ));
        }
    }

    let r = Request::new(NewRequest {
        id,
        requester,
        purpose,
        ttl,
        target,
        policy: policy_doc,
        policy_name,
        policy_source,
        policy_notes,
        findings,
        quorum: ctx.config.quorum,
        terms: Some(Terms {
            approvers: ctx.config.approvers.clone(),
            max_ttl_secs: ctx.config.max_duration.as_secs(),
            pending_timeout_secs: ctx.config.pending_timeout.as_secs(),
            allowed_services: ctx.config.allowed_services.clone(),
        }),
        beneficiary: inspection.beneficiary,
        permission_set_contents: inspection.contents,
        now: Timestamp::now(),
    });
    let r = ctx.commit(request::created(&r))?;
    let text = {
        let mut out = r.id.clone();
        for line in &understood {
            out.push_str(&format!("\nunderstood: {line}"));
        }
        if !r.findings.is_empty() {
            out.push_str(&format!(
                "\n{} finding(s) for approvers to review:\n{}",
                r.findings.len(),
                crate::render::findings(&r.findings)
            ));
        }
        out
    };
    Ok(Report::of(&r, text)?)
}

#[cfg(test)]
mod tests {
    use super::check_iam_name;

    #[test]
    fn iam_names() {
        assert!(check_iam_name("--iam-user", "alice.smith@corp", 64).is_ok());
        assert!(check_iam_name("--iam-user", "", 64).is_err());
        assert!(check_iam_name("--iam-user", "bad name", 64).is_err());
        assert!(check_iam_name("--iam-user", &"a".repeat(65), 64).is_err());
    }
}
