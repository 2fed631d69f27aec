//! Plain-language requests → intents. Deterministic and narrow: it recognises services
//! and their common names, verbs for access levels, and resource names; anything it cannot
//! pin down is refused with a message saying what to add, never guessed broadly.

use std::collections::{BTreeMap, BTreeSet};

use super::arn;
use super::catalog::{self, AccessLevel};
use super::generate::{stem_of, ServiceIntent};
use crate::error::JitError;

const FIELD: &str = "--policy-description";

/// Kinds of resource people name: noun → (service, resource type, stem for resource-less actions).
const NOUNS: &[(&str, &str, &str)] = &[
    ("bucket", "s3", "bucket"),
    ("object", "s3", "object"),
    ("file", "s3", "object"),
    ("instance", "ec2", "instance"),
    ("server", "ec2", "instance"),
    ("vm", "ec2", "instance"),
    ("volume", "ec2", "volume"),
    ("snapshot", "ec2", "snapshot"),
    ("securitygroup", "ec2", "security-group"),
    ("vpc", "ec2", "vpc"),
    ("subnet", "ec2", "subnet"),
    ("ami", "ec2", "image"),
    ("image", "ec2", "image"),
    ("table", "dynamodb", "table"),
    ("loggroup", "logs", "log-group"),
    ("logstream", "logs", "log-stream"),
    ("function", "lambda", "function"),
    ("lambda", "lambda", "function"),
    ("secret", "secretsmanager", "Secret"),
    ("queue", "sqs", "queue"),
    ("topic", "sns", "topic"),
    ("parameter", "ssm", "parameter"),
    ("kmskey", "kms", "key"),
    ("repository", "ecr", "repository"),
    ("repo", "ecr", "repository"),
    ("stack", "cloudformation", "stack"),
    ("alarm", "cloudwatch", "alarm"),
    ("stream", "kinesis", "stream"),
    ("role", "iam", "role"),
    ("user", "iam", "user"),
    ("statemachine", "states", "statemachine"),
];

/// Service names and aliases → prefix (beyond the prefixes themselves).
const SERVICE_ALIASES: &[(&str, &str)] = &[
    ("dynamo", "dynamodb"),
    ("ddb", "dynamodb"),
    ("secretsmanager", "secretsmanager"),
    ("cloudwatchlogs", "logs"),
    ("log", "logs"),
    ("parameterstore", "ssm"),
    ("eventbridge", "events"),
    ("stepfunctions", "states"),
    ("cognito", "cognito-idp"),
    ("elb", "elasticloadbalancing"),
    ("efs", "elasticfilesystem"),
    ("emr", "elasticmapreduce"),
    ("metric", "cloudwatch"),
];

/// Service prefixes that are also ordinary English words; they count only as `--service`.
const PREFIX_WORDS: &[&str] = &[
    "account",
    "activate",
    "artifact",
    "billing",
    "budgets",
    "cases",
    "config",
    "connect",
    "detective",
    "discovery",
    "events",
    "geo",
    "health",
    "invoicing",
    "iq",
    "one",
    "payments",
    "pipes",
    "pricing",
    "profile",
    "q",
    "ram",
    "scheduler",
    "schemas",
    "signer",
    "signin",
    "support",
    "tag",
    "tax",
    "transfer",
    "transform",
    "translate",
    "sustainability",
    "notifications",
    "shield",
    "personalize",
    "forecast",
    "batch",
    "backup",
    "chatbot",
    "ts",
    "mq",
    "pi",
    "ce",
    "es",
    "sms",
    "rum",
    "uxc",
    "wam",
    "cur",
    "ds",
    "fis",
    "fms",
    "swf",
];

const STOPWORDS: &[&str] = &[
    "a", "an", "the", "in", "on", "of", "for", "to", "from", "and", "or", "with", "my", "our",
    "all", "any", "named", "called", "its", "their", "this", "that", "these", "those", "at",
    "into", "by", "only", "just", "me", "i", "we", "need", "needs", "want", "access", "please",
    "can", "be", "able", "is", "are", "it", "them", "under", "inside", "within", "account",
    "region", "some", "every", "each", "new", "existing", "which", "prefix", "path",
];

