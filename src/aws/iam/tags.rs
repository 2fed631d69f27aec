//! Tag values on the IAM policies aws-jit creates. IAM tag values allow letters, digits,
//! spaces and `_.:/=+-@`; IAM names also allow `,`. So a value is written reversibly: every
//! other character (`,`, `:` itself, anything outside ASCII) becomes `:XX` per UTF-8 byte.
//! IAM names never contain `:`, so tags written before this encoding (where `,` became
//! `_`) decode to themselves.

use aws_sdk_iam::types::Tag;

use crate::aws::GrantError;

pub(super) fn tag(k: &str, v: &str) -> Result<Tag, GrantError> {
    Tag::builder()
        .key(k)
        .value(v)
        .build()
        .map_err(|e| GrantError::refused(format!("tag {k}: {e}")))
}

fn verbatim(c: char) -> bool {
    c.is_ascii_alphanumeric() || " _./=+-@".contains(c)
}

/// A value as written to a tag: at most 256 characters (IAM's limit), cut before an
/// escape rather than inside one.
pub(super) fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        let piece = if verbatim(c) {
            c.to_string()
        } else {
            let mut buf = [0u8; 4];
            c.encode_utf8(&mut buf)
                .bytes()
                .map(|b| format!(":{b:02X}"))
                .collect()
        };
        if out.len() + piece.len() > 256 {
            break;
        }
        out.push_str(&piece);
    }
    out
}

/// A tag value as written by [`encode`], decoded. Anything that is not an escape stays.
pub(super) fn decode(v: &str) -> String {
    unescape(v, b':')
}

/// A policy document as IAM returns it (URL-encoded), decoded.
pub(super) fn percent_decode(s: &str) -> String {
    unescape(s, b'%')
}

/// `marker` followed by two hex digits is that byte; anything else stays as it is.
fn unescape(s: &str, marker: u8) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == marker && i + 3 <= bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether two principals (`user/NAME`, `role/NAME`) are one: IAM names are unique
/// without regard to case, so `user/Alice` and `user/alice` are the same user.
pub fn same_principal(a: &str, b: &str) -> bool {
    match (a.split_once('/'), b.split_once('/')) {
        (Some((ka, na)), Some((kb, nb))) => ka == kb && na.eq_ignore_ascii_case(nb),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_names_round_trip_through_tags() {
        for name in [
            "user/svc,ops",
            "role/a+b=c,d.e@f-g_h",
            "user/plain",
            "user/x:y,",
            "user/ünï",
        ] {
            let t = encode(name);
            assert!(
                t.chars().all(|c| verbatim(c) || c == ':'),
                "{t} has a character tags refuse"
            );
            assert_eq!(decode(&t), name);
        }
        assert_eq!(encode("user/svc,ops"), "user/svc:2Cops");
        // Written before the encoding: read as it is.
        assert_eq!(decode("user/svc_ops"), "user/svc_ops");
        assert!(encode(&",".repeat(200)).len() <= 256);
        assert_eq!(encode(&",".repeat(200)).len() % 3, 0);
    }

    #[test]
    fn principals_compare_without_case() {
        assert!(same_principal("user/Alice", "user/alice"));
        assert!(same_principal("user/A,B", "user/a,b"));
        assert!(!same_principal("role/alice", "user/alice"));
        assert!(!same_principal("user/alice", "user/alice2"));
        assert!(!same_principal("user/a,b", "user/a_b"));
    }
}
