//! `aws-jit request`: build the policy, validate it, store a pending request, notify.

use anyhow::{Context as _, Result};
use serde_json::Value;

use super::Ctx;
use crate::cli::RequestArgs;
use crate::error::{invalid, JitError};
use crate::output::{Failure, Outcome, Report};
use crate::policy::{self, GenerateInput, GeneratorChoice, PolicyTarget, ValidateOptions};
use crate::request::{self, NewRequest, Request, Target};
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

/// A request as it will be stored, before a rule decides it: what `request` stores and
/// `rules explain` explains. Built the same way for both, so the explanation is of the
/// very request that would be stored.
pub struct Prepared {
    pub id: String,
    pub requester: String,
    /// `--ttl`, when given (the default depends on the rule).
    pub ttl: Option<std::time::Duration>,
    pub target: Target,
    pub policy_name: String,
    policy: Sourced,
    pub findings: Vec<policy::Finding>,
    pub inspection: crate::aws::Inspection,
}

impl Prepared {
    pub fn policy(&self) -> Option<&Value> {
        self.policy.policy.as_ref()
    }

    /// The security finding codes: what rules with `findings = "none"` refuse.
    pub fn security_codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.severity == policy::Severity::Security)
            .map(|f| f.code.to_string())
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }

    /// What it grants: services and the highest access level (of its policy, or of what
    /// the existing permission set holds).
    pub fn grants(&self) -> crate::access::Grants {
        crate::access::grants::of_request(self.policy(), self.inspection.contents.as_ref())
    }

    /// The permission set's own name, as read from Identity Center.
    pub fn permission_set_name(&self) -> Option<&str> {
        self.inspection.contents.as_ref().map(|c| c.name.as_str())
    }
}

