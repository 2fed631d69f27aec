//! Which actions a request's verbs and nouns stand for, and the resources each gets.
//!
//! Every action name is split into a verb and object words (`words.rs`). A verb of the
//! request stands for some action verbs (the synonym table); its nouns say what the
//! action must be about — first the nouns that name parts of resources ("items",
//! "code", "messages"), then what the named kind of resource holds ("read table T" reads
//! items), then the kind itself ("delete table T"). Of the matching actions that can be
//! scoped to what was named, those whose names add the fewest words the request did not
//! say are taken: the smallest set that does the task. Access levels are only the
//! fallback, or what "read access"/"tag"/"manage" explicitly ask for.

use std::collections::BTreeSet;

use super::catalog::{AccessLevel, Action, Service};
use super::generate::ServiceIntent;
use super::target::{self, Ctx, Source, Target};
use super::vocab;
use super::words::{self, ActionWords, Group, Verb};
use super::ESCALATION_ACTIONS;
use crate::error::JitError;

const FIELD: &str = "--policy-description";
/// At most this many words of an action's name may be ones the request did not say.
const MAX_EXTRA: usize = 2;

/// One action to grant and the resources it gets (empty: `"*"`, no resource-level
/// permission).
#[derive(Debug, Clone)]
pub struct Grant {
    pub action: &'static Action,
    pub arns: Vec<(String, Source)>,
    /// Granted because another granted action depends on it.
    pub dependent: bool,
}

struct Candidate {
    action: &'static Action,
    fit: target::Fit,
    objects: Vec<String>,
    extra: usize,
}

fn refuse<T>(msg: impl std::fmt::Display) -> anyhow::Result<T> {
    Err(JitError::invalid(FIELD, msg).into())
}

/// Object words of an action, with the aliases its name hides (`ListBucket` → object).
fn objects_of(svc: &Service, a: &Action) -> (String, Vec<String>) {
    // The action's index from its address (it lives in `svc.actions`), checked.
    let size = std::mem::size_of::<Action>().max(1);
    let i = (a as *const Action as usize).wrapping_sub(svc.actions.as_ptr() as usize) / size;
    let cached = svc
        .actions
        .get(i)
        .filter(|x| std::ptr::eq(*x, a))
        .and_then(|_| words::of_service(svc).actions.get(i));
    let w = match cached {
        Some(w) => w.clone(),
        None => ActionWords::of(&a.name),
    };
    let mut objects = w.objects;
    for extra in vocab::alias_words(&svc.prefix, &a.name) {
        if !objects.iter().any(|o| o == extra) {
            objects.push((*extra).to_string());
        }
    }
    (w.verb, objects)
}

/// Words that name what the request is about: the kinds and what they hold.
struct Focus {
    /// Object words the text used that some action of the service has ("items").
    explicit: BTreeSet<String>,
    /// What the named kinds hold, minus the kinds' own words ("item", "value").
    contents: BTreeSet<String>,
    /// Every word of every kind mentioned ("table", "log", "group", "db").
    kinds: BTreeSet<String>,
    /// The kinds the request is about, each as its type's words: the unnamed kinds
    /// when there are any ("snapshots of volume V" is about snapshots), else all.
    about: Vec<Vec<String>>,
}

