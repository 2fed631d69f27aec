//! IAM identity-policy documents: the grammar check that turns JSON into statements,
//! and the builder the generators use.

use serde_json::{json, Map, Value};

use super::findings::{codes, Finding};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement as the validator sees it (after the grammar check).
#[derive(Debug, Clone)]
pub struct Statement {
    pub index: usize,
    pub effect: Effect,
    pub actions: Vec<String>,
    /// `NotAction` rather than `Action`.
    pub not_action: bool,
    pub resources: Vec<String>,
    /// `NotResource` rather than `Resource`.
    pub not_resource: bool,
}

const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "Principal",
    "NotPrincipal",
];

const CONDITION_OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

/// Is `op` a valid condition operator (with optional `ForAllValues:`/`ForAnyValue:` and `IfExists`)?
pub fn is_condition_operator(op: &str) -> bool {
    let base = op
        .strip_prefix("ForAllValues:")
        .or_else(|| op.strip_prefix("ForAnyValue:"))
        .unwrap_or(op);
    if let Some(b) = base.strip_suffix("IfExists") {
        return b != "Null" && CONDITION_OPERATORS.contains(&b);
    }
    CONDITION_OPERATORS.contains(&base)
}

fn grammar(
    code: &str,
    i: Option<usize>,
    msg: impl Into<String>,
    fix: impl Into<String>,
) -> Finding {
    let f = Finding::new(code, msg, fix);
    match i {
        Some(i) => f.at(i),
        None => f,
    }
}

/// Checks the document's grammar; returns the statements it could read.
pub fn parse(doc: &Value, findings: &mut Vec<Finding>) -> Vec<Statement> {
    let Some(obj) = doc.as_object() else {
        findings.push(grammar(
            codes::STATEMENT,
            None,
            "the policy document is not a JSON object",
            "write {\"Version\": \"2012-10-17\", \"Statement\": [...]}",
        ));
        return Vec::new();
    };
    for key in obj.keys() {
        if !["Version", "Statement", "Id"].contains(&key.as_str()) {
            findings.push(grammar(
                codes::STATEMENT,
                None,
                format!("unknown top-level element `{key}`"),
                "keep only Version, Id and Statement at the top level",
            ));
        }
    }
    match obj.get("Version") {
        None => findings.push(grammar(
            codes::VERSION_MISSING,
            None,
            "no Version: IAM assumes 2008-10-17, where policy variables do not work",
            "add \"Version\": \"2012-10-17\"",
        )),
        Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
        Some(other) => findings.push(grammar(
            codes::VERSION,
            None,
            format!("Version {other} is not a policy language version"),
            "use \"Version\": \"2012-10-17\"",
        )),
    }
    let raw: Vec<&Value> = match obj.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        Some(_) => {
            findings.push(grammar(
                codes::STATEMENT,
                None,
                "Statement must be an object or an array of objects",
                "write \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [...], \"Resource\": [...]}]",
            ));
            return Vec::new();
        }
        None => {
            findings.push(grammar(
                codes::STATEMENT,
                None,
                "the document has no Statement",
                "add \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [...], \"Resource\": [...]}]",
            ));
            return Vec::new();
        }
    };
    if raw.is_empty() {
        findings.push(grammar(
            codes::STATEMENT,
            None,
            "Statement is empty",
            "add at least one statement",
        ));
    }
    let mut sids: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, st) in raw.into_iter().enumerate() {
        if let Some(s) = parse_statement(i, st, &mut sids, findings) {
            out.push(s);
        }
    }
    out
}