/// Everything up to the rules: the caller, the target, the policy (generated, validated;
/// blocking findings refuse), and what AWS says of the target (who benefits, what an
/// existing permission set grants).
pub fn prepare(ctx: &Ctx, args: &RequestArgs) -> Result<Prepared, Failure> {
    let requester = ctx
        .config
        .caller(args.requester.as_deref(), "--requester")?;
    let ttl = match &args.ttl {
        Some(t) => Some(parse_duration("--ttl", t)?),
        None => None,
    };
    if let Err(e) = request::check_ttl(
        ttl.unwrap_or(ctx.config.default_ttl),
        ctx.config.max_duration,
    ) {
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

    let sourced = policy(ctx, args)?;
    let mut findings = match &sourced.policy {
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
    // approvers judge them, rules match on them, and nobody may approve access that is theirs.
    let inspection = ctx
        .aws()?
        .inspect(&target)
        .context("reading the target before storing the request")?;
    // The target as AWS names it (IAM's own spelling of a case-insensitive name).
    let target = inspection.canonical.clone().unwrap_or(target);
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
    Ok(Prepared {
        id,
        requester,
        ttl,
        target,
        policy_name,
        policy: sourced,
        findings,
        inspection,
    })
}

/// What the matching rule decides for a prepared request, or why it is refused.
pub struct Judged {
    pub decision: super::access::Decision,
    pub resolved: crate::access::Resolved,
    pub ttl: std::time::Duration,
    /// Approved by the rule at once (`approval = "auto"` and the request qualifies).
    pub auto: bool,
    /// The rule says auto, but this request is not one a rule may approve: why.
    pub not_auto: Option<String>,
}

/// A request refused by the rules (or before them): the error, and the decision as far
/// as it got, for `rules explain` to show.
pub type Refused = (super::access::Decision, anyhow::Error);

/// Match the rules and apply what the matching rule says: its maximum TTL, that its
/// approvers can reach its quorum, break-glass only for oneself.
pub fn judge(ctx: &Ctx, p: &Prepared, break_glass: bool) -> Result<Judged, Box<Refused>> {
    let grants = p.grants();
    let security = p.security_codes();
    let subject = crate::access::Subject {
        requester: &p.requester,
        target: &p.target,
        permission_set: p.permission_set_name(),
        grants: &grants,
        security: &security,
        break_glass,
    };
    let decision = match super::access::decide(&ctx.config, &subject) {
        Ok(d) => d,
        Err(e) => {
            let empty = super::access::Decision {
                file: None,
                evaluation: None,
                resolved: None,
            };
            return Err(Box::new((empty, e)));
        }
    };
    let Some(resolved) = decision.resolved.clone() else {
        let why = decision.no_match().unwrap_or_default();
        return Err(Box::new((decision, JitError::NotAuthorised(why).into())));
    };
    let refuse = |decision, e: JitError| Err(Box::new((decision, e.into())));
    let ttl = p
        .ttl
        .unwrap_or_else(|| ctx.config.default_ttl.min(resolved.max_ttl));
    if ttl > resolved.max_ttl {
        let name = resolved.rule.as_deref().unwrap_or("(implicit)");
        return refuse(
            decision,
            JitError::invalid(
                "--ttl",
                format!(
                    "{} is above the maximum of {} of rule {name}; ask for less",
                    crate::time::human(ttl),
                    crate::time::human(resolved.max_ttl)
                ),
            ),
        );
    }
    let beneficiary = p.inspection.beneficiary.as_ref();
    if break_glass {
        if let Some(b) = beneficiary {
            if !super::access::only_for(&p.requester, &p.target, b) {
                return refuse(
                    decision,
                    JitError::NotAuthorised(format!(
                        "break-glass grants access only to the one who asks: {} would receive it \
                         (from {}), not only {}; ask for it without --break-glass",
                        b.identities.join(" / "),
                        b.source,
                        p.requester
                    )),
                );
            }
        }
    }
    let rule_says_auto = resolved.approval == crate::access::Mode::Auto && !break_glass;
    let not_auto = if rule_says_auto {
        crate::access::may_auto_approve(&grants, &crate::request::auto_blockers(&p.findings)).err()
    } else {
        None
    };
    let auto = rule_says_auto && not_auto.is_none();
    if decision.file.is_some() && !auto && !break_glass {
        if let Some(why) = super::access::short_of_approvers(&resolved, &p.requester, beneficiary) {
            return refuse(decision, JitError::NotAuthorised(why));
        }
    }
    Ok(Judged {
        decision,
        resolved,
        ttl,
        auto,
        not_auto,
    })
}

pub fn run(ctx: &Ctx, args: &RequestArgs) -> Outcome {
    let purpose = crate::input::required_text(
        "--purpose",
        args.purpose.as_deref().unwrap_or_default(),
        "say why you need access; approvers read it",
    )?;
    let reason = if args.break_glass {
        Some(crate::input::required_text(
            "--reason",
            args.reason.as_deref().unwrap_or_default(),
            "say why break-glass is needed (the incident); it is announced and reviewed",
        )?)
    } else {
        None
    };
    let p = prepare(ctx, args)?;
    let judged = judge(ctx, &p, args.break_glass).map_err(|refused| refused.1)?;
    let Prepared {
        id,
        requester,
        target,
        policy_name,
        policy: sourced,
        findings,
        inspection,
        ..
    } = p;
    let Sourced {
        policy: policy_doc,
        source: policy_source,
        notes: mut policy_notes,
        understood,
    } = sourced;
    if let (Some(why), Some(rule)) = (&judged.not_auto, &judged.resolved.rule) {
        policy_notes.push(format!(
            "rule {rule} approves automatically, but not this request: {why}; it waits for the rule's approvers"
        ));
    }
    let r = Request::new(NewRequest {
        id,
        requester,
        purpose,
        ttl: judged.ttl,
        target,
        policy: policy_doc,
        policy_name,
        policy_source,
        policy_notes,
        findings,
        quorum: judged.resolved.quorum,
        terms: Some(super::access::terms(
            &ctx.config,
            &judged.decision,
            &judged.resolved,
            judged.auto,
        )),
        beneficiary: inspection.beneficiary,
        permission_set_contents: inspection.contents,
        now: Timestamp::now(),
    });
    let r = match &reason {
        Some(reason) => {
            ctx.commit(request::break_glass_created(&r, reason).map_err(super::rule)?)?
        }
        None => {
            let r = ctx.commit(request::created(&r))?;
            if judged.auto {
                ctx.commit(request::approve_by_rule(&r, Timestamp::now()).map_err(super::rule)?)?
            } else {
                r
            }
        }
    };
    let text = {
        let mut out = r.id.clone();
        if let Some(rule) = r.rule_name() {
            out.push_str(&format!("\nrule: {rule}"));
        }
        if r.break_glass.is_some() {
            out.push_str(&format!(
                "\nBREAK-GLASS: approved by you, announced to everyone; run `aws-jit attach {}`. \
                 One of {} reviews it afterwards",
                r.id,
                r.approvers_now(&ctx.config.approvers).join(", ")
            ));
        } else if r.state == request::State::Approved {
            out.push_str(&format!(
                "\napproved by its rule (approval = auto); run `aws-jit attach {}`",
                r.id
            ));
        }
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
