//! Post-tool effects: what the client says happened.

use crate::json::{Obj, truncate_chars};
use serde_json::Value;
use ward_core::Effect;

/// Error texts kept in an effect are cut to this many characters.
const MAX_ERROR_CHARS: usize = 1000;

fn bytes(v: &Value) -> u64 {
    match v {
        Value::Null => 0,
        Value::String(s) => s.len() as u64,
        other => other.to_string().len() as u64,
    }
}

fn error_text(v: &Value) -> Option<String> {
    let text = match v {
        Value::Null | Value::Bool(false) => return None,
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| v.to_string(), str::to_string),
        other => other.to_string(),
    };
    if text.trim().is_empty() {
        return None;
    }
    Some(truncate_chars(&text, MAX_ERROR_CHARS))
}

/// The integer after `needle` in `text` (its first or last occurrence), skipping `:` and spaces.
fn code_after(text: &str, needle: &str, last: bool) -> Option<i64> {
    let at = if last {
        text.rfind(needle)
    } else {
        text.find(needle)
    }?;
    let rest = text[at + needle.len()..].trim_start_matches([' ', ':']);
    let end = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].parse().ok()
}

fn int_field(o: &Obj, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|k| o.get(*k).and_then(Value::as_i64))
}

fn with_exit_code(mut effect: Effect, code: Option<i64>) -> Effect {
    if let Some(c) = code {
        effect.exit_code = Some(c);
        if c != 0 {
            effect.success = false;
        }
    }
    effect
}

/// A Claude/Codex/Gemini `tool_response`: an object (Claude: `stdout`, `stderr`,
/// `interrupted`; Gemini: `llmContent`, `returnDisplay`, `error`) or a plain string (Codex).
pub(crate) fn from_tool_response(resp: Option<&Value>) -> Effect {
    let ok = Effect {
        success: true,
        ..Effect::default()
    };
    match resp {
        None | Some(Value::Null) => ok,
        Some(Value::String(s)) => {
            let effect = Effect {
                output_bytes: s.len() as u64,
                ..ok
            };
            // Codex wraps shell output as "… Process exited with code N …".
            with_exit_code(effect, code_after(s, "exited with code", false))
        }
        Some(Value::Object(o)) => {
            let mut effect = ok;
            effect.output_bytes = match (o.get("stdout"), o.get("stderr")) {
                (None, None) => ["llmContent", "output", "content", "result"]
                    .iter()
                    .find_map(|k| o.get(*k))
                    .map_or_else(|| bytes(&Value::Object(o.clone())), bytes),
                (out, err) => out.map_or(0, bytes) + err.map_or(0, bytes),
            };
            if o.get("interrupted").and_then(Value::as_bool) == Some(true) {
                effect.success = false;
                effect.error = Some("interrupted".to_string());
            }
            if ["is_error", "isError"]
                .iter()
                .any(|k| o.get(*k).and_then(Value::as_bool) == Some(true))
            {
                effect.success = false;
            }
            if o.get("success").and_then(Value::as_bool) == Some(false) {
                effect.success = false;
            }
            if let Some(err) = o.get("error").and_then(error_text) {
                effect.success = false;
                effect.error = Some(err);
            }
            let code = int_field(o, &["exit_code", "exitCode", "returnCode", "return_code"])
                .or_else(|| {
                    // Gemini's shell tool reports "Exit Code: N" in its text (only when non-zero).
                    o.get("llmContent")
                        .and_then(Value::as_str)
                        .and_then(|t| code_after(t, "Exit Code:", true))
                });
            with_exit_code(effect, code)
        }
        Some(other) => Effect {
            output_bytes: bytes(other),
            ..ok
        },
    }
}

/// A failure event (`PostToolUseFailure`): the tool did not succeed.
pub(crate) fn failure(error: Option<&Value>) -> Effect {
    Effect {
        success: false,
        exit_code: None,
        error: Some(
            error
                .and_then(error_text)
                .unwrap_or_else(|| "tool failed".to_string()),
        ),
        output_bytes: 0,
    }
}

