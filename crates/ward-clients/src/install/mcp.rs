//! `ward mcp install`: the pure part. Each MCP client keeps its servers in a JSON file
//! (`mcpServers`, VS Code's `servers`) or, for Codex, in `config.toml` (`[mcp_servers.NAME]`).
//! Installing rewrites every stdio server (`command` + `args`) to run through
//! `ward mcp wrap --name NAME --client CLIENT -- COMMAND ARGS…`; reverting takes the original
//! command back out of the wrapper's arguments, so a revert keeps later edits to other fields.
//! Remote servers (`url`, `httpUrl`, `serverUrl`) are left alone: they need the HTTP gateway.

use super::InstallEnv;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use ward_core::{ErrorCode, WardError};

/// The MCP clients `ward mcp install` knows.
pub const MCP_CLIENTS: [&str; 7] = [
    "claude-code",
    "claude-desktop",
    "cursor",
    "vscode",
    "windsurf",
    "gemini",
    "codex",
];

/// Where a client keeps its MCP servers, and in which shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpFile {
    pub path: PathBuf,
    /// JSON pointers of the server maps in a JSON file (Claude Code's `~/.claude.json` also has
    /// one per project); empty for Codex's TOML.
    pub maps: Vec<String>,
    pub toml: bool,
}

/// The files a client's servers may be in: its user file and the project's (`env.cwd`).
pub fn mcp_files(client: &str, env: &InstallEnv) -> Result<Vec<McpFile>, WardError> {
    let json = |path: PathBuf, key: &str| McpFile {
        path,
        maps: vec![format!("/{key}")],
        toml: false,
    };
    let h = &env.home;
    let cwd = &env.cwd;
    Ok(match client {
        "claude-code" => vec![
            McpFile {
                path: h.join(".claude.json"),
                maps: vec!["/mcpServers".into(), "/projects/*/mcpServers".into()],
                toml: false,
            },
            json(cwd.join(".mcp.json"), "mcpServers"),
        ],
        // macOS, and Linux builds (which keep it under XDG config); the files that exist are
        // rewritten.
        "claude-desktop" => vec![
            json(
                h.join("Library/Application Support/Claude/claude_desktop_config.json"),
                "mcpServers",
            ),
            json(
                h.join(".config/Claude/claude_desktop_config.json"),
                "mcpServers",
            ),
        ],
        "cursor" => vec![
            json(h.join(".cursor/mcp.json"), "mcpServers"),
            json(cwd.join(".cursor/mcp.json"), "mcpServers"),
        ],
        "vscode" => vec![
            json(h.join(".config/Code/User/mcp.json"), "servers"),
            json(cwd.join(".vscode/mcp.json"), "servers"),
        ],
        "windsurf" => vec![json(
            h.join(".codeium/windsurf/mcp_config.json"),
            "mcpServers",
        )],
        "gemini" => vec![
            json(h.join(".gemini/settings.json"), "mcpServers"),
            json(cwd.join(".gemini/settings.json"), "mcpServers"),
        ],
        "codex" => vec![McpFile {
            path: super::codex_config_path(env),
            maps: Vec::new(),
            toml: true,
        }],
        other => {
            return Err(WardError::new(
                ErrorCode::BadInput,
                format!(
                    "`{other}` is not an MCP client ward installs into; use one of {}",
                    MCP_CLIENTS.join(", ")
                ),
            ));
        }
    })
}

/// The identity a wrapped server's calls are decided for (`--client`).
fn identity(client: &str) -> &'static str {
    match client {
        "cursor" => "cursor",
        "gemini" => "gemini",
        "codex" => "codex",
        _ => "claude-code",
    }
}

fn is_ward(command: &str, ward_bin: &str) -> bool {
    command == ward_bin || Path::new(command).file_name().and_then(|n| n.to_str()) == Some("ward")
}

/// `(command, args)` of a wrapped server, taken back out of the wrapper's arguments.
fn unwrapped(args: &[String]) -> Option<(String, Vec<String>)> {
    if args.first().map(String::as_str) != Some("mcp")
        || args.get(1).map(String::as_str) != Some("wrap")
    {
        return None;
    }
    let dash = args.iter().position(|a| a == "--")?;
    let (cmd, rest) = args.get(dash + 1..)?.split_first()?;
    Some((cmd.clone(), rest.to_vec()))
}

