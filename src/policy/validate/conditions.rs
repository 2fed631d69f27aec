//! Conditions against the catalog: the key exists (globally, or for its service), the
//! statement's actions receive it, the operator fits the key's type, the values fit the
//! operator, set operators fit single- or multivalued keys, and MFA checks that do not
//! enforce MFA. parliament's condition checks are the reference; IAM's own rules decide
//! where they differ (ISO 8601 dates and epoch seconds, decimal numbers).

use std::net::IpAddr;

use super::super::catalog::{self, KeyType, Service};
use super::super::document::condition::{ConditionEntry, OpKind, SetQualifier};
use super::super::document::{Effect, Statement};
use super::super::findings::{codes, Code, Finding};
use super::actions::Granted;
use super::{global_keys, suggest};

/// Condition keys some services define under another prefix (derived from the catalog;
/// a lib test keeps this list complete when the catalog is regenerated).
const FOREIGN_KEY_PREFIXES: &[(&str, &[&str])] = &[
    ("accounts.google.com", &["sts"]),
    ("catalog", &["aws-marketplace"]),
    ("cognito-identity-auth", &["cognito-identity"]),
    ("cognito-identity-unauth", &["cognito-identity"]),
    ("cognito-identity.amazonaws.com", &["sts"]),
    ("connect", &["cases"]),
    (
        "ec2",
        &["ec2-instance-connect", "ec2messages", "ssm", "ssmmessages"],
    ),
    ("elasticloadbalancing", &["arc-zonal-shift"]),
    ("graph.facebook.com", &["sts"]),
    ("iam", &["codestar", "sts"]),
    ("identitycenter", &["sso"]),
    ("identitystore", &["q", "qbusiness"]),
    ("iot", &["iotjobsdata"]),
    ("logs", &["xray"]),
    ("saml", &["sts"]),
    ("ssm", &["ec2messages", "ssmmessages"]),
    ("www.amazon.com", &["sts"]),
];

/// What the catalog says about a key.
struct KeyInfo {
    kind: KeyType,
    multivalued: bool,
    /// The service that defines it; `None` for global and session keys.
    service: Option<&'static Service>,
}

pub(super) fn check(st: &Statement, granted: &[Granted], findings: &mut Vec<Finding>) {
    for c in &st.conditions {
        let Some(key) = lookup_key(st.index, c, findings) else {
            continue;
        };
        key_applies(st, c, &key, granted, findings);
        if operator_fits_key(st.index, c, &key, findings) {
            values_fit_operator(st.index, c, findings);
        }
        set_operator_fits_key(st, c, &key, findings);
        mfa_enforced(st, c, findings);
    }
}

/// The message names the operator and the key; `resource` is kept for ARNs.
fn finding(code: &'static Code, i: usize, msg: String, fix: impl Into<String>) -> Finding {
    Finding::new(code, msg, fix).at(i)
}

/// The key's definition, or a `condition-key` error: a misspelt key silently disables
/// its condition (the key is never in the request).
fn lookup_key(i: usize, c: &ConditionEntry, findings: &mut Vec<Finding>) -> Option<KeyInfo> {
    let key = c.key.as_str();
    if let Some((_, kind, multivalued)) = global_keys::find(key) {
        return Some(KeyInfo {
            kind,
            multivalued,
            service: None,
        });
    }
    let prefix = key.split(':').next().unwrap_or("").to_ascii_lowercase();
    if prefix == "aws" {
        let hint = suggest::closest(key, global_keys::GLOBAL_KEYS.iter().map(|k| k.0))
            .map(|k| format!(" (did you mean {k}?)"))
            .unwrap_or_default();
        findings.push(finding(
            codes::CONDITION_KEY,
            i,
            format!("`{key}` is not a global condition key{hint}: the condition tests a key no request has"),
            "use a key from the global condition keys or the service's condition keys",
        ));
        return None;
    }
    let own = catalog::service(&prefix);
    let others = FOREIGN_KEY_PREFIXES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map_or(&[][..], |(_, s)| *s);
    for svc in own
        .into_iter()
        .chain(others.iter().filter_map(|p| catalog::service(p)))
    {
        if let Some(k) = svc.condition_key(key) {
            return Some(KeyInfo {
                kind: k.kind,
                multivalued: k.multivalued,
                service: Some(svc),
            });
        }
    }
    let msg = match own {
        Some(svc) => {
            let hint = suggest::closest(key, svc.condition_keys.iter().map(|k| k.name))
                .map(|k| format!(" (did you mean {k}?)"))
                .unwrap_or_default();
            format!(
                "`{key}` is not a condition key of {}{hint}: the condition tests a key no request has",
                svc.prefix
            )
        }
        None if others.is_empty() => format!(
            "`{key}`: `{prefix}` is neither `aws` nor a service prefix, so no request has this key"
        ),
        None => format!("`{key}` is not a known condition key"),
    };
    findings.push(finding(
        codes::CONDITION_KEY,
        i,
        msg,
        "check the spelling against the service's condition keys in the Service Authorization Reference",
    ));
    None
}

