use super::*;
use serde_json::json;
use std::path::Path;

const BIN: &str = "/usr/local/bin/ward";

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn env() -> InstallEnv {
    InstallEnv::new("/home/u", "/work/repo")
}

#[test]
fn settings_paths_follow_the_environment() {
    let mut e = env();
    assert_eq!(
        settings_path(ClientKind::ClaudeCode, &e, None),
        Path::new("/home/u/.claude/settings.json")
    );
    assert_eq!(
        settings_path(ClientKind::Codex, &e, None),
        Path::new("/home/u/.codex/hooks.json")
    );
    assert_eq!(
        codex_config_path(&e),
        Path::new("/home/u/.codex/config.toml")
    );
    assert_eq!(
        settings_path(ClientKind::Gemini, &e, None),
        Path::new("/home/u/.gemini/settings.json")
    );
    assert_eq!(
        gemini_trusted_folders_path(&e),
        Path::new("/home/u/.gemini/trustedFolders.json")
    );
    assert_eq!(
        settings_path(ClientKind::Cursor, &e, None),
        Path::new("/home/u/.cursor/hooks.json")
    );
    assert_eq!(
        settings_path(ClientKind::Copilot, &e, None),
        Path::new("/home/u/.copilot/hooks/ward.json")
    );
    e.claude_config_dir = Some("/cfg/claude".into());
    e.codex_home = Some("/cfg/codex".into());
    e.copilot_home = Some("/cfg/copilot".into());
    e.gemini_cli_home = Some("/cfg/g".into());
    assert_eq!(
        settings_path(ClientKind::ClaudeCode, &e, None),
        Path::new("/cfg/claude/settings.json")
    );
    assert_eq!(
        settings_path(ClientKind::Codex, &e, None),
        Path::new("/cfg/codex/hooks.json")
    );
    assert_eq!(codex_config_path(&e), Path::new("/cfg/codex/config.toml"));
    assert_eq!(
        settings_path(ClientKind::Copilot, &e, None),
        Path::new("/cfg/copilot/hooks/ward.json")
    );
    assert_eq!(
        settings_path(ClientKind::Gemini, &e, None),
        Path::new("/cfg/g/.gemini/settings.json")
    );
    // Project level, relative to the current directory.
    let p = Some(Path::new("sub"));
    assert_eq!(
        settings_path(ClientKind::ClaudeCode, &e, p),
        Path::new("/work/repo/sub/.claude/settings.json")
    );
    assert_eq!(
        settings_path(ClientKind::Codex, &e, p),
        Path::new("/work/repo/sub/.codex/hooks.json")
    );
    assert_eq!(
        settings_path(ClientKind::Copilot, &e, Some(Path::new("/abs"))),
        Path::new("/abs/.github/hooks/ward.json")
    );
}

#[test]
fn from_vars_reads_the_variables_and_needs_home() {
    let vars = |k: &str| match k {
        "HOME" => Some("/h".to_string()),
        "CODEX_HOME" => Some("/c".to_string()),
        "CLAUDE_CONFIG_DIR" => Some(String::new()),
        _ => None,
    };
    let e = InstallEnv::from_vars(vars, "/w").unwrap();
    assert_eq!(e.home, Path::new("/h"));
    assert_eq!(e.codex_home.as_deref(), Some(Path::new("/c")));
    assert_eq!(e.claude_config_dir, None);
    assert!(InstallEnv::from_vars(|_| None, "/w").is_err());
}

#[test]
fn ward_commands_are_recognised_by_program_name() {
    let c = parse_ward_command("'/opt/my tools/ward' hook copilot --event preToolUse").unwrap();
    assert_eq!(c.program, "/opt/my tools/ward");
    assert_eq!(c.client.as_deref(), Some("copilot"));
    assert_eq!(c.event.as_deref(), Some("preToolUse"));
    assert!(parse_ward_command("ward hook codex").is_some());
    assert!(parse_ward_command("/x/forward hook codex").is_none());
    assert!(parse_ward_command("/x/ward policy check").is_none());
    assert!(parse_ward_command("echo ward hook").is_none());
    assert_eq!(
        hook_command(ClientKind::Copilot, "/a b/ward", "preToolUse"),
        "'/a b/ward' hook copilot --event preToolUse"
    );
    assert_eq!(
        hook_command(ClientKind::ClaudeCode, BIN, "PreToolUse"),
        "/usr/local/bin/ward hook claude-code"
    );
}

#[test]
fn claude_fresh_install_has_every_event_and_matches_all_tools() {
    let out = install_entry(ClientKind::ClaudeCode, None, BIN).unwrap();
    assert!(out.changed);
    let v = parse(&out.text);
    let hooks = v["hooks"].as_object().unwrap();
    for ev in [
        "PreToolUse",
        "PostToolUse",
        "PostToolUseFailure",
        "PermissionRequest",
        "SessionStart",
        "SessionEnd",
        "UserPromptSubmit",
        "Stop",
        "SubagentStart",
        "SubagentStop",
    ] {
        let groups = hooks[ev].as_array().unwrap();
        assert_eq!(groups.len(), 1, "{ev}");
        assert_eq!(
            groups[0]["hooks"][0]["command"],
            "/usr/local/bin/ward hook claude-code"
        );
        assert_eq!(groups[0]["hooks"][0]["type"], "command");
    }
    assert_eq!(hooks["PreToolUse"][0]["matcher"], "*");
    assert_eq!(hooks["PreToolUse"][0]["hooks"][0]["timeout"], 30);
    assert!(hooks["Stop"][0].get("matcher").is_none());
}

