//! Tool normalization: a client's tool name and input → one [`Action`].

use crate::json::{Obj, get, invalid, missing, opt_str, req_str, wrong_type};
use serde_json::Value;
use ward_core::{Action, ClientKind, WardError};

/// What a tool call is about, independent of the client.
pub(crate) struct ToolCtx<'a> {
    pub client: ClientKind,
    pub name: &'a str,
    /// The tool input, already decoded from a JSON string where the client sends one.
    pub input: &'a Value,
    /// How the client calls the input field (`tool_input`, `toolArgs`, `toolInput`), for messages.
    pub input_field: &'a str,
    pub cwd: &'a str,
    /// The whole payload (Gemini's `mcp_context`, Cursor's MCP server fields).
    pub payload: &'a Obj,
}

/// Built-in tool families, by lower-cased tool name across all clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    Shell,
    /// Input typed into a running shell session (Copilot `write_bash`).
    ShellInput,
    ReadFile,
    ReadMany,
    ListDir,
    Glob,
    Search,
    Write,
    MultiEdit,
    StrReplaceEditor,
    ApplyPatch,
    WebFetch,
}

fn builtin(name: &str) -> Option<Builtin> {
    let lower = name.to_ascii_lowercase();
    let b = match lower.as_str() {
        // Claude/Codex `Bash`, Copilot `bash`/`powershell`, Gemini `run_shell_command`, Cursor
        // `Shell`, Codex's model-side names.
        "bash" | "powershell" | "run_shell_command" | "shell" | "local_shell" | "exec_command"
        | "unified_exec" | "container.exec" => Builtin::Shell,
        "write_bash" | "write_powershell" => Builtin::ShellInput,
        // Claude `Read`/`NotebookRead`, Copilot `view`, Gemini `read_file`, Cursor `Read`.
        "read" | "notebookread" | "view" | "read_file" => Builtin::ReadFile,
        "read_many_files" => Builtin::ReadMany,
        "ls" | "list_directory" | "list_dir" => Builtin::ListDir,
        "glob" => Builtin::Glob,
        "grep" | "search_file_content" | "grep_search" => Builtin::Search,
        // Claude `Write`/`Edit`/`NotebookEdit`, Copilot `edit`/`create`, Gemini
        // `write_file`/`replace`, Cursor `Write`/`Edit`/`StrReplace`/`Delete`.
        "write" | "edit" | "notebookedit" | "create" | "write_file" | "replace" | "delete"
        | "strreplace" | "str_replace" | "edit_file" | "search_replace" => Builtin::Write,
        "multiedit" => Builtin::MultiEdit,
        "str_replace_editor" => Builtin::StrReplaceEditor,
        "apply_patch" => Builtin::ApplyPatch,
        "webfetch" | "web_fetch" => Builtin::WebFetch,
        _ => return None,
    };
    Some(b)
}

const FILE_KEYS: &[&str] = &[
    "file_path",
    "path",
    "absolute_path",
    "notebook_path",
    "target_file",
    "filePath",
];
/// Copilot's file tools take `path`; name it first in its messages.
const COPILOT_FILE_KEYS: &[&str] = &[
    "path",
    "file_path",
    "absolute_path",
    "notebook_path",
    "target_file",
    "filePath",
];
const DIR_KEYS: &[&str] = &["path", "dir_path", "directory", "target_directory"];
const CONTENT_KEYS: &[&str] = &[
    "content",
    "new_string",
    "new_str",
    "file_text",
    "new_source",
    "contents",
];

