//! Canonical JSON: object keys sorted by their UTF-16 code units (RFC 8785 order), no
//! insignificant whitespace, serde_json's number and string formatting. Used for event bytes and
//! action hashes so that equal values always give equal bytes.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The canonical serialization of a JSON value.
pub fn to_canonical_string(v: &Value) -> String {
    let mut out = Vec::with_capacity(1024);
    write_value(v, &mut out);
    // Only whole UTF-8 strings and ASCII punctuation were written.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// SHA-256 of the canonical serialization, hex encoded.
pub fn canonical_hash(v: &Value) -> String {
    hex::encode(Sha256::digest(to_canonical_string(v).as_bytes()))
}

fn write_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| utf16_order(a.0, b.0));
            out.push(b'{');
            for (i, (k, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(k.as_str(), out);
                out.push(b':');
                write_value(val, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        other => write_scalar(other, out),
    }
}

/// A string, number, boolean or null exactly as serde_json writes it (its escaping and number
/// formatting are deterministic). Writing to a `Vec` cannot fail.
fn write_scalar<T: serde::Serialize + ?Sized>(v: &T, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(&mut *out, v);
}

/// RFC 8785 key order: by UTF-16 code units. For ASCII keys (nearly all) that is byte order.
fn utf16_order(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.as_bytes().cmp(b.as_bytes())
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
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

    #[test]
    fn keys_sort_by_utf16_units_and_strings_escape_like_serde_json() {
        // U+FF5E sorts after U+1F600 in UTF-16 (the surrogate 0xD83D is lower), before it in
        // UTF-8 byte order.
        let v = json!({"\u{ff5e}": 1, "\u{1f600}": 2, "b": 3, "B": 4, "a\u{0}\"\\\n\u{7f}é": 5});
        assert_eq!(
            to_canonical_string(&v),
            "{\"B\":4,\"a\\u0000\\\"\\\\\\n\u{7f}é\":5,\"b\":3,\"\u{1f600}\":2,\"\u{ff5e}\":1}"
        );
        let n = json!([1.5, -0.0, 1e300, null, true, 18446744073709551615u64]);
        assert_eq!(to_canonical_string(&n), n.to_string());
    }
}