/// Service keys reach only the actions that document them.
fn key_applies(
    st: &Statement,
    c: &ConditionEntry,
    key: &KeyInfo,
    granted: &[Granted],
    findings: &mut Vec<Finding>,
) {
    if key.service.is_none() || st.not_action || granted.is_empty() {
        return;
    }
    let mut missing: Vec<String> = Vec::new();
    for g in granted {
        // The action's own keys and its resource types' keys, whoever defines the key.
        if !g.service.action_supports_key(g.action, &c.key) {
            missing.push(g.full());
        }
    }
    missing.dedup();
    if missing.is_empty() {
        return;
    }
    let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
    let effect = match (st.effect, c.operator.if_exists || c.operator.negated()) {
        (Effect::Allow, false) => "the statement never allows them",
        (Effect::Allow, true) => "the condition does not restrict them",
        (Effect::Deny, false) => "the statement never denies them",
        (Effect::Deny, true) => "the statement denies them whatever the request",
    };
    findings.push(finding(
        codes::CONDITION_KEY_NOT_APPLICABLE,
        st.index,
        format!(
            "{}{} never receive `{}`: {effect}",
            shown.join(", "),
            if missing.len() > 5 {
                format!(" and {} more", missing.len() - 5)
            } else {
                String::new()
            },
            c.key
        ),
        "move those actions to a statement without this condition, or use a key they support",
    ));
}

/// The operator must compare the key's type: NumericLessThan on aws:SourceIp never matches.
fn operator_fits_key(
    i: usize,
    c: &ConditionEntry,
    key: &KeyInfo,
    findings: &mut Vec<Finding>,
) -> bool {
    let arn_named = c.key.to_ascii_lowercase().ends_with("arn");
    let fits = match c.operator.kind {
        OpKind::Null => true,
        OpKind::String | OpKind::Binary => matches!(key.kind, KeyType::String | KeyType::Arn),
        OpKind::Arn => key.kind == KeyType::Arn || (key.kind == KeyType::String && arn_named),
        OpKind::Numeric => key.kind == KeyType::Numeric || global_keys::epoch(&c.key),
        OpKind::Date => key.kind == KeyType::Date,
        OpKind::Bool => key.kind == KeyType::Bool,
        OpKind::Ip => key.kind == KeyType::Ip,
    };
    if !fits {
        findings.push(finding(
            codes::CONDITION_TYPE,
            i,
            format!(
                "`{}` is a {} operator but `{}` is a {} key: the comparison never works as meant",
                c.operator.text,
                c.operator.kind.as_str(),
                c.key,
                key_type_name(key.kind)
            ),
            format!("use a {} operator", operator_for(key.kind)),
        ));
    }
    fits
}

fn key_type_name(k: KeyType) -> &'static str {
    match k {
        KeyType::String => "String",
        KeyType::Arn => "ARN",
        KeyType::Bool => "Bool",
        KeyType::Numeric => "Numeric",
        KeyType::Date => "Date",
        KeyType::Ip => "IP address",
    }
}

fn operator_for(k: KeyType) -> &'static str {
    match k {
        KeyType::String => "String (StringEquals, StringLike, ...)",
        KeyType::Arn => "ARN (ArnEquals, ArnLike, ...) or String",
        KeyType::Bool => "Bool",
        KeyType::Numeric => "Numeric (NumericEquals, NumericLessThan, ...)",
        KeyType::Date => "Date (DateLessThan, DateGreaterThan, ...)",
        KeyType::Ip => "IpAddress or NotIpAddress",
    }
}

