//! `ward hook doctor`: what would keep ward from seeing every tool call, from file contents only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};
use ward_core::ClientKind;

use super::codex::{codex_hooks, codex_trust_states};
use super::{
    HookEventSpec, Shape, handler_command, hook_events, parse_settings, parse_ward_command, shape,
    strip_json_comments,
};

/// Below this many seconds a decision hook's timeout is reported: a hook that times out renders
/// no decision, and most clients then run the tool.
pub const MIN_DECISION_TIMEOUT_SECS: u64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ok,
    Warn,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }
}

/// One result of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub client: ClientKind,
    pub severity: Severity,
    /// Stable identifier of the check (`hook-missing`, `codex-trust-stale`, …).
    pub code: &'static str,
    /// One line: what is wrong (or right).
    pub message: String,
    /// One line: what to do about it.
    pub help: String,
    /// The file concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

/// What the program in a hook command is, as seen by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryStatus {
    Executable,
    NotExecutable,
    Missing,
}

/// A settings file and its contents (`None`: the file does not exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsFile {
    pub path: PathBuf,
    pub contents: Option<String>,
}

/// Everything [`doctor`] looks at, read by the caller.
pub struct DoctorInput<'a> {
    /// Whether the client looks set up for this user (its config directory exists). When it is
    /// not and no settings file exists, the client is reported as skipped, not as broken.
    pub client_present: bool,
    /// The files the client reads hooks from: user level first, then project level if any.
    pub files: Vec<SettingsFile>,
    /// Codex: the user `config.toml` (hook trust, `[features]`).
    pub codex_config: Option<String>,
    /// Gemini: `trustedFolders.json`.
    pub gemini_trusted_folders: Option<String>,
    /// The directory the client would be started in (real path), for Gemini folder trust.
    pub cwd: PathBuf,
    /// Tells whether a hook command's program exists and is executable (bare names are looked
    /// up on `PATH` by the caller).
    pub binary_status: &'a dyn Fn(&str) -> BinaryStatus,
}

struct WardHandler {
    file: PathBuf,
    event: String,
    matcher: Option<String>,
    handler: Value,
    command: String,
}

struct Report {
    client: ClientKind,
    findings: Vec<Finding>,
}

impl Report {
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        help: impl Into<String>,
        path: Option<&Path>,
    ) {
        self.findings.push(Finding {
            client: self.client,
            severity,
            code,
            message: message.into(),
            help: help.into(),
            path: path.map(Path::to_path_buf),
        });
    }
}

fn install_help(client: ClientKind) -> String {
    format!("run `ward hook install {client}`")
}

/// Whether a matcher sends every tool (or every occurrence) to the hook: no matcher, `""` and
/// `"*"` mean all for Claude Code and Codex; Gemini's matchers are regexes (`".*"`).
fn matches_all(matcher: Option<&str>) -> bool {
    matcher.is_none_or(|m| matches!(m.trim(), "" | "*" | ".*" | "^.*$" | ".+" | "^.+$"))
}

/// The handler's timeout in seconds as the client applies it (its default when unset).
fn timeout_secs(client: ClientKind, handler: &Value) -> Option<f64> {
    let num = |k: &str| handler.get(k).and_then(Value::as_f64);
    match client {
        ClientKind::ClaudeCode | ClientKind::Codex => Some(num("timeout").unwrap_or(600.0)),
        ClientKind::Gemini => Some(num("timeout").unwrap_or(60_000.0) / 1000.0),
        ClientKind::Copilot => Some(num("timeoutSec").or_else(|| num("timeout")).unwrap_or(30.0)),
        // Cursor's `timeout` is not documented in the version ward targets.
        ClientKind::Cursor => None,
    }
}