#[test]
fn install_is_idempotent_for_every_client() {
    for client in ClientKind::ALL {
        let first = install_entry(client, None, BIN).unwrap();
        let second = install_entry(client, Some(&first.text), BIN).unwrap();
        assert!(!second.changed, "{client}");
        assert_eq!(second.text, first.text, "{client}");
        // Unchanged means byte for byte, whatever the formatting.
        let compact = serde_json::to_string(&parse(&first.text)).unwrap();
        let third = install_entry(client, Some(&compact), BIN).unwrap();
        assert!(!third.changed, "{client}");
        assert_eq!(third.text, compact);
    }
}

#[test]
fn install_keeps_foreign_hooks_and_unrelated_keys() {
    let existing = json!({
        "model": "opus",
        "permissions": {"allow": ["Bash(ls)"]},
        "hooks": {
            "PreToolUse": [
                {"matcher": "Bash", "hooks": [{"type": "command", "command": "/opt/lint.sh"}]}
            ],
            "Notification": [{"hooks": [{"type": "command", "command": "notify-send hi"}]}]
        },
        "zzz": 1
    })
    .to_string();
    let out = install_entry(ClientKind::ClaudeCode, Some(&existing), BIN).unwrap();
    assert!(out.changed);
    let v = parse(&out.text);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["model", "permissions", "hooks", "zzz"]);
    assert_eq!(v["permissions"]["allow"][0], "Bash(ls)");
    let pre = v["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre.len(), 2);
    assert_eq!(pre[0]["hooks"][0]["command"], "/opt/lint.sh");
    assert_eq!(
        pre[1]["hooks"][0]["command"],
        "/usr/local/bin/ward hook claude-code"
    );
    assert_eq!(
        v["hooks"]["Notification"][0]["hooks"][0]["command"],
        "notify-send hi"
    );
}

#[test]
fn install_replaces_an_old_ward_entry_in_place() {
    let existing = json!({
        "hooks": {
            "PreToolUse": [
                {"matcher": "Bash", "hooks": [{"type": "command", "command": "/old/bin/ward hook claude-code", "timeout": 5}]},
                {"hooks": [{"type": "command", "command": "/opt/lint.sh"}]}
            ],
            "PostToolUse": [
                {"hooks": [
                    {"type": "command", "command": "/opt/log.sh"},
                    {"type": "command", "command": "/old/bin/ward hook claude-code"}
                ]}
            ],
            "Notification": [{"hooks": [{"type": "command", "command": "/old/bin/ward hook claude-code"}]}]
        }
    })
    .to_string();
    let out = install_entry(ClientKind::ClaudeCode, Some(&existing), BIN).unwrap();
    let v = parse(&out.text);
    let pre = v["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre.len(), 2, "{pre:?}");
    assert_eq!(pre[0]["matcher"], "*");
    assert_eq!(
        pre[0]["hooks"][0]["command"],
        "/usr/local/bin/ward hook claude-code"
    );
    assert_eq!(pre[0]["hooks"][0]["timeout"], 30);
    assert_eq!(pre[1]["hooks"][0]["command"], "/opt/lint.sh");
    // The ward handler inside someone else's group is taken out; the group stays.
    let post = v["hooks"]["PostToolUse"].as_array().unwrap();
    assert_eq!(post.len(), 2);
    assert_eq!(post[0]["hooks"].as_array().unwrap().len(), 1);
    assert_eq!(post[0]["hooks"][0]["command"], "/opt/log.sh");
    assert_eq!(
        post[1]["hooks"][0]["command"],
        "/usr/local/bin/ward hook claude-code"
    );
    // An event ward no longer uses loses ward's entry (and the list it emptied).
    assert!(v["hooks"].get("Notification").is_none());
    // Exactly one ward handler per event.
    for (ev, groups) in v["hooks"].as_object().unwrap() {
        let n = groups
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["hooks"].as_array().unwrap())
            .filter(|h| is_ward_handler(h))
            .count();
        assert_eq!(n, 1, "{ev}");
    }
}

#[test]
fn uninstall_removes_only_ward() {
    for client in ClientKind::ALL {
        let foreign = match shape(client) {
            Shape::Grouped => json!({
                "theme": "dark",
                "hooks": {"PreToolUse": [{"hooks": [{"type": "command", "command": "/opt/lint.sh"}]}]}
            }),
            Shape::Flat => json!({
                "version": 1,
                "hooks": {"preToolUse": [{"type": "command", "bash": "/opt/lint.sh", "command": "/opt/lint.sh"}]}
            }),
        };
        let foreign_text = serde_json::to_string_pretty(&foreign).unwrap();
        let installed = install_entry(client, Some(&foreign_text), BIN).unwrap();
        assert!(installed.changed);
        let removed = uninstall_entry(client, Some(&installed.text)).unwrap();
        assert!(removed.changed, "{client}");
        assert!(!removed.remove_file);
        assert_eq!(parse(&removed.text), foreign, "{client}");
        let again = uninstall_entry(client, Some(&removed.text)).unwrap();
        assert!(!again.changed);
    }
}