/// Normalize one tool call. Errors name the missing or mistyped input field.
pub(crate) fn action(ctx: &ToolCtx<'_>) -> Result<Action, WardError> {
    if let Some(mcp) = mcp_action(ctx) {
        return Ok(mcp);
    }
    let Some(kind) = builtin(ctx.name) else {
        return Ok(copilot_mcp(ctx).unwrap_or_else(|| Action::Other {
            name: ctx.name.to_string(),
        }));
    };
    let prefix = format!("{}.", ctx.input_field);
    let file_keys = if ctx.client == ClientKind::Copilot {
        COPILOT_FILE_KEYS
    } else {
        FILE_KEYS
    };
    // A shell tool or apply_patch whose input is a bare string: the string is the command/patch.
    if let Value::String(s) = ctx.input {
        return match kind {
            Builtin::Shell | Builtin::ShellInput => Ok(Action::Shell { command: s.clone() }),
            Builtin::ApplyPatch => patch_action(s),
            _ => Err(wrong_type(ctx.input_field, "an object")),
        };
    }
    let empty = Obj::new();
    let input = match ctx.input {
        Value::Object(o) => o,
        Value::Null => &empty,
        _ => return Err(wrong_type(ctx.input_field, "an object")),
    };
    match kind {
        Builtin::Shell => Ok(Action::Shell {
            command: command_text(input, &["command", "cmd"], &prefix)?,
        }),
        Builtin::ShellInput => Ok(Action::Shell {
            command: req_str(input, &["input", "command"], &prefix)?.to_string(),
        }),
        Builtin::ReadFile => Ok(Action::FileRead {
            paths: vec![req_str(input, file_keys, &prefix)?.to_string()],
        }),
        Builtin::ReadMany => Ok(Action::FileRead {
            paths: string_list(input, &["paths", "include", "file_paths"], &prefix)?,
        }),
        Builtin::ListDir | Builtin::Search => Ok(Action::FileRead {
            paths: vec![dir_or_cwd(input, ctx.cwd, &prefix)?],
        }),
        Builtin::Glob => {
            let base = dir_or_cwd(input, ctx.cwd, &prefix)?;
            let mut paths = vec![base.clone()];
            if let Some(pattern) = opt_str(input, &["pattern"], &prefix)? {
                let joined = join_path(&base, pattern);
                if joined != base {
                    paths.push(joined);
                }
            }
            Ok(Action::FileRead { paths })
        }
        Builtin::Write => Ok(Action::FileWrite {
            paths: vec![req_str(input, file_keys, &prefix)?.to_string()],
            content: opt_str(input, CONTENT_KEYS, &prefix)?.map(str::to_string),
        }),
        Builtin::MultiEdit => {
            let path = req_str(input, file_keys, &prefix)?.to_string();
            let content = match input.get("edits") {
                Some(Value::Array(edits)) => {
                    let parts: Vec<&str> = edits
                        .iter()
                        .filter_map(|e| e.get("new_string").and_then(Value::as_str))
                        .collect();
                    Some(parts.join("\n"))
                }
                _ => opt_str(input, CONTENT_KEYS, &prefix)?.map(str::to_string),
            };
            Ok(Action::FileWrite {
                paths: vec![path],
                content,
            })
        }
        Builtin::StrReplaceEditor => {
            let path = req_str(input, file_keys, &prefix)?.to_string();
            if opt_str(input, &["command"], &prefix)? == Some("view") {
                Ok(Action::FileRead { paths: vec![path] })
            } else {
                Ok(Action::FileWrite {
                    paths: vec![path],
                    content: opt_str(input, CONTENT_KEYS, &prefix)?.map(str::to_string),
                })
            }
        }
        Builtin::ApplyPatch => {
            let patch = command_text(input, &["command", "input", "patch"], &prefix)?;
            patch_action(&patch)
        }
        Builtin::WebFetch => {
            if let Some(url) = opt_str(input, &["url"], &prefix)? {
                return Ok(Action::WebFetch {
                    url: url.to_string(),
                });
            }
            // Gemini's `web_fetch` takes a prompt that contains the URLs.
            let prompt = opt_str(input, &["prompt"], &prefix)?
                .ok_or_else(|| missing(&format!("{prefix}url")))?;
            let url =
                first_url(prompt).ok_or_else(|| invalid(format!("no URL in `{prefix}prompt`")))?;
            Ok(Action::WebFetch {
                url: url.to_string(),
            })
        }
    }
}

