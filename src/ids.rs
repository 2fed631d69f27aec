//! Random identifiers for requests, events and lease owners.

const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// `prefix-` then 12 characters of Crockford-style base32 (60 random bits).
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: fall back to time and pid, still unique per process.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ u128::from(std::process::id());
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed >> (i * 8)) as u8;
        }
    }
    let tail: String = bytes
        .iter()
        .map(|b| ALPHABET[(*b % 32) as usize] as char)
        .collect();
    format!("{prefix}-{tail}")
}

/// Request ids double as IAM policy and permission-set names, so keep them to a
/// conservative alphabet.
pub fn is_request_id(id: &str) -> bool {
    id.len() <= 64
        && id.starts_with("jit-")
        && id[4..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && id.len() > 4
}
