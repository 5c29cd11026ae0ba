//! Parsing: every real payload the clients sent, every event name of every client, the public
//! corpus, tool normalization per client, and every way a payload can be wrong.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test by panicking"
)]

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use ward_clients::{MAX_PAYLOAD_BYTES, Origin, event_names, parse};
use ward_core::{Action, ClientKind, ErrorCode, HookEvent, HookKind, WardError};

fn origin() -> Origin {
    Origin {
        host: "devbox".into(),
        os_user: "alice".into(),
    }
}

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples")
}

fn parse_json(client: ClientKind, v: &Value, hint: Option<&str>) -> Result<HookEvent, WardError> {
    parse(client, v.to_string().as_bytes(), hint, &origin())
}

fn ok(client: ClientKind, v: Value) -> HookEvent {
    match parse_json(client, &v, None) {
        Ok(e) => e,
        Err(e) => panic!("{client} payload {v} failed: {e}"),
    }
}

fn action(client: ClientKind, v: Value) -> Action {
    ok(client, v).call.expect("tool call").action
}

fn err(client: ClientKind, v: Value) -> WardError {
    match parse_json(client, &v, None) {
        Ok(e) => panic!("{client} payload {v} parsed: {e:?}"),
        Err(e) => e,
    }
}

fn shell(c: &str) -> Action {
    Action::Shell { command: c.into() }
}

fn read(paths: &[&str]) -> Action {
    Action::FileRead {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    }
}

fn write(path: &str, content: Option<&str>) -> Action {
    Action::FileWrite {
        paths: vec![path.into()],
        content: content.map(str::to_string),
    }
}

fn mcp(server: &str, tool: &str, arguments: Value) -> Action {
    Action::Mcp {
        server: server.into(),
        tool: tool.into(),
        arguments,
    }
}

// ---------------------------------------------------------------------------------------------
// Real payloads (byte-exact copies of shared/realclient/samples).

const OK_CMD: &str = "touch /tmp/realclient/MARKER-ok";
const BLOCK_CMD: &str = "touch /tmp/realclient/MARKER-BLOCKME";

/// file → (client, event the hook was registered on, kind, the call's action if any).
fn expectations() -> Vec<(
    &'static str,
    ClientKind,
    &'static str,
    HookKind,
    Option<Action>,
)> {
    use ClientKind::*;
    use HookKind::*;
    vec![
        (
            "claude-PostToolUse.json",
            ClaudeCode,
            "PostToolUse",
            PostTool,
            Some(shell(OK_CMD)),
        ),
        (
            "claude-PreToolUse-denied.json",
            ClaudeCode,
            "PreToolUse",
            PreTool,
            Some(shell(BLOCK_CMD)),
        ),
        (
            "claude-PreToolUse.json",
            ClaudeCode,
            "PreToolUse",
            PreTool,
            Some(shell(OK_CMD)),
        ),
        (
            "claude-SessionEnd.json",
            ClaudeCode,
            "SessionEnd",
            SessionEnd,
            None,
        ),
        (
            "claude-SessionStart.json",
            ClaudeCode,
            "SessionStart",
            SessionStart,
            None,
        ),
        ("claude-Stop.json", ClaudeCode, "Stop", Lifecycle, None),
        (
            "claude-UserPromptSubmit.json",
            ClaudeCode,
            "UserPromptSubmit",
            Prompt,
            None,
        ),
        (
            "codex-PostToolUse.json",
            Codex,
            "PostToolUse",
            PostTool,
            Some(shell(OK_CMD)),
        ),
        (
            "codex-PreToolUse-denied.json",
            Codex,
            "PreToolUse",
            PreTool,
            Some(shell(BLOCK_CMD)),
        ),
        (
            "codex-PreToolUse.json",
            Codex,
            "PreToolUse",
            PreTool,
            Some(shell(OK_CMD)),
        ),
        (
            "codex-SessionStart.json",
            Codex,
            "SessionStart",
            SessionStart,
            None,
        ),
        ("codex-Stop.json", Codex, "Stop", Lifecycle, None),
        (
            "codex-UserPromptSubmit.json",
            Codex,
            "UserPromptSubmit",
            Prompt,
            None,
        ),
        (
            "copilot-agentStop.json",
            Copilot,
            "agentStop",
            Lifecycle,
            None,
        ),
        (
            "copilot-pascal-PermissionRequest.json",
            Copilot,
            "PermissionRequest",
            PermissionRequest,
            Some(shell(OK_CMD)),
        ),
        (
            "copilot-pascal-PostToolUse.json",
            Copilot,
            "PostToolUse",
            PostTool,
            Some(shell(OK_CMD)),
        ),
        (
            "copilot-pascal-PreToolUse-denied.json",
            Copilot,
            "PreToolUse",
            PreTool,
            Some(shell(BLOCK_CMD)),
        ),
        (
            "copilot-pascal-PreToolUse.json",
            Copilot,
            "PreToolUse",
            PreTool,
            Some(shell(OK_CMD)),
        ),
        (
            "copilot-pascal-SessionEnd.json",
            Copilot,
            "SessionEnd",
            SessionEnd,
            None,
        ),
        (
            "copilot-pascal-SessionStart.json",
            Copilot,
            "SessionStart",
            SessionStart,
            None,
        ),
        ("copilot-pascal-Stop.json", Copilot, "Stop", Lifecycle, None),
        (
            "copilot-pascal-UserPromptSubmit.json",
            Copilot,
            "UserPromptSubmit",
            Prompt,
            None,
        ),
        (
            "copilot-permissionRequest.json",
            Copilot,
            "permissionRequest",
            PermissionRequest,
            Some(shell(OK_CMD)),
        ),
        (
            "copilot-postToolUse.json",
            Copilot,
            "postToolUse",
            PostTool,
            Some(shell(OK_CMD)),
        ),
        (
            "copilot-preToolUse-denied.json",
            Copilot,
            "preToolUse",
            PreTool,
            Some(shell(BLOCK_CMD)),
        ),
        (
            "copilot-preToolUse.json",
            Copilot,
            "preToolUse",
            PreTool,
            Some(shell(OK_CMD)),
        ),
        (
            "copilot-sessionEnd.json",
            Copilot,
            "sessionEnd",
            SessionEnd,
            None,
        ),
        (
            "copilot-sessionStart.json",
            Copilot,
            "sessionStart",
            SessionStart,
            None,
        ),
        (
            "copilot-userPromptSubmitted.json",
            Copilot,
            "userPromptSubmitted",
            Prompt,
            None,
        ),
        (
            "gemini-AfterAgent.json",
            Gemini,
            "AfterAgent",
            Lifecycle,
            None,
        ),
        (
            "gemini-AfterModel.json",
            Gemini,
            "AfterModel",
            Lifecycle,
            None,
        ),
        (
            "gemini-AfterTool.json",
            Gemini,
            "AfterTool",
            PostTool,
            Some(shell(OK_CMD)),
        ),
        (
            "gemini-BeforeAgent.json",
            Gemini,
            "BeforeAgent",
            Prompt,
            None,
        ),
        (
            "gemini-BeforeModel.json",
            Gemini,
            "BeforeModel",
            Lifecycle,
            None,
        ),
        (
            "gemini-BeforeTool-denied.json",
            Gemini,
            "BeforeTool",
            PreTool,
            Some(shell(BLOCK_CMD)),
        ),
        (
            "gemini-BeforeTool.json",
            Gemini,
            "BeforeTool",
            PreTool,
            Some(shell(OK_CMD)),
        ),
        (
            "gemini-BeforeToolSelection.json",
            Gemini,
            "BeforeToolSelection",
            Lifecycle,
            None,
        ),
        (
            "gemini-SessionEnd.json",
            Gemini,
            "SessionEnd",
            SessionEnd,
            None,
        ),
        (
            "gemini-SessionStart.json",
            Gemini,
            "SessionStart",
            SessionStart,
            None,
        ),
        (
            "extra/copilot-notification-path-permission.json",
            Copilot,
            "notification",
            Lifecycle,
            None,
        ),
        (
            "extra/copilot-permissionRequest-path-permission.json",
            Copilot,
            "permissionRequest",
            PermissionRequest,
            Some(shell(BLOCK_CMD)),
        ),
    ]
}

