//! TOML to rules, keeping the line of every key so each problem can name it. Problems of
//! shape (unknown keys, wrong types, values that do not parse) are collected, never the
//! first one only; what can still be read is read.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{FindingsAllowed, Group, Level, Lint, Mode, Rule};

pub const RULE_KEYS: &[&str] = &[
    "name",
    "services",
    "max_access",
    "findings",
    "max_ttl",
    "approval",
    "requesters",
    "accounts",
    "permission_sets",
    "iam_users",
    "iam_roles",
    "approvers",
    "quorum",
    "break_glass",
    "extensions",
];

/// Byte offset -> line number (1-based).
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(starts)
    }

    fn at(&self, span: Range<usize>) -> usize {
        self.0.partition_point(|&s| s <= span.start).max(1)
    }
}

fn kind(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "a number",
        DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "true or false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

pub fn parse(text: &str) -> (BTreeMap<String, Group>, Vec<Rule>, Vec<Lint>) {
    let lines = Lines::new(text);
    let mut lints = Vec::new();
    let doc = match DeTable::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let line = e.span().map(|s| lines.at(s)).unwrap_or(1);
            lints.push(Lint::error(
                line,
                "syntax",
                format!("not valid TOML: {}", e.message().trim()),
            ));
            return (BTreeMap::new(), Vec::new(), lints);
        }
    };
    let mut groups = BTreeMap::new();
    let mut rules = Vec::new();
    for (key, value) in doc.get_ref().iter() {
        let line = lines.at(key.span());
        match key.get_ref().as_ref() {
            "groups" => match value.get_ref() {
                DeValue::Table(t) => groups = parse_groups(t, &lines, &mut lints),
                other => lints.push(Lint::error(
                    line,
                    "type",
                    format!("`groups` must be a table ([groups]), not {}", kind(other)),
                )),
            },
            "rule" => match value.get_ref() {
                DeValue::Array(items) => {
                    for item in items.iter() {
                        match item.get_ref() {
                            DeValue::Table(t) => {
                                rules.push(parse_rule(t, lines.at(item.span()), &lines, &mut lints))
                            }
                            other => lints.push(Lint::error(
                                lines.at(item.span()),
                                "type",
                                format!("each rule is a [[rule]] table, not {}", kind(other)),
                            )),
                        }
                    }
                }
                other => lints.push(Lint::error(
                    line,
                    "type",
                    format!("rules are written as [[rule]] tables, not {}", kind(other)),
                )),
            },
            other => lints.push(Lint::error(
                line,
                "unknown-key",
                format!(
                    "unknown key `{}` at the top level (known: groups, rule)",
                    crate::text::safe(other)
                ),
            )),
        }
    }
    (groups, rules, lints)
}

fn parse_groups(t: &DeTable<'_>, lines: &Lines, lints: &mut Vec<Lint>) -> BTreeMap<String, Group> {
    let mut out = BTreeMap::new();
    for (key, value) in t.iter() {
        let line = lines.at(key.span());
        let name = key.get_ref().to_string();
        match strings(value) {
            Ok(members) => {
                out.insert(name, Group { line, members });
            }
            Err(got) => lints.push(Lint::error(
                line,
                "type",
                format!(
                    "group `{}` must be a list of emails, not {got}",
                    crate::text::safe(&name)
                ),
            )),
        }
    }
    out
}

