//! The assistant clients ward has hook adapters for.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A coding-assistant client with a hook contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    ClaudeCode,
    Codex,
    Gemini,
    Cursor,
    Copilot,
}

impl ClientKind {
    pub const ALL: [ClientKind; 5] = [
        ClientKind::ClaudeCode,
        ClientKind::Codex,
        ClientKind::Gemini,
        ClientKind::Cursor,
        ClientKind::Copilot,
    ];

    /// The name used on the command line (`ward hook <name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::ClaudeCode => "claude-code",
            ClientKind::Codex => "codex",
            ClientKind::Gemini => "gemini",
            ClientKind::Cursor => "cursor",
            ClientKind::Copilot => "copilot",
        }
    }

    /// Whether the client can show the user an "ask" prompt from a hook answer.
    pub fn supports_ask(self) -> bool {
        matches!(
            self,
            ClientKind::ClaudeCode | ClientKind::Cursor | ClientKind::Copilot
        )
    }
}

impl fmt::Display for ClientKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClientKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "claude-code" | "claude" => Ok(ClientKind::ClaudeCode),
            "codex" => Ok(ClientKind::Codex),
            "gemini" | "gemini-cli" => Ok(ClientKind::Gemini),
            "cursor" => Ok(ClientKind::Cursor),
            "copilot" => Ok(ClientKind::Copilot),
            other => Err(format!(
                "unknown client `{other}`; expected one of claude-code, codex, gemini, cursor, copilot"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in ClientKind::ALL {
            assert_eq!(c.as_str().parse::<ClientKind>().unwrap(), c);
        }
        assert!("vim".parse::<ClientKind>().is_err());
    }
}