/// The new `(command, args)` of one stdio server, or `None` if it stays as it is.
fn rewrite(
    name: &str,
    command: &str,
    args: &[String],
    ward_bin: &str,
    client: &str,
    revert: bool,
) -> Option<(String, Vec<String>)> {
    let wrapped = is_ward(command, ward_bin) && unwrapped(args).is_some();
    match (revert, wrapped) {
        (false, false) => {
            let mut a: Vec<String> = [
                "mcp",
                "wrap",
                "--name",
                name,
                "--client",
                identity(client),
                "--",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            a.push(command.to_string());
            a.extend(args.iter().cloned());
            Some((ward_bin.to_string(), a))
        }
        (true, true) => unwrapped(args),
        _ => None,
    }
}

fn json_servers<'a>(root: &'a mut Value, pointer: &str) -> Vec<&'a mut Map<String, Value>> {
    // `/projects/*/mcpServers`: every project's map.
    if let Some((head, tail)) = pointer.split_once("/*/") {
        let Some(Value::Object(projects)) = root.pointer_mut(head) else {
            return Vec::new();
        };
        return projects
            .values_mut()
            .filter_map(|p| p.get_mut(tail).and_then(Value::as_object_mut))
            .collect();
    }
    root.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .into_iter()
        .collect()
}

/// Rewrite a JSON file's stdio servers; the new text (`None`: nothing to change) and the names
/// of the servers changed.
pub fn rewrite_json(
    text: &str,
    file: &McpFile,
    ward_bin: &str,
    client: &str,
    revert: bool,
) -> Result<(Option<String>, Vec<String>), WardError> {
    let mut root: Value = serde_json::from_str(text).map_err(|e| {
        WardError::new(
            ErrorCode::Config,
            format!(
                "`{}` is not JSON ward can rewrite ({e}); edit it by hand or remove its comments",
                file.path.display()
            ),
        )
    })?;
    let mut changed = Vec::new();
    for pointer in &file.maps {
        for servers in json_servers(&mut root, pointer) {
            for (name, entry) in servers.iter_mut() {
                let Some(obj) = entry.as_object_mut() else {
                    continue;
                };
                let Some(command) = obj
                    .get("command")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                else {
                    continue;
                };
                let args: Vec<String> = obj
                    .get("args")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some((cmd, new_args)) =
                    rewrite(name, &command, &args, ward_bin, client, revert)
                {
                    obj.insert("command".into(), Value::String(cmd));
                    obj.insert("args".into(), Value::from(new_args));
                    changed.push(name.clone());
                }
            }
        }
    }
    if changed.is_empty() {
        return Ok((None, changed));
    }
    let mut out = serde_json::to_string_pretty(&root)
        .map_err(|e| WardError::new(ErrorCode::Config, format!("cannot write JSON: {e}")))?;
    out.push('\n');
    Ok((Some(out), changed))
}

