//! The IAM action catalog: facts about every AWS action, embedded in the binary.
//!
//! `data/catalog/services.idx` (one line per service) is parsed on first use; a service's
//! section of `data/catalog/actions.cat` is parsed only when something asks for that
//! service, then cached for the life of the process. Regenerate both with `make catalog`
//! (scripts/gen_catalog.py).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use super::arn::ArnTemplate;

static INDEX_TEXT: &str = include_str!("../../data/catalog/services.idx");
static CATALOG_TEXT: &str = include_str!("../../data/catalog/actions.cat");

/// IAM access levels, as the Service Authorization Reference names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    Tagging,
    PermissionsManagement,
}

impl AccessLevel {
    fn from_code(c: &str) -> Option<Self> {
        Some(match c {
            "L" => AccessLevel::List,
            "R" => AccessLevel::Read,
            "W" => AccessLevel::Write,
            "T" => AccessLevel::Tagging,
            "P" => AccessLevel::PermissionsManagement,
            _ => return None,
        })
    }

    /// Parses a user-facing name: `read`, `list`, `write`, `tagging`/`tag`,
    /// `permissions-management`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Some(match s.as_str() {
            "list" => AccessLevel::List,
            "read" => AccessLevel::Read,
            "write" => AccessLevel::Write,
            "tag" | "tagging" => AccessLevel::Tagging,
            "permissions-management" | "permissions" | "permission-management" => {
                AccessLevel::PermissionsManagement
            }
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::Tagging => "Tagging",
            AccessLevel::PermissionsManagement => "Permissions management",
        }
    }
}

/// A resource type of a service, e.g. s3 `bucket` with `arn:${Partition}:s3:::${BucketName}`.
#[derive(Debug)]
pub struct ResourceType {
    pub name: String,
    pub arn: String,
    pub template: ArnTemplate,
    /// Condition keys that come with this resource (`aws:ResourceTag/${TagKey}`, ...).
    /// Slices of the embedded catalog: parsing a service allocates no key strings.
    pub condition_keys: Vec<&'static str>,
}

/// The type of a condition key, as the Service Authorization Reference gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    String,
    Arn,
    Bool,
    Numeric,
    Date,
    Ip,
}

/// A condition key a service defines, e.g. `s3:prefix` (String).
#[derive(Debug)]
pub struct ConditionKey {
    /// As documented; may hold a placeholder (`s3:ExistingObjectTag/<key>`,
    /// `aws:ResourceTag/${TagKey}`) that stands for any non-empty text.
    pub name: &'static str,
    pub kind: KeyType,
    /// `ArrayOf...`: the request may carry several values (use ForAllValues/ForAnyValue).
    pub multivalued: bool,
}

impl ConditionKey {
    fn parse(name: &'static str, kind: &str) -> Self {
        let (multivalued, base) = match kind.strip_prefix("ArrayOf") {
            Some(b) => (true, b),
            None => (false, kind),
        };
        let kind = match base.to_ascii_lowercase().as_str() {
            "arn" => KeyType::Arn,
            "bool" | "boolean" => KeyType::Bool,
            "numeric" | "long" | "integer" => KeyType::Numeric,
            "date" => KeyType::Date,
            "ipaddress" | "ip" => KeyType::Ip,
            _ => KeyType::String,
        };
        ConditionKey {
            name,
            kind,
            multivalued,
        }
    }

    /// Does `key` (from a policy) name this key? Case-insensitive, placeholders match
    /// any non-empty text.
    pub fn matches(&self, key: &str) -> bool {
        key_matches(self.name, key)
    }
}

