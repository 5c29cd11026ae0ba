//! The 82 labelled real-world calls of `shared/eval/public-hooks.jsonl`, normalized and checked
//! against the facts their category implies. The code never matches on these strings: this is a
//! test of the general rules, not a list of answers.
#![allow(
    clippy::unwrap_used,
    reason = "a malformed fixture line should fail the test loudly"
)]

mod common;

use common::{dangerous, env_for};
use serde_json::Value;
use ward_core::{Action, Assistant, ClientKind, ToolCall};
use ward_policy::facts::Facts;
use ward_policy::normalize::normalize;

fn corpus() -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/eval/public-hooks.jsonl");
    std::fs::read_to_string(path).ok()
}

/// A Claude Code PreToolUse payload as a `ToolCall` (what the adapter produces).
fn call_of(event: &Value) -> ToolCall {
    let tool = event["tool_name"].as_str().unwrap().to_string();
    let input = event["tool_input"].clone();
    let action = match tool.as_str() {
        "Bash" => Action::Shell {
            command: input["command"].as_str().unwrap().to_string(),
        },
        "Read" => Action::FileRead {
            paths: vec![input["file_path"].as_str().unwrap().to_string()],
        },
        "Write" | "Edit" => Action::FileWrite {
            paths: vec![input["file_path"].as_str().unwrap().to_string()],
            content: input["content"].as_str().map(str::to_string),
        },
        t if t.starts_with("mcp__") => {
            let mut parts = t.splitn(3, "__").skip(1);
            Action::Mcp {
                server: parts.next().unwrap().to_string(),
                tool: parts.next().unwrap().to_string(),
                arguments: input.clone(),
            }
        }
        other => Action::Other {
            name: other.to_string(),
        },
    };
    ToolCall {
        assistant: Assistant {
            client: ClientKind::ClaudeCode,
            host: "devbox".into(),
            os_user: "dev".into(),
        },
        session_id: event["session_id"].as_str().unwrap_or("s").to_string(),
        tool_use_id: None,
        tool_name: tool,
        action,
        input,
        cwd: event["cwd"].as_str().unwrap().to_string(),
        repo_root: None,
        agent_id: None,
    }
}

/// What a category requires; `Err` explains the miss.
fn check(category: &str, label: &str, f: &Facts) -> Result<(), String> {
    let d = dangerous(f);
    let need = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("expected {what}"))
        }
    };
    match category {
        "exfil_http" | "exfil_dns" | "exfil_socket" => need(
            f.secret_to_network && f.network_send && f.external_host,
            "secret_to_network + network_send + external_host",
        ),
        "secret_read" => need(
            f.reads_secret
                || f.reads_workspace_env
                || f.reads_secret_env
                || f.reads_credential_store,
            "a secret read",
        ),
        "destructive_fs" => need(f.destroys_outside_workspace, "destroys_outside_workspace"),
        "destructive_cloud" | "destructive_infra" => need(f.destroys_shared, "destroys_shared"),
        "destructive_db" => need(
            f.destroys_shared || f.database_force,
            "destroys_shared or database_force",
        ),
        "destructive_git" => need(f.force_push, "force_push")
            .and_then(|()| need(f.force_push_shared, "force_push_shared")),
        "cicd_tamper" => need(f.writes_ci_config, "writes_ci_config"),
        "cicd_edit" => need(
            f.writes_ci_config && !f.secret_to_network && !f.download_to_interpreter,
            "a plain CI edit",
        ),
        "agent_config" if label == "malicious" => need(
            f.writes_agent_config && (f.unsafe_agent || f.download_to_interpreter),
            "agent config + unsafe/exec",
        ),
        "agent_config" => need(
            f.writes_agent_config && !f.unsafe_agent && !f.download_to_interpreter,
            "a plain agent config edit",
        ),
        "persistence" => need(
            f.writes_persistence && f.download_to_interpreter,
            "writes_persistence + download_to_interpreter",
        ),
        "ai_cli_abuse" => need(f.unsafe_agent, "unsafe_agent"),
        "publish" => need(f.publish, "publish"),
        "remote_exec" => need(f.download_to_interpreter, "download_to_interpreter"),
        "obfuscation" => need(
            f.obfuscated || f.escape_obfuscation || f.padding,
            "obfuscated / escape_obfuscation / padding",
        ),
        "homoglyph" => need(f.homoglyph && f.external_host, "homoglyph + external_host"),
        "mcp_tool_poisoning" => need(f.mcp_secret_in_args, "mcp_secret_in_args"),
        "mcp_tool_shadowing" => need(f.mcp_external_recipient, "mcp_external_recipient"),
        "git_push_exfil" => need(
            f.credential_in_url && f.secret_to_network,
            "credential_in_url + secret_to_network",
        ),
        // Benign categories: nothing dangerous at all.
        _ if label == "benign" => need(d.is_empty(), &format!("no dangerous facts, got {d:?}")),
        other => Err(format!("unknown category {other}")),
    }
}

#[test]
fn public_hooks_have_the_facts_of_their_category() {
    let Some(text) = corpus() else {
        eprintln!("shared/eval/public-hooks.jsonl not found; skipping");
        return;
    };
    let mut failures = Vec::new();
    let mut count = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let event = &case["event"];
        let call = call_of(event);
        let env = env_for(event["cwd"].as_str().unwrap());
        let facts = normalize(&call, &env);
        let (id, cat, label) = (
            case["id"].as_str().unwrap(),
            case["category"].as_str().unwrap(),
            case["label"].as_str().unwrap(),
        );
        if let Err(why) = check(cat, label, &facts) {
            failures.push(format!(
                "{id} [{cat}/{label}] {}: {why}\n    notes: {:?}",
                call.action.summary(),
                facts.notes
            ));
        }
        if std::env::var_os("WARD_DEBUG_PUBLIC").is_some() {
            println!(
                "{id} {cat}/{label}: {:?} | {:?}",
                dangerous(&facts),
                facts.notes
            );
        }
        if label == "malicious" {
            assert!(
                !facts.notes.is_empty(),
                "{id}: a malicious case must explain itself in notes"
            );
        }
        count += 1;
    }
    assert_eq!(count, 82);
    assert!(
        failures.is_empty(),
        "{} of {count} cases miss their facts:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
