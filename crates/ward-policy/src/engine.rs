//! Deciding one call: a Cedar request over the slice of the pack for its action.
//!
//! Cedar has permit and forbid; ward reads a forbid's `@outcome` annotation to tell a deny from
//! an ask. Deny wins over ask; a call no permit covers is denied; any evaluation error is a deny
//! (an erroring forbid must not silently drop out).

use crate::facts::Facts;
use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, EntityId, EntityTypeName, EntityUid,
    PolicyId, PolicySet, Request, RestrictedExpression,
};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use ward_core::{Action, Decision, ErrorCode, Outcome, ToolCall, WardError};

#[derive(Debug, Clone)]
struct Meta {
    id: String,
    reason: String,
    outcome: Outcome,
    /// `@approval("local")`: for an ask, the developer's own confirmation suffices.
    local: bool,
}

/// The parsed slice of the pack for one action, ready to evaluate.
#[derive(Debug)]
pub struct Engine {
    action: String,
    set: PolicySet,
    meta: HashMap<PolicyId, Meta>,
    // Parsed once per engine: Cedar parses type names with its grammar, which is costly.
    assistant_type: EntityTypeName,
    target_type: EntityTypeName,
    action_uid: EntityUid,
    authorizer: Authorizer,
    entities: Entities,
    /// The facts this slice reads (`None`: all of them). Building the context is most of the
    /// cost of a decision, so only what the policies can read goes into it.
    facts_used: Option<HashSet<String>>,
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
            let (mut id, mut reason, mut ask, mut local) = (None, String::new(), false, false);
            for (key, value) in policy.annotations() {
                match key {
                    "id" => id = Some(value.to_string()),
                    "reason" => reason = value.to_string(),
                    "outcome" => ask = value == "ask",
                    "approval" => local = value == "local",
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
                    local,
                },
            );
        }
        let set = parsed;
        let assistant_type = type_name("Assistant")?;
        let target_type = type_name("Target")?;
        let action_uid =
            EntityUid::from_type_name_and_id(type_name("Action")?, EntityId::new(action));
        Ok(Engine {
            action: action.to_string(),
            set,
            meta,
            assistant_type,
            target_type,
            action_uid,
            authorizer: Authorizer::new(),
            entities: Entities::empty(),
            facts_used: referenced_facts(text),
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

/// The facts a slice reads, when it reads them only as `context.facts.NAME`. Any other access
/// to the record (`has`, indexing, comparing the record itself) gives `None`, and then every
/// fact goes into the context. Leaving a fact out is safe only because of that rule: reading a
/// missing attribute is an evaluation error, and evaluation errors deny.
fn referenced_facts(text: &str) -> Option<HashSet<String>> {
    let code = strip_strings_and_comments(text);
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let tokens_has = code.split(|c: char| !is_ident(c)).any(|w| w == "has");
    if tokens_has || code.contains("context[") {
        return None;
    }
    let mut used = HashSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("facts") {
        let before = &rest[..i];
        let after = &rest[i + "facts".len()..];
        let standalone = !before.ends_with(is_ident) && !after.starts_with(is_ident);
        if standalone {
            if !before.trim_end().ends_with("context.") {
                return None;
            }
            let name: String = after
                .strip_prefix('.')?
                .chars()
                .take_while(|c| is_ident(*c))
                .collect();
            if name.is_empty() {
                return None;
            }
            used.insert(name);
        }
        rest = after;
    }
    Some(used)
}

/// Cedar text with string literals and `//` comments blanked out.
fn strip_strings_and_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            '/' if chars.peek() == Some(&'/') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                out.push('\n');
            }
            _ => out.push(c),
        }
    }
    out
}

fn type_name(ty: &str) -> Result<EntityTypeName, WardError> {
    EntityTypeName::from_str(ty)
        .map_err(|e| WardError::new(ErrorCode::PolicyEval, format!("entity type `{ty}`: {e}")))
}