/// `documented` may hold `${Var}`, `<var>` or `tag-key` placeholders (any non-empty text).
pub fn key_matches(documented: &str, key: &str) -> bool {
    let mut pattern = String::with_capacity(documented.len());
    let mut rest = documented;
    while !rest.is_empty() {
        let open = [("${", '}'), ("<", '>')].iter().find_map(|(o, c)| {
            rest.strip_prefix(o)
                .and_then(|a| a.find(*c).map(|e| (a, e)))
        });
        if let Some((after, end)) = open {
            pattern.push_str("?*");
            rest = &after[end + 1..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("tag-key") {
            pattern.push_str("?*");
            rest = after;
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            // A literal `*` or `?` in a documented key is text, not a wildcard.
            pattern.push(if c == '*' || c == '?' { '\u{1}' } else { c });
        }
        rest = chars.as_str();
    }
    glob_match(&pattern.to_ascii_lowercase(), &key.to_ascii_lowercase())
}

/// One resource type an action accepts.
#[derive(Debug, Clone)]
pub struct ActionResource {
    /// Index into `Service::resources`.
    pub index: usize,
    pub required: bool,
}

#[derive(Debug)]
pub struct Action {
    pub name: String,
    pub level: AccessLevel,
    /// Empty when the action supports no resource-level permissions (needs `"Resource": "*"`).
    pub resources: Vec<ActionResource>,
    pub condition_keys: Vec<String>,
    pub dependent_actions: Vec<String>,
}

#[derive(Debug)]
pub struct Service {
    pub prefix: String,
    pub name: String,
    pub resources: Vec<ResourceType>,
    /// Every condition key the service defines, with its type.
    pub condition_keys: Vec<ConditionKey>,
    pub actions: Vec<Action>,
    by_lower: HashMap<String, usize>,
}

impl Service {
    /// Case-insensitive lookup (IAM action names are case-insensitive).
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.by_lower
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.actions[i])
    }

    /// Actions whose name matches a glob (`*`, `?`), case-insensitively.
    pub fn matching(&self, pattern: &str) -> Vec<&Action> {
        let p = pattern.to_ascii_lowercase();
        self.actions
            .iter()
            .filter(|a| glob_match(&p, &a.name.to_ascii_lowercase()))
            .collect()
    }

    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resources.iter().find(|r| r.name == name)
    }

    /// The resource types an action accepts, with their templates.
    pub fn action_resource_types<'a>(&'a self, action: &'a Action) -> Vec<&'a ResourceType> {
        action
            .resources
            .iter()
            .filter_map(|r| self.resources.get(r.index))
            .collect()
    }

    /// The service's definition of a condition key, if it has one.
    pub fn condition_key(&self, key: &str) -> Option<&ConditionKey> {
        self.condition_keys.iter().find(|k| k.matches(key))
    }

    /// Is `key` in the request context of `action`: one of its own keys, or a key of a
    /// resource type it accepts?
    pub fn action_supports_key(&self, action: &Action, key: &str) -> bool {
        action.condition_keys.iter().any(|k| key_matches(k, key))
            || self
                .action_resource_types(action)
                .iter()
                .any(|rt| rt.condition_keys.iter().any(|k| key_matches(k, key)))
    }

    /// Does `resource` (an ARN, possibly with wildcards) match any resource type `action` accepts?
    pub fn action_accepts(&self, action: &Action, resource: &str) -> bool {
        self.action_resource_types(action)
            .iter()
            .any(|rt| rt.template.matches(resource))
    }
}

struct IndexEntry {
    offset: usize,
    len: usize,
    name: &'static str,
}

fn index() -> &'static HashMap<&'static str, IndexEntry> {
    static INDEX: OnceLock<HashMap<&'static str, IndexEntry>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map = HashMap::with_capacity(512);
        for line in INDEX_TEXT.lines() {
            let mut f = line.split('\t');
            let (Some(prefix), Some(off), Some(len)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let (Ok(offset), Ok(len)) = (off.parse(), len.parse()) else {
                continue;
            };
            let name = f.next().unwrap_or(prefix);
            map.insert(prefix, IndexEntry { offset, len, name });
        }
        map
    })
}

/// Is this a service prefix the catalog knows? Cheap: touches only the index.
pub fn has_service(prefix: &str) -> bool {
    index().contains_key(prefix.to_ascii_lowercase().as_str())
}

/// The human name of a service, from the index.
pub fn service_name(prefix: &str) -> Option<&'static str> {
    index()
        .get(prefix.to_ascii_lowercase().as_str())
        .map(|e| e.name)
}

/// Every service prefix, sorted.
pub fn prefixes() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = index().keys().copied().collect();
    v.sort_unstable();
    v
}

/// The parsed facts of one service, parsed on first request and cached.
pub fn service(prefix: &str) -> Option<&'static Service> {
    static CACHE: OnceLock<Mutex<HashMap<String, &'static Service>>> = OnceLock::new();
    let key = prefix.to_ascii_lowercase();
    let entry = index().get(key.as_str())?;
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut guard = match cache.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(s) = guard.get(&key) {
        return Some(s);
    }
    let text = CATALOG_TEXT.get(entry.offset..entry.offset + entry.len)?;
    let parsed: &'static Service = Box::leak(Box::new(parse_service(text)?));
    guard.insert(key, parsed);
    Some(parsed)
}

/// Looks up `prefix:Action` (case-insensitive).
pub fn action(full: &str) -> Option<(&'static Service, &'static Action)> {
    let (prefix, name) = full.split_once(':')?;
    let svc = service(prefix)?;
    let a = svc.action(name)?;
    Some((svc, a))
}

