//! Access rules as code: who may request what, who approves it, for how long.
//!
//! A rules file (TOML, `JIT_RULES_FILE` or inline in `JIT_RULES`) is an ordered list of
//! rules; the first that matches a request decides its approvers, quorum, maximum TTL,
//! approval mode (`auto` only for read-only, finding-free requests), break-glass and
//! extension budget. Without a file, one implicit rule applies: APPROVAL_LIST,
//! JIT_APPROVAL_QUORUM, JIT_MAX_DURATION. What a rule decided is recorded on the request
//! (`request::Terms`), so editing the file never changes a request already made.
//!
//! Pure: parsing (with line numbers), linting, matching and explaining. Reading the file
//! and acting on the decision is the commands' business.

pub mod glob;
pub mod grants;
mod lint;
mod matching;
mod parse;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use grants::Grants;
pub use matching::{evaluate, Evaluation, Skip, Subject};

use crate::policy::catalog::AccessLevel;
use crate::request::same_person;

/// Access levels in the order rules compare them: list < read < tagging < write <
/// permissions-management.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    List,
    Read,
    Tagging,
    Write,
    PermissionsManagement,
}

impl Level {
    pub const NAMES: &'static str = "list, read, tagging, write, permissions-management";

    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "list" => Level::List,
            "read" => Level::Read,
            "tagging" => Level::Tagging,
            "write" => Level::Write,
            "permissions-management" => Level::PermissionsManagement,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::List => "list",
            Level::Read => "read",
            Level::Tagging => "tagging",
            Level::Write => "write",
            Level::PermissionsManagement => "permissions-management",
        }
    }
}

impl From<AccessLevel> for Level {
    fn from(l: AccessLevel) -> Level {
        match l {
            AccessLevel::List => Level::List,
            AccessLevel::Read => Level::Read,
            AccessLevel::Tagging => Level::Tagging,
            AccessLevel::Write => Level::Write,
            AccessLevel::PermissionsManagement => Level::PermissionsManagement,
        }
    }
}

pub use crate::request::ApprovalMode as Mode;

/// Which security findings a rule accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FindingsAllowed {
    #[default]
    Any,
    /// No security finding at all.
    None,
}

/// One `[[rule]]`, as written. Absent keys are `None` (match anything); `Some(vec![])`
/// matches nothing.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    pub name: String,
    /// The line of its `[[rule]]` table.
    pub line: usize,
    /// The line of each key it sets.
    pub keys: BTreeMap<String, usize>,
    pub services: Option<Vec<String>>,
    pub max_access: Option<Level>,
    pub findings: FindingsAllowed,
    pub max_ttl: Option<Duration>,
    pub approval: Mode,
    pub requesters: Option<Vec<String>>,
    pub accounts: Option<Vec<String>>,
    pub permission_sets: Option<Vec<String>>,
    pub iam_users: Option<Vec<String>>,
    pub iam_roles: Option<Vec<String>>,
    /// Emails and `group:NAME`; None: APPROVAL_LIST.
    pub approvers: Option<Vec<String>>,
    pub quorum: usize,
    pub break_glass: bool,
    pub extensions: u32,
}

impl Rule {
    /// The line of `key` when it is set, else the rule's own line.
    pub fn line_of(&self, key: &str) -> usize {
        self.keys.get(key).copied().unwrap_or(self.line)
    }
}

/// What the environment says when the file does not: APPROVAL_LIST, JIT_APPROVAL_QUORUM
/// (the implicit rule's quorum), JIT_MAX_DURATION (a ceiling no rule can raise).
#[derive(Debug, Clone)]
pub struct Defaults {
    pub approvers: Vec<String>,
    pub quorum: usize,
    pub max_ttl: Duration,
}

/// A parsed rules file.
#[derive(Debug, Clone)]
pub struct RulesFile {
    /// Where it came from: a path, or `JIT_RULES`.
    pub origin: String,
    /// SHA-256 of its exact text, recorded on every request it decides.
    pub sha256: String,
    pub groups: BTreeMap<String, Group>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub line: usize,
    pub members: Vec<String>,
}

/// One finding of `rules check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lint {
    pub line: usize,
    pub severity: LintSeverity,
    /// Stable, one per lint rule: `unknown-key`, `bad-glob`, `shadowed`, ...
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LintSeverity {
    /// The file cannot be used: every request is refused until it is fixed.
    Error,
    /// Probably not what was meant; the file still works.
    Warning,
}

