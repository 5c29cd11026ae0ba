//! Codex hook trust.
//!
//! Codex 0.169 runs a non-managed hook (user `hooks.json`, project `.codex/hooks.json`, `[hooks]`
//! in `config.toml`) only when the user config holds
//!
//! ```toml
//! [hooks.state."<abs path of hooks.json>:<event_snake>:<group index>:<handler index>"]
//! trusted_hash = "sha256:<hex>"
//! ```
//!
//! and the hash equals the hash of the handler's *normalized identity*; otherwise it skips the
//! hook without a word. The identity (codex-rs `hooks/src/engine/discovery.rs`,
//! `command_hook_hash`) is the TOML value of
//!
//! ```text
//! { event_name = "<event_snake>", matcher = <group matcher, dropped for UserPromptSubmit/Stop>,
//!   hooks = [ { type = "command", command, timeout = <effective seconds>, async,
//!               statusMessage?, additionalContextLimit? } ] }
//! ```
//!
//! (`commandWindows` dropped, absent options omitted) converted to JSON, object keys sorted
//! recursively, serialized compactly with serde_json, and hashed with SHA-256
//! (`codex_config::version_for_toml`). The effective timeout is `timeout.unwrap_or(600).max(1)`,
//! and for `SessionEnd` `timeout.clamp(1, 3)` (1 when absent). Checked against the real Codex
//! 0.169.0 `app-server` `hooks/list` `currentHash` (see the known-answer tests).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use toml_edit::{DocumentMut, Item, Table};
use ward_core::{ErrorCode, WardError};

use super::{handler_command, parse_ward_command};

/// Hook events Codex 0.169 reads from `hooks.json`: the name in the file, the name in trust
/// keys, and whether the group matcher is part of the hook (Codex ignores it on the others).
const CODEX_EVENT_NAMES: &[(&str, &str, bool)] = &[
    ("PreToolUse", "pre_tool_use", true),
    ("PermissionRequest", "permission_request", true),
    ("PostToolUse", "post_tool_use", true),
    ("PreCompact", "pre_compact", true),
    ("PostCompact", "post_compact", true),
    ("SessionStart", "session_start", true),
    ("SessionEnd", "session_end", true),
    ("UserPromptSubmit", "user_prompt_submit", false),
    ("SubagentStart", "subagent_start", true),
    ("SubagentStop", "subagent_stop", true),
    ("Stop", "stop", false),
];

/// One handler of a Codex hooks file, as Codex keys and hashes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodexHook {
    /// The trust key: `<path>:<event_snake>:<group>:<handler>`.
    pub key: String,
    /// The event as written in the file (`PreToolUse`).
    pub event: String,
    pub group: usize,
    pub handler: usize,
    /// The command, for command handlers.
    pub command: Option<String>,
    /// The hash Codex expects as `trusted_hash`; `None` for handlers Codex does not run
    /// (prompt/agent handlers, empty commands).
    pub hash: Option<String>,
    /// Whether the handler is ward's own.
    pub is_ward: bool,
}

fn config_error(msg: impl Into<String>) -> WardError {
    WardError::new(ErrorCode::Config, msg)
}

fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn optional<'a>(h: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    h.get(key).filter(|v| !v.is_null())
}

/// The hash of one command handler, or `None` when Codex would not run it.
fn handler_hash(
    event_snake: &str,
    matcher: Option<&str>,
    handler: &Map<String, Value>,
    file: &str,
) -> Result<Option<String>, WardError> {
    let bad = |what: &str| {
        config_error(format!(
            "Codex cannot parse {file}: {what}; it ignores every hook in the file"
        ))
    };
    let kind = handler
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("a hook handler has no `type`"))?;
    match kind {
        "command" => {}
        "prompt" | "agent" => return Ok(None),
        other => return Err(bad(&format!("unknown hook type `{other}`"))),
    }
    let command = handler
        .get("command")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("a command hook has no string `command`"))?;
    let timeout = match optional(handler, "timeout") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| bad("a hook `timeout` is not a whole number of seconds"))?,
        ),
    };
    let is_async = match optional(handler, "async") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| bad("a hook `async` is not a boolean"))?,
    };
    let status_message = match optional(handler, "statusMessage") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .ok_or_else(|| bad("a hook `statusMessage` is not a string"))?,
        ),
    };
    let context_limit = match optional(handler, "additionalContextLimit") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| bad("a hook `additionalContextLimit` is not a whole number"))?,
        ),
    };
    if command.trim().is_empty() {
        return Ok(None);
    }
    let timeout = if event_snake == "session_end" {
        timeout.map_or(1, |t| t.clamp(1, 3))
    } else {
        timeout.unwrap_or(600).max(1)
    };
    let mut h = Map::new();
    h.insert("type".into(), "command".into());
    h.insert("command".into(), command.into());
    h.insert("timeout".into(), timeout.into());
    h.insert("async".into(), is_async.into());
    if let Some(s) = status_message {
        h.insert("statusMessage".into(), s.into());
    }
    if let Some(n) = context_limit {
        h.insert("additionalContextLimit".into(), n.into());
    }
    let mut identity = Map::new();
    identity.insert("event_name".into(), event_snake.into());
    if let Some(m) = matcher {
        identity.insert("matcher".into(), m.into());
    }
    identity.insert("hooks".into(), Value::Array(vec![Value::Object(h)]));
    let bytes = serde_json::to_vec(&canonical(&Value::Object(identity)))
        .map_err(|e| config_error(format!("cannot serialize a Codex hook identity: {e}")))?;
    Ok(Some(format!(
        "sha256:{}",
        hex::encode(Sha256::digest(bytes))
    )))
}