/// `mcp__<server>__<tool>` (every client), Gemini's `mcp_context`, Cursor's `MCP:<tool>`.
fn mcp_action(ctx: &ToolCtx<'_>) -> Option<Action> {
    let arguments = ctx.input.clone();
    if let Some(rest) = ctx.name.strip_prefix("mcp__") {
        let (server, tool) = rest.split_once("__").unwrap_or((rest, ""));
        return Some(Action::Mcp {
            server: server.to_string(),
            tool: tool.to_string(),
            arguments,
        });
    }
    match ctx.client {
        ClientKind::Gemini => {
            if let Some(Value::Object(mc)) = ctx.payload.get("mcp_context") {
                let server = ["server_name", "serverName", "server"]
                    .iter()
                    .find_map(|k| mc.get(*k).and_then(Value::as_str));
                if let Some(server) = server {
                    let tool = ["tool_name", "toolName", "tool"]
                        .iter()
                        .find_map(|k| mc.get(*k).and_then(Value::as_str))
                        .map(str::to_string)
                        .unwrap_or_else(|| {
                            ctx.name
                                .split_once("__")
                                .map_or(ctx.name, |(_, t)| t)
                                .to_string()
                        });
                    return Some(Action::Mcp {
                        server: server.to_string(),
                        tool,
                        arguments,
                    });
                }
            }
            // Older Gemini CLI prefixes a conflicting MCP tool as `<server>__<tool>`.
            let (server, tool) = ctx.name.split_once("__")?;
            Some(Action::Mcp {
                server: server.to_string(),
                tool: tool.to_string(),
                arguments,
            })
        }
        ClientKind::Cursor => {
            let tool = ctx.name.strip_prefix("MCP:")?;
            Some(Action::Mcp {
                server: cursor_mcp_server(ctx.payload),
                tool: tool.trim().to_string(),
                arguments,
            })
        }
        _ => None,
    }
}

/// Copilot names an MCP tool `<server>-<tool>`; tool names are usually snake_case while server
/// names are kebab-case, so split on the last `-`.
fn copilot_mcp(ctx: &ToolCtx<'_>) -> Option<Action> {
    if ctx.client != ClientKind::Copilot {
        return None;
    }
    let (server, tool) = ctx.name.rsplit_once('-')?;
    if server.is_empty() || tool.is_empty() {
        return None;
    }
    Some(Action::Mcp {
        server: server.to_string(),
        tool: tool.to_string(),
        arguments: ctx.input.clone(),
    })
}

/// The MCP server a Cursor MCP event names: an explicit name, else its URL, else its command.
pub(crate) fn cursor_mcp_server(payload: &Obj) -> String {
    ["server_name", "server", "url", "command"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

/// A command given as a string, or as an argv array (joined with shell quoting).
fn command_text(input: &Obj, keys: &[&'static str], prefix: &str) -> Result<String, WardError> {
    match get(input, keys) {
        None => Err(missing(&format!(
            "{prefix}{}",
            keys.first().copied().unwrap_or("command")
        ))),
        Some((_, Value::String(s))) => Ok(s.clone()),
        Some((k, Value::Array(items))) => {
            let mut words = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(w) => words.push(shell_quote(w)),
                    _ => return Err(wrong_type(&format!("{prefix}{k}"), "a string or strings")),
                }
            }
            Ok(words.join(" "))
        }
        Some((k, _)) => Err(wrong_type(&format!("{prefix}{k}"), "a string")),
    }
}

/// Quote one argv word for a POSIX shell when it needs it.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn string_list(input: &Obj, keys: &[&'static str], prefix: &str) -> Result<Vec<String>, WardError> {
    match get(input, keys) {
        None => Err(missing(&format!(
            "{prefix}{}",
            keys.first().copied().unwrap_or("paths")
        ))),
        Some((_, Value::String(s))) => Ok(vec![s.clone()]),
        Some((k, Value::Array(items))) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| wrong_type(&format!("{prefix}{k}"), "a list of strings"))
            })
            .collect(),
        Some((k, _)) => Err(wrong_type(&format!("{prefix}{k}"), "a list of strings")),
    }
}

fn dir_or_cwd(input: &Obj, cwd: &str, prefix: &str) -> Result<String, WardError> {
    Ok(opt_str(input, DIR_KEYS, prefix)?
        .filter(|s| !s.is_empty())
        .unwrap_or(cwd)
        .to_string())
}

/// `pattern` under `base`, unless the pattern is already absolute or home-relative.
fn join_path(base: &str, pattern: &str) -> String {
    if pattern.is_empty() {
        base.to_string()
    } else if pattern.starts_with('/') || pattern.starts_with('~') || base.is_empty() {
        pattern.to_string()
    } else {
        format!("{}/{}", base.trim_end_matches('/'), pattern)
    }
}

/// The files a Codex `apply_patch` patch touches: `*** Add File:`, `*** Update File:`,
/// `*** Delete File:` and `*** Move to:` headers, in order, without repeats.
pub(crate) fn patch_paths(patch: &str) -> Vec<String> {
    const HEADERS: [&str; 4] = [
        "*** Add File:",
        "*** Update File:",
        "*** Delete File:",
        "*** Move to:",
    ];
    let mut paths: Vec<String> = Vec::new();
    for line in patch.lines() {
        let line = line.trim_start();
        for header in HEADERS {
            if let Some(rest) = line.strip_prefix(header) {
                let path = rest.trim();
                if !path.is_empty() && !paths.iter().any(|p| p == path) {
                    paths.push(path.to_string());
                }
            }
        }
    }
    paths
}

