//! ARNs: syntax checks, matching a resource ARN (which may hold `*`, `?` and policy
//! variables) against a catalog ARN template, what such a pattern reaches (one named
//! resource, a prefix, or every resource of the type), and filling a template.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::shape;

#[derive(Debug, Clone, PartialEq, Eq)]
enum TTok {
    Lit(char),
    /// A `${Var}`: one or more characters, none of `excluded`.
    Var {
        excluded: Vec<char>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RTok {
    Lit(char),
    /// `*`, or a policy variable the caller sets (`${aws:UserAgent}`): any value.
    Star,
    Quest,
    /// A policy variable bound to the caller's own identity (`${aws:username}`): one
    /// value per principal, unknown here.
    Var,
}

/// Characters one step of a name can take.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Class {
    One(char),
    /// In `ranges` (any character when `None`), and not in `excluded`.
    Set {
        ranges: Option<shape::Ranges>,
        excluded: Vec<char>,
    },
}

impl Class {
    fn contains(&self, c: char) -> bool {
        match self {
            Class::One(x) => *x == c,
            Class::Set { ranges, excluded } => {
                !excluded.contains(&c)
                    && ranges.is_none_or(|r| r.iter().any(|&(a, b)| (a..=b).contains(&c)))
            }
        }
    }
}

/// `min..=max` characters of a class (`max: None`, no bound): the template's resource
/// part, as `covers` walks it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    class: Class,
    min: u16,
    max: Option<u16>,
}

/// Longer bounds are not counted (treated as unbounded): a name may then look longer
/// than AWS allows, which only ever makes `reach` say "every" less often.
const MAX_COUNTED: u16 = 32;

/// At most this many alternatives of a template's shapes are expanded.
const MAX_ALTERNATIVES: usize = 16;

/// A compiled catalog ARN template such as `arn:${Partition}:s3:::${BucketName}/${ObjectName}`.
#[derive(Debug, Clone, Default)]
pub struct ArnTemplate {
    toks: Vec<TTok>,
    /// The template as written, and the final variable's stops: `runs` is worked out
    /// from them when a pattern is first judged against this type (parsing a service
    /// compiles every type's template; few are ever judged).
    source: String,
    stops: Vec<char>,
    /// The resource part (after the fifth `:`) as runs of characters, one sequence per
    /// alternative of the names' known shapes (shape.rs), for `reach`.
    runs: OnceLock<Vec<Vec<Run>>>,
    has_region: bool,
    has_account: bool,
}

/// What a resource pattern reaches within one resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// Every resource of the type (in the accounts and regions the pattern names): the
    /// pattern is as broad as `"*"` for this type.
    pub every: bool,
    /// The account segment is a wildcard where the type has an account.
    pub any_account: bool,
    /// The region segment is a wildcard where the type has a region.
    pub any_region: bool,
}

const STANDARD_VARS: [&str; 3] = ["Partition", "Region", "Account"];

/// `arn:partition:service:region:account:rest` → (region, account, rest).
fn segments(arn: &str) -> Option<(&str, &str, &str)> {
    match fields(arn).as_slice() {
        [_, _, _, region, account, rest] => Some((region, account, rest)),
        _ => None,
    }
}

