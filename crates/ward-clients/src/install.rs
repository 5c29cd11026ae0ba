//! Registering `ward hook <client>` in each client's hook settings, and checking it.
//!
//! Everything here is pure: the caller reads the files, passes their text in, and writes what
//! comes back (ward-cli's `install_cmd` does the I/O, backups and atomic renames).
//!
//! * [`settings_path`] says which file a client reads its hooks from.
//! * [`install_entry`] / [`uninstall_entry`] edit that file's text: only ward's own handlers are
//!   added, replaced or removed; every other key and every other hook is kept as it was.
//! * Codex runs a user hook only when its hash is trusted in `config.toml`:
//!   [`codex_trust_entries`] computes the keys and hashes exactly as Codex 0.169 does and
//!   [`apply_codex_trust`] / [`codex_update_config`] write them.
//! * [`doctor`] reports what would stop ward from seeing every tool call.

mod codex;
mod doctor;
pub mod mcp;
mod shell;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use ward_core::{ClientKind, ErrorCode, WardError};

pub use codex::{
    CodexHook, CodexTrustState, apply_codex_trust, codex_hooks, codex_trust_entries,
    codex_trust_states, codex_update_config, remove_codex_trust,
};
pub use doctor::{
    BinaryStatus, DoctorInput, Finding, MIN_DECISION_TIMEOUT_SECS, SettingsFile, Severity, doctor,
};

/// Where the clients keep their configuration, taken from the environment by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallEnv {
    /// `$HOME`.
    pub home: PathBuf,
    /// `$CLAUDE_CONFIG_DIR` (replaces `~/.claude`).
    pub claude_config_dir: Option<PathBuf>,
    /// `$CODEX_HOME` (replaces `~/.codex`).
    pub codex_home: Option<PathBuf>,
    /// `$COPILOT_HOME` (replaces `~/.copilot`).
    pub copilot_home: Option<PathBuf>,
    /// `$GEMINI_CLI_HOME` (replaces `$HOME` for Gemini CLI: `<it>/.gemini`).
    pub gemini_cli_home: Option<PathBuf>,
    /// `$GEMINI_CLI_TRUSTED_FOLDERS_PATH` (replaces `~/.gemini/trustedFolders.json`).
    pub gemini_trusted_folders: Option<PathBuf>,
    /// The current directory (relative `--project` paths are taken from here; Gemini folder
    /// trust is checked for it).
    pub cwd: PathBuf,
}

impl InstallEnv {
    /// An environment with only `$HOME` and the current directory set.
    pub fn new(home: impl Into<PathBuf>, cwd: impl Into<PathBuf>) -> Self {
        InstallEnv {
            home: home.into(),
            claude_config_dir: None,
            codex_home: None,
            copilot_home: None,
            gemini_cli_home: None,
            gemini_trusted_folders: None,
            cwd: cwd.into(),
        }
    }

    /// Builds the environment from variable look-ups (`var("HOME")`, …). Empty values count as
    /// unset. `HOME` is required.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        cwd: impl Into<PathBuf>,
    ) -> Result<Self, WardError> {
        let get = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = get("HOME").ok_or_else(|| {
            WardError::new(
                ErrorCode::Config,
                "HOME is not set; cannot find the clients' settings",
            )
        })?;
        Ok(InstallEnv {
            home,
            claude_config_dir: get("CLAUDE_CONFIG_DIR"),
            codex_home: get("CODEX_HOME"),
            copilot_home: get("COPILOT_HOME"),
            gemini_cli_home: get("GEMINI_CLI_HOME"),
            gemini_trusted_folders: get("GEMINI_CLI_TRUSTED_FOLDERS_PATH"),
            cwd: cwd.into(),
        })
    }

    fn absolute(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cwd.join(path)
        }
    }
}

