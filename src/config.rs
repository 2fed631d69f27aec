//! Environment -> validated configuration. Names follow the original Kubiya teammate
//! (BACKEND_URL, APPROVAL_LIST, ...) so existing setups keep working.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::error::JitError;
use crate::time::parse_duration;

pub mod installation;

/// Where state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Redis(RedisSettings),
    /// The embedded on-disk store (a SQLite file).
    Local {
        path: PathBuf,
    },
}

/// How to reach Redis.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// A `redis://` or `rediss://` URL (from a bare host: port and db folded in).
    pub url: String,
    /// BACKEND_USER / BACKEND_PASS: used when the URL itself carries no password.
    pub user: Option<String>,
    pub pass: Option<String>,
    /// BACKEND_TLS_CA: a PEM file with the CA(s) to trust instead of the system roots.
    pub tls_ca: Option<PathBuf>,
}

impl RedisSettings {
    pub fn tls(&self) -> bool {
        self.url.starts_with("rediss://")
    }
}

// Never print the password.
impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &redact_url(&self.url))
            .field("user", &self.user)
            .field("pass", &self.pass.as_ref().map(|_| "***"))
            .field("tls_ca", &self.tls_ca)
            .finish()
    }
}

/// Hide the password when a URL is shown.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub backend: Backend,
    pub key_prefix: String,
    pub approvers: Vec<String>,
    pub quorum: usize,
    pub default_ttl: Duration,
    pub max_duration: Duration,
    pub pending_timeout: Duration,
    pub lease: Duration,
    /// JIT_EXPIRE_CONCURRENCY: grants an `expire` (or `reconcile`) run removes at once.
    pub expire_concurrency: usize,
    pub webhook: Option<String>,
    pub webhook_timeout: Duration,
    /// Signs each webhook body (header `X-Aws-Jit-Signature: sha256=<hex HMAC>`).
    pub webhook_secret: Option<String>,
    pub slack_channel: String,
    /// JIT_STATE_KEY: authenticates every stored record and audit entry (see store::seal).
    pub state_key: Option<String>,
    pub allowed_services: Option<Vec<String>>,
    pub caller: Option<String>,
    /// JIT_RULES_FILE or JIT_RULES: the access rules; None: the implicit rule.
    pub rules: Option<RulesSource>,
    /// JIT_REMIND_AFTER: how long a request waits before (and between) reminders.
    pub remind_after: Duration,
    /// JIT_WARN_BEFORE: how long before its end a grant is announced as ending soon.
    pub warn_before: Duration,
}

/// Where the access rules come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesSource {
    /// JIT_RULES_FILE.
    File(PathBuf),
    /// JIT_RULES: the same TOML inline (for Kubiya teammates, where files are awkward).
    Inline(String),
}

fn rules_source() -> Result<Option<RulesSource>, JitError> {
    match (var(&["JIT_RULES_FILE"]), std::env::var("JIT_RULES").ok()) {
        (Some(_), Some(inline)) if !inline.trim().is_empty() => Err(JitError::invalid(
            "JIT_RULES_FILE",
            "JIT_RULES_FILE and JIT_RULES are both set; keep one",
        )),
        (Some(path), _) => Ok(Some(RulesSource::File(PathBuf::from(path)))),
        (None, Some(inline)) if !inline.trim().is_empty() => Ok(Some(RulesSource::Inline(inline))),
        (None, _) => Ok(None),
    }
}