/// A list of strings, or what was found instead.
fn strings(v: &Spanned<DeValue<'_>>) -> Result<Vec<String>, &'static str> {
    match v.get_ref() {
        DeValue::Array(items) => items
            .iter()
            .map(|i| match i.get_ref() {
                DeValue::String(s) => Ok(s.to_string()),
                other => Err(kind(other)),
            })
            .collect(),
        other => Err(kind(other)),
    }
}

fn parse_rule(t: &DeTable<'_>, at: usize, lines: &Lines, lints: &mut Vec<Lint>) -> Rule {
    let mut rule = Rule {
        line: at,
        quorum: 1,
        ..Rule::default()
    };
    // The rule's own line: where its first key is when the table span says otherwise.
    let mut problems = Vec::new();
    for (key, value) in t.iter() {
        let line = lines.at(key.span());
        let k = key.get_ref().as_ref();
        rule.keys.insert(k.to_string(), line);
        let bad = |what: String| Lint::error(line, "type", what);
        let list = |field: &mut Option<Vec<String>>, problems: &mut Vec<Lint>| match strings(value)
        {
            Ok(v) => *field = Some(v),
            Err(got) => problems.push(bad(format!("`{k}` must be a list of strings, not {got}"))),
        };
        match k {
            "name" => match value.get_ref() {
                DeValue::String(s) => rule.name = s.to_string(),
                other => {
                    problems.push(bad(format!("`name` must be a string, not {}", kind(other))))
                }
            },
            "services" => list(&mut rule.services, &mut problems),
            "requesters" => list(&mut rule.requesters, &mut problems),
            "accounts" => list(&mut rule.accounts, &mut problems),
            "permission_sets" => list(&mut rule.permission_sets, &mut problems),
            "iam_users" => list(&mut rule.iam_users, &mut problems),
            "iam_roles" => list(&mut rule.iam_roles, &mut problems),
            "approvers" => list(&mut rule.approvers, &mut problems),
            "max_access" => match value.get_ref().as_str().map(|s| (s, Level::parse(s))) {
                Some((_, Some(l))) => rule.max_access = Some(l),
                Some((s, None)) => problems.push(bad(format!(
                    "max_access `{}` is not an access level ({})",
                    crate::text::safe(s),
                    Level::NAMES
                ))),
                None => problems.push(bad(format!(
                    "`max_access` must be a string ({}), not {}",
                    Level::NAMES,
                    kind(value.get_ref())
                ))),
            },
            "findings" => match value.get_ref().as_str() {
                Some("none") => rule.findings = FindingsAllowed::None,
                Some("any") => rule.findings = FindingsAllowed::Any,
                _ => problems.push(bad(
                    "`findings` is \"none\" (no security finding allowed) or \"any\"".into(),
                )),
            },
            "approval" => match value.get_ref().as_str() {
                Some("auto") => rule.approval = Mode::Auto,
                Some("required") => rule.approval = Mode::Required,
                _ => problems.push(bad("`approval` is \"required\" or \"auto\"".into())),
            },
            "max_ttl" => match value.get_ref().as_str() {
                Some(s) => match crate::time::parse_duration("max_ttl", s) {
                    Ok(d) => rule.max_ttl = Some(d),
                    Err(e) => problems.push(Lint::error(line, "bad-duration", e.to_string())),
                },
                None => problems.push(Lint::error(
                    line,
                    "bad-duration",
                    format!(
                        "`max_ttl` is a duration in a string (\"1h\", \"30m\"), not {}",
                        kind(value.get_ref())
                    ),
                )),
            },
            "quorum" => match whole(value.get_ref()) {
                Some(n) if (1..=100).contains(&n) => rule.quorum = n as usize,
                _ => problems.push(bad(
                    "`quorum` is a whole number of distinct approvers, from 1 to 100".into(),
                )),
            },
            "extensions" => match whole(value.get_ref()) {
                Some(n) if (0..=100).contains(&n) => rule.extensions = n as u32,
                _ => problems.push(bad(
                    "`extensions` is how many times a grant may be extended, from 0 to 100".into(),
                )),
            },
            "break_glass" => match value.get_ref().as_bool() {
                Some(b) => rule.break_glass = b,
                None => problems.push(bad("`break_glass` is true or false".into())),
            },
            other => problems.push(Lint::error(
                line,
                "unknown-key",
                format!(
                    "unknown key `{}` in a rule (known: {})",
                    crate::text::safe(other),
                    RULE_KEYS.join(", ")
                ),
            )),
        }
    }
    if let Some(first) = rule.keys.values().min() {
        // The table's span starts at its first key; its header is the line above.
        rule.line = rule.line.min(*first);
    }
    lints.extend(problems.into_iter().map(|l| l.of(&rule)));
    rule
}

fn whole(v: &DeValue<'_>) -> Option<i64> {
    let i = v.as_integer()?;
    i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
}
