//! Content written to CI definitions and agent configuration: what it will make run later.
//!
//! CI `run:`/`script:` steps and agent hook/MCP `command`s are shell: they are analysed with
//! [`super::analyze_shell`]. Settings that switch an agent's approvals off count as
//! `unsafe_agent`. Nothing here parses YAML fully: step extraction is by key and indentation.

use super::paths::{self, PathClass};
use super::text;
use crate::facts::{Facts, NormalizeEnv};
use serde_json::Value;

/// Content larger than this is not scanned (noted instead).
pub(crate) const MAX_CONTENT: usize = 256 * 1024;
/// Shell snippets analysed per file.
pub(crate) const MAX_SNIPPETS: usize = 64;

/// What `content` written to the file `class` will make run later: CI steps, agent hooks and
/// settings, shell profiles and other persistence targets, install-time hooks and build files
/// (`package.json` scripts, Makefile recipes, `setup.py`, …). `None`: nothing here runs later.
/// A Codex `apply_patch` patch is reduced to the new text of this file first.
pub(crate) fn scan_written(class: &PathClass, content: &str, env: &NormalizeEnv) -> Option<Facts> {
    let view = patch_view(content, &class.resolved, env);
    let text = view.as_deref().unwrap_or(content);
    let mut f = if class.ci_config || class.agent_config {
        Some(scan_config(&class.resolved, text, env))
    } else if class.persistence && !class.resolved.ends_with("authorized_keys") {
        let mut f = Facts::default();
        let sub = super::analyze_shell(text, env);
        super::absorb_later(&mut f, sub, "written content");
        Some(f)
    } else {
        None
    };
    if let Some(sub) = super::build::scan(&class.resolved, text, env) {
        let into = f.get_or_insert_with(Facts::default);
        super::absorb_written(into, sub, "");
    }
    f
}

/// The new text of `path` in a Codex patch (`*** Begin Patch`): context and added lines of its
/// hunks, or every line of an added file. `None` when `content` is not a patch.
fn patch_view(content: &str, path: &str, env: &NormalizeEnv) -> Option<String> {
    if !content.trim_start().starts_with("*** Begin Patch") {
        return None;
    }
    const HEADERS: [&str; 3] = ["*** Add File:", "*** Update File:", "*** Move to:"];
    let mut out = String::new();
    let mut current = false;
    for line in content.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("*** ") {
            if let Some(p) = HEADERS.iter().find_map(|h| trimmed.strip_prefix(h)) {
                let resolved = paths::classify_path(p.trim(), env).resolved;
                current = resolved == path;
            } else if !trimmed.starts_with("*** Move to:") {
                current = current && trimmed.starts_with("*** End of File");
            }
            continue;
        }
        if !current || line.starts_with("@@") || line.starts_with('-') {
            continue;
        }
        let body = line
            .strip_prefix('+')
            .or_else(|| line.strip_prefix(' '))
            .unwrap_or(line);
        out.push_str(body);
        out.push('\n');
    }
    Some(out)
}

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
        let mut sub = super::analyze_shell(&shell, env);
        // A CI job runs in a disposable checkout: deleting it there is not deleting ours.
        sub.destroys_workspace = false;
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
    yaml_scripts(content, KEYS)
}

