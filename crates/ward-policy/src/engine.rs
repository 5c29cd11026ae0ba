//! Deciding one call: a Cedar request over the slice of the pack for its action.
//!
//! Cedar has permit and forbid; ward reads a forbid's `@outcome` annotation to tell a deny from
//! an ask. Deny wins over ask; a call no permit covers is denied; any evaluation error is a deny
//! (an erroring forbid must not silently drop out).

use crate::facts::Facts;
use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, EntityId, EntityTypeName, EntityUid,
    PolicyId, PolicySet, Request,
};
use std::collections::HashMap;
use std::str::FromStr;
use ward_core::{Action, Decision, ErrorCode, Outcome, ToolCall, WardError};

#[derive(Debug, Clone)]
struct Meta {
    id: String,
    reason: String,
    outcome: Outcome,
}

/// The parsed slice of the pack for one action, ready to evaluate.
#[derive(Debug)]
pub struct Engine {
    action: String,
    set: PolicySet,
    meta: HashMap<PolicyId, Meta>,
}

impl Engine {
    /// Parse one slice (already validated when the pack was compiled).
    pub fn from_slice(action: &str, text: &str) -> Result<Engine, WardError> {
        let parsed = PolicySet::from_str(text).map_err(|e| {
            WardError::new(
                ErrorCode::PolicyInvalid,
                format!(
                    "policy slice `{action}` does not parse: {}",
                    one_line(&e.to_string())
                ),
            )
        })?;
        // Keep Cedar's own ids (`policy0`, …) and map them to the pack's `@id`s: renaming would
        // copy every policy, and each `annotation()` lookup is costly on this hot path, so the
        // annotations are read in one pass.
        let mut meta = HashMap::new();
        for policy in parsed.policies() {
            let (mut id, mut reason, mut ask) = (None, String::new(), false);
            for (key, value) in policy.annotations() {
                match key {
                    "id" => id = Some(value.to_string()),
                    "reason" => reason = value.to_string(),
                    "outcome" => ask = value == "ask",
                    _ => {}
                }
            }
            let outcome = if policy.effect() == cedar_policy::Effect::Permit {
                Outcome::Allow
            } else if ask {
                Outcome::Ask
            } else {
                Outcome::Deny
            };
            meta.insert(
                policy.id().clone(),
                Meta {
                    id: id.unwrap_or_else(|| policy.id().to_string()),
                    reason,
                    outcome,
                },
            );
        }
        let set = parsed;
        Ok(Engine {
            action: action.to_string(),
            set,
            meta,
        })
    }

    pub fn action(&self) -> &str {
        &self.action
    }

    pub fn len(&self) -> usize {
        self.meta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }
}

/// The Cedar context for a call: client, tool, MCP target and the facts.
pub fn context_json(call: &ToolCall, facts: &Facts) -> serde_json::Value {
    let mut f = serde_json::to_value(facts).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = f.as_object_mut() {
        obj.remove("notes");
    }
    let (server, tool) = match &call.action {
        Action::Mcp { server, tool, .. } => (server.clone(), tool.clone()),
        _ => (String::new(), String::new()),
    };
    serde_json::json!({
        "client": call.assistant.client.as_str(),
        "tool": call.tool_name,
        "mcp_server": server,
        "mcp_tool": tool,
        "facts": f,
    })
}

fn uid(ty: &str, id: &str) -> Result<EntityUid, WardError> {
    let ty = EntityTypeName::from_str(ty)
        .map_err(|e| WardError::new(ErrorCode::PolicyEval, format!("entity type `{ty}`: {e}")))?;
    Ok(EntityUid::from_type_name_and_id(ty, EntityId::new(id)))
}

/// Decide one call. Errors are returned so the caller can fail closed with the right code.
pub fn decide(engine: &Engine, call: &ToolCall, facts: &Facts) -> Result<Decision, WardError> {
    if engine.action != call.action.kind() {
        return Err(WardError::new(
            ErrorCode::PolicyEval,
            format!(
                "policy slice `{}` used for a `{}` call",
                engine.action,
                call.action.kind()
            ),
        ));
    }
    let principal = uid("Assistant", &call.assistant.id())?;
    let action = uid("Action", &engine.action)?;
    let resource = uid("Target", &call.tool_name)?;
    let context = Context::from_json_value(context_json(call, facts), None)
        .map_err(|e| WardError::new(ErrorCode::PolicyEval, format!("context: {e}")))?;
    let request = Request::new(principal, action, resource, context, None)
        .map_err(|e| WardError::new(ErrorCode::PolicyEval, format!("request: {e}")))?;
    let response = Authorizer::new().is_authorized(&request, &engine.set, &Entities::empty());
    let errors: Vec<String> = response
        .diagnostics()
        .errors()
        .map(|e| one_line(&e.to_string()))
        .collect();
    if !errors.is_empty() {
        return Err(WardError::new(
            ErrorCode::PolicyEval,
            format!("policy evaluation failed: {}", errors.join("; ")),
        ));
    }
    let deciding: Vec<&Meta> = response
        .diagnostics()
        .reason()
        .filter_map(|pid| engine.meta.get(pid))
        .collect();
    let fired = fired_facts(facts);
    let decision = match response.decision() {
        CedarDecision::Allow => {
            let mut ids: Vec<String> = deciding.iter().map(|m| m.id.clone()).collect();
            ids.sort();
            let reason = match deciding.first() {
                Some(m) if !m.reason.is_empty() => {
                    format!("allowed by ward policy `{}`: {}", m.id, m.reason)
                }
                _ => "allowed by ward policy".to_string(),
            };
            Decision {
                outcome: Outcome::Allow,
                policies: ids,
                reason,
                facts: fired,
                error_code: None,
            }
        }
        CedarDecision::Deny if deciding.is_empty() => Decision {
            outcome: Outcome::Deny,
            policies: Vec::new(),
            reason: format!(
                "denied by ward: no policy permits a `{}` call (default deny)",
                engine.action
            ),
            facts: fired,
            error_code: None,
        },
        CedarDecision::Deny => {
            let outcome = if deciding.iter().any(|m| m.outcome == Outcome::Deny) {
                Outcome::Deny
            } else {
                Outcome::Ask
            };
            let mut chosen: Vec<&Meta> = deciding
                .iter()
                .copied()
                .filter(|m| m.outcome == outcome)
                .collect();
            chosen.sort_by(|a, b| a.id.cmp(&b.id));
            let mut ids: Vec<String> = deciding.iter().map(|m| m.id.clone()).collect();
            ids.sort();
            let verb = if outcome == Outcome::Deny {
                "blocked"
            } else {
                "needs approval"
            };
            let mut reason = String::new();
            for (i, m) in chosen.iter().enumerate() {
                if i == 0 {
                    reason.push_str(&format!("{verb} by ward policy `{}`: {}", m.id, m.reason));
                } else {
                    reason.push_str(&format!("; also `{}`: {}", m.id, m.reason));
                }
            }
            if !facts.notes.is_empty() {
                reason.push_str(" (");
                reason.push_str(&facts.notes.join("; "));
                reason.push(')');
            }
            Decision {
                outcome,
                policies: ids,
                reason,
                facts: fired,
                error_code: None,
            }
        }
    };
    Ok(decision)
}