/// The client's own configuration directory (`~/.claude`, `$CODEX_HOME`, `~/.gemini`,
/// `~/.cursor`, `$COPILOT_HOME`); its absence means the client is not set up for this user.
pub fn client_home(client: ClientKind, env: &InstallEnv) -> PathBuf {
    match client {
        ClientKind::ClaudeCode => env
            .claude_config_dir
            .as_deref()
            .map(|p| env.absolute(p))
            .unwrap_or_else(|| env.home.join(".claude")),
        ClientKind::Codex => env
            .codex_home
            .as_deref()
            .map(|p| env.absolute(p))
            .unwrap_or_else(|| env.home.join(".codex")),
        ClientKind::Gemini => env
            .gemini_cli_home
            .as_deref()
            .map(|p| env.absolute(p))
            .unwrap_or_else(|| env.home.clone())
            .join(".gemini"),
        ClientKind::Cursor => env.home.join(".cursor"),
        ClientKind::Copilot => env
            .copilot_home
            .as_deref()
            .map(|p| env.absolute(p))
            .unwrap_or_else(|| env.home.join(".copilot")),
    }
}

/// The file the client reads ward's hook registration from: user level by default, or the
/// project's own file when `project` is given (relative paths are taken from `env.cwd`).
///
/// | client | user level | project level |
/// |---|---|---|
/// | Claude Code | `$CLAUDE_CONFIG_DIR/settings.json` (`~/.claude`) | `<p>/.claude/settings.json` |
/// | Codex | `$CODEX_HOME/hooks.json` (`~/.codex`) | `<p>/.codex/hooks.json` |
/// | Gemini CLI | `~/.gemini/settings.json` | `<p>/.gemini/settings.json` |
/// | Cursor | `~/.cursor/hooks.json` | `<p>/.cursor/hooks.json` |
/// | Copilot CLI | `$COPILOT_HOME/hooks/ward.json` (`~/.copilot`) | `<p>/.github/hooks/ward.json` |
///
/// Codex also needs the trust written to [`codex_config_path`] (user level in both cases).
pub fn settings_path(client: ClientKind, env: &InstallEnv, project: Option<&Path>) -> PathBuf {
    match project {
        Some(p) => {
            let p = env.absolute(p);
            match client {
                ClientKind::ClaudeCode => p.join(".claude").join("settings.json"),
                ClientKind::Codex => p.join(".codex").join("hooks.json"),
                ClientKind::Gemini => p.join(".gemini").join("settings.json"),
                ClientKind::Cursor => p.join(".cursor").join("hooks.json"),
                ClientKind::Copilot => p.join(".github").join("hooks").join("ward.json"),
            }
        }
        None => {
            let dir = client_home(client, env);
            match client {
                ClientKind::ClaudeCode | ClientKind::Gemini => dir.join("settings.json"),
                ClientKind::Codex | ClientKind::Cursor => dir.join("hooks.json"),
                ClientKind::Copilot => dir.join("hooks").join("ward.json"),
            }
        }
    }
}

/// Codex's user `config.toml`, where hook trust is stored.
pub fn codex_config_path(env: &InstallEnv) -> PathBuf {
    client_home(ClientKind::Codex, env).join("config.toml")
}

/// Gemini CLI's folder-trust file.
pub fn gemini_trusted_folders_path(env: &InstallEnv) -> PathBuf {
    match &env.gemini_trusted_folders {
        Some(p) => env.absolute(p),
        None => client_home(ClientKind::Gemini, env).join("trustedFolders.json"),
    }
}

/// One event ward registers on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookEventSpec {
    /// The event name as the client's settings spell it.
    pub event: &'static str,
    /// The matcher written for it (`None`: no matcher key, which means "all" for that event).
    pub matcher: Option<&'static str>,
    /// The timeout written, in the client's unit (seconds; Gemini: milliseconds).
    pub timeout: Option<u64>,
    /// Whether ward's answer decides (pre-tool and permission events).
    pub decides: bool,
    /// Cursor only: write `failClosed: true`.
    pub fail_closed: bool,
}

const fn ev(
    event: &'static str,
    matcher: Option<&'static str>,
    timeout: Option<u64>,
    decides: bool,
    fail_closed: bool,
) -> HookEventSpec {
    HookEventSpec {
        event,
        matcher,
        timeout,
        decides,
        fail_closed,
    }
}

/// Seconds ward asks the clients to wait for it: far above ward's own decision budget, yet
/// bounded (the clients' default is 10 minutes).
pub const HOOK_TIMEOUT_SECS: u64 = 30;
const T: Option<u64> = Some(HOOK_TIMEOUT_SECS);
const ALL: Option<&str> = Some("*");