/// An ARN's six fields, split at `:` outside policy variables: in
/// `arn:aws:iam::${aws:ResourceAccount}:role/x` the account is the variable.
pub fn fields(arn: &str) -> Vec<&str> {
    let mut out = Vec::with_capacity(6);
    let mut start = 0;
    let mut depth = 0usize;
    let bytes = arn.as_bytes();
    let mut i = 0;
    while i < bytes.len() && out.len() < 5 {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                out.push(&arn[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&arn[start..]);
    out
}

impl ArnTemplate {
    /// `stops`: characters the final variable may not contain (see catalog.rs).
    pub fn compile(template: &str, stops: &[char]) -> Self {
        let (has_region, has_account) = match segments(template) {
            Some((region, account, _)) => (!region.is_empty(), !account.is_empty()),
            None => (false, false),
        };
        ArnTemplate {
            toks: template_tokens(template, stops),
            source: template.to_string(),
            stops: stops.to_vec(),
            runs: OnceLock::new(),
            has_region,
            has_account,
        }
    }

    /// The resource part's runs (see `runs`).
    fn rest(&self) -> &[Vec<Run>] {
        self.runs.get_or_init(|| {
            let fields: Vec<&str> = self.source.splitn(6, ':').collect();
            match fields.as_slice() {
                [_, _, service, _, _, rest] => shaped_runs(service, rest, &self.stops),
                _ => Vec::new(),
            }
        })
    }

    /// Could some concrete ARN match both this template and `resource`?
    /// `resource` may contain `*`, `?` and `${aws:...}` policy variables (treated as `*`).
    pub fn matches(&self, resource: &str) -> bool {
        if self.toks.is_empty() {
            return false;
        }
        if intersects(&resource_tokens(resource), &self.toks, false) {
            return true;
        }
        // `log-group:name:*` is the documented way to name a log group and its streams.
        if let Some(stripped) = resource.strip_suffix(":*") {
            return intersects(&resource_tokens(stripped), &self.toks, false);
        }
        false
    }

    /// Does `resource` match this template with its wildcards standing only for parts of
    /// names, every literal of the template written out? `arn:aws:s3:::acme-*` fits
    /// buckets so, not objects (its `*` would have to stand for the `/`);
    /// `arn:aws:ec2:*:*:instance/i-*` fits instances, not the EC2 types whose ARN a
    /// wildcard account could stretch over. For telling which type a pattern is written for.
    pub fn fits_literally(&self, resource: &str) -> bool {
        !self.toks.is_empty() && intersects(&resource_tokens(resource), &self.toks, true)
    }

    /// What `resource` reaches within this type; `None` when it matches none of it.
    /// `every` compares the resource parts (after the fifth `:`) against every name the
    /// type can have: `role/*`, `role*`, `r*`, `role/?*` and `*` all reach every role,
    /// `instance/i-*` every instance and `s3:::???*/*` every object (names have shapes);
    /// `role/app-*` reaches a prefix and `user/${aws:username}` one user per caller.
    /// A policy variable the caller sets (`${aws:UserAgent}`) is a `*`.
    pub fn reach(&self, resource: &str) -> Option<Reach> {
        if !self.matches(resource) {
            return None;
        }
        let (region, account, rest) = segments(resource)?;
        let toks = resource_tokens(rest);
        // `log-group:*:*` names every log group (with its streams), as `log-group:*` does.
        let stripped = rest.strip_suffix(":*").map(resource_tokens);
        Some(Reach {
            // A literal resource part names its resource, even the only one of its type
            // (`hub/default`): "every" needs a wildcard doing the work.
            every: is_wild(&toks)
                && (self.covered_by(&[toks.as_slice()])
                    || stripped.is_some_and(|s| is_wild(&s) && self.covered_by(&[s.as_slice()]))),
            any_account: self.has_account && is_wild(&resource_tokens(account)),
            any_region: self.has_region && is_wild(&resource_tokens(region)),
        })
    }

    /// Do these patterns together reach every resource of this type, in some account and
    /// region they all name (`s3:::*a*/*`, …, `s3:::*9*/*`: every bucket holds a letter
    /// or a digit)? Patterns that do not match the type are ignored.
    pub fn reached_together(&self, patterns: &[&str]) -> bool {
        let parsed: Vec<(&str, &str, Vec<RTok>)> = patterns
            .iter()
            .filter(|p| self.matches(p))
            .filter_map(|p| segments(p))
            .map(|(region, account, rest)| (region, account, resource_tokens(rest)))
            .collect();
        if parsed.len() < 2 || !parsed.iter().any(|(_, _, r)| is_wild(r)) {
            return false;
        }
        // Group by the account and region each pattern names; a wildcard segment joins
        // every group it matches.
        let joins = |pattern: &str, named: &str| {
            pattern == named
                || (is_wild(&resource_tokens(pattern))
                    && super::catalog::glob_match(pattern, named))
        };
        let mut tried: Vec<(&str, &str)> = Vec::new();
        for (region, account, _) in &parsed {
            let region = if self.has_region { *region } else { "" };
            let account = if self.has_account { *account } else { "" };
            if tried.contains(&(region, account)) {
                continue;
            }
            tried.push((region, account));
            let group: Vec<&[RTok]> = parsed
                .iter()
                .filter(|(r, a, _)| {
                    (!self.has_region || joins(r, region))
                        && (!self.has_account || joins(a, account))
                })
                .map(|(_, _, rest)| rest.as_slice())
                .collect();
            if group.len() >= 2 && group.iter().any(|r| is_wild(r)) && self.covered_by(&group) {
                return true;
            }
        }
        false
    }

    /// Every name of every alternative matches one of `globs`.
    fn covered_by(&self, globs: &[&[RTok]]) -> bool {
        let rest = self.rest();
        !rest.is_empty() && rest.iter().all(|alt| covers(alt, globs))
    }

    /// Literal characters of the template (higher is more specific).
    pub fn literal_len(&self) -> usize {
        self.toks
            .iter()
            .filter(|t| matches!(t, TTok::Lit(_)))
            .count()
    }

    /// The literal start of the resource part (`instance/` for EC2 instances).
    pub fn literal_head(&self) -> &str {
        let rest = self.source.splitn(6, ':').nth(5).unwrap_or("");
        rest.split("${").next().unwrap_or("")
    }
}

/// A `*`, `?` or caller-set variable: the pattern stands for more than one name.
fn is_wild(toks: &[RTok]) -> bool {
    toks.iter().any(|t| matches!(t, RTok::Star | RTok::Quest))
}

/// Tokens of a template: literals, and variables that take one or more characters.
/// `stops`: characters the final variable may not contain (see catalog.rs).
fn template_tokens(template: &str, stops: &[char]) -> Vec<TTok> {
    template_parts(template, stops)
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

/// Template tokens with each variable's name.
fn template_parts<'a>(template: &'a str, stops: &[char]) -> Vec<(TTok, Option<&'a str>)> {
    let mut toks = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${") {
            if let Some(end) = after.find('}') {
                let name = &after[..end];
                rest = &after[end + 1..];
                let mut excluded = vec![':'];
                if STANDARD_VARS.contains(&name) {
                    excluded.push('/');
                }
                toks.push((TTok::Var { excluded }, Some(name)));
                continue;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            toks.push((TTok::Lit(c), None));
        }
        rest = chars.as_str();
    }
    // The last variable of a template may hold ':' and '/' (paths, qualifiers), except
    // the separators that would make it another resource type.
    if let Some((TTok::Var { excluded }, _)) = toks.last_mut() {
        *excluded = stops.to_vec();
    }
    toks
}

/// The resource part of a template as runs, with the known shapes of its names: one
/// sequence per combination of the shapes' alternatives.
fn shaped_runs(service: &str, rest: &str, stops: &[char]) -> Vec<Vec<Run>> {
    let mut alts: Vec<Vec<Run>> = vec![Vec::new()];
    for (tok, name) in template_parts(rest, stops) {
        let options: Vec<Vec<Run>> = match tok {
            TTok::Lit(c) => vec![vec![Run {
                class: Class::One(c),
                min: 1,
                max: Some(1),
            }]],
            TTok::Var { excluded } => {
                let any = vec![vec![Run {
                    class: Class::Set {
                        ranges: None,
                        excluded: excluded.clone(),
                    },
                    min: 1,
                    max: None,
                }]];
                match name.and_then(|n| shape::lookup(service, n)) {
                    Some(shape) if alts.len() * shape.len() <= MAX_ALTERNATIVES => {
                        shape.iter().map(|alt| shape_runs(alt, &excluded)).collect()
                    }
                    _ => any,
                }
            }
        };
        alts = alts
            .iter()
            .flat_map(|a| {
                options.iter().map(move |o| {
                    let mut v = a.clone();
                    v.extend(o.iter().cloned());
                    v
                })
            })
            .collect();
    }
    alts
}

fn shape_runs(parts: &[shape::Part], excluded: &[char]) -> Vec<Run> {
    let mut out = Vec::new();
    for p in parts {
        match *p {
            shape::Part::Lit(s) => out.extend(s.chars().map(|c| Run {
                class: Class::One(c),
                min: 1,
                max: Some(1),
            })),
            shape::Part::Run(ranges, min, max) => out.push(Run {
                class: Class::Set {
                    ranges: Some(ranges),
                    excluded: excluded.to_vec(),
                },
                min,
                max: max.filter(|m| *m <= MAX_COUNTED),
            }),
        }
    }
    out
}

/// Is this policy variable bound to the caller's own identity (one value per principal)
/// rather than set by the caller? `${aws:username}`, `${aws:PrincipalTag/team}`, the web
/// identity's subject. Anything else (`${aws:UserAgent}`, `${aws:RequestTag/x}`,
/// `${sts:RoleSessionName}`, `${aws:SourceIdentity}`) the caller chooses — and
/// `${aws:ResourceAccount}`/`ResourceOrgID`, which are whatever resource is being accessed:
/// in an account segment they are every account.
fn principal_bound(variable: &str) -> bool {
    // `${aws:PrincipalTag/team, 'none'}`: a default value when the key is absent (a role
    // has no `aws:username`, so `${aws:username, '*'}` is `*` for every role session). A
    // default that is a pattern makes the variable one.
    let (key, default) = variable.split_once(',').unwrap_or((variable, ""));
    if default.contains(['*', '?']) {
        return false;
    }
    let key = key.trim().to_ascii_lowercase();
    const BOUND: &[&str] = &[
        "aws:username",
        "aws:userid",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principaltype",
        "aws:principalservicename",
        "aws:principalisawsservice",
        "aws:federatedprovider",
        "ec2:sourceinstancearn",
    ];
    if BOUND.contains(&key.as_str()) || key.starts_with("aws:principaltag/") {
        return true;
    }
    // The subject of a web identity or SAML provider: `cognito-identity.amazonaws.com:sub`,
    // `www.amazon.com:user_id`, `graph.facebook.com:id`, `saml:sub`, `<oidc issuer>:sub`.
    match key.rsplit_once(':') {
        Some((prefix, name)) => prefix != "aws" && matches!(name, "sub" | "user_id" | "id"),
        None => false,
    }
}

fn resource_tokens(resource: &str) -> Vec<RTok> {
    let mut out = Vec::new();
    let mut rest = resource;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${") {
            if let Some(end) = after.find('}') {
                let name = &after[..end];
                rest = &after[end + 1..];
                out.push(match name {
                    // IAM's escapes for the characters themselves.
                    "*" => RTok::Lit('*'),
                    "?" => RTok::Lit('?'),
                    "$" => RTok::Lit('$'),
                    n if principal_bound(n) => RTok::Var,
                    _ => RTok::Star,
                });
                continue;
            }
        }
        let mut chars = rest.chars();
        match chars.next() {
            Some('*') => out.push(RTok::Star),
            Some('?') => out.push(RTok::Quest),
            Some(c) => out.push(RTok::Lit(c)),
            None => {}
        }
        rest = chars.as_str();
    }
    out
}

/// Search over (resource position, template position, inside-a-variable) states.
/// A policy variable may hold any value: for "could it match", it is a `*`.
/// `strict`: wildcards stand only for characters of the template's variables.
fn intersects(r: &[RTok], t: &[TTok], strict: bool) -> bool {
    let r: Vec<RTok> = r
        .iter()
        .map(|x| if *x == RTok::Var { RTok::Star } else { *x })
        .collect();
    let r = r.as_slice();
    // One bit per state (a hash set here was most of the generator's time on EC2).
    let cols = t.len() + 1;
    let mut seen = vec![false; (r.len() + 1) * cols * 2];
    let mut stack = vec![(0usize, 0usize, false)];
    while let Some(state) = stack.pop() {
        let (i, j, in_var) = state;
        let Some(bit) = seen.get_mut((i * cols + j) * 2 + usize::from(in_var)) else {
            continue;
        };
        if *bit {
            continue;
        }
        *bit = true;
        if i == r.len() && j == t.len() {
            return true;
        }
        // A variable that has taken at least one character may end here.
        if in_var {
            stack.push((i, j + 1, false));
        }
        let Some(rt) = r.get(i) else {
            continue;
        };
        match (rt, t.get(j)) {
            (RTok::Star, _) => {
                // The star matches nothing more.
                stack.push((i + 1, j, in_var));
                match t.get(j) {
                    Some(TTok::Lit(_)) if !strict => stack.push((i, j + 1, false)),
                    Some(TTok::Lit(_)) => {}
                    Some(TTok::Var { .. }) => {
                        // The star supplies the whole variable, or part of it.
                        stack.push((i, j + 1, false));
                        stack.push((i + 1, j, true));
                        stack.push((i, j, true));
                    }
                    None => {}
                }
            }
            (RTok::Quest, Some(TTok::Lit(_))) if !strict => stack.push((i + 1, j + 1, false)),
            (RTok::Quest, Some(TTok::Var { .. })) => stack.push((i + 1, j, true)),
            (RTok::Lit(a), Some(TTok::Lit(b))) => {
                if a == b {
                    stack.push((i + 1, j + 1, false));
                }
            }
            (RTok::Lit(a), Some(TTok::Var { excluded })) => {
                if !excluded.contains(a) {
                    stack.push((i + 1, j, true));
                }
            }
            (RTok::Var, _) | (RTok::Quest, Some(TTok::Lit(_))) | (_, None) => {}
        }
    }
    false
}

/// Above this much work (steps × words of the position set) `covers` gives up and
/// answers "covers": a pattern too intricate to bound is treated as broad, and hostile
/// input costs milliseconds, not minutes.
const COVER_WORK_LIMIT: usize = 2_000_000;

/// A set of glob positions.
type Bits = Vec<u64>;

fn bit(set: &Bits, p: usize) -> bool {
    set[p / 64] >> (p % 64) & 1 == 1
}

fn set_bit(set: &mut Bits, p: usize) {
    set[p / 64] |= 1 << (p % 64);
}

/// Does every string of the runs `t` match one of the globs?
///
/// The globs run together as one automaton (each its own start and end positions);
/// the walk follows `t`'s strings while tracking the set of positions the automaton can
/// be in, and stops at the first string that leaves every glob (a counterexample).
/// Characters that are no literal of any glob all behave alike, so one stand-in per
/// run represents them. Sets are pruned as an antichain: a set that holds a set already
/// seen at the same point of `t` has no counterexample the smaller one lacks.
fn covers(t: &[Run], globs: &[&[RTok]]) -> bool {
    walk(t, globs).unwrap_or(true)
}

/// `covers`, or `None` when the walk gave up.
fn walk(t: &[Run], globs: &[&[RTok]]) -> Option<bool> {
    // Positions: glob g's tokens, then its end.
    let mut toks: Vec<Option<RTok>> = Vec::new();
    let mut starts = Vec::new();
    for g in globs {
        starts.push(toks.len());
        toks.extend(g.iter().map(|x| Some(*x)));
        toks.push(None);
    }
    let n = toks.len();
    let words = n.div_ceil(64);
    let mut lits: Vec<char> = toks
        .iter()
        .filter_map(|x| match x {
            Some(RTok::Lit(c)) => Some(*c),
            _ => None,
        })
        .collect();
    lits.sort_unstable();
    lits.dedup();
    // The characters each run is tried with.
    let reps: Vec<Vec<char>> =
        t.iter()
            .map(|run| {
                let mut v: Vec<char> = lits
                    .iter()
                    .copied()
                    .filter(|c| run.class.contains(*c))
                    .collect();
                let other = match &run.class {
                    Class::One(c) => Some(*c).filter(|c| !lits.contains(c)),
                    Class::Set {
                        ranges: Some(r), ..
                    } => r
                        .iter()
                        .flat_map(|&(a, b)| a..=b)
                        .find(|c| run.class.contains(*c) && !lits.contains(c)),
                    Class::Set { ranges: None, .. } => ('\u{E000}'..='\u{F8FF}')
                        .find(|c| run.class.contains(*c) && !lits.contains(c)),
                };
                v.extend(other);
                v
            })
            .collect();
    let close = |set: &mut Bits| {
        for (p, tok) in toks.iter().enumerate() {
            if *tok == Some(RTok::Star) && bit(set, p) {
                set_bit(set, p + 1);
            }
        }
    };
    let step = |set: &Bits, c: char| -> Bits {
        let mut out = vec![0u64; words];
        for p in (0..n).filter(|&p| bit(set, p)) {
            match toks[p] {
                Some(RTok::Lit(x)) if x == c => set_bit(&mut out, p + 1),
                Some(RTok::Quest) => set_bit(&mut out, p + 1),
                Some(RTok::Star) => set_bit(&mut out, p),
                _ => {}
            }
        }
        close(&mut out);
        out
    };
    let accepting = |set: &Bits| starts.iter().zip(globs).any(|(s, g)| bit(set, s + g.len()));
    // From a position whose glob has only stars left, every rest of every name matches.
    let mut absorbing = vec![0u64; words];
    for (s, g) in starts.iter().zip(globs) {
        for q in (0..g.len()).rev() {
            if g[q] != RTok::Star {
                break;
            }
            set_bit(&mut absorbing, s + q);
        }
    }
    let settled = |set: &Bits| set.iter().zip(&absorbing).any(|(a, b)| a & b != 0);
    let empty = |set: &Bits| set.iter().all(|w| *w == 0);
    let count = |set: &Bits| set.iter().map(|w| w.count_ones()).sum::<u32>();

    let mut start = vec![0u64; words];
    for s in &starts {
        set_bit(&mut start, *s);
    }
    close(&mut start);

    let mut seen: HashMap<(usize, u16), Vec<Bits>> = HashMap::new();
    let mut work = 0usize;
    let mut stack = vec![(0usize, 0u16, start)];
    while let Some((j, k, set)) = stack.pop() {
        if empty(&set) {
            return Some(false);
        }
        if settled(&set) {
            continue;
        }
        let Some(run) = t.get(j) else {
            if !accepting(&set) {
                return Some(false);
            }
            continue;
        };
        let known = seen.entry((j, k)).or_default();
        if known
            .iter()
            .any(|s| s.iter().zip(&set).all(|(a, b)| a & !b == 0))
        {
            continue;
        }
        known.push(set.clone());
        work += (reps[j].len() + 1) * n;
        if work > COVER_WORK_LIMIT {
            return None;
        }
        let mut next: Vec<(usize, u16, Bits)> = Vec::new();
        if k >= run.min {
            next.push((j + 1, 0, set.clone()));
        }
        if run.max.is_none_or(|m| k < m) {
            let k2 = if run.max.is_some() {
                k + 1
            } else {
                (k + 1).min(run.min)
            };
            for &c in &reps[j] {
                next.push((j, k2, step(&set, c)));
            }
        }
        // Smallest sets first: they prune the larger ones.
        next.sort_by_key(|(_, _, s)| std::cmp::Reverse(count(s)));
        stack.extend(next);
    }
    Some(true)
}

/// Where a name, or the resource part of an ARN, holds wildcards (`*`, `?`, or a policy
/// variable the caller sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wildcards {
    None,
    /// One `*` at the end, after literal text: a prefix of names (`etl-*`, `bucket/*`).
    Prefix,
    /// Anywhere else (`*a*`, `*`, `a?c`, `${aws:UserAgent}-x`).
    Elsewhere,
}

