//! What was understood, in words: one line per statement ("s3:PutObject on every object
//! under build-artifacts/releases/"), shown before the policy so the requester can see
//! the generator read them right.

use serde_json::Value;

use super::catalog;

/// One line per statement of a generated policy.
pub fn understood(policy: &Value) -> Vec<String> {
    let Some(statements) = policy.get("Statement").and_then(Value::as_array) else {
        return Vec::new();
    };
    statements.iter().map(line).collect()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn line(st: &Value) -> String {
    let actions = strings(st.get("Action"));
    let resources = strings(st.get("Resource"));
    let what: Vec<String> = resources
        .iter()
        .map(|r| {
            if r == "*" {
                "every resource (these actions cannot be scoped to one; the catalog lists no resource type for them)".to_string()
            } else {
                describe(r)
            }
        })
        .collect();
    format!("{} on {}", actions.join(", "), what.join(" and "))
}

/// "every object under my-data/reports/", "table Orders", "function etl-* (names starting with etl-)".
pub fn describe(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (Some(svc), Some(resource)) =
        (parts.get(2).and_then(|s| catalog::service(s)), parts.get(5))
    else {
        return format!("`{arn}`");
    };
    // The most specific resource type the ARN fits.
    let Some(rt) = svc
        .resources
        .iter()
        .filter(|rt| rt.template.matches(arn))
        .max_by_key(|rt| rt.template.literal_len())
    else {
        return format!("`{arn}`");
    };
    let template_resource = rt.arn.splitn(6, ':').nth(5).unwrap_or("");
    let literal = template_resource.split("${").next().unwrap_or("");
    let name = resource.strip_prefix(literal).unwrap_or(resource);
    let kind = rt.name.to_ascii_lowercase();
    let in_region = match parts.get(3) {
        Some(r) if !r.is_empty() && *r != "*" => format!(" in {r}"),
        _ => String::new(),
    };
    if name == "*" {
        return format!("every {kind}{in_region} (new ones it creates)");
    }
    if let Some(stem) = name.strip_suffix("/*") {
        return format!("every {kind} under {stem}/{in_region}");
    }
    if let Some(stem) = name.strip_suffix('*') {
        return format!("every {kind} whose name starts with {stem}{in_region}");
    }
    format!("{kind} {name}{in_region}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_arns() {
        assert_eq!(
            describe("arn:aws:s3:::build-artifacts/releases/*"),
            "every object under build-artifacts/releases/"
        );
        assert_eq!(describe("arn:aws:s3:::team-logs"), "bucket team-logs");
        assert_eq!(
            describe("arn:aws:dynamodb:us-east-1:123456789012:table/orders"),
            "table orders in us-east-1"
        );
    }
}
