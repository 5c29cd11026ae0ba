//! The JSON-RPC messages the gateway reads: everything is passed through as bytes unless it is a
//! request that reaches something (`tools/call`, `resources/read`, `prompts/get`), which must be
//! decided first.

use serde_json::{Value, json};

/// A request as the gateway decides it: a `tools/call` (its tool and arguments), a
/// `resources/read` (decided as the tool `resource:URI` with `{"uri"}`, so paths and URLs in it
/// are classified like a tool's) or a `prompts/get` (the tool `prompt:NAME` with its
/// arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolsCall {
    /// The request id, echoed in any answer ward gives in the server's place.
    pub id: Value,
    pub tool: String,
    pub arguments: Value,
    /// A `resources/read` or `prompts/get`: refused with a JSON-RPC error (their results have no
    /// `isError`), and not subject to tool pins.
    pub access: bool,
    /// The request speaks the stateless 2026-07-28 era (its results carry `resultType`).
    pub modern: bool,
}

/// What one message from the client is.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// A `tools/call` request: decide before it reaches the server.
    Call(ToolsCall),
    /// A `tools/call` (or `prompts/get`) without a name, or a `resources/read` without a URI:
    /// it cannot be decided, so it never reaches the server.
    BadCall { id: Value, what: &'static str },
    /// Anything else (requests, notifications, responses to server requests): pass through.
    Other,
}

/// The requests ward decides before they reach the server.
pub const DECIDED: [&str; 3] = ["tools/call", "resources/read", "prompts/get"];

/// What an answer to a decided request says, for the record: whether it succeeded, its error
/// (a JSON-RPC error's message, or that the tool reported one), and its result's size in bytes.
pub fn outcome_of(answer: &Value) -> (bool, Option<String>, u64) {
    let error = match (answer.get("error"), answer.pointer("/result/isError")) {
        (Some(e), _) => Some(
            e.get("message")
                .and_then(Value::as_str)
                .unwrap_or("error")
                .to_string(),
        ),
        (None, Some(Value::Bool(true))) => Some("the tool reported an error".into()),
        _ => None,
    };
    let size = answer
        .get("result")
        .map(|r| r.to_string().len() as u64)
        .unwrap_or(0);
    (error.is_none(), error, size)
}

/// The methods that list what a server offers (and that ward filters).
pub const LISTS: [&str; 3] = ["tools/list", "prompts/list", "resources/list"];

/// Classify one parsed message.
pub fn classify(msg: &Value) -> Inbound {
    let method = msg.get("method").and_then(Value::as_str);
    if !matches!(
        method,
        Some("tools/call" | "resources/read" | "prompts/get")
    ) || msg.get("id").is_none()
    {
        return Inbound::Other;
    }
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let params = msg.get("params");
    let field = |k: &str| params.and_then(|p| p.get(k));
    let modern = is_modern(msg);
    match method {
        Some("resources/read") => match field("uri").and_then(Value::as_str) {
            Some(uri) => Inbound::Call(ToolsCall {
                id,
                tool: format!("resource:{uri}"),
                arguments: json!({ "uri": uri }),
                access: true,
                modern,
            }),
            None => Inbound::BadCall {
                id,
                what: "resources/read needs params.uri (a string)",
            },
        },
        Some("prompts/get") => match field("name").and_then(Value::as_str) {
            Some(name) => Inbound::Call(ToolsCall {
                id,
                tool: format!("prompt:{name}"),
                arguments: field("arguments").cloned().unwrap_or_else(|| json!({})),
                access: true,
                modern,
            }),
            None => Inbound::BadCall {
                id,
                what: "prompts/get needs params.name (a string)",
            },
        },
        _ => match field("name").and_then(Value::as_str) {
            Some(tool) => Inbound::Call(ToolsCall {
                id,
                tool: tool.to_string(),
                arguments: field("arguments").cloned().unwrap_or_else(|| json!({})),
                access: false,
                modern,
            }),
            None => Inbound::BadCall {
                id,
                what: "tools/call needs params.name (a string)",
            },
        },
    }
}

/// What a listing answer lists, by its method: the array's key and the key that names an item
/// (`tools`/`name`, `prompts`/`name`, `resources`/`uri`).
pub fn list_shape(method: &str) -> Option<(&'static str, &'static str)> {
    match method {
        "tools/list" => Some(("tools", "name")),
        "prompts/list" => Some(("prompts", "name")),
        "resources/list" => Some(("resources", "uri")),
        _ => None,
    }
}

/// The tool and arguments an item of a listing is decided as, before the caller chose anything:
/// a tool as itself with `{}`, a prompt as `prompt:NAME` with `{}`, a resource as `resource:URI`
/// with `{"uri"}`.
pub fn list_item_call(method: &str, key: &str) -> (String, Value) {
    match method {
        "prompts/list" => (format!("prompt:{key}"), json!({})),
        "resources/list" => (format!("resource:{key}"), json!({ "uri": key })),
        _ => (key.to_string(), json!({})),
    }
}

/// Whether a request carries a stateless-era protocol version in its `_meta`.
pub fn is_modern(msg: &Value) -> bool {
    msg.pointer("/params/_meta")
        .and_then(|m| m.get(crate::http::META_VERSION))
        .and_then(Value::as_str)
        .is_some_and(|v| crate::http::MODERN_VERSIONS.contains(&v))
}

/// JSON-RPC code of a `resources/read` or `prompts/get` ward refused.
pub const REFUSED: i64 = -32001;

/// A refused call as the model sees it: a normal tool result with `isError`, so it can react
/// (with the `resultType` every 2026-07-28 result carries, when the call spoke that era). A
/// refused `resources/read` or `prompts/get` is a JSON-RPC error with the reason.
pub fn refused(call: &ToolsCall, reason: &str) -> Value {
    if call.access {
        return error(&call.id, REFUSED, reason);
    }
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
                access: false,
                modern: false,
            })
        );
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "id": "a", "method": "tools/call", "params": {}})),
            Inbound::BadCall {
                id: json!("a"),
                what: "tools/call needs params.name (a string)"
            }
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
        // A resource read is decided as `resources/read` on its URI, refused as an error.
        let read = json!({"jsonrpc": "2.0", "id": 9, "method": "resources/read",
            "params": {"uri": "file:///home/dev/.ssh/id_rsa"}});
        let Inbound::Call(c) = classify(&read) else {
            panic!("a read")
        };
        assert_eq!(
            (c.tool.as_str(), c.access),
            ("resource:file:///home/dev/.ssh/id_rsa", true)
        );
        assert_eq!(c.arguments["uri"], "file:///home/dev/.ssh/id_rsa");
        assert_eq!(refused(&c, "no")["error"]["code"], REFUSED);
        assert!(matches!(
            classify(&json!({"jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": {}})),
            Inbound::BadCall { .. }
        ));
    }
}
