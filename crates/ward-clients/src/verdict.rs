//! How each client reads a hook reply: measured with the real clients
//! (`shared/reference/integrations.md` §0; Cursor from its documentation). `ward eval`,
//! `ward explain` and `ward demo` report decisions as the client will act on them.

use crate::Reply;
use ward_core::ClientKind;

/// How a client reads a hook reply (measured with the real clients; see
/// `shared/reference/integrations.md` §0): `allow`, `deny`, `ask`, or `failopen` when the client
/// would ignore the answer and run the tool.
pub fn client_verdict(client: ClientKind, reply: &Reply) -> &'static str {
    let out = reply.stdout.trim();
    let js: Option<serde_json::Value> = if out.starts_with('{') {
        serde_json::from_str(out).ok()
    } else {
        None
    };
    let get = |p: &str| {
        js.as_ref()
            .and_then(|j| j.pointer(p))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let rc = reply.exit_code;
    let decision_of = |s: Option<String>| -> Option<&'static str> {
        match s.as_deref() {
            Some("deny") => Some("deny"),
            Some("ask") => Some("ask"),
            Some("allow") => Some("allow"),
            _ => None,
        }
    };
    match client {
        ClientKind::ClaudeCode => {
            if rc == 2 {
                return "deny";
            }
            if rc != 0 {
                return "failopen";
            }
            if let Some(d) = decision_of(get("/hookSpecificOutput/permissionDecision")) {
                return d;
            }
            if get("/decision").as_deref() == Some("block") {
                return "deny";
            }
            "allow"
        }
        ClientKind::Codex => {
            if rc == 2 {
                return if reply.stderr.trim().is_empty() {
                    "failopen"
                } else {
                    "deny"
                };
            }
            if rc != 0 {
                return "failopen";
            }
            match get("/hookSpecificOutput/permissionDecision").as_deref() {
                Some("deny") => {
                    if get("/hookSpecificOutput/permissionDecisionReason")
                        .unwrap_or_default()
                        .trim()
                        .is_empty()
                    {
                        "failopen"
                    } else {
                        "deny"
                    }
                }
                Some("ask") => "failopen",
                _ if get("/decision").as_deref() == Some("block") => "deny",
                _ => "allow",
            }
        }
        ClientKind::Gemini => {
            if rc == 1 {
                return "failopen";
            }
            if rc != 0 {
                return if !out.is_empty() || !reply.stderr.trim().is_empty() {
                    "deny"
                } else {
                    "failopen"
                };
            }
            match get("/decision").as_deref() {
                Some("deny" | "block") => "deny",
                _ => "allow",
            }
        }
        ClientKind::Cursor => {
            if rc == 2 {
                return "deny";
            }
            if rc != 0 {
                return "failopen";
            }
            decision_of(get("/permission")).unwrap_or("allow")
        }
        ClientKind::Copilot => {
            if rc != 0 {
                return "deny";
            }
            decision_of(get("/permissionDecision")).unwrap_or("allow")
        }
    }
}
