//! Plain-language requests → per-service asks. Deterministic and narrow: it finds the
//! services (by prefix or everyday name), the kinds of resource and their names, the
//! verbs, and how names were narrowed ("under prefix", "starting with"); anything it
//! cannot pin down is refused with the question to answer, never guessed broadly.
//! Which actions the verbs and nouns stand for is decided in `select.rs`.

use std::collections::{BTreeMap, BTreeSet};

use super::arn;
use super::catalog::{self, AccessLevel};
use super::generate::ServiceIntent;
use super::reach;
use super::target::{self, Scope, Target};
use super::vocab::{self, BROAD, NOUNS, PREFIX_WORDS, SERVICES, STOPWORDS};
use super::words::{self, Verb};
use crate::error::JitError;

const FIELD: &str = "--policy-description";
/// Longer descriptions are refused rather than parsed: nobody asks for access in an essay.
const MAX_LEN: usize = 2_000;

fn refuse<T>(msg: impl std::fmt::Display) -> anyhow::Result<T> {
    Err(JitError::invalid(FIELD, msg).into())
}

/// What a token turned out to be.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    Unknown,
    Stop,
    Arn,
    S3Url,
    Region,
    Account,
    Service,
    Noun(usize),
    Name,
    Verb,
    Level,
    Scope,
}

#[derive(Debug, Clone)]
struct Tok {
    text: String,
    lower: String,
    role: Role,
}

/// A kind of resource mentioned: "bucket", "log groups", "instance".
#[derive(Debug, Clone)]
pub struct Kind {
    pub service: String,
    pub rtype: String,
    pub noun: String,
    pub plural: bool,
    /// Names given next to it ("bucket a-1 and b-2").
    pub names: Vec<String>,
    pub scope: Option<Scope>,
}

/// Everything the text said, before it is split by service.
#[derive(Debug, Default)]
pub struct Parsed {
    pub services: Vec<String>,
    pub verbs: Vec<Verb>,
    pub levels: BTreeSet<AccessLevel>,
    pub kinds: Vec<Kind>,
    pub arns: Vec<String>,
    /// `s3://bucket/key` as (bucket, key).
    pub s3_urls: Vec<(String, String)>,
    pub region: Option<String>,
    pub account: Option<String>,
    /// Every word of the text (lowercase, singular): what actions' extra words may be.
    pub words: BTreeSet<String>,
    /// Words that were read but did not change the policy.
    pub ignored: Vec<String>,
    /// "how many ..." asks for a count: the resource's attributes.
    pub count: bool,
}

// ---------------------------------------------------------------- tokens

/// Splits text into tokens, keeping ARNs, paths and names whole.
fn tokenize(text: &str) -> Vec<Tok> {
    text.split(|c: char| c.is_whitespace() || c.is_control() || c == ',' || c == ';')
        .map(|t| {
            t.trim_matches(|c: char| "\"'`()[]{}<>!?".contains(c))
                .trim_end_matches(['.', ':'])
                .to_string()
        })
        .filter(|t| !t.is_empty())
        .map(|t| Tok {
            lower: t.to_ascii_lowercase(),
            text: t,
            role: Role::Unknown,
        })
        .collect()
}