fn string_list(
    v: &Value,
    i: usize,
    code: &str,
    what: &str,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let list: Vec<&Value> = match v {
        Value::String(_) => vec![v],
        Value::Array(a) => a.iter().collect(),
        _ => {
            findings.push(grammar(
                code,
                Some(i),
                format!("{what} must be a string or an array of strings"),
                format!("write \"{what}\": [\"...\"]"),
            ));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in list {
        match item.as_str() {
            Some(s) => out.push(s.to_string()),
            None => findings.push(grammar(
                code,
                Some(i),
                format!("{what} holds a non-string value {item}"),
                format!("list only strings in {what}"),
            )),
        }
    }
    if out.is_empty() {
        findings.push(grammar(
            code,
            Some(i),
            format!("{what} is empty"),
            format!("name at least one entry in {what}"),
        ));
    }
    out
}

fn parse_statement(
    i: usize,
    st: &Value,
    sids: &mut Vec<String>,
    findings: &mut Vec<Finding>,
) -> Option<Statement> {
    let Some(o) = st.as_object() else {
        findings.push(grammar(
            codes::STATEMENT,
            Some(i),
            "a statement must be a JSON object",
            "write {\"Effect\": ..., \"Action\": ..., \"Resource\": ...}",
        ));
        return None;
    };
    for key in o.keys() {
        if !STATEMENT_KEYS.contains(&key.as_str()) {
            findings.push(grammar(
                codes::STATEMENT,
                Some(i),
                format!("unknown statement element `{key}`"),
                "use only Sid, Effect, Action/NotAction, Resource/NotResource and Condition",
            ));
        }
    }
    if let Some(sid) = o.get("Sid") {
        match sid.as_str() {
            Some(s) if s.chars().all(|c| c.is_ascii_alphanumeric()) => {
                if !s.is_empty() && sids.iter().any(|x| x == s) {
                    findings.push(grammar(
                        codes::SID,
                        Some(i),
                        format!("Sid `{s}` is used by more than one statement"),
                        "give every statement its own Sid",
                    ));
                }
                sids.push(s.to_string());
            }
            _ => findings.push(grammar(
                codes::SID,
                Some(i),
                format!("Sid {sid} must be a string of letters and digits (A-Z, a-z, 0-9)"),
                "remove spaces and punctuation from the Sid",
            )),
        }
    }
    for key in ["Principal", "NotPrincipal"] {
        if o.contains_key(key) {
            findings.push(grammar(
                codes::PRINCIPAL,
                Some(i),
                format!("{key} is not allowed in an identity policy (it belongs in resource and trust policies)"),
                format!("remove {key}: the grant's user or role is the principal"),
            ));
        }
    }
    let effect = match o.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Some(Effect::Allow),
        Some("Deny") => Some(Effect::Deny),
        other => {
            findings.push(grammar(
                codes::EFFECT,
                Some(i),
                match other {
                    Some(e) => format!("Effect `{e}` must be exactly \"Allow\" or \"Deny\""),
                    None => "the statement has no Effect".to_string(),
                },
                "write \"Effect\": \"Allow\"",
            ));
            None
        }
    };
    let (actions, not_action) = match (o.get("Action"), o.get("NotAction")) {
        (Some(a), None) => (
            string_list(a, i, codes::ACTION_ELEMENT, "Action", findings),
            false,
        ),
        (None, Some(a)) => (
            string_list(a, i, codes::ACTION_ELEMENT, "NotAction", findings),
            true,
        ),
        (Some(_), Some(_)) => {
            findings.push(grammar(
                codes::ACTION_ELEMENT,
                Some(i),
                "the statement has both Action and NotAction",
                "keep one of them (prefer Action)",
            ));
            (Vec::new(), false)
        }
        (None, None) => {
            findings.push(grammar(
                codes::ACTION_ELEMENT,
                Some(i),
                "the statement has no Action",
                "add \"Action\": [\"service:Action\", ...]",
            ));
            (Vec::new(), false)
        }
    };
    let (resources, not_resource) = match (o.get("Resource"), o.get("NotResource")) {
        (Some(r), None) => (
            string_list(r, i, codes::RESOURCE_ELEMENT, "Resource", findings),
            false,
        ),
        (None, Some(r)) => (
            string_list(r, i, codes::RESOURCE_ELEMENT, "NotResource", findings),
            true,
        ),
        (Some(_), Some(_)) => {
            findings.push(grammar(
                codes::RESOURCE_ELEMENT,
                Some(i),
                "the statement has both Resource and NotResource",
                "keep one of them (prefer Resource)",
            ));
            (Vec::new(), false)
        }
        (None, None) => {
            findings.push(grammar(
                codes::RESOURCE_ELEMENT,
                Some(i),
                "the statement has no Resource (identity policies need one)",
                "add \"Resource\": [\"arn:...\"]",
            ));
            (Vec::new(), false)
        }
    };
    if let Some(c) = o.get("Condition") {
        check_condition(i, c, findings);
    }
    Some(Statement {
        index: i,
        effect: effect?,
        actions,
        not_action,
        resources,
        not_resource,
    })
}

fn check_condition(i: usize, c: &Value, findings: &mut Vec<Finding>) {
    let Some(ops) = c.as_object() else {
        findings.push(grammar(
            codes::CONDITION,
            Some(i),
            "Condition must be an object of operators",
            "write \"Condition\": {\"StringEquals\": {\"aws:RequestedRegion\": \"eu-west-1\"}}",
        ));
        return;
    };
    for (op, body) in ops {
        if !is_condition_operator(op) {
            findings.push(grammar(
                codes::CONDITION,
                Some(i),
                format!("unknown condition operator `{op}`"),
                "use an IAM operator such as StringEquals, StringLike, ArnLike, Bool, IpAddress, DateLessThan",
            ));
            continue;
        }
        let Some(keys) = body.as_object() else {
            findings.push(grammar(
                codes::CONDITION,
                Some(i),
                format!("the body of `{op}` must be an object of condition keys"),
                format!("write \"{op}\": {{\"aws:SomeKey\": \"value\"}}"),
            ));
            continue;
        };
        for (k, v) in keys {
            let ok = match v {
                Value::String(_) | Value::Bool(_) | Value::Number(_) => true,
                Value::Array(a) => {
                    !a.is_empty()
                        && a.iter().all(|x| {
                            matches!(x, Value::String(_) | Value::Bool(_) | Value::Number(_))
                        })
                }
                _ => false,
            };
            if !ok || !k.contains(':') {
                findings.push(grammar(
                    codes::CONDITION,
                    Some(i),
                    format!("condition `{op}` → `{k}` has a bad key or value"),
                    "keys look like service:Name and values are strings, numbers, booleans or arrays of them",
                ));
            }
        }
    }
}

/// A statement the generators emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowStatement {
    pub sid: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// Builds `{"Version": "2012-10-17", "Statement": [...]}` with keys in IAM's usual order.
pub fn build(statements: &[AllowStatement]) -> Value {
    let sts: Vec<Value> = statements
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("Sid".into(), json!(s.sid));
            m.insert("Effect".into(), json!("Allow"));
            m.insert("Action".into(), json!(s.actions));
            m.insert("Resource".into(), json!(s.resources));
            Value::Object(m)
        })
        .collect();
    let mut doc = Map::new();
    doc.insert("Version".into(), json!("2012-10-17"));
    doc.insert("Statement".into(), Value::Array(sts));
    Value::Object(doc)
}

/// Characters of the document without white space, as IAM counts them.
pub fn size_without_whitespace(doc: &Value) -> usize {
    serde_json::to_string(doc)
        .map(|s| s.chars().filter(|c| !c.is_whitespace()).count())
        .unwrap_or(0)
}