fn sample_files() -> Vec<String> {
    let mut files = Vec::new();
    for sub in ["", "extra/"] {
        let dir = samples_dir().join(sub);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".json") {
                files.push(format!("{sub}{name}"));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_real_sample_has_an_expectation() {
    let mut expected: Vec<String> = expectations().iter().map(|e| e.0.to_string()).collect();
    expected.sort();
    assert_eq!(sample_files(), expected);
}

#[test]
fn every_real_sample_parses_to_its_kind_and_action() {
    for (file, client, registered, kind, want_action) in expectations() {
        let bytes = std::fs::read(samples_dir().join(file)).unwrap();
        // As the client sends it (Copilot camelCase payloads carry no event name) and with the
        // `--event` the hook was registered with.
        for hint in [None, Some(registered)] {
            let event = parse(client, &bytes, hint, &origin())
                .unwrap_or_else(|e| panic!("{file} (hint {hint:?}): {e}"));
            assert_eq!(event.kind, kind, "{file}");
            assert_eq!(event.client, client, "{file}");
            assert!(!event.session_id.is_empty(), "{file}: session id");
            assert!(
                event.cwd.starts_with("/tmp/realclient/runs/"),
                "{file}: cwd {}",
                event.cwd
            );
            assert_eq!(
                event.call.as_ref().map(|c| c.action.clone()),
                want_action,
                "{file}"
            );
            if let Some(call) = &event.call {
                assert_eq!(
                    call.assistant.id(),
                    format!("{}@devbox/alice", client.as_str())
                );
                assert_eq!(call.session_id, event.session_id);
                assert_eq!(call.cwd, event.cwd);
                assert_eq!(call.repo_root, None);
                let has_ids = matches!(client, ClientKind::ClaudeCode | ClientKind::Codex)
                    && kind != HookKind::PermissionRequest;
                assert_eq!(call.tool_use_id.is_some(), has_ids, "{file}: tool_use_id");
            }
            assert_eq!(event.effect.is_some(), kind == HookKind::PostTool, "{file}");
            if let Some(effect) = &event.effect {
                assert!(effect.success, "{file}: {effect:?}");
            }
        }
    }
}

#[test]
fn sample_details() {
    let load = |f: &str| std::fs::read(samples_dir().join(f)).unwrap();
    let e = parse(
        ClientKind::ClaudeCode,
        &load("claude-PreToolUse.json"),
        None,
        &origin(),
    )
    .unwrap();
    let call = e.call.unwrap();
    assert_eq!(e.event_name, "PreToolUse");
    assert_eq!(e.session_id, "c11b9640-7671-4019-8770-85a08a0329ee");
    assert_eq!(call.tool_name, "Bash");
    assert_eq!(
        call.tool_use_id.as_deref(),
        Some("toolu_realclient_9543da39e553460b")
    );
    assert_eq!(call.input["description"], "realclient scripted command");

    let e = parse(
        ClientKind::Copilot,
        &load("copilot-postToolUse.json"),
        None,
        &origin(),
    )
    .unwrap();
    assert_eq!(e.event_name, "postToolUse");
    let effect = e.effect.unwrap();
    assert_eq!(effect.exit_code, Some(0));
    assert_eq!(
        effect.output_bytes,
        "\n<shellId: 0 completed with exit code 0>".len() as u64
    );

    let e = parse(
        ClientKind::Copilot,
        &load("copilot-pascal-PostToolUse.json"),
        None,
        &origin(),
    )
    .unwrap();
    assert_eq!(e.effect.unwrap().exit_code, Some(0));

    let e = parse(
        ClientKind::Codex,
        &load("codex-PostToolUse.json"),
        None,
        &origin(),
    )
    .unwrap();
    assert_eq!(e.effect.unwrap().output_bytes, 0);

    let e = parse(
        ClientKind::Gemini,
        &load("gemini-AfterTool.json"),
        None,
        &origin(),
    )
    .unwrap();
    assert_eq!(e.call.unwrap().tool_use_id, None);
    assert!(e.effect.unwrap().output_bytes > 0);

    // The path-permission sample names its event both ways; the payload's own name wins.
    let e = parse(
        ClientKind::Copilot,
        &load("extra/copilot-notification-path-permission.json"),
        None,
        &origin(),
    )
    .unwrap();
    assert_eq!(e.event_name, "Notification");
}

// ---------------------------------------------------------------------------------------------
// The public evaluation corpus.

#[test]
fn every_public_corpus_event_parses() {
    let text = std::fs::read_to_string(samples_dir().join("public-hooks-events.jsonl")).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).unwrap();
        let client: ClientKind = row["client"].as_str().unwrap().parse().unwrap();
        let ev = &row["event"];
        let event = parse(client, ev.to_string().as_bytes(), None, &origin())
            .unwrap_or_else(|e| panic!("{}: {e}", row["id"]));
        let want_kind = ward_clients::event_kind(client, ev["hook_event_name"].as_str().unwrap());
        assert_eq!(Some(event.kind), want_kind, "{}", row["id"]);
        let call = event.call.expect("tool call");
        let input = &ev["tool_input"];
        let tool = ev["tool_name"].as_str().unwrap();
        let want = match tool {
            "Bash" => shell(input["command"].as_str().unwrap()),
            "Read" => read(&[input["file_path"].as_str().unwrap()]),
            "Write" => write(
                input["file_path"].as_str().unwrap(),
                input["content"].as_str(),
            ),
            t if t.starts_with("mcp__") => {
                let mut parts = t.splitn(3, "__").skip(1);
                mcp(parts.next().unwrap(), parts.next().unwrap(), input.clone())
            }
            other => panic!("corpus tool {other} not covered by this test"),
        };
        assert_eq!(call.action, want, "{}", row["id"]);
        assert_eq!(call.input, *input);
        assert_eq!(call.tool_name, tool);
        n += 1;
    }
    assert_eq!(n, 82);
}