/// Reads one variable; the first of `names` that is set and non-empty wins.
pub fn var(names: &[&str]) -> Option<String> {
    names
        .iter()
        .filter_map(|n| std::env::var(n).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
}

fn duration_var(names: &[&str], default: Duration) -> Result<Duration, JitError> {
    match var(names) {
        Some(v) => parse_duration(names[0], &v),
        None => Ok(default),
    }
}

pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Every variable aws-jit reads. Checked up front so a value that is not UTF-8 is a usage
/// error naming the variable instead of being silently taken as unset.
pub const VARIABLES: &[&str] = &[
    "BACKEND_URL",
    "BACKEND_PORT",
    "BACKEND_PASS",
    "BACKEND_DB",
    "BACKEND_USER",
    "BACKEND_TLS",
    "BACKEND_TLS_CA",
    "JIT_KEY_PREFIX",
    "JIT_STATE_DIR",
    "XDG_STATE_HOME",
    "HOME",
    "APPROVAL_LIST",
    "JIT_APPROVAL_QUORUM",
    "JIT_DEFAULT_TTL",
    "POLICY_TTL",
    "policy_ttl",
    "JIT_MAX_DURATION",
    "MAX_DURATION",
    "max_duration",
    "JIT_PENDING_TIMEOUT",
    "JIT_LEASE",
    "JIT_EXPIRE_CONCURRENCY",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "KUBIYA_JIT_WEBHOOK",
    "JIT_WEBHOOK_TIMEOUT",
    "JIT_WEBHOOK_SECRET",
    "APPROVAL_SLACK_CHANNEL",
    "ALLOWED_SERVICES",
    "allowed_services",
    "KUBIYA_USER_EMAIL",
    "JIT_ACCOUNT_ID",
    "AWS_REGION",
    "JIT_MODEL_URL",
    "JIT_MODEL",
    "HF_TOKEN",
    "JIT_MODEL_TIMEOUT",
    "SSO_INSTANCE_ARN",
    "IDENTITY_STORE_ID",
    "JIT_SSO_POLL_TIMEOUT",
    "JIT_SSO_POLL_INTERVAL",
    "JIT_STATE_KEY",
    "JIT_RULES_FILE",
    "JIT_RULES",
    "JIT_REMIND_AFTER",
    "JIT_WARN_BEFORE",
];

/// JIT_STATE_KEY shorter than this is refused: the MACs are only as strong as the key.
pub const MIN_STATE_KEY_CHARS: usize = 16;

fn state_key() -> Result<Option<String>, JitError> {
    let min = MIN_STATE_KEY_CHARS;
    match var(&["JIT_STATE_KEY"]) {
        Some(k) if k.chars().count() < min => Err(JitError::invalid(
            "JIT_STATE_KEY",
            format!("is shorter than {min} characters; use a long random secret (e.g. openssl rand -hex 32)"),
        )),
        other => Ok(other),
    }
}

fn check_utf8() -> Result<(), JitError> {
    for name in VARIABLES {
        if std::env::var_os(name).is_some_and(|v| v.to_str().is_none()) {
            return Err(JitError::invalid(
                *name,
                "is not valid UTF-8; set it to plain text",
            ));
        }
    }
    Ok(())
}

impl Config {
    pub fn from_env() -> Result<Config, JitError> {
        check_utf8()?;
        let backend = backend_from_env()?;
        let key_prefix = var(&["JIT_KEY_PREFIX"]).unwrap_or_else(|| "aws-jit".into());
        if key_prefix.contains(['{', '}', ' ']) {
            return Err(JitError::invalid(
                "JIT_KEY_PREFIX",
                "must not contain braces or spaces (it becomes a Redis Cluster hash tag)",
            ));
        }
        let quorum = match var(&["JIT_APPROVAL_QUORUM"]) {
            Some(q) => q.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                JitError::invalid(
                    "JIT_APPROVAL_QUORUM",
                    format!("`{q}` is not a whole number of at least 1"),
                )
            })?,
            None => 1,
        };
        let default_ttl = duration_var(
            &["JIT_DEFAULT_TTL", "POLICY_TTL", "policy_ttl"],
            Duration::from_secs(8 * 3600),
        )?;
        let max_duration = duration_var(
            &["JIT_MAX_DURATION", "MAX_DURATION", "max_duration"],
            Duration::from_secs(24 * 3600),
        )?;
        if default_ttl > max_duration {
            return Err(JitError::invalid(
                "JIT_DEFAULT_TTL",
                format!(
                    "the default TTL ({}) is above JIT_MAX_DURATION ({})",
                    crate::time::human(default_ttl),
                    crate::time::human(max_duration)
                ),
            ));
        }
        Ok(Config {
            backend,
            key_prefix,
            approvers: var(&["APPROVAL_LIST"])
                .map(|v| split_list(&v))
                .unwrap_or_default(),
            quorum,
            default_ttl,
            max_duration,
            pending_timeout: duration_var(
                &["JIT_PENDING_TIMEOUT"],
                Duration::from_secs(24 * 3600),
            )?,
            // Short, and renewed by a heartbeat every third of it while the holder works
            // (however long Identity Center takes), so a live holder keeps its claim and
            // a dead one is taken over within a minute.
            lease: duration_var(&["JIT_LEASE"], Duration::from_secs(60))?,
            expire_concurrency: match var(&["JIT_EXPIRE_CONCURRENCY"]) {
                Some(v) => v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or_else(|| {
                        JitError::invalid(
                            "JIT_EXPIRE_CONCURRENCY",
                            format!("`{v}` is not a whole number from 1 to 256"),
                        )
                    })?,
                None => 8,
            },
            webhook: var(&["KUBIYA_JIT_WEBHOOK"]),
            webhook_timeout: duration_var(&["JIT_WEBHOOK_TIMEOUT"], Duration::from_secs(5))?,
            webhook_secret: var(&["JIT_WEBHOOK_SECRET"]),
            slack_channel: var(&["APPROVAL_SLACK_CHANNEL"]).unwrap_or_default(),
            state_key: state_key()?,
            allowed_services: var(&["ALLOWED_SERVICES", "allowed_services"])
                .map(|v| split_list(&v)),
            caller: var(&["KUBIYA_USER_EMAIL"]),
            rules: rules_source()?,
            remind_after: duration_var(&["JIT_REMIND_AFTER"], Duration::from_secs(30 * 60))?,
            warn_before: duration_var(&["JIT_WARN_BEFORE"], Duration::from_secs(15 * 60))?,
        })
    }

    /// The acting person: an explicit flag, else KUBIYA_USER_EMAIL.
    pub fn caller(&self, flag: Option<&str>, flag_name: &str) -> Result<String, JitError> {
        let who = flag
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| self.caller.clone())
            .ok_or_else(|| {
                JitError::invalid(
                    flag_name,
                    format!("who is acting? pass {flag_name} EMAIL or set KUBIYA_USER_EMAIL"),
                )
            })?;
        check_email(flag_name, &who)?;
        Ok(who)
    }
}