const CLAUDE_EVENTS: &[HookEventSpec] = &[
    ev("PreToolUse", ALL, T, true, false),
    ev("PermissionRequest", ALL, T, true, false),
    ev("PostToolUse", ALL, T, false, false),
    ev("PostToolUseFailure", ALL, T, false, false),
    ev("UserPromptSubmit", None, T, false, false),
    ev("SessionStart", None, T, false, false),
    // SessionEnd hooks share a short budget that the largest timeout raises (up to 60 s):
    // keep it small so a stuck hook does not hold the exit.
    ev("SessionEnd", None, Some(10), false, false),
    ev("Stop", None, T, false, false),
    ev("SubagentStart", None, T, false, false),
    ev("SubagentStop", None, T, false, false),
];

const CODEX_EVENTS: &[HookEventSpec] = &[
    ev("PreToolUse", ALL, T, true, false),
    ev("PermissionRequest", ALL, T, true, false),
    ev("PostToolUse", ALL, T, false, false),
    ev("UserPromptSubmit", None, T, false, false),
    ev("SessionStart", None, T, false, false),
    ev("Stop", None, T, false, false),
];

const GEMINI_MS: Option<u64> = Some(HOOK_TIMEOUT_SECS * 1000);
const GEMINI_EVENTS: &[HookEventSpec] = &[
    ev("BeforeTool", Some(".*"), GEMINI_MS, true, false),
    ev("AfterTool", Some(".*"), GEMINI_MS, false, false),
    ev("BeforeAgent", None, GEMINI_MS, false, false),
    ev("SessionStart", None, GEMINI_MS, false, false),
    ev("SessionEnd", None, GEMINI_MS, false, false),
];

const CURSOR_EVENTS: &[HookEventSpec] = &[
    ev("beforeShellExecution", None, None, true, true),
    ev("beforeMCPExecution", None, None, true, true),
    ev("beforeReadFile", None, None, true, true),
    ev("beforeSubmitPrompt", None, None, false, false),
    ev("afterShellExecution", None, None, false, false),
    ev("afterMCPExecution", None, None, false, false),
    ev("afterFileEdit", None, None, false, false),
    ev("stop", None, None, false, false),
];

const COPILOT_EVENTS: &[HookEventSpec] = &[
    ev("preToolUse", None, T, true, false),
    ev("permissionRequest", None, T, true, false),
    ev("postToolUse", None, T, false, false),
    ev("postToolUseFailure", None, T, false, false),
    ev("sessionStart", None, T, false, false),
    ev("sessionEnd", None, T, false, false),
];

/// The events ward registers on for `client`, decision events first.
pub fn hook_events(client: ClientKind) -> &'static [HookEventSpec] {
    match client {
        ClientKind::ClaudeCode => CLAUDE_EVENTS,
        ClientKind::Codex => CODEX_EVENTS,
        ClientKind::Gemini => GEMINI_EVENTS,
        ClientKind::Cursor => CURSOR_EVENTS,
        ClientKind::Copilot => COPILOT_EVENTS,
    }
}

/// The command line registered on `event`: `<ward_bin> hook <client>`, plus `--event <event>`
/// for Copilot, whose camelCase payloads do not name their event. `ward_bin` is shell-quoted
/// when needed (the clients run hook commands through a shell).
pub fn hook_command(client: ClientKind, ward_bin: &str, event: &str) -> String {
    let mut cmd = format!("{} hook {}", shell::quote(ward_bin), client.as_str());
    if client == ClientKind::Copilot {
        cmd.push_str(" --event ");
        cmd.push_str(event);
    }
    cmd
}

/// A parsed `ward hook …` command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WardCommand {
    /// The program as written (a path or a bare name looked up on `PATH`).
    pub program: String,
    /// The client argument (`claude-code`, `codex`, …), if any.
    pub client: Option<String>,
    /// The value of `--event`, if any.
    pub event: Option<String>,
}

/// Recognises ward's own hook command, whatever path it was installed from: the program's file
/// name is `ward` (or `ward.exe`) and its first argument is `hook`.
pub fn parse_ward_command(command: &str) -> Option<WardCommand> {
    let words = shell::split(command);
    let program = words.first()?;
    let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
    if !(name == "ward" || name.eq_ignore_ascii_case("ward.exe")) || words.get(1)? != "hook" {
        return None;
    }
    let client = words.get(2).filter(|w| !w.starts_with('-')).cloned();
    let mut event = None;
    let mut rest = words.iter().skip(2);
    while let Some(w) = rest.next() {
        if w == "--event" {
            event = rest.next().cloned();
        } else if let Some(v) = w.strip_prefix("--event=") {
            event = Some(v.to_string());
        }
    }
    Some(WardCommand {
        program: program.clone(),
        client,
        event,
    })
}

