//! The normalized tool call and the hook events that carry it.

use crate::client::ClientKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who acts: a non-human identity derived from the client kind, the host and the OS user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assistant {
    pub client: ClientKind,
    pub host: String,
    pub os_user: String,
}

impl Assistant {
    /// Stable identifier, e.g. `claude-code@devbox/alice`.
    pub fn id(&self) -> String {
        format!("{}@{}/{}", self.client.as_str(), self.host, self.os_user)
    }
}

/// What the call does, one shape for every client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// A shell command line, to be parsed.
    Shell { command: String },
    /// Reading one or more files (or listing/searching a path).
    FileRead { paths: Vec<String> },
    /// Writing, editing or patching files; `content` is the new text when the client sends it.
    FileWrite {
        paths: Vec<String>,
        content: Option<String>,
    },
    /// Fetching a URL (web fetch / web search tools).
    WebFetch { url: String },
    /// An MCP tool call: `mcp__<server>__<tool>` or the client's equivalent.
    Mcp {
        server: String,
        tool: String,
        arguments: Value,
    },
    /// Any other tool (task, todo, ask-user, …); decided by name.
    Other { name: String },
    /// A credential asked of ward's broker inside a task: `provider` is `git`, `aws`, `docker`,
    /// `kubectl`, `postgres`, `ssh`, or `token` for an exchange; `name` the host, profile,
    /// registry, cluster, provider or audience.
    Credential { provider: String, name: String },
}

impl Action {
    /// Short kind name, used as the Cedar action id.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Shell { .. } => "shell",
            Action::FileRead { .. } => "file_read",
            Action::FileWrite { .. } => "file_write",
            Action::WebFetch { .. } => "web_fetch",
            Action::Mcp { .. } => "mcp_call",
            Action::Other { .. } => "other",
            Action::Credential { .. } => "credential",
        }
    }

    /// One-line human summary (command, paths, url, server/tool).
    pub fn summary(&self) -> String {
        match self {
            Action::Shell { command } => command.clone(),
            Action::FileRead { paths } | Action::FileWrite { paths, .. } => paths.join(" "),
            Action::WebFetch { url } => url.clone(),
            Action::Mcp { server, tool, .. } => format!("{server}/{tool}"),
            Action::Other { name } => name.clone(),
            Action::Credential { provider, name } => format!("{provider}:{name}"),
        }
    }
}

/// One normalized tool call from any client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub assistant: Assistant,
    pub session_id: String,
    /// The client's id for this call (Claude `tool_use_id`, …); `None` when the client has none.
    pub tool_use_id: Option<String>,
    /// The tool name exactly as the client sent it.
    pub tool_name: String,
    pub action: Action,
    /// The raw tool input object as sent (after decoding JSON strings).
    pub input: Value,
    pub cwd: String,
    /// The enclosing repository root when known.
    pub repo_root: Option<String>,
    /// Sub-agent id when the call comes from inside a sub-agent.
    pub agent_id: Option<String>,
}

/// What kind of lifecycle moment a hook payload reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookKind {
    /// Before a tool runs: needs a decision.
    PreTool,
    /// The client asks the user for permission (Claude/Codex/Copilot `PermissionRequest`).
    PermissionRequest,
    /// After a tool ran (successfully or not).
    PostTool,
    SessionStart,
    SessionEnd,
    /// A prompt was submitted.
    Prompt,
    /// The agent stopped, a sub-agent started/stopped, a notification: recorded only.
    Lifecycle,
}

impl HookKind {
    pub fn needs_decision(self) -> bool {
        matches!(self, HookKind::PreTool | HookKind::PermissionRequest)
    }
}

/// The outcome of a call as reported by a post-tool event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Effect {
    pub success: bool,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
    /// Size in bytes of the tool's reported output.
    pub output_bytes: u64,
}

/// One hook payload, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct HookEvent {
    pub client: ClientKind,
    /// The event name as the client calls it (`PreToolUse`, `BeforeTool`, `preToolUse`, …).
    pub event_name: String,
    pub kind: HookKind,
    pub session_id: String,
    pub cwd: String,
    /// Present on tool events.
    pub call: Option<ToolCall>,
    /// Present on post-tool events.
    pub effect: Option<Effect>,
}
