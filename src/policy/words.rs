//! Words: catalog action names split into a verb and object words, and the verbs people
//! use mapped to the verbs action names start with. Pure string work, no catalog access.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

/// Words inside action names that say nothing about what the action touches
/// (`ListAllMyBuckets`, `ListSubscriptionsByTopic`, `GetMetricData`).
const NEUTRAL: &[&str] = &[
    "all",
    "my",
    "by",
    "for",
    "and",
    "of",
    "data",
    "statistic",
    "content",
    "detail",
    "info",
    "portion",
    "raw",
    "from",
    "to",
    "in",
    "on",
    "with",
];

/// An action name as words: `BatchWriteItem` → verb `write`, objects `[item]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionWords {
    pub verb: String,
    pub objects: Vec<String>,
}

/// Splits CamelCase, keeping acronyms whole: `RebootDBInstance` → reboot, db, instance.
pub fn split_camel(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = c.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if (boundary || !c.is_ascii_alphanumeric()) && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        if c.is_ascii_alphanumeric() {
            cur.push(c.to_ascii_lowercase());
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// English plural → singular, good enough for resource and action nouns.
pub fn singular(w: &str) -> String {
    if w == "tagging" || w == "tags" {
        return "tag".to_string();
    }
    if w.len() > 4 {
        if let Some(s) = w.strip_suffix("ies") {
            return format!("{s}y");
        }
    }
    for suffix in ["sses", "xes", "ches", "shes"] {
        if w.ends_with(suffix) {
            return w[..w.len() - 2].to_string();
        }
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        return w[..w.len() - 1].to_string();
    }
    w.to_string()
}

/// Words of a resource type name: `log-group` → log, group; `autoScalingGroup` → auto, scaling, group.
pub fn type_words(type_name: &str) -> Vec<String> {
    type_name
        .split(['-', ' ', '_'])
        .flat_map(split_camel)
        .map(|w| singular(&w))
        .collect()
}

impl ActionWords {
    pub fn of(name: &str) -> Self {
        let mut words: Vec<String> = split_camel(name);
        // `BatchGetItem` is GetItem for many items: the verb is the second word.
        if words.len() > 1 && words[0] == "batch" {
            words.remove(0);
        }
        let verb = if words.is_empty() {
            String::new()
        } else {
            words.remove(0)
        };
        let objects = words
            .iter()
            .map(|w| singular(w))
            .filter(|w| !NEUTRAL.contains(&w.as_str()))
            .collect();
        ActionWords { verb, objects }
    }
}

/// Does the action make a new resource of exactly this type, and do nothing else to it
/// (CreateSnapshot → snapshot, CreateBucket → bucket, CreateDBSnapshot → snapshot; not
/// CreatePolicyVersion → policy, not CopySnapshot)? For such an action a pattern for every name of the type names the
/// resource to be made, not the ones that exist.
pub fn creates_new(action: &str, type_name: &str) -> bool {
    let words = split_camel(action);
    let Some((verb, objects)) = words.split_first() else {
        return false;
    };
    let objects: Vec<String> = objects.iter().map(|w| singular(w)).collect();
    let kind = type_words(type_name);
    // RDS names its actions with a `DB` its types do not carry (CreateDBSnapshot → snapshot).
    let undecorated = match objects.split_first() {
        Some((first, rest)) if first == "db" => rest,
        _ => &objects[..],
    };
    verb == "create" && !kind.is_empty() && (objects == kind || undecorated == kind)
}

/// What a group of everyday verbs asks for; decides what a bare kind of resource means
/// ("read table T" reads its items, "delete table T" deletes the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Read,
    List,
    Write,
    Create,
    Delete,
    Publish,
    Receive,
    Run,
    Other,
}

impl Group {
    /// Does the verb act on what the resource holds (items, objects, messages) rather
    /// than on the resource itself?
    pub fn acts_on_contents(self) -> bool {
        matches!(
            self,
            Group::Read | Group::Write | Group::Publish | Group::Receive | Group::Run
        )
    }
}

/// A verb from the text: the word, its group, and the verbs action names start with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verb {
    pub word: String,
    pub group: Group,
    pub catalog: Vec<String>,
}

const READ: &[&str] = &[
    "get", "describe", "list", "lookup", "filter", "query", "scan", "search", "select", "download",
    "receive", "read", "view",
];
const LIST: &[&str] = &["list", "describe"];
const WRITE: &[&str] = &[
    "put", "update", "write", "upload", "modify", "change", "set",
];
const CREATE: &[&str] = &["create"];
const DELETE: &[&str] = &["delete", "remove"];
const PUBLISH: &[&str] = &["publish", "send", "put"];
const RECEIVE: &[&str] = &["receive"];

