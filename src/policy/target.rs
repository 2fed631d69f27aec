//! Targets: the resources a description names ("bucket my-data under prefix logs/",
//! "service checkout in cluster prod"), and the ARNs each action gets from them.
//!
//! A target knows its resource type and the values of the type's name variables, so an
//! action on a contained type can be scoped from it: the objects of a bucket
//! (`bucket/*`), the streams of a log group, the services of an ECS cluster.

use std::collections::BTreeMap;

use super::arn;
use super::catalog::{Action, ResourceType, Service};

/// How a name was narrowed in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// "starting with P": names that start with P.
    StartsWith(String),
    /// "under P", "in folder P", "prefix P/": everything below the path P.
    Under(String),
}

impl Scope {
    /// The name pattern: `P*` or `P/*`.
    pub fn pattern(&self) -> String {
        match self {
            Scope::StartsWith(p) => format!("{}*", p.trim_end_matches('*')),
            Scope::Under(p) => format!("{}/*", p.trim_end_matches(['/', '*'])),
        }
    }
}

/// A named resource (or a kind narrowed by a scope) of one service.
#[derive(Debug, Clone)]
pub struct Target {
    /// Catalog resource type name; `None` for an ARN given as is.
    pub rtype: Option<String>,
    /// Values of the type's name variables (`BucketName` → `my-data`).
    pub values: BTreeMap<String, String>,
    /// An ARN given in the text or built from the values.
    pub arn: String,
    /// How the contents below it were narrowed ("under prefix releases/").
    pub scope: Option<Scope>,
    /// Named only to locate something inside it ("objects in bucket B"): its own ARN
    /// goes only to listing actions, never to actions on the container itself.
    pub container_only: bool,
    /// The thing inside it was named too ("index by-customer on table orders"): the
    /// container's own ARN goes only to listing.
    pub holds_named: bool,
    /// One thing, not a collection ("the file s3://b/k.csv").
    pub single: bool,
}

/// Variable names of a catalog ARN template, in order.
pub fn variables(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        out.push(after[..end].to_string());
        rest = &after[end + 1..];
    }
    out
}

const STANDARD: [&str; 3] = ["Partition", "Region", "Account"];

/// The variables that name the resource (not partition, region or account).
pub fn name_variables(template: &str) -> Vec<String> {
    variables(template)
        .into_iter()
        .filter(|v| !STANDARD.contains(&v.as_str()))
        .collect()
}

/// The variable a user's name fills: the first unfilled one whose name says it is a name
/// (`GroupFriendlyName` rather than `GroupId`), else the first unfilled one.
pub fn name_slot(template: &str, filled: &BTreeMap<String, String>) -> Option<String> {
    let free: Vec<String> = name_variables(template)
        .into_iter()
        .filter(|v| !filled.contains_key(v))
        .collect();
    free.iter()
        .find(|v| v.contains("Name"))
        .or_else(|| free.first())
        .cloned()
}