fn focus(svc: &'static Service, si: &ServiceIntent) -> Focus {
    let mut kinds = BTreeSet::new();
    let mut types: Vec<String> = si.kinds.iter().map(|(t, _, _)| t.clone()).collect();
    types.extend(si.targets.iter().filter_map(|t| t.rtype.clone()));
    for (rtype, noun, _) in &si.kinds {
        kinds.extend(words::type_words(rtype));
        kinds.extend(noun.split(' ').map(words::singular));
    }
    for t in &types {
        kinds.extend(words::type_words(t));
        kinds.extend(
            vocab::kind_words(&svc.prefix, t)
                .iter()
                .map(|w| w.to_string()),
        );
    }
    // Only a named container has contents to act on: "list buckets" lists buckets.
    let named_types: Vec<String> = si.targets.iter().filter_map(|t| t.rtype.clone()).collect();
    let mut contents = BTreeSet::new();
    for t in &named_types {
        contents.extend(
            vocab::contents(&svc.prefix, t)
                .iter()
                .map(|w| w.to_string()),
        );
    }
    let contents: BTreeSet<String> = contents.difference(&kinds).cloned().collect();
    let mut vocab_words: BTreeSet<String> = words::of_service(svc).vocab.clone();
    for (s, _, extra) in vocab::ALIASES {
        if *s == svc.prefix {
            vocab_words.extend(extra.iter().map(|w| (*w).to_string()));
        }
    }
    let unnamed: Vec<&(String, String, bool)> = si
        .kinds
        .iter()
        .filter(|(t, _, _)| {
            !si.targets
                .iter()
                .any(|x| x.rtype.as_deref() == Some(t.as_str()))
        })
        .collect();
    let about_kinds: Vec<&(String, String, bool)> = if unnamed.is_empty() {
        si.kinds.iter().collect()
    } else {
        unnamed
    };
    let mut about: Vec<Vec<String>> = about_kinds
        .iter()
        .map(|(t, _, _)| words::type_words(t))
        .collect();
    if unnamed_is_empty(si) {
        about.extend(
            si.targets
                .iter()
                .filter_map(|t| t.rtype.as_deref())
                .map(words::type_words),
        );
    }
    let mut explicit: BTreeSet<String> = si
        .words
        .iter()
        .filter(|w| vocab_words.contains(*w) && !kinds.contains(*w))
        .filter(|w| !vocab::STOPWORDS.contains(&w.as_str()))
        .filter(|w| *w != &svc.prefix && !["path", "prefix"].contains(&w.as_str()))
        .cloned()
        .collect();
    for v in &si.verbs {
        explicit.remove(&words::singular(&v.word));
    }
    Focus {
        explicit,
        contents,
        kinds,
        about,
    }
}

fn unnamed_is_empty(si: &ServiceIntent) -> bool {
    si.kinds.iter().all(|(t, _, _)| {
        si.targets
            .iter()
            .any(|x| x.rtype.as_deref() == Some(t.as_str()))
    })
}

/// How the actions of one tier must relate to its words.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Match {
    /// Shares a word ("items", "messages").
    Any,
    /// Holds every word of one kind asked about ("log group" → CreateLogGroup, not
    /// CreateLogStream).
    Kind,
}

/// The focus sets to try, in order, for one verb.
fn tiers(v: &Verb, f: &Focus, count: bool) -> Vec<(BTreeSet<String>, Match)> {
    if count && v.word == "count" {
        return vec![(BTreeSet::from(["attribute".to_string()]), Match::Any)];
    }
    let mut out = Vec::new();
    if !f.explicit.is_empty() {
        out.push((f.explicit.clone(), Match::Any));
    }
    let contents = (f.contents.clone(), Match::Any);
    let kinds = (f.kinds.clone(), Match::Kind);
    let order = if v.group.acts_on_contents() || v.group == Group::List {
        [contents, kinds]
    } else {
        [kinds, contents]
    };
    out.extend(order.into_iter().filter(|(s, _)| !s.is_empty()));
    out
}

/// The verbs to try in turn: "list" before "describe" unless the user said describe.
fn verb_rounds(v: &Verb) -> Vec<Vec<String>> {
    if v.group != Group::List {
        return vec![v.catalog.clone()];
    }
    let (first, second) = if v.word == "describe" {
        ("describe", "list")
    } else {
        ("list", "describe")
    };
    vec![vec![first.to_string()], vec![second.to_string()]]
}

/// Chooses the actions for one service of a description.
pub fn choose(
    svc: &'static Service,
    si: &ServiceIntent,
    cx: &Ctx,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<Grant>> {
    let mut grants: Vec<Grant> = Vec::new();
    if !si.levels.is_empty() {
        grants.extend(by_levels(svc, si, &si.levels, cx, notes));
    }
    let f = focus(svc, si);
    for v in &si.verbs {
        let got = if let Some(task) = task_for(svc, si, v, &f) {
            task.into_iter()
                .filter_map(|a| grant_for(svc, a, &si.targets, cx))
                .collect()
        } else {
            by_words(svc, si, v, &f, cx)?
        };
        let got = if got.is_empty() {
            fallback(svc, si, v, cx, notes)?
        } else {
            got
        };
        for g in got {
            if !grants.iter().any(|x| std::ptr::eq(x.action, g.action)) {
                grants.push(g);
            }
        }
    }
    drop_redundant_unscoped(svc, &mut grants);
    if grants.is_empty() {
        return nothing_fits(svc, si);
    }
    add_dependents(svc, &mut grants, notes);
    Ok(grants)
}

/// A task that takes several actions ("push images" to ECR).
fn task_for(
    svc: &'static Service,
    si: &ServiceIntent,
    v: &Verb,
    f: &Focus,
) -> Option<Vec<&'static Action>> {
    let (_, _, _, actions) = vocab::TASKS.iter().find(|(s, verb, object, _)| {
        *s == svc.prefix
            && *verb == v.word
            && (si.words.contains(*object) || f.contents.contains(*object))
    })?;
    Some(actions.iter().filter_map(|a| svc.action(a)).collect())
}