/// Values of the YAML keys `keys` (inline, quoted, block scalars or lists), by indentation.
pub(crate) fn yaml_scripts(content: &str, keys: &[&str]) -> Vec<String> {
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
        if !keys.contains(&key.trim()) {
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

pub(crate) fn unquote_yaml(v: &str) -> String {
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
    match parse_jsonc(content) {
        Some(v) => {
            let mut budget = 4096usize;
            walk_json(&v, "", env, f, &mut budget, 0);
        }
        None => scan_agent_text(content, env, f),
    }
}

/// JSON, or JSON with comments and trailing commas (VS Code, Cursor and devcontainer files).
pub(crate) fn parse_jsonc(content: &str) -> Option<Value> {
    let t = content.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str(content)
        .ok()
        .or_else(|| serde_json::from_str(&strip_jsonc(content)).ok())
}

/// Drop `//` and `/* */` comments outside strings, and commas right before `}` or `]`.
fn strip_jsonc(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut in_str = false;
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.get(i + 1) {
                    out.push(*n);
                }
                i += 2;
                continue;
            }
            if c == '"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match (c, chars.get(i + 1)) {
            ('"', _) => {
                in_str = true;
                out.push(c);
                i += 1;
            }
            ('/', Some('/')) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            (',', _) => {
                let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
                if !matches!(next, Some('}' | ']')) {
                    out.push(c);
                }
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty() && s != "false" && s != "off" && s != "never",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::Null => false,
    }
}

/// Keys whose string value is shell text: hook `command`s, Copilot's `bash`/`powershell`.
const COMMAND_KEYS: &[&str] = &["command", "bash", "sh", "powershell", "pwsh"];

/// The command line a configuration object runs: `command` (+ `args`), `bash`, `powershell`.
fn configured_commands(map: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for key in COMMAND_KEYS {
        let line = match map.get(*key) {
            Some(Value::String(cmd)) => {
                let args: Vec<String> = match map.get("args") {
                    Some(Value::Array(a)) if *key == "command" => {
                        a.iter().filter_map(|x| x.as_str().map(quote)).collect()
                    }
                    _ => Vec::new(),
                };
                if args.is_empty() {
                    cmd.clone()
                } else {
                    format!("{} {}", cmd, args.join(" "))
                }
            }
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(Value::as_str)
                .map(quote)
                .collect::<Vec<_>>()
                .join(" "),
            _ => continue,
        };
        if line.trim().is_empty() {
            continue;
        }
        let line = if matches!(*key, "powershell" | "pwsh") {
            format!("pwsh -NoProfile -Command {}", quote(&line))
        } else {
            line
        };
        out.push(((*key).to_string(), line));
    }
    out
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
            for (_, line) in configured_commands(map).into_iter().take(MAX_SNIPPETS) {
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
            if is_approval_mode_key(&k) && s.eq_ignore_ascii_case("yolo") {
                mark_unsafe(f, &format!("`{key}: {s}` approves every tool call"));
            }
            if is_allow_list_key(&k) && wildcard_tool(s) {
                mark_unsafe(f, &format!("every shell command pre-approved (`{s}`)"));
            }
        }
        _ => {}
    }
}

/// `defaultApprovalMode` (Gemini), `approvalMode`, `approval_mode`, `approval-mode`.
fn is_approval_mode_key(k: &str) -> bool {
    let k: String = k.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    k == "defaultapprovalmode" || k == "approvalmode"
}

/// Lists of pre-approved tools: Claude `allow`, Gemini `tools.allowed`, Roo `alwaysAllow`, …
fn is_allow_list_key(k: &str) -> bool {
    let k: String = k.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    matches!(
        k.as_str(),
        "allow" | "allowed" | "allowedtools" | "alwaysallow" | "autoapprove" | "trustedtools"
    )
}

/// A tool pattern that pre-approves every shell command (or everything).
fn wildcard_tool(s: &str) -> bool {
    let l = s.trim().to_ascii_lowercase();
    matches!(
        l.as_str(),
        "*" | "**"
            | ".*"
            | "/.*/"
            | "all"
            | "bash"
            | "bash(*)"
            | "bash(**)"
            | "bash(*:*)"
            | "bash(:*)"
            | "shell"
            | "shell(*)"
            | "shell(**)"
            | "shell(*:*)"
            | "run_shell_command"
            | "run_shell_command(*)"
            | "shelltool"
            | "execute_command"
            | "run_terminal_cmd"
    )
}

/// A setting whose value turns approvals off.
fn approves_everything(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "on" | "yes" | "always" | "all" | "*" | "yolo"
        ),
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        // A list or map of tools/commands: only a wildcard approves everything.
        Value::Array(a) => a.iter().any(|x| x.as_str().is_some_and(wildcard_tool)),
        Value::Object(o) => o
            .iter()
            .any(|(k, v)| wildcard_tool(k) && approves_everything(v)),
        Value::Null => false,
    }
}

fn unsafe_setting(key: &str, v: &Value, f: &mut Facts) {
    let k = key.to_ascii_lowercase();
    let last = k.rsplit('.').next().unwrap_or(&k);
    // `disableBypassPermissionsMode`, `disableYoloMode`: settings that keep approvals on.
    if last.starts_with("disable") && last != "disableallhooks" {
        return;
    }
    let approval_switch = k.contains("autoapprove")
        || k.contains("auto_approve")
        || k.contains("autoaccept")
        || k.contains("auto_accept")
        || k.contains("yolo")
        || k.contains("dangerous")
        || k.contains("allowalltools")
        || k.contains("skippermission")
        || k.contains("autorun")
        || k.contains("bypasspermissions")
        || k == "alwaysallow"
        || k == "trust";
    let flagged = if approval_switch {
        approves_everything(v)
    } else if matches!(
        last,
        "enableallprojectmcpservers" | "disableallhooks" | "skipdangerousmodepermissionprompt"
    ) {
        truthy(v)
    } else {
        false
    };
    if flagged {
        mark_unsafe(f, &format!("setting `{key}` turns approvals or hooks off"));
    }
}

