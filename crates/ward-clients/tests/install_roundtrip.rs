//! Installs ward's hooks into a throw-away HOME for every client, the way `ward hook install`
//! does (read, edit, write), then reads the files back as the clients would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use ward_clients::install::*;
use ward_core::ClientKind;

struct TempHome(PathBuf);

impl TempHome {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "ward-install-roundtrip-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(p.join("home")).unwrap();
        fs::create_dir_all(p.join("work")).unwrap();
        TempHome(p)
    }

    fn env(&self) -> InstallEnv {
        InstallEnv::new(self.0.join("home"), self.0.join("work"))
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn read(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok()
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// Every handler command registered on `event`, whatever the file's shape.
fn commands_on(v: &Value, event: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in v["hooks"][event].as_array().into_iter().flatten() {
        let handlers: Vec<&Value> = match entry.get("hooks").and_then(Value::as_array) {
            Some(hs) => hs.iter().collect(),
            None => vec![entry],
        };
        for h in handlers {
            if let Some(c) = h
                .get("command")
                .or_else(|| h.get("bash"))
                .and_then(Value::as_str)
            {
                out.push(c.to_string());
            }
        }
    }
    out
}

fn foreign_settings(client: ClientKind) -> Value {
    match client {
        ClientKind::ClaudeCode => json!({
            "permissions": {"deny": ["Read(./.env)"]},
            "hooks": {"PreToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "/opt/fmt.sh"}]}]}
        }),
        ClientKind::Codex => json!({
            "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "/opt/lint.sh"}]}]}
        }),
        ClientKind::Gemini => json!({
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "hooks": {"AfterTool": [{"matcher": ".*", "hooks": [{"type": "command", "command": "/opt/log.sh"}]}]}
        }),
        ClientKind::Cursor => json!({
            "version": 1,
            "hooks": {"afterFileEdit": [{"command": "/opt/fmt.sh"}]}
        }),
        ClientKind::Copilot => json!({
            "version": 1,
            "hooks": {"sessionStart": [{"type": "command", "bash": "/opt/hello.sh", "timeoutSec": 5}]}
        }),
    }
}

#[test]
fn install_into_a_temp_home_for_every_client() {
    for client in ClientKind::ALL {
        let home = TempHome::new();
        let env = home.env();
        let ward_bin = home.0.join("bin").join("ward").display().to_string();
        let path = settings_path(client, &env, None);
        assert!(path.starts_with(&env.home), "{client}: {}", path.display());
        let foreign = foreign_settings(client);
        write(&path, &serde_json::to_string_pretty(&foreign).unwrap());

        // Install (what `ward hook install` does, minus backups).
        let before = read(&path);
        let out = install_entry(client, before.as_deref(), &ward_bin).unwrap();
        assert!(out.changed, "{client}");
        write(&path, &out.text);
        if client == ClientKind::Codex {
            let cfg_path = codex_config_path(&env);
            let cfg = codex_update_config(
                read(&cfg_path).as_deref(),
                &path,
                before.as_deref(),
                &out.text,
            )
            .unwrap();
            write(&cfg_path, &cfg);
        }
        if client == ClientKind::Gemini {
            write(
                &gemini_trusted_folders_path(&env),
                &json!({ env.cwd.display().to_string(): "TRUST_FOLDER" }).to_string(),
            );
        }

        // Re-read as the client would.
        let v: Value = serde_json::from_str(&read(&path).unwrap()).unwrap();
        for spec in hook_events(client) {
            let cmds = commands_on(&v, spec.event);
            let ward: Vec<&String> = cmds
                .iter()
                .filter(|c| parse_ward_command(c).is_some())
                .collect();
            assert_eq!(ward.len(), 1, "{client} {}: {cmds:?}", spec.event);
            let parsed = parse_ward_command(ward[0]).unwrap();
            assert_eq!(parsed.program, ward_bin);
            assert_eq!(parsed.client.as_deref(), Some(client.as_str()));
            if client == ClientKind::Copilot {
                assert_eq!(parsed.event.as_deref(), Some(spec.event));
            }
        }
        // The foreign hook is still there.
        let foreign_cmds: Vec<String> = foreign["hooks"]
            .as_object()
            .unwrap()
            .keys()
            .flat_map(|e| commands_on(&foreign, e))
            .collect();
        for c in &foreign_cmds {
            let all: Vec<String> = v["hooks"]
                .as_object()
                .unwrap()
                .keys()
                .flat_map(|e| commands_on(&v, e))
                .collect();
            assert!(all.contains(c), "{client}: lost {c}");
        }

        // Idempotent.
        let again = install_entry(client, read(&path).as_deref(), &ward_bin).unwrap();
        assert!(!again.changed, "{client}");

        // The doctor agrees (the binary is reported present).
        let input = DoctorInput {
            client_present: true,
            files: vec![SettingsFile {
                path: path.clone(),
                contents: read(&path),
            }],
            codex_config: read(&codex_config_path(&env)),
            gemini_trusted_folders: read(&gemini_trusted_folders_path(&env)),
            cwd: env.cwd.clone(),
            binary_status: &|_| BinaryStatus::Executable,
        };
        let findings = doctor(client, &input);
        assert!(
            findings.iter().all(|f| f.severity == Severity::Ok),
            "{client}: {findings:?}"
        );

        // Uninstall restores the user's settings.
        let removed = uninstall_entry(client, read(&path).as_deref()).unwrap();
        assert!(removed.changed);
        let back: Value = serde_json::from_str(&removed.text).unwrap();
        assert_eq!(back, foreign, "{client}");
    }
}

#[test]
fn every_registered_event_is_one_the_adapter_knows() {
    for client in ClientKind::ALL {
        for spec in hook_events(client) {
            let kind = ward_clients::event_kind(client, spec.event).unwrap_or_else(|| {
                panic!(
                    "{client}: ward registers {} but cannot parse it",
                    spec.event
                )
            });
            assert_eq!(
                kind.needs_decision(),
                spec.decides,
                "{client} {}",
                spec.event
            );
        }
    }
}
