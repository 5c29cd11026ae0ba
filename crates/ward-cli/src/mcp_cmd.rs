//! `ward mcp wrap --name NAME -- CMD ARGS…`: run a stdio MCP server as a child and speak MCP to
//! the client on our own stdin/stdout, relaying every message; each `tools/call` goes through
//! the same decision, registry, task and audit path as a hook first, and a refused one is
//! answered with a tool result that has `isError` and the reason, so the model can react.

use std::io::BufReader;
use std::process::{Command, Stdio};
use ward_core::{Action, ClientKind, ErrorCode, HookEvent, HookKind, Outcome, ToolCall, WardError};
use ward_server::home::Home;
use ward_server::pipeline::{self, Runtime};

pub fn wrap(name: &str, client: ClientKind, command: &[String]) -> Result<i32, WardError> {
    let Some((program, args)) = command.split_first() else {
        return Err(WardError::new(
            ErrorCode::Usage,
            "give the server's command after `--`: `ward mcp wrap --name fs -- npx @modelcontextprotocol/server-filesystem ~`",
        ));
    };
    if name.is_empty() || name.contains("__") || name.contains(char::is_whitespace) {
        return Err(WardError::new(
            ErrorCode::BadInput,
            format!("`{name}` is not a server name; use letters, digits, `-` and `_`"),
        ));
    }
    let home = Home::resolve()?;
    home.init()?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            WardError::new(
                ErrorCode::Io,
                format!("cannot start the MCP server `{program}`: {e}"),
            )
        })?;
    let (Some(server_in), Some(server_out)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(WardError::new(ErrorCode::Io, "the MCP server has no pipes"));
    };
    let mut rt = Runtime::new(home, true);
    let session = format!("mcp-{name}-{}", std::process::id());
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let origin = rt.origin.clone();
    let decide = |call: &ward_mcp::jsonrpc::ToolsCall| -> Result<(), String> {
        let tool_call = ToolCall {
            assistant: ward_core::Assistant {
                client,
                host: origin.host.clone(),
                os_user: origin.os_user.clone(),
            },
            session_id: session.clone(),
            tool_use_id: Some(format!("mcp-{}", call.id)),
            tool_name: format!("mcp__{name}__{}", call.tool),
            action: Action::Mcp {
                server: name.to_string(),
                tool: call.tool.clone(),
                arguments: call.arguments.clone(),
            },
            input: call.arguments.clone(),
            cwd: cwd.clone(),
            repo_root: None,
            agent_id: None,
        };
        let ev = HookEvent {
            client,
            event_name: "tools/call".into(),
            kind: HookKind::PreTool,
            session_id: session.clone(),
            cwd: cwd.clone(),
            call: Some(tool_call),
            effect: None,
        };
        let handled = pipeline::handle_event(&mut rt, ev);
        match handled.decision {
            Some(d) if d.outcome == Outcome::Allow => Ok(()),
            // An ask is not answered here yet: refused, with the reason and the policy.
            Some(d) => Err(format!("ward: {}", d.reason)),
            None => Err(format!(
                "ward could not decide: {}",
                handled.reply.stderr.trim()
            )),
        }
    };
    let relayed = ward_mcp::stdio::relay(
        BufReader::new(std::io::stdin()),
        Box::new(std::io::stdout()),
        server_in,
        BufReader::new(server_out),
        decide,
    );
    let status = child
        .wait()
        .map_err(|e| WardError::new(ErrorCode::Io, format!("the MCP server vanished: {e}")))?;
    relayed.map_err(|e| WardError::new(ErrorCode::Io, format!("relaying MCP messages: {e}")))?;
    Ok(status.code().unwrap_or(1))
}
