//! Everyday requests (tests/data/nl_cases.toml) through the rules generator: reports the
//! share of cases whose policy is exactly what a careful admin would grant, and fails on
//! any over-grant (an action of an access level that was not asked for, an action listed
//! under `never`, or a resource pattern reaching the case's `outside` ARN).
//!
//! `NL_EXACT_FLOOR` (a share, default 0.90) is the least exact share that passes.

use std::collections::BTreeSet;

use aws_jit::error::{exit_code_of, ExitCode};
use aws_jit::policy::catalog::{self, glob_match, AccessLevel};
use aws_jit::policy::{generate, GenerateInput, GeneratorChoice};
use serde_json::Value;

const CASES: &str = include_str!("data/nl_cases.toml");

struct Case {
    text: String,
    region: Option<String>,
    account: Option<String>,
    grant: BTreeSet<String>,
    resources: Option<BTreeSet<String>>,
    levels: Vec<AccessLevel>,
    never: Vec<String>,
    outside: Option<String>,
    refuse: Option<String>,
}

fn strings(t: &toml::Table, key: &str) -> Vec<String> {
    t.get(key)
        .and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(toml::Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn text(t: &toml::Table, key: &str) -> Option<String> {
    t.get(key).and_then(toml::Value::as_str).map(str::to_string)
}

fn level(s: &str) -> AccessLevel {
    AccessLevel::parse(s).unwrap_or_else(|| panic!("nl_cases.toml: unknown level `{s}`"))
}

fn load() -> Vec<Case> {
    let doc: toml::Table = CASES.parse().expect("nl_cases.toml parses");
    let defaults = doc
        .get("defaults")
        .and_then(toml::Value::as_table)
        .cloned()
        .unwrap_or_default();
    let cases = doc
        .get("case")
        .and_then(toml::Value::as_array)
        .expect("[[case]] entries");
    cases
        .iter()
        .map(|c| {
            let c = c.as_table().expect("a case is a table");
            Case {
                text: text(c, "text").expect("every case has a text"),
                region: text(c, "region").or_else(|| text(&defaults, "region")),
                account: text(c, "account").or_else(|| text(&defaults, "account")),
                grant: strings(c, "grant")
                    .iter()
                    .map(|a| a.to_ascii_lowercase())
                    .collect(),
                resources: c
                    .contains_key("resources")
                    .then(|| strings(c, "resources").into_iter().collect()),
                levels: strings(c, "levels").iter().map(|l| level(l)).collect(),
                never: strings(c, "never"),
                outside: text(c, "outside"),
                refuse: text(c, "refuse"),
            }
        })
        .collect()
}

fn as_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// (actions, resources) of every statement.
fn statements(policy: &Value) -> Vec<(Vec<String>, Vec<String>)> {
    policy["Statement"]
        .as_array()
        .map(|sts| {
            sts.iter()
                .map(|s| (as_list(&s["Action"]), as_list(&s["Resource"])))
                .collect()
        })
        .unwrap_or_default()
}

/// Over-grants of one generated policy, as readable lines.
fn over_grants(case: &Case, policy: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    for (actions, resources) in statements(policy) {
        for a in &actions {
            if case.never.iter().any(|n| n.eq_ignore_ascii_case(a)) {
                bad.push(format!("{a} is listed under `never`"));
            }
            let Some((_, act)) = catalog::action(a) else {
                bad.push(format!("{a} is not in the catalog"));
                continue;
            };
            if !case.levels.is_empty() && !case.levels.contains(&act.level) {
                bad.push(format!(
                    "{a} is {} access, beyond what was asked",
                    act.level.as_str()
                ));
            }
            let Some(out) = &case.outside else { continue };
            let Some((svc, _)) = catalog::action(a) else {
                continue;
            };
            if act.resources.is_empty() || !svc.action_accepts(act, out) {
                continue; // "*" for an action that supports nothing narrower, or one
                          // that cannot act on a resource of that type at all
            }
            for r in resources.iter().filter(|r| glob_match(r, out)) {
                bad.push(format!("{a} on `{r}` reaches `{out}`"));
            }
        }
    }
    bad
}

/// Why a generated policy is not exactly the expected one, if it is not.
fn difference(case: &Case, policy: &Value) -> Option<String> {
    let sts = statements(policy);
    let got: BTreeSet<String> = sts
        .iter()
        .flat_map(|(a, _)| a.iter().map(|x| x.to_ascii_lowercase()))
        .collect();
    let mut why = Vec::new();
    let missing: Vec<&String> = case.grant.difference(&got).collect();
    let extra: Vec<&String> = got.difference(&case.grant).collect();
    if !missing.is_empty() {
        why.push(format!("missing {missing:?}"));
    }
    if !extra.is_empty() {
        why.push(format!("extra {extra:?}"));
    }
    if let Some(want) = &case.resources {
        let got_res: BTreeSet<String> = sts
            .iter()
            .flat_map(|(_, r)| r.iter().filter(|x| *x != "*").cloned())
            .collect();
        if &got_res != want {
            why.push(format!("resources {got_res:?}, expected {want:?}"));
        }
    }
    (!why.is_empty()).then(|| why.join("; "))
}

#[test]
fn everyday_requests_are_exact_and_never_over_granted() {
    let cases = load();
    assert!(cases.len() >= 80, "at least 80 cases");
    let mut exact = 0usize;
    let mut misses = Vec::new();
    let mut failures = Vec::new();
    for case in &cases {
        let input = GenerateInput {
            description: Some(case.text.clone()),
            region: case.region.clone(),
            account_id: case.account.clone(),
            ..Default::default()
        };
        let result = generate(&input, GeneratorChoice::Rules, None);
        match (&case.refuse, result) {
            (Some(want), Err(e)) => {
                let msg = format!("{e:#}");
                if exit_code_of(&e) == ExitCode::Usage
                    && msg.to_lowercase().contains(&want.to_lowercase())
                {
                    exact += 1;
                } else {
                    misses.push(format!(
                        "{:?}: refused, but not with `{want}`: {msg}",
                        case.text
                    ));
                }
            }
            (Some(want), Ok(g)) => {
                failures.extend(
                    over_grants(case, &g.policy)
                        .into_iter()
                        .map(|b| format!("{:?}: {b}", case.text)),
                );
                misses.push(format!(
                    "{:?}: should be refused (`{want}`), got {}",
                    case.text, g.policy
                ));
            }
            (None, Err(e)) => misses.push(format!("{:?}: refused: {e:#}", case.text)),
            (None, Ok(g)) => {
                let bad = over_grants(case, &g.policy);
                failures.extend(bad.iter().map(|b| format!("{:?}: {b}", case.text)));
                match difference(case, &g.policy) {
                    None if bad.is_empty() => exact += 1,
                    None => {}
                    Some(why) => misses.push(format!("{:?}: {why}", case.text)),
                }
            }
        }
    }
    let share = exact as f64 / cases.len() as f64;
    println!("not exact:");
    for m in &misses {
        println!("  {m}");
    }
    println!(
        "nl_cases exact: {exact}/{} ({:.1}%), over-grants: {}",
        cases.len(),
        share * 100.0,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "over-grants:\n  {}",
        failures.join("\n  ")
    );
    let floor: f64 = std::env::var("NL_EXACT_FLOOR")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.90);
    assert!(
        share >= floor,
        "exact share {:.1}% is under {:.0}%",
        share * 100.0,
        floor * 100.0
    );
}
