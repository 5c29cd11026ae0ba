//! Replies: every client × outcome, read back the way each client reads a hook's answer
//! (a port of `verdict` in shared/eval/score_hooks.py, itself measured against the real CLIs).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test by panicking"
)]

use serde_json::{Map, Value, json};
use std::path::Path;
use ward_clients::{
    MAX_REASON_CHARS, Origin, Reply, parse, render_ack, render_decision, render_error,
};
use ward_core::{ClientKind, Decision, ErrorCode, HookEvent, HookKind, Outcome, WardError};

/// How `client` reads a hook that exited `rc` and printed `out`/`err` (score_hooks.py `verdict`).
fn verdict(client: &str, rc: i32, out: &str, err: &str) -> &'static str {
    let out = out.trim();
    // Python's `if js:` — a parsed, non-empty JSON object.
    let js: Option<Map<String, Value>> = if out.starts_with('{') {
        serde_json::from_str::<Value>(out)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .filter(|m| !m.is_empty())
    } else {
        None
    };
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    match client {
        "claude-code" => {
            if rc == 2 {
                return "deny";
            }
            if rc != 0 {
                return "failopen";
            }
            if let Some(js) = &js {
                let h = js.get("hookSpecificOutput");
                match s(h.and_then(|h| h.get("permissionDecision"))).as_deref() {
                    Some("deny") => return "deny",
                    Some("ask") => return "ask",
                    Some("allow") => return "allow",
                    _ => {}
                }
                if s(js.get("decision")).as_deref() == Some("block") {
                    return "deny";
                }
            }
            "allow"
        }
        "codex" => {
            if rc == 2 {
                return if err.trim().is_empty() {
                    "failopen"
                } else {
                    "deny"
                };
            }
            if rc != 0 {
                return "failopen";
            }
            if let Some(js) = &js {
                let h = js.get("hookSpecificOutput");
                match s(h.and_then(|h| h.get("permissionDecision"))).as_deref() {
                    Some("deny") => {
                        let reason = s(h.and_then(|h| h.get("permissionDecisionReason")));
                        return if reason.unwrap_or_default().trim().is_empty() {
                            "failopen"
                        } else {
                            "deny"
                        };
                    }
                    Some("ask") => return "failopen",
                    _ => {}
                }
                if s(js.get("decision")).as_deref() == Some("block") {
                    return "deny";
                }
            }
            "allow"
        }
        "gemini" => {
            if rc == 1 {
                return "failopen";
            }
            if rc != 0 {
                return if !out.is_empty() || !err.trim().is_empty() {
                    "deny"
                } else {
                    "failopen"
                };
            }
            if let Some(js) = &js
                && matches!(s(js.get("decision")).as_deref(), Some("deny" | "block"))
            {
                return "deny";
            }
            "allow"
        }
        "cursor" => {
            if rc == 2 {
                return "deny";
            }
            if rc != 0 {
                return "failopen";
            }
            if let Some(js) = &js {
                match s(js.get("permission")).as_deref() {
                    Some("deny") => return "deny",
                    Some("ask") => return "ask",
                    Some("allow") => return "allow",
                    _ => {}
                }
            }
            "allow"
        }
        "copilot" => {
            if rc != 0 {
                return "deny";
            }
            if let Some(js) = &js {
                match s(js.get("permissionDecision")).as_deref() {
                    Some("deny") => return "deny",
                    Some("ask") => return "ask",
                    Some("allow") => return "allow",
                    _ => {}
                }
            }
            "allow"
        }
        other => panic!("unknown client {other}"),
    }
}

fn read_verdict(client: ClientKind, r: &Reply) -> &'static str {
    let oracle = verdict(client.as_str(), r.exit_code, &r.stdout, &r.stderr);
    // The library's reading (used by `ward eval`) must agree with this independent port of
    // shared/eval/score_hooks.py.
    assert_eq!(
        ward_clients::client_verdict(client, r),
        oracle,
        "{client}: {r:?}"
    );
    oracle
}

fn origin() -> Origin {
    Origin {
        host: "devbox".into(),
        os_user: "alice".into(),
    }
}

fn sample(file: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/samples")
            .join(file),
    )
    .unwrap()
}

