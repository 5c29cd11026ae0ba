//! The JSON-RPC messages the gateway reads: everything is passed through as bytes unless it is a
//! `tools/call` request, which must be decided first.

use serde_json::{Value, json};

/// A `tools/call` request, as the gateway decides it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolsCall {
    /// The request id, echoed in any answer ward gives in the server's place.
    pub id: Value,
    pub tool: String,
    pub arguments: Value,
    /// The request speaks the stateless 2026-07-28 era (its results carry `resultType`).
    pub modern: bool,
}

/// What one message from the client is.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// A `tools/call` request: decide before it reaches the server.
    Call(ToolsCall),
    /// A `tools/call` whose name is missing or not a string: it cannot be decided, so it never
    /// reaches the server.
    BadCall { id: Value },
    /// Anything else (requests, notifications, responses to server requests): pass through.
    Other,
}

/// Classify one parsed message.
pub fn classify(msg: &Value) -> Inbound {
    if msg.get("method").and_then(Value::as_str) != Some("tools/call") {
        return Inbound::Other;
    }
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let params = msg.get("params");
    match params.and_then(|p| p.get("name")).and_then(Value::as_str) {
        Some(tool) => Inbound::Call(ToolsCall {
            id,
            tool: tool.to_string(),
            arguments: params
                .and_then(|p| p.get("arguments"))
                .cloned()
                .unwrap_or_else(|| json!({})),
            modern: is_modern(msg),
        }),
        None => Inbound::BadCall { id },
    }
}

/// Whether a request carries a stateless-era protocol version in its `_meta`.
pub fn is_modern(msg: &Value) -> bool {
    msg.pointer("/params/_meta")
        .and_then(|m| m.get(crate::http::META_VERSION))
        .and_then(Value::as_str)
        .is_some_and(|v| crate::http::MODERN_VERSIONS.contains(&v))
}

/// A refused call as the model sees it: a normal tool result with `isError`, so it can react
/// (with the `resultType` every 2026-07-28 result carries, when the call spoke that era).
pub fn refused(call: &ToolsCall, reason: &str) -> Value {
    let mut result = json!({
        "content": [{"type": "text", "text": reason}],
        "isError": true,
    });
    if call.modern {
        result["resultType"] = json!("complete");
    }
    json!({"jsonrpc": "2.0", "id": call.id, "result": result})
}

/// A JSON-RPC error in the server's place (`-32700` parse error, `-32600` invalid request).
pub fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn only_tools_calls_are_held_back() {
        let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "read_file", "arguments": {"path": "/x"}, "_meta": {"progressToken": 1}}});
        assert_eq!(
            classify(&call),
            Inbound::Call(ToolsCall {
                id: json!(7),
                tool: "read_file".into(),
                arguments: json!({"path": "/x"}),
                modern: false,
            })
        );
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "id": "a", "method": "tools/call", "params": {}})),
            Inbound::BadCall { id: json!("a") }
        );
        for other in [
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            json!({"jsonrpc": "2.0", "id": 3, "result": {}}),
        ] {
            assert_eq!(classify(&other), Inbound::Other);
        }
        let Inbound::Call(c) = classify(&call) else {
            panic!("a call")
        };
        let r = refused(&c, "no");
        assert_eq!(r["result"]["isError"], true);
        assert_eq!(r["id"], 7);
        assert!(r["result"].get("resultType").is_none());
        let modern = json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
            "params": {"name": "x", "_meta": {crate::http::META_VERSION: "2026-07-28"}}});
        let Inbound::Call(c) = classify(&modern) else {
            panic!("a call")
        };
        assert_eq!(refused(&c, "no")["result"]["resultType"], "complete");
    }
}