/// Verbs that name one kind of write: they grant only the Write actions whose names start
/// with these words ("invoke function f" → lambda:InvokeFunction, not lambda:DeleteFunction).
fn verb_prefixes(word: &str) -> Option<&'static [&'static str]> {
    Some(match word {
        "invoke" | "invokes" | "invoking" | "call" => &["Invoke"],
        "start" | "starts" | "starting" => &["Start"],
        "stop" | "stops" | "stopping" => &["Stop"],
        "reboot" | "reboots" | "rebooting" | "restart" => &["Reboot"],
        "terminate" | "terminates" | "terminating" => &["Terminate"],
        "delete" | "deletes" | "deleting" | "remove" | "removing" => &["Delete", "Remove"],
        "publish" | "publishes" | "publishing" => &["Publish"],
        "send" | "sends" | "sending" => &["Send"],
        "upload" | "uploads" | "uploading" => &[
            "PutObject",
            "AbortMultipartUpload",
            "UploadPart",
            "CreateMultipartUpload",
            "CompleteMultipartUpload",
        ],
        "restore" | "restores" | "restoring" => &["Restore"],
        "rotate" | "rotates" | "rotating" => &["Rotate"],
        "purge" | "purges" | "purging" => &["Purge"],
        "copy" | "copies" | "copying" => &["Copy"],
        _ => return None,
    })
}

/// Verbs → access levels. Read includes List (people who can read expect to see what is there).
fn verb_levels(word: &str) -> Option<&'static [AccessLevel]> {
    use AccessLevel::*;
    const READ: &[AccessLevel] = &[Read, List];
    const LIST: &[AccessLevel] = &[List];
    const WRITE: &[AccessLevel] = &[Write];
    const TAG: &[AccessLevel] = &[Tagging];
    const RW: &[AccessLevel] = &[Read, List, Write];
    let candidates = [
        word.to_string(),
        word.strip_suffix("ing")
            .map(str::to_string)
            .unwrap_or_default(),
        word.strip_suffix("ing")
            .map(|w| format!("{w}e"))
            .unwrap_or_default(),
        word.strip_suffix("ed")
            .map(str::to_string)
            .unwrap_or_default(),
        word.strip_suffix('d')
            .map(str::to_string)
            .unwrap_or_default(),
        word.strip_suffix("es")
            .map(str::to_string)
            .unwrap_or_default(),
        word.strip_suffix('s')
            .map(str::to_string)
            .unwrap_or_default(),
    ];
    for w in candidates.iter().filter(|w| !w.is_empty()) {
        let l = match w.as_str() {
            "read" | "view" | "get" | "describe" | "see" | "inspect" | "download" | "fetch"
            | "show" | "look" | "readonly" | "read-only" | "query" | "scan" | "tail" | "watch" => {
                READ
            }
            "list" | "enumerate" | "browse" => LIST,
            "write" | "put" | "update" | "create" | "modify" | "upload" | "edit" | "change"
            | "add" | "insert" | "deploy" => WRITE,
            "tag" | "untag" | "tagging" | "label" => TAG,
            "read-write" | "readwrite" | "rw" | "manage" => RW,
            _ => continue,
        };
        return Some(l);
    }
    None
}

/// What the description asked for, before ARNs are built.
#[derive(Debug, Default)]
pub struct Parsed {
    pub services: Vec<String>,
    pub levels: BTreeSet<AccessLevel>,
    /// Name prefixes of Write actions asked for by specific verbs (invoke, start, ...).
    pub write_prefixes: BTreeSet<String>,
    /// (service, resource type) → names.
    pub names: Vec<(String, String, String)>,
    pub arns: Vec<String>,
    /// (service, resource type) kinds mentioned without names.
    pub kinds: Vec<(String, String)>,
    pub region: Option<String>,
    pub account: Option<String>,
}

fn refuse<T>(msg: impl std::fmt::Display) -> anyhow::Result<T> {
    Err(JitError::invalid(FIELD, msg).into())
}

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    (parts.len() == 3 || (parts.len() == 4 && parts[1] == "gov"))
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-").is_some_and(|h| {
        (h.len() == 8 || h.len() == 17) && h.chars().all(|c| c.is_ascii_hexdigit())
    })
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Could this token be a resource name (not an English filler word)?
fn name_like(tok: &str, lower: &str) -> bool {
    !tok.is_empty()
        && !STOPWORDS.contains(&lower)
        && verb_levels(lower).is_none()
        && verb_prefixes(lower).is_none()
        && noun_of(lower).is_none()
        && service_of_word(lower).is_none()
        && tok
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@+=:#".contains(c))
}

/// Has a character that plain English words don't: safe to take as a name before its noun.
fn distinctive(tok: &str) -> bool {
    tok.chars()
        .any(|c| c.is_ascii_digit() || "-_./".contains(c) || c.is_ascii_uppercase())
}