fn parse_service(text: &'static str) -> Option<Service> {
    let mut lines = text.lines();
    let header = lines.next()?.strip_prefix('@')?;
    let (prefix, name) = header.split_once('\t').unwrap_or((header, header));
    let mut resources: Vec<ResourceType> = Vec::new();
    let mut condition_keys: Vec<ConditionKey> = Vec::new();
    let mut raw_actions: Vec<(String, AccessLevel, String, String, String)> = Vec::new();
    for line in lines {
        let mut f = line.split('\t');
        match f.next() {
            Some("r") => {
                let (Some(n), Some(arn)) = (f.next(), f.next()) else {
                    continue;
                };
                resources.push(ResourceType {
                    name: n.to_string(),
                    arn: arn.to_string(),
                    template: ArnTemplate::default(),
                    condition_keys: f
                        .next()
                        .unwrap_or("")
                        .split(',')
                        .filter(|k| !k.is_empty())
                        .collect(),
                });
            }
            Some("c") => {
                if let (Some(n), Some(kind)) = (f.next(), f.next()) {
                    condition_keys.push(ConditionKey::parse(n, kind));
                }
            }
            Some("a") => {
                let (Some(n), Some(level)) = (f.next(), f.next().and_then(AccessLevel::from_code))
                else {
                    continue;
                };
                let rts = f.next().unwrap_or("").to_string();
                let conds = f.next().unwrap_or("").to_string();
                let deps = f.next().unwrap_or("").to_string();
                raw_actions.push((n.to_string(), level, rts, conds, deps));
            }
            _ => {}
        }
    }
    compile_templates(&mut resources);
    let mut actions = Vec::with_capacity(raw_actions.len());
    let mut by_lower = HashMap::with_capacity(raw_actions.len());
    for (n, level, rts, conds, deps) in raw_actions {
        let mut ars = Vec::new();
        for rt in rts.split(',').filter(|x| !x.is_empty()) {
            let (rname, required) = match rt.strip_suffix('*') {
                Some(r) => (r, true),
                None => (rt, false),
            };
            // A name can appear more than once (lambda `function` with and without qualifier).
            for (index, _) in resources
                .iter()
                .enumerate()
                .filter(|(_, r)| r.name == rname)
            {
                ars.push(ActionResource { index, required });
            }
        }
        by_lower.insert(n.to_ascii_lowercase(), actions.len());
        actions.push(Action {
            name: n,
            level,
            resources: ars,
            condition_keys: split_list(&conds),
            dependent_actions: split_list(&deps),
        });
    }
    Some(Service {
        prefix: prefix.to_string(),
        name: name.to_string(),
        resources,
        condition_keys,
        actions,
        by_lower,
    })
}

/// Compiles the ARN templates. A template whose final variable is followed, in another
/// resource type's template, by more text (bucket → bucket/object, table → table/index)
/// must not let that variable swallow the separator, or `bucket/*` would look like a bucket.
fn compile_templates(resources: &mut [ResourceType]) {
    let arns: Vec<String> = resources.iter().map(|r| r.arn.clone()).collect();
    for r in resources.iter_mut() {
        let mut stops = Vec::new();
        for other in &arns {
            if other.len() > r.arn.len() && other.starts_with(&r.arn) && r.arn.ends_with('}') {
                if let Some(c) = other[r.arn.len()..].chars().next() {
                    if !stops.contains(&c) {
                        stops.push(c);
                    }
                }
            }
        }
        r.template = ArnTemplate::compile(&r.arn, &stops);
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Glob match with `*` (any run) and `?` (one char); both inputs already lowercased if needed.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_s3_lazily() {
        let s3 = service("s3").expect("s3 in catalog");
        let get = s3.action("getobject").expect("GetObject");
        assert_eq!(get.name, "GetObject");
        assert_eq!(get.level, AccessLevel::Read);
        assert!(s3.action_accepts(get, "arn:aws:s3:::my-bucket/*"));
        assert!(!s3.action_accepts(get, "arn:aws:s3:::my-bucket"));
        let lb = s3.action("ListBucket").expect("ListBucket");
        assert!(s3.action_accepts(lb, "arn:aws:s3:::my-bucket"));
        assert!(!s3.action_accepts(lb, "arn:aws:s3:::my-bucket/*"));
        assert!(has_service("EC2"));
        assert!(!has_service("nosuch"));
    }

    #[test]
    fn condition_keys() {
        let s3 = service("s3").expect("s3");
        let prefix = s3.condition_key("S3:Prefix").expect("s3:prefix, any case");
        assert_eq!(prefix.kind, KeyType::String);
        assert!(s3.condition_key("s3:ExistingObjectTag/team").is_some());
        assert!(s3.condition_key("s3:ExistingObjectTag/").is_none());
        assert!(s3.condition_key("s3:prefixx").is_none());
        let tls = s3.condition_key("s3:TlsVersion").expect("numeric");
        assert_eq!(tls.kind, KeyType::Numeric);
        let lb = s3.action("ListBucket").expect("ListBucket");
        let get = s3.action("GetObject").expect("GetObject");
        assert!(s3.action_supports_key(lb, "s3:prefix"));
        assert!(!s3.action_supports_key(get, "s3:prefix"));
        // A resource type's keys count for the actions that accept it.
        assert!(s3.action_supports_key(lb, "s3:BucketTag/team"));
        assert!(service("ec2")
            .and_then(|e| e.condition_key("aws:TagKeys"))
            .is_some_and(|k| k.multivalued));
    }

    #[test]
    fn globs() {
        assert!(glob_match("get*", "getobject"));
        assert!(glob_match("*object", "getobject"));
        assert!(glob_match("g?tobject", "getobject"));
        assert!(!glob_match("put*", "getobject"));
    }
}
