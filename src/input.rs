//! Reading user-supplied files and standard input: bounded, UTF-8 checked, and refusing
//! anything that is not a regular file, so `/dev/zero` cannot exhaust memory and a FIFO
//! nobody writes to cannot hang the process. Every failure names the field.

use std::io::Read;
use std::path::Path;

use crate::error::JitError;

/// Largest policy file accepted: the biggest policy AWS takes (a permission set's inline
/// policy, 32,768 characters without white space) with generous room for formatting.
pub const MAX_POLICY_BYTES: u64 = 256 * 1024;

/// The text of `path` (`-` = standard input), at most `max` bytes.
pub fn read_text(field: &str, path: &Path, max: u64) -> Result<String, JitError> {
    let shown = path.display().to_string();
    let bytes = if path.as_os_str() == "-" {
        read_bounded(field, "standard input", std::io::stdin().lock(), max)?
    } else {
        // Checked before opening: opening a FIFO blocks until a writer appears.
        let meta = std::fs::metadata(path)
            .map_err(|e| JitError::invalid(field, format!("cannot read {shown}: {e}")))?;
        if !meta.is_file() {
            return Err(JitError::invalid(
                field,
                format!(
                    "{shown} is not a regular file; give a file path or `-` for standard input"
                ),
            ));
        }
        let file = std::fs::File::open(path)
            .map_err(|e| JitError::invalid(field, format!("cannot read {shown}: {e}")))?;
        read_bounded(field, &shown, file, max)?
    };
    String::from_utf8(bytes).map_err(|e| {
        JitError::invalid(
            field,
            format!(
                "{} is not valid UTF-8 (at byte {})",
                if path.as_os_str() == "-" {
                    "standard input"
                } else {
                    shown.as_str()
                },
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn read_bounded(field: &str, what: &str, r: impl Read, max: u64) -> Result<Vec<u8>, JitError> {
    let mut buf = Vec::new();
    r.take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| JitError::invalid(field, format!("cannot read {what}: {e}")))?;
    if buf.len() as u64 > max {
        return Err(JitError::invalid(
            field,
            format!(
                "{what} is larger than {} KiB; a policy is far smaller",
                max / 1024
            ),
        ));
    }
    Ok(buf)
}

/// The most characters of free text (purpose, comment, reason) a record keeps.
pub const MAX_TEXT: usize = 1000;

/// Free text from a flag, trimmed and bounded. `required` is what to tell someone who left
/// it blank; without it, blank text is `None`.
pub fn text_field(
    field: &str,
    value: Option<&str>,
    required: Option<&str>,
) -> Result<Option<String>, JitError> {
    let v = value.map(str::trim).unwrap_or_default();
    if v.is_empty() {
        return match required {
            Some(why) => Err(JitError::invalid(field, why)),
            None => Ok(None),
        };
    }
    if v.chars().count() > MAX_TEXT {
        return Err(JitError::invalid(
            field,
            format!("keep it under {MAX_TEXT} characters"),
        ));
    }
    Ok(Some(v.to_string()))
}

/// [`text_field`] for text that must be given.
pub fn required_text(field: &str, value: &str, why: &str) -> Result<String, JitError> {
    Ok(text_field(field, Some(value), Some(why))?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_typed() {
        let dir = tempfile::tempdir().expect("dir");
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; 2048]).expect("write");
        let err = read_text("--policy-file", &big, 1024).unwrap_err();
        assert!(err.to_string().contains("--policy-file"), "{err}");
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, [b'{', 0xff, b'}']).expect("write");
        let err = read_text("--policy-file", &bad, 1024).unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
        let err = read_text("--policy-file", dir.path(), 1024).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}
