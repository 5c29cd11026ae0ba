//! [`Decision`] → the reply each client obeys.

use crate::events::lookup;
use crate::json::truncate_chars;
use crate::{MAX_REASON_CHARS, Reply};
use serde_json::{Value, json};
use ward_core::{ClientKind, Decision, HookEvent, HookKind, Outcome, WardError};

const DENY_FALLBACK: &str = "ward: denied by policy";
const ASK_FALLBACK: &str = "ward: this action needs approval";
const APPROVAL_SUFFIX: &str =
    " (needs approval: ask a ward approver, or run it yourself outside the assistant)";

/// One line, no control characters, at most [`MAX_REASON_CHARS`] characters, never empty.
pub(crate) fn one_line(reason: &str, fallback: &str, max: usize) -> String {
    let line = reason
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let line = if line.is_empty() {
        fallback.to_string()
    } else {
        line
    };
    truncate_chars(&line, max)
}

/// The reason for a deny that stands in for an `ask` the client cannot show.
fn approval_reason(reason: &str) -> String {
    let room = MAX_REASON_CHARS - APPROVAL_SUFFIX.chars().count();
    format!("{}{APPROVAL_SUFFIX}", one_line(reason, ASK_FALLBACK, room))
}

fn json_reply(exit_code: i32, v: &Value, stderr: String) -> Reply {
    Reply {
        exit_code,
        stdout: format!("{v}\n"),
        stderr,
    }
}

fn silent() -> Reply {
    Reply::default()
}

/// The JSON a client reads as "deny this pre-tool call" with `reason` (already one line).
fn pretool_deny_json(client: ClientKind, reason: &str) -> Value {
    match client {
        ClientKind::ClaudeCode | ClientKind::Codex => claude_style(Outcome::Deny, reason),
        ClientKind::Gemini => json!({ "decision": "deny", "reason": reason }),
        ClientKind::Cursor => cursor_json("deny", reason),
        ClientKind::Copilot => copilot_json(Outcome::Deny, reason),
    }
}

fn claude_style(outcome: Outcome, reason: &str) -> Value {
    json!({
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": outcome.as_str(),
            "permissionDecisionReason": reason,
        }
    })
}

fn cursor_json(permission: &str, reason: &str) -> Value {
    json!({ "permission": permission, "user_message": reason, "agent_message": reason })
}

fn copilot_json(outcome: Outcome, reason: &str) -> Value {
    json!({ "permissionDecision": outcome.as_str(), "permissionDecisionReason": reason })
}

/// The JSON a client reads as "deny this permission request".
fn permission_deny_json(client: ClientKind, reason: &str) -> Value {
    match client {
        ClientKind::ClaudeCode | ClientKind::Codex => json!({
            "hookSpecificOutput": {
                "hookEventName": "PermissionRequest",
                "decision": { "behavior": "deny", "message": reason },
            }
        }),
        ClientKind::Copilot => json!({ "behavior": "deny", "message": reason }),
        // Gemini and Cursor have no permission-request event.
        ClientKind::Gemini | ClientKind::Cursor => pretool_deny_json(client, reason),
    }
}

/// Cursor's file-read events accept only `allow` or `deny`.
fn cursor_cannot_ask(event_name: &str) -> bool {
    matches!(event_name, "beforeReadFile" | "beforeTabFileRead")
}

pub(crate) fn render_decision(client: ClientKind, event: &HookEvent, decision: &Decision) -> Reply {
    match event.kind {
        HookKind::PreTool => render_pretool(client, &event.event_name, decision),
        HookKind::PermissionRequest => render_permission(client, decision),
        _ => render_ack(client, event),
    }
}

fn render_pretool(client: ClientKind, event_name: &str, decision: &Decision) -> Reply {
    let deny = |reason: &str| json_reply(0, &pretool_deny_json(client, reason), String::new());
    match decision.outcome {
        Outcome::Allow => match client {
            // Cursor wants an explicit answer; everyone else runs its own permission flow.
            ClientKind::Cursor => json_reply(0, &json!({ "permission": "allow" }), String::new()),
            _ => silent(),
        },
        Outcome::Deny => deny(&one_line(&decision.reason, DENY_FALLBACK, MAX_REASON_CHARS)),
        Outcome::Ask => {
            let reason = one_line(&decision.reason, ASK_FALLBACK, MAX_REASON_CHARS);
            match client {
                ClientKind::ClaudeCode => {
                    json_reply(0, &claude_style(Outcome::Ask, &reason), String::new())
                }
                ClientKind::Copilot => {
                    json_reply(0, &copilot_json(Outcome::Ask, &reason), String::new())
                }
                ClientKind::Cursor if !cursor_cannot_ask(event_name) => {
                    json_reply(0, &cursor_json("ask", &reason), String::new())
                }
                // Codex treats `ask` as an invalid answer and runs the tool; Gemini has no ask.
                ClientKind::Codex | ClientKind::Gemini | ClientKind::Cursor => {
                    deny(&approval_reason(&decision.reason))
                }
            }
        }
    }
}

fn render_permission(client: ClientKind, decision: &Decision) -> Reply {
    match decision.outcome {
        Outcome::Deny => {
            let reason = one_line(&decision.reason, DENY_FALLBACK, MAX_REASON_CHARS);
            json_reply(0, &permission_deny_json(client, &reason), String::new())
        }
        // No answer: the client's own permission flow asks the user (ask) or proceeds (allow).
        Outcome::Ask | Outcome::Allow => silent(),
    }
}

pub(crate) fn render_ack(client: ClientKind, event: &HookEvent) -> Reply {
    match client {
        ClientKind::Cursor if event.event_name == "beforeSubmitPrompt" => {
            json_reply(0, &json!({ "continue": true }), String::new())
        }
        ClientKind::Cursor => json_reply(0, &json!({}), String::new()),
        _ => silent(),
    }
}

pub(crate) fn render_error(client: ClientKind, event_name: Option<&str>, err: &WardError) -> Reply {
    let message = one_line(&err.message, "error", MAX_REASON_CHARS - 100);
    let reason = one_line(
        &Decision::fail_closed(err.code, &message).reason,
        DENY_FALLBACK,
        MAX_REASON_CHARS,
    );
    let kind = event_name
        .and_then(|n| lookup(client, n.trim()))
        .map(|(_, k)| k);
    let body = match kind {
        Some(HookKind::PermissionRequest) => permission_deny_json(client, &reason),
        _ => pretool_deny_json(client, &reason),
    };
    json_reply(2, &body, format!("{reason}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_one_nonempty_line() {
        assert_eq!(one_line("a\nb\r\n\tc  d", "f", 100), "a b c d");
        assert_eq!(one_line(" \n ", "fallback", 100), "fallback");
        assert_eq!(one_line("x\u{2028}y\u{0}z", "f", 100), "x y z");
        assert_eq!(one_line(&"a".repeat(2000), "f", 1000).chars().count(), 1000);
    }

    #[test]
    fn approval_reason_keeps_its_suffix() {
        let r = approval_reason(&"b".repeat(5000));
        assert_eq!(r.chars().count(), MAX_REASON_CHARS);
        assert!(r.ends_with(APPROVAL_SUFFIX));
    }
}