fn grant_for(
    svc: &'static Service,
    a: &'static Action,
    targets: &[Target],
    cx: &Ctx,
) -> Option<Grant> {
    grant_fit(svc, a, targets, cx, true)
}

/// `all_required`: every required type must be named (word mode); level mode grants on
/// whatever fits, as AWS checks an action against any one of its types.
fn grant_fit(
    svc: &'static Service,
    a: &'static Action,
    targets: &[Target],
    cx: &Ctx,
    all_required: bool,
) -> Option<Grant> {
    let fit = target::fit(svc, a, targets, cx);
    if a.resources.is_empty() {
        return Some(Grant {
            action: a,
            arns: Vec::new(),
            dependent: false,
        });
    }
    let unusable = fit.arns.is_empty() || (all_required && fit.missing_required);
    let usable = !unusable;
    usable.then_some(Grant {
        action: a,
        arns: fit.arns,
        dependent: false,
    })
}

/// The verb-and-noun match for one verb of the request.
fn by_words(
    svc: &'static Service,
    si: &ServiceIntent,
    v: &Verb,
    f: &Focus,
    cx: &Ctx,
) -> anyhow::Result<Vec<Grant>> {
    let mut said: BTreeSet<String> = si.words.clone();
    said.extend(f.kinds.iter().cloned());
    said.extend(f.contents.iter().cloned());
    for (focus_set, how) in tiers(v, f, si.count) {
        for verbs in verb_rounds(v) {
            let cands = candidates(svc, si, v, &verbs, &focus_set, how, &said, f, cx);
            let Some(best) = cands.iter().map(|c| c.extra).min() else {
                continue;
            };
            if best > MAX_EXTRA {
                continue; // names that far from the request are not what it said
            }
            return pick(svc, si, v, &cands, best, f);
        }
    }
    Ok(Vec::new())
}

/// The actions of one verb round and focus tier that can be scoped to what was named.
#[allow(clippy::too_many_arguments)]
fn candidates(
    svc: &'static Service,
    si: &ServiceIntent,
    v: &Verb,
    verbs: &[String],
    focus_set: &BTreeSet<String>,
    how: Match,
    said: &BTreeSet<String>,
    f: &Focus,
    cx: &Ctx,
) -> Vec<Candidate> {
    let pm_asked = si.levels.contains(&AccessLevel::PermissionsManagement);
    let mut cands: Vec<Candidate> = Vec::new();
    for a in &svc.actions {
        if a.level == AccessLevel::PermissionsManagement && !pm_asked {
            continue; // changes who can do what: only when asked in those words
        }
        let (verb, objects) = objects_of(svc, a);
        if !verbs.contains(&verb) {
            continue;
        }
        let about = if objects.is_empty() {
            // `Query`, `Decrypt`, `Publish`: the verb is the whole name.
            verb == v.word || v.catalog.len() == 1 || v.group == Group::Read
        } else if how == Match::Kind {
            f.about
                .iter()
                .any(|k| k.iter().all(|w| objects.contains(w)))
        } else {
            objects.iter().any(|o| focus_set.contains(o))
        };
        if !about {
            continue;
        }
        let fit = target::fit(svc, a, &si.targets, cx);
        let star_ok = a.resources.is_empty() || foreign_optional(svc, a);
        if !a.resources.is_empty()
            && (fit.arns.is_empty() || fit.missing_required)
            && !(star_ok && fit.arns.is_empty())
        {
            continue; // nothing named fits it
        }
        if a.resources.is_empty() && objects.is_empty() && !si.targets.is_empty() {
            continue; // a bare verb on "*" is not about what was named
        }
        let extra = objects.iter().filter(|o| !said.contains(*o)).count();
        cands.push(Candidate {
            action: a,
            fit,
            objects,
            extra,
        });
    }
    cands
}

