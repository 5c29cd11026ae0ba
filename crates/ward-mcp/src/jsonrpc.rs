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
        }),
        None => Inbound::BadCall { id },
    }
}

/// A refused call as the model sees it: a normal tool result with `isError`, so it can react.
pub fn refused(id: &Value, reason: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {
            "content": [{"type": "text", "text": reason}],
            "isError": true,
        },
    })
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
                arguments: json!({"path": "/x"})
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
        let r = refused(&json!(7), "no");
        assert_eq!(r["result"]["isError"], true);
        assert_eq!(r["id"], 7);
    }
}
