//! The globs of a rules file: `*` (any run of characters) and `?` (one character), nothing
//! else. Each kind of field has its own alphabet, checked by `rules check`, and its own
//! matching: emails are matched part by part, so a wildcard never crosses the `@` and
//! `*@example.com` can never match `evil@example.com.attacker.net` nor
//! `evil@attacker.net@example.com`.

use crate::policy::catalog::glob_match;

/// What a glob is written against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `requesters`: emails (`*@example.com`, `*@*.example.com`, `dev-?@example.com`, `*`).
    Email,
    /// `accounts`: 12-digit account ids.
    Account,
    /// `permission_sets`: Identity Center permission set names (at most 32 characters).
    PermissionSet,
    /// `iam_users`, `iam_roles`: IAM names (at most 64 characters).
    IamName,
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

fn iam_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// Why `pattern` is not a usable glob of `kind`, or None when it is.
pub fn problem(kind: Kind, pattern: &str) -> Option<String> {
    if pattern.is_empty() {
        return Some("an empty pattern matches nothing; remove it".into());
    }
    if !pattern.is_ascii() || pattern.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(
            "patterns are plain ASCII without spaces (a look-alike letter would never match)"
                .into(),
        );
    }
    if let Some(c) = pattern.chars().find(|c| "[]{}\\!^|".contains(*c)) {
        return Some(format!(
            "`{c}` is not part of the glob syntax here: only * and ? are wildcards"
        ));
    }
    match kind {
        Kind::Email => email_problem(pattern),
        Kind::Account => {
            if !pattern
                .chars()
                .all(|c| c.is_ascii_digit() || c == '*' || c == '?')
            {
                Some("account ids are 12 digits (with * or ? as wildcards)".into())
            } else if !has_wildcard(pattern) && pattern.len() != 12 {
                Some("an account id has 12 digits".into())
            } else if pattern.len() > 12 {
                Some("longer than any account id: it can never match".into())
            } else {
                None
            }
        }
        Kind::PermissionSet | Kind::IamName => {
            let max = if kind == Kind::PermissionSet { 32 } else { 64 };
            if !pattern.chars().all(|c| iam_char(c) || c == '*' || c == '?') {
                Some("names are letters, digits and _+=,.@- (with * or ? as wildcards)".into())
            } else if pattern.chars().filter(|c| *c != '*').count() > max {
                Some(format!(
                    "longer than the {max} characters a name can have: it can never match"
                ))
            } else {
                None
            }
        }
    }
}

fn email_problem(pattern: &str) -> Option<String> {
    if pattern == "*" {
        return None;
    }
    let Some((local, domain)) = split_email(pattern) else {
        return Some("an email pattern has exactly one @ (or is `*` for anyone)".into());
    };
    if local.is_empty() || domain.is_empty() {
        return Some("an email pattern needs something on both sides of the @".into());
    }
    if local.contains(',') {
        return Some("a comma is not part of an email".into());
    }
    if domain == "*" {
        return None;
    }
    if !domain
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '*')
    {
        return Some(format!(
            "`{domain}` is not a domain (letters, digits, dots, hyphens; `*.` for subdomains)"
        ));
    }
    // A wildcard inside the domain reaches domains the author never meant:
    // `example.com*` is also example.com.attacker.net, `*example.com` is notexample.com.
    let rest = domain.trim_start_matches("*.");
    if rest.contains('*') || rest.is_empty() {
        return Some(format!(
            "`{domain}`: in the domain a wildcard may only stand for whole subdomains, as in \
             `*.example.com` (`example.com*` would also match example.com.attacker.net)"
        ));
    }
    if !rest.contains('.') {
        return Some(format!("`{domain}` is not a domain with a dot"));
    }
    None
}

fn split_email(s: &str) -> Option<(&str, &str)> {
    let (l, d) = s.split_once('@')?;
    if d.contains('@') {
        None
    } else {
        Some((l, d))
    }
}

/// Does `pattern` (a valid glob of `kind`) match `text`? Case-insensitive: emails, IAM
/// names and permission set names are all compared without case by AWS or by aws-jit.
pub fn matches(kind: Kind, pattern: &str, text: &str) -> bool {
    let p = pattern.trim().to_ascii_lowercase();
    let t = text.trim().to_ascii_lowercase();
    match kind {
        Kind::Email => {
            if p == "*" {
                return true;
            }
            match (split_email(&p), split_email(&t)) {
                (Some((pl, pd)), Some((tl, td))) => {
                    !tl.is_empty() && glob_match(pl, tl) && domain_matches(pd, td)
                }
                // An identity with no @ or several never matches an email pattern.
                _ => false,
            }
        }
        _ => glob_match(&p, &t),
    }
}

