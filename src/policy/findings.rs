//! Validator findings: what is wrong, where, and how to fix it.
//! The JSON shape is a public contract (docs/policy-engine.md): never rename fields or codes.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// One table for every code: the enum variant, the `codes::` constant existing call sites
/// use, the stable string in the JSON contract, and the severity. Adding a row is all it
/// takes; the string must never change once released.
macro_rules! finding_codes {
    ($( $(#[$doc:meta])* $konst:ident = $variant:ident, $text:literal, $sev:ident; )*) => {
        /// A finding code. Serialises to its stable kebab-case string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const LIST: &'static [Code] = &[$(Code::$variant),*];

            /// The stable string (`resource-star`).
            pub const fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }

            pub const fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }
        }

        /// Every finding code, as constants (`codes::RESOURCE_STAR`). A constant is a
        /// `&Code`, so it also works where a `&str` is expected.
        pub mod codes {
            use super::{Code, Severity};

            $( pub const $konst: &Code = &Code::$variant; )*

            /// Every code and its severity.
            pub const ALL: &[(Code, Severity)] = &{
                let mut out = [(Code::JsonSyntax, Severity::Error); Code::LIST.len()];
                let mut i = 0;
                while i < Code::LIST.len() {
                    out[i] = (Code::LIST[i], Code::LIST[i].severity());
                    i += 1;
                }
                out
            };

            /// The severity of a code given as text; an unknown code is an error.
            pub fn severity(code: &str) -> Severity {
                Code::parse(code).map_or(Severity::Error, Code::severity)
            }
        }
    };
}

finding_codes! {
    JSON_SYNTAX = JsonSyntax, "json-syntax", Error;
    VERSION = Version, "version", Error;
    STATEMENT = Statement, "statement", Error;
    SID = Sid, "sid", Error;
    EFFECT = Effect, "effect", Error;
    ACTION_ELEMENT = ActionElement, "action-element", Error;
    RESOURCE_ELEMENT = ResourceElement, "resource-element", Error;
    PRINCIPAL = Principal, "principal", Error;
    /// Unknown operator or a badly shaped condition block.
    CONDITION = Condition, "condition", Error;
    /// A condition key that exists nowhere: not a global `aws:` key, not a key of its service.
    CONDITION_KEY = ConditionKey, "condition-key", Error;
    /// The operator does not fit the key's type (NumericLessThan on aws:SourceIp).
    CONDITION_TYPE = ConditionType, "condition-type", Error;
    /// A value the operator cannot read (a date that does not parse, "yes" for Bool).
    CONDITION_VALUE = ConditionValue, "condition-value", Error;
    UNKNOWN_SERVICE = UnknownService, "unknown-service", Error;
    UNKNOWN_ACTION = UnknownAction, "unknown-action", Error;
    WILDCARD_NO_MATCH = WildcardNoMatch, "wildcard-no-match", Error;
    MALFORMED_ARN = MalformedArn, "malformed-arn", Error;
    RESOURCE_MISMATCH = ResourceMismatch, "resource-mismatch", Error;
    SERVICE_NOT_ALLOWED = ServiceNotAllowed, "service-not-allowed", Error;
    SIZE_LIMIT = SizeLimit, "size-limit", Error;

    PRIVILEGE_ESCALATION = PrivilegeEscalation, "privilege-escalation", Security;
    PASSROLE_ESCALATION = PassroleEscalation, "passrole-escalation", Security;
    ASSUME_ANY_ROLE = AssumeAnyRole, "assume-any-role", Security;
    /// Switching off or blinding a guardrail: CloudTrail, GuardDuty, Config, SCPs, MFA.
    DEFENSE_EVASION = DefenseEvasion, "defense-evasion", Security;
    /// An action that returns credentials or secrets, on every resource of its type.
    CREDENTIALS_EXPOSURE = CredentialsExposure, "credentials-exposure", Security;
    /// Reading data (objects, tables, snapshots) from every resource of a type.
    DATA_EXFILTRATION = DataExfiltration, "data-exfiltration", Security;
    PERMISSIONS_MANAGEMENT = PermissionsManagement, "permissions-management", Security;
    FULL_WILDCARD = FullWildcard, "full-wildcard", Security;
    SERVICE_WILDCARD = ServiceWildcard, "service-wildcard", Security;
    ALLOW_NOT_ACTION = AllowNotAction, "allow-not-action", Security;
    ALLOW_NOT_RESOURCE = AllowNotResource, "allow-not-resource", Security;
    /// `"*"`, or a pattern that reaches every resource of a type, on a scopable action.
    RESOURCE_STAR = ResourceStar, "resource-star", Security;
    /// The model granted actions the rules generator did not find in the description.
    MODEL_EXTRA_ACTIONS = ModelExtraActions, "model-extra-actions", Security;
    /// An existing permission set carries AdministratorAccess, PowerUserAccess or IAMFullAccess.
    BROAD_MANAGED_POLICY = BroadManagedPolicy, "broad-managed-policy", Security;
    /// A policy of an existing permission set could not be read: what it grants is unknown.
    POLICY_UNREAD = PolicyUnread, "policy-unread", Security;

    REDUNDANT_ACTION = RedundantAction, "redundant-action", Warning;
    MISSING_DEPENDENT_ACTION = MissingDependentAction, "missing-dependent-action", Warning;
    ACTION_WILDCARD = ActionWildcard, "action-wildcard", Warning;
    VERSION_MISSING = VersionMissing, "version-missing", Warning;
    /// A named resource in any account (`::*:`) or any region.
    WILDCARD_ACCOUNT_REGION = WildcardAccountRegion, "wildcard-account-region", Warning;
    /// An ARN no action of its statement accepts, while the statement's actions all have one.
    RESOURCE_UNUSED = ResourceUnused, "resource-unused", Warning;
    /// An action that returns credentials, on named resources (or its caller's own).
    RETURNS_CREDENTIALS = ReturnsCredentials, "returns-credentials", Warning;
    /// A known key that some actions of the statement never receive.
    CONDITION_KEY_NOT_APPLICABLE = ConditionKeyNotApplicable, "condition-key-not-applicable", Warning;
    /// ForAllValues/ForAnyValue on a single-valued key, or a plain operator on a multivalued one.
    CONDITION_SET_OPERATOR = ConditionSetOperator, "condition-set-operator", Warning;
    /// `Bool aws:MultiFactorAuthPresent "false"`: absent for long-term keys, so MFA is not enforced.
    MFA_CONDITION = MfaCondition, "mfa-condition", Warning;
}

