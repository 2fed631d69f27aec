//! Names and markers of what aws-jit creates in Identity Center, and the session length.

use std::time::Duration;

use crate::request::Request;

pub const TAG_REQUEST: &str = "aws-jit:request-id";
/// Identity Center caps permission set names at 32 characters.
pub const MAX_PERMISSION_SET_NAME: usize = 32;
/// Identity Center session durations run from 1 to 12 hours.
pub const MIN_SESSION: Duration = Duration::from_secs(3600);
pub const MAX_SESSION: Duration = Duration::from_secs(12 * 3600);

/// The ephemeral permission set name: the request's policy name when it fits Identity
/// Center's 32 characters, else the request id (`jit-` + 12 characters).
pub fn permission_set_name(r: &Request) -> String {
    let ok = |n: &str| {
        !n.is_empty()
            && n.len() <= MAX_PERMISSION_SET_NAME
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    };
    if ok(&r.policy_name) {
        r.policy_name.clone()
    } else if ok(&r.id) {
        r.id.clone()
    } else {
        r.id.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(MAX_PERMISSION_SET_NAME)
            .collect()
    }
}

/// ISO-8601 session duration: the TTL rounded down to whole minutes, within AWS's 1h..12h.
/// A TTL under one hour still gets PT1H, the shortest session Identity Center allows.
pub fn session_duration(ttl: Duration) -> String {
    let d = ttl.clamp(MIN_SESSION, MAX_SESSION);
    let mins = d.as_secs() / 60;
    let (h, m) = (mins / 60, mins % 60);
    if m == 0 {
        format!("PT{h}H")
    } else {
        format!("PT{h}H{m}M")
    }
}

/// The marker that says a permission set belongs to this request of this installation:
/// `aws-jit <id> installation=<name> for <requester> in account <N> until <T>`. The
/// installation comes right after the id, before anything a requester chose, so nothing
/// else can forge it. The account rides along (`in account N`) so `reconcile` finds an
/// orphan's assignments even where listing the accounts a permission set is provisioned
/// to falls short.
pub fn description_for(r: &Request, installation: &str) -> String {
    let account = match &r.target {
        crate::request::Target::Sso { account_id, .. } => format!(" in account {account_id}"),
        _ => String::new(),
    };
    let text = format!(
        "aws-jit {} installation={installation} for {}{account} until {}",
        r.id,
        r.requester,
        r.expires_at.map(|t| t.to_string()).unwrap_or_default()
    );
    text.chars()
        .filter(|c| (' '..='~').contains(c))
        .take(700)
        .collect()
}

/// The account named in an aws-jit description, if any.
pub fn account_in(description: &str) -> Option<String> {
    let rest = description.split(" in account ").nth(1)?;
    let acct: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    (acct.len() == 12).then_some(acct)
}

/// The installation an aws-jit description names (`None`: written before installations
/// were marked, or not aws-jit's). Exactly as written: no trimming, no case folding.
pub fn installation_in(description: &str) -> Option<&str> {
    let rest = description.strip_prefix("aws-jit ")?;
    let mut words = rest.split(' ');
    words.next()?;
    words.next()?.strip_prefix("installation=")
}

/// Whether the description marks the permission set as request `id`'s and this
/// installation's (or, `legacy_ok`, written before installations were marked).
pub fn owned_here(
    description: Option<&str>,
    id: &str,
    installation: &str,
    legacy_ok: bool,
) -> bool {
    owned_by(description, id)
        && match description.and_then(installation_in) {
            Some(i) => i == installation,
            None => legacy_ok,
        }
}

pub fn owned_by(description: Option<&str>, id: &str) -> bool {
    description
        .is_some_and(|d| d == format!("aws-jit {id}") || d.starts_with(&format!("aws-jit {id} ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_duration_is_ttl_within_aws_bounds() {
        assert_eq!(session_duration(Duration::from_secs(2 * 3600)), "PT2H");
        assert_eq!(
            session_duration(Duration::from_secs(90 * 60 + 30)),
            "PT1H30M"
        );
        assert_eq!(session_duration(Duration::from_secs(600)), "PT1H");
        assert_eq!(session_duration(Duration::from_secs(24 * 3600)), "PT12H");
    }

    #[test]
    fn ownership_marker_is_exact() {
        assert!(owned_by(Some("aws-jit jit-abc for x until y"), "jit-abc"));
        assert!(!owned_by(Some("aws-jit jit-abcd for x"), "jit-abc"));
        assert!(!owned_by(None, "jit-abc"));
        assert_eq!(
            account_in("aws-jit jit-abc for a@b.c in account 111122223333 until x"),
            Some("111122223333".into())
        );
        assert_eq!(account_in("aws-jit jit-abc for a@b.c until x"), None);
    }

    #[test]
    fn installation_marker_is_exact_and_unforgeable() {
        let d = "aws-jit jit-abc installation=prod for a@b.c in account 111122223333 until x";
        assert_eq!(installation_in(d), Some("prod"));
        assert!(owned_here(Some(d), "jit-abc", "prod", false));
        assert!(!owned_here(Some(d), "jit-abc", "Prod", true));
        assert!(!owned_here(Some(d), "jit-abd", "prod", true));
        // Written before installations were marked: a requester's words never count.
        let old = "aws-jit jit-abc for x installation=prod until y";
        assert_eq!(installation_in(old), None);
        assert!(!owned_here(Some(old), "jit-abc", "prod", false));
        assert!(owned_here(Some(old), "jit-abc", "prod", true));
        assert_eq!(
            installation_in("aws-jit jit-abc installation=prod  for"),
            Some("prod")
        );
        assert_eq!(
            installation_in("aws-jit jit-abc installation=prod\tx"),
            Some("prod\tx")
        );
    }
}