fn mark_unsafe(f: &mut Facts, what: &str) {
    f.unsafe_agent = true;
    let note = format!("agent configuration: {what}");
    if !f.notes.contains(&note) {
        f.notes.push(note);
    }
}

/// TOML (Codex `config.toml`), YAML and Markdown agent files: settings that turn approvals off,
/// commands that hooks, MCP servers and `notify` run, and `curl … | sh` instructions.
fn scan_agent_text(content: &str, env: &NormalizeEnv, f: &mut Facts) {
    let lower = content.to_ascii_lowercase();
    for (needle, what) in [
        (
            "dangerously-skip-permissions",
            "`--dangerously-skip-permissions`",
        ),
        (
            "dangerously-bypass-approvals-and-sandbox",
            "`--dangerously-bypass-approvals-and-sandbox`",
        ),
        ("--yolo", "`--yolo`"),
        ("trust-all-tools", "`--trust-all-tools`"),
        ("--allow-all-tools", "`--allow-all-tools`"),
    ] {
        // Instruction files also say what never to do: a line that forbids the flag is fine.
        let told = lower.lines().any(|l| {
            l.contains(needle)
                && ![
                    "never",
                    "don't",
                    "do not",
                    "must not",
                    "avoid",
                    "forbid",
                    "prohibit",
                    "disallow",
                    "not allowed",
                    "not use",
                ]
                .iter()
                .any(|n| l.contains(n))
        });
        if told {
            mark_unsafe(f, what);
        }
    }
    let settings = key_values(content);
    let setting = |name: &str| {
        settings
            .iter()
            .filter(|(k, _)| k.rsplit('.').next().unwrap_or(k).eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().trim_matches(['"', '\'']).to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    let never = setting("approval_policy").iter().any(|v| v == "never");
    let full = setting("sandbox_mode")
        .iter()
        .any(|v| v == "danger-full-access");
    if full {
        let what = if never {
            "`approval_policy = \"never\"` with `sandbox_mode = \"danger-full-access\"`"
        } else {
            "`sandbox_mode = \"danger-full-access\"`"
        };
        mark_unsafe(f, what);
    }
    for (k, v) in &settings {
        let value = toml_value(v);
        let last = k.rsplit('.').next().unwrap_or(k).to_ascii_lowercase();
        if last == "defaultmode" && value.as_str() == Some("bypassPermissions") {
            mark_unsafe(f, "`defaultMode: bypassPermissions`");
        }
        if is_approval_mode_key(&last)
            && value
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("yolo"))
        {
            mark_unsafe(f, &format!("`{k}` approves every tool call"));
        }
        unsafe_setting(k, &value, f);
    }
    for line in toml_commands(content).into_iter().take(MAX_SNIPPETS) {
        let sub = super::analyze_shell(&line, env);
        super::absorb_later(f, sub, "configured command");
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

/// `key = value` (TOML, INI) and `key: value` (YAML) lines, keys prefixed with their
/// `[table]` (TOML/INI) — enough to read settings without a full parser.
pub(crate) fn key_values(content: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut table = String::new();
    for line in content.lines().take(5000) {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') || l.starts_with("//") {
            continue;
        }
        if l.starts_with('[') && l.ends_with(']') && !l.contains('=') {
            table = l.trim_matches(['[', ']']).trim().to_string();
            continue;
        }
        let l = l.trim_start_matches("- ");
        let split = match (l.find('='), l.find(':')) {
            (Some(e), Some(c)) => Some(e.min(c)),
            (Some(e), None) => Some(e),
            (None, Some(c)) => Some(c),
            (None, None) => None,
        };
        let Some(at) = split else { continue };
        let key = l[..at].trim().trim_matches(['"', '\'']);
        if key.is_empty() || key.contains(char::is_whitespace) && !key.starts_with('"') {
            continue;
        }
        let value = l[at + 1..].trim().to_string();
        let full = if table.is_empty() {
            key.to_string()
        } else {
            format!("{table}.{key}")
        };
        out.push((full, value));
    }
    out
}

/// A TOML/YAML scalar or single-line array of strings as JSON.
pub(crate) fn toml_value(v: &str) -> Value {
    let v = v.trim();
    let v = v
        .split_once(" #")
        .map_or(v, |(a, _)| a)
        .trim()
        .trim_end_matches(',');
    match v {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if v.starts_with('[') {
        return Value::Array(toml_strings(v).into_iter().map(Value::String).collect());
    }
    if let Ok(n) = v.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(n)
    {
        return Value::Number(n);
    }
    Value::String(unquote_yaml(v))
}

/// The string items of an inline array: `["bash", "-c", 'x']`.
pub(crate) fn toml_strings(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = v.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let q = chars[i];
        if q != '"' && q != '\'' {
            i += 1;
            continue;
        }
        let mut s = String::new();
        i += 1;
        while i < chars.len() && chars[i] != q {
            if q == '"' && chars[i] == '\\' && i + 1 < chars.len() {
                i += 1;
                s.push(match chars[i] {
                    'n' => '\n',
                    't' => '\t',
                    c => c,
                });
            } else {
                s.push(chars[i]);
            }
            i += 1;
        }
        i += 1;
        out.push(s);
    }
    out
}

/// Command lines of a TOML/YAML agent file: `command` + `args` per table or mapping,
/// `notify = [argv]`, and `*-cmd`/`*_command` keys (aider's `test-cmd`).
fn toml_commands(content: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut joined: Vec<String> = Vec::new();
    // Multi-line arrays become one line.
    let mut pending = String::new();
    for line in content.lines().take(5000) {
        if !pending.is_empty() {
            pending.push(' ');
            pending.push_str(line.trim());
            if line.contains(']') {
                joined.push(std::mem::take(&mut pending));
            }
            continue;
        }
        let t = line.trim_end();
        if (t.ends_with('[') || t.contains("= [") || t.contains(": [")) && !t.contains(']') {
            pending = t.to_string();
            continue;
        }
        joined.push(t.to_string());
    }
    let mut command: Option<String> = None;
    let mut args: Vec<String> = Vec::new();
    let flush = |command: &mut Option<String>, args: &mut Vec<String>, out: &mut Vec<String>| {
        if let Some(c) = command.take() {
            let mut line = c;
            for a in args.drain(..) {
                line.push(' ');
                line.push_str(&quote(&a));
            }
            out.push(line);
        }
        args.clear();
    };
    for line in &joined {
        let l = line.trim();
        let is_table = l.starts_with('[') && l.ends_with(']') && !l.contains('=');
        let item = line.trim_start().starts_with("- ");
        if is_table || item {
            flush(&mut command, &mut args, &mut out);
        }
        let Some((k, v)) = key_values(l).into_iter().next() else {
            continue;
        };
        let key = k.rsplit('.').next().unwrap_or(&k).to_ascii_lowercase();
        let value = toml_value(&v);
        match key.as_str() {
            "command" => {
                flush(&mut command, &mut args, &mut out);
                match value {
                    Value::String(s) if !s.is_empty() => command = Some(s),
                    Value::Array(a) => {
                        let argv: Vec<String> =
                            a.iter().filter_map(Value::as_str).map(quote).collect();
                        if !argv.is_empty() {
                            out.push(argv.join(" "));
                        }
                    }
                    _ => {}
                }
            }
            "args" => {
                if let Value::Array(a) = value {
                    args = a
                        .iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect();
                }
            }
            "notify" => {
                if let Value::Array(a) = value {
                    let argv: Vec<String> = a.iter().filter_map(Value::as_str).map(quote).collect();
                    if !argv.is_empty() {
                        out.push(argv.join(" "));
                    }
                }
            }
            k if k == "bash"
                || k == "sh"
                || k.ends_with("-cmd")
                || k.ends_with("_cmd")
                || k.ends_with("_command") =>
            {
                if let Value::String(s) = value
                    && !s.is_empty()
                {
                    out.push(s);
                }
            }
            _ => {}
        }
    }
    flush(&mut command, &mut args, &mut out);
    out
}

/// Single-quote one argument for re-joining into shell text.
pub(crate) fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
