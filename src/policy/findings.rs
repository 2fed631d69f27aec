//! Validator findings: what is wrong, where, and how to fix it.
//! The JSON shape is a public contract (docs/policy-engine.md): never rename fields or codes.

use serde::{Deserialize, Serialize};

/// `error` blocks the request; `security` blocks unless an approver acknowledges it
/// explicitly; `warning` is shown and never blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Security,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Security => "security",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable kebab-case identifier, e.g. `unknown-action` (see `codes`).
    pub code: String,
    pub severity: Severity,
    /// Zero-based index of the statement, when the finding is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub message: String,
    /// How to fix it, in one sentence.
    pub fix: String,
}

impl Finding {
    pub fn new(code: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding {
            code: code.to_string(),
            severity: codes::severity(code),
            statement: None,
            action: None,
            resource: None,
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn at(mut self, statement: usize) -> Self {
        self.statement = Some(statement);
        self
    }

    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// One line for people: `error unknown-action [statement 0] s3:GetObjekt: ... Fix: ...`.
    pub fn to_line(&self) -> String {
        let mut s = format!("{:<8} {}", self.severity.as_str(), self.code);
        if let Some(i) = self.statement {
            s.push_str(&format!(" [statement {i}]"));
        }
        if let Some(a) = &self.action {
            s.push_str(&format!(" {a}"));
        }
        if let Some(r) = &self.resource {
            s.push_str(&format!(" {r}"));
        }
        s.push_str(&format!(": {} Fix: {}", self.message, self.fix));
        s
    }
}

/// Every finding code and its severity.
pub mod codes {
    use super::Severity;

    pub const JSON_SYNTAX: &str = "json-syntax";
    pub const VERSION: &str = "version";
    pub const STATEMENT: &str = "statement";
    pub const SID: &str = "sid";
    pub const EFFECT: &str = "effect";
    pub const ACTION_ELEMENT: &str = "action-element";
    pub const RESOURCE_ELEMENT: &str = "resource-element";
    pub const PRINCIPAL: &str = "principal";
    pub const CONDITION: &str = "condition";
    pub const UNKNOWN_SERVICE: &str = "unknown-service";
    pub const UNKNOWN_ACTION: &str = "unknown-action";
    pub const WILDCARD_NO_MATCH: &str = "wildcard-no-match";
    pub const MALFORMED_ARN: &str = "malformed-arn";
    pub const RESOURCE_MISMATCH: &str = "resource-mismatch";
    pub const SERVICE_NOT_ALLOWED: &str = "service-not-allowed";
    pub const SIZE_LIMIT: &str = "size-limit";

    pub const PRIVILEGE_ESCALATION: &str = "privilege-escalation";
    pub const PASSROLE_ESCALATION: &str = "passrole-escalation";
    pub const ASSUME_ANY_ROLE: &str = "assume-any-role";
    pub const PERMISSIONS_MANAGEMENT: &str = "permissions-management";
    pub const FULL_WILDCARD: &str = "full-wildcard";
    pub const SERVICE_WILDCARD: &str = "service-wildcard";
    pub const ALLOW_NOT_ACTION: &str = "allow-not-action";
    pub const ALLOW_NOT_RESOURCE: &str = "allow-not-resource";
    pub const RESOURCE_STAR: &str = "resource-star";
    /// The model granted actions the rules generator did not find in the description.
    pub const MODEL_EXTRA_ACTIONS: &str = "model-extra-actions";
    /// An existing permission set carries AdministratorAccess, PowerUserAccess or
    /// IAMFullAccess.
    pub const BROAD_MANAGED_POLICY: &str = "broad-managed-policy";
    /// A policy of an existing permission set could not be read, so nothing could be
    /// checked about it.
    pub const POLICY_UNREAD: &str = "policy-unread";

    pub const REDUNDANT_ACTION: &str = "redundant-action";
    pub const MISSING_DEPENDENT_ACTION: &str = "missing-dependent-action";
    pub const ACTION_WILDCARD: &str = "action-wildcard";
    pub const VERSION_MISSING: &str = "version-missing";

    pub const ALL: &[(&str, Severity)] = &[
        (JSON_SYNTAX, Severity::Error),
        (VERSION, Severity::Error),
        (STATEMENT, Severity::Error),
        (SID, Severity::Error),
        (EFFECT, Severity::Error),
        (ACTION_ELEMENT, Severity::Error),
        (RESOURCE_ELEMENT, Severity::Error),
        (PRINCIPAL, Severity::Error),
        (CONDITION, Severity::Error),
        (UNKNOWN_SERVICE, Severity::Error),
        (UNKNOWN_ACTION, Severity::Error),
        (WILDCARD_NO_MATCH, Severity::Error),
        (MALFORMED_ARN, Severity::Error),
        (RESOURCE_MISMATCH, Severity::Error),
        (SERVICE_NOT_ALLOWED, Severity::Error),
        (SIZE_LIMIT, Severity::Error),
        (PRIVILEGE_ESCALATION, Severity::Security),
        (PASSROLE_ESCALATION, Severity::Security),
        (ASSUME_ANY_ROLE, Severity::Security),
        (PERMISSIONS_MANAGEMENT, Severity::Security),
        (FULL_WILDCARD, Severity::Security),
        (SERVICE_WILDCARD, Severity::Security),
        (ALLOW_NOT_ACTION, Severity::Security),
        (ALLOW_NOT_RESOURCE, Severity::Security),
        (RESOURCE_STAR, Severity::Security),
        (MODEL_EXTRA_ACTIONS, Severity::Security),
        (BROAD_MANAGED_POLICY, Severity::Security),
        (POLICY_UNREAD, Severity::Security),
        (REDUNDANT_ACTION, Severity::Warning),
        (MISSING_DEPENDENT_ACTION, Severity::Warning),
        (ACTION_WILDCARD, Severity::Warning),
        (VERSION_MISSING, Severity::Warning),
    ];

    pub fn severity(code: &str) -> Severity {
        ALL.iter()
            .find(|(c, _)| *c == code)
            .map(|(_, s)| *s)
            .unwrap_or(Severity::Error)
    }
}