#[test]
fn uninstall_of_a_ward_only_file() {
    let installed = install_entry(ClientKind::Copilot, None, BIN).unwrap();
    let removed = uninstall_entry(ClientKind::Copilot, Some(&installed.text)).unwrap();
    assert!(removed.changed && removed.remove_file);
    let installed = install_entry(ClientKind::ClaudeCode, None, BIN).unwrap();
    let removed = uninstall_entry(ClientKind::ClaudeCode, Some(&installed.text)).unwrap();
    assert_eq!(parse(&removed.text), json!({}));
    assert!(!removed.remove_file);
    let nothing = uninstall_entry(ClientKind::Codex, None).unwrap();
    assert!(!nothing.changed);
}

#[test]
fn client_specific_shapes() {
    let v = parse(&install_entry(ClientKind::Gemini, None, BIN).unwrap().text);
    assert_eq!(v["hooks"]["BeforeTool"][0]["matcher"], ".*");
    assert_eq!(v["hooks"]["BeforeTool"][0]["hooks"][0]["timeout"], 30000);
    assert_eq!(
        v["hooks"]["BeforeTool"][0]["hooks"][0]["command"],
        "/usr/local/bin/ward hook gemini"
    );
    for ev in ["AfterTool", "SessionStart", "SessionEnd", "BeforeAgent"] {
        assert!(v["hooks"][ev].is_array(), "{ev}");
    }

    let v = parse(&install_entry(ClientKind::Cursor, None, BIN).unwrap().text);
    assert_eq!(v["version"], 1);
    assert_eq!(
        v["hooks"]["beforeShellExecution"],
        json!([{"command": "/usr/local/bin/ward hook cursor", "failClosed": true}])
    );
    assert_eq!(
        v["hooks"]["afterFileEdit"],
        json!([{"command": "/usr/local/bin/ward hook cursor"}])
    );
    for ev in [
        "beforeMCPExecution",
        "beforeReadFile",
        "afterShellExecution",
        "afterMCPExecution",
    ] {
        assert!(v["hooks"][ev].is_array(), "{ev}");
    }

    let v = parse(&install_entry(ClientKind::Copilot, None, BIN).unwrap().text);
    assert_eq!(v.as_object().unwrap().keys().next().unwrap(), "version");
    assert_eq!(
        v["hooks"]["preToolUse"],
        json!([{"type": "command", "bash": "/usr/local/bin/ward hook copilot --event preToolUse", "timeoutSec": 30}])
    );
    for ev in [
        "postToolUse",
        "sessionStart",
        "sessionEnd",
        "permissionRequest",
    ] {
        assert_eq!(
            v["hooks"][ev][0]["bash"],
            format!("/usr/local/bin/ward hook copilot --event {ev}")
        );
    }

    let v = parse(&install_entry(ClientKind::Codex, None, BIN).unwrap().text);
    let events: Vec<&String> = v["hooks"].as_object().unwrap().keys().collect();
    assert_eq!(
        events,
        [
            "PreToolUse",
            "PermissionRequest",
            "PostToolUse",
            "UserPromptSubmit",
            "SessionStart",
            "Stop"
        ]
    );
    assert_eq!(
        v["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "/usr/local/bin/ward hook codex"
    );
}

#[test]
fn flat_install_adds_a_missing_version_first() {
    let out = install_entry(ClientKind::Cursor, Some(r#"{"hooks":{}}"#), BIN).unwrap();
    let v = parse(&out.text);
    assert_eq!(v.as_object().unwrap().keys().next().unwrap(), "version");
}

#[test]
fn invalid_settings_are_refused_not_clobbered() {
    let err = install_entry(ClientKind::ClaudeCode, Some("{ nope"), BIN).unwrap_err();
    assert_eq!(err.code, ErrorCode::Config);
    assert!(install_entry(ClientKind::ClaudeCode, Some("[]"), BIN).is_err());
    assert!(install_entry(ClientKind::ClaudeCode, Some(r#"{"hooks": 3}"#), BIN).is_err());
    assert!(
        install_entry(
            ClientKind::ClaudeCode,
            Some(r#"{"hooks": {"PreToolUse": {}}}"#),
            BIN
        )
        .is_err()
    );
    // Whitespace only counts as empty.
    assert!(
        install_entry(ClientKind::ClaudeCode, Some("  \n"), BIN)
            .unwrap()
            .changed
    );
}

#[test]
fn gemini_settings_with_comments_are_accepted_with_a_note() {
    let text = "{\n  // my settings\n  \"theme\": \"x // not a comment\" /* c */\n}\n";
    let out = install_entry(ClientKind::Gemini, Some(text), BIN).unwrap();
    assert!(out.changed);
    assert_eq!(out.notes.len(), 1);
    let v = parse(&out.text);
    assert_eq!(v["theme"], "x // not a comment");
    // Claude Code settings are strict JSON.
    assert!(install_entry(ClientKind::ClaudeCode, Some(text), BIN).is_err());
}

// ------------------------------------------------------------------------------------ Codex

/// Captured from the real Codex 0.169.0: `codex app-server` `hooks/list` reported these
/// `currentHash` values for `/tmp/wardtrust/home/.codex/hooks.json` holding exactly these
/// handlers.
#[test]
fn codex_hash_known_answers_from_codex_0_169() {
    let path = Path::new("/tmp/wardtrust/home/.codex/hooks.json");
    let cmd = "/usr/local/bin/ward hook codex";
    let file = json!({"hooks": {
        "PreToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": cmd, "timeout": 30}]}],
        "PostToolUse": [{"hooks": [{"type": "command", "command": cmd}]}],
        "UserPromptSubmit": [{"matcher": "*", "hooks": [{"type": "command", "command": cmd, "timeout": 30}]}],
        "SessionEnd": [{"hooks": [{"type": "command", "command": cmd, "timeout": 30}]}],
        "SubagentStart": [{"hooks": [{"type": "command", "command": cmd, "timeout": 30}]}],
        "Stop": [{"hooks": [{"type": "command", "command": cmd, "timeout": 30}]}],
        "PermissionRequest": [{"matcher": "*", "hooks": [{"type": "command", "command": cmd, "timeout": 30}]}],
        "SessionStart": [{"matcher": "*", "hooks": [{"type": "command", "command": cmd, "timeout": 30}]}]
    }})
    .to_string();
    let got: std::collections::HashMap<String, String> = codex_trust_entries(path, &file)
        .unwrap()
        .into_iter()
        .collect();
    let want = [
        (
            "pre_tool_use:0:0",
            "sha256:67b4edb894ef497ed0d53cd7d9ab0cd9b0fbb9d78294d5e21521b9baba72be4f",
        ),
        (
            "permission_request:0:0",
            "sha256:df00bd6944b07d1b3a042ced3eb880e5b1b496afcb3e397fc0bc4d61f622cf23",
        ),
        (
            "post_tool_use:0:0",
            "sha256:2217cffa10f80dad52ed6d789883e424aba7f7bb0d7caef9fd93b98f801bd397",
        ),
        (
            "session_start:0:0",
            "sha256:b1ae52ad343a7810c38ec3887e14d51532c8f6018284b146388f147240021e96",
        ),
        (
            "session_end:0:0",
            "sha256:d0a14333d1778a769fe9bc244d154230f78785d3cc2a38376155bfb9104e3f1f",
        ),
        (
            "user_prompt_submit:0:0",
            "sha256:d900b1f6ad3bf3661130676edd1a9f9ebe1c154001e9296ffd9b6f06b8352c4f",
        ),
        (
            "subagent_start:0:0",
            "sha256:5ef232d15a0d6f5f3c4ee33e0f7f3b13124e4833a8a3e403107feba44bf88573",
        ),
        (
            "stop:0:0",
            "sha256:99a4302326c2028b721131d67abc6dd8716e11204f220596b297640bc8fddd6a",
        ),
    ];
    assert_eq!(got.len(), want.len());
    for (suffix, hash) in want {
        let key = format!("/tmp/wardtrust/home/.codex/hooks.json:{suffix}");
        assert_eq!(got.get(&key).map(String::as_str), Some(hash), "{key}");
    }
}

/// More Codex 0.169.0 answers: timeouts at their limits, an empty matcher, optional fields,
/// non-ASCII text, and a second group/handler index.
#[test]
fn codex_hash_known_answers_edge_cases() {
    let path = Path::new("/tmp/wardtrust/home/.codex/hooks.json");
    let file = json!({"hooks": {
        "PreToolUse": [
            {"matcher": "*", "hooks": [{"type": "command", "command": "c", "timeout": 30}]},
            {"matcher": "", "hooks": [{"type": "command", "command": "c", "timeout": 0}]},
            {"hooks": [{"type": "command", "command": "c", "timeout": 5000}]}
        ],
        "PreCompact": [{"matcher": "*", "hooks": [{"type": "command", "command": "c", "timeout": 30}]}],
        "Stop": [{"matcher": "*", "hooks": [{"type": "command", "command": "c", "timeout": 30}]}],
        "SessionEnd": [{"matcher": "*", "hooks": [{"type": "command", "command": "c", "timeout": 1}]}]
    }})
    .to_string();
    let hooks = codex_hooks(path, &file).unwrap();
    let get = |suffix: &str| {
        hooks
            .iter()
            .find(|h| h.key.ends_with(suffix))
            .and_then(|h| h.hash.clone())
            .unwrap()
    };
    assert_eq!(
        get(":pre_tool_use:0:0"),
        "sha256:5d38ccf39993de8d9201ddd6ad2dcfedbf06bee1d17e96939b26dda3ce13568d"
    );
    assert_eq!(
        get(":pre_tool_use:1:0"),
        "sha256:3c413f24453a8f843c2d80afe0eb824899962d4aa55d2d69fe1a356ade4c37cd"
    );
    assert_eq!(
        get(":pre_tool_use:2:0"),
        "sha256:c9ffec3ee28f3e267a36e900c59c601bf79ac25e22ec057fa2d14f0b2214eec9"
    );
    assert_eq!(
        get(":pre_compact:0:0"),
        "sha256:85c42214b233a78597116e34c3341cc2d8142f2ec6652461ab73c50784f9d709"
    );
    assert_eq!(
        get(":stop:0:0"),
        "sha256:95462bbe63cfcfad6056ab5763219acf75ebe02ce1703add93772e0123f30d89"
    );
    assert_eq!(
        get(":session_end:0:0"),
        "sha256:6dbce233a7060389b8689283b8b58ad7da9ee45c07078eb552b7e545d935e09d"
    );
    // None of these is ward's: nothing to trust on the user's behalf.
    assert!(codex_trust_entries(path, &file).unwrap().is_empty());

    let file = json!({"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{
        "type": "command", "command": "c é", "timeout": 30, "statusMessage": "checking",
        "async": true, "additionalContextLimit": 100, "commandWindows": "w"
    }]}]}})
    .to_string();
    assert_eq!(
        codex_hooks(path, &file).unwrap()[0].hash.as_deref(),
        Some("sha256:464d300befa93dd5ba3e82e81833fba5d035093fc7dc73cf3d79bd776e587c81")
    );
}

