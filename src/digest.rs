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

pub fn policy_sha256(policy: &Value) -> String {
    sha256_hex(canonical_json(policy).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

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
