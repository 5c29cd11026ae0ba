//! ward hook adapters: one client's hook payload → one [`HookEvent`] (with its normalized
//! [`ToolCall`](ward_core::ToolCall)), and a [`Decision`] → the exact reply that client obeys.
//!
//! Pure functions, no I/O: the CLI reads stdin, gathers the [`Origin`] facts, calls [`parse`],
//! decides, and writes the [`Reply`] it gets from [`render_decision`], [`render_ack`] or
//! [`render_error`].
//!
//! The reply contracts follow what the real clients were measured to do
//! (`shared/reference/integrations.md` §0, `shared/realclient/README.md`):
//!
//! | outcome | Claude Code / Codex | Gemini CLI | Cursor | Copilot CLI |
//! |---|---|---|---|---|
//! | deny | `hookSpecificOutput.permissionDecision:"deny"` + reason | `decision:"deny"` + reason | `permission:"deny"` + messages | `permissionDecision:"deny"` + reason |
//! | ask | Claude: `"ask"`; Codex: a deny saying approval is needed | a deny saying approval is needed | `permission:"ask"` | `permissionDecision:"ask"` |
//! | allow | no output (the client's own permission flow runs) | no output | `permission:"allow"` | no output |
//! | parse error | exit 2 + JSON deny + reason on stderr | same | same | same |
//!
//! Every reply exits 0 except errors (exit 2); every deny carries a non-empty one-line reason.

mod effect;
mod events;
pub mod install;
mod json;
mod parse;
mod reply;
mod tools;
mod verdict;

use ward_core::{ClientKind, Decision, HookEvent, WardError};

pub use events::{event_kind, event_names};
pub use verdict::client_verdict;

/// Hook payloads larger than this are refused ([`ErrorCode::PayloadTooLarge`](ward_core::ErrorCode)).
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// The longest reason (in characters) a reply carries; longer ones are cut with `…`.
pub const MAX_REASON_CHARS: usize = 1000;

/// Facts about the machine the adapter needs (pure input; the CLI gathers them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub host: String,
    pub os_user: String,
}

/// What to write and how to exit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Parse one hook payload sent by `client`.
///
/// `event_hint` is the `--event NAME` the hook was registered with. The event name the payload
/// itself carries (`hook_event_name`, `hookEventName`, Copilot's `hookName`) wins when it is one
/// ward knows; otherwise the hint is used; a Copilot camelCase payload with neither has its event
/// inferred from its fields.
///
/// Errors: [`MAX_PAYLOAD_BYTES`] exceeded → `PayloadTooLarge`; not JSON or not an object →
/// `PayloadMalformed`; an event ward does not know → `PayloadUnknownEvent`; a field the event
/// needs is missing or of the wrong type → `PayloadInvalid`. Unknown fields are ignored.
pub fn parse(
    client: ClientKind,
    payload: &[u8],
    event_hint: Option<&str>,
    origin: &Origin,
) -> Result<HookEvent, WardError> {
    parse::parse(client, payload, event_hint, origin)
}

/// Render a decision for a pre-tool or permission-request event in the client's exact form.
///
/// Events that need no decision (post-tool, session, prompt, lifecycle) get [`render_ack`]'s
/// reply whatever the decision says: the tool already ran or there is nothing to block.
pub fn render_decision(client: ClientKind, event: &HookEvent, decision: &Decision) -> Reply {
    reply::render_decision(client, event, decision)
}

/// Render "nothing to decide" (post-tool, session, lifecycle events): exit 0 and no output,
/// except Cursor, which is given an explicit empty JSON answer (`{}`, or `{"continue":true}`
/// for `beforeSubmitPrompt`) because it treats an empty stdout as an invalid hook response.
pub fn render_ack(client: ClientKind, event: &HookEvent) -> Reply {
    reply::render_ack(client, event)
}

/// Render a fail-closed error when even parsing failed (no [`HookEvent`]): exit 2, the
/// client's JSON deny on stdout and the reason (with the error code) on stderr. This blocks in
/// every client. `event_name` is the `--event` hint, if any; it selects the permission-request
/// deny form where that is the event.
pub fn render_error(client: ClientKind, event_name: Option<&str>, err: &WardError) -> Reply {
    reply::render_error(client, event_name, err)
}