// ---------------------------------------------------------------------------------------------
// Every event name of every client.

fn minimal_payload(client: ClientKind, name: &str) -> Value {
    let mut v = match client {
        ClientKind::Cursor => json!({
            "hook_event_name": name,
            "conversation_id": "conv-1",
            "generation_id": "gen-1",
            "workspace_roots": ["/w"],
            "command": "ls",
            "cwd": "/w",
            "tool_name": "Shell",
            "tool_input": {"command": "ls"},
            "file_path": "/w/a.txt",
        }),
        _ => json!({
            "hook_event_name": name,
            "session_id": "s-1",
            "cwd": "/w",
            "tool_name": "Bash",
            "tool_input": {"command": "ls"},
        }),
    };
    if name == "beforeMCPExecution" || name == "afterMCPExecution" {
        v["tool_name"] = json!("query");
        v["tool_input"] = json!("{\"sql\":\"select 1\"}");
        v["url"] = json!("http://localhost:3000/mcp");
    }
    v
}

#[test]
fn every_event_of_every_client_maps_to_its_kind() {
    for client in ClientKind::ALL {
        let names = event_names(client);
        assert!(!names.is_empty());
        for &(name, kind) in names {
            let event = parse_json(client, &minimal_payload(client, name), None)
                .unwrap_or_else(|e| panic!("{client} {name}: {e}"));
            assert_eq!(event.kind, kind, "{client} {name}");
            assert_eq!(event.event_name, name);
            if kind.needs_decision() {
                assert!(event.call.is_some(), "{client} {name} has no call");
            }
            // The same event named only by `--event`.
            let mut unnamed = minimal_payload(client, name);
            unnamed.as_object_mut().unwrap().remove("hook_event_name");
            let event = parse_json(client, &unnamed, Some(name)).unwrap();
            assert_eq!(event.kind, kind, "{client} --event {name}");
        }
    }
}

#[test]
fn event_tables_cover_the_documented_events() {
    let has = |c: ClientKind, n: &str| event_names(c).iter().any(|(name, _)| *name == n);
    for n in [
        "SessionStart",
        "Setup",
        "UserPromptSubmit",
        "UserPromptExpansion",
        "PreToolUse",
        "PermissionRequest",
        "PermissionDenied",
        "PostToolUse",
        "PostToolUseFailure",
        "PostToolBatch",
        "Notification",
        "MessageDisplay",
        "SubagentStart",
        "SubagentStop",
        "TaskCreated",
        "TaskCompleted",
        "Stop",
        "StopFailure",
        "TeammateIdle",
        "InstructionsLoaded",
        "ConfigChange",
        "CwdChanged",
        "DirectoryAdded",
        "FileChanged",
        "WorktreeCreate",
        "WorktreeRemove",
        "PreCompact",
        "PostCompact",
        "Elicitation",
        "ElicitationResult",
        "SessionEnd",
    ] {
        assert!(has(ClientKind::ClaudeCode, n), "claude {n}");
    }
    for n in [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PermissionRequest",
        "PostToolUse",
        "PreCompact",
        "PostCompact",
        "SubagentStart",
        "SubagentStop",
        "Stop",
        "StopFailure",
        "SessionEnd",
        "Interrupt",
    ] {
        assert!(has(ClientKind::Codex, n), "codex {n}");
    }
    for n in [
        "SessionStart",
        "SessionEnd",
        "BeforeAgent",
        "AfterAgent",
        "BeforeModel",
        "AfterModel",
        "BeforeToolSelection",
        "BeforeTool",
        "AfterTool",
        "PreCompress",
        "Notification",
    ] {
        assert!(has(ClientKind::Gemini, n), "gemini {n}");
    }
    for n in [
        "beforeShellExecution",
        "beforeMCPExecution",
        "beforeReadFile",
        "preToolUse",
        "afterShellExecution",
        "afterMCPExecution",
        "afterFileEdit",
        "beforeSubmitPrompt",
        "stop",
        "sessionStart",
        "sessionEnd",
        "postToolUse",
        "postToolUseFailure",
        "afterAgentResponse",
        "afterAgentThought",
        "beforeTabFileRead",
        "afterTabFileEdit",
    ] {
        assert!(has(ClientKind::Cursor, n), "cursor {n}");
    }
    for n in [
        "sessionStart",
        "sessionEnd",
        "userPromptSubmitted",
        "preToolUse",
        "postToolUse",
        "postToolUseFailure",
        "agentStop",
        "subagentStart",
        "subagentStop",
        "errorOccurred",
        "preCompact",
        "permissionRequest",
        "notification",
        "SessionStart",
        "SessionEnd",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PostToolUseFailure",
        "Stop",
        "SubagentStop",
        "ErrorOccurred",
        "PreCompact",
        "PermissionRequest",
        "Notification",
    ] {
        assert!(has(ClientKind::Copilot, n), "copilot {n}");
    }
}