/// Fills a template by variable name; unknown variables become `*`.
pub fn fill(
    template: &str,
    region: Option<&str>,
    account: Option<&str>,
    values: &BTreeMap<String, String>,
) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        match name {
            "Partition" => out.push_str(arn::partition_for(region)),
            "Region" => out.push_str(region.unwrap_or("*")),
            "Account" => out.push_str(account.unwrap_or("*")),
            _ => out.push_str(values.get(name).map(String::as_str).unwrap_or("*")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Is `child` a type inside `parent` (its name variables extend the parent's)?
/// bucket → object, cluster → service, table → index, log-group → log-stream.
pub fn is_child(parent: &ResourceType, child: &ResourceType) -> bool {
    let p = name_variables(&parent.arn);
    let c = name_variables(&child.arn);
    !p.is_empty() && c.len() > p.len() && p.iter().all(|v| c.contains(v))
}

/// Where an action's ARN for one resource type came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The named resource itself.
    Named,
    /// Something inside a named resource (its objects, its streams).
    Inside,
    /// A new resource the action creates (`snapshot/*` for CreateSnapshot).
    Created,
}

/// The ARNs `action` gets from the targets, per resource type it accepts.
pub struct Fit {
    pub arns: Vec<(String, Source)>,
    /// A resource type the action requires that nothing named fits.
    pub missing_required: bool,
}

pub struct Ctx<'a> {
    pub region: Option<&'a str>,
    pub account: Option<&'a str>,
    /// Child types a container means on its own (bucket → object), from `vocab`.
    pub contents_child: &'a dyn Fn(&str) -> Option<&'static str>,
}

/// ARNs for one action from the targets.
pub fn fit(svc: &Service, action: &Action, targets: &[Target], cx: &Ctx) -> Fit {
    let mut arns: Vec<(String, Source)> = Vec::new();
    let mut missing_required = false;
    // Level mode grants on what fits, as AWS evaluates an action against any one of
    // its resource types; word mode wants every required type named.
    let is_list = action.name.starts_with("List");
    for ar in &action.resources {
        let Some(rt) = svc.resources.get(ar.index) else {
            continue;
        };
        let before = arns.len();
        let typed = targets
            .iter()
            .any(|t| t.rtype.as_deref() == Some(rt.name.as_str()));
        for t in targets {
            if typed && t.rtype.as_deref() != Some(rt.name.as_str()) && t.rtype.is_some() {
                continue; // a named resource of this very type beats one derived from its container
            }
            for a in arns_from(svc, action, rt, t, is_list, cx) {
                if !arns.iter().any(|(x, _)| *x == a.0) {
                    arns.push(a);
                }
            }
        }
        if arns.len() == before && creates(action, rt) {
            let created = fill(&rt.arn, cx.region, cx.account, &BTreeMap::new());
            if !arns.iter().any(|(x, _)| *x == created) {
                arns.push((created, Source::Created));
            }
        }
        if arns.len() == before && ar.required {
            missing_required = true;
        }
    }
    Fit {
        arns,
        missing_required,
    }
}

fn arns_from(
    svc: &Service,
    action: &Action,
    rt: &ResourceType,
    t: &Target,
    is_list: bool,
    cx: &Ctx,
) -> Vec<(String, Source)> {
    let Some(tname) = &t.rtype else {
        // An ARN from the text: used where the type's template matches it.
        return if rt.template.matches(&t.arn) {
            vec![(t.arn.clone(), Source::Named)]
        } else {
            Vec::new()
        };
    };
    if *tname == rt.name {
        // A container named for what is inside it lends its own ARN only to listing,
        // and not when a prefix was named (the listing would show the rest).
        if t.container_only {
            let takes_child = svc
                .action_resource_types(action)
                .iter()
                .any(|c| is_child(rt, c));
            let blocked = if is_list {
                t.scope.is_some()
            } else {
                t.holds_named || takes_child
            };
            if blocked {
                return Vec::new();
            }
        }
        return vec![(t.arn.clone(), Source::Named)];
    }
    let Some(parent) = svc.resource_type(tname) else {
        return Vec::new();
    };
    let contents_child = (cx.contents_child)(tname).is_some_and(|c| c == rt.name);
    if !(contents_child || t.container_only) || !is_child(parent, rt) {
        return Vec::new();
    }
    let mut values = t.values.clone();
    if let Some(slot) = name_slot(&rt.arn, &values) {
        let pattern = t
            .scope
            .as_ref()
            .map(Scope::pattern)
            .unwrap_or_else(|| "*".to_string());
        values.insert(slot, pattern);
    }
    vec![(
        fill(&rt.arn, cx.region, cx.account, &values),
        Source::Inside,
    )]
}

/// Does the action create resources of this type (CreateSnapshot → snapshot)?
fn creates(action: &Action, rt: &ResourceType) -> bool {
    let words = super::words::ActionWords::of(&action.name);
    let type_words = super::words::type_words(&rt.name);
    matches!(words.verb.as_str(), "create" | "copy" | "allocate" | "run")
        && type_words.iter().all(|w| words.objects.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_by_name() {
        let mut v = BTreeMap::new();
        v.insert("ClusterName".to_string(), "prod".to_string());
        let tpl = "arn:${Partition}:ecs:${Region}:${Account}:service/${ClusterName}/${ServiceName}";
        assert_eq!(name_slot(tpl, &v).as_deref(), Some("ServiceName"));
        v.insert("ServiceName".into(), "api".into());
        assert_eq!(
            fill(tpl, Some("eu-west-1"), Some("123456789012"), &v),
            "arn:aws:ecs:eu-west-1:123456789012:service/prod/api"
        );
        let asg = "arn:${Partition}:autoscaling:${Region}:${Account}:autoScalingGroup:${GroupId}:autoScalingGroupName/${GroupFriendlyName}";
        assert_eq!(
            name_slot(asg, &BTreeMap::new()).as_deref(),
            Some("GroupFriendlyName")
        );
        assert_eq!(Scope::Under("raw/2024/".into()).pattern(), "raw/2024/*");
        assert_eq!(Scope::StartsWith("etl-".into()).pattern(), "etl-*");
    }
}
