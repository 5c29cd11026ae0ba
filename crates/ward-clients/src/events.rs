//! Every event of every client, and what kind of moment it is.

use crate::json::Obj;
use ward_core::{ClientKind, HookKind};

use HookKind::{Lifecycle, PermissionRequest, PostTool, PreTool, Prompt, SessionEnd, SessionStart};

/// Claude Code (hooks reference, §1.1 of the integration notes).
const CLAUDE: &[(&str, HookKind)] = &[
    ("PreToolUse", PreTool),
    ("PermissionRequest", PermissionRequest),
    ("PostToolUse", PostTool),
    ("PostToolUseFailure", PostTool),
    ("SessionStart", SessionStart),
    ("SessionEnd", SessionEnd),
    ("UserPromptSubmit", Prompt),
    ("UserPromptExpansion", Prompt),
    ("Setup", Lifecycle),
    ("PermissionDenied", Lifecycle),
    ("PostToolBatch", Lifecycle),
    ("Notification", Lifecycle),
    ("MessageDisplay", Lifecycle),
    ("SubagentStart", Lifecycle),
    ("SubagentStop", Lifecycle),
    ("TaskCreated", Lifecycle),
    ("TaskCompleted", Lifecycle),
    ("Stop", Lifecycle),
    ("StopFailure", Lifecycle),
    ("TeammateIdle", Lifecycle),
    ("InstructionsLoaded", Lifecycle),
    ("ConfigChange", Lifecycle),
    ("CwdChanged", Lifecycle),
    ("DirectoryAdded", Lifecycle),
    ("FileChanged", Lifecycle),
    ("WorktreeCreate", Lifecycle),
    ("WorktreeRemove", Lifecycle),
    ("PreCompact", Lifecycle),
    ("PostCompact", Lifecycle),
    ("Elicitation", Lifecycle),
    ("ElicitationResult", Lifecycle),
];

/// Codex (`codex-rs/hooks/schema`, plus `SessionEnd`/`Interrupt` and the Claude-style failure event).
const CODEX: &[(&str, HookKind)] = &[
    ("PreToolUse", PreTool),
    ("PermissionRequest", PermissionRequest),
    ("PostToolUse", PostTool),
    ("PostToolUseFailure", PostTool),
    ("SessionStart", SessionStart),
    ("SessionEnd", SessionEnd),
    ("UserPromptSubmit", Prompt),
    ("PreCompact", Lifecycle),
    ("PostCompact", Lifecycle),
    ("SubagentStart", Lifecycle),
    ("SubagentStop", Lifecycle),
    ("Stop", Lifecycle),
    ("StopFailure", Lifecycle),
    ("Interrupt", Lifecycle),
];

/// Gemini CLI (`docs/hooks/reference.md`).
const GEMINI: &[(&str, HookKind)] = &[
    ("BeforeTool", PreTool),
    ("AfterTool", PostTool),
    ("SessionStart", SessionStart),
    ("SessionEnd", SessionEnd),
    ("BeforeAgent", Prompt),
    ("AfterAgent", Lifecycle),
    ("BeforeModel", Lifecycle),
    ("AfterModel", Lifecycle),
    ("BeforeToolSelection", Lifecycle),
    ("PreCompress", Lifecycle),
    ("Notification", Lifecycle),
];

/// Cursor (1.7 hooks doc plus the later agent events).
const CURSOR: &[(&str, HookKind)] = &[
    ("beforeShellExecution", PreTool),
    ("beforeMCPExecution", PreTool),
    ("beforeReadFile", PreTool),
    ("beforeTabFileRead", PreTool),
    ("preToolUse", PreTool),
    ("afterShellExecution", PostTool),
    ("afterMCPExecution", PostTool),
    ("afterFileEdit", PostTool),
    ("afterTabFileEdit", PostTool),
    ("postToolUse", PostTool),
    ("postToolUseFailure", PostTool),
    ("beforeSubmitPrompt", Prompt),
    ("sessionStart", SessionStart),
    ("sessionEnd", SessionEnd),
    ("stop", Lifecycle),
    ("afterAgentResponse", Lifecycle),
    ("afterAgentThought", Lifecycle),
    ("subagentStart", Lifecycle),
    ("subagentStop", Lifecycle),
    ("preCompact", Lifecycle),
];

/// Copilot CLI: camelCase registration names and their PascalCase (VS Code compatible) twins.
const COPILOT: &[(&str, HookKind)] = &[
    ("preToolUse", PreTool),
    ("permissionRequest", PermissionRequest),
    ("postToolUse", PostTool),
    ("postToolUseFailure", PostTool),
    ("sessionStart", SessionStart),
    ("sessionEnd", SessionEnd),
    ("userPromptSubmitted", Prompt),
    ("agentStop", Lifecycle),
    ("subagentStart", Lifecycle),
    ("subagentStop", Lifecycle),
    ("errorOccurred", Lifecycle),
    ("preCompact", Lifecycle),
    ("notification", Lifecycle),
    ("PreToolUse", PreTool),
    ("PermissionRequest", PermissionRequest),
    ("PostToolUse", PostTool),
    ("PostToolUseFailure", PostTool),
    ("SessionStart", SessionStart),
    ("SessionEnd", SessionEnd),
    ("UserPromptSubmit", Prompt),
    ("Stop", Lifecycle),
    ("SubagentStart", Lifecycle),
    ("SubagentStop", Lifecycle),
    ("ErrorOccurred", Lifecycle),
    ("PreCompact", Lifecycle),
    ("Notification", Lifecycle),
];

/// Every event name `client` can send, with its kind.
pub fn event_names(client: ClientKind) -> &'static [(&'static str, HookKind)] {
    match client {
        ClientKind::ClaudeCode => CLAUDE,
        ClientKind::Codex => CODEX,
        ClientKind::Gemini => GEMINI,
        ClientKind::Cursor => CURSOR,
        ClientKind::Copilot => COPILOT,
    }
}

/// The kind of `client`'s event `name` (exact spelling first, then ignoring ASCII case).
pub fn event_kind(client: ClientKind, name: &str) -> Option<HookKind> {
    lookup(client, name).map(|(_, kind)| kind)
}

/// The canonical spelling and kind of an event name.
pub(crate) fn lookup(client: ClientKind, name: &str) -> Option<(&'static str, HookKind)> {
    let table = event_names(client);
    table
        .iter()
        .find(|(n, _)| *n == name)
        .or_else(|| table.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
        .copied()
}

/// Infer the event of a Copilot camelCase payload, which names none, from its fields.
pub(crate) fn infer_copilot(obj: &Obj) -> Option<&'static str> {
    let has = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
    let tool = has("toolName") || has("tool_name");
    let name = if tool && (has("toolResult") || has("tool_result")) {
        "postToolUse"
    } else if tool && has("error") {
        "postToolUseFailure"
    } else if tool && (has("toolArgs") || has("tool_input")) {
        "preToolUse"
    } else if tool && has("toolInput") {
        "permissionRequest"
    } else if has("error") {
        "errorOccurred"
    } else if has("agentName") || has("agent_name") {
        if has("stopReason") || has("stop_reason") {
            "subagentStop"
        } else {
            "subagentStart"
        }
    } else if has("source") {
        "sessionStart"
    } else if has("reason") {
        "sessionEnd"
    } else if has("prompt") {
        "userPromptSubmitted"
    } else if has("trigger") {
        "preCompact"
    } else if has("stop_hook_active")
        || has("transcriptPath")
        || has("stopReason")
        || has("stop_reason")
    {
        "agentStop"
    } else if has("notification_type") {
        "notification"
    } else {
        return None;
    };
    Some(name)
}