#[test]
fn event_names_match_case_insensitively_and_keep_the_client_spelling() {
    let e = parse_json(
        ClientKind::ClaudeCode,
        &json!({"session_id": "s", "cwd": "/w", "tool_name": "Bash", "tool_input": {"command": "ls"}}),
        Some("pretooluse"),
    )
    .unwrap();
    assert_eq!(e.event_name, "PreToolUse");
    assert_eq!(e.kind, HookKind::PreTool);
}

#[test]
fn an_unknown_payload_name_falls_back_to_a_known_hint() {
    let v = json!({"hook_event_name": "FutureEvent", "session_id": "s", "cwd": "/w",
                   "tool_name": "Bash", "tool_input": {"command": "ls"}});
    let e = parse_json(ClientKind::ClaudeCode, &v, Some("PreToolUse")).unwrap();
    assert_eq!(e.kind, HookKind::PreTool);
    let e = parse_json(ClientKind::ClaudeCode, &v, None).unwrap_err();
    assert_eq!(e.code, ErrorCode::PayloadUnknownEvent);
    assert!(e.message.contains("`FutureEvent`"), "{}", e.message);
}

#[test]
fn copilot_events_are_inferred_from_their_fields() {
    let base = json!({"sessionId": "s", "timestamp": 1, "cwd": "/w"});
    let with = |extra: Value| {
        let mut v = base.clone();
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        ok(ClientKind::Copilot, v)
    };
    let cases = [
        (
            json!({"toolName": "bash", "toolArgs": {"command": "ls"}}),
            "preToolUse",
        ),
        (
            json!({"toolName": "bash", "toolArgs": "{\"command\":\"ls\"}", "toolResult": {"resultType": "failure", "textResultForLlm": "x"}}),
            "postToolUse",
        ),
        (
            json!({"toolName": "bash", "toolArgs": {"command": "ls"}, "error": "boom"}),
            "postToolUseFailure",
        ),
        (
            json!({"toolName": "bash", "toolInput": {"command": "ls"}}),
            "permissionRequest",
        ),
        (json!({"source": "new"}), "sessionStart"),
        (json!({"reason": "complete"}), "sessionEnd"),
        (json!({"prompt": "hi"}), "userPromptSubmitted"),
        (json!({"stop_hook_active": false}), "agentStop"),
        (
            json!({"transcriptPath": "/t", "stopReason": "end_turn"}),
            "agentStop",
        ),
        (
            json!({"error": {"message": "m", "name": "E"}, "errorContext": "system"}),
            "errorOccurred",
        ),
        (
            json!({"transcriptPath": "/t", "agentName": "a"}),
            "subagentStart",
        ),
        (
            json!({"transcriptPath": "/t", "agentName": "a", "stopReason": "end_turn"}),
            "subagentStop",
        ),
        (
            json!({"transcriptPath": "/t", "trigger": "auto", "customInstructions": ""}),
            "preCompact",
        ),
    ];
    for (extra, want) in cases {
        let e = with(extra.clone());
        assert_eq!(e.event_name, want, "{extra}");
    }
    let e = with(json!({"toolName": "bash", "toolArgs": "{\"command\":\"ls\"}", "error": "boom"}));
    let effect = e.effect.unwrap();
    assert!(!effect.success);
    assert_eq!(effect.error.as_deref(), Some("boom"));
    let e = err(ClientKind::Copilot, base);
    assert_eq!(e.code, ErrorCode::PayloadUnknownEvent);
    assert!(e.message.contains("`--event NAME`"));
}

// ---------------------------------------------------------------------------------------------
// Tool normalization per client.

fn claude(tool: &str, input: Value) -> Value {
    json!({"session_id": "s", "cwd": "/w", "hook_event_name": "PreToolUse",
           "tool_name": tool, "tool_input": input, "tool_use_id": "toolu_1"})
}