/// A real pre-tool event per client (Cursor has no recorded sample; its payload follows its docs).
fn pretool_event(client: ClientKind) -> HookEvent {
    let bytes = match client {
        ClientKind::ClaudeCode => sample("claude-PreToolUse.json"),
        ClientKind::Codex => sample("codex-PreToolUse.json"),
        ClientKind::Gemini => sample("gemini-BeforeTool.json"),
        ClientKind::Copilot => sample("copilot-preToolUse.json"),
        ClientKind::Cursor => json!({
            "hook_event_name": "beforeShellExecution", "conversation_id": "conv-1",
            "generation_id": "gen-1", "workspace_roots": ["/proj"],
            "command": "touch /tmp/realclient/MARKER-ok", "cwd": "/proj"
        })
        .to_string()
        .into_bytes(),
    };
    parse(client, &bytes, None, &origin()).unwrap()
}

/// Every pre-tool-shaped event a client can send (Copilot both registrations, Cursor all four).
fn all_pretool_events(client: ClientKind) -> Vec<HookEvent> {
    let mut events = vec![pretool_event(client)];
    match client {
        ClientKind::Copilot => events.push(
            parse(
                client,
                &sample("copilot-pascal-PreToolUse.json"),
                None,
                &origin(),
            )
            .unwrap(),
        ),
        ClientKind::Cursor => {
            let common = json!({"conversation_id": "c", "workspace_roots": ["/proj"]});
            for (name, extra) in [
                (
                    "beforeMCPExecution",
                    json!({"tool_name": "q", "tool_input": "{}", "url": "http://x"}),
                ),
                ("beforeReadFile", json!({"file_path": "/proj/.env"})),
                ("beforeTabFileRead", json!({"file_path": "/proj/.env"})),
                (
                    "preToolUse",
                    json!({"tool_name": "Shell", "tool_input": {"command": "ls"}}),
                ),
            ] {
                let mut v = common.clone();
                v["hook_event_name"] = json!(name);
                for (k, val) in extra.as_object().unwrap() {
                    v[k] = val.clone();
                }
                events.push(parse(client, v.to_string().as_bytes(), None, &origin()).unwrap());
            }
        }
        _ => {}
    }
    events
}

fn decision(outcome: Outcome, reason: &str) -> Decision {
    Decision {
        outcome,
        policies: vec!["p1".into()],
        reason: reason.into(),
        facts: vec![],
        error_code: None,
        confirm_locally: false,
    }
}

/// What each client must make of each outcome: a client that cannot ask gets a deny.
fn wanted(client: ClientKind, event: &HookEvent, outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allow => "allow",
        Outcome::Deny => "deny",
        Outcome::Ask => match client {
            ClientKind::ClaudeCode | ClientKind::Copilot => "ask",
            ClientKind::Cursor
                if !matches!(
                    event.event_name.as_str(),
                    "beforeReadFile" | "beforeTabFileRead"
                ) =>
            {
                "ask"
            }
            _ => "deny",
        },
    }
}

const OUTCOMES: [Outcome; 3] = [Outcome::Allow, Outcome::Ask, Outcome::Deny];

fn reasons() -> Vec<String> {
    vec![
        "curl to an unknown host with secret material".into(),
        String::new(),
        "   \n\t ".into(),
        "line one\nline two\r\nline \"three\" \u{2028} é ✓".into(),
        "x".repeat(5000),
        "\u{0}\u{1b}[31mred\u{1b}[0m".into(),
    ]
}

fn assert_reply_shape(r: &Reply) {
    assert!(
        !r.stdout.trim_end().contains('\n'),
        "stdout is one line: {r:?}"
    );
    if !r.stdout.is_empty() {
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert!(v.is_object());
    }
    assert!(
        !r.stderr.trim_end().contains('\n'),
        "stderr is one line: {r:?}"
    );
}

/// The reason a deny/ask reply carries, wherever the client reads it from.
fn reply_reason(r: &Reply) -> Option<String> {
    let v: Value = serde_json::from_str(&r.stdout).ok()?;
    let paths: [&[&str]; 6] = [
        &["hookSpecificOutput", "permissionDecisionReason"],
        &["hookSpecificOutput", "decision", "message"],
        &["reason"],
        &["agent_message"],
        &["permissionDecisionReason"],
        &["message"],
    ];
    paths.iter().find_map(|path| {
        let mut cur = &v;
        for k in *path {
            cur = cur.get(*k)?;
        }
        cur.as_str().map(str::to_string)
    })
}