/// Actions whose resource types are all optional and belong to another service (Cost
/// Explorer's billing views): they work on `"*"`, the way the console uses them.
pub fn foreign_optional(svc: &Service, a: &Action) -> bool {
    !a.resources.is_empty()
        && a.resources.iter().all(|r| !r.required)
        && svc.action_resource_types(a).iter().all(|rt| {
            rt.arn
                .split(':')
                .nth(2)
                .is_some_and(|s| !s.eq_ignore_ascii_case(&svc.prefix))
        })
}

/// The fewest-extra-words candidates; several different ones with extra words are a
/// question for the user, not a guess.
fn pick(
    svc: &Service,
    si: &ServiceIntent,
    v: &Verb,
    cands: &[Candidate],
    best: usize,
    f: &Focus,
) -> anyhow::Result<Vec<Grant>> {
    {
        let mut chosen: Vec<&Candidate> = cands.iter().filter(|c| c.extra == best).collect();
        // With something named, an action scoped to it beats one on "*".
        if !si.targets.is_empty() && chosen.iter().any(|c| !c.fit.arns.is_empty()) {
            chosen.retain(|c| !c.fit.arns.is_empty());
        }
        // "object tags on files in bucket B": about the objects, not the bucket.
        let about_words: BTreeSet<&String> = f.about.iter().flatten().collect();
        if chosen
            .iter()
            .any(|c| c.objects.iter().any(|o| about_words.contains(o)))
        {
            chosen.retain(|c| {
                c.objects.is_empty() || c.objects.iter().any(|o| about_words.contains(o))
            });
        }
        if best > 0 {
            let distinct: BTreeSet<&Vec<String>> = chosen.iter().map(|c| &c.objects).collect();
            if distinct.len() > 1 {
                return ambiguous(svc, v, &chosen);
            }
        }
        Ok(chosen
            .into_iter()
            .map(|c| Grant {
                action: c.action,
                arns: c.fit.arns.clone(),
                dependent: false,
            })
            .collect())
    }
}

fn ambiguous<T>(svc: &Service, v: &Verb, chosen: &[&Candidate]) -> anyhow::Result<T> {
    let names: Vec<String> = chosen
        .iter()
        .take(6)
        .map(|c| format!("{}:{}", svc.prefix, c.action.name))
        .collect();
    refuse(format!(
        "\"{}\" could mean several things: {}; which one? Say what to {} (e.g. its code, configuration, ...), or give --actions",
        v.word,
        names.join(", "),
        v.word
    ))
}

/// Access levels, for "read access to X", "tag X", "manage X", or as the fallback.
fn by_levels(
    svc: &'static Service,
    si: &ServiceIntent,
    levels: &BTreeSet<AccessLevel>,
    cx: &Ctx,
    notes: &mut Vec<String>,
) -> Vec<Grant> {
    let kinds: BTreeSet<String> = si
        .kinds
        .iter()
        .flat_map(|(t, _, _)| words::type_words(t))
        .collect();
    let mut out = Vec::new();
    let mut left_out = 0usize;
    for a in svc.actions.iter().filter(|a| levels.contains(&a.level)) {
        if a.resources.is_empty() {
            // Resource-less actions reach beyond what was named; without names, only
            // those about the kind asked for ("list buckets" → ListAllMyBuckets).
            let (_, objects) = objects_of(svc, a);
            if si.targets.is_empty() && objects.iter().any(|o| kinds.contains(o)) {
                out.push(Grant {
                    action: a,
                    arns: Vec::new(),
                    dependent: false,
                });
            }
            continue;
        }
        match grant_fit(svc, a, &si.targets, cx, false) {
            Some(g) => out.push(g),
            None => left_out += 1,
        }
    }
    if si.targets.is_empty() && left_out > 0 {
        notes.push(format!(
            "{left_out} {} actions that need a named resource were left out; name the resources (ARNs or names) to include them",
            svc.prefix
        ));
    }
    out
}