#[test]
fn claude_tools() {
    let c = ClientKind::ClaudeCode;
    assert_eq!(
        action(c, claude("Bash", json!({"command": "npm test"}))),
        shell("npm test")
    );
    assert_eq!(
        action(c, claude("Read", json!({"file_path": "/w/a"}))),
        read(&["/w/a"])
    );
    assert_eq!(
        action(
            c,
            claude("NotebookRead", json!({"notebook_path": "n.ipynb"}))
        ),
        read(&["n.ipynb"])
    );
    assert_eq!(
        action(c, claude("Grep", json!({"pattern": "x"}))),
        read(&["/w"])
    );
    assert_eq!(
        action(c, claude("Grep", json!({"pattern": "x", "path": "src"}))),
        read(&["src"])
    );
    assert_eq!(
        action(
            c,
            claude("Glob", json!({"pattern": "*.rs", "path": "/w/src"}))
        ),
        read(&["/w/src", "/w/src/*.rs"])
    );
    assert_eq!(
        action(c, claude("LS", json!({"path": "/etc"}))),
        read(&["/etc"])
    );
    assert_eq!(
        action(
            c,
            claude("Write", json!({"file_path": "a.txt", "content": "hi"}))
        ),
        write("a.txt", Some("hi"))
    );
    assert_eq!(
        action(
            c,
            claude(
                "Edit",
                json!({"file_path": "a.txt", "old_string": "x", "new_string": "y"})
            )
        ),
        write("a.txt", Some("y"))
    );
    assert_eq!(
        action(
            c,
            claude(
                "MultiEdit",
                json!({"file_path": "a.txt", "edits": [{"old_string": "a", "new_string": "b"}, {"old_string": "c", "new_string": "d"}]})
            )
        ),
        write("a.txt", Some("b\nd"))
    );
    assert_eq!(
        action(
            c,
            claude(
                "NotebookEdit",
                json!({"notebook_path": "n.ipynb", "new_source": "print(1)"})
            )
        ),
        write("n.ipynb", Some("print(1)"))
    );
    assert_eq!(
        action(
            c,
            claude("WebFetch", json!({"url": "https://x.dev/a", "prompt": "p"}))
        ),
        Action::WebFetch {
            url: "https://x.dev/a".into()
        }
    );
    assert_eq!(
        action(c, claude("WebSearch", json!({"query": "q"}))),
        Action::Other {
            name: "WebSearch".into()
        }
    );
    assert_eq!(
        action(c, claude("Task", json!({"prompt": "p"}))),
        Action::Other {
            name: "Task".into()
        }
    );
    assert_eq!(
        action(
            c,
            claude("mcp__github__create_pull_request", json!({"title": "t"}))
        ),
        mcp("github", "create_pull_request", json!({"title": "t"}))
    );
    assert_eq!(
        action(c, claude("mcp__my_srv__get__thing", json!({}))),
        mcp("my_srv", "get__thing", json!({}))
    );
    // A subagent's call carries its id.
    let mut v = claude("Bash", json!({"command": "ls"}));
    v["agent_id"] = json!("agent-7");
    assert_eq!(ok(c, v).call.unwrap().agent_id.as_deref(), Some("agent-7"));
}

#[test]
fn codex_tools() {
    let c = ClientKind::Codex;
    let codex = |tool: &str, input: Value| {
        json!({"session_id": "s", "turn_id": "t", "cwd": "/w", "hook_event_name": "PreToolUse",
               "model": "gpt-5.5", "tool_name": tool, "tool_input": input, "tool_use_id": "call_1"})
    };
    assert_eq!(
        action(c, codex("Bash", json!({"command": "cargo test"}))),
        shell("cargo test")
    );
    let patch = "*** Begin Patch\n*** Add File: docs/new.md\n+hello\n*** Update File: src/lib.rs\n@@\n-a\n+b\n*** Delete File: old.rs\n*** End Patch";
    let want = Action::FileWrite {
        paths: vec!["docs/new.md".into(), "src/lib.rs".into(), "old.rs".into()],
        content: Some(patch.into()),
    };
    assert_eq!(
        action(c, codex("apply_patch", json!({"command": patch}))),
        want
    );
    assert_eq!(
        action(c, codex("apply_patch", json!({"input": patch}))),
        want
    );
    let moved = "*** Begin Patch\n*** Update File: a.rs\n*** Move to: b.rs\n*** End Patch";
    assert_eq!(
        action(c, codex("apply_patch", json!({"command": moved}))),
        Action::FileWrite {
            paths: vec!["a.rs".into(), "b.rs".into()],
            content: Some(moved.into())
        }
    );
    assert_eq!(
        action(c, codex("mcp__linear__create_issue", json!({"title": "x"}))),
        mcp("linear", "create_issue", json!({"title": "x"}))
    );
    let e = err(c, codex("apply_patch", json!({"command": "not a patch"})));
    assert_eq!(e.code, ErrorCode::PayloadInvalid);
    assert!(e.message.contains("`apply_patch`"));
    let e = err(c, codex("apply_patch", json!({})));
    assert_eq!(e.message, "missing `tool_input.command`");
    // PostToolUse: a plain string response.
    let mut post = codex("Bash", json!({"command": "false"}));
    post["hook_event_name"] = json!("PostToolUse");
    post["tool_response"] = json!("Process exited with code 1\nOutput:\n");
    let effect = ok(c, post).effect.unwrap();
    assert!(!effect.success);
    assert_eq!(effect.exit_code, Some(1));
}

