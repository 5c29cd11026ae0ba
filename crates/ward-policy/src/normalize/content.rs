//! Content written to CI definitions and agent configuration: what it will make run later.
//!
//! CI `run:`/`script:` steps and agent hook/MCP `command`s are shell: they are analysed with
//! [`super::analyze_shell`]. Settings that switch an agent's approvals off count as
//! `unsafe_agent`. Nothing here parses YAML fully: step extraction is by key and indentation.

use super::paths;
use super::text;
use crate::facts::{Facts, NormalizeEnv};
use serde_json::Value;

/// Content larger than this is not scanned (noted instead).
const MAX_CONTENT: usize = 256 * 1024;
/// Shell snippets analysed per file.
const MAX_SNIPPETS: usize = 64;

/// Scan `content` about to be written to `path` (absolute, normalized).
pub(crate) fn scan_config(path: &str, content: &str, env: &NormalizeEnv) -> Facts {
    let mut f = Facts::default();
    if content.len() > MAX_CONTENT {
        f.notes.push("content too large to scan".into());
        return f;
    }
    let class = paths::classify_resolved(path.to_string(), env);
    if class.ci_config {
        scan_ci(content, env, &mut f);
    }
    if class.agent_config {
        scan_agent(content, env, &mut f);
    }
    if text::has_invisible(content) {
        f.obfuscated = true;
        f.notes
            .push("invisible or bidirectional characters in configuration text".into());
    }
    f
}

// ---------------------------------------------------------------------- CI

fn scan_ci(content: &str, env: &NormalizeEnv, f: &mut Facts) {
    let lower = content.to_ascii_lowercase();
    if lower.contains("tojson(secrets)") {
        f.notes
            .push("workflow serialises every repository secret (`toJSON(secrets)`)".into());
    }
    if lower.contains("pull_request_target")
        && (lower.contains("github.event.pull_request.head")
            || lower.contains("github.head_ref")
            || lower.contains("refs/pull/"))
    {
        f.notes
            .push("`pull_request_target` workflow checks out untrusted pull-request code".into());
    }
    if lower.contains("self-hosted") {
        f.notes.push("workflow runs on a self-hosted runner".into());
    }
    for script in ci_scripts(content).into_iter().take(MAX_SNIPPETS) {
        let uses_secrets = script.contains("secrets.")
            || script.contains("secrets)")
            || script.contains("secrets[");
        let shell = replace_expressions(&script);
        let sub = super::analyze_shell(&shell, env);
        let sends = sub.network_send || sub.external_host;
        let host = sub.hosts.iter().next().cloned();
        super::absorb_later(f, sub, "CI step");
        if uses_secrets && sends {
            f.secret_to_network = true;
            f.network_send = true;
            let to = host.map_or_else(|| "the network".to_string(), |h| format!("`{h}`"));
            f.notes
                .push(format!("CI step sends repository secrets to {to}"));
        }
    }
}