fn patch_action(patch: &str) -> Result<Action, WardError> {
    let paths = patch_paths(patch);
    if paths.is_empty() {
        return Err(invalid(
            "the `apply_patch` patch names no file (no `*** Add File:`, `*** Update File:`, `*** Delete File:` or `*** Move to:` line)",
        ));
    }
    Ok(Action::FileWrite {
        paths,
        content: Some(patch.to_string()),
    })
}

/// The first `http://` or `https://` URL in free text.
pub(crate) fn first_url(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    let start = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| lower.find(scheme))
        .min()?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
        .unwrap_or(rest.len());
    let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}']);
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn act(client: ClientKind, name: &str, input: Value) -> Result<Action, WardError> {
        let payload = Obj::new();
        action(&ToolCtx {
            client,
            name,
            input: &input,
            input_field: "tool_input",
            cwd: "/w",
            payload: &payload,
        })
    }

    #[test]
    fn mcp_names_split_on_the_first_double_underscore() {
        assert_eq!(
            act(
                ClientKind::ClaudeCode,
                "mcp__my_server__do__it",
                json!({"a": 1})
            )
            .unwrap(),
            Action::Mcp {
                server: "my_server".into(),
                tool: "do__it".into(),
                arguments: json!({"a": 1})
            }
        );
        assert_eq!(
            act(ClientKind::ClaudeCode, "mcp__plugin_x_y__tool", json!({})).unwrap(),
            Action::Mcp {
                server: "plugin_x_y".into(),
                tool: "tool".into(),
                arguments: json!({})
            }
        );
    }

    #[test]
    fn patch_headers_give_paths() {
        let patch = "*** Begin Patch\n*** Update File: src/a.rs\n@@\n-x\n+y\n*** Move to: src/b.rs\n*** Add File: /tmp/n.txt\n+hi\n*** Delete File: old.txt\n*** Update File: src/a.rs\n*** End Patch\n";
        assert_eq!(
            patch_paths(patch),
            vec!["src/a.rs", "src/b.rs", "/tmp/n.txt", "old.txt"]
        );
        assert!(
            act(
                ClientKind::Codex,
                "apply_patch",
                json!({"command": "nothing"})
            )
            .is_err()
        );
    }

    #[test]
    fn urls_are_found_in_prompts() {
        assert_eq!(
            first_url("Summarize https://example.com/a?b=c, then http://x.org."),
            Some("https://example.com/a?b=c")
        );
        assert_eq!(
            first_url("see (HTTP://Example.com/x)"),
            Some("HTTP://Example.com/x")
        );
        assert_eq!(first_url("no url here"), None);
    }

    #[test]
    fn argv_commands_are_quoted() {
        assert_eq!(
            act(
                ClientKind::Codex,
                "shell",
                json!({"command": ["bash", "-lc", "echo 'hi' > x"]})
            )
            .unwrap(),
            Action::Shell {
                command: r#"bash -lc 'echo '\''hi'\'' > x'"#.into()
            }
        );
    }

    #[test]
    fn glob_keeps_the_pattern_as_a_path() {
        assert_eq!(
            act(
                ClientKind::ClaudeCode,
                "Glob",
                json!({"pattern": "**/.env"})
            )
            .unwrap(),
            Action::FileRead {
                paths: vec!["/w".into(), "/w/**/.env".into()]
            }
        );
        assert_eq!(
            act(
                ClientKind::ClaudeCode,
                "Glob",
                json!({"pattern": "~/.ssh/*", "path": "src"})
            )
            .unwrap(),
            Action::FileRead {
                paths: vec!["src".into(), "~/.ssh/*".into()]
            }
        );
    }

    #[test]
    fn copilot_mcp_tools_split_on_the_last_dash() {
        assert_eq!(
            act(
                ClientKind::Copilot,
                "github-mcp-server-get_file_contents",
                json!({})
            )
            .unwrap(),
            Action::Mcp {
                server: "github-mcp-server".into(),
                tool: "get_file_contents".into(),
                arguments: json!({})
            }
        );
        assert_eq!(
            act(ClientKind::Copilot, "task", json!({})).unwrap(),
            Action::Other {
                name: "task".into()
            }
        );
    }
}