#[test]
fn gemini_tools() {
    let c = ClientKind::Gemini;
    let gemini = |tool: &str, input: Value| {
        json!({"session_id": "s", "transcript_path": "/t", "cwd": "/w", "hook_event_name": "BeforeTool",
               "timestamp": "2026-11-24T02:43:28.932Z", "tool_name": tool, "tool_input": input})
    };
    assert_eq!(
        action(
            c,
            gemini(
                "run_shell_command",
                json!({"command": "ls", "description": "d"})
            )
        ),
        shell("ls")
    );
    let e = ok(
        c,
        gemini(
            "run_shell_command",
            json!({"command": "ls", "dir_path": "sub"}),
        ),
    );
    assert_eq!(e.call.unwrap().cwd, "/w/sub");
    assert_eq!(
        action(c, gemini("read_file", json!({"absolute_path": "/w/a"}))),
        read(&["/w/a"])
    );
    assert_eq!(
        action(c, gemini("read_file", json!({"file_path": "/w/b"}))),
        read(&["/w/b"])
    );
    assert_eq!(
        action(c, gemini("read_many_files", json!({"paths": ["a", "b"]}))),
        read(&["a", "b"])
    );
    assert_eq!(
        action(c, gemini("read_many_files", json!({"include": ["*.md"]}))),
        read(&["*.md"])
    );
    assert_eq!(
        action(c, gemini("list_directory", json!({"path": "/w/src"}))),
        read(&["/w/src"])
    );
    assert_eq!(
        action(c, gemini("list_directory", json!({"dir_path": "src"}))),
        read(&["src"])
    );
    assert_eq!(
        action(c, gemini("glob", json!({"pattern": "**/*.ts"}))),
        read(&["/w", "/w/**/*.ts"])
    );
    assert_eq!(
        action(
            c,
            gemini(
                "search_file_content",
                json!({"pattern": "TODO", "path": "src"})
            )
        ),
        read(&["src"])
    );
    assert_eq!(
        action(
            c,
            gemini("write_file", json!({"file_path": "a", "content": "x"}))
        ),
        write("a", Some("x"))
    );
    assert_eq!(
        action(
            c,
            gemini(
                "replace",
                json!({"file_path": "a", "old_string": "x", "new_string": "y"})
            )
        ),
        write("a", Some("y"))
    );
    assert_eq!(
        action(
            c,
            gemini(
                "web_fetch",
                json!({"prompt": "Summarize https://example.com/page and http://b.org"})
            )
        ),
        Action::WebFetch {
            url: "https://example.com/page".into()
        }
    );
    assert_eq!(
        action(c, gemini("google_web_search", json!({"query": "q"}))),
        Action::Other {
            name: "google_web_search".into()
        }
    );
    assert_eq!(
        action(c, gemini("mcp__fs__read", json!({"p": 1}))),
        mcp("fs", "read", json!({"p": 1}))
    );
    let mut with_ctx = gemini("read_text", json!({"p": 1}));
    with_ctx["mcp_context"] =
        json!({"server_name": "files", "tool_name": "read_text", "command": "npx"});
    assert_eq!(
        action(c, with_ctx),
        mcp("files", "read_text", json!({"p": 1}))
    );
    let e = err(c, gemini("web_fetch", json!({"prompt": "no url"})));
    assert_eq!(e.message, "no URL in `tool_input.prompt`");
    // AfterTool with an error.
    let mut after = gemini("run_shell_command", json!({"command": "false"}));
    after["hook_event_name"] = json!("AfterTool");
    after["tool_response"] =
        json!({"llmContent": "Command: false\nExit Code: 1", "returnDisplay": "", "error": null});
    let effect = ok(c, after).effect.unwrap();
    assert!(!effect.success);
    assert_eq!(effect.exit_code, Some(1));
}

#[test]
fn copilot_tools_with_object_and_string_args() {
    let c = ClientKind::Copilot;
    for string_args in [false, true] {
        let copilot = |tool: &str, args: Value| {
            let args = if string_args {
                Value::String(args.to_string())
            } else {
                args
            };
            json!({"sessionId": "s", "timestamp": 1, "cwd": "/w", "toolName": tool, "toolArgs": args})
        };
        assert_eq!(
            action(
                c,
                copilot("bash", json!({"command": "ls", "description": "d"}))
            ),
            shell("ls")
        );
        assert_eq!(
            action(c, copilot("powershell", json!({"command": "dir"}))),
            shell("dir")
        );
        assert_eq!(
            action(c, copilot("view", json!({"path": "/w/a"}))),
            read(&["/w/a"])
        );
        assert_eq!(
            action(
                c,
                copilot("edit", json!({"path": "a", "old_str": "x", "new_str": "y"}))
            ),
            write("a", Some("y"))
        );
        assert_eq!(
            action(c, copilot("create", json!({"path": "a", "file_text": "t"}))),
            write("a", Some("t"))
        );
        assert_eq!(
            action(c, copilot("glob", json!({"pattern": "*.md"}))),
            read(&["/w", "/w/*.md"])
        );
        assert_eq!(
            action(c, copilot("grep", json!({"pattern": "x", "path": "src"}))),
            read(&["src"])
        );
        assert_eq!(
            action(c, copilot("web_fetch", json!({"url": "https://x.dev"}))),
            Action::WebFetch {
                url: "https://x.dev".into()
            }
        );
        assert_eq!(
            action(c, copilot("task", json!({}))),
            Action::Other {
                name: "task".into()
            }
        );
        assert_eq!(
            action(c, copilot("github-mcp-server-get_issue", json!({"n": 1}))),
            mcp("github-mcp-server", "get_issue", json!({"n": 1}))
        );
        assert_eq!(
            action(c, copilot("mcp__gh__get_issue", json!({}))),
            mcp("gh", "get_issue", json!({}))
        );
        // The decoded object is what the call keeps as input.
        let e = ok(c, copilot("bash", json!({"command": "ls"})));
        assert_eq!(e.call.unwrap().input, json!({"command": "ls"}));
    }
    // A non-JSON string for a shell tool is the command itself.
    let v = json!({"sessionId": "s", "cwd": "/w", "toolName": "bash", "toolArgs": "rm -rf /"});
    assert_eq!(action(c, v), shell("rm -rf /"));
    // PascalCase registration: Claude-style names and fields.
    let v = json!({"hook_event_name": "PreToolUse", "session_id": "s", "timestamp": "2026-11-24T02:43:37.025Z",
                   "cwd": "/w", "tool_name": "Bash", "tool_input": {"command": "ls"}});
    assert_eq!(action(c, v), shell("ls"));
}