/// Rewrite Codex's `[mcp_servers.NAME]` tables, keeping the rest of `config.toml` as it is.
pub fn rewrite_toml(
    text: &str,
    path: &Path,
    ward_bin: &str,
    revert: bool,
) -> Result<(Option<String>, Vec<String>), WardError> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| {
        WardError::new(
            ErrorCode::Config,
            format!("`{}` is not valid TOML: {e}", path.display()),
        )
    })?;
    let mut changed = Vec::new();
    if let Some(servers) = doc
        .get_mut("mcp_servers")
        .and_then(|i| i.as_table_like_mut())
    {
        for (name, item) in servers.iter_mut() {
            let Some(t) = item.as_table_like_mut() else {
                continue;
            };
            let Some(command) = t
                .get("command")
                .and_then(|v| v.as_str())
                .map(str::to_string)
            else {
                continue;
            };
            let args: Vec<String> = t
                .get("args")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if let Some((cmd, new_args)) =
                rewrite(name.get(), &command, &args, ward_bin, "codex", revert)
            {
                t.insert("command", toml_edit::value(cmd));
                let mut arr = toml_edit::Array::new();
                for a in new_args {
                    arr.push(a);
                }
                t.insert("args", toml_edit::value(arr));
                changed.push(name.get().to_string());
            }
        }
    }
    Ok(((!changed.is_empty()).then(|| doc.to_string()), changed))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn stdio_servers_are_wrapped_once_and_unwrapped_exactly() {
        let env = InstallEnv::new("/home/dev", "/work/api");
        let file = &mcp_files("claude-code", &env).unwrap()[0];
        let text = r#"{"mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/dev"], "env": {"A": "1"}},
            "remote": {"type": "http", "url": "https://mcp.example.com"}},
          "projects": {"/work/api": {"mcpServers": {"db": {"command": "uvx", "args": ["pg-mcp"]}}}}, "other": 1}"#;
        let (new, names) = rewrite_json(text, file, "/usr/bin/ward", "claude-code", false).unwrap();
        let new = new.unwrap();
        assert_eq!(names, ["fs", "db"]);
        let v: Value = serde_json::from_str(&new).unwrap();
        assert_eq!(v["mcpServers"]["fs"]["command"], "/usr/bin/ward");
        assert_eq!(
            v["mcpServers"]["fs"]["args"],
            serde_json::json!([
                "mcp",
                "wrap",
                "--name",
                "fs",
                "--client",
                "claude-code",
                "--",
                "npx",
                "-y",
                "@modelcontextprotocol/server-filesystem",
                "/home/dev"
            ])
        );
        assert_eq!(v["mcpServers"]["fs"]["env"]["A"], "1");
        assert_eq!(v["mcpServers"]["remote"]["url"], "https://mcp.example.com");
        assert_eq!(
            v["projects"]["/work/api"]["mcpServers"]["db"]["args"][7],
            "uvx"
        );
        // Installing again changes nothing; reverting restores the original commands.
        assert_eq!(
            rewrite_json(&new, file, "/usr/bin/ward", "claude-code", false)
                .unwrap()
                .0,
            None
        );
        let (back, _) = rewrite_json(&new, file, "/usr/bin/ward", "claude-code", true).unwrap();
        let back: Value = serde_json::from_str(&back.unwrap()).unwrap();
        let orig: Value = serde_json::from_str(text).unwrap();
        assert_eq!(back, orig);
        assert!(rewrite_json("{ // comment\n}", file, "w", "claude-code", false).is_err());
    }

    #[test]
    fn claude_desktop_servers_are_wrapped_where_its_config_lives() {
        let env = InstallEnv::new("/home/dev", "/work/api");
        let files = mcp_files("claude-desktop", &env).unwrap();
        let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        assert_eq!(
            paths,
            [
                "/home/dev/Library/Application Support/Claude/claude_desktop_config.json",
                "/home/dev/.config/Claude/claude_desktop_config.json"
            ]
        );
        let text = r#"{"mcpServers": {"notes": {"command": "uvx", "args": ["notes-mcp"]}}, "globalShortcut": "Ctrl+Space"}"#;
        let (new, names) =
            rewrite_json(text, &files[1], "/usr/bin/ward", "claude-desktop", false).unwrap();
        let v: Value = serde_json::from_str(&new.unwrap()).unwrap();
        assert_eq!(names, ["notes"]);
        assert_eq!(v["mcpServers"]["notes"]["command"], "/usr/bin/ward");
        // Claude Desktop has no hooks: its calls are decided for the claude-code identity.
        assert_eq!(v["mcpServers"]["notes"]["args"][5], "claude-code");
        assert_eq!(v["globalShortcut"], "Ctrl+Space");
    }

    #[test]
    fn codex_tables_are_rewritten_in_place() {
        let text = "model = \"gpt-5\"\n\n# my servers\n[mcp_servers.docs]\ncommand = \"npx\"\nargs = [\"-y\", \"docs-mcp\"]\nenv = { TOKEN_VAR = \"X\" }\n\n[mcp_servers.api]\nurl = \"https://x\"\n";
        let (new, names) =
            rewrite_toml(text, Path::new("config.toml"), "/usr/bin/ward", false).unwrap();
        let new = new.unwrap();
        assert_eq!(names, ["docs"]);
        assert!(
            new.contains("# my servers") && new.contains("model = \"gpt-5\""),
            "{new}"
        );
        assert!(new.contains("command = \"/usr/bin/ward\""), "{new}");
        assert!(
            new.contains("\"--client\", \"codex\", \"--\", \"npx\", \"-y\", \"docs-mcp\""),
            "{new}"
        );
        let (back, _) =
            rewrite_toml(&new, Path::new("config.toml"), "/usr/bin/ward", true).unwrap();
        let back = back.unwrap();
        assert!(back.contains("command = \"npx\""), "{back}");
        assert!(back.contains("url = \"https://x\""));
    }
}