/// The result of editing a settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The new file text (the original text, byte for byte, when nothing changed).
    pub text: String,
    /// Whether the text differs in substance from what was there.
    pub changed: bool,
    /// Uninstall only: the file held nothing but ward's hooks and can be deleted
    /// (Copilot's `hooks/ward.json`).
    pub remove_file: bool,
    /// Things the user should know (e.g. comments that could not be kept).
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `hooks.<Event>: [{matcher?, hooks: [{type, command, timeout}]}]`
    Grouped,
    /// `{version: 1, hooks: {<event>: [{command|bash, …}]}}`
    Flat,
}

fn shape(client: ClientKind) -> Shape {
    match client {
        ClientKind::ClaudeCode | ClientKind::Codex | ClientKind::Gemini => Shape::Grouped,
        ClientKind::Cursor | ClientKind::Copilot => Shape::Flat,
    }
}

/// The command a handler object runs, in any of the keys the clients use.
pub(crate) fn handler_command(handler: &Value) -> Option<&str> {
    ["command", "bash"]
        .iter()
        .find_map(|k| handler.get(*k).and_then(Value::as_str))
}

pub(crate) fn is_ward_handler(handler: &Value) -> bool {
    handler_command(handler).is_some_and(|c| parse_ward_command(c).is_some())
        || (handler.get("type").and_then(Value::as_str) == Some("http")
            && handler
                .get("url")
                .and_then(Value::as_str)
                .is_some_and(|u| u.contains(HTTP_HOOK_PATH)))
}

/// The path of ward's HTTP hook endpoints (`/v1/hooks/<client>`).
pub const HTTP_HOOK_PATH: &str = "/v1/hooks/";

/// What a hook entry runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookTarget<'a> {
    /// `<ward_bin> hook <client>` (every client).
    Command(&'a str),
    /// Claude Code's `http` hook type: POST to the daemon with a bearer token.
    Http { base_url: &'a str, token: &'a str },
}

fn desired_handler(client: ClientKind, spec: &HookEventSpec, target: HookTarget<'_>) -> Value {
    let ward_bin = match target {
        HookTarget::Command(b) => b,
        HookTarget::Http { base_url, token } => {
            let mut h = Map::new();
            h.insert("type".into(), "http".into());
            h.insert(
                "url".into(),
                format!(
                    "{}{HTTP_HOOK_PATH}{}",
                    base_url.trim_end_matches('/'),
                    client.as_str()
                )
                .into(),
            );
            let mut headers = Map::new();
            headers.insert("Authorization".into(), format!("Bearer {token}").into());
            h.insert("headers".into(), Value::Object(headers));
            if let Some(t) = spec.timeout {
                h.insert("timeout".into(), t.into());
            }
            return Value::Object(h);
        }
    };
    let cmd = hook_command(client, ward_bin, spec.event);
    let mut h = Map::new();
    match client {
        ClientKind::ClaudeCode | ClientKind::Codex | ClientKind::Gemini => {
            h.insert("type".into(), "command".into());
            h.insert("command".into(), cmd.into());
            if let Some(t) = spec.timeout {
                h.insert("timeout".into(), t.into());
            }
        }
        ClientKind::Cursor => {
            h.insert("command".into(), cmd.into());
            if spec.fail_closed {
                h.insert("failClosed".into(), true.into());
            }
        }
        ClientKind::Copilot => {
            h.insert("type".into(), "command".into());
            h.insert("bash".into(), cmd.into());
            if let Some(t) = spec.timeout {
                h.insert("timeoutSec".into(), t.into());
            }
        }
    }
    Value::Object(h)
}

fn desired_entry(client: ClientKind, spec: &HookEventSpec, target: HookTarget<'_>) -> Value {
    let handler = desired_handler(client, spec, target);
    match shape(client) {
        Shape::Flat => handler,
        Shape::Grouped => {
            let mut g = Map::new();
            if let Some(m) = spec.matcher {
                g.insert("matcher".into(), m.into());
            }
            g.insert("hooks".into(), Value::Array(vec![handler]));
            Value::Object(g)
        }
    }
}

