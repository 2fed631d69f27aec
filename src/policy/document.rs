//! IAM identity-policy documents: the grammar check that turns JSON into statements,
//! and the builder the generators use.

use serde_json::{json, Map, Value};

pub mod condition;

use super::findings::{codes, Code, Finding};
use condition::{ConditionEntry, Operator};

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
    /// The well-formed entries of the Condition block (malformed ones are findings).
    pub conditions: Vec<ConditionEntry>,
    /// The statement has a Condition element at all.
    pub has_condition: bool,
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

/// Is `op` a valid condition operator (with optional `ForAllValues:`/`ForAnyValue:` and `IfExists`)?
pub fn is_condition_operator(op: &str) -> bool {
    Operator::parse(op).is_some()
}

fn grammar(
    code: &Code,
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
    check_top_level_keys(obj, findings);
    check_version(obj, findings);
    let Some(raw) = statement_list(obj, findings) else {
        return Vec::new();
    };
    let mut sids: Vec<String> = Vec::new();
    raw.into_iter()
        .enumerate()
        .filter_map(|(i, st)| parse_statement(i, st, &mut sids, findings))
        .collect()
}

fn check_top_level_keys(obj: &Map<String, Value>, findings: &mut Vec<Finding>) {
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
}

fn check_version(obj: &Map<String, Value>, findings: &mut Vec<Finding>) {
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
}

/// The Statement element as a list (a single object counts as one statement).
fn statement_list<'a>(
    obj: &'a Map<String, Value>,
    findings: &mut Vec<Finding>,
) -> Option<Vec<&'a Value>> {
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
            return None;
        }
        None => {
            findings.push(grammar(
                codes::STATEMENT,
                None,
                "the document has no Statement",
                "add \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [...], \"Resource\": [...]}]",
            ));
            return None;
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
    Some(raw)
}

fn string_list(
    v: &Value,
    i: usize,
    code: &Code,
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
    check_statement_keys(i, o, findings);
    check_sid(i, o, sids, findings);
    check_principal(i, o, findings);
    let effect = read_effect(i, o, findings);
    let (actions, not_action) = read_pair(i, o, &ACTION_PAIR, findings);
    let (resources, not_resource) = read_pair(i, o, &RESOURCE_PAIR, findings);
    let conditions = match o.get("Condition") {
        Some(c) => read_conditions(i, c, findings),
        None => Vec::new(),
    };
    Some(Statement {
        index: i,
        effect: effect?,
        actions,
        not_action,
        resources,
        not_resource,
        conditions,
        has_condition: o.contains_key("Condition"),
    })
}

fn check_statement_keys(i: usize, o: &Map<String, Value>, findings: &mut Vec<Finding>) {
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
}

fn check_sid(
    i: usize,
    o: &Map<String, Value>,
    sids: &mut Vec<String>,
    findings: &mut Vec<Finding>,
) {
    let Some(sid) = o.get("Sid") else {
        return;
    };
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

fn check_principal(i: usize, o: &Map<String, Value>, findings: &mut Vec<Finding>) {
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
}

fn read_effect(i: usize, o: &Map<String, Value>, findings: &mut Vec<Finding>) -> Option<Effect> {
    match o.get("Effect").and_then(Value::as_str) {
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
    }
}

/// An element that comes as a positive/negative pair: Action/NotAction, Resource/NotResource.
struct ElementPair {
    positive: &'static str,
    negative: &'static str,
    code: &'static Code,
    missing: &'static str,
    missing_fix: &'static str,
}

const ACTION_PAIR: ElementPair = ElementPair {
    positive: "Action",
    negative: "NotAction",
    code: codes::ACTION_ELEMENT,
    missing: "the statement has no Action",
    missing_fix: "add \"Action\": [\"service:Action\", ...]",
};

const RESOURCE_PAIR: ElementPair = ElementPair {
    positive: "Resource",
    negative: "NotResource",
    code: codes::RESOURCE_ELEMENT,
    missing: "the statement has no Resource (identity policies need one)",
    missing_fix: "add \"Resource\": [\"arn:...\"]",
};

/// Reads one of the pair; returns its entries and whether it was the negative element.
fn read_pair(
    i: usize,
    o: &Map<String, Value>,
    pair: &ElementPair,
    findings: &mut Vec<Finding>,
) -> (Vec<String>, bool) {
    match (o.get(pair.positive), o.get(pair.negative)) {
        (Some(v), None) => (string_list(v, i, pair.code, pair.positive, findings), false),
        (None, Some(v)) => (string_list(v, i, pair.code, pair.negative, findings), true),
        (Some(_), Some(_)) => {
            findings.push(grammar(
                pair.code,
                Some(i),
                format!(
                    "the statement has both {} and {}",
                    pair.positive, pair.negative
                ),
                format!("keep one of them (prefer {})", pair.positive),
            ));
            (Vec::new(), false)
        }
        (None, None) => {
            findings.push(grammar(pair.code, Some(i), pair.missing, pair.missing_fix));
            (Vec::new(), false)
        }
    }
}

/// Checks the Condition block's shape; returns its well-formed entries.
fn read_conditions(i: usize, c: &Value, findings: &mut Vec<Finding>) -> Vec<ConditionEntry> {
    let Some(ops) = c.as_object() else {
        findings.push(grammar(
            codes::CONDITION,
            Some(i),
            "Condition must be an object of operators",
            "write \"Condition\": {\"StringEquals\": {\"aws:RequestedRegion\": \"eu-west-1\"}}",
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (op, body) in ops {
        let Some(operator) = Operator::parse(op) else {
            findings.push(grammar(
                codes::CONDITION,
                Some(i),
                format!("unknown condition operator `{op}`"),
                "use an IAM operator such as StringEquals, StringLike, ArnLike, Bool, IpAddress, DateLessThan",
            ));
            continue;
        };
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
            match condition_values(v) {
                Some(values) if k.contains(':') => out.push(ConditionEntry {
                    operator: operator.clone(),
                    key: k.clone(),
                    values,
                }),
                _ => findings.push(grammar(
                    codes::CONDITION,
                    Some(i),
                    format!("condition `{op}` → `{k}` has a bad key or value"),
                    "keys look like service:Name and values are strings, numbers, booleans or arrays of them",
                )),
            }
        }
    }
    out
}

/// A condition value: a scalar or a non-empty array of scalars.
fn condition_values(v: &Value) -> Option<Vec<Value>> {
    let scalar = |x: &Value| matches!(x, Value::String(_) | Value::Bool(_) | Value::Number(_));
    match v {
        Value::Array(a) if !a.is_empty() && a.iter().all(scalar) => Some(a.clone()),
        x if scalar(x) => Some(vec![x.clone()]),
        _ => None,
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
