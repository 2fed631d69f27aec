//! Which installation of aws-jit this is. Two installations (another JIT_KEY_PREFIX, another
//! Redis, an embedded store elsewhere) may share one AWS account: each tags what it creates
//! with its own name (`aws-jit:installation`) and removes only what carries that name.
//!
//! The name is JIT_INSTALLATION when set, else a digest of where the store lives: the
//! Redis server (host, port, database) and key prefix, or the embedded store's canonical
//! path and the key prefix. Moving the store therefore changes the name; set
//! JIT_INSTALLATION to keep one across such a move.

use super::{Backend, Config};
use crate::error::JitError;

/// The longest JIT_INSTALLATION accepted.
pub const MAX_LEN: usize = 64;

/// JIT_INSTALLATION: 1 to 64 ASCII letters, digits, `_`, `.` or `-`. Nothing is trimmed
/// or folded: a look-alike (another case, a trailing space) is another installation.
pub fn validate(v: &str) -> Result<String, JitError> {
    let ok = !v.is_empty()
        && v.len() <= MAX_LEN
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(v.to_string())
    } else {
        Err(JitError::invalid(
            "JIT_INSTALLATION",
            format!(
                "`{}` is not an installation name: use 1 to {MAX_LEN} ASCII letters, digits, `_`, `.` or `-`",
                crate::text::safe(v)
            ),
        ))
    }
}

impl Config {
    /// This installation's name (see the module documentation). Call it once the store is
    /// open: an embedded store's path is canonical only when it exists.
    pub fn installation(&self) -> Result<String, JitError> {
        // Read raw (not trimmed): a value with spaces is refused, not silently mended.
        if let Ok(v) = std::env::var("JIT_INSTALLATION") {
            if !v.is_empty() {
                return validate(&v);
            }
        }
        let place = match &self.backend {
            Backend::Redis(s) => format!("redis\n{}", redis_place(&s.url)),
            Backend::Local { path } => {
                let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                format!("local\n{}", canonical.display())
            }
        };
        let digest = crate::digest::sha256_hex(format!("{place}\n{}", self.key_prefix).as_bytes());
        Ok(format!("h-{}", &digest[..16]))
    }
}

/// `host:port/db` of a Redis URL: no scheme (TLS or not, it is one server), no
/// credentials, no query; the default port and database filled in.
fn redis_place(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (hostport, db) = rest.split_once('/').unwrap_or((rest, ""));
    let db = match db.trim_matches('/') {
        "" => "0",
        d => d,
    };
    let hostport = hostport.to_ascii_lowercase();
    // `[::1]:6380`, `host:6380`, `host`.
    let has_port = match hostport.rfind(']') {
        Some(close) => hostport[close..].contains(':'),
        None => hostport.contains(':'),
    };
    let port = if has_port { "" } else { ":6379" };
    format!("{hostport}{port}/{db}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_plain_ascii() {
        assert_eq!(validate("prod-eu.1_a").ok(), Some("prod-eu.1_a".into()));
        for bad in ["", "prod ", " prod", "prød", "a/b", "a,b", &"x".repeat(65)] {
            assert!(validate(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn redis_place_ignores_credentials_scheme_and_defaults() {
        assert_eq!(redis_place("redis://h:6379/0"), "h:6379/0");
        assert_eq!(redis_place("rediss://u:p@H/"), "h:6379/0");
        assert_eq!(redis_place("redis://:secret@h:7000/3?x=1"), "h:7000/3");
        assert_eq!(redis_place("redis://[::1]/2"), "[::1]:6379/2");
        assert_eq!(redis_place("redis://[::1]:7000"), "[::1]:7000/0");
    }
}
