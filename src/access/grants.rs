//! What a policy grants, in the two terms rules match on: the services its actions belong
//! to and the highest access level they reach (from the catalog). An existing permission
//! set is judged by everything it holds. Anything that cannot be known — `*`, NotAction,
//! a service the catalog lacks, a policy that could not be read — counts as the most:
//! every service, permissions management.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::Level;
use crate::grant::PermissionSetContents;
use crate::policy::catalog;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grants {
    /// Service prefixes the allowed actions belong to; None: every service.
    pub services: Option<BTreeSet<String>>,
    /// The highest access level any allowed action reaches.
    pub level: Level,
    /// What reaches that level (`s3:PutObject`, `*`, a policy that could not be read).
    pub because: Option<String>,
}

impl Grants {
    fn nothing() -> Grants {
        Grants {
            services: Some(BTreeSet::new()),
            level: Level::List,
            because: None,
        }
    }

    fn everything(because: impl Into<String>) -> Grants {
        Grants {
            services: None,
            level: Level::PermissionsManagement,
            because: Some(because.into()),
        }
    }

    fn add(&mut self, other: Grants) {
        match (&mut self.services, other.services) {
            (Some(mine), Some(theirs)) => mine.extend(theirs),
            (mine, _) => *mine = None,
        }
        self.raise(other.level, other.because);
    }

    /// Keep the highest level, and the first thing that reached it.
    fn raise(&mut self, level: Level, because: Option<String>) {
        let first = self.because.is_none() && level >= self.level;
        if level > self.level || first {
            self.level = level;
            self.because = because;
        }
    }

    /// Services in words: `s3, dynamodb` or `every service`.
    pub fn services_text(&self) -> String {
        match &self.services {
            None => "every service".into(),
            Some(s) if s.is_empty() => "no service".into(),
            Some(s) => s.iter().cloned().collect::<Vec<_>>().join(", "),
        }
    }
}

/// What a request grants: its policy, or else what its existing permission set holds.
pub fn of_request(policy: Option<&Value>, contents: Option<&PermissionSetContents>) -> Grants {
    match (policy, contents) {
        (Some(p), _) => of_policy(p),
        (None, Some(c)) => of_contents(c),
        // Neither: nothing is known about what it grants.
        (None, None) => Grants::everything("nothing is known about what it grants"),
    }
}

pub fn of_contents(c: &PermissionSetContents) -> Grants {
    let mut g = Grants::nothing();
    for p in c.managed.iter().chain(&c.customer_managed) {
        match &p.document {
            Some(doc) => g.add(of_policy(doc)),
            None => g.add(Grants::everything(format!(
                "{} could not be read",
                p.reference
            ))),
        }
    }
    if let Some(doc) = &c.inline {
        g.add(of_policy(doc));
    }
    g
}

pub fn of_policy(doc: &Value) -> Grants {
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return Grants::nothing(),
    };
    let mut g = Grants::nothing();
    for st in statements {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            // Deny only takes away; anything else is refused by the validator.
            continue;
        }
        if st.get("NotAction").is_some() {
            g.add(Grants::everything("NotAction (everything but a list)"));
            continue;
        }
        let actions: Vec<&str> = match st.get("Action") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        for a in actions {
            g.add(of_action(a));
        }
    }
    g
}

fn of_action(action: &str) -> Grants {
    let action = action.trim();
    if action == "*" {
        return Grants::everything("*");
    }
    let Some((prefix, pattern)) = action.split_once(':') else {
        return Grants::everything(format!("{action} (not service:action)"));
    };
    let prefix = prefix.to_ascii_lowercase();
    let Some(svc) = catalog::service(&prefix) else {
        return Grants::everything(format!("{action} (a service the catalog does not know)"));
    };
    let mut g = Grants {
        services: Some(BTreeSet::from([prefix.clone()])),
        level: Level::List,
        because: None,
    };
    for a in svc.matching(pattern) {
        g.raise(Level::from(a.level), Some(format!("{prefix}:{}", a.name)));
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(actions: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
    }

    #[test]
    fn levels_and_services() {
        let g = of_policy(&policy(json!(["s3:GetObject", "s3:ListBucket"])));
        assert_eq!(g.level, Level::Read);
        assert_eq!(g.services_text(), "s3");
        let g = of_policy(&policy(json!(["s3:GetObject", "dynamodb:PutItem"])));
        assert_eq!(g.level, Level::Write);
        assert_eq!(g.because.as_deref(), Some("dynamodb:PutItem"));
        assert_eq!(g.services_text(), "dynamodb, s3");
        let g = of_policy(&policy(json!("s3:*")));
        assert_eq!(g.level, Level::PermissionsManagement);
        let g = of_policy(&policy(json!("*")));
        assert_eq!((g.services, g.level), (None, Level::PermissionsManagement));
        let g = of_policy(
            &json!({"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}),
        );
        assert_eq!((g.services, g.level), (None, Level::PermissionsManagement));
        let g = of_policy(&policy(json!("s3:PutObjectTagging")));
        assert_eq!(g.level, Level::Tagging);
        // Deny takes nothing away from the reach of what is allowed, and adds nothing.
        let g = of_policy(&json!({"Statement": [
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}));
        assert_eq!(g.level, Level::Read);
    }
}