/// `*` is any domain; `*.example.com` any subdomain of example.com (not example.com
/// itself); anything else exactly.
fn domain_matches(pattern: &str, domain: &str) -> bool {
    if pattern == "*" {
        return !domain.is_empty();
    }
    match pattern.strip_prefix("*.") {
        Some(parent) => domain.strip_suffix(parent).is_some_and(|sub| {
            // One or more whole, non-empty labels before the parent domain.
            sub.strip_suffix('.')
                .is_some_and(|labels| labels.split('.').all(|l| !l.is_empty()))
        }),
        None => !has_wildcard(pattern) && pattern == domain,
    }
}

/// Does `a` match everything `b` matches? Sound, not complete: `true` only when it is
/// sure (used to find rules that can never match).
pub fn covers(kind: Kind, a: &str, b: &str) -> bool {
    let a = a.trim().to_ascii_lowercase();
    let b = b.trim().to_ascii_lowercase();
    if a == b || a == "*" {
        return true;
    }
    match kind {
        Kind::Email => {
            if b == "*" {
                return false;
            }
            let (Some((al, ad)), Some((bl, bd))) = (split_email(&a), split_email(&b)) else {
                return false;
            };
            let local = al == "*" || al == bl || (!has_wildcard(bl) && glob_match(al, bl));
            let domain = ad == "*"
                || ad == bd
                || (!has_wildcard(bd) && domain_matches(ad, bd))
                || (ad.starts_with("*.") && bd.ends_with(&ad[1..]));
            local && domain
        }
        _ => !has_wildcard(&b) && glob_match(&a, &b),
    }
}

/// Does the list `a` (None: anything) match everything the list `b` matches?
pub fn covers_list(kind: Kind, a: Option<&[String]>, b: Option<&[String]>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => b.iter().all(|y| a.iter().any(|x| covers(kind, x, y))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_globs_never_cross_the_at() {
        let m = |p, t| matches(Kind::Email, p, t);
        assert!(m("*@example.com", "dev@example.com"));
        assert!(m("*@example.com", "Dev+Tag@EXAMPLE.com"));
        assert!(!m("*@example.com", "evil@example.com.attacker.net"));
        assert!(!m("*@example.com", "evil@attacker.net@example.com"));
        assert!(!m("*@example.com", "example.com"));
        assert!(!m("*@example.com", "@example.com"));
        assert!(!m("*@example.com", "evil@notexample.com"));
        assert!(m("*@*.example.com", "a@eu.example.com"));
        assert!(!m("*@*.example.com", "a@example.com"));
        assert!(!m("*@*.example.com", "a@evilexample.com"));
        assert!(!m("*@*.example.com", "a@x..example.com"));
        assert!(!m("*@*.example.com", "a@.example.com"));
        assert!(m("*@*.example.com", "a@x.eu.example.com"));
        assert!(m("*", "anyone@anywhere.io"));
        assert!(m("dev-?@example.com", "dev-1@example.com"));
        assert!(!m("dev@example.com", "dev+admin@example.com"));
    }

    #[test]
    fn bad_patterns_are_named() {
        for p in [
            "",
            "*@example.com*",
            "*@*example.com",
            "a@b@example.com",
            "no-at",
            "*@exa mple.com",
            "*@[a-z].com",
            "b\u{43e}ss@example.com",
            "*@*.*",
        ] {
            assert!(problem(Kind::Email, p).is_some(), "{p}");
        }
        for p in [
            "*",
            "*@example.com",
            "*@*.example.com",
            "dev@example.com",
            "*@*",
        ] {
            assert_eq!(problem(Kind::Email, p), None, "{p}");
        }
        assert!(problem(Kind::Account, "12345").is_some());
        assert!(problem(Kind::Account, "1234567890ab").is_some());
        assert_eq!(problem(Kind::Account, "1234*"), None);
        assert!(problem(Kind::PermissionSet, "Admin Access").is_some());
        assert_eq!(problem(Kind::PermissionSet, "Admin*"), None);
    }

    #[test]
    fn coverage_is_sound() {
        assert!(covers(Kind::Email, "*@example.com", "dev@example.com"));
        assert!(covers(Kind::Email, "*@example.com", "dev-*@example.com"));
        assert!(covers(Kind::Email, "*@*.example.com", "*@eu.example.com"));
        assert!(!covers(Kind::Email, "dev-*@example.com", "*@example.com"));
        assert!(!covers(Kind::Email, "*@example.com", "*@*.example.com"));
        assert!(covers(Kind::IamName, "prod-*", "prod-db"));
        assert!(!covers(Kind::IamName, "prod-*", "prod*"));
        assert!(covers_list(Kind::IamName, None, Some(&["x".into()])));
        assert!(!covers_list(Kind::IamName, Some(&["x".into()]), None));
        assert!(covers_list(Kind::IamName, Some(&["x".into()]), Some(&[])));
    }
}