/// Every handler of a Codex `hooks.json`, with the trust key and hash Codex gives it.
/// Fails when Codex itself could not parse the file (it would then run none of its hooks).
pub fn codex_hooks(hooks_json_path: &Path, hooks_json: &str) -> Result<Vec<CodexHook>, WardError> {
    let file = hooks_json_path.display().to_string();
    let bad = |what: &str| {
        config_error(format!(
            "Codex cannot parse {file}: {what}; it ignores every hook in the file"
        ))
    };
    if hooks_json.trim().is_empty() {
        return Err(bad("the file is empty"));
    }
    let root: Value =
        serde_json::from_str(hooks_json).map_err(|e| bad(&format!("invalid JSON ({e})")))?;
    let root = root.as_object().ok_or_else(|| bad("not a JSON object"))?;
    let Some(hooks) = optional(root, "hooks") else {
        return Ok(Vec::new());
    };
    let hooks = hooks
        .as_object()
        .ok_or_else(|| bad("`hooks` is not an object"))?;
    let mut out = Vec::new();
    for (event, snake, keeps_matcher) in CODEX_EVENT_NAMES {
        let Some(groups) = hooks.get(*event) else {
            continue;
        };
        let groups = groups
            .as_array()
            .ok_or_else(|| bad(&format!("`hooks.{event}` is not a list")))?;
        for (gi, group) in groups.iter().enumerate() {
            let group = group
                .as_object()
                .ok_or_else(|| bad(&format!("an entry of `hooks.{event}` is not an object")))?;
            let matcher = match optional(group, "matcher") {
                None => None,
                Some(m) => Some(
                    m.as_str()
                        .ok_or_else(|| bad("a `matcher` is not a string"))?,
                ),
            };
            let matcher = if *keeps_matcher { matcher } else { None };
            let handlers = match optional(group, "hooks") {
                None => continue,
                Some(h) => h
                    .as_array()
                    .ok_or_else(|| bad(&format!("`hooks` of a `{event}` group is not a list")))?,
            };
            for (hi, handler) in handlers.iter().enumerate() {
                let obj = handler
                    .as_object()
                    .ok_or_else(|| bad("a hook handler is not an object"))?;
                let hash = handler_hash(snake, matcher, obj, &file)?;
                let command = handler_command(handler).map(str::to_string);
                let is_ward = obj.get("type").and_then(Value::as_str) == Some("command")
                    && command
                        .as_deref()
                        .is_some_and(|c| parse_ward_command(c).is_some());
                out.push(CodexHook {
                    key: format!("{file}:{snake}:{gi}:{hi}"),
                    event: (*event).to_string(),
                    group: gi,
                    handler: hi,
                    command,
                    hash,
                    is_ward,
                });
            }
        }
    }
    Ok(out)
}

/// The trust entries (`key`, `trusted_hash`) for ward's own handlers in a Codex hooks file.
/// Other people's hooks are never trusted on their behalf.
pub fn codex_trust_entries(
    hooks_json_path: &Path,
    hooks_json: &str,
) -> Result<Vec<(String, String)>, WardError> {
    Ok(codex_hooks(hooks_json_path, hooks_json)?
        .into_iter()
        .filter(|h| h.is_ward)
        .filter_map(|h| h.hash.map(|hash| (h.key, hash)))
        .collect())
}

/// What `config.toml` records about one hook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodexTrustState {
    pub trusted_hash: Option<String>,
    pub enabled: Option<bool>,
}

fn parse_config(config_toml: Option<&str>) -> Result<DocumentMut, WardError> {
    config_toml
        .unwrap_or("")
        .parse::<DocumentMut>()
        .map_err(|e| config_error(format!("Codex config.toml is not valid TOML: {e}")))
}

/// The `[hooks.state."…"]` entries of a Codex `config.toml`.
pub fn codex_trust_states(
    config_toml: Option<&str>,
) -> Result<HashMap<String, CodexTrustState>, WardError> {
    let doc = parse_config(config_toml)?;
    let mut out = HashMap::new();
    let Some(state) = doc
        .get("hooks")
        .and_then(Item::as_table_like)
        .and_then(|h| h.get("state"))
        .and_then(Item::as_table_like)
    else {
        return Ok(out);
    };
    for (key, item) in state.iter() {
        let Some(t) = item.as_table_like() else {
            continue;
        };
        out.insert(
            key.to_string(),
            CodexTrustState {
                trusted_hash: t
                    .get("trusted_hash")
                    .and_then(Item::as_str)
                    .map(str::to_string),
                enabled: t.get("enabled").and_then(Item::as_bool),
            },
        );
    }
    Ok(out)
}