fn config_error(msg: impl Into<String>) -> WardError {
    WardError::new(ErrorCode::Config, msg)
}

/// Parses a settings file. Gemini CLI accepts comments in its JSON; they are stripped (and the
/// caller is told) because they cannot be kept through an edit.
pub(crate) fn parse_settings(
    client: ClientKind,
    text: &str,
) -> Result<(Map<String, Value>, Vec<String>), WardError> {
    let mut notes = Vec::new();
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let stripped = strip_json_comments(text);
            match (client, serde_json::from_str(&stripped)) {
                (ClientKind::Gemini, Ok(v)) => {
                    notes.push(
                        "the comments in the original file could not be kept (see the backup)"
                            .to_string(),
                    );
                    v
                }
                _ => {
                    return Err(config_error(format!(
                        "the {client} settings are not valid JSON: {e}"
                    )));
                }
            }
        }
    };
    match value {
        Value::Object(m) => Ok((m, notes)),
        _ => Err(config_error(format!(
            "the {client} settings are not a JSON object"
        ))),
    }
}

/// Removes `//` and `/* */` comments outside strings (what Gemini CLI's strip-json-comments does).
pub(crate) fn strip_json_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

fn hooks_object(
    client: ClientKind,
    root: &mut Map<String, Value>,
) -> Result<&mut Map<String, Value>, WardError> {
    root.entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| config_error(format!("`hooks` in the {client} settings is not an object")))
}

fn event_array<'a>(
    client: ClientKind,
    event: &str,
    value: &'a mut Value,
) -> Result<&'a mut Vec<Value>, WardError> {
    value.as_array_mut().ok_or_else(|| {
        config_error(format!(
            "`hooks.{event}` in the {client} settings is not a list"
        ))
    })
}

/// Removes ward handlers from one event's list. Groups (and, for flat lists, nothing else)
/// that held only ward handlers disappear; `keep` (an index into the list) is left alone.
/// Returns whether anything was removed.
fn strip_ward(shape: Shape, list: &mut Vec<Value>, keep: Option<usize>) -> bool {
    let before = list.clone();
    let mut index = 0usize;
    list.retain_mut(|entry| {
        let this = index;
        index += 1;
        if Some(this) == keep {
            return true;
        }
        match shape {
            Shape::Flat => !is_ward_handler(entry),
            Shape::Grouped => {
                let Some(handlers) = entry.get_mut("hooks").and_then(Value::as_array_mut) else {
                    return true;
                };
                if handlers.is_empty() {
                    return true;
                }
                handlers.retain(|h| !is_ward_handler(h));
                !handlers.is_empty()
            }
        }
    });
    *list != before
}

/// Whether `entry` is ward's own slot: a flat ward handler, or a group holding only ward handlers.
fn is_ward_slot(shape: Shape, entry: &Value) -> bool {
    match shape {
        Shape::Flat => is_ward_handler(entry),
        Shape::Grouped => entry
            .get("hooks")
            .and_then(Value::as_array)
            .is_some_and(|hs| !hs.is_empty() && hs.iter().all(is_ward_handler)),
    }
}

fn finish(
    original: Option<(&str, Value)>,
    root: Map<String, Value>,
    notes: Vec<String>,
    remove_file: bool,
) -> Result<Installed, WardError> {
    let new = Value::Object(root);
    if let Some((text, old)) = original
        && old == new
    {
        return Ok(Installed {
            text: text.to_string(),
            changed: false,
            remove_file: false,
            notes: Vec::new(),
        });
    }
    let mut text = serde_json::to_string_pretty(&new)
        .map_err(|e| config_error(format!("cannot serialize the settings: {e}")))?;
    text.push('\n');
    Ok(Installed {
        text,
        changed: true,
        remove_file,
        notes,
    })
}

/// The parsed original (if any), the map to edit, and notes.
type Loaded = (Option<Value>, Map<String, Value>, Vec<String>);