/// Each value must be one the operator can read.
fn values_fit_operator(i: usize, c: &ConditionEntry, findings: &mut Vec<Finding>) {
    let bad: Vec<String> = c
        .value_texts()
        .into_iter()
        .filter(|v| !v.contains("${") && !value_fits(c.operator.kind, v))
        .collect();
    if bad.is_empty() {
        return;
    }
    let want = match c.operator.kind {
        OpKind::Numeric => "a number",
        OpKind::Date => "an ISO 8601 date (2025-01-31, 2025-01-31T12:00:00Z) or epoch seconds",
        OpKind::Bool | OpKind::Null => "true or false",
        OpKind::Ip => "an IPv4 or IPv6 address or CIDR range",
        OpKind::Arn => "an ARN (arn:...) or \"*\"",
        OpKind::Binary => "base64",
        OpKind::String => "a string",
    };
    findings.push(finding(
        codes::CONDITION_VALUE,
        i,
        format!(
            "`{}` needs {want}, not {}",
            c.operator.text,
            bad.iter()
                .map(|b| format!("`{b}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!("write {want}"),
    ));
}

pub(super) fn value_fits(kind: OpKind, v: &str) -> bool {
    match kind {
        OpKind::String => true,
        OpKind::Numeric => v.trim().parse::<f64>().is_ok_and(f64::is_finite),
        OpKind::Date => is_date(v),
        OpKind::Bool | OpKind::Null => {
            v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false")
        }
        OpKind::Ip => is_cidr(v),
        OpKind::Arn => v == "*" || v.starts_with("arn:"),
        OpKind::Binary => {
            !v.is_empty()
                && v.len() % 4 == 0
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
        }
    }
}

/// W3C ISO 8601 (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, then `Thh:mm`, `:ss`, `.s` and a zone
/// `Z` or `±hh:mm`), or epoch seconds.
fn is_date(v: &str) -> bool {
    if !v.is_empty() && v.len() <= 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let num = |s: &str, lo: u32, hi: u32| {
        !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && s.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n))
    };
    let (date, time) = match v.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (v, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let date_ok = match parts.as_slice() {
        [y] => y.len() == 4 && num(y, 0, 9999),
        [y, m] => y.len() == 4 && num(y, 0, 9999) && m.len() == 2 && num(m, 1, 12),
        [y, m, d] => {
            y.len() == 4
                && num(y, 0, 9999)
                && m.len() == 2
                && num(m, 1, 12)
                && d.len() == 2
                && num(d, 1, 31)
        }
        _ => false,
    };
    let Some(time) = time else {
        return date_ok;
    };
    if !date_ok || parts.len() != 3 {
        return false;
    }
    let (clock, zone_ok) = if let Some(c) = time.strip_suffix('Z') {
        (c, true)
    } else if let Some(pos) = time.rfind(['+', '-']) {
        let zone = &time[pos + 1..];
        let ok = matches!(zone.split_once(':'), Some((h, m)) if h.len() == 2 && num(h, 0, 23) && m.len() == 2 && num(m, 0, 59));
        (&time[..pos], ok)
    } else {
        (time, false)
    };
    let (hms, frac_ok) = match clock.split_once('.') {
        Some((h, f)) => (h, !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit())),
        None => (clock, true),
    };
    let fields: Vec<&str> = hms.split(':').collect();
    let clock_ok = match fields.as_slice() {
        [h, m] => h.len() == 2 && num(h, 0, 23) && m.len() == 2 && num(m, 0, 59),
        [h, m, s] => {
            h.len() == 2
                && num(h, 0, 23)
                && m.len() == 2
                && num(m, 0, 59)
                && s.len() == 2
                && num(s, 0, 60)
        }
        _ => false,
    };
    zone_ok && frac_ok && clock_ok
}

/// An IPv4 or IPv6 address, optionally with a prefix length.
fn is_cidr(v: &str) -> bool {
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (v, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    len.is_none_or(|l| l.parse::<u8>().is_ok_and(|n| n <= max))
}

/// ForAllValues/ForAnyValue compare a set: on a single-valued key ForAllValues is true
/// when the key is missing (an Allow then applies unconditionally). A plain operator on a
/// multivalued key compares only one of its values.
fn set_operator_fits_key(
    st: &Statement,
    c: &ConditionEntry,
    key: &KeyInfo,
    findings: &mut Vec<Finding>,
) {
    let msg = match (c.operator.set, key.multivalued) {
        (Some(SetQualifier::ForAllValues), false) => format!(
            "`{}` on the single-valued key `{}` is true when the key is missing{}",
            c.operator.text,
            c.key,
            if st.effect == Effect::Allow {
                ", so the Allow then applies without the check"
            } else {
                ""
            }
        ),
        (Some(SetQualifier::ForAnyValue), false) => format!(
            "`{}` is for multivalued keys; `{}` holds one value",
            c.operator.text, c.key
        ),
        (None, true) if c.operator.kind != OpKind::Null => format!(
            "`{}` holds several values; `{}` without ForAllValues/ForAnyValue does not say how to compare them",
            c.key, c.operator.text
        ),
        _ => return,
    };
    findings.push(finding(
        codes::CONDITION_SET_OPERATOR,
        st.index,
        msg,
        "use ForAllValues/ForAnyValue only with multivalued keys (aws:TagKeys, aws:CalledVia, ...), and always with them",
    ));
}

/// `Bool aws:MultiFactorAuthPresent "false"`: the key is absent for long-term access keys,
/// so the condition does not enforce MFA.
fn mfa_enforced(st: &Statement, c: &ConditionEntry, findings: &mut Vec<Finding>) {
    if !c.key.eq_ignore_ascii_case("aws:MultiFactorAuthPresent") || c.operator.set.is_some() {
        return;
    }
    let has_false = c
        .value_texts()
        .iter()
        .any(|v| v.eq_ignore_ascii_case("false"));
    let msg = match (c.operator.kind, c.operator.if_exists, st.effect) {
        (OpKind::Bool, false, Effect::Allow) if has_false => {
            "Allow with `Bool aws:MultiFactorAuthPresent false` does not enforce MFA: it allows sessions without MFA, and the key is absent for long-term keys"
        }
        (OpKind::Bool, false, Effect::Deny) if has_false => {
            "Deny with `Bool aws:MultiFactorAuthPresent false` lets long-term access keys through: the key is absent for them"
        }
        (OpKind::Null, _, Effect::Allow) if has_false => {
            "Allow with `Null aws:MultiFactorAuthPresent false` only checks for temporary credentials, not MFA"
        }
        _ => return,
    };
    findings.push(finding(
        codes::MFA_CONDITION,
        st.index,
        msg.to_string(),
        "require MFA with Allow + Bool aws:MultiFactorAuthPresent true, or Deny + BoolIfExists aws:MultiFactorAuthPresent false",
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_numbers_and_addresses() {
        for ok in [
            "2025",
            "2025-01",
            "2025-01-31",
            "2025-01-31T12:00Z",
            "2025-01-31T12:00:00Z",
            "2025-01-31T12:00:00.123Z",
            "2025-01-31T12:00:00+02:00",
            "1735689600",
        ] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "yesterday",
            "2025-13-01",
            "2025-01-31T25:00:00Z",
            "31/01/2025",
            "2025-01-31T12:00:00",
            "",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
        assert!(value_fits(OpKind::Numeric, "3600"));
        assert!(value_fits(OpKind::Numeric, "1.5"));
        assert!(!value_fits(OpKind::Numeric, "ten"));
        assert!(!value_fits(OpKind::Numeric, "NaN"));
        assert!(is_cidr("203.0.113.0/24") && is_cidr("2001:db8::/32") && is_cidr("10.0.0.1"));
        assert!(!is_cidr("203.0.113.0/33") && !is_cidr("10.0.0") && !is_cidr("any"));
    }

    #[test]
    fn foreign_key_prefixes_cover_the_catalog() {
        // Every key whose prefix is neither `aws` nor its own service's must be found
        // through FOREIGN_KEY_PREFIXES.
        for prefix in catalog::prefixes() {
            let Some(svc) = catalog::service(prefix) else {
                continue;
            };
            for k in &svc.condition_keys {
                let kp = k.name.split(':').next().unwrap_or("").to_ascii_lowercase();
                if kp == "aws" || kp == svc.prefix {
                    continue;
                }
                let listed = FOREIGN_KEY_PREFIXES
                    .iter()
                    .any(|(p, s)| *p == kp && s.contains(&svc.prefix.as_str()));
                assert!(
                    listed,
                    "{} defines {}: add it to FOREIGN_KEY_PREFIXES",
                    svc.prefix, k.name
                );
            }
        }
    }
}
