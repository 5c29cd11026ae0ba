//! ward domain types. Pure data and pure functions: no I/O, no clock, no randomness.
//!
//! Every client payload becomes one [`ToolCall`]; the policy engine turns it into a
//! [`Decision`]; the audit log records an [`Event`]. Errors a user sees carry an [`ErrorCode`].

pub mod call;
pub mod canonical;
pub mod client;
pub mod decision;
pub mod error;
pub mod event;
pub mod glob;

pub use call::{Action, Assistant, Effect, HookEvent, HookKind, ToolCall};
pub use client::ClientKind;
pub use decision::{Decision, Outcome};
pub use error::{ErrorCode, WardError};
pub use event::{Event, EventKind};
