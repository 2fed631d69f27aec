//! Condition grammar: operators and the parsed `operator → key → values` entries.
//! What a key means and whether a value fits is checked in `validate::conditions`.

use serde_json::Value;

/// The family of an operator, which decides the key types and values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    /// `Null`: tests whether the key is present.
    Null,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::String => "String",
            OpKind::Numeric => "Numeric",
            OpKind::Date => "Date",
            OpKind::Bool => "Bool",
            OpKind::Binary => "Binary",
            OpKind::Ip => "IpAddress",
            OpKind::Arn => "Arn",
            OpKind::Null => "Null",
        }
    }
}

/// `ForAllValues:` / `ForAnyValue:`: the operator compares a set of request values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

const OPERATORS: &[(&str, OpKind)] = &[
    ("StringEquals", OpKind::String),
    ("StringNotEquals", OpKind::String),
    ("StringEqualsIgnoreCase", OpKind::String),
    ("StringNotEqualsIgnoreCase", OpKind::String),
    ("StringLike", OpKind::String),
    ("StringNotLike", OpKind::String),
    ("NumericEquals", OpKind::Numeric),
    ("NumericNotEquals", OpKind::Numeric),
    ("NumericLessThan", OpKind::Numeric),
    ("NumericLessThanEquals", OpKind::Numeric),
    ("NumericGreaterThan", OpKind::Numeric),
    ("NumericGreaterThanEquals", OpKind::Numeric),
    ("DateEquals", OpKind::Date),
    ("DateNotEquals", OpKind::Date),
    ("DateLessThan", OpKind::Date),
    ("DateLessThanEquals", OpKind::Date),
    ("DateGreaterThan", OpKind::Date),
    ("DateGreaterThanEquals", OpKind::Date),
    ("Bool", OpKind::Bool),
    ("BinaryEquals", OpKind::Binary),
    ("IpAddress", OpKind::Ip),
    ("NotIpAddress", OpKind::Ip),
    ("ArnEquals", OpKind::Arn),
    ("ArnLike", OpKind::Arn),
    ("ArnNotEquals", OpKind::Arn),
    ("ArnNotLike", OpKind::Arn),
    ("Null", OpKind::Null),
];

/// A parsed operator such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// As written in the policy.
    pub text: String,
    /// The operator without qualifier and `IfExists` (`StringLike`).
    pub base: &'static str,
    pub kind: OpKind,
    pub set: Option<SetQualifier>,
    pub if_exists: bool,
}

impl Operator {
    /// Operator names are case-sensitive in IAM, as here. `NullIfExists` does not exist.
    pub fn parse(text: &str) -> Option<Operator> {
        let (set, rest) = if let Some(r) = text.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = text.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, text)
        };
        let (base_text, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let &(base, kind) = OPERATORS.iter().find(|(name, _)| *name == base_text)?;
        if if_exists && kind == OpKind::Null {
            return None;
        }
        Some(Operator {
            text: text.to_string(),
            base,
            kind,
            set,
            if_exists,
        })
    }

    /// Negated operators (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`).
    pub fn negated(&self) -> bool {
        self.base.contains("Not")
    }
}

/// One `operator → key → values` triple of a statement's Condition block.
#[derive(Debug, Clone)]
pub struct ConditionEntry {
    pub operator: Operator,
    pub key: String,
    /// Scalars only (strings, numbers, booleans); the grammar check refused anything else.
    pub values: Vec<Value>,
}

impl ConditionEntry {
    /// The values as IAM reads them: JSON `true` and `"true"` are the same.
    pub fn value_texts(&self) -> Vec<String> {
        self.values
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators() {
        let op = Operator::parse("ForAnyValue:StringLikeIfExists").expect("valid");
        assert_eq!(op.base, "StringLike");
        assert_eq!(op.set, Some(SetQualifier::ForAnyValue));
        assert!(op.if_exists);
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("stringequals").is_none());
        assert!(Operator::parse("NotIpAddress").is_some_and(|o| o.negated()));
        assert!(Operator::parse("ForAllValues:").is_none());
    }
}