pub fn check_email(field: &str, who: &str) -> Result<(), JitError> {
    // Identities decide who may approve: only plain ASCII, so a look-alike letter (a
    // Cyrillic "о" in "bоss@") can never pass for someone on the list, nor hide someone.
    if !who.is_ascii() {
        return Err(JitError::invalid(
            field,
            format!(
                "`{}` has characters outside ASCII; identities must be plain ASCII emails",
                crate::text::safe(who)
            ),
        ));
    }
    let ok = who.len() <= 254
        && who
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !who
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',');
    if ok {
        Ok(())
    } else {
        Err(JitError::invalid(
            field,
            format!("`{who}` is not an email address"),
        ))
    }
}

fn backend_from_env() -> Result<Backend, JitError> {
    // Set but empty is a mistake (a secret that failed to expand in cron), never a request
    // for the embedded store: that would silently expire nothing, forever.
    if std::env::var_os("BACKEND_URL").is_some_and(|v| v.to_string_lossy().trim().is_empty()) {
        return Err(JitError::invalid(
            "BACKEND_URL",
            "is set but empty; give a redis:// URL or host, or unset it for the embedded store",
        ));
    }
    let Some(url) = var(&["BACKEND_URL"]) else {
        let path = match var(&["JIT_STATE_DIR"]) {
            Some(dir) => PathBuf::from(dir),
            None => match var(&["XDG_STATE_HOME"]) {
                Some(x) => PathBuf::from(x).join("aws-jit"),
                None => match var(&["HOME"]) {
                    Some(h) => PathBuf::from(h).join(".local/state/aws-jit"),
                    None => {
                        return Err(JitError::invalid(
                            "JIT_STATE_DIR",
                            "no BACKEND_URL, JIT_STATE_DIR, XDG_STATE_HOME or HOME: set one so the store has a home",
                        ))
                    }
                },
            },
        };
        return Ok(Backend::Local {
            path: path.join("aws-jit.sqlite3"),
        });
    };
    let tls = match var(&["BACKEND_TLS"]).map(|v| v.to_ascii_lowercase()) {
        None => false,
        Some(v) if ["1", "true", "yes"].contains(&v.as_str()) => true,
        Some(v) if ["0", "false", "no"].contains(&v.as_str()) => false,
        Some(v) => {
            return Err(JitError::invalid(
                "BACKEND_TLS",
                format!("`{v}` is not true or false"),
            ))
        }
    };
    let url = redis_url(
        &url,
        var(&["BACKEND_PORT"]).as_deref(),
        var(&["BACKEND_DB"]).as_deref(),
        tls,
    )?;
    let tls_ca = var(&["BACKEND_TLS_CA"]).map(PathBuf::from);
    if tls_ca.is_some() && !url.starts_with("rediss://") {
        return Err(JitError::invalid(
            "BACKEND_TLS_CA",
            "is set but the connection to Redis is not TLS: use a rediss:// BACKEND_URL, or BACKEND_TLS=true with a bare host",
        ));
    }
    Ok(Backend::Redis(RedisSettings {
        url,
        user: var(&["BACKEND_USER"]),
        pass: var(&["BACKEND_PASS"]),
        tls_ca,
    }))
}