/// The synonym table (docs/policy-engine.md): an everyday verb → its group and the verbs
/// of action names it stands for. `None` for words that are not verbs we know; a word
/// that starts some action name of the services in play counts as its own verb
/// (`reboot`, `purge`, `subscribe`) — see `Verb::literal`.
pub fn verb(word: &str) -> Option<Verb> {
    let w = word.to_ascii_lowercase();
    let (group, catalog): (Group, &[&str]) = match w.as_str() {
        "read" | "reads" | "reading" | "get" | "gets" | "getting" | "view" | "viewing"
        | "fetch" | "fetching" | "download" | "downloading" | "see" | "look" | "check"
        | "inspect" | "retrieve" | "open" | "watch" | "pull" | "need-read" => (Group::Read, READ),
        "list" | "lists" | "listing" | "describe" | "show" | "enumerate" | "browse" => {
            (Group::List, LIST)
        }
        "write" | "writes" | "writing" | "put" | "upload" | "uploading" | "update" | "updating"
        | "add" | "insert" | "save" | "store" | "modify" | "edit" | "change" | "set"
        | "redeploy" | "deploy" | "scale" => (Group::Write, WRITE),
        "create" | "creating" | "make" | "take" | "provision" => (Group::Create, CREATE),
        "delete" | "deleting" | "remove" | "removing" | "drop" | "destroy" | "erase" => {
            (Group::Delete, DELETE)
        }
        "publish" | "publishing" | "send" | "sending" | "post" | "emit" => {
            (Group::Publish, PUBLISH)
        }
        "consume" | "consumes" | "consuming" | "receive" | "poll" => (Group::Receive, RECEIVE),
        "start" | "run" | "trigger" | "launch" | "kick" => (Group::Run, &["start"]),
        "restart" | "reboot" => (Group::Other, &["reboot"]),
        "invoke" | "call" | "execute" => (Group::Other, &["invoke"]),
        "stop" | "halt" => (Group::Other, &["stop"]),
        "terminate" | "kill" => (Group::Other, &["terminate"]),
        _ => return None,
    };
    Some(Verb {
        word: w,
        group,
        catalog: catalog.iter().map(|s| (*s).to_string()).collect(),
    })
}

impl Verb {
    /// A word that starts an action name of a service in play ("purge", "rotate").
    pub fn literal(word: &str) -> Verb {
        let w = word.to_ascii_lowercase();
        Verb {
            catalog: vec![w.clone()],
            word: w,
            group: Group::Other,
        }
    }
}

/// Every action of a service as words, in catalog order, split once per process
/// (EC2 has 700 actions; a description looks at them several times).
pub struct ServiceWords {
    pub actions: Vec<ActionWords>,
    /// Every object word of the service's action names.
    pub vocab: BTreeSet<String>,
    /// Every verb action names start with.
    pub verbs: BTreeSet<String>,
}

pub fn of_service(svc: &super::catalog::Service) -> &'static ServiceWords {
    static CACHE: OnceLock<Mutex<HashMap<String, &'static ServiceWords>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut guard = match cache.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(w) = guard.get(&svc.prefix) {
        return w;
    }
    let actions: Vec<ActionWords> = svc
        .actions
        .iter()
        .map(|a| ActionWords::of(&a.name))
        .collect();
    let vocab = actions
        .iter()
        .flat_map(|a| a.objects.iter().cloned())
        .collect();
    let verbs = actions.iter().map(|a| a.verb.clone()).collect();
    let made: &'static ServiceWords = Box::leak(Box::new(ServiceWords {
        actions,
        vocab,
        verbs,
    }));
    guard.insert(svc.prefix.clone(), made);
    made
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_new_only_for_the_made_type() {
        assert!(creates_new("CreateSnapshot", "snapshot"));
        assert!(creates_new("CreateDBSnapshot", "snapshot"));
        assert!(creates_new("CreateBucket", "bucket"));
        assert!(creates_new("CreateLogStream", "log-stream"));
        // Existing resources touched, or another kind of thing made.
        assert!(!creates_new("CreatePolicyVersion", "policy"));
        assert!(!creates_new("CopySnapshot", "snapshot"));
        assert!(!creates_new("CreateSnapshot", "volume"));
        assert!(!creates_new("CreateTags", "snapshot"));
        assert!(!creates_new("CreateAccessKey", "user"));
        assert!(!creates_new("CreateServiceLinkedRole", "role"));
        assert!(!creates_new("CreateDBInstance", "cluster"));
    }

    #[test]
    fn splits_action_names() {
        assert_eq!(
            split_camel("RebootDBInstance"),
            ["reboot", "db", "instance"]
        );
        assert_eq!(split_camel("GetSecretValue"), ["get", "secret", "value"]);
        assert_eq!(split_camel("PartiQLSelect"), ["parti", "ql", "select"]);
        let w = ActionWords::of("BatchWriteItem");
        assert_eq!(
            (w.verb.as_str(), w.objects.clone()),
            ("write", vec!["item".to_string()])
        );
        let w = ActionWords::of("ListAllMyBuckets");
        assert_eq!(w.objects, ["bucket"]);
        assert_eq!(ActionWords::of("GetMetricData").objects, ["metric"]);
    }

    #[test]
    fn singulars() {
        assert_eq!(singular("policies"), "policy");
        assert_eq!(singular("messages"), "message");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("access"), "access");
        assert_eq!(singular("tags"), "tag");
    }
}
