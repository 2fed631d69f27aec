//! ARNs: syntax checks, matching a resource ARN (which may hold `*`, `?` and policy
//! variables) against a catalog ARN template, and filling a template to build an ARN.

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
}

/// A compiled catalog ARN template such as `arn:${Partition}:s3:::${BucketName}/${ObjectName}`.
#[derive(Debug, Clone, Default)]
pub struct ArnTemplate {
    toks: Vec<TTok>,
}

const STANDARD_VARS: [&str; 3] = ["Partition", "Region", "Account"];

impl ArnTemplate {
    /// `stops`: characters the final variable may not contain (see catalog.rs).
    pub fn compile(template: &str, stops: &[char]) -> Self {
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
        ArnTemplate { toks }
    }

    /// Could some concrete ARN match both this template and `resource`?
    /// `resource` may contain `*`, `?` and `${aws:...}` policy variables (treated as `*`).
    pub fn matches(&self, resource: &str) -> bool {
        if self.toks.is_empty() {
            return false;
        }
        let r = resource_tokens(resource);
        if intersects(&r, &self.toks) {
            return true;
        }
        // `log-group:name:*` is the documented way to name a log group and its streams.
        if let Some(stripped) = resource.strip_suffix(":*") {
            return intersects(&resource_tokens(stripped), &self.toks);
        }
        false
    }

    /// Literal characters of the template (higher is more specific).
    pub fn literal_len(&self) -> usize {
        self.toks
            .iter()
            .filter(|t| matches!(t, TTok::Lit(_)))
            .count()
    }
}

fn resource_tokens(resource: &str) -> Vec<RTok> {
    let mut out = Vec::new();
    let mut rest = resource;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${") {
            if let Some(end) = after.find('}') {
                rest = &after[end + 1..];
                out.push(RTok::Star);
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
fn intersects(r: &[RTok], t: &[TTok]) -> bool {
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
            (_, None) => {}
        }
    }
    false
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