impl Lint {
    pub(crate) fn error(line: usize, code: &'static str, message: impl Into<String>) -> Lint {
        Lint {
            line,
            severity: LintSeverity::Error,
            code,
            rule: None,
            message: message.into(),
        }
    }

    pub(crate) fn warning(line: usize, code: &'static str, message: impl Into<String>) -> Lint {
        Lint {
            severity: LintSeverity::Warning,
            ..Lint::error(line, code, message)
        }
    }

    pub(crate) fn of(mut self, rule: &Rule) -> Lint {
        if !rule.name.is_empty() {
            self.rule = Some(rule.name.clone());
        }
        self
    }
}

/// Parse and lint a rules file: the file (as far as it could be read) and every problem,
/// errors and warnings, in line order.
pub fn check(text: &str, origin: &str, defaults: &Defaults) -> (RulesFile, Vec<Lint>) {
    let (groups, rules, mut lints) = parse::parse(text);
    let file = RulesFile {
        origin: origin.to_string(),
        sha256: crate::digest::sha256_hex(text.as_bytes()),
        groups,
        rules,
    };
    lints.extend(lint::lint(&file, defaults));
    lints.sort_by(|a, b| a.line.cmp(&b.line).then(a.code.cmp(b.code)));
    (file, lints)
}

pub fn has_errors(lints: &[Lint]) -> bool {
    lints.iter().any(|l| l.severity == LintSeverity::Error)
}

/// What applies to a request once its rule is known: recorded on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The rule's name; None for the implicit rule (no rules file).
    pub rule: Option<String>,
    pub line: Option<usize>,
    /// Every approver by email, groups expanded, duplicates removed.
    pub approvers: Vec<String>,
    pub quorum: usize,
    pub max_ttl: Duration,
    pub approval: Mode,
    pub extensions: u32,
    pub break_glass: bool,
}

/// The rule in force when there is no rules file.
pub fn implicit(d: &Defaults) -> Resolved {
    Resolved {
        rule: None,
        line: None,
        approvers: d.approvers.clone(),
        quorum: d.quorum.max(1),
        max_ttl: d.max_ttl,
        approval: Mode::Required,
        extensions: 0,
        break_glass: false,
    }
}

impl RulesFile {
    /// What rule `i` decides, with groups expanded and the TTL under JIT_MAX_DURATION.
    pub fn resolve(&self, i: usize, d: &Defaults) -> Resolved {
        let rule = &self.rules[i];
        Resolved {
            rule: Some(rule.name.clone()),
            line: Some(rule.line),
            approvers: self.approvers(rule, d),
            quorum: rule.quorum.max(1),
            max_ttl: rule.max_ttl.unwrap_or(d.max_ttl).min(d.max_ttl),
            approval: rule.approval,
            extensions: rule.extensions,
            break_glass: rule.break_glass,
        }
    }

    /// The rule's approvers by email: its list with groups expanded, or APPROVAL_LIST.
    pub fn approvers(&self, rule: &Rule, d: &Defaults) -> Vec<String> {
        let listed = match &rule.approvers {
            None => d.approvers.clone(),
            Some(list) => list
                .iter()
                .flat_map(|a| match a.strip_prefix("group:") {
                    Some(g) => self
                        .groups
                        .get(g)
                        .map(|g| g.members.clone())
                        .unwrap_or_default(),
                    None => vec![a.clone()],
                })
                .collect(),
        };
        let mut out: Vec<String> = Vec::new();
        for a in listed {
            let a = a.trim().to_string();
            if !a.is_empty() && !out.iter().any(|o| same_person(o, &a)) {
                out.push(a);
            }
        }
        out
    }
}

/// Whether a request may be approved by its rule alone: read-only (list or read) on
/// services that are known, with none of the `request::auto_blockers` findings. Checked on the
/// request itself, whatever the rule says, so no rules file can auto-approve anything
/// broader.
pub fn may_auto_approve(grants: &Grants, security: &[String]) -> Result<(), String> {
    if grants.services.is_none() || grants.level > Level::Read {
        return Err(format!(
            "it reaches {} access{} and only list or read access is approved automatically",
            grants.level.as_str(),
            grants
                .because
                .as_ref()
                .map(|b| format!(" ({b})"))
                .unwrap_or_default()
        ));
    }
    if !security.is_empty() {
        return Err(format!(
            "it has findings that need a person's approval ({}): only requests without them are approved automatically",
            security.join(", ")
        ));
    }
    Ok(())
}
