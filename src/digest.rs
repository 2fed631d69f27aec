//! Canonical JSON and its SHA-256: the fingerprint of "the policy that was approved".
//! Keys are sorted explicitly and no white space is emitted, so the hash does not
//! depend on serde_json's map feature flags or on how the document was formatted.

use serde_json::Value;
use sha2::{Digest, Sha256};

pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// HMAC-SHA256 (RFC 2104), hex: signs webhook bodies so receivers can verify them.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    hex::encode(
        Sha256::new()
            .chain_update(pad(0x5c))
            .chain_update(inner)
            .finalize(),
    )
}

pub fn policy_sha256(policy: &Value) -> String {
    sha256_hex(canonical_json(policy).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test cases 1 and 2.
        assert_eq!(
            hmac_sha256_hex(&[0x0b; 20], b"Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn formatting_and_key_order_do_not_change_the_hash() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":[{"y":true,"x":null}]}"#).expect("json");
        let b: Value = serde_json::from_str("{ \"a\" : [ {\"x\":null, \"y\":true} ], \"b\" : 1 }")
            .expect("json");
        assert_eq!(canonical_json(&a), r#"{"a":[{"x":null,"y":true}],"b":1}"#);
        assert_eq!(policy_sha256(&a), policy_sha256(&b));
        let c: Value = serde_json::from_str(r#"{"b":2,"a":[{"y":true,"x":null}]}"#).expect("json");
        assert_ne!(policy_sha256(&a), policy_sha256(&c));
    }
}