/// `${{ … }}` expressions become a plain word so the shell text parses.
fn replace_expressions(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${{") {
        out.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start..).unwrap_or("");
        match after.find("}}") {
            Some(end) => {
                out.push_str("GH_EXPR");
                rest = after.get(end + 2..).unwrap_or("");
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Shell steps of a CI file: `run:`, `script:`, `command:` values (inline, block or list).
fn ci_scripts(content: &str) -> Vec<String> {
    const KEYS: &[&str] = &[
        "run",
        "script",
        "command",
        "commands",
        "before_script",
        "after_script",
        "cmd",
        "sh",
        "bash",
        "powershell",
    ];
    let lines: Vec<&str> = content.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start().trim_start_matches("- ").trim_start();
        i += 1;
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        if !KEYS.contains(&key.trim()) {
            continue;
        }
        let value = value.trim();
        if value.is_empty() || value.starts_with('|') || value.starts_with('>') {
            let mut block = Vec::new();
            while i < lines.len() {
                let l = lines[i];
                let ind = l.len() - l.trim_start().len();
                if !l.trim().is_empty() && ind <= indent {
                    break;
                }
                block.push(l.trim_start().trim_start_matches("- ").to_string());
                i += 1;
            }
            let text = block.join("\n");
            if !text.trim().is_empty() {
                out.push(text);
            }
        } else {
            out.push(unquote_yaml(value));
        }
    }
    out
}

fn unquote_yaml(v: &str) -> String {
    if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return inner.replace("\\\"", "\"");
    }
    if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    v.to_string()
}

// ---------------------------------------------------------------------- agent configuration

fn scan_agent(content: &str, env: &NormalizeEnv, f: &mut Facts) {
    match serde_json::from_str::<Value>(content) {
        Ok(v) => {
            let mut budget = 4096usize;
            walk_json(&v, "", env, f, &mut budget, 0);
        }
        Err(_) => scan_agent_text(content, env, f),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty() && s != "false" && s != "off" && s != "never",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    }
}

fn walk_json(
    v: &Value,
    key: &str,
    env: &NormalizeEnv,
    f: &mut Facts,
    budget: &mut usize,
    depth: usize,
) {
    if *budget == 0 || depth > 32 {
        return;
    }
    *budget -= 1;
    match v {
        Value::Object(map) => {
            if let Some(Value::String(cmd)) = map.get("command") {
                let args: Vec<String> = match map.get("args") {
                    Some(Value::Array(a)) => {
                        a.iter().filter_map(|x| x.as_str().map(quote)).collect()
                    }
                    _ => Vec::new(),
                };
                let line = if args.is_empty() {
                    cmd.clone()
                } else {
                    format!("{} {}", cmd, args.join(" "))
                };
                let sub = super::analyze_shell(&line, env);
                super::absorb_later(f, sub, "configured command");
            }
            if let Some(Value::String(url)) = map
                .get("url")
                .or_else(|| map.get("serverUrl"))
                .or_else(|| map.get("httpUrl"))
                && let Some(r) = super::hosts::parse_url(url)
            {
                let class = super::hosts::classify_host(&r.host, env);
                f.hosts.insert(class.host.clone());
                if class.is_external() {
                    f.external_host = true;
                    f.notes.push(format!(
                        "configuration points an MCP server at external host `{}`",
                        class.host
                    ));
                }
                f.homoglyph |= class.homoglyph;
            }
            for (k, val) in map {
                unsafe_setting(k, val, f);
                walk_json(val, k, env, f, budget, depth + 1);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk_json(item, key, env, f, budget, depth + 1);
            }
        }
        Value::String(s) => {
            let k = key.to_ascii_lowercase();
            if k == "defaultmode" && s == "bypassPermissions" {
                mark_unsafe(f, "`defaultMode: bypassPermissions`");
            }
            if (k == "allow" || k == "allowedtools")
                && matches!(
                    s.as_str(),
                    "Bash" | "Bash(*)" | "Bash(*:*)" | "*" | "shell(*)"
                )
            {
                mark_unsafe(f, &format!("every shell command pre-approved (`{s}`)"));
            }
        }
        _ => {}
    }
}

fn unsafe_setting(key: &str, v: &Value, f: &mut Facts) {
    let k = key.to_ascii_lowercase();
    let flagged = (k.contains("autoapprove")
        || k.contains("auto_approve")
        || k.contains("yolo")
        || k.contains("dangerously")
        || k == "alwaysallow"
        || k == "trust"
        || k.contains("allowalltools")
        || k.contains("skippermission")
        || k == "bypasspermissions"
        || k.contains("autorun")
        || k == "approval_policy" && v.as_str() == Some("never"))
        && truthy(v)
        && !matches!(v, Value::String(s) if k.contains("autoapprove") && s == "off");
    if flagged {
        mark_unsafe(f, &format!("setting `{key}` turns approvals off"));
    }
}

fn mark_unsafe(f: &mut Facts, what: &str) {
    f.unsafe_agent = true;
    f.notes.push(format!("agent configuration: {what}"));
}

fn scan_agent_text(content: &str, env: &NormalizeEnv, f: &mut Facts) {
    let lower = content.to_ascii_lowercase();
    for (needle, what) in [
        (
            "approval_policy = \"never\"",
            "`approval_policy = \"never\"`",
        ),
        (
            "danger-full-access",
            "`sandbox_mode = \"danger-full-access\"`",
        ),
        (
            "dangerously-skip-permissions",
            "`--dangerously-skip-permissions`",
        ),
        ("bypasspermissions", "`bypassPermissions`"),
        ("autoapprove", "auto-approval"),
        ("--yolo", "`--yolo`"),
        ("trust-all-tools", "`--trust-all-tools`"),
    ] {
        if lower.contains(needle) {
            mark_unsafe(f, what);
        }
    }
    for line in content.lines().take(2000) {
        let l = line.trim();
        let pipes_to_shell = ["| sh", "|sh", "| bash", "|bash", "| zsh"]
            .iter()
            .any(|p| l.contains(p));
        if pipes_to_shell && (l.contains("curl") || l.contains("wget")) {
            let start = l.find("curl").or_else(|| l.find("wget")).unwrap_or(0);
            let snippet = l.get(start..).unwrap_or(l).trim_end_matches('`');
            let sub = super::analyze_shell(snippet, env);
            super::absorb_later(f, sub, "instruction");
        }
    }
}

/// Single-quote one argument for re-joining into shell text.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