/// Names of the boolean facts that are true.
pub fn fired_facts(facts: &Facts) -> Vec<String> {
    match serde_json::to_value(facts) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter(|(k, v)| v.as_bool() == Some(true) && k != "parsed" && k != "read_only")
            .map(|(k, _)| k)
            .collect(),
        _ => Vec::new(),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::{PackSource, compile};
    use ward_core::{Assistant, ClientKind};

    fn call(action: Action) -> ToolCall {
        ToolCall {
            assistant: Assistant {
                client: ClientKind::ClaudeCode,
                host: "h".into(),
                os_user: "u".into(),
            },
            session_id: "s".into(),
            tool_use_id: None,
            tool_name: "Bash".into(),
            action,
            input: serde_json::json!({}),
            cwd: "/w".into(),
            repo_root: None,
            agent_id: None,
        }
    }

    const PACK: &str = r#"
        @id("base") @reason("everyday work") permit(principal, action, resource);
        @id("exfil") @reason("secrets must not leave the machine") @outcome("deny")
        forbid(principal, action == Action::"shell", resource) when { context.facts.secret_to_network };
        @id("publish") @reason("publishing needs a human") @outcome("ask")
        forbid(principal, action == Action::"shell", resource) when { context.facts.publish };
    "#;

    fn engine(action: &str) -> Engine {
        let pack = compile(&[PackSource {
            name: "p.cedar".into(),
            text: PACK.into(),
        }])
        .unwrap();
        Engine::from_slice(action, &pack.slices[action]).unwrap()
    }

    #[test]
    fn allow_ask_deny_and_deny_wins() {
        let e = engine("shell");
        let c = call(Action::Shell {
            command: "x".into(),
        });
        let mut f = Facts::default();
        assert_eq!(decide(&e, &c, &f).unwrap().outcome, Outcome::Allow);
        f.publish = true;
        let d = decide(&e, &c, &f).unwrap();
        assert_eq!(d.outcome, Outcome::Ask);
        assert_eq!(d.policies, vec!["publish".to_string()]);
        assert!(d.reason.contains("publishing needs a human"));
        f.secret_to_network = true;
        f.notes.push("`curl` uploads `.env`".into());
        let d = decide(&e, &c, &f).unwrap();
        assert_eq!(d.outcome, Outcome::Deny);
        assert!(
            d.reason.contains("`exfil`") && d.reason.contains("uploads `.env`"),
            "{}",
            d.reason
        );
        assert!(d.facts.contains(&"secret_to_network".to_string()));
    }

    #[test]
    fn no_permit_is_default_deny() {
        let pack = compile(&[PackSource {
            name: "p".into(),
            text: r#"@id("only-read") @reason("r") permit(principal, action == Action::"file_read", resource);"#.into(),
        }])
        .unwrap();
        let e = Engine::from_slice("shell", &pack.slices["shell"]).unwrap();
        let d = decide(
            &e,
            &call(Action::Shell {
                command: "ls".into(),
            }),
            &Facts::default(),
        )
        .unwrap();
        assert_eq!(d.outcome, Outcome::Deny);
        assert!(d.reason.contains("default deny"));
    }

    #[test]
    fn wrong_slice_and_bad_text_are_errors() {
        let e = engine("file_read");
        assert!(
            decide(
                &e,
                &call(Action::Shell {
                    command: "ls".into()
                }),
                &Facts::default()
            )
            .is_err()
        );
        assert_eq!(
            Engine::from_slice("shell", "permit(").unwrap_err().code,
            ErrorCode::PolicyInvalid
        );
    }

    #[test]
    fn evaluation_error_fails_closed() {
        // Unvalidated text that reads a missing attribute: Cedar skips the erroring forbid;
        // ward must turn that into an error, not an allow.
        let e = Engine::from_slice(
            "shell",
            r#"@id("base") @reason("r") permit(principal, action, resource);
               @id("bad") @reason("r") forbid(principal, action, resource) when { context.facts.missing_attr };"#,
        )
        .unwrap();
        let err = decide(
            &e,
            &call(Action::Shell {
                command: "ls".into(),
            }),
            &Facts::default(),
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::PolicyEval);
    }
}