#[test]
fn codex_files_codex_cannot_parse_are_reported() {
    let path = Path::new("/h/.codex/hooks.json");
    for bad in [
        r#"{"hooks":{"PreToolUse":[{"hooks":[{"type":"http","url":"x"}]}]}}"#,
        r#"{"hooks":{"PreToolUse":[{"hooks":[{"type":"command"}]}]}}"#,
        r#"{"hooks":{"PreToolUse":[{"hooks":[{"type":"command","command":"c","timeout":-1}]}]}}"#,
        r#"{"hooks":{"PreToolUse":{}}}"#,
        "nope",
    ] {
        assert!(codex_hooks(path, bad).is_err(), "{bad}");
    }
    // Unknown events are ignored by Codex.
    assert!(
        codex_hooks(path, r#"{"hooks":{"Whatever":3}}"#)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn apply_codex_trust_keeps_the_users_formatting() {
    let config = "# my config\nmodel = \"gpt-5.5\"   # pinned\n\n[projects.\"/w\"]\ntrust_level = \"trusted\"\n";
    let entries = vec![
        (
            "/h/.codex/hooks.json:pre_tool_use:0:0".to_string(),
            "sha256:aa".to_string(),
        ),
        (
            "/h/.codex/hooks.json:stop:0:0".to_string(),
            "sha256:bb".to_string(),
        ),
    ];
    let out = apply_codex_trust(Some(config), &entries).unwrap();
    assert!(out.starts_with(config), "{out}");
    assert!(out.contains(
        "[hooks.state.\"/h/.codex/hooks.json:pre_tool_use:0:0\"]\ntrusted_hash = \"sha256:aa\""
    ));
    assert!(!out.contains("[hooks]\n"));
    assert!(!out.contains("[hooks.state]\n"));
    let states = codex_trust_states(Some(&out)).unwrap();
    assert_eq!(
        states["/h/.codex/hooks.json:stop:0:0"]
            .trusted_hash
            .as_deref(),
        Some("sha256:bb")
    );
    // Idempotent, and an existing entry keeps its other keys.
    assert_eq!(apply_codex_trust(Some(&out), &entries).unwrap(), out);
    let with_enabled = out.replace(
        "trusted_hash = \"sha256:bb\"",
        "trusted_hash = \"sha256:old\"\nenabled = true",
    );
    let updated = apply_codex_trust(Some(&with_enabled), &entries).unwrap();
    let s = &codex_trust_states(Some(&updated)).unwrap()["/h/.codex/hooks.json:stop:0:0"];
    assert_eq!(s.trusted_hash.as_deref(), Some("sha256:bb"));
    assert_eq!(s.enabled, Some(true));
    // No config yet.
    let fresh = apply_codex_trust(None, &entries).unwrap();
    assert_eq!(codex_trust_states(Some(&fresh)).unwrap().len(), 2);
    assert!(apply_codex_trust(Some("x = "), &entries).is_err());
    let removed = remove_codex_trust(Some(&fresh), &[entries[0].0.clone()]).unwrap();
    assert_eq!(codex_trust_states(Some(&removed)).unwrap().len(), 1);
}

#[test]
fn codex_update_config_trusts_ward_and_carries_foreign_trust() {
    let path = Path::new("/h/.codex/hooks.json");
    let user = json!({"hooks": {"PreToolUse": [
        {"hooks": [{"type": "command", "command": "/opt/lint.sh"}]}
    ]}})
    .to_string();
    let user_hash = codex_hooks(path, &user).unwrap()[0].hash.clone().unwrap();
    // The user trusted their hook; ward's old entry sits before it.
    let old = json!({"hooks": {"PreToolUse": [
        {"hooks": [{"type": "command", "command": "/old/ward hook codex"}]},
        {"hooks": [{"type": "command", "command": "/opt/lint.sh"}]}
    ]}})
    .to_string();
    let config = format!(
        "[hooks.state.\"/h/.codex/hooks.json:pre_tool_use:1:0\"]\ntrusted_hash = \"{user_hash}\"\n\
         [hooks.state.\"/h/.codex/hooks.json:pre_tool_use:0:0\"]\ntrusted_hash = \"sha256:oldward\"\n"
    );
    // Uninstall: the user's hook moves from group 1 to group 0 and keeps its trust;
    // ward's trust disappears.
    let new = uninstall_entry(ClientKind::Codex, Some(&old)).unwrap().text;
    let cfg = codex_update_config(Some(&config), path, Some(&old), &new).unwrap();
    let states = codex_trust_states(Some(&cfg)).unwrap();
    assert_eq!(states.len(), 1, "{cfg}");
    assert_eq!(
        states["/h/.codex/hooks.json:pre_tool_use:0:0"]
            .trusted_hash
            .as_deref(),
        Some(user_hash.as_str())
    );
    // Install again: ward goes to the end, every ward handler is trusted, the user's stays.
    let installed = install_entry(ClientKind::Codex, Some(&new), "/usr/bin/ward")
        .unwrap()
        .text;
    let cfg2 = codex_update_config(Some(&cfg), path, Some(&new), &installed).unwrap();
    let states = codex_trust_states(Some(&cfg2)).unwrap();
    for h in codex_hooks(path, &installed).unwrap() {
        assert_eq!(
            states.get(&h.key).and_then(|s| s.trusted_hash.clone()),
            h.hash,
            "{}",
            h.key
        );
    }
    // Running it again changes nothing.
    assert_eq!(
        codex_update_config(Some(&cfg2), path, Some(&installed), &installed).unwrap(),
        cfg2
    );
    // Nothing to do on a config without state and a file without ward.
    assert_eq!(codex_update_config(None, path, None, &user).unwrap(), "");
}

// ----------------------------------------------------------------------------------- doctor

fn exe(_: &str) -> BinaryStatus {
    BinaryStatus::Executable
}

fn run_doctor(
    client: ClientKind,
    settings: Option<&str>,
    codex_config: Option<&str>,
    trusted: Option<&str>,
    bin: &dyn Fn(&str) -> BinaryStatus,
) -> Vec<Finding> {
    let e = env();
    let input = DoctorInput {
        client_present: true,
        files: vec![SettingsFile {
            path: settings_path(client, &e, None),
            contents: settings.map(str::to_string),
        }],
        codex_config: codex_config.map(str::to_string),
        gemini_trusted_folders: trusted.map(str::to_string),
        cwd: "/work/repo".into(),
        binary_status: bin,
    };
    doctor(client, &input)
}

fn codes(findings: &[Finding]) -> Vec<(&'static str, Severity)> {
    findings.iter().map(|f| (f.code, f.severity)).collect()
}

fn has(findings: &[Finding], code: &str, sev: Severity) -> bool {
    findings.iter().any(|f| f.code == code && f.severity == sev)
}

fn healthy_codex() -> (String, String) {
    let e = env();
    let hooks = install_entry(ClientKind::Codex, None, BIN).unwrap().text;
    let path = settings_path(ClientKind::Codex, &e, None);
    let cfg = codex_update_config(None, &path, None, &hooks).unwrap();
    (hooks, cfg)
}

#[test]
fn doctor_is_happy_after_install() {
    for client in [
        ClientKind::ClaudeCode,
        ClientKind::Cursor,
        ClientKind::Copilot,
    ] {
        let text = install_entry(client, None, BIN).unwrap().text;
        let f = run_doctor(client, Some(&text), None, None, &exe);
        assert_eq!(codes(&f), [("hook-ok", Severity::Ok)], "{client}: {f:?}");
    }
    let (hooks, cfg) = healthy_codex();
    let f = run_doctor(ClientKind::Codex, Some(&hooks), Some(&cfg), None, &exe);
    assert_eq!(
        codes(&f),
        [("hook-ok", Severity::Ok), ("codex-trust-ok", Severity::Ok)],
        "{f:?}"
    );
    let text = install_entry(ClientKind::Gemini, None, BIN).unwrap().text;
    let f = run_doctor(
        ClientKind::Gemini,
        Some(&text),
        None,
        Some(r#"{"/work": "TRUST_FOLDER"}"#),
        &exe,
    );
    assert_eq!(
        codes(&f),
        [
            ("hook-ok", Severity::Ok),
            ("gemini-folder-trusted", Severity::Ok)
        ],
        "{f:?}"
    );
}

#[test]
fn doctor_reports_a_missing_hook() {
    let f = run_doctor(ClientKind::ClaudeCode, None, None, None, &exe);
    assert_eq!(codes(&f), [("hook-missing", Severity::Error)]);
    let f = run_doctor(
        ClientKind::ClaudeCode,
        Some(r#"{"hooks":{}}"#),
        None,
        None,
        &exe,
    );
    assert_eq!(codes(&f), [("hook-missing", Severity::Error)]);
    // Registered, but not on the decision event.
    let text = json!({"hooks": {"PostToolUse": [{"hooks": [{"type": "command", "command": "ward hook claude-code"}]}]}}).to_string();
    let f = run_doctor(ClientKind::ClaudeCode, Some(&text), None, None, &exe);
    assert!(has(&f, "hook-missing", Severity::Error), "{f:?}");
    assert!(has(&f, "hook-event-missing", Severity::Warn), "{f:?}");
    // A client that is not set up at all is skipped.
    let input = DoctorInput {
        client_present: false,
        files: vec![SettingsFile {
            path: "/home/u/.cursor/hooks.json".into(),
            contents: None,
        }],
        codex_config: None,
        gemini_trusted_folders: None,
        cwd: "/".into(),
        binary_status: &exe,
    };
    assert_eq!(
        codes(&doctor(ClientKind::Cursor, &input)),
        [("client-not-set-up", Severity::Ok)]
    );
}

#[test]
fn doctor_reports_invalid_settings() {
    let f = run_doctor(ClientKind::ClaudeCode, Some("{"), None, None, &exe);
    assert!(has(&f, "settings-invalid", Severity::Error), "{f:?}");
}

#[test]
fn doctor_reports_codex_trust_missing_and_stale() {
    let (hooks, cfg) = healthy_codex();
    let f = run_doctor(ClientKind::Codex, Some(&hooks), None, None, &exe);
    assert!(has(&f, "codex-trust-missing", Severity::Error), "{f:?}");
    // The hook command changed after it was trusted.
    let edited = hooks.replace(
        "/usr/local/bin/ward hook codex",
        "/usr/local/bin/ward  hook codex",
    );
    let f = run_doctor(ClientKind::Codex, Some(&edited), Some(&cfg), None, &exe);
    assert!(has(&f, "codex-trust-stale", Severity::Error), "{f:?}");
    // Disabled in config.toml.
    let disabled = cfg.replacen("trusted_hash", "enabled = false\ntrusted_hash", 1);
    let f = run_doctor(ClientKind::Codex, Some(&hooks), Some(&disabled), None, &exe);
    assert!(has(&f, "codex-hook-disabled", Severity::Error), "{f:?}");
    // Hooks switched off altogether.
    let off = format!("[features]\nhooks = false\n{cfg}");
    let f = run_doctor(ClientKind::Codex, Some(&hooks), Some(&off), None, &exe);
    assert!(has(&f, "codex-hooks-disabled", Severity::Error), "{f:?}");
    // Someone else's hook Codex cannot parse makes Codex drop the whole file.
    let mut v = parse(&hooks);
    v["hooks"]["PreToolUse"]
        .as_array_mut()
        .unwrap()
        .push(json!({"hooks": [{"type": "http", "url": "http://x"}]}));
    let f = run_doctor(
        ClientKind::Codex,
        Some(&v.to_string()),
        Some(&cfg),
        None,
        &exe,
    );
    assert!(has(&f, "codex-hooks-unparseable", Severity::Error), "{f:?}");
    let f = run_doctor(
        ClientKind::Codex,
        Some(&hooks),
        Some("= broken"),
        None,
        &exe,
    );
    assert!(has(&f, "codex-config-invalid", Severity::Error), "{f:?}");
}

#[test]
fn doctor_reports_gemini_folder_trust() {
    let text = install_entry(ClientKind::Gemini, None, BIN).unwrap().text;
    for (trusted, ok) in [
        (None, false),
        (Some(r#"{}"#), false),
        (Some(r#"{"/work/repo": "TRUST_FOLDER"}"#), true),
        (Some(r#"{"/work/repo/sub": "TRUST_FOLDER"}"#), false),
        (Some(r#"{"/work/other": "TRUST_PARENT"}"#), true),
        (
            Some(r#"{"/work": "TRUST_FOLDER", "/work/repo": "DO_NOT_TRUST"}"#),
            false,
        ),
        (
            Some(r#"{"/work": "DO_NOT_TRUST", "/work/repo": "TRUST_FOLDER"}"#),
            true,
        ),
        (
            Some("{\n // comment\n \"/work/repo\": \"TRUST_FOLDER\"\n}"),
            true,
        ),
        (Some(r#"{"/work/repository": "TRUST_FOLDER"}"#), false),
    ] {
        let f = run_doctor(ClientKind::Gemini, Some(&text), None, trusted, &exe);
        assert_eq!(
            has(&f, "gemini-folder-untrusted", Severity::Error),
            !ok,
            "{trusted:?}: {f:?}"
        );
    }
    // Folder trust switched off in the user settings: nothing to check.
    let mut v = parse(&text);
    v["security"] = json!({"folderTrust": {"enabled": false}});
    let f = run_doctor(ClientKind::Gemini, Some(&v.to_string()), None, None, &exe);
    assert_eq!(codes(&f), [("hook-ok", Severity::Ok)], "{f:?}");
}

#[test]
fn doctor_reports_the_ward_binary() {
    let text = install_entry(ClientKind::ClaudeCode, None, BIN)
        .unwrap()
        .text;
    let f = run_doctor(ClientKind::ClaudeCode, Some(&text), None, None, &|_| {
        BinaryStatus::Missing
    });
    let missing: Vec<&Finding> = f
        .iter()
        .filter(|f| f.code == "ward-binary-missing")
        .collect();
    assert_eq!(missing.len(), 1, "one finding per binary: {f:?}");
    assert_eq!(missing[0].severity, Severity::Error);
    assert!(missing[0].message.contains("runs every tool unchecked"));
    let f = run_doctor(
        ClientKind::Codex,
        Some(&text.replace("claude-code", "codex")),
        None,
        None,
        &|p| {
            assert_eq!(p, BIN);
            BinaryStatus::NotExecutable
        },
    );
    assert!(
        has(&f, "ward-binary-not-executable", Severity::Error),
        "{f:?}"
    );
}

#[test]
fn doctor_reports_disable_all_hooks() {
    let mut v = parse(
        &install_entry(ClientKind::ClaudeCode, None, BIN)
            .unwrap()
            .text,
    );
    v["disableAllHooks"] = true.into();
    let f = run_doctor(
        ClientKind::ClaudeCode,
        Some(&v.to_string()),
        None,
        None,
        &exe,
    );
    assert!(has(&f, "hooks-disabled", Severity::Error), "{f:?}");
}

#[test]
fn doctor_reports_small_timeouts_and_partial_matchers() {
    let mut v = parse(
        &install_entry(ClientKind::ClaudeCode, None, BIN)
            .unwrap()
            .text,
    );
    v["hooks"]["PreToolUse"][0]["hooks"][0]["timeout"] = 2.into();
    v["hooks"]["PreToolUse"][0]["matcher"] = "Bash".into();
    v["hooks"]["PostToolUse"][0]["matcher"] = "Edit|Write".into();
    let f = run_doctor(
        ClientKind::ClaudeCode,
        Some(&v.to_string()),
        None,
        None,
        &exe,
    );
    assert!(has(&f, "hook-timeout-small", Severity::Warn), "{f:?}");
    let partial: Vec<Severity> = f
        .iter()
        .filter(|f| f.code == "matcher-partial")
        .map(|f| f.severity)
        .collect();
    assert_eq!(partial, [Severity::Error, Severity::Warn], "{f:?}");

    let mut v = parse(&install_entry(ClientKind::Gemini, None, BIN).unwrap().text);
    v["hooks"]["BeforeTool"][0]["hooks"][0]["timeout"] = 3000.into();
    v["hooks"]["BeforeTool"][0]["matcher"] = "run_shell_command".into();
    let f = run_doctor(
        ClientKind::Gemini,
        Some(&v.to_string()),
        None,
        Some(r#"{"/work/repo":"TRUST_FOLDER"}"#),
        &exe,
    );
    assert!(has(&f, "hook-timeout-small", Severity::Warn), "{f:?}");
    assert!(has(&f, "matcher-partial", Severity::Error), "{f:?}");

    let mut v = parse(&install_entry(ClientKind::Copilot, None, BIN).unwrap().text);
    v["hooks"]["preToolUse"][0]["timeoutSec"] = 1.into();
    let f = run_doctor(ClientKind::Copilot, Some(&v.to_string()), None, None, &exe);
    assert!(has(&f, "hook-timeout-small", Severity::Warn), "{f:?}");
}

#[test]
fn doctor_reports_client_specific_mistakes() {
    // Copilot without --event.
    let text = json!({"version": 1, "hooks": {"preToolUse": [{"type": "command", "bash": "ward hook copilot", "timeoutSec": 30}]}}).to_string();
    let f = run_doctor(ClientKind::Copilot, Some(&text), None, None, &exe);
    assert!(has(&f, "copilot-event-arg", Severity::Error), "{f:?}");
    // Cursor without failClosed.
    let mut v = parse(&install_entry(ClientKind::Cursor, None, BIN).unwrap().text);
    v["hooks"]["beforeShellExecution"][0]
        .as_object_mut()
        .unwrap()
        .remove("failClosed");
    let f = run_doctor(ClientKind::Cursor, Some(&v.to_string()), None, None, &exe);
    assert!(has(&f, "cursor-fail-open", Severity::Warn), "{f:?}");
    // The wrong client name, and a duplicate.
    let mut v = parse(
        &install_entry(ClientKind::ClaudeCode, None, BIN)
            .unwrap()
            .text,
    );
    v["hooks"]["PreToolUse"][0]["hooks"][0]["command"] = "/usr/local/bin/ward hook codex".into();
    v["hooks"]["PreToolUse"].as_array_mut().unwrap().push(
        json!({"hooks": [{"type": "command", "command": "/usr/local/bin/ward hook claude-code"}]}),
    );
    let f = run_doctor(
        ClientKind::ClaudeCode,
        Some(&v.to_string()),
        None,
        None,
        &exe,
    );
    assert!(has(&f, "hook-wrong-client", Severity::Warn), "{f:?}");
    assert!(has(&f, "hook-duplicate", Severity::Warn), "{f:?}");
}

#[test]
fn findings_serialize_for_json_output() {
    let f = run_doctor(ClientKind::ClaudeCode, None, None, None, &exe);
    let v = serde_json::to_value(&f).unwrap();
    assert_eq!(v[0]["client"], "claude-code");
    assert_eq!(v[0]["severity"], "error");
    assert_eq!(v[0]["code"], "hook-missing");
    assert!(
        v[0]["help"]
            .as_str()
            .unwrap()
            .contains("ward hook install claude-code")
    );
}

#[test]
fn claude_http_hook_replaces_the_command_hook_and_is_idempotent() {
    let target = HookTarget::Http {
        base_url: "http://127.0.0.1:7878/",
        token: "ward_h_abc",
    };
    let cmd = install_entry(ClientKind::ClaudeCode, None, "/usr/local/bin/ward").unwrap();
    let http = install_entry_with(ClientKind::ClaudeCode, Some(&cmd.text), target).unwrap();
    assert!(http.changed);
    let v = parse(&http.text);
    let pre = &v["hooks"]["PreToolUse"];
    assert_eq!(
        pre.as_array().unwrap().len(),
        1,
        "the command entry was replaced, not kept beside"
    );
    let h = &pre[0]["hooks"][0];
    assert_eq!(h["type"], "http");
    assert_eq!(h["url"], "http://127.0.0.1:7878/v1/hooks/claude-code");
    assert_eq!(h["headers"]["Authorization"], "Bearer ward_h_abc");
    assert!(!http.text.contains("/usr/local/bin/ward hook"));
    let again = install_entry_with(ClientKind::ClaudeCode, Some(&http.text), target).unwrap();
    assert!(!again.changed);
    // Uninstall recognises the http entry as ward's.
    let gone = uninstall_entry(ClientKind::ClaudeCode, Some(&http.text)).unwrap();
    assert!(!gone.text.contains("/v1/hooks/"), "{}", gone.text);
    // Other clients have no http hook type.
    assert_eq!(
        install_entry_with(ClientKind::Codex, None, target)
            .unwrap_err()
            .code,
        ErrorCode::Config
    );
}
