//! ARNs: syntax checks, matching a resource ARN (which may hold `*`, `?` and policy
//! variables) against a catalog ARN template, what such a pattern reaches (one named
//! resource, a prefix, or every resource of the type), and filling a template.

use std::collections::HashSet;

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
    Star,
    Quest,
    /// A policy variable (`${aws:username}`): one value per request, unknown here.
    Var,
}

/// A compiled catalog ARN template such as `arn:${Partition}:s3:::${BucketName}/${ObjectName}`.
#[derive(Debug, Clone, Default)]
pub struct ArnTemplate {
    toks: Vec<TTok>,
    /// The resource part (after the fifth `:`), compiled on its own for `reach`.
    rest: Vec<TTok>,
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

impl ArnTemplate {
    /// `stops`: characters the final variable may not contain (see catalog.rs).
    pub fn compile(template: &str, stops: &[char]) -> Self {
        let fields: Vec<&str> = template.splitn(6, ':').collect();
        let (has_region, has_account, rest) = match fields.as_slice() {
            [_, _, _, region, account, rest] => (!region.is_empty(), !account.is_empty(), *rest),
            _ => (false, false, ""),
        };
        ArnTemplate {
            toks: template_tokens(template, stops),
            rest: template_tokens(rest, stops),
            has_region,
            has_account,
        }
    }

    /// Could some concrete ARN match both this template and `resource`?
    /// `resource` may contain `*`, `?` and `${aws:...}` policy variables (treated as `*`).
    pub fn matches(&self, resource: &str) -> bool {
        if self.toks.is_empty() {
            return false;
        }
        if intersects(&resource_tokens(resource), &self.toks) {
            return true;
        }
        // `log-group:name:*` is the documented way to name a log group and its streams.
        if let Some(stripped) = resource.strip_suffix(":*") {
            return intersects(&resource_tokens(stripped), &self.toks);
        }
        false
    }

    /// What `resource` reaches within this type; `None` when it matches none of it.
    /// `every` compares the resource parts (after the fifth `:`): `role/*`, `role*`, `r*`,
    /// `role/?*` and `*` all reach every role; `role/app-*` reaches a prefix and
    /// `user/${aws:username}` one user per caller.
    pub fn reach(&self, resource: &str) -> Option<Reach> {
        if !self.matches(resource) {
            return None;
        }
        let fields: Vec<&str> = resource.splitn(6, ':').collect();
        let (region, account, rest) = match fields.as_slice() {
            [_, _, _, region, account, rest] => (*region, *account, *rest),
            _ => return None,
        };
        let wild = |s: &str| s.contains(['*', '?']);
        Some(Reach {
            // A literal resource part names its resource, even the only one of its type
            // (`hub/default`): "every" needs a wildcard doing the work.
            every: wild(rest) && covers(&self.rest, &resource_tokens(rest)),
            any_account: self.has_account && wild(account),
            any_region: self.has_region && wild(region),
        })
    }

    /// Literal characters of the template (higher is more specific).
    pub fn literal_len(&self) -> usize {
        self.toks
            .iter()
            .filter(|t| matches!(t, TTok::Lit(_)))
            .count()
    }
}

/// Tokens of a template: literals, and variables that take one or more characters.
/// `stops`: characters the final variable may not contain (see catalog.rs).
fn template_tokens(template: &str, stops: &[char]) -> Vec<TTok> {
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
                toks.push(TTok::Var { excluded });
                continue;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            toks.push(TTok::Lit(c));
        }
        rest = chars.as_str();
    }
    // The last variable of a template may hold ':' and '/' (paths, qualifiers), except
    // the separators that would make it another resource type.
    if let Some(TTok::Var { excluded }) = toks.last_mut() {
        *excluded = stops.to_vec();
    }
    toks
}