#[test]
fn every_client_reads_every_outcome_as_intended() {
    for client in ClientKind::ALL {
        for event in all_pretool_events(client) {
            assert_eq!(event.kind, HookKind::PreTool);
            for outcome in OUTCOMES {
                for reason in reasons() {
                    let r = render_decision(client, &event, &decision(outcome, &reason));
                    let got = read_verdict(client, &r);
                    assert_eq!(
                        got,
                        wanted(client, &event, outcome),
                        "{client} {} {outcome} reason {reason:?}: {r:?}",
                        event.event_name
                    );
                    assert_ne!(got, "failopen");
                    assert_eq!(r.exit_code, 0);
                    assert_reply_shape(&r);
                    if outcome != Outcome::Allow {
                        let text = reply_reason(&r).expect("a reason");
                        assert!(!text.trim().is_empty());
                        assert!(text.chars().count() <= MAX_REASON_CHARS);
                        assert!(!text.contains(['\n', '\r', '\u{0}', '\u{1b}']));
                    }
                    if outcome == Outcome::Allow && client != ClientKind::Cursor {
                        assert_eq!(r, Reply::default(), "allow defers to the client");
                    }
                }
            }
        }
    }
}

#[test]
fn codex_and_gemini_asks_are_denies_that_say_how_to_get_approval() {
    for client in [ClientKind::Codex, ClientKind::Gemini] {
        let r = render_decision(
            client,
            &pretool_event(client),
            &decision(Outcome::Ask, "reading .env needs approval"),
        );
        assert_eq!(read_verdict(client, &r), "deny");
        let reason = reply_reason(&r).unwrap();
        assert!(
            reason.starts_with("reading .env needs approval"),
            "{reason}"
        );
        assert!(reason.contains("ask a ward approver"), "{reason}");
        assert!(reason.contains("outside the assistant"), "{reason}");
    }
}

#[test]
fn errors_block_in_every_client() {
    let errors = [
        WardError::new(
            ErrorCode::PayloadMalformed,
            "payload is not valid JSON: expected value at line 1 column 1",
        ),
        WardError::new(
            ErrorCode::PayloadTooLarge,
            "payload is 2000000 bytes, over the 1048576-byte limit",
        ),
        WardError::new(ErrorCode::PayloadUnknownEvent, "unknown codex event `X`"),
        WardError::new(ErrorCode::PayloadInvalid, "missing `tool_name`"),
        WardError::new(ErrorCode::PolicyEval, ""),
        WardError::new(
            ErrorCode::InternalPanic,
            format!("multi\nline {}", "y".repeat(3000)),
        ),
    ];
    for client in ClientKind::ALL {
        for hint in [
            None,
            Some("PreToolUse"),
            Some("preToolUse"),
            Some("PermissionRequest"),
            Some("permissionRequest"),
            Some("Stop"),
            Some("nonsense"),
        ] {
            for e in &errors {
                let r = render_error(client, hint, e);
                assert_eq!(r.exit_code, 2);
                assert_eq!(read_verdict(client, &r), "deny", "{client} {hint:?} {e}");
                assert_reply_shape(&r);
                assert!(
                    r.stderr.starts_with(&format!("ward {}: ", e.code.as_str())),
                    "{r:?}"
                );
                assert!(
                    r.stderr
                        .trim_end()
                        .ends_with("(blocked: ward fails closed)"),
                    "{r:?}"
                );
                assert!(r.stderr.trim_end().chars().count() <= MAX_REASON_CHARS);
                let reason = reply_reason(&r).unwrap();
                assert_eq!(reason, r.stderr.trim_end());
            }
        }
    }
    let r = render_error(
        ClientKind::Codex,
        None,
        &WardError::new(ErrorCode::PayloadMalformed, "payload is not valid JSON"),
    );
    assert_eq!(
        r.stderr,
        "ward E1001: payload is not valid JSON (blocked: ward fails closed)\n"
    );
}

#[test]
fn parse_failures_rendered_as_errors_block() {
    for client in ClientKind::ALL {
        for bad in [&b"{"[..], b"[]", b"{\"hook_event_name\":\"Nope\"}"] {
            let e = parse(client, bad, None, &origin()).unwrap_err();
            let r = render_error(client, None, &e);
            assert_eq!(read_verdict(client, &r), "deny");
        }
    }
}

fn permission_event(client: ClientKind) -> HookEvent {
    let bytes = match client {
        ClientKind::Copilot => sample("copilot-permissionRequest.json"),
        _ => json!({"session_id": "s", "cwd": "/w", "hook_event_name": "PermissionRequest",
                    "tool_name": "Bash", "tool_input": {"command": "rm -rf build"},
                    "permission_suggestions": []})
        .to_string()
        .into_bytes(),
    };
    parse(client, &bytes, None, &origin()).unwrap()
}