fn singular(w: &str) -> String {
    if let Some(s) = w.strip_suffix("ies") {
        return format!("{s}y");
    }
    if w.ends_with("sses") || w.ends_with("xes") {
        return w[..w.len() - 2].to_string();
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        return w[..w.len() - 1].to_string();
    }
    w.to_string()
}

fn noun_of(lower: &str) -> Option<(&'static str, &'static str)> {
    let s = singular(lower);
    NOUNS
        .iter()
        .find(|(n, _, _)| *n == s || *n == lower)
        .map(|(_, svc, rt)| (*svc, *rt))
}

fn service_of_word(lower: &str) -> Option<String> {
    if let Some((_, p)) = SERVICE_ALIASES.iter().find(|(a, _)| *a == lower) {
        return Some((*p).to_string());
    }
    if PREFIX_WORDS.contains(&lower) || noun_of(lower).is_some() {
        return None;
    }
    if catalog::has_service(lower) {
        return Some(lower.to_string());
    }
    None
}

/// Joins two-word names into one token: "log group" → "loggroup", "secrets manager" → ...
fn join_phrases(tokens: Vec<String>) -> Vec<String> {
    const PAIRS: &[(&str, &str, &str)] = &[
        ("log", "group", "loggroup"),
        ("log", "groups", "loggroups"),
        ("log", "stream", "logstream"),
        ("log", "streams", "logstreams"),
        ("security", "group", "securitygroup"),
        ("security", "groups", "securitygroups"),
        ("secrets", "manager", "secretsmanager"),
        ("cloudwatch", "logs", "cloudwatchlogs"),
        ("parameter", "store", "parameterstore"),
        ("step", "functions", "stepfunctions"),
        ("state", "machine", "statemachine"),
        ("state", "machines", "statemachines"),
        ("kms", "key", "kmskey"),
        ("kms", "keys", "kmskeys"),
        ("read", "only", "readonly"),
        ("full", "access", "fullaccess"),
        ("all", "permissions", "fullaccess"),
        ("permissions", "management", "permissionsmanagement"),
        ("permission", "management", "permissionsmanagement"),
        ("manage", "permissions", "permissionsmanagement"),
        ("manage", "permission", "permissionsmanagement"),
    ];
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if i + 1 < tokens.len() {
            let (a, b) = (
                tokens[i].to_ascii_lowercase(),
                tokens[i + 1].to_ascii_lowercase(),
            );
            if let Some((_, _, j)) = PAIRS.iter().find(|(x, y, _)| *x == a && *y == b) {
                out.push((*j).to_string());
                i += 2;
                continue;
            }
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    out
}

/// Splits text into tokens, keeping ARNs, paths and names whole.
fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .map(|t| {
            t.trim_matches(|c: char| "\"'`()[]{}<>!?".contains(c))
                .trim_end_matches(['.', ':'])
                .to_string()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

pub fn parse(text: &str) -> anyhow::Result<Parsed> {
    let mut p = Parsed::default();
    let tokens = join_phrases(tokenize(text));
    let lowers: Vec<String> = tokens.iter().map(|t| t.to_ascii_lowercase()).collect();
    let mut used = vec![false; tokens.len()];

    for (i, l) in lowers.iter().enumerate() {
        match l.as_str() {
            "fullaccess" | "admin" | "administrator" | "everything" | "superuser" | "root"
            | "*" => {
                return refuse(format!(
                    "`{}` asks for broad access, which this tool does not grant; say which actions (read, list, write, tag) on which resources",
                    tokens[i]
                ))
            }
            _ => {}
        }
    }

    // Pass 1: ARNs, s3:// URLs, ids, regions, accounts, verbs, services, nouns.
    let mut nouns_at: Vec<(usize, &'static str, &'static str)> = Vec::new();
    for (i, (tok, l)) in tokens.iter().zip(&lowers).enumerate() {
        if l.starts_with("arn:") {
            if let Err(msg) = arn::check_syntax(tok) {
                return refuse(msg);
            }
            p.arns.push(tok.clone());
            used[i] = true;
        } else if let Some(rest) = tok.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return refuse(format!("`{tok}` names no bucket"));
            }
            p.names
                .push(("s3".into(), "object".into(), format!("{bucket}/{key}")));
            used[i] = true;
        } else if is_instance_id(l) {
            p.names.push(("ec2".into(), "instance".into(), l.clone()));
            used[i] = true;
        } else if is_region(l) {
            p.region = Some(l.clone());
            used[i] = true;
        } else if l.len() == 12 && l.chars().all(|c| c.is_ascii_digit()) {
            p.account = Some(l.clone());
            used[i] = true;
        } else if l == "permissionsmanagement" {
            p.levels.insert(AccessLevel::PermissionsManagement);
            used[i] = true;
        } else if let Some(prefixes) = verb_prefixes(l) {
            p.write_prefixes
                .extend(prefixes.iter().map(|x| (*x).to_string()));
            used[i] = true;
        } else if let Some(levels) = verb_levels(l) {
            p.levels.extend(levels.iter().copied());
            used[i] = true;
        } else if let Some((svc, rt)) = noun_of(l) {
            nouns_at.push((i, svc, rt));
            used[i] = true;
        } else if let Some(svc) = service_of_word(l) {
            if !p.services.contains(&svc) {
                p.services.push(svc);
            }
            used[i] = true;
        }
    }

    // Pass 2: names next to nouns ("bucket my-data", "the my-data bucket", "table named Orders").
    for &(i, default_svc, rt) in &nouns_at {
        // A noun that a named service also has wins over the default ("stream" with dynamodb).
        let svc = p
            .services
            .iter()
            .find(|s| catalog::service(s).is_some_and(|svc| svc.resource_type(rt).is_some()))
            .cloned()
            .unwrap_or_else(|| default_svc.to_string());
        let mut named = false;
        let mut j = i + 1;
        while j < tokens.len() && (lowers[j] == "named" || lowers[j] == "called") {
            j += 1;
        }
        let plural = singular(&lowers[i]) != lowers[i];
        while j < tokens.len() && !used[j] && name_like(&tokens[j], &lowers[j]) {
            p.names
                .push((svc.clone(), rt.to_string(), tokens[j].clone()));
            used[j] = true;
            named = true;
            j += 1;
            // "buckets a-1 and b-2": keep reading names after a plural noun.
            if !plural {
                break;
            }
            while j < tokens.len() && lowers[j] == "and" {
                j += 1;
            }
        }
        if !named
            && i > 0
            && !used[i - 1]
            && distinctive(&tokens[i - 1])
            && name_like(&tokens[i - 1], &lowers[i - 1])
        {
            p.names
                .push((svc.clone(), rt.to_string(), tokens[i - 1].clone()));
            used[i - 1] = true;
            named = true;
        }
        if !named {
            p.kinds.push((svc.clone(), rt.to_string()));
        }
        if !p.services.contains(&svc) {
            p.services.push(svc);
        }
    }
    // Log groups and parameters are often written as paths without a noun.
    for (i, tok) in tokens.iter().enumerate() {
        if !used[i] && tok.starts_with('/') && tok.len() > 1 {
            if p.services.iter().any(|s| s == "logs") {
                p.names
                    .push(("logs".into(), "log-group".into(), tok.clone()));
            } else if p.services.iter().any(|s| s == "ssm") {
                p.names
                    .push(("ssm".into(), "parameter".into(), tok.clone()));
            }
        }
    }
    if is_uuid_in(&tokens, &used) && p.services.iter().any(|s| s == "kms") {
        for (i, tok) in tokens.iter().enumerate() {
            if !used[i] && is_uuid(&tok.to_ascii_lowercase()) {
                p.names.push(("kms".into(), "key".into(), tok.clone()));
            }
        }
    }
    for a in &p.arns {
        if let Some(s) = arn::service_of(a) {
            if !p.services.iter().any(|x| x == s) {
                p.services.push(s.to_string());
            }
        }
    }
    for (s, _, _) in &p.names {
        if !p.services.contains(s) {
            p.services.push(s.clone());
        }
    }
    Ok(p)
}

fn is_uuid_in(tokens: &[String], used: &[bool]) -> bool {
    tokens
        .iter()
        .zip(used)
        .any(|(t, u)| !u && is_uuid(&t.to_ascii_lowercase()))
}

/// The ARNs a name stands for: a bucket also means its objects, a log group its streams.
fn arns_for(
    svc: &str,
    rt: &str,
    name: &str,
    region: Option<&str>,
    account: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let Some(service) = catalog::service(svc) else {
        return refuse(format!("`{svc}` is not in the catalog"));
    };
    let template = |t: &str| service.resource_type(t).map(|r| r.arn.clone());
    let mut out = Vec::new();
    let mut push = |t: &str, values: &[&str]| {
        if let Some(tpl) = template(t) {
            out.push(arn::fill(&tpl, region, account, values));
        }
    };
    match (svc, rt) {
        ("s3", "bucket") => {
            push("bucket", &[name]);
            push("object", &[name, "*"]);
        }
        ("s3", "object") => {
            // "objects in my-data/reports": bucket/prefix.
            let (bucket, key) = name.split_once('/').unwrap_or((name, ""));
            push("bucket", &[bucket]);
            let key = format!("{}*", key.trim_end_matches('*'));
            push("object", &[bucket, &key]);
        }
        ("logs", "log-group") => {
            push("log-group", &[name]);
            push("log-stream", &[name, "*"]);
        }
        ("secretsmanager", "Secret") => {
            let suffixed = format!("{name}-??????");
            push("Secret", &[&suffixed]);
        }
        ("ssm", "parameter") => {
            let trimmed = name.trim_start_matches('/');
            push("parameter", &[trimmed]);
        }
        _ => push(rt, &[name]),
    }
    if out.is_empty() {
        return refuse(format!(
            "{svc} has no resource type `{rt}` to name `{name}` with"
        ));
    }
    Ok(out)
}

/// Turns a description into per-service intents. `extra_resources` are ARNs given with
/// `--resources`; region/account come from flags or the environment and may be overridden
/// by the text ("in eu-west-1", "account 123456789012").
pub fn intents(
    text: &str,
    extra_resources: &[String],
    region: Option<&str>,
    account: Option<&str>,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<ServiceIntent>> {
    let mut p = parse(text)?;
    for r in extra_resources.iter().filter(|r| !r.trim().is_empty()) {
        if let Err(msg) = arn::check_syntax(r.trim()) {
            return Err(JitError::invalid("--resources", msg).into());
        }
        p.arns.push(r.trim().to_string());
        if let Some(s) = arn::service_of(r.trim()) {
            if !p.services.iter().any(|x| x == s) {
                p.services.push(s.to_string());
            }
        }
    }
    if p.services.is_empty() {
        return refuse(
            "could not tell which AWS service this is about; name the service (s3, ec2, dynamodb, logs, lambda, ...) or a resource (\"bucket my-data\", \"table Orders\", \"instance i-0abc12345678\", or an ARN)",
        );
    }
    if p.levels.is_empty() && p.write_prefixes.is_empty() {
        return refuse(
            "could not tell what access is needed; say read, list, write or tag (e.g. \"read objects in bucket my-data\")",
        );
    }
    let region = p.region.as_deref().or(region);
    let account = p.account.as_deref().or(account);
    let mut by_service: BTreeMap<String, ServiceIntent> = BTreeMap::new();
    for s in &p.services {
        by_service.insert(
            s.clone(),
            ServiceIntent {
                prefix: s.clone(),
                levels: p.levels.clone(),
                write_prefixes: p.write_prefixes.clone(),
                ..Default::default()
            },
        );
    }
    let mut needs_location = false;
    for (svc, rt, name) in &p.names {
        let arns = arns_for(svc, rt, name, region, account)?;
        needs_location |= arns.iter().any(|a| {
            let parts: Vec<&str> = a.splitn(6, ':').collect();
            parts.len() == 6 && (parts[3] == "*" || parts[4] == "*")
        });
        if let Some(si) = by_service.get_mut(svc) {
            si.derived.extend(arns.iter().cloned());
            si.resources.extend(arns);
            si.stems.insert(stem_of(rt));
        }
    }
    for a in &p.arns {
        if let Some(si) = arn::service_of(a).and_then(|s| by_service.get_mut(s)) {
            si.resources.push(a.clone());
        }
    }
    for (svc, rt) in &p.kinds {
        if let Some(si) = by_service.get_mut(svc) {
            si.stems.insert(stem_of(rt));
            // A kind named alongside a different, named resource of the same service is
            // what the request is about: "objects in bucket my-data".
            let contained = p.names.iter().any(|(s, t, _)| s == svc && t != rt);
            if contained && si.focus.is_none() {
                si.focus = Some(rt.clone());
            }
        }
    }
    if needs_location {
        notes.push(
            "no region or account given, so ARNs use \"*\" for them; pass --region/--account-id (or AWS_REGION/JIT_ACCOUNT_ID) to pin them".to_string(),
        );
    }
    // Keep the order services were mentioned in.
    let mut out = Vec::new();
    for s in &p.services {
        if let Some(si) = by_service.remove(s) {
            if si.resources.is_empty() && si.stems.is_empty() {
                return refuse(format!(
                    "name the {s} resources the access is for: an ARN, a name (e.g. \"bucket my-data\", \"table Orders\", \"function my-fn\") or a kind of resource (e.g. \"buckets\", \"instances\")"
                ));
            }
            out.push(si);
        }
    }
    Ok(out)
}