/// `hooks.state`, created (as implicit tables, so no empty headers appear) when absent.
fn state_table(doc: &mut DocumentMut) -> Result<&mut Table, WardError> {
    let unsupported = || {
        config_error(
            "Codex config.toml spells `hooks` or `hooks.state` as an inline table; \
             write the trust by hand or turn it into [hooks.state.\"…\"] tables",
        )
    };
    let hooks = doc.entry("hooks").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let hooks = hooks.as_table_mut().ok_or_else(unsupported)?;
    let state = hooks.entry("state").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    state.as_table_mut().ok_or_else(unsupported)
}

fn set_trust(state: &mut Table, key: &str, hash: &str) -> Result<(), WardError> {
    match state.get_mut(key) {
        Some(item) => {
            let t = item.as_table_like_mut().ok_or_else(|| {
                config_error(format!(
                    "Codex config.toml: hooks.state.\"{key}\" is not a table"
                ))
            })?;
            if t.get("trusted_hash").and_then(Item::as_str) != Some(hash) {
                t.insert("trusted_hash", toml_edit::value(hash));
            }
        }
        None => {
            let mut t = Table::new();
            t.insert("trusted_hash", toml_edit::value(hash));
            state.insert(key, Item::Table(t));
        }
    }
    Ok(())
}

/// Writes `trusted_hash` for each (key, hash) into a Codex `config.toml` text, keeping the
/// rest of the file (comments, order, formatting) as it was.
pub fn apply_codex_trust(
    config_toml: Option<&str>,
    entries: &[(String, String)],
) -> Result<String, WardError> {
    let mut doc = parse_config(config_toml)?;
    if !entries.is_empty() {
        let state = state_table(&mut doc)?;
        for (key, hash) in entries {
            set_trust(state, key, hash)?;
        }
    }
    Ok(doc.to_string())
}

/// Removes the `hooks.state` entries with the given keys.
pub fn remove_codex_trust(config_toml: Option<&str>, keys: &[String]) -> Result<String, WardError> {
    let mut doc = parse_config(config_toml)?;
    if let Some(state) = doc
        .get_mut("hooks")
        .and_then(Item::as_table_like_mut)
        .and_then(|h| h.get_mut("state"))
        .and_then(Item::as_table_like_mut)
    {
        for key in keys {
            state.remove(key);
        }
    }
    Ok(doc.to_string())
}

/// The new `config.toml` text after ward edited a Codex hooks file from `old_hooks_json` to
/// `new_hooks_json`:
/// * ward's handlers are trusted at their (new) positions;
/// * other people's hooks that moved because ward's entries came or went keep their trust
///   state (it follows them to their new key, and only if their hash is unchanged);
/// * trust left at keys where a ward handler no longer is gets removed.
pub fn codex_update_config(
    config_toml: Option<&str>,
    hooks_json_path: &Path,
    old_hooks_json: Option<&str>,
    new_hooks_json: &str,
) -> Result<String, WardError> {
    let old = match old_hooks_json {
        Some(t) if !t.trim().is_empty() => codex_hooks(hooks_json_path, t)?,
        _ => Vec::new(),
    };
    let new = if new_hooks_json.trim().is_empty() {
        Vec::new()
    } else {
        codex_hooks(hooks_json_path, new_hooks_json)?
    };
    let mut doc = parse_config(config_toml)?;

    // Other people's hooks, per event, in order: ward never edits them, so the k-th foreign
    // handler of an event before the edit is the k-th after it.
    let mut moves = Vec::new();
    for (event, _, _) in CODEX_EVENT_NAMES {
        let before = old.iter().filter(|h| !h.is_ward && h.event == *event);
        let after = new.iter().filter(|h| !h.is_ward && h.event == *event);
        for (b, a) in before.zip(after) {
            if b.key != a.key && b.hash == a.hash {
                moves.push((b.key.clone(), a.key.clone()));
            }
        }
    }
    let new_ward: Vec<(String, String)> = new
        .iter()
        .filter(|h| h.is_ward)
        .filter_map(|h| h.hash.clone().map(|hash| (h.key.clone(), hash)))
        .collect();
    let stale_ward: Vec<String> = old
        .iter()
        .filter(|h| h.is_ward)
        .map(|h| h.key.clone())
        .filter(|k| !new_ward.iter().any(|(nk, _)| nk == k))
        .collect();

    let has_state = doc
        .get("hooks")
        .and_then(Item::as_table_like)
        .and_then(|h| h.get("state"))
        .is_some();
    if has_state || !new_ward.is_empty() {
        let state = state_table(&mut doc)?;
        let carried: Vec<(String, Item)> = moves
            .iter()
            .filter_map(|(from, to)| state.get(from).map(|item| (to.clone(), item.clone())))
            .collect();
        for (from, _) in &moves {
            state.remove(from);
        }
        for key in &stale_ward {
            state.remove(key);
        }
        for (to, item) in carried {
            state.insert(&to, item);
        }
        for (key, hash) in &new_ward {
            set_trust(state, key, hash)?;
        }
    }
    Ok(doc.to_string())
}
