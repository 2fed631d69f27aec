//! Wall-clock instants as whole Unix seconds, serialised as RFC 3339 so stored records
//! and `--output json` read the same to people and machines.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

/// 9999-12-31T23:59:59Z, the last instant RFC 3339 can write. Arithmetic saturates here,
/// so no computed instant can fail to serialise.
pub const LAST: Timestamp = Timestamp(253_402_300_799);

/// The longest duration any setting or flag accepts. Far beyond any sensible grant, and
/// small enough that now + it stays a writable instant. (100 years as humantime counts
/// them: 365.25 days each.)
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 31_557_600);

impl Timestamp {
    pub fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Timestamp(secs)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let t = humantime::parse_rfc3339_weak(text.trim()).map_err(|e| {
            format!("`{text}` is not an RFC 3339 instant ({e}); write it like 2026-11-25T14:30:00Z")
        })?;
        let secs = t
            .duration_since(UNIX_EPOCH)
            .map_err(|_| format!("`{text}` is before 1970"))?
            .as_secs();
        Ok(Timestamp(secs))
    }

    pub fn plus(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(d.as_secs()).min(LAST.0))
    }

    pub fn minus(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_sub(d.as_secs()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Clamped: humantime panics past year 9999.
        let t = UNIX_EPOCH + Duration::from_secs(self.0.min(LAST.0));
        write!(f, "{}", humantime::format_rfc3339_seconds(t))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Durations in records and output: whole seconds plus a human form.
pub fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

pub fn parse_duration(field: &str, text: &str) -> Result<Duration, crate::error::JitError> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| {
        crate::error::JitError::invalid(
            field,
            format!("`{text}` is not a duration ({e}); use forms like 90s, 30m, 2h, 1d"),
        )
    })?;
    if d.as_secs() == 0 {
        return Err(crate::error::JitError::invalid(
            field,
            "must be at least one second",
        ));
    }
    if d > MAX_DURATION {
        return Err(crate::error::JitError::invalid(
            field,
            format!("`{text}` is too long; at most {}", human(MAX_DURATION)),
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = Timestamp::parse("2026-11-25T14:30:00Z").expect("valid instant");
        assert_eq!(t.to_string(), "2026-11-25T14:30:00Z");
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("--ttl", "2h").ok(),
            Some(Duration::from_secs(7200))
        );
        assert!(parse_duration("--ttl", "0s").is_err());
        assert!(parse_duration("--ttl", "soon").is_err());
        assert!(parse_duration("--ttl", "10000y").is_err());
        assert!(parse_duration("--ttl", "100000000000000000000000s").is_err());
    }

    #[test]
    fn arithmetic_never_leaves_what_rfc3339_can_write() {
        let far = Timestamp::now().plus(Duration::from_secs(u64::MAX));
        assert_eq!(far, LAST);
        assert_eq!(far.to_string(), "9999-12-31T23:59:59Z");
        assert_eq!(Timestamp(u64::MAX).to_string(), "9999-12-31T23:59:59Z");
    }
}