/// Copilot's `toolResult` / `tool_result`: `resultType` (`success`, `failure`, `denied`,
/// `error`) and `textResultForLlm`.
pub(crate) fn from_copilot_result(result: &Value) -> Effect {
    let o = match result {
        Value::Object(o) => o,
        other => return from_tool_response(Some(other)),
    };
    let result_type = ["resultType", "result_type"]
        .iter()
        .find_map(|k| o.get(*k).and_then(Value::as_str))
        .unwrap_or("success");
    let text = ["textResultForLlm", "text_result_for_llm"]
        .iter()
        .find_map(|k| o.get(*k).and_then(Value::as_str))
        .unwrap_or("");
    let success = result_type == "success";
    let effect = Effect {
        success,
        exit_code: None,
        error: if success {
            None
        } else {
            Some(
                error_text(&Value::String(text.to_string()))
                    .unwrap_or_else(|| result_type.to_string()),
            )
        },
        output_bytes: text.len() as u64,
    };
    // "<shellId: 0 completed with exit code N>" ends a Copilot shell result.
    with_exit_code(effect, code_after(text, "exit code", true))
}

/// Cursor's `afterShellExecution` (`output`, optional exit code).
pub(crate) fn from_cursor_shell(payload: &Obj) -> Effect {
    let output = payload.get("output").map_or(0, bytes);
    let effect = Effect {
        success: true,
        exit_code: None,
        error: None,
        output_bytes: output,
    };
    with_exit_code(effect, int_field(payload, &["exit_code", "exitCode"]))
}

/// Cursor's `afterMCPExecution` (`result_json`, a JSON string of the MCP result).
pub(crate) fn from_cursor_mcp(payload: &Obj) -> Effect {
    let result = payload.get("result_json");
    let decoded = result.map(crate::json::decode_embedded);
    let is_error = decoded
        .as_ref()
        .and_then(|v| v.get("isError"))
        .and_then(Value::as_bool)
        == Some(true);
    Effect {
        success: !is_error,
        exit_code: None,
        error: is_error.then(|| "the MCP tool returned an error".to_string()),
        output_bytes: result.map_or(0, bytes),
    }
}

/// Cursor's `postToolUse` (`tool_output`) and `postToolUseFailure` (`error_message`).
pub(crate) fn from_cursor_tool(payload: &Obj) -> Effect {
    if let Some(err) = payload.get("error_message").and_then(error_text) {
        return Effect {
            success: false,
            exit_code: None,
            error: Some(err),
            output_bytes: 0,
        };
    }
    Effect {
        success: true,
        exit_code: None,
        error: None,
        output_bytes: payload.get("tool_output").map_or(0, bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exit_codes_are_read_from_wrapper_text() {
        assert_eq!(
            code_after(
                "Process exited with code 3\nOutput:",
                "exited with code",
                false
            ),
            Some(3)
        );
        assert_eq!(
            code_after("x\nExit Code: -1\n", "Exit Code:", true),
            Some(-1)
        );
        assert_eq!(code_after("exit code", "exit code", true), None);
    }

    #[test]
    fn claude_bash_response() {
        let e = from_tool_response(Some(
            &json!({"stdout": "abc", "stderr": "de", "interrupted": false}),
        ));
        assert!(e.success);
        assert_eq!(e.output_bytes, 5);
        let e = from_tool_response(Some(
            &json!({"stdout": "", "stderr": "", "interrupted": true}),
        ));
        assert!(!e.success);
    }

    #[test]
    fn codex_string_response() {
        let e = from_tool_response(Some(&json!(
            "Chunk ID: 1\nProcess exited with code 2\nOutput:\nboom"
        )));
        assert!(!e.success);
        assert_eq!(e.exit_code, Some(2));
    }

    #[test]
    fn gemini_error_response() {
        let e = from_tool_response(Some(
            &json!({"llmContent": "x", "error": {"message": "denied", "type": "x"}}),
        ));
        assert!(!e.success);
        assert_eq!(e.error.as_deref(), Some("denied"));
    }

    #[test]
    fn copilot_results() {
        let e = from_copilot_result(
            &json!({"resultType": "success", "textResultForLlm": "\n<shellId: 0 completed with exit code 0>"}),
        );
        assert!(e.success);
        assert_eq!(e.exit_code, Some(0));
        let e =
            from_copilot_result(&json!({"result_type": "failure", "text_result_for_llm": "nope"}));
        assert!(!e.success);
        assert_eq!(e.error.as_deref(), Some("nope"));
        let e = from_copilot_result(
            &json!({"resultType": "success", "textResultForLlm": "<shellId: 1 completed with exit code 127>"}),
        );
        assert!(!e.success);
    }
}
