//! Canonical JSON: object keys sorted by their UTF-16 code units (RFC 8785 order), no
//! insignificant whitespace, serde_json's number and string formatting. Used for event bytes and
//! action hashes so that equal values always give equal bytes.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The canonical serialization of a JSON value.
pub fn to_canonical_string(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(v, &mut out);
    out
}

/// SHA-256 of the canonical serialization, hex encoded.
pub fn canonical_hash(v: &Value) -> String {
    hex::encode(Sha256::digest(to_canonical_string(v).as_bytes()))
}

fn write_value(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                if let Some(val) = map.get(k.as_str()) {
                    write_value(val, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(s: &str, out: &mut String) {
    // serde_json's string escaping is deterministic; reuse it.
    out.push_str(&Value::String(s.to_string()).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_recursively_and_whitespace_dropped() {
        let v = json!({"b": 1, "a": {"z": [1, {"y": 2, "x": 3}], "c": "é\n"}});
        assert_eq!(
            to_canonical_string(&v),
            r#"{"a":{"c":"é\n","z":[1,{"x":3,"y":2}]},"b":1}"#
        );
    }

    #[test]
    fn equal_values_hash_equal_regardless_of_insertion_order() {
        let a: Value = serde_json::from_str(r#"{"x":1,"y":[true,null]}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{ "y" : [true, null], "x" : 1 }"#).unwrap();
        assert_eq!(canonical_hash(&a), canonical_hash(&b));
        let c: Value = serde_json::from_str(r#"{"x":2,"y":[true,null]}"#).unwrap();
        assert_ne!(canonical_hash(&a), canonical_hash(&c));
    }
}