#[test]
fn permission_requests() {
    for client in [
        ClientKind::ClaudeCode,
        ClientKind::Codex,
        ClientKind::Copilot,
    ] {
        let event = permission_event(client);
        assert_eq!(event.kind, HookKind::PermissionRequest);
        for outcome in [Outcome::Allow, Outcome::Ask] {
            assert_eq!(
                render_decision(client, &event, &decision(outcome, "r")),
                Reply::default()
            );
        }
        let r = render_decision(client, &event, &decision(Outcome::Deny, ""));
        assert_eq!(r.exit_code, 0);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        let behavior = match client {
            ClientKind::Copilot => &v,
            _ => {
                assert_eq!(
                    v["hookSpecificOutput"]["hookEventName"],
                    "PermissionRequest"
                );
                &v["hookSpecificOutput"]["decision"]
            }
        };
        assert_eq!(behavior["behavior"], "deny");
        assert!(!behavior["message"].as_str().unwrap().is_empty());
    }
}

#[test]
fn events_without_a_decision_are_acknowledged() {
    let acks = [
        (ClientKind::ClaudeCode, "claude-PostToolUse.json"),
        (ClientKind::ClaudeCode, "claude-Stop.json"),
        (ClientKind::Codex, "codex-SessionStart.json"),
        (ClientKind::Gemini, "gemini-AfterTool.json"),
        (ClientKind::Copilot, "copilot-sessionEnd.json"),
    ];
    for (client, file) in acks {
        let event = parse(client, &sample(file), None, &origin()).unwrap();
        assert_eq!(render_ack(client, &event), Reply::default());
        // A decision for an event that needs none changes nothing.
        let r = render_decision(client, &event, &decision(Outcome::Deny, "x"));
        assert_eq!(r, Reply::default(), "{file}");
    }
    let cursor = |name: &str| {
        let v = json!({"hook_event_name": name, "conversation_id": "c", "prompt": "hi", "status": "completed"});
        parse(
            ClientKind::Cursor,
            v.to_string().as_bytes(),
            None,
            &origin(),
        )
        .unwrap()
    };
    assert_eq!(
        render_ack(ClientKind::Cursor, &cursor("stop")).stdout,
        "{}\n"
    );
    assert_eq!(
        render_ack(ClientKind::Cursor, &cursor("beforeSubmitPrompt")).stdout,
        "{\"continue\":true}\n"
    );
}

fn reply_json(r: &Reply) -> Value {
    json!({
        "exit_code": r.exit_code,
        "stdout": if r.stdout.is_empty() { Value::Null } else { serde_json::from_str::<Value>(&r.stdout).unwrap() },
        "stderr": r.stderr,
    })
}

#[test]
fn snapshot_pretool_replies() {
    let mut all = Map::new();
    for client in ClientKind::ALL {
        let event = pretool_event(client);
        let mut per = Map::new();
        for outcome in OUTCOMES {
            let r = render_decision(
                client,
                &event,
                &decision(outcome, "ward: `curl` to an unknown host"),
            );
            per.insert(outcome.as_str().into(), reply_json(&r));
        }
        all.insert(client.as_str().into(), Value::Object(per));
    }
    insta::assert_json_snapshot!("pretool_replies", Value::Object(all));
}

#[test]
fn snapshot_permission_and_error_replies() {
    let mut all = Map::new();
    for client in [
        ClientKind::ClaudeCode,
        ClientKind::Codex,
        ClientKind::Copilot,
    ] {
        let r = render_decision(
            client,
            &permission_event(client),
            &decision(Outcome::Deny, "no"),
        );
        all.insert(format!("{client}/permission-deny"), reply_json(&r));
    }
    let e = WardError::new(
        ErrorCode::PayloadMalformed,
        "payload is not valid JSON: EOF while parsing a value at line 1 column 0",
    );
    for client in ClientKind::ALL {
        all.insert(
            format!("{client}/error"),
            reply_json(&render_error(client, None, &e)),
        );
    }
    all.insert(
        "copilot/error-permissionRequest".into(),
        reply_json(&render_error(
            ClientKind::Copilot,
            Some("permissionRequest"),
            &e,
        )),
    );
    insta::assert_json_snapshot!("permission_and_error_replies", Value::Object(all));
}