fn resource_tokens(resource: &str) -> Vec<RTok> {
    let mut out = Vec::new();
    let mut rest = resource;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${") {
            if let Some(end) = after.find('}') {
                rest = &after[end + 1..];
                out.push(RTok::Var);
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
fn intersects(r: &[RTok], t: &[TTok]) -> bool {
    let r: Vec<RTok> = r
        .iter()
        .map(|x| if *x == RTok::Var { RTok::Star } else { *x })
        .collect();
    let r = r.as_slice();
    let mut seen: HashSet<(usize, usize, bool)> = HashSet::new();
    let mut stack = vec![(0usize, 0usize, false)];
    while let Some(state) = stack.pop() {
        if !seen.insert(state) {
            continue;
        }
        let (i, j, in_var) = state;
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
                    Some(TTok::Lit(_)) => stack.push((i, j + 1, false)),
                    Some(TTok::Var { .. }) => {
                        // The star supplies the whole variable, or part of it.
                        stack.push((i, j + 1, false));
                        stack.push((i + 1, j, true));
                        stack.push((i, j, true));
                    }
                    None => {}
                }
            }
            (RTok::Quest, Some(TTok::Lit(_))) => stack.push((i + 1, j + 1, false)),
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
            (RTok::Var, _) | (_, None) => {}
        }
    }
    false
}

/// Above this much work (states × pattern length) `covers` gives up and answers
/// "covers": a pattern too intricate to bound is treated as broad, and hostile input
/// costs milliseconds, not minutes.
const COVER_WORK_LIMIT: usize = 2_000_000;

/// Does every string of the template part `t` match the glob `r`?
///
/// Walks `t`'s strings while tracking the set of positions `r`'s automaton can be in.
/// A variable of `t` may produce any character it does not exclude; characters that are
/// not literals of `r` all behave alike in `r`, so one stand-in represents them. The walk
/// fails as soon as some string of `t` leaves `r` (empty set, or `r` not at its end).
fn covers(t: &[TTok], r: &[RTok]) -> bool {
    let n = r.len();
    let lits: Vec<char> = {
        let mut v: Vec<char> = r
            .iter()
            .filter_map(|x| match x {
                RTok::Lit(c) => Some(*c),
                _ => None,
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    // A character `r` never names and no template excludes.
    let fresh = ('\u{E000}'..='\u{F8FF}')
        .find(|c| !lits.contains(c))
        .unwrap_or('\u{F8FF}');
    let close = |set: &mut Vec<bool>| {
        for p in 0..n {
            if set[p] && r[p] == RTok::Star {
                set[p + 1] = true;
            }
        }
    };
    let step = |set: &[bool], c: char| -> Vec<bool> {
        let mut out = vec![false; n + 1];
        for p in (0..n).filter(|&p| set[p]) {
            match r[p] {
                RTok::Lit(x) if x == c => out[p + 1] = true,
                RTok::Quest => out[p + 1] = true,
                RTok::Star => out[p] = true,
                _ => {}
            }
        }
        close(&mut out);
        out
    };
    let mut start = vec![false; n + 1];
    start[0] = true;
    close(&mut start);

    let mut seen: HashSet<(usize, bool, Vec<bool>)> = HashSet::new();
    let mut stack = vec![(0usize, false, start)];
    while let Some((j, in_var, set)) = stack.pop() {
        if !set.contains(&true) {
            return false;
        }
        if j == t.len() {
            if !set[n] {
                return false;
            }
            continue;
        }
        if !seen.insert((j, in_var, set.clone())) {
            continue;
        }
        if seen.len().saturating_mul(n + 1) > COVER_WORK_LIMIT {
            return true;
        }
        match &t[j] {
            TTok::Lit(c) => stack.push((j + 1, false, step(&set, *c))),
            TTok::Var { excluded } => {
                for &c in lits.iter().chain(std::iter::once(&fresh)) {
                    if !excluded.contains(&c) {
                        stack.push((j, true, step(&set, c)));
                    }
                }
                if in_var {
                    stack.push((j + 1, false, set));
                }
            }
        }
    }
    true
}

/// Syntax check for a resource element: `*`, or `arn:partition:service:region:account:resource`.
/// Returns a message saying what is wrong.
pub fn check_syntax(resource: &str) -> Result<(), String> {
    if resource == "*" {
        return Ok(());
    }
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
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