#[test]
fn cursor_events() {
    let c = ClientKind::Cursor;
    let common = |name: &str| {
        json!({"hook_event_name": name, "conversation_id": "conv", "generation_id": "g",
               "workspace_roots": ["/proj"], "cursor_version": "1.7"})
    };
    let with = |name: &str, extra: Value| {
        let mut v = common(name);
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    };
    let e = ok(
        c,
        with(
            "beforeShellExecution",
            json!({"command": "npm i", "cwd": "/proj/sub"}),
        ),
    );
    assert_eq!(e.session_id, "conv");
    assert_eq!(e.cwd, "/proj/sub");
    let call = e.call.unwrap();
    assert_eq!(call.action, shell("npm i"));
    assert_eq!(call.tool_use_id, None);

    // tool_input as a JSON string, as an object, and as a non-JSON string.
    for (input, args) in [
        (
            json!("{\"query\":\"select 1\"}"),
            json!({"query": "select 1"}),
        ),
        (json!({"query": "select 1"}), json!({"query": "select 1"})),
        (json!("select 1"), json!("select 1")),
    ] {
        let e = ok(
            c,
            with(
                "beforeMCPExecution",
                json!({"tool_name": "db_query", "tool_input": input, "url": "http://localhost:3000/mcp"}),
            ),
        );
        assert_eq!(e.cwd, "/proj");
        assert_eq!(
            e.call.unwrap().action,
            mcp("http://localhost:3000/mcp", "db_query", args)
        );
    }
    let e = ok(
        c,
        with(
            "beforeMCPExecution",
            json!({"tool_name": "t", "tool_input": "{}", "command": "npx srv"}),
        ),
    );
    assert_eq!(e.call.unwrap().action, mcp("npx srv", "t", json!({})));

    let e = ok(
        c,
        with(
            "beforeReadFile",
            json!({"file_path": "/proj/.env", "content": "SECRET=1"}),
        ),
    );
    let call = e.call.unwrap();
    assert_eq!(call.action, read(&["/proj/.env"]));
    assert!(
        !call.input.to_string().contains("SECRET"),
        "file content must not be kept"
    );

    let e = ok(
        c,
        with(
            "preToolUse",
            json!({"tool_name": "Shell", "tool_input": {"command": "ls", "cwd": "sub"}}),
        ),
    );
    let call = e.call.unwrap();
    assert_eq!(call.action, shell("ls"));
    assert_eq!(call.cwd, "/proj/sub");
    assert_eq!(
        action(
            c,
            with(
                "preToolUse",
                json!({"tool_name": "Read", "tool_input": {"file_path": "a"}})
            )
        ),
        read(&["a"])
    );
    assert_eq!(
        action(
            c,
            with(
                "preToolUse",
                json!({"tool_name": "Write", "tool_input": "{\"file_path\":\"a\",\"contents\":\"x\"}"})
            )
        ),
        write("a", Some("x"))
    );
    assert_eq!(
        action(
            c,
            with(
                "preToolUse",
                json!({"tool_name": "MCP:search", "tool_input": {"q": 1}, "url": "https://m.dev/mcp"})
            )
        ),
        mcp("https://m.dev/mcp", "search", json!({"q": 1}))
    );

    let e = ok(
        c,
        with(
            "afterShellExecution",
            json!({"command": "ls", "output": "a\nb\n", "duration": 5}),
        ),
    );
    assert_eq!(e.kind, HookKind::PostTool);
    assert_eq!(e.effect.unwrap().output_bytes, 4);
    let e = ok(
        c,
        with(
            "afterMCPExecution",
            json!({"tool_name": "q", "tool_input": "{}", "result_json": "{\"isError\":true}"}),
        ),
    );
    assert!(!e.effect.unwrap().success);
    let e = ok(
        c,
        with(
            "afterFileEdit",
            json!({"file_path": "/proj/a.ts", "edits": [{"old_string": "1", "new_string": "2"}]}),
        ),
    );
    assert_eq!(e.call.unwrap().action, write("/proj/a.ts", Some("2")));
    let e = ok(
        c,
        with(
            "postToolUseFailure",
            json!({"tool_name": "Shell", "tool_input": {"command": "x"}, "error_message": "boom"}),
        ),
    );
    assert_eq!(e.effect.unwrap().error.as_deref(), Some("boom"));
    let e = ok(c, with("beforeSubmitPrompt", json!({"prompt": "hi"})));
    assert_eq!(e.kind, HookKind::Prompt);
    assert!(e.call.is_none());
    let e = ok(
        c,
        with("stop", json!({"status": "completed", "loop_count": 0})),
    );
    assert_eq!(e.kind, HookKind::Lifecycle);

    // No conversation id: a decision event cannot be attributed.
    let mut v = with("beforeShellExecution", json!({"command": "ls"}));
    v.as_object_mut().unwrap().remove("conversation_id");
    assert_eq!(err(c, v).message, "missing `conversation_id`");
    let e = err(c, with("beforeMCPExecution", json!({"tool_name": "t"})));
    assert_eq!(e.message, "missing `tool_input`");
}