fn ward_handlers(client: ClientKind, path: &Path, root: &Map<String, Value>) -> Vec<WardHandler> {
    let mut out = Vec::new();
    let Some(hooks) = root.get("hooks").and_then(Value::as_object) else {
        return out;
    };
    for (event, list) in hooks {
        let Some(list) = list.as_array() else {
            continue;
        };
        for entry in list {
            let (matcher, handlers): (Option<String>, Vec<&Value>) = match shape(client) {
                Shape::Flat => (None, vec![entry]),
                Shape::Grouped => (
                    entry
                        .get("matcher")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    entry
                        .get("hooks")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().collect())
                        .unwrap_or_default(),
                ),
            };
            for h in handlers {
                if let Some(cmd) = handler_command(h)
                    && parse_ward_command(cmd).is_some()
                {
                    out.push(WardHandler {
                        file: path.to_path_buf(),
                        event: event.clone(),
                        matcher: matcher.clone(),
                        handler: h.clone(),
                        command: cmd.to_string(),
                    });
                }
            }
        }
    }
    out
}

fn binary_consequence(client: ClientKind) -> &'static str {
    match client {
        ClientKind::ClaudeCode => {
            "Claude Code treats a hook that cannot start as a non-blocking error and runs every tool unchecked"
        }
        ClientKind::Codex => {
            "Codex treats a hook that cannot start as failed and runs every tool unchecked"
        }
        ClientKind::Gemini => "Gemini CLI blocks every tool call (\"not found\")",
        ClientKind::Cursor => {
            "Cursor blocks the calls of failClosed hooks and runs the rest unchecked"
        }
        ClientKind::Copilot => "Copilot CLI denies every tool call (\"hook errored\")",
    }
}