impl Code {
    pub fn parse(s: &str) -> Option<Code> {
        Code::LIST.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets a code stand where text is expected (`fn has(.., code: &str)` with `codes::X`).
impl Deref for Code {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&Code> for Code {
    fn from(c: &Code) -> Code {
        *c
    }
}

impl PartialEq<&Code> for Code {
    fn eq(&self, other: &&Code) -> bool {
        self == *other
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Code {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Code> for String {
    fn eq(&self, other: &Code) -> bool {
        self == other.as_str()
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let s = String::deserialize(d)?;
        Code::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown finding code `{s}`")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable kebab-case identifier, e.g. `unknown-action` (see `codes`).
    pub code: Code,
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
    pub fn new(code: impl Into<Code>, message: impl Into<String>, fix: impl Into<String>) -> Self {
        let code = code.into();
        Finding {
            code,
            severity: code.severity(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_their_strings_and_round_trip() {
        assert_eq!(codes::RESOURCE_STAR.as_str(), "resource-star");
        assert_eq!(
            serde_json::to_string(&Code::ModelExtraActions)
                .ok()
                .as_deref(),
            Some("\"model-extra-actions\"")
        );
        for (c, sev) in codes::ALL {
            assert_eq!(Code::parse(c.as_str()), Some(*c));
            assert_eq!(codes::severity(c), *sev);
        }
        assert!(serde_json::from_str::<Code>("\"no-such-code\"").is_err());
        let mut seen = std::collections::BTreeSet::new();
        assert!(Code::LIST.iter().all(|c| seen.insert(c.as_str())));
    }
}