pub fn wildcards(text: &str) -> Wildcards {
    let toks = resource_tokens(text);
    let wild: Vec<usize> = toks
        .iter()
        .enumerate()
        .filter(|(_, t)| matches!(t, RTok::Star | RTok::Quest))
        .map(|(i, _)| i)
        .collect();
    match wild.as_slice() {
        [] => Wildcards::None,
        [i] if *i + 1 == toks.len() && *i > 0 && toks[*i] == RTok::Star => Wildcards::Prefix,
        _ => Wildcards::Elsewhere,
    }
}

/// Syntax check for a resource element: `*`, or `arn:partition:service:region:account:resource`.
/// Returns a message saying what is wrong.
pub fn check_syntax(resource: &str) -> Result<(), String> {
    if resource == "*" {
        return Ok(());
    }
    let parts = fields(resource);
    if parts.len() < 6 || parts[0] != "arn" {
        return Err(format!(
            "`{resource}` is not an ARN: expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE or \"*\""
        ));
    }
    let partition = parts[1];
    let known = [
        "aws",
        "aws-cn",
        "aws-us-gov",
        "aws-iso",
        "aws-iso-b",
        "aws-iso-e",
        "aws-iso-f",
        "aws-eusc",
    ];
    if !(known.contains(&partition) || partition.contains('*') || partition.starts_with("${")) {
        return Err(format!(
            "`{resource}`: unknown partition `{partition}` (use aws, aws-cn or aws-us-gov)"
        ));
    }
    let service = parts[2];
    if service.is_empty()
        || !service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*' || c == '?')
    {
        return Err(format!("`{resource}`: bad service `{service}`"));
    }
    let account = parts[4];
    if !account.is_empty()
        && !account.starts_with("${")
        && !account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*' || c == '?')
    {
        return Err(format!("`{resource}`: bad account `{account}`"));
    }
    if parts[5].is_empty() {
        return Err(format!("`{resource}`: the resource part is empty"));
    }
    if resource.chars().any(char::is_whitespace) {
        return Err(format!("`{resource}`: ARNs contain no white space"));
    }
    Ok(())
}