/// The request context, built directly as Cedar values (no JSON round trip).
/// Also returns the names of the boolean facts that are true, read from the same serialization.
fn context(
    call: &ToolCall,
    facts: &Facts,
    used: Option<&HashSet<String>>,
) -> Result<(Context, Vec<String>), WardError> {
    let err =
        |e: &dyn std::fmt::Display| WardError::new(ErrorCode::PolicyEval, format!("context: {e}"));
    let mut fact_pairs = Vec::with_capacity(64);
    let mut fired = Vec::new();
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(facts) {
        for (name, value) in map {
            if fired_fact(&name, &value) {
                fired.push(name.clone());
            }
            if used.is_some_and(|u| !u.contains(&name)) {
                continue;
            }
            let expr = match value {
                serde_json::Value::Bool(b) => RestrictedExpression::new_bool(b),
                serde_json::Value::Array(items) => {
                    RestrictedExpression::new_set(items.into_iter().filter_map(|v| {
                        v.as_str()
                            .map(|s| RestrictedExpression::new_string(s.to_string()))
                    }))
                }
                serde_json::Value::Number(n) => {
                    RestrictedExpression::new_long(n.as_i64().unwrap_or(0))
                }
                _ => continue,
            };
            if name != "notes" {
                fact_pairs.push((name, expr));
            }
        }
    } else {
        return Err(err(&"facts did not serialise"));
    }
    let (server, tool) = match &call.action {
        Action::Mcp { server, tool, .. } => (server.clone(), tool.clone()),
        _ => (String::new(), String::new()),
    };
    let facts_record = RestrictedExpression::new_record(fact_pairs).map_err(|e| err(&e))?;
    let context = Context::from_pairs([
        (
            "client".to_string(),
            RestrictedExpression::new_string(call.assistant.client.as_str().to_string()),
        ),
        (
            "tool".to_string(),
            RestrictedExpression::new_string(call.tool_name.clone()),
        ),
        (
            "mcp_server".to_string(),
            RestrictedExpression::new_string(server),
        ),
        (
            "mcp_tool".to_string(),
            RestrictedExpression::new_string(tool),
        ),
        ("facts".to_string(), facts_record),
    ])
    .map_err(|e| err(&e))?;
    Ok((context, fired))
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
    let principal = EntityUid::from_type_name_and_id(
        engine.assistant_type.clone(),
        EntityId::new(call.assistant.id()),
    );
    let resource = EntityUid::from_type_name_and_id(
        engine.target_type.clone(),
        EntityId::new(&call.tool_name),
    );
    let (context, fired) = context(call, facts, engine.facts_used.as_ref())?;
    let request = Request::new(
        principal,
        engine.action_uid.clone(),
        resource,
        context,
        None,
    )
    .map_err(|e| WardError::new(ErrorCode::PolicyEval, format!("request: {e}")))?;
    let response = engine
        .authorizer
        .is_authorized(&request, &engine.set, &engine.entities);
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
                confirm_locally: false,
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
            confirm_locally: false,
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
            let confirm_locally = outcome == Outcome::Ask && chosen.iter().all(|m| m.local);
            Decision {
                outcome,
                policies: ids,
                reason,
                facts: fired,
                error_code: None,
                confirm_locally,
            }
        }
    };
    Ok(decision)
}

/// A fact that fired: a true boolean, other than the "nothing wrong" markers.
fn fired_fact(name: &str, value: &serde_json::Value) -> bool {
    value.as_bool() == Some(true) && name != "parsed" && name != "read_only"
}

/// Names of the boolean facts that are true.
pub fn fired_facts(facts: &Facts) -> Vec<String> {
    match serde_json::to_value(facts) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter(|(k, v)| fired_fact(k, v))
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
    fn only_plainly_read_facts_are_pruned() {
        let used = referenced_facts(
            r#"@id("a") @reason("facts has context") forbid(principal, action, resource)
               when { context.facts.publish || context.facts.programs.contains("x") }; // facts"#,
        )
        .unwrap();
        assert_eq!(
            used,
            HashSet::from(["publish".to_string(), "programs".to_string()])
        );
        assert!(
            referenced_facts(
                "forbid(principal, action, resource) when { context.facts has publish };"
            )
            .is_none()
        );
        assert!(
            referenced_facts(
                "forbid(principal, action, resource) when { context.facts[\"publish\"] };"
            )
            .is_none()
        );
        assert!(
            referenced_facts(
                "forbid(principal, action, resource) when { context[\"facts\"].publish };"
            )
            .is_none()
        );
        assert!(
            referenced_facts(
                "forbid(principal, action, resource) when { context.facts == context.facts };"
            )
            .is_none()
        );
    }

    #[test]
    fn pruned_context_decides_like_the_full_one() {
        let e = engine("shell");
        assert!(e.facts_used.is_some());
        let c = call(Action::Shell {
            command: "x".into(),
        });
        let f = Facts {
            publish: true,
            hosts: ["example.com".to_string()].into(),
            ..Facts::default()
        };
        let pruned = decide(&e, &c, &f).unwrap();
        let mut full = engine("shell");
        full.facts_used = None;
        assert_eq!(decide(&full, &c, &f).unwrap(), pruned);
        assert_eq!(pruned.outcome, Outcome::Ask);
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