#[test]
fn claude_post_tool_failure_and_effects() {
    let c = ClientKind::ClaudeCode;
    let mut v = claude("Bash", json!({"command": "false"}));
    v["hook_event_name"] = json!("PostToolUseFailure");
    v["error"] = json!("Command failed with exit code 1");
    v["is_interrupt"] = json!(false);
    let effect = ok(c, v).effect.unwrap();
    assert!(!effect.success);
    assert_eq!(
        effect.error.as_deref(),
        Some("Command failed with exit code 1")
    );

    let mut v = claude("Bash", json!({"command": "sleep 9"}));
    v["hook_event_name"] = json!("PostToolUse");
    v["tool_response"] = json!({"stdout": "out", "stderr": "e", "interrupted": true});
    let effect = ok(c, v).effect.unwrap();
    assert!(!effect.success);
    assert_eq!(effect.output_bytes, 4);

    // A post-tool event whose input ward cannot read is still recorded.
    let mut v = claude("Bash", json!({"cmd": 1}));
    v["hook_event_name"] = json!("PostToolUse");
    let e = ok(c, v);
    assert_eq!(
        e.call.unwrap().action,
        Action::Other {
            name: "Bash".into()
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Malformed, oversize, unknown and incomplete payloads.

fn assert_style(e: &WardError) {
    assert!(!e.message.is_empty());
    assert!(!e.message.contains('\n'), "{}", e.message);
    let first = e.message.chars().next().unwrap();
    assert!(!first.is_uppercase(), "{}", e.message);
    assert!(!e.message.ends_with('.'), "{}", e.message);
}

#[test]
fn malformed_and_non_object_payloads() {
    for client in ClientKind::ALL {
        for bad in [
            &b""[..],
            b"{",
            b"not json",
            b"{\"a\":1} trailing",
            b"\xff\xfe",
            b"{\"a\":\"\xff\"}",
        ] {
            let e = parse(client, bad, None, &origin()).unwrap_err();
            assert_eq!(e.code, ErrorCode::PayloadMalformed, "{client} {bad:?}");
            assert!(
                e.message.starts_with("payload is not valid JSON"),
                "{}",
                e.message
            );
            assert_style(&e);
        }
        for (non_object, name) in [
            ("[]", "an array"),
            ("\"x\"", "a string"),
            ("1", "a number"),
            ("null", "null"),
            ("true", "a boolean"),
        ] {
            let e = parse(client, non_object.as_bytes(), None, &origin()).unwrap_err();
            assert_eq!(e.code, ErrorCode::PayloadMalformed);
            assert_eq!(
                e.message,
                format!("payload must be a JSON object, not {name}")
            );
        }
        // Deep nesting is refused, not a stack overflow.
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let e = parse(client, deep.as_bytes(), None, &origin()).unwrap_err();
        assert_eq!(e.code, ErrorCode::PayloadMalformed);
    }
}

#[test]
fn oversize_payloads_are_refused_before_parsing() {
    let base = claude("Bash", json!({"command": "ls"})).to_string();
    let mut at_limit = base.clone().into_bytes();
    at_limit.resize(MAX_PAYLOAD_BYTES, b' ');
    assert!(parse(ClientKind::ClaudeCode, &at_limit, None, &origin()).is_ok());
    let mut over = at_limit.clone();
    over.push(b' ');
    let e = parse(ClientKind::ClaudeCode, &over, None, &origin()).unwrap_err();
    assert_eq!(e.code, ErrorCode::PayloadTooLarge);
    assert_eq!(
        e.message,
        "payload is 1048577 bytes, over the 1048576-byte limit"
    );
    // Even garbage is refused for its size first.
    let e = parse(
        ClientKind::Gemini,
        &vec![b'x'; MAX_PAYLOAD_BYTES + 10],
        None,
        &origin(),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::PayloadTooLarge);
}

#[test]
fn unknown_events() {
    let v = json!({"hook_event_name": "BeforeTool", "session_id": "s", "cwd": "/w"});
    let e = err(ClientKind::ClaudeCode, v);
    assert_eq!(e.code, ErrorCode::PayloadUnknownEvent);
    assert_eq!(e.message, "unknown claude-code event `BeforeTool`");
    assert_style(&e);
    let e = parse_json(
        ClientKind::Codex,
        &json!({"session_id": "s", "cwd": "/w"}),
        Some("Bogus"),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::PayloadUnknownEvent);
    assert_eq!(e.message, "unknown codex event `Bogus`");
}

#[test]
fn missing_and_mistyped_fields() {
    let c = ClientKind::ClaudeCode;
    let full = claude("Bash", json!({"command": "ls"}));
    let without = |key: &str| {
        let mut v = full.clone();
        v.as_object_mut().unwrap().remove(key);
        v
    };
    let cases = [
        (without("hook_event_name"), "missing `hook_event_name`"),
        (without("session_id"), "missing `session_id`"),
        (without("cwd"), "missing `cwd`"),
        (without("tool_name"), "missing `tool_name`"),
        (without("tool_input"), "missing `tool_input`"),
        (claude("Bash", json!({})), "missing `tool_input.command`"),
        (
            claude("Bash", json!({"command": 5})),
            "`tool_input.command` must be a string",
        ),
        (claude("Bash", json!([1])), "`tool_input` must be an object"),
        (claude("Read", json!({})), "missing `tool_input.file_path`"),
        (
            claude("Write", json!({"content": "x"})),
            "missing `tool_input.file_path`",
        ),
        (claude("WebFetch", json!({})), "missing `tool_input.url`"),
        (
            claude("Write", json!({"file_path": "a", "content": 1})),
            "`tool_input.content` must be a string",
        ),
    ];
    for (payload, want) in cases {
        let e = err(c, payload);
        assert_eq!(e.code, ErrorCode::PayloadInvalid, "{want}");
        assert_eq!(e.message, want);
        assert_style(&e);
    }
    let mut v = full.clone();
    v["session_id"] = json!(42);
    assert_eq!(err(c, v).message, "`session_id` must be a string");

    // Copilot names its own fields.
    let e = err(
        ClientKind::Copilot,
        json!({"sessionId": "s", "cwd": "/w", "toolName": "bash"}),
    );
    // toolName alone: no args, no result → cannot tell the event.
    assert_eq!(e.code, ErrorCode::PayloadUnknownEvent);
    let e = parse_json(
        ClientKind::Copilot,
        &json!({"sessionId": "s", "cwd": "/w", "toolName": "bash"}),
        Some("preToolUse"),
    )
    .unwrap_err();
    assert_eq!(e.message, "missing `toolArgs`");
    let e = parse_json(
        ClientKind::Copilot,
        &json!({"sessionId": "s", "cwd": "/w", "toolName": "view", "toolArgs": {}}),
        None,
    )
    .unwrap_err();
    assert_eq!(e.message, "missing `toolArgs.path`");

    let e = parse_json(
        ClientKind::Copilot,
        &json!({"cwd": "/w", "toolName": "bash", "toolArgs": {"command": "ls"}}),
        None,
    )
    .unwrap_err();
    assert_eq!(e.message, "missing `sessionId`");
    let e = parse_json(
        ClientKind::Copilot,
        &json!({"sessionId": "s", "cwd": "/w", "toolArgs": {"command": "ls"}}),
        Some("preToolUse"),
    )
    .unwrap_err();
    assert_eq!(e.message, "missing `toolName`");

    // Events that need no decision are recorded with what they carry.
    let e = ok(c, json!({"hook_event_name": "Stop"}));
    assert_eq!(e.kind, HookKind::Lifecycle);
    assert_eq!(e.session_id, "");
}

#[test]
fn unknown_fields_are_ignored() {
    let mut v = claude("Bash", json!({"command": "ls", "future": {"x": [1, 2]}}));
    v["mcp_server"] = json!({"name": "coop", "source": "dynamic"});
    v["effort"] = json!({"level": "high"});
    v["brand_new"] = json!(null);
    assert_eq!(action(ClientKind::ClaudeCode, v), shell("ls"));
}
