//! A decision and its outcome.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Allow,
    Ask,
    Deny,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Ask => "ask",
            Outcome::Deny => "deny",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer to one tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    /// Ids (`@id`) of the policies that decided; empty for the default or an error.
    pub policies: Vec<String>,
    /// One sentence the assistant and the user can act on.
    pub reason: String,
    /// Names of the derived facts that fired.
    pub facts: Vec<String>,
    /// Set when the decision is a fail-closed deny caused by an error.
    pub error_code: Option<String>,
    /// An `ask` every asking policy marks `@approval("local")`: the developer's own confirmation
    /// in the client is enough. Never counts as an approval by someone else.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirm_locally: bool,
}

impl Decision {
    /// A deny ward decides before the policy pack is asked (a held MCP tool, a call outside a
    /// task token's scopes), named by `rule` so that the record says which.
    pub fn refused(rule: &str, reason: String) -> Decision {
        Decision {
            outcome: Outcome::Deny,
            policies: vec![rule.to_string()],
            reason,
            facts: Vec::new(),
            error_code: None,
            confirm_locally: false,
        }
    }

    /// A deny caused by an error on the decision path (fail closed).
    pub fn fail_closed(code: crate::ErrorCode, message: &str) -> Decision {
        Decision {
            outcome: Outcome::Deny,
            policies: Vec::new(),
            reason: format!(
                "ward {}: {message} (blocked: ward fails closed)",
                code.as_str()
            ),
            facts: Vec::new(),
            error_code: Some(code.as_str().to_string()),
            confirm_locally: false,
        }
    }
}
