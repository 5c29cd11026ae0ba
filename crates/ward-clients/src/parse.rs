//! Payload → [`HookEvent`].

use crate::Origin;
use crate::effect;
use crate::events::{infer_copilot, lookup};
use crate::json::{Obj, decode_embedded, lenient_str, missing, opt_str, req_str};
use crate::tools::{self, ToolCtx, cursor_mcp_server};
use serde_json::{Value, json};
use ward_core::{
    Action, Assistant, ClientKind, Effect, ErrorCode, HookEvent, HookKind, ToolCall, WardError,
};

pub(crate) fn parse(
    client: ClientKind,
    payload: &[u8],
    event_hint: Option<&str>,
    origin: &Origin,
) -> Result<HookEvent, WardError> {
    if payload.len() > crate::MAX_PAYLOAD_BYTES {
        return Err(WardError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "payload is {} bytes, over the {}-byte limit",
                payload.len(),
                crate::MAX_PAYLOAD_BYTES
            ),
        ));
    }
    let value: Value = serde_json::from_slice(payload).map_err(|e| {
        WardError::new(
            ErrorCode::PayloadMalformed,
            format!("payload is not valid JSON: {e}"),
        )
    })?;
    let obj = match value {
        Value::Object(obj) => obj,
        other => {
            return Err(WardError::new(
                ErrorCode::PayloadMalformed,
                format!("payload must be a JSON object, not {}", type_name(&other)),
            ));
        }
    };
    let (event_name, kind) = resolve_event(client, &obj, event_hint)?;
    let p = Parsed {
        client,
        obj: &obj,
        event_name,
        kind,
        origin,
    };
    match client {
        ClientKind::Cursor => p.cursor(),
        _ => p.standard(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The payload's own event name if ward knows it, else the `--event` hint, else (Copilot
/// camelCase payloads, which name no event) the event its fields imply.
fn resolve_event(
    client: ClientKind,
    obj: &Obj,
    hint: Option<&str>,
) -> Result<(&'static str, HookKind), WardError> {
    let explicit = lenient_str(obj, &["hook_event_name", "hookEventName", "hookName"]);
    let hint = hint.map(str::trim).filter(|h| !h.is_empty());
    for candidate in [explicit, hint].into_iter().flatten() {
        if let Some(found) = lookup(client, candidate) {
            return Ok(found);
        }
    }
    if let Some(name) = explicit.or(hint) {
        return Err(WardError::new(
            ErrorCode::PayloadUnknownEvent,
            format!(
                "unknown {client} event `{}`",
                crate::json::truncate_chars(name, 80)
            ),
        ));
    }
    if client == ClientKind::Copilot {
        return infer_copilot(obj)
            .and_then(|name| lookup(client, name))
            .ok_or_else(|| {
                WardError::new(
                    ErrorCode::PayloadUnknownEvent,
                    "cannot tell which copilot event this payload is; register the hook with `--event NAME`",
                )
            });
    }
    Err(missing("hook_event_name"))
}

struct Parsed<'a> {
    client: ClientKind,
    obj: &'a Obj,
    event_name: &'static str,
    kind: HookKind,
    origin: &'a Origin,
}

/// A tool call's pieces before they become a [`ToolCall`].
struct CallParts {
    tool_name: String,
    action: Action,
    input: Value,
    cwd: String,
    tool_use_id: Option<String>,
    agent_id: Option<String>,
}

impl Parsed<'_> {
    /// Decision events need every field; the others are recorded with what they carry.
    fn strict(&self) -> bool {
        self.kind.needs_decision()
    }

    /// A string field that decision events require and other events may lack.
    fn field(&self, keys: &[&'static str]) -> Result<String, WardError> {
        if self.strict() {
            req_str(self.obj, keys, "").map(str::to_string)
        } else {
            Ok(lenient_str(self.obj, keys).unwrap_or("").to_string())
        }
    }

    fn event(
        &self,
        session_id: String,
        cwd: String,
        call: Option<CallParts>,
        effect: Option<Effect>,
    ) -> HookEvent {
        let call = call.map(|c| ToolCall {
            assistant: Assistant {
                client: self.client,
                host: self.origin.host.clone(),
                os_user: self.origin.os_user.clone(),
            },
            session_id: session_id.clone(),
            tool_use_id: c.tool_use_id,
            tool_name: c.tool_name,
            action: c.action,
            input: c.input,
            cwd: c.cwd,
            repo_root: None,
            agent_id: c.agent_id,
        });
        HookEvent {
            client: self.client,
            event_name: self.event_name.to_string(),
            kind: self.kind,
            session_id,
            cwd,
            call,
            effect,
        }
    }

    /// Normalize a named tool; on events that need no decision a tool input ward cannot read
    /// is recorded as `Other` rather than refused.
    fn tool_action(&self, ctx: &ToolCtx<'_>) -> Result<Action, WardError> {
        match tools::action(ctx) {
            Ok(a) => Ok(a),
            Err(e) if self.strict() => Err(e),
            Err(_) => Ok(Action::Other {
                name: ctx.name.to_string(),
            }),
        }
    }

    /// Claude Code, Codex, Gemini CLI and Copilot CLI (camelCase and snake_case payloads).
    fn standard(&self) -> Result<HookEvent, WardError> {
        // Copilot's camelCase payloads: name their own fields in messages.
        let camel = ["sessionId", "toolName", "hookName"]
            .iter()
            .any(|k| self.obj.contains_key(*k));
        let (session_keys, tool_keys): (&[&'static str], &[&'static str]) = if camel {
            (&["sessionId", "session_id"], &["toolName", "tool_name"])
        } else {
            (&["session_id", "sessionId"], &["tool_name", "toolName"])
        };
        let session_id = if self.client == ClientKind::Copilot && !self.strict() {
            lenient_str(self.obj, session_keys)
                .unwrap_or("")
                .to_string()
        } else {
            self.field(session_keys)?
        };
        let cwd = self.field(&["cwd"])?;
        let tool_name = if self.strict() {
            Some(req_str(self.obj, tool_keys, "")?)
        } else {
            lenient_str(self.obj, tool_keys)
        };
        let mut call = None;
        if let Some(tool_name) = tool_name {
            let input_keys: &[&'static str] = &["tool_input", "toolArgs", "toolInput"];
            let (input_field, raw_input) = match crate::json::get(self.obj, input_keys) {
                Some((k, v)) => (k, v.clone()),
                None => {
                    let k = match (camel, self.kind) {
                        (true, HookKind::PermissionRequest) => "toolInput",
                        (true, _) => "toolArgs",
                        (false, _) => "tool_input",
                    };
                    if self.strict() {
                        return Err(missing(k));
                    }
                    (k, Value::Null)
                }
            };
            let input = decode_embedded(&raw_input);
            let action = self.tool_action(&ToolCtx {
                client: self.client,
                name: tool_name,
                input: &input,
                input_field,
                cwd: &cwd,
                payload: self.obj,
            })?;
            let call_cwd = match (&action, &input) {
                // Gemini runs a shell command in `dir_path` when given.
                (Action::Shell { .. }, Value::Object(o)) => o
                    .get("dir_path")
                    .or_else(|| o.get("directory"))
                    .and_then(Value::as_str)
                    .filter(|d| !d.is_empty())
                    .map_or_else(|| cwd.clone(), |d| join_dir(&cwd, d)),
                _ => cwd.clone(),
            };
            let ids = matches!(self.client, ClientKind::ClaudeCode | ClientKind::Codex);
            call = Some(CallParts {
                tool_name: tool_name.to_string(),
                action,
                input,
                cwd: call_cwd,
                tool_use_id: if ids {
                    opt_str(self.obj, &["tool_use_id"], "")?.map(str::to_string)
                } else {
                    None
                },
                agent_id: lenient_str(self.obj, &["agent_id"]).map(str::to_string),
            });
        }
        let effect = (self.kind == HookKind::PostTool).then(|| self.standard_effect());
        Ok(self.event(session_id, cwd, call, effect))
    }

    fn standard_effect(&self) -> Effect {
        if self.event_name.ends_with("Failure") {
            return effect::failure(self.obj.get("error"));
        }
        if let Some((_, result)) = crate::json::get(self.obj, &["toolResult", "tool_result"]) {
            return effect::from_copilot_result(result);
        }
        effect::from_tool_response(self.obj.get("tool_response"))
    }

    /// Cursor: per-event shapes; session = `conversation_id`, cwd = `cwd` or `workspace_roots[0]`.
    fn cursor(&self) -> Result<HookEvent, WardError> {
        let session_id = self.field(&["conversation_id", "session_id"])?;
        let workspace_root = match self.obj.get("workspace_roots") {
            Some(Value::Array(roots)) => roots.first().and_then(Value::as_str),
            _ => None,
        };
        let cwd = lenient_str(self.obj, &["cwd"])
            .filter(|c| !c.is_empty())
            .or(workspace_root)
            .unwrap_or("")
            .to_string();
        let strict = self.strict();
        let simple = |tool_name: &str, action: Action, input: Value| CallParts {
            tool_name: tool_name.to_string(),
            action,
            input,
            cwd: cwd.clone(),
            tool_use_id: None,
            agent_id: None,
        };
        let (call, effect) = match self.event_name {
            "beforeShellExecution" | "afterShellExecution" => {
                let command = if strict {
                    Some(req_str(self.obj, &["command"], "")?)
                } else {
                    lenient_str(self.obj, &["command"])
                };
                let call = command.map(|c| {
                    simple(
                        "Shell",
                        Action::Shell {
                            command: c.to_string(),
                        },
                        json!({ "command": c, "cwd": cwd }),
                    )
                });
                let effect = (!strict).then(|| effect::from_cursor_shell(self.obj));
                (call, effect)
            }
            "beforeMCPExecution" | "afterMCPExecution" => {
                let tool = if strict {
                    Some(req_str(self.obj, &["tool_name"], "")?)
                } else {
                    lenient_str(self.obj, &["tool_name"])
                };
                let input = match self.obj.get("tool_input") {
                    Some(v) if !v.is_null() => decode_embedded(v),
                    _ if strict => return Err(missing("tool_input")),
                    _ => Value::Null,
                };
                let call = tool.map(|t| {
                    let action = match t.strip_prefix("mcp__") {
                        Some(rest) => {
                            let (server, tool) = rest.split_once("__").unwrap_or((rest, ""));
                            Action::Mcp {
                                server: server.to_string(),
                                tool: tool.to_string(),
                                arguments: input.clone(),
                            }
                        }
                        None => Action::Mcp {
                            server: cursor_mcp_server(self.obj),
                            tool: t.to_string(),
                            arguments: input.clone(),
                        },
                    };
                    simple(t, action, input.clone())
                });
                let effect = (!strict).then(|| effect::from_cursor_mcp(self.obj));
                (call, effect)
            }
            "beforeReadFile" | "beforeTabFileRead" => {
                let path = req_str(self.obj, &["file_path"], "")?;
                // The file's `content` is deliberately not kept in the call's input.
                let call = simple(
                    "Read",
                    Action::FileRead {
                        paths: vec![path.to_string()],
                    },
                    json!({ "file_path": path }),
                );
                (Some(call), None)
            }
            "afterFileEdit" | "afterTabFileEdit" => {
                let call = lenient_str(self.obj, &["file_path"]).map(|path| {
                    let edits = self.obj.get("edits").cloned().unwrap_or(Value::Null);
                    let content = edits.as_array().map(|list| {
                        list.iter()
                            .filter_map(|e| e.get("new_string").and_then(Value::as_str))
                            .collect::<Vec<_>>()
                            .join("\n")
                    });
                    simple(
                        "Edit",
                        Action::FileWrite {
                            paths: vec![path.to_string()],
                            content,
                        },
                        json!({ "file_path": path, "edits": edits }),
                    )
                });
                let effect = Effect {
                    success: true,
                    ..Effect::default()
                };
                (call, Some(effect))
            }
            "preToolUse" | "postToolUse" | "postToolUseFailure" => {
                let tool = if strict {
                    Some(req_str(self.obj, &["tool_name"], "")?)
                } else {
                    lenient_str(self.obj, &["tool_name"])
                };
                let input = match self.obj.get("tool_input") {
                    Some(v) if !v.is_null() => decode_embedded(v),
                    _ if strict => return Err(missing("tool_input")),
                    _ => Value::Null,
                };
                let call = match tool {
                    Some(t) => {
                        let action = self.tool_action(&ToolCtx {
                            client: self.client,
                            name: t,
                            input: &input,
                            input_field: "tool_input",
                            cwd: &cwd,
                            payload: self.obj,
                        })?;
                        let call_cwd = match (&action, &input) {
                            (Action::Shell { .. }, Value::Object(o)) => o
                                .get("cwd")
                                .and_then(Value::as_str)
                                .filter(|d| !d.is_empty())
                                .map_or_else(|| cwd.clone(), |d| join_dir(&cwd, d)),
                            _ => cwd.clone(),
                        };
                        Some(CallParts {
                            cwd: call_cwd,
                            ..simple(t, action, input.clone())
                        })
                    }
                    None => None,
                };
                let effect = (!strict).then(|| effect::from_cursor_tool(self.obj));
                (call, effect)
            }
            _ => (None, None),
        };
        Ok(self.event(session_id, cwd, call, effect))
    }
}

/// `dir` relative to `base`, unless absolute.
fn join_dir(base: &str, dir: &str) -> String {
    if dir.starts_with('/') || dir.starts_with('~') || base.is_empty() {
        dir.to_string()
    } else {
        format!("{}/{}", base.trim_end_matches('/'), dir)
    }
}