/// Checks one client's hook setup. Findings come in a stable order; a client whose setup is
/// complete gets `ok` findings only.
pub fn doctor(client: ClientKind, input: &DoctorInput<'_>) -> Vec<Finding> {
    let mut r = Report {
        client,
        findings: Vec::new(),
    };
    let existing: Vec<(&SettingsFile, &str)> = input
        .files
        .iter()
        .filter_map(|f| f.contents.as_deref().map(|c| (f, c)))
        .collect();
    if existing.is_empty() && !input.client_present {
        r.push(
            Severity::Ok,
            "client-not-set-up",
            format!("{client} is not set up for this user; skipped"),
            install_help(client),
            None,
        );
        return r.findings;
    }
    let first_path = input.files.first().map(|f| f.path.as_path());

    let mut handlers = Vec::new();
    let mut roots = Vec::new();
    for (file, text) in &existing {
        match parse_settings(client, text) {
            Ok((root, _)) => {
                handlers.extend(ward_handlers(client, &file.path, &root));
                roots.push((file.path.clone(), root));
            }
            Err(e) => r.push(
                Severity::Error,
                "settings-invalid",
                format!("{}: {}", file.path.display(), e.message),
                "fix the file (ward edits only valid settings)",
                Some(&file.path),
            ),
        }
    }

    if client == ClientKind::ClaudeCode {
        for (path, root) in &roots {
            if root.get("disableAllHooks").and_then(Value::as_bool) == Some(true) {
                r.push(
                    Severity::Error,
                    "hooks-disabled",
                    "`disableAllHooks` is true: Claude Code runs no hooks, ward included",
                    "remove `disableAllHooks` from the settings",
                    Some(path),
                );
            }
        }
    }

    if handlers.is_empty() {
        let where_ = if existing.is_empty() {
            format!(
                "no settings file ({})",
                first_path
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
        } else {
            existing
                .iter()
                .map(|(f, _)| f.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        r.push(
            Severity::Error,
            "hook-missing",
            format!("ward is not registered as a {client} hook: {where_}"),
            install_help(client),
            first_path,
        );
        return r.findings;
    }

    check_events(&mut r, client, &handlers);
    check_binaries(&mut r, client, &handlers, input);
    match client {
        ClientKind::Codex => check_codex(&mut r, &existing, input),
        ClientKind::Gemini => check_gemini(&mut r, &roots, input),
        _ => {}
    }

    if !r.findings.iter().any(|f| f.severity > Severity::Ok) {
        let events: BTreeSet<&str> = handlers.iter().map(|h| h.event.as_str()).collect();
        let files: BTreeSet<String> = handlers
            .iter()
            .map(|h| h.file.display().to_string())
            .collect();
        r.findings.insert(
            0,
            Finding {
                client,
                severity: Severity::Ok,
                code: "hook-ok",
                message: format!(
                    "ward is registered on {} events in {}",
                    events.len(),
                    files.into_iter().collect::<Vec<_>>().join(", ")
                ),
                help: String::new(),
                path: handlers.first().map(|h| h.file.clone()),
            },
        );
    }
    r.findings
}

fn check_events(r: &mut Report, client: ClientKind, handlers: &[WardHandler]) {
    let specs: &[HookEventSpec] = hook_events(client);
    let mut missing_optional = Vec::new();
    for spec in specs {
        let on: Vec<&WardHandler> = handlers.iter().filter(|h| h.event == spec.event).collect();
        let Some(first) = on.first() else {
            if spec.decides {
                r.push(
                    Severity::Error,
                    "hook-missing",
                    format!(
                        "ward is not registered on {}: those calls are not checked",
                        spec.event
                    ),
                    install_help(client),
                    handlers.first().map(|h| h.file.as_path()),
                );
            } else {
                missing_optional.push(spec.event);
            }
            continue;
        };
        if shape(client) == Shape::Grouped && !on.iter().any(|h| matches_all(h.matcher.as_deref()))
        {
            r.push(
                if spec.decides {
                    Severity::Error
                } else {
                    Severity::Warn
                },
                "matcher-partial",
                format!(
                    "ward's {} matcher {:?} does not cover every tool: the others bypass ward",
                    spec.event,
                    first.matcher.as_deref().unwrap_or_default()
                ),
                format!(
                    "use the matcher {:?} (or rerun `ward hook install {client}`)",
                    spec.matcher.unwrap_or("*")
                ),
                Some(&first.file),
            );
        }
        if client == ClientKind::Cursor && on.iter().any(|h| h.handler.get("matcher").is_some()) {
            r.push(
                Severity::Warn,
                "matcher-partial",
                format!(
                    "ward's Cursor {} hook has a matcher: some calls may bypass ward",
                    spec.event
                ),
                install_help(client),
                Some(&first.file),
            );
        }
        if spec.decides {
            for h in &on {
                if let Some(secs) = timeout_secs(client, &h.handler)
                    && secs < MIN_DECISION_TIMEOUT_SECS as f64
                {
                    r.push(
                        Severity::Warn,
                        "hook-timeout-small",
                        format!(
                            "ward's {} timeout is {secs} s: a hook that times out decides nothing and the tool runs",
                            spec.event
                        ),
                        format!(
                            "allow at least {MIN_DECISION_TIMEOUT_SECS} s (`ward hook install {client}` writes {} s)",
                            super::HOOK_TIMEOUT_SECS
                        ),
                        Some(&h.file),
                    );
                }
            }
        }
        if spec.fail_closed
            && on
                .iter()
                .any(|h| h.handler.get("failClosed").and_then(Value::as_bool) != Some(true))
        {
            r.push(
                Severity::Warn,
                "cursor-fail-open",
                format!(
                    "ward's {} hook lacks `failClosed: true`: if ward fails, Cursor runs the call",
                    spec.event
                ),
                install_help(client),
                Some(&first.file),
            );
        }
        let mut per_file: BTreeMap<&Path, usize> = BTreeMap::new();
        for h in &on {
            *per_file.entry(h.file.as_path()).or_default() += 1;
        }
        if let Some((file, _)) = per_file.iter().find(|(_, n)| **n > 1) {
            r.push(
                Severity::Warn,
                "hook-duplicate",
                format!("ward is registered more than once on {}: every call is checked (and logged) twice", spec.event),
                install_help(client),
                Some(file),
            );
        }
    }
    if !missing_optional.is_empty() {
        r.push(
            Severity::Warn,
            "hook-event-missing",
            format!(
                "ward is not registered on {}: the audit log misses those events",
                missing_optional.join(", ")
            ),
            install_help(client),
            handlers.first().map(|h| h.file.as_path()),
        );
    }
    for h in handlers {
        let Some(cmd) = parse_ward_command(&h.command) else {
            continue;
        };
        let named = cmd
            .client
            .as_deref()
            .and_then(|c| c.parse::<ClientKind>().ok());
        if named != Some(client) {
            r.push(
                Severity::Warn,
                "hook-wrong-client",
                format!(
                    "`{}` on {} does not name {client}: ward will misread the payloads",
                    h.command, h.event
                ),
                install_help(client),
                Some(&h.file),
            );
        }
        if client == ClientKind::Copilot && cmd.event.as_deref() != Some(h.event.as_str()) {
            r.push(
                Severity::Error,
                "copilot-event-arg",
                format!(
                    "`{}` on {} does not pass `--event {}`: Copilot's payloads do not name their event",
                    h.command, h.event, h.event
                ),
                install_help(client),
                Some(&h.file),
            );
        }
    }
}

fn check_binaries(
    r: &mut Report,
    client: ClientKind,
    handlers: &[WardHandler],
    input: &DoctorInput<'_>,
) {
    let mut seen = BTreeSet::new();
    for h in handlers {
        let Some(cmd) = parse_ward_command(&h.command) else {
            continue;
        };
        if !seen.insert(cmd.program.clone()) {
            continue;
        }
        match (input.binary_status)(&cmd.program) {
            BinaryStatus::Executable => {}
            BinaryStatus::Missing => r.push(
                Severity::Error,
                "ward-binary-missing",
                format!(
                    "the hook runs `{}`, which does not exist: {}",
                    cmd.program,
                    binary_consequence(client)
                ),
                format!("reinstall ward, then `ward hook install {client}` to record its path"),
                Some(&h.file),
            ),
            BinaryStatus::NotExecutable => r.push(
                Severity::Error,
                "ward-binary-not-executable",
                format!(
                    "the hook runs `{}`, which is not executable: {}",
                    cmd.program,
                    binary_consequence(client)
                ),
                format!("`chmod +x {}`", cmd.program),
                Some(&h.file),
            ),
        }
    }
}

fn check_codex(r: &mut Report, existing: &[(&SettingsFile, &str)], input: &DoctorInput<'_>) {
    let states = match codex_trust_states(input.codex_config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            r.push(
                Severity::Error,
                "codex-config-invalid",
                e.message,
                "fix $CODEX_HOME/config.toml",
                None,
            );
            return;
        }
    };
    if let Some(cfg) = input.codex_config.as_deref()
        && let Ok(doc) = cfg.parse::<toml_edit::DocumentMut>()
        && let Some(features) = doc.get("features").and_then(toml_edit::Item::as_table_like)
    {
        for flag in ["hooks", "codex_hooks"] {
            if features.get(flag).and_then(toml_edit::Item::as_bool) == Some(false) {
                r.push(
                    Severity::Error,
                    "codex-hooks-disabled",
                    format!("config.toml sets `[features] {flag} = false`: Codex runs no hooks"),
                    format!("remove `{flag} = false` from [features]"),
                    None,
                );
            }
        }
    }
    for (file, text) in existing {
        let hooks = match codex_hooks(&file.path, text) {
            Ok(h) => h,
            Err(e) => {
                r.push(
                    Severity::Error,
                    "codex-hooks-unparseable",
                    e.message,
                    "fix or remove the offending entry (Codex accepts only command, prompt and agent hooks)",
                    Some(&file.path),
                );
                continue;
            }
        };
        let mut missing = Vec::new();
        let mut stale = Vec::new();
        let mut disabled = Vec::new();
        let mut trusted = 0usize;
        for h in hooks.iter().filter(|h| h.is_ward) {
            let Some(hash) = &h.hash else { continue };
            let state = states.get(&h.key);
            if state.and_then(|s| s.enabled) == Some(false) {
                disabled.push(h.event.clone());
            }
            match state.and_then(|s| s.trusted_hash.as_deref()) {
                None => missing.push(h.event.clone()),
                Some(t) if t != hash => stale.push(h.event.clone()),
                Some(_) => trusted += 1,
            }
        }
        let help = "rerun `ward hook install codex` (it writes the trust), or review the hooks in Codex's /hooks";
        if !missing.is_empty() {
            r.push(
                Severity::Error,
                "codex-trust-missing",
                format!(
                    "ward's Codex hooks on {} are not trusted: Codex skips them silently",
                    missing.join(", ")
                ),
                help,
                Some(&file.path),
            );
        }
        if !stale.is_empty() {
            r.push(
                Severity::Error,
                "codex-trust-stale",
                format!(
                    "ward's Codex hooks on {} changed since they were trusted: Codex skips them silently",
                    stale.join(", ")
                ),
                help,
                Some(&file.path),
            );
        }
        if !disabled.is_empty() {
            r.push(
                Severity::Error,
                "codex-hook-disabled",
                format!(
                    "ward's Codex hooks on {} are disabled in config.toml",
                    disabled.join(", ")
                ),
                "remove `enabled = false` from their [hooks.state.\"…\"] entries",
                Some(&file.path),
            );
        }
        if missing.is_empty() && stale.is_empty() && disabled.is_empty() && trusted > 0 {
            r.push(
                Severity::Ok,
                "codex-trust-ok",
                format!(
                    "ward's {trusted} Codex hooks in {} are trusted",
                    file.path.display()
                ),
                String::new(),
                Some(&file.path),
            );
        }
    }
}

fn is_subpath(parent: &str, child: &str) -> bool {
    let parent = parent.trim_end_matches('/');
    child == parent || parent.is_empty() || child.starts_with(&format!("{parent}/"))
}

/// Gemini CLI's `isPathTrusted`: the longest rule (by its path's length) whose effective folder
/// contains `location` decides; `TRUST_PARENT` rules cover the rule path's parent.
fn gemini_trust(rules: &Map<String, Value>, location: &str) -> Option<bool> {
    let mut best: Option<(usize, &str)> = None;
    for (rule, level) in rules {
        let Some(level) = level.as_str() else {
            continue;
        };
        let effective = if level == "TRUST_PARENT" {
            Path::new(rule)
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| rule.clone())
        } else {
            rule.clone()
        };
        if is_subpath(&effective, location) && best.is_none_or(|(len, _)| rule.len() > len) {
            best = Some((rule.len(), level));
        }
    }
    match best {
        Some((_, "DO_NOT_TRUST")) => Some(false),
        Some((_, "TRUST_FOLDER" | "TRUST_PARENT")) => Some(true),
        _ => None,
    }
}

fn check_gemini(r: &mut Report, roots: &[(PathBuf, Map<String, Value>)], input: &DoctorInput<'_>) {
    let trust_off = roots.first().is_some_and(|(_, root)| {
        root.get("security")
            .and_then(|s| s.get("folderTrust"))
            .and_then(|f| f.get("enabled"))
            .and_then(Value::as_bool)
            == Some(false)
    });
    if trust_off {
        return;
    }
    let cwd = input.cwd.display().to_string();
    let rules = match input.gemini_trusted_folders.as_deref() {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(&strip_json_comments(text)) {
            Ok(Value::Object(m)) => m,
            _ => {
                r.push(
                    Severity::Error,
                    "gemini-trust-invalid",
                    "trustedFolders.json is not a JSON object: Gemini CLI refuses to start",
                    "fix ~/.gemini/trustedFolders.json",
                    None,
                );
                return;
            }
        },
    };
    match gemini_trust(&rules, &cwd) {
        Some(true) => r.push(
            Severity::Ok,
            "gemini-folder-trusted",
            format!("{cwd} is a trusted Gemini folder"),
            String::new(),
            None,
        ),
        verdict => r.push(
            Severity::Error,
            "gemini-folder-untrusted",
            format!(
                "{cwd} is {} Gemini folder: Gemini CLI loads no settings hooks there (ward is not asked) and headless mode refuses to start",
                if verdict == Some(false) { "a distrusted" } else { "not a trusted" }
            ),
            format!("trust it in Gemini's folder-trust dialog, or add \"{cwd}\": \"TRUST_FOLDER\" to ~/.gemini/trustedFolders.json"),
            None,
        ),
    }
}