fn load(client: ClientKind, existing: Option<&str>) -> Result<Loaded, WardError> {
    match existing {
        Some(text) if !text.trim().is_empty() => {
            let (map, notes) = parse_settings(client, text)?;
            Ok((Some(Value::Object(map.clone())), map, notes))
        }
        _ => Ok((None, Map::new(), Vec::new())),
    }
}

/// Adds (or refreshes) ward's hook registration in a client's settings text.
///
/// `existing` is the current file text (`None`: no file). `ward_bin` is the path of the ward
/// binary the clients should run. Idempotent: run twice, the second call reports
/// `changed: false` and returns the text unchanged. An older ward entry (another path, an old
/// event list) is replaced in place, not duplicated; other hooks and keys are kept.
pub fn install_entry(
    client: ClientKind,
    existing: Option<&str>,
    ward_bin: &str,
) -> Result<Installed, WardError> {
    install_entry_with(client, existing, HookTarget::Command(ward_bin))
}

/// [`install_entry`] for any [`HookTarget`]; an HTTP target is for Claude Code only.
pub fn install_entry_with(
    client: ClientKind,
    existing: Option<&str>,
    target: HookTarget<'_>,
) -> Result<Installed, WardError> {
    if matches!(target, HookTarget::Http { .. }) && client != ClientKind::ClaudeCode {
        return Err(config_error(format!(
            "`{}` has no HTTP hook type; install the command hook (without `--http`)",
            client.as_str()
        )));
    }
    let (original, mut root, notes) = load(client, existing)?;
    let shape = shape(client);
    if shape == Shape::Flat && !root.contains_key("version") {
        let mut with_version = Map::new();
        with_version.insert("version".into(), 1.into());
        with_version.extend(root);
        root = with_version;
    }
    let specs = hook_events(client);
    {
        let hooks = hooks_object(client, &mut root)?;
        // Ward handlers on events ward no longer registers on go away.
        let mut emptied = Vec::new();
        for (event, list) in hooks.iter_mut() {
            if specs.iter().any(|s| s.event == event) {
                continue;
            }
            if let Some(list) = list.as_array_mut()
                && strip_ward(shape, list, None)
                && list.is_empty()
            {
                emptied.push(event.clone());
            }
        }
        for event in emptied {
            hooks.remove(&event);
        }
        for spec in specs {
            let wanted = desired_entry(client, spec, target);
            let slot_value = hooks
                .entry(spec.event)
                .or_insert_with(|| Value::Array(Vec::new()));
            let list = event_array(client, spec.event, slot_value)?;
            match list.iter().position(|e| is_ward_slot(shape, e)) {
                Some(i) => {
                    list[i] = wanted;
                    strip_ward(shape, list, Some(i));
                }
                None => {
                    strip_ward(shape, list, None);
                    list.push(wanted);
                }
            }
        }
    }
    finish(
        original.as_ref().zip(existing).map(|(v, t)| (t, v.clone())),
        root,
        notes,
        false,
    )
}

/// Removes every ward handler from a client's settings text, keeping everything else.
/// Lists and groups that only held ward handlers are removed; so is `hooks` if that empties it.
pub fn uninstall_entry(client: ClientKind, existing: Option<&str>) -> Result<Installed, WardError> {
    let (original, mut root, notes) = load(client, existing)?;
    let Some(original) = original else {
        return Ok(Installed {
            text: existing.unwrap_or_default().to_string(),
            changed: false,
            remove_file: false,
            notes: Vec::new(),
        });
    };
    let shape = shape(client);
    let mut hooks_emptied = false;
    if let Some(hooks) = root.get_mut("hooks").and_then(Value::as_object_mut) {
        let had_any = !hooks.is_empty();
        let mut emptied = Vec::new();
        for (event, list) in hooks.iter_mut() {
            if let Some(list) = list.as_array_mut()
                && strip_ward(shape, list, None)
                && list.is_empty()
            {
                emptied.push(event.clone());
            }
        }
        for event in emptied {
            hooks.remove(&event);
        }
        hooks_emptied = had_any && hooks.is_empty();
    }
    if hooks_emptied {
        root.remove("hooks");
    }
    let remove_file = client == ClientKind::Copilot
        && root.keys().all(|k| k == "version")
        && original != Value::Object(root.clone());
    finish(
        existing.map(|t| (t, original.clone())),
        root,
        notes,
        remove_file,
    )
}

#[cfg(test)]
mod tests;