/// Joins two-word phrases that mean one thing ("look up", "read only").
fn join_phrases(tokens: Vec<Tok>) -> Vec<Tok> {
    const PAIRS: &[(&str, &str, &str)] = &[
        ("look", "up", "lookup"),
        ("read", "only", "readonly"),
        ("read-only", "access", "readonly"),
        ("full", "access", "fullaccess"),
        ("all", "permissions", "fullaccess"),
        ("permissions", "management", "permissionsmanagement"),
        ("permission", "management", "permissionsmanagement"),
        ("manage", "permissions", "permissionsmanagement"),
        ("manage", "permission", "permissionsmanagement"),
        ("how", "many", "howmany"),
        ("starting", "with", "startingwith"),
        ("beginning", "with", "startingwith"),
        ("start", "with", "startingwith"),
        ("starts", "with", "startingwith"),
        ("begin", "with", "startingwith"),
        ("with", "prefix", "startingwith"),
        ("under", "prefix", "startingwith"),
        ("in", "folder", "under"),
        ("under", "folder", "under"),
        ("under", "path", "under"),
    ];
    let mut out: Vec<Tok> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if let Some(next) = tokens.get(i + 1) {
            let a = tokens[i].lower.as_str();
            if let Some((_, _, j)) = PAIRS.iter().find(|(x, y, _)| *x == a && *y == next.lower) {
                out.push(Tok {
                    text: format!("{} {}", tokens[i].text, next.text),
                    lower: (*j).to_string(),
                    role: Role::Unknown,
                });
                i += 2;
                continue;
            }
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    out
}

// ---------------------------------------------------------------- literal items

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    (parts.len() == 3 || (parts.len() == 4 && parts[1] == "gov"))
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// EC2-style ids: `i-…`, `vol-…`, `snap-…` → (service, resource type).
fn ec2_id(s: &str) -> Option<&'static str> {
    let (prefix, hex) = s.split_once('-')?;
    let rtype = match prefix {
        "i" => "instance",
        "vol" => "volume",
        "snap" => "snapshot",
        "sg" => "security-group",
        "vpc" => "vpc",
        "subnet" => "subnet",
        "ami" => "image",
        _ => return None,
    };
    ((hex.len() == 8 || hex.len() == 17) && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then_some(rtype)
}

/// Refuses what no policy may hold: broad asks, malformed or all-reaching ARNs,
/// look-alike characters in names.
fn refuse_broad(tokens: &[Tok]) -> anyhow::Result<()> {
    for t in tokens {
        if BROAD.contains(&t.lower.as_str()) {
            return refuse(format!(
                "`{}` asks for broad access, which this tool does not grant; say which actions (read, list, write, tag) on which resources",
                t.text
            ));
        }
    }
    Ok(())
}

/// ARNs, s3:// URLs, ids, regions and accounts.
fn scan_literals(
    tokens: &mut [Tok],
    p: &mut Parsed,
    ids: &mut Vec<(usize, &'static str)>,
) -> anyhow::Result<()> {
    for (i, t) in tokens.iter_mut().enumerate() {
        if t.lower.starts_with("arn:") {
            if !t.text.is_ascii() {
                return refuse(format!(
                    "`{}` holds characters outside ASCII (look-alikes of `-`, `:` or letters?); type the ARN plainly",
                    t.text
                ));
            }
            if let Err(msg) = arn::check_syntax(&t.text) {
                return refuse(msg);
            }
            reach::refuse_all_reaching(&t.text, FIELD)?;
            p.arns.push(t.text.clone());
            t.role = Role::Arn;
        } else if let Some(rest) = t.text.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() || !rest.is_ascii() {
                return refuse(format!("`{}` names no bucket", t.text));
            }
            reach::refuse_all_reaching(&format!("arn:aws:s3:::{bucket}"), FIELD)?;
            p.s3_urls.push((bucket.to_string(), key.to_string()));
            t.role = Role::S3Url;
        } else if let Some(rtype) = ec2_id(&t.lower) {
            ids.push((i, rtype));
            t.role = Role::Name;
        } else if is_region(&t.lower) {
            p.region = Some(t.lower.clone());
            t.role = Role::Region;
        } else if t.lower.len() == 12 && t.lower.chars().all(|c| c.is_ascii_digit()) {
            p.account = Some(t.lower.clone());
            t.role = Role::Account;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- services and nouns

/// Matches a phrase table against the words at `i`: the longest phrase wins.
fn phrase_at<'a, T>(
    tokens: &[Tok],
    i: usize,
    table: &'a [T],
    key: impl Fn(&T) -> &str,
) -> Option<(&'a T, usize)> {
    let mut best: Option<(&T, usize)> = None;
    for len in 1..=3usize {
        if i + len > tokens.len() || tokens[i..i + len].iter().any(|t| t.role != Role::Unknown) {
            break;
        }
        let words: Vec<String> = tokens[i..i + len]
            .iter()
            .enumerate()
            .map(|(k, t)| {
                if k + 1 == len {
                    words::singular(&t.lower)
                } else {
                    t.lower.clone()
                }
            })
            .collect();
        let joined = words.join(" ");
        let raw: Vec<&str> = tokens[i..i + len]
            .iter()
            .map(|t| t.lower.as_str())
            .collect();
        let raw = raw.join(" ");
        if let Some(row) = table.iter().find(|r| key(r) == joined || key(r) == raw) {
            best = Some((row, len));
        }
    }
    best
}

fn find_services(tokens: &mut [Tok], p: &mut Parsed) {
    let mut i = 0;
    while i < tokens.len() {
        // "auto scaling group", "rds instance": a kind named with its service's name.
        if let Some((row, len)) =
            phrase_at(tokens, i, NOUNS, |r| r.noun).filter(|(r, l)| *l > 1 && r.default)
        {
            push_unique(&mut p.services, row.service);
            i += len;
            continue;
        }
        if let Some(((_, prefix), len)) = phrase_at(tokens, i, SERVICES, |r| r.0) {
            push_unique(&mut p.services, prefix);
            for t in &mut tokens[i..i + len] {
                t.role = Role::Service;
            }
            i += len;
            continue;
        }
        let t = &mut tokens[i];
        if t.role == Role::Unknown
            && !PREFIX_WORDS.contains(&t.lower.as_str())
            && !NOUNS
                .iter()
                .any(|n| n.noun == t.lower || n.noun == words::singular(&t.lower))
            && catalog::has_service(&t.lower)
        {
            push_unique(&mut p.services, &t.lower);
            t.role = Role::Service;
        } else if t.role == Role::Unknown && t.lower == "assume" {
            // "assume role X" is STS, whatever service the role's ARN names.
            push_unique(&mut p.services, "sts");
        }
        i += 1;
    }
    for a in &p.arns {
        if let Some(s) = arn::service_of(a) {
            if !in_play_fits(&p.services, a) {
                push_unique(&mut p.services, s);
            }
        }
    }
    if !p.s3_urls.is_empty() {
        push_unique(&mut p.services, "s3");
    }
}

/// Does a service already in play accept this ARN (an IAM role ARN for `sts`)?
fn in_play_fits(services: &[String], arn: &str) -> bool {
    services.iter().any(|s| {
        catalog::service(s).is_some_and(|svc| svc.resources.iter().any(|r| r.template.matches(arn)))
    })
}

/// Is the noun an action word of a service in play (that does not own it as a kind)?
fn in_play_vocab(services: &[String], noun: &str) -> bool {
    services.iter().any(|s| {
        !NOUNS.iter().any(|n| n.noun == noun && n.service == s) && action_vocab(s).contains(noun)
    })
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// Object words of a service's action names ("item", "message", "file"): a word that
/// is one of them is what an action is about, not a name.
fn action_vocab(service: &str) -> BTreeSet<String> {
    catalog::service(service)
        .map(|svc| words::of_service(svc).vocab.clone())
        .unwrap_or_default()
}

/// The service and type a noun means here: a service in play that has the type wins,
/// then the noun's default.
fn resolve_noun(noun: &str, services: &[String]) -> Option<(String, String)> {
    let rows: Vec<&vocab::Noun> = NOUNS.iter().filter(|n| n.noun == noun).collect();
    for s in services {
        if let Some(row) = rows.iter().find(|r| r.service == s) {
            return Some((s.clone(), row.rtype.to_string()));
        }
        if let Some(svc) = catalog::service(s) {
            if let Some(row) = rows.iter().find(|r| svc.resource_type(r.rtype).is_some()) {
                return Some((s.clone(), row.rtype.to_string()));
            }
        }
    }
    rows.iter()
        .find(|r| r.default)
        .map(|r| (r.service.to_string(), r.rtype.to_string()))
}

fn find_nouns(tokens: &mut [Tok], p: &mut Parsed) {
    // First the services the nouns imply, so "index ... on table T" finds DynamoDB.
    let mut i = 0;
    while i < tokens.len() {
        match phrase_at(tokens, i, NOUNS, |r| r.noun) {
            Some((row, len)) => {
                if row.default && !in_play_vocab(&p.services, row.noun) {
                    push_unique(&mut p.services, row.service);
                }
                i += len;
            }
            None => i += 1,
        }
    }
    let mut i = 0;
    while i < tokens.len() {
        let Some((row, len)) = phrase_at(tokens, i, NOUNS, |r| r.noun) else {
            i += 1;
            continue;
        };
        let owned = p
            .services
            .iter()
            .any(|s| NOUNS.iter().any(|n| n.noun == row.noun && n.service == s));
        if !owned && in_play_vocab(&p.services, row.noun) {
            i += len; // "log files" of an RDS instance are RDS words, not S3 objects
            continue;
        }
        let Some((service, rtype)) = resolve_noun(row.noun, &p.services) else {
            i += len;
            continue;
        };
        let last = &tokens[i + len - 1].lower;
        let plural = words::singular(last) != *last;
        push_unique(&mut p.services, &service);
        p.kinds.push(Kind {
            service,
            rtype,
            noun: row.noun.to_string(),
            plural,
            names: Vec::new(),
            scope: None,
        });
        let k = p.kinds.len() - 1;
        for t in &mut tokens[i..i + len] {
            t.role = Role::Noun(k);
        }
        i += len;
    }
}

// ---------------------------------------------------------------- names, verbs, scopes

/// Could this token be a resource name (not an English filler word)?
fn name_like(t: &Tok) -> bool {
    t.role == Role::Unknown
        && !t.text.is_empty()
        && t.text.is_ascii()
        && !STOPWORDS.contains(&t.lower.as_str())
        && words::verb(&t.lower).is_none()
        && t.text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@+=:#*".contains(c))
}

/// Has a character plain English words don't: safe to take as a name before its noun.
fn distinctive(tok: &str) -> bool {
    tok.chars()
        .any(|c| c.is_ascii_digit() || "-_./".contains(c) || c.is_ascii_uppercase())
}

/// Names next to nouns: "bucket my-data", "the my-data bucket", "table named Orders",
/// "buckets a-1 and b-2"; and ids (`i-…`) as names of their kind.
fn find_names(tokens: &mut [Tok], p: &mut Parsed, ids: &[(usize, &'static str)]) {
    for k in 0..p.kinds.len() {
        let Some(i) = tokens.iter().rposition(|t| t.role == Role::Noun(k)) else {
            continue;
        };
        let vocab_words = action_vocab(&p.kinds[k].service);
        let is_word =
            |t: &Tok| vocab_words.contains(&words::singular(&t.lower)) && !distinctive(&t.text);
        let mut j = i + 1;
        while j < tokens.len() && (tokens[j].lower == "named" || tokens[j].lower == "called") {
            tokens[j].role = Role::Stop;
            j += 1;
        }
        while j < tokens.len() && name_like(&tokens[j]) && !is_word(&tokens[j]) {
            p.kinds[k].names.push(tokens[j].text.clone());
            tokens[j].role = Role::Name;
            j += 1;
            if !p.kinds[k].plural {
                break;
            }
            while j < tokens.len() && tokens[j].lower == "and" {
                j += 1;
            }
        }
        let first = tokens
            .iter()
            .position(|t| t.role == Role::Noun(k))
            .unwrap_or(i);
        if p.kinds[k].names.is_empty() && first > 0 {
            let b = &tokens[first - 1];
            if distinctive(&b.text) && name_like(b) {
                p.kinds[k].names.push(b.text.clone());
                tokens[first - 1].role = Role::Name;
            }
        }
    }
    // Ids are names of their kind, joined to the kind's noun when one is there.
    for &(i, rtype) in ids {
        let name = tokens[i].text.clone();
        let service = if rtype == "instance" {
            resolve_noun("instance", &p.services).map(|(s, _)| s)
        } else {
            None
        }
        .unwrap_or_else(|| "ec2".to_string());
        let rtype = if service == "rds" { "db" } else { rtype };
        if let Some(k) = p
            .kinds
            .iter_mut()
            .find(|k| k.service == service && k.rtype == rtype && k.names.is_empty())
        {
            k.names.push(name);
            continue;
        }
        push_unique(&mut p.services, &service);
        p.kinds.push(Kind {
            service,
            rtype: rtype.to_string(),
            noun: rtype.to_string(),
            plural: false,
            names: vec![name],
            scope: None,
        });
    }
    // Log groups and parameters are often written as paths without a noun.
    for t in tokens.iter_mut() {
        if t.role != Role::Unknown || !t.text.starts_with('/') || t.text.len() < 2 {
            continue;
        }
        for (svc, rtype) in [("logs", "log-group"), ("ssm", "parameter")] {
            if p.services.iter().any(|s| s == svc) {
                p.kinds.push(Kind {
                    service: svc.to_string(),
                    rtype: rtype.to_string(),
                    noun: rtype.to_string(),
                    plural: false,
                    names: vec![t.text.clone()],
                    scope: None,
                });
                t.role = Role::Name;
                break;
            }
        }
    }
}

/// "under prefix P", "in folder P", "starting with P", "under /path": narrow the
/// nearest named or mentioned resource before the marker.
fn find_scopes(tokens: &mut [Tok], p: &mut Parsed) {
    for i in 0..tokens.len() {
        let starts = match tokens[i].lower.as_str() {
            "startingwith" => true,
            "under" | "prefix" | "folder" | "below" => false,
            _ => continue,
        };
        let Some(j) = (i + 1..tokens.len()).find(|&j| {
            !matches!(
                tokens[j].lower.as_str(),
                "the" | "a" | "prefix" | "folder" | "path"
            )
        }) else {
            continue;
        };
        let value = tokens[j].text.clone();
        if !value.is_ascii()
            || value.is_empty()
            || tokens[j].role != Role::Unknown && tokens[j].role != Role::Name
        {
            continue;
        }
        let scope = if starts {
            Scope::StartsWith(value)
        } else {
            Scope::Under(value)
        };
        // The kind named or mentioned last before the marker.
        let owner = tokens[..i].iter().rev().find_map(|t| match t.role {
            Role::Noun(k) => Some(k),
            _ => None,
        });
        let owner = owner.or_else(|| {
            // "read all secrets under staging/" also reads naturally with the kind first.
            (p.kinds.len() == 1).then_some(0)
        });
        if let Some(k) = owner {
            // A name taken by mistake as the kind's name is really the scope value.
            if let Some(pos) = p.kinds[k].names.iter().position(|n| *n == tokens[j].text) {
                p.kinds[k].names.remove(pos);
            }
            p.kinds[k].scope = Some(scope);
            tokens[i].role = Role::Scope;
            tokens[j].role = Role::Scope;
        } else if p.s3_urls.len() == 1 || tokens[..i].iter().any(|t| t.role == Role::S3Url) {
            if let Some(url) = p.s3_urls.last_mut() {
                let key = format!("{}/{}", url.1.trim_end_matches('/'), scope.pattern());
                url.1 = key.trim_start_matches('/').to_string();
                tokens[i].role = Role::Scope;
                tokens[j].role = Role::Scope;
            }
        }
    }
}

/// Verbs, access levels and counting words.
fn find_verbs(tokens: &mut [Tok], p: &mut Parsed) {
    let literal = literal_verbs(&p.services);
    for i in 0..tokens.len() {
        if tokens[i].role != Role::Unknown {
            continue;
        }
        let l = tokens[i].lower.clone();
        let next_is_access = tokens
            .get(i + 1)
            .is_some_and(|t| t.lower == "access" || t.lower == "rights");
        let level: Option<&[AccessLevel]> = match l.as_str() {
            "readonly" => Some(&[AccessLevel::Read, AccessLevel::List]),
            "read" | "read-write" | "readwrite" | "write" | "list" if next_is_access => {
                match l.as_str() {
                    "read" => Some(&[AccessLevel::Read, AccessLevel::List]),
                    "list" => Some(&[AccessLevel::List]),
                    "write" => Some(&[AccessLevel::Write]),
                    _ => Some(&[AccessLevel::Read, AccessLevel::List, AccessLevel::Write]),
                }
            }
            "manage" | "read-write" | "readwrite" | "rw" => {
                Some(&[AccessLevel::Read, AccessLevel::List, AccessLevel::Write])
            }
            "tag" | "untag" | "tagging" | "label" => Some(&[AccessLevel::Tagging]),
            "permissionsmanagement" => Some(&[AccessLevel::PermissionsManagement]),
            _ => None,
        };
        if let Some(levels) = level {
            p.levels.extend(levels.iter().copied());
            tokens[i].role = Role::Level;
        } else if l == "howmany" || l == "count" {
            p.count = true;
            tokens[i].role = Role::Verb;
            p.verbs.push(Verb {
                word: "count".into(),
                group: words::Group::Read,
                catalog: vec!["get".into()],
            });
        } else if let Some(v) = words::verb(&l) {
            tokens[i].role = Role::Verb;
            p.verbs.push(v);
        } else if l == "push" {
            tokens[i].role = Role::Verb;
            p.verbs.push(Verb {
                word: l,
                group: words::Group::Write,
                catalog: vec!["put".into(), "upload".into()],
            });
        } else if literal.contains(&l) {
            tokens[i].role = Role::Verb;
            p.verbs.push(Verb::literal(&l));
        }
    }
    if p.count {
        // "check how many messages": the count, not the messages themselves.
        p.verbs
            .retain(|v| v.word == "count" || v.group != words::Group::Read);
    }
}

/// The first words of the actions of the services in play ("purge", "rotate", "assume").
fn literal_verbs(services: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in services {
        if let Some(svc) = catalog::service(s) {
            out.extend(words::of_service(svc).verbs.iter().cloned());
        }
    }
    out
}

fn collect_words(tokens: &mut [Tok], p: &mut Parsed) {
    for t in tokens.iter_mut() {
        // Names and ARNs say which resource, not what to do with it.
        let literal = matches!(
            t.role,
            Role::Name | Role::Arn | Role::S3Url | Role::Region | Role::Account
        ) || (t.role == Role::Scope
            && !t.lower.chars().all(|c| c.is_ascii_alphabetic()));
        for w in t
            .lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|_| !literal)
        {
            if !w.is_empty() {
                p.words.insert(words::singular(w));
            }
        }
        if t.role == Role::Unknown {
            if STOPWORDS.contains(&t.lower.as_str()) {
                t.role = Role::Stop;
            } else {
                p.ignored.push(t.text.clone());
            }
        }
    }
}

/// Parses a description: services, kinds and names, verbs, scopes, words.
pub fn parse(text: &str) -> anyhow::Result<Parsed> {
    if text.len() > MAX_LEN {
        return refuse(format!(
            "the description is {} characters long; describe the access in a sentence (at most {MAX_LEN} characters)",
            text.len()
        ));
    }
    let mut tokens = join_phrases(tokenize(text));
    refuse_broad(&tokens)?;
    let mut p = Parsed::default();
    let mut ids = Vec::new();
    scan_literals(&mut tokens, &mut p, &mut ids)?;
    find_services(&mut tokens, &mut p);
    find_nouns(&mut tokens, &mut p);
    find_names(&mut tokens, &mut p, &ids);
    find_scopes(&mut tokens, &mut p);
    find_verbs(&mut tokens, &mut p);
    collect_words(&mut tokens, &mut p);
    Ok(p)
}

// ---------------------------------------------------------------- per service

/// The ARN of a kind's name, with the values of its name variables.
fn target_for(
    svc: &catalog::Service,
    kind: &Kind,
    name: Option<&str>,
    region: Option<&str>,
    account: Option<&str>,
) -> Vec<Target> {
    let Some(rt) = svc.resource_type(&kind.rtype) else {
        return Vec::new();
    };
    let mut values = BTreeMap::new();
    let slot = target::name_slot(&rt.arn, &values);
    let mut single = !kind.plural;
    let value = match (name, &kind.scope) {
        (Some(n), _) => n.to_string(),
        (None, Some(s)) => {
            single = false;
            s.pattern()
        }
        (None, None) => return Vec::new(),
    };
    let mut patterns = vec![value];
    match (kind.service.as_str(), kind.rtype.as_str()) {
        // Secrets Manager appends six random characters to every secret's name.
        ("secretsmanager", "Secret") if name.is_some() => {
            patterns = vec![format!("{}-??????", patterns[0])];
        }
        // Parameter ARNs drop the leading slash; "under /path" also means the path
        // itself, which GetParametersByPath is checked against.
        ("ssm", "parameter") => {
            let v = patterns[0].trim_start_matches('/').to_string();
            patterns = match (&kind.scope, name) {
                (Some(Scope::Under(p)), None) => {
                    vec![p.trim_matches('/').to_string(), v]
                }
                _ => vec![v],
            };
        }
        _ => {}
    }
    patterns
        .into_iter()
        .map(|pat| {
            let mut v = values.clone();
            if let Some(s) = &slot {
                v.insert(s.clone(), pat);
            }
            values = v.clone();
            Target {
                rtype: Some(kind.rtype.clone()),
                arn: target::fill(&rt.arn, region, account, &v),
                values: v,
                scope: if name.is_some() {
                    kind.scope.clone()
                } else {
                    None
                },
                container_only: false,
                holds_named: false,
                single,
            }
        })
        .collect()
}

/// An `s3://bucket/key` as a target: the bucket (with the key as a scope) or one object.
fn s3_target(bucket: &str, key: &str, region: Option<&str>) -> Target {
    let mut values = BTreeMap::new();
    values.insert("BucketName".to_string(), bucket.to_string());
    let last = key.rsplit('/').next().unwrap_or("");
    if !key.is_empty() && !key.ends_with('/') && (key.contains('*') || last.contains('.')) {
        values.insert("ObjectName".to_string(), key.to_string());
        return Target {
            rtype: Some("object".into()),
            arn: format!("arn:{}:s3:::{bucket}/{key}", arn::partition_for(region)),
            values,
            scope: None,
            container_only: false,
            holds_named: false,
            single: !key.contains('*'),
        };
    }
    Target {
        rtype: Some("bucket".into()),
        arn: format!("arn:{}:s3:::{bucket}", arn::partition_for(region)),
        values,
        scope: (!key.is_empty()).then(|| Scope::Under(key.to_string())),
        container_only: false,
        holds_named: false,
        single: false,
    }
}

/// Kinds inside named containers: a named child takes the container's names ("service
/// checkout in cluster prod"); the container then only locates it.
fn link_containers(svc: &catalog::Service, kinds: &[&Kind], targets: &mut [Target]) {
    let kind_types: Vec<&str> = kinds.iter().map(|k| k.rtype.as_str()).collect();
    let snapshot: Vec<Target> = targets.to_vec();
    for t in targets.iter_mut() {
        let Some(child_rt) = t.rtype.as_deref().and_then(|n| svc.resource_type(n)) else {
            continue;
        };
        for parent in &snapshot {
            let Some(parent_rt) = parent.rtype.as_deref().and_then(|n| svc.resource_type(n)) else {
                continue;
            };
            if target::is_child(parent_rt, child_rt) {
                let mut values = parent.values.clone();
                for (k, v) in &t.values {
                    if !values.contains_key(k) || parent_rt.name != child_rt.name {
                        values.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                // The child's own name fills the slot the parent does not.
                if let Some(name) = t.values.values().next_back().cloned() {
                    if let Some(slot) = target::name_slot(&child_rt.arn, &parent.values) {
                        values.insert(slot, name);
                    }
                }
                t.values = values;
                t.arn = fill_like(&child_rt.arn, &t.arn, &t.values);
            }
        }
    }
    for t in targets.iter_mut() {
        let Some(rt) = t.rtype.as_deref().and_then(|n| svc.resource_type(n)) else {
            continue;
        };
        // A container is only a locator when a kind inside it is what the text is about.
        let holds_kind = kind_types.iter().any(|k| {
            svc.resource_type(k)
                .is_some_and(|krt| krt.name != rt.name && target::is_child(rt, krt))
        });
        if holds_kind {
            t.container_only = true;
        }
        let holds_named = snapshot.iter().any(|o| {
            o.rtype
                .as_deref()
                .and_then(|n| svc.resource_type(n))
                .is_some_and(|ort| ort.name != rt.name && target::is_child(rt, ort))
        });
        if holds_named {
            t.container_only = true;
            t.holds_named = true;
        }
    }
}

/// Re-fills `template` keeping the region/account already in `existing`.
fn fill_like(template: &str, existing: &str, values: &BTreeMap<String, String>) -> String {
    let parts: Vec<&str> = existing.splitn(6, ':').collect();
    let region = parts.get(3).copied().filter(|r| !r.is_empty() && *r != "*");
    let account = parts.get(4).copied().filter(|a| !a.is_empty() && *a != "*");
    target::fill(template, region, account, values)
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
    ignored: &mut Vec<String>,
) -> anyhow::Result<Vec<ServiceIntent>> {
    let mut p = parse(text)?;
    for r in extra_resources
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        if let Err(msg) = arn::check_syntax(r) {
            return Err(JitError::invalid("--resources", msg).into());
        }
        reach::refuse_all_reaching(r, "--resources")?;
        p.arns.push(r.to_string());
        if let Some(s) = arn::service_of(r) {
            if !in_play_fits(&p.services, r) {
                push_unique(&mut p.services, s);
            }
        }
    }
    ignored.extend(p.ignored.iter().cloned());
    if p.services.is_empty() {
        return refuse(
            "could not tell which AWS service this is about; name the service (s3, ec2, dynamodb, logs, lambda, ...) or a resource (\"bucket my-data\", \"table Orders\", \"instance i-0abc12345678\", or an ARN)",
        );
    }
    ask_which_resource(&p)?;
    if p.levels.is_empty() && p.verbs.is_empty() {
        return refuse(
            "could not tell what access is needed; say read, list, write or tag, or what to do (e.g. \"read objects in bucket my-data\", \"invoke function my-fn\")",
        );
    }
    let region = p.region.clone().or(region.map(str::to_string));
    let account = p.account.clone().or(account.map(str::to_string));
    let mut out = Vec::new();
    let mut needs_location = false;
    for s in &p.services {
        let si = service_intent(&p, s, region.as_deref(), account.as_deref())?;
        needs_location |= si
            .resources
            .iter()
            .chain(si.targets.iter().map(|t| &t.arn))
            .any(|a| {
                let parts: Vec<&str> = a.splitn(6, ':').collect();
                parts.len() == 6 && (parts[3] == "*" || parts[4] == "*")
            });
        out.push(si);
    }
    if needs_location {
        notes.push(
            "no region or account given, so ARNs use \"*\" for them; pass --region/--account-id (or AWS_REGION/JIT_ACCOUNT_ID) to pin them".to_string(),
        );
    }
    Ok(out)
}

/// A kind named in the singular with no name, ARN or scope: ask which one.
fn ask_which_resource(p: &Parsed) -> anyhow::Result<()> {
    let named_somehow = !p.arns.is_empty() || !p.s3_urls.is_empty();
    for k in &p.kinds {
        let same_service_named = p
            .kinds
            .iter()
            .any(|o| o.service == k.service && (!o.names.is_empty() || o.scope.is_some()));
        if !k.plural
            && k.names.is_empty()
            && k.scope.is_none()
            && !same_service_named
            && !named_somehow
        {
            let noun = if k.noun == "server" || k.noun == "vm" {
                "instance"
            } else {
                k.noun.as_str()
            };
            return refuse(format!(
                "which {noun}? name it (e.g. \"{noun} my-{}\"), or give its ARN",
                noun.replace(' ', "-")
            ));
        }
    }
    Ok(())
}

fn service_intent(
    p: &Parsed,
    s: &str,
    region: Option<&str>,
    account: Option<&str>,
) -> anyhow::Result<ServiceIntent> {
    let Some(svc) = catalog::service(s) else {
        return refuse(format!("`{s}` is not in the catalog"));
    };
    let kinds: Vec<&Kind> = p.kinds.iter().filter(|k| k.service == s).collect();
    let mut targets = Vec::new();
    for k in &kinds {
        if k.names.is_empty() {
            targets.extend(target_for(svc, k, None, region, account));
        }
        for n in &k.names {
            let made = target_for(svc, k, Some(n), region, account);
            if made.is_empty() {
                return refuse(format!(
                    "{s} has no resource type `{}` to name `{n}` with",
                    k.rtype
                ));
            }
            targets.extend(made);
        }
    }
    if s == "s3" {
        for (b, key) in &p.s3_urls {
            targets.push(s3_target(b, key, region));
        }
    }
    for a in &p.arns {
        let mine =
            arn::service_of(a) == Some(s) || svc.resources.iter().any(|r| r.template.matches(a));
        if mine {
            targets.push(Target {
                rtype: None,
                values: BTreeMap::new(),
                arn: a.clone(),
                scope: None,
                container_only: false,
                holds_named: false,
                single: false,
            });
        }
    }
    link_containers(svc, &kinds, &mut targets);
    // An ARN from the text also says what kind of resource the request is about.
    let mut kind_list: Vec<(String, String, bool)> = kinds
        .iter()
        .map(|k| {
            (
                k.rtype.clone(),
                k.noun.clone(),
                k.plural && k.names.is_empty(),
            )
        })
        .collect();
    for t in targets.iter().filter(|t| t.rtype.is_none()) {
        if let Some(rt) = svc
            .resources
            .iter()
            .filter(|rt| rt.template.matches(&t.arn))
            .max_by_key(|rt| rt.template.literal_len())
        {
            if !kind_list.iter().any(|(r, _, _)| *r == rt.name) {
                kind_list.push((rt.name.clone(), rt.name.clone(), false));
            }
        }
    }
    let mut si = ServiceIntent {
        prefix: s.to_string(),
        levels: p.levels.clone(),
        verbs: p.verbs.clone(),
        words: p.words.clone(),
        count: p.count,
        kinds: kind_list,
        targets,
        region: region.map(str::to_string),
        account: account.map(str::to_string),
        ..Default::default()
    };
    if si.targets.iter().any(|t| t.scope.is_some()) || kinds.iter().any(|k| k.scope.is_some()) {
        si.words.extend(["path".to_string(), "prefix".to_string()]);
    }
    Ok(si)
}
