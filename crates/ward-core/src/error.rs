//! Stable error codes. A code, once published, never changes meaning.

use std::fmt;

/// Every error a user can see has one of these codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Command-line usage error.
    Usage,
    /// The hook payload is not valid JSON.
    PayloadMalformed,
    /// The hook payload exceeds the stdin bound.
    PayloadTooLarge,
    /// The payload names an event ward does not know.
    PayloadUnknownEvent,
    /// The payload is JSON but lacks a field the event needs.
    PayloadInvalid,
    /// The policy pack cannot be read.
    PolicyUnreadable,
    /// The policy pack does not parse or validate against the schema.
    PolicyInvalid,
    /// Evaluating the policy failed.
    PolicyEval,
    /// The audit log could not be opened.
    StoreOpen,
    /// An event could not be made durable.
    AuditAppend,
    /// The audit log failed verification.
    AuditVerify,
    /// `$WARD_HOME` could not be created or read.
    HomeInit,
    /// A configuration or settings file is invalid.
    Config,
    /// A file could not be read or written.
    Io,
    /// A bad argument or input file given to a command.
    BadInput,
    /// ward itself panicked (a bug); the call is blocked.
    InternalPanic,
    /// The decision took longer than its deadline.
    Deadline,
    /// The ward daemon did not answer (and the offline setting is `deny`).
    DaemonUnreachable,
    /// No API key, or a key ward does not know.
    Unauthenticated,
    /// The key's user may not do this (role, or approving their own request).
    Forbidden,
    /// The named object does not exist.
    NotFound,
    /// The approval cannot be used or decided in its current state (expired, used, decided).
    ApprovalState,
    /// The assistant cannot make that change of status (a retired assistant stays retired).
    AssistantState,
    /// The task has ended or expired, or cannot be started as asked.
    TaskState,
    /// A credential was refused (no live task, not in the task's scope, not configured).
    CredentialDenied,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Usage => "E0001",
            ErrorCode::PayloadMalformed => "E1001",
            ErrorCode::PayloadTooLarge => "E1002",
            ErrorCode::PayloadUnknownEvent => "E1003",
            ErrorCode::PayloadInvalid => "E1004",
            ErrorCode::PolicyUnreadable => "E2001",
            ErrorCode::PolicyInvalid => "E2002",
            ErrorCode::PolicyEval => "E2003",
            ErrorCode::StoreOpen => "E3001",
            ErrorCode::AuditAppend => "E3002",
            ErrorCode::AuditVerify => "E3003",
            ErrorCode::HomeInit => "E3004",
            ErrorCode::Config => "E4001",
            ErrorCode::Io => "E4002",
            ErrorCode::BadInput => "E4003",
            ErrorCode::InternalPanic => "E9001",
            ErrorCode::Deadline => "E9002",
            ErrorCode::DaemonUnreachable => "E3005",
            ErrorCode::Unauthenticated => "E5001",
            ErrorCode::Forbidden => "E5002",
            ErrorCode::NotFound => "E5003",
            ErrorCode::ApprovalState => "E5004",
            ErrorCode::AssistantState => "E5005",
            ErrorCode::TaskState => "E5006",
            ErrorCode::CredentialDenied => "E5007",
        }
    }

    /// What a user should do about it.
    pub fn help(self) -> &'static str {
        match self {
            ErrorCode::Usage => "run `ward --help` for usage",
            ErrorCode::PayloadMalformed | ErrorCode::PayloadInvalid => {
                "the hook expects one JSON payload from the client on stdin; check that the hook is registered as `ward hook <client>` for the right client"
            }
            ErrorCode::PayloadTooLarge => "hook payloads are bounded to 1 MiB",
            ErrorCode::PayloadUnknownEvent => {
                "register `ward hook` only on the events `ward hook install` writes, or pass `--event`"
            }
            ErrorCode::PolicyUnreadable | ErrorCode::PolicyInvalid => {
                "run `ward policy check` to see what is wrong with the policy pack"
            }
            ErrorCode::PolicyEval => {
                "run `ward explain` with the payload to see the failing evaluation"
            }
            ErrorCode::StoreOpen | ErrorCode::AuditAppend | ErrorCode::HomeInit => {
                "check that $WARD_HOME is writable and the disk is not full; run `ward init`"
            }
            ErrorCode::AuditVerify => {
                "the log was altered; keep a copy and investigate the named entry"
            }
            ErrorCode::Config => "fix the named setting; `ward hook doctor` checks client settings",
            ErrorCode::Io => "check the path and its permissions",
            ErrorCode::BadInput => "check the argument against `ward <command> --help`",
            ErrorCode::InternalPanic => {
                "this is a bug in ward; please report it with `ward explain` output"
            }
            ErrorCode::Deadline => {
                "the input was too complex to analyse in time; simplify the command"
            }
            ErrorCode::DaemonUnreachable => {
                "start it with `ward serve`, or set `offline = \"local\"` to decide locally while it is down"
            }
            ErrorCode::Unauthenticated => {
                "pass an API key with `--api-key` or `WARD_API_KEY`; an admin creates one with `ward user add`"
            }
            ErrorCode::Forbidden => {
                "ask a user with the needed role; nobody may approve their own request"
            }
            ErrorCode::NotFound => "list what exists with the matching `list` command",
            ErrorCode::ApprovalState => {
                "run `ward approvals list` to see its state; a changed or expired request needs a new approval"
            }
            ErrorCode::AssistantState => {
                "run `ward assistant show ID` to see its status; a retired assistant is registered anew"
            }
            ErrorCode::TaskState => {
                "`ward task show ID` shows a task's state and scopes, `ward assistant show ID` what its assistant may reach; start a new task with `ward task start`"
            }
            ErrorCode::CredentialDenied => {
                "run the tool inside a live task (`WARD_TASK`) whose repository and scopes cover it; see `ward task show ID`"
            }
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a stable code and a one-line message (lowercase, no trailing period).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WardError {
    pub code: ErrorCode,
    pub message: String,
}

impl WardError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        WardError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for WardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for WardError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_help_is_set() {
        let all = [
            ErrorCode::Usage,
            ErrorCode::PayloadMalformed,
            ErrorCode::PayloadTooLarge,
            ErrorCode::PayloadUnknownEvent,
            ErrorCode::PayloadInvalid,
            ErrorCode::PolicyUnreadable,
            ErrorCode::PolicyInvalid,
            ErrorCode::PolicyEval,
            ErrorCode::StoreOpen,
            ErrorCode::AuditAppend,
            ErrorCode::AuditVerify,
            ErrorCode::HomeInit,
            ErrorCode::Config,
            ErrorCode::Io,
            ErrorCode::BadInput,
            ErrorCode::InternalPanic,
            ErrorCode::Deadline,
            ErrorCode::DaemonUnreachable,
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::ApprovalState,
            ErrorCode::AssistantState,
            ErrorCode::TaskState,
            ErrorCode::CredentialDenied,
        ];
        let mut seen = std::collections::HashSet::new();
        for c in all {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
            assert!(!c.help().is_empty());
        }
    }
}