/// No action is named like the request: reading falls back to the Read and List access
/// levels; other verbs are refused with what to say, since a whole Write level is never
/// a safe guess.
fn fallback(
    svc: &'static Service,
    si: &ServiceIntent,
    v: &Verb,
    cx: &Ctx,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<Grant>> {
    let levels: BTreeSet<AccessLevel> = match v.group {
        Group::Read => BTreeSet::from([AccessLevel::Read, AccessLevel::List]),
        Group::List => BTreeSet::from([AccessLevel::List]),
        _ => {
            if si.targets.is_empty() && si.kinds.is_empty() {
                return Ok(Vec::new());
            }
            return refuse(format!(
                "no {} action matches \"{}\" on what was named; say what to {} more plainly (e.g. \"{} items\", \"{} the code of function f\") or give --service {} --actions",
                svc.prefix, v.word, v.word, v.word, v.word, svc.prefix
            ));
        }
    };
    let got = by_levels(svc, si, &levels, cx, notes);
    if !got.is_empty() {
        notes.push(format!(
            "no {} action is named for \"{}\" here, so the {} access level was granted on what was named",
            svc.prefix,
            v.word,
            levels
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    Ok(got)
}

/// `ListAllMyBuckets` on `"*"` next to `ListBucket` on the named bucket adds only a view
/// of everything else: drop an unscoped action whose object words a scoped one covers.
fn drop_redundant_unscoped(svc: &Service, grants: &mut Vec<Grant>) {
    let scoped: Vec<Vec<String>> = grants
        .iter()
        .filter(|g| !g.arns.is_empty())
        .map(|g| objects_of(svc, g.action).1)
        .collect();
    grants.retain(|g| {
        if !g.arns.is_empty() || !g.action.resources.is_empty() {
            return true;
        }
        let (_, objects) = objects_of(svc, g.action);
        objects.is_empty() || !scoped.iter().any(|s| objects.iter().all(|o| s.contains(o)))
    });
}

fn nothing_fits<T>(svc: &Service, si: &ServiceIntent) -> anyhow::Result<T> {
    if si.targets.is_empty() {
        if let Some((_, noun, _)) = si.kinds.first() {
            return refuse(format!(
                "which {noun}? name the {} resources the access is for (a name or an ARN)",
                svc.prefix
            ));
        }
        return refuse(format!(
            "name the {} resources the access is for: an ARN, a name (e.g. \"bucket my-data\", \"table Orders\", \"function my-fn\") or a kind of resource (e.g. \"buckets\", \"instances\")",
            svc.prefix
        ));
    }
    let named: Vec<&str> = si.targets.iter().map(|t| t.arn.as_str()).collect();
    refuse(format!(
        "no {} action matches what was asked on {}; say what to do with it (read, write, delete, start, ...)",
        svc.prefix,
        named.join(", ")
    ))
}

/// The dependent actions the catalog lists, in the same service, on the resources of the
/// action that needs them. Others (another service, escalation, permissions management)
/// are not granted; a note names them.
fn add_dependents(svc: &'static Service, grants: &mut Vec<Grant>, notes: &mut Vec<String>) {
    let escalation: BTreeSet<String> = ESCALATION_ACTIONS
        .iter()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let mut added: Vec<Grant> = Vec::new();
    let mut skipped: BTreeSet<String> = BTreeSet::new();
    for g in grants.iter() {
        for dep in &g.action.dependent_actions {
            let Some((prefix, name)) = dep.split_once(':') else {
                continue;
            };
            let same = prefix.eq_ignore_ascii_case(&svc.prefix);
            let Some(d) = svc.action(name).filter(|_| same) else {
                skipped.insert(dep.clone());
                continue;
            };
            if d.level == AccessLevel::PermissionsManagement
                || escalation.contains(&dep.to_ascii_lowercase())
            {
                skipped.insert(dep.clone());
                continue;
            }
            if grants
                .iter()
                .chain(added.iter())
                .any(|x| std::ptr::eq(x.action, d))
            {
                continue;
            }
            // Not the resource `g` is about to make (`snapshot/*` for CreateSnapshot): for
            // any other action that pattern is every snapshot there is (tagging the new one
            // needs a condition the generator does not write).
            let arns: Vec<(String, Source)> = g
                .arns
                .iter()
                .filter(|(a, src)| *src != Source::Created && svc.action_accepts(d, a))
                .cloned()
                .collect();
            if d.resources.is_empty() || !arns.is_empty() {
                added.push(Grant {
                    action: d,
                    arns,
                    dependent: true,
                });
            } else {
                skipped.insert(dep.clone());
            }
        }
    }
    grants.extend(added);
    if !skipped.is_empty() {
        notes.push(format!(
            "not granted, though the catalog lists them as needed alongside: {}; ask for them separately if the task needs them",
            skipped.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
}