/// BACKEND_URL is either a full URL or, as the original teammate configured it, a bare
/// host that BACKEND_PORT and BACKEND_DB complete (BACKEND_TLS=true makes it `rediss://`).
/// The password is applied when connecting, never folded into the URL.
pub fn redis_url(
    url: &str,
    port: Option<&str>,
    db: Option<&str>,
    tls: bool,
) -> Result<String, JitError> {
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        if tls && url.starts_with("redis://") {
            return Err(JitError::invalid(
                "BACKEND_TLS",
                "is true but BACKEND_URL is a plain redis:// URL; write rediss:// instead",
            ));
        }
        return Ok(url.to_string());
    }
    if url.contains("://") {
        return Err(JitError::invalid(
            "BACKEND_URL",
            format!(
                "`{}` has an unsupported scheme; use redis://, rediss:// or a bare host name",
                redact_url(url)
            ),
        ));
    }
    if url.is_empty() || url.contains(['/', '@', ' ']) {
        return Err(JitError::invalid(
            "BACKEND_URL",
            format!("`{url}` is not a host name"),
        ));
    }
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| {
            JitError::invalid("BACKEND_PORT", format!("`{p}` is not a port number"))
        })?,
        None => 6379,
    };
    let db = match db {
        Some(d) => d.parse::<u32>().map_err(|_| {
            JitError::invalid("BACKEND_DB", format!("`{d}` is not a database number"))
        })?,
        None => 0,
    };
    let scheme = if tls { "rediss" } else { "redis" };
    Ok(format!("{scheme}://{url}:{port}/{db}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_host_is_completed_from_parts() {
        assert_eq!(
            redis_url("redis.internal", Some("6380"), Some("2"), false).ok(),
            Some("redis://redis.internal:6380/2".to_string())
        );
        assert_eq!(
            redis_url("h", None, None, false).ok(),
            Some("redis://h:6379/0".to_string())
        );
        assert_eq!(
            redis_url("h", None, None, true).ok(),
            Some("rediss://h:6379/0".to_string())
        );
        assert_eq!(
            redis_url("rediss://x:1/0", Some("9"), None, false).ok(),
            Some("rediss://x:1/0".to_string())
        );
        assert!(redis_url("redis://x:1/0", None, None, true).is_err());
        assert!(redis_url("http://x", None, None, false).is_err());
        assert!(redis_url("h", Some("nope"), None, false).is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("redis://:secret@h:6379/0"),
            "redis://***@h:6379/0"
        );
        assert_eq!(redact_url("redis://h:6379"), "redis://h:6379");
        let s = RedisSettings {
            url: "rediss://u:pw@h:1/0".into(),
            user: None,
            pass: Some("hunter2".into()),
            tls_ca: None,
        };
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("pw@"),
            "{shown}"
        );
    }

    #[test]
    fn emails() {
        assert!(check_email("--by", "a@b.io").is_ok());
        assert!(check_email("--by", "a@b").is_err());
        assert!(check_email("--by", "a b@c.io").is_err());
    }
}
