//! Field access on a JSON payload with the error style ward uses.

use serde_json::{Map, Value};
use ward_core::{ErrorCode, WardError};

pub(crate) type Obj = Map<String, Value>;

pub(crate) fn invalid(message: impl Into<String>) -> WardError {
    WardError::new(ErrorCode::PayloadInvalid, message)
}

pub(crate) fn missing(field: &str) -> WardError {
    invalid(format!("missing `{field}`"))
}

pub(crate) fn wrong_type(field: &str, want: &str) -> WardError {
    invalid(format!("`{field}` must be {want}"))
}

/// The first of `keys` present with a non-null value, and its key.
pub(crate) fn get<'a>(obj: &'a Obj, keys: &[&'static str]) -> Option<(&'static str, &'a Value)> {
    keys.iter()
        .find_map(|k| obj.get(*k).filter(|v| !v.is_null()).map(|v| (*k, v)))
}

/// The first of `keys` present as a string; a present value of another type is an error.
/// `prefix` names the enclosing object in messages (`tool_input.`), or is empty.
pub(crate) fn opt_str<'a>(
    obj: &'a Obj,
    keys: &[&'static str],
    prefix: &str,
) -> Result<Option<&'a str>, WardError> {
    match get(obj, keys) {
        None => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s)),
        Some((k, _)) => Err(wrong_type(&format!("{prefix}{k}"), "a string")),
    }
}

/// Like [`opt_str`], but absence is an error naming the first key.
pub(crate) fn req_str<'a>(
    obj: &'a Obj,
    keys: &[&'static str],
    prefix: &str,
) -> Result<&'a str, WardError> {
    match opt_str(obj, keys, prefix)? {
        Some(s) => Ok(s),
        None => Err(missing(&format!(
            "{prefix}{}",
            keys.first().copied().unwrap_or("")
        ))),
    }
}

/// The first of `keys` as a string, ignoring values of other types (for optional facts).
pub(crate) fn lenient_str<'a>(obj: &'a Obj, keys: &[&'static str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))
}

/// A tool input sent as a JSON string (Cursor's `tool_input`, the Copilot coding agent's
/// `toolArgs`) decoded to the object or array it holds; any other value is kept as it is.
pub(crate) fn decode_embedded(v: &Value) -> Value {
    if let Value::String(s) = v
        && s.trim_start().starts_with(['{', '['])
        && let Ok(decoded) = serde_json::from_str::<Value>(s)
        && (decoded.is_object() || decoded.is_array())
    {
        return decoded;
    }
    v.clone()
}

/// Cut `s` to at most `max` characters, marking a cut with `…`.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
            let mut out = String::with_capacity(end + 3);
            out.push_str(&s[..end]);
            out.push('…');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate_chars("abc", 3), "abc");
        assert_eq!(truncate_chars("abcd", 3), "ab…");
        assert_eq!(truncate_chars("ééééé", 4), "ééé…");
        assert_eq!(truncate_chars("", 3), "");
    }

    #[test]
    fn embedded_json_is_decoded_only_to_containers() {
        assert_eq!(
            decode_embedded(&Value::String(r#"{"a":1}"#.into())),
            serde_json::json!({"a": 1})
        );
        assert_eq!(
            decode_embedded(&Value::String("ls -la".into())),
            Value::String("ls -la".into())
        );
        assert_eq!(
            decode_embedded(&Value::String("{not json".into())),
            Value::String("{not json".into())
        );
    }
}