/// The service part of an ARN, if it is one.
pub fn service_of(resource: &str) -> Option<&str> {
    let mut it = resource.splitn(4, ':');
    if it.next()? != "arn" {
        return None;
    }
    it.next()?;
    it.next()
}

/// Partition for a region: `cn-*` → aws-cn, `us-gov-*` → aws-us-gov, else aws.
pub fn partition_for(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// Fills a catalog template: the standard variables from `region`/`account` (or `*`),
/// the other variables in order from `values`, and `*` for any left over.
pub fn fill(
    template: &str,
    region: Option<&str>,
    account: Option<&str>,
    values: &[&str],
) -> String {
    let mut out = String::new();
    let mut rest = template;
    let mut vals = values.iter();
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        match name {
            "Partition" => out.push_str(partition_for(region)),
            "Region" => out.push_str(region.unwrap_or("*")),
            "Account" => out.push_str(account.unwrap_or("*")),
            _ => out.push_str(vals.next().copied().unwrap_or("*")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str, stops: &[char]) -> ArnTemplate {
        ArnTemplate::compile(s, stops)
    }

    #[test]
    fn s3_bucket_and_object() {
        let bucket = t("arn:${Partition}:s3:::${BucketName}", &['/']);
        let object = t("arn:${Partition}:s3:::${BucketName}/${ObjectName}", &[]);
        assert!(bucket.matches("arn:aws:s3:::b"));
        assert!(!bucket.matches("arn:aws:s3:::b/*"));
        assert!(object.matches("arn:aws:s3:::b/*"));
        assert!(object.matches("arn:aws:s3:::b/a/b/c.txt"));
        assert!(!object.matches("arn:aws:s3:::b"));
        assert!(bucket.matches("arn:aws:s3:::*"));
        assert!(object.matches("arn:aws:s3:::*"));
        assert!(bucket.matches("arn:aws:s3:::${aws:username}-b"));
        assert!(!bucket.matches("arn:aws:dynamodb:us-east-1:1:table/x"));
    }

    #[test]
    fn logs_and_iam_paths() {
        let lg = t(
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}",
            &[':'],
        );
        assert!(lg.matches("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x"));
        assert!(lg.matches("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*"));
        // `name:*` is the group itself: `*:*` is every group.
        let every = |p: &str| lg.reach(p).is_some_and(|r| r.every);
        assert!(every("arn:aws:logs:us-east-1:123456789012:log-group:*:*"));
        assert!(every("arn:aws:logs:us-east-1:123456789012:log-group:?*"));
        assert!(!every(
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*"
        ));
        assert!(!every(
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/*:*"
        ));
        let role = t(
            "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
            &[],
        );
        assert!(role.matches("arn:aws:iam::123456789012:role/path/admin"));
        assert!(role.matches("arn:aws:iam::*:role/*"));
        assert!(!role.matches("arn:aws:iam::123456789012:user/bob"));
    }

    #[test]
    fn reach_of_wildcards_in_every_position() {
        let role = t(
            "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
            &[],
        );
        for every in [
            "arn:aws:iam::123456789012:role/*",
            "arn:aws:iam::*:role/**",
            "arn:aws:iam::123456789012:role*",
            "arn:aws:iam::123456789012:r*",
            "arn:aws:iam::123456789012:role/?*",
            "arn:aws:iam::123456789012:*",
            "arn:*:*:*:*:*",
        ] {
            let r = role.reach(every);
            assert!(r.is_some_and(|r| r.every), "{every}: {r:?}");
        }
        for named in [
            "arn:aws:iam::123456789012:role/app",
            "arn:aws:iam::123456789012:role/app-*",
            "arn:aws:iam::123456789012:role/?",
            "arn:aws:iam::123456789012:role/${aws:username}",
            "arn:aws:iam::123456789012:role/${aws:username}*",
            "arn:aws:iam::*:role/OrganizationAccountAccessRole",
        ] {
            let r = role.reach(named);
            assert!(r.is_some_and(|r| !r.every), "{named}: {r:?}");
        }
        let any = role.reach("arn:aws:iam::*:role/app");
        assert_eq!(
            any,
            Some(Reach {
                every: false,
                any_account: true,
                any_region: false
            })
        );
        assert!(role.reach("arn:aws:iam::1:user/*").is_none());
        // ARNs match case-sensitively: other case matches nothing (resource-mismatch).
        assert!(role.reach("arn:aws:IAM::123456789012:role/*").is_none());
        assert!(role.reach("arn:aws:iam::123456789012:ROLE/*").is_none());

        let secret = t(
            "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}",
            &[],
        );
        let r = secret.reach("arn:aws:secretsmanager:*:*:secret:*");
        assert!(r.is_some_and(|r| r.every && r.any_account && r.any_region));
        assert!(secret
            .reach("arn:aws:secretsmanager:us-east-1:1:secret:prod/db-??????")
            .is_some_and(|r| !r.every));

        let object = t("arn:${Partition}:s3:::${BucketName}/${ObjectName}", &[]);
        let bucket = t("arn:${Partition}:s3:::${BucketName}", &['/']);
        assert!(object.reach("arn:aws:s3:::*/*").is_some_and(|r| r.every));
        assert!(object.reach("arn:aws:s3:::*").is_some_and(|r| r.every));
        assert!(bucket.reach("arn:aws:s3:::*").is_some_and(|r| r.every));
        assert!(object
            .reach("arn:aws:s3:::my-data/*")
            .is_some_and(|r| !r.every));
        assert!(object
            .reach("arn:aws:s3:::*data/*")
            .is_some_and(|r| !r.every));
        assert!(bucket.reach("arn:aws:s3:::my-*").is_some_and(|r| !r.every));
        // The only resource of its type, named: not a pattern.
        let hub = t(
            "arn:${Partition}:securityhub:${Region}:${Account}:hub/default",
            &[],
        );
        assert!(hub
            .reach("arn:aws:securityhub:us-east-1:123456789012:hub/default")
            .is_some_and(|r| !r.every));
        assert!(hub
            .reach("arn:aws:securityhub:us-east-1:123456789012:hub/*")
            .is_some_and(|r| r.every));
    }

    #[test]
    fn reach_gives_up_broad_on_hostile_patterns() {
        let role = t(
            "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
            &[],
        );
        let hostile = format!("arn:aws:iam::1:role/{}", "*a?".repeat(300));
        // Answers (either way) without running away.
        assert!(role.reach(&hostile).is_some());
    }

    fn every(tpl: &ArnTemplate, pattern: &str) -> bool {
        tpl.reach(pattern).is_some_and(|r| r.every)
    }

    #[test]
    fn names_have_shapes() {
        let object = t("arn:${Partition}:s3:::${BucketName}/${ObjectName}", &[]);
        let bucket = t("arn:${Partition}:s3:::${BucketName}", &['/']);
        // Bucket names have at least 3 characters.
        assert!(every(&object, "arn:aws:s3:::???*/*"));
        assert!(every(&object, "arn:aws:s3:::?*/*"));
        assert!(every(&bucket, "arn:aws:s3:::???*"));
        assert!(!every(&object, "arn:aws:s3:::????*/*"));
        assert!(!every(&object, "arn:aws:s3:::*data/*"));
        // ... and start with a letter or a digit.
        assert!(!every(&bucket, "arn:aws:s3:::a*"));
        let secret = t(
            "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}",
            &[],
        );
        let s = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";
        assert!(every(&secret, &format!("{s}*-??????")));
        assert!(every(&secret, &format!("{s}*-*")));
        assert!(every(&secret, &format!("{s}?*???????")));
        assert!(!every(&secret, &format!("{s}*-?????")));
        assert!(!every(&secret, &format!("{s}prod/*-??????")));
        let key = t(
            "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}",
            &[],
        );
        let k = "arn:aws:kms:us-east-1:123456789012:key/";
        assert!(every(&key, &format!("{k}*-*")));
        assert!(every(&key, &format!("{k}*????")));
        // Multi-Region keys are `mrk-` and 32 hex digits: not all keys.
        assert!(!every(&key, &format!("{k}????????-*")));
        assert!(!every(&key, &format!("{k}1*")));
        let snapshot = t(
            "arn:${Partition}:ec2:${Region}::snapshot/${SnapshotId}",
            &[],
        );
        assert!(every(&snapshot, "arn:aws:ec2:us-east-1::snapshot/snap-*"));
        assert!(every(
            &snapshot,
            "arn:aws:ec2:us-east-1::snapshot/snap-????????*"
        ));
        assert!(!every(&snapshot, "arn:aws:ec2:us-east-1::snapshot/snap-0*"));
        let instance = t(
            "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}",
            &[],
        );
        assert!(every(&instance, "arn:aws:ec2:us-east-1:*:instance/i-*"));
        assert!(every(&instance, "arn:aws:ec2:*:*:instance/i-*"));
        assert!(!every(
            &instance,
            "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"
        ));
        assert!(!every(
            &instance,
            "arn:aws:ec2:us-east-1:123456789012:instance/i-0*"
        ));
        assert_eq!(instance.literal_head(), "instance/");
    }

    #[test]
    fn patterns_judged_together() {
        let object = t("arn:${Partition}:s3:::${BucketName}/${ObjectName}", &[]);
        let all: Vec<String> = ('a'..='z')
            .chain('0'..='9')
            .map(|c| format!("arn:aws:s3:::*{c}*/*"))
            .collect();
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        assert!(object.reached_together(&refs));
        // Decided by the walk, not by giving up.
        let globs: Vec<Vec<RTok>> = refs
            .iter()
            .map(|p| resource_tokens(p.trim_start_matches("arn:aws:s3:::")))
            .collect();
        let globs: Vec<&[RTok]> = globs.iter().map(Vec::as_slice).collect();
        assert_eq!(walk(&object.rest()[0], &globs), Some(true));
        // Without `q`, the bucket `qqq` is out of reach.
        let some: Vec<&str> = refs.iter().copied().filter(|p| !p.contains('q')).collect();
        assert!(!object.reached_together(&some));
        // Two halves of the hex digits after the id prefix.
        let instance = t(
            "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}",
            &[],
        );
        let halves: Vec<String> = "0123456789abcdef"
            .chars()
            .map(|c| format!("arn:aws:ec2:us-east-1:123456789012:instance/i-{c}*"))
            .collect();
        let halves: Vec<&str> = halves.iter().map(String::as_str).collect();
        assert!(instance.reached_together(&halves));
        assert!(!instance.reached_together(&halves[1..]));
        // Different accounts do not add up.
        let mut split: Vec<String> = halves.iter().map(|s| s.to_string()).collect();
        split[0] = split[0].replace("123456789012", "210987654321");
        let split: Vec<&str> = split.iter().map(String::as_str).collect();
        assert!(!instance.reached_together(&split));
        // A wildcard account joins every account's group.
        assert!(instance.reached_together(&[
            "arn:aws:ec2:us-east-1:*:instance/i-0*",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-?*",
        ]));
    }

    #[test]
    fn policy_variables_by_who_sets_them() {
        let object = t("arn:${Partition}:s3:::${BucketName}/${ObjectName}", &[]);
        let secret = t(
            "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}",
            &[],
        );
        // Set by the caller: any value.
        assert!(every(&object, "arn:aws:s3:::${aws:UserAgent}/*"));
        assert!(every(&object, "arn:aws:s3:::${aws:RequestTag/b}/*"));
        assert!(every(
            &secret,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:${aws:Referer}"
        ));
        assert!(every(&object, "arn:aws:s3:::${sts:RoleSessionName}/*"));
        // Bound to the caller's identity: one value each.
        for bound in [
            "arn:aws:s3:::${aws:username}/*",
            "arn:aws:s3:::${aws:PrincipalTag/team}/*",
            "arn:aws:s3:::${aws:PrincipalTag/team, 'shared'}/*",
            "arn:aws:s3:::${cognito-identity.amazonaws.com:sub}/*",
            "arn:aws:s3:::home/${aws:userid}/*",
        ] {
            assert!(!every(&object, bound), "{bound}");
        }
        // IAM's escapes are the characters themselves.
        assert!(!every(&object, "arn:aws:s3:::${*}/*"));
        let r = object
            .reach("arn:aws:s3:::b/${?}")
            .expect("matches an object");
        assert!(!r.every);
    }

    #[test]
    fn syntax_and_fill() {
        assert!(check_syntax("*").is_ok());
        assert!(check_syntax("arn:aws:s3:::b").is_ok());
        assert!(check_syntax("s3://b").is_err());
        assert!(check_syntax("arn:aws:s3").is_err());
        assert!(check_syntax("arn:foo:s3:::b").is_err());
        assert_eq!(
            fill(
                "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}",
                Some("eu-west-1"),
                Some("123456789012"),
                &["orders"]
            ),
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
        );
        assert_eq!(
            fill(
                "arn:${Partition}:s3:::${BucketName}/${ObjectName}",
                None,
                None,
                &["b"]
            ),
            "arn:aws:s3:::b/*"
        );
    }
}
