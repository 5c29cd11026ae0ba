//! Deciding one call: a Cedar request over the slice of the pack for its action.
//!
//! Cedar has permit and forbid; ward reads a forbid's `@outcome` annotation to tell a deny from
//! an ask. Deny wins over ask; a call no permit covers is denied; any evaluation error is a deny
//! (an erroring forbid must not silently drop out).

use crate::facts::Facts;
use crate::pack::Slice;
use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision as CedarDecision, Entities, EntityId,
    EntityTypeName, EntityUid, Policy, PolicyId, PolicySet, PrincipalConstraint, Request,
    ResourceConstraint, RestrictedExpression,
};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
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
///
/// The slice's unguarded policies are parsed when the engine is made; each guarded policy (see
/// [`Slice`]) is parsed the first time its fact is true, and the policy set for each
/// combination of true guards is built once and kept.
#[derive(Debug)]
pub struct Engine {
    action: String,
    base: Arc<Part>,
    guarded: Vec<GuardedPolicy>,
    /// Policy sets by the bit mask of the guards that are true (bit i: `guarded[i]`).
    parts: Mutex<HashMap<u64, Arc<Part>>>,
    // Parsed once per engine: Cedar parses type names with its grammar, which is costly.
    assistant_type: EntityTypeName,
    target_type: EntityTypeName,
    action_uid: EntityUid,
    authorizer: Authorizer,
    entities: Entities,
}

/// A policy set to evaluate, with what the engine needs to read its answer.
#[derive(Debug)]
struct Part {
    set: PolicySet,
    meta: HashMap<PolicyId, Meta>,
    /// The facts these policies read (`None`: all of them). Building the context is most of the
    /// cost of a decision, so only what the policies can read goes into it.
    facts_used: Option<HashSet<String>>,
}

/// One guarded policy, parsed on first use.
#[derive(Debug)]
struct GuardedPolicy {
    fact: String,
    text: String,
    parsed: OnceLock<Result<(Policy, Meta), WardError>>,
}

/// Most guarded policies an engine skips; any beyond are evaluated always.
const MAX_GUARDED: usize = 64;
/// Most combinations of true guards an engine keeps a policy set for.
const MAX_PARTS: usize = 512;

impl Engine {
    /// Parse raw Cedar text as one slice with no guards (already validated, or a test's).
    pub fn from_slice(action: &str, text: &str) -> Result<Engine, WardError> {
        Engine::from_compiled(action, &Slice::unguarded(text))
    }

    /// Parse a compiled slice: its unguarded policies now, the guarded ones when needed.
    pub fn from_compiled(action: &str, slice: &Slice) -> Result<Engine, WardError> {
        let (always, guarded) = if slice.guarded.len() > MAX_GUARDED {
            let (now, later) = slice.guarded.split_at(slice.guarded.len() - MAX_GUARDED);
            let mut text = slice.always.clone();
            for g in now {
                text.push_str("\n\n");
                text.push_str(&g.text);
            }
            (text, later)
        } else {
            (slice.always.clone(), slice.guarded.as_slice())
        };
        // The type names come from a parse with the grammar the slice needs anyway: parsing them
        // on their own would build a second Cedar lexer (hundreds of microseconds in a fresh
        // process).
        let types = format!(
            "{always}\n\n@id(\"{TYPES_ID}\") forbid (principal == Assistant::\"\", action == Action::\"{}\", resource == Target::\"\") when {{ false }};",
            action.escape_default()
        );
        let mut parsed = PolicySet::from_str(&types).map_err(|e| invalid(action, &e))?;
        let (mut assistant_type, mut target_type, mut action_uid) = (None, None, None);
        let mut types_id = None;
        for policy in parsed.policies() {
            if policy.annotation("id") != Some(TYPES_ID) {
                continue;
            }
            if let PrincipalConstraint::Eq(uid) = policy.principal_constraint() {
                assistant_type = Some(uid.type_name().clone());
            }
            if let ResourceConstraint::Eq(uid) = policy.resource_constraint() {
                target_type = Some(uid.type_name().clone());
            }
            if let ActionConstraint::Eq(uid) = policy.action_constraint() {
                action_uid = Some(uid);
            }
            types_id = Some(policy.id().clone());
        }
        let (Some(assistant_type), Some(target_type), Some(action_uid), Some(types_id)) =
            (assistant_type, target_type, action_uid, types_id)
        else {
            return Err(WardError::new(
                ErrorCode::PolicyInvalid,
                format!("policy slice `{action}`: the entity types did not parse"),
            ));
        };
        parsed
            .remove_static(types_id)
            .map_err(|e| invalid(action, &e))?;
        let meta = parsed
            .policies()
            .map(|p| (p.id().clone(), meta_of(p)))
            .collect();
        let base = Arc::new(Part {
            set: parsed,
            meta,
            facts_used: referenced_facts(&always),
        });
        Ok(Engine {
            action: action.to_string(),
            base,
            guarded: guarded
                .iter()
                .map(|g| GuardedPolicy {
                    fact: g.fact.clone(),
                    text: g.text.clone(),
                    parsed: OnceLock::new(),
                })
                .collect(),
            parts: Mutex::new(HashMap::new()),
            assistant_type,
            target_type,
            action_uid,
            authorizer: Authorizer::new(),
            entities: Entities::empty(),
        })
    }

    pub fn action(&self) -> &str {
        &self.action
    }

    /// Number of policies in the slice.
    pub fn len(&self) -> usize {
        self.base.meta.len() + self.guarded.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bit i set: `guarded[i]`'s fact is not known to be false (so the policy takes part).
    fn mask(&self, facts: &serde_json::Map<String, serde_json::Value>) -> u64 {
        let mut mask = 0u64;
        for (i, g) in self.guarded.iter().enumerate() {
            if facts.get(&g.fact).and_then(|v| v.as_bool()) != Some(false) {
                mask |= 1 << i;
            }
        }
        mask
    }

    /// The policy set for one combination of true guards.
    fn part(&self, mask: u64) -> Result<Arc<Part>, WardError> {
        if mask == 0 {
            return Ok(self.base.clone());
        }
        if let Some(p) = self.parts.lock().ok().and_then(|m| m.get(&mask).cloned()) {
            return Ok(p);
        }
        let mut set = self.base.set.clone();
        let mut meta = self.base.meta.clone();
        let mut facts_used = self.base.facts_used.clone();
        for (i, g) in self.guarded.iter().enumerate() {
            if mask & (1 << i) == 0 {
                continue;
            }
            let (policy, m) = g
                .parsed
                .get_or_init(|| parse_guarded(&self.action, i, &g.text))
                .clone()?;
            meta.insert(policy.id().clone(), m);
            set.add(policy).map_err(|e| invalid(&self.action, &e))?;
            facts_used = match (facts_used, referenced_facts(&g.text)) {
                (Some(mut a), Some(b)) => {
                    a.extend(b);
                    Some(a)
                }
                _ => None,
            };
        }
        let part = Arc::new(Part {
            set,
            meta,
            facts_used,
        });
        if let Ok(mut parts) = self.parts.lock()
            && parts.len() < MAX_PARTS
        {
            parts.insert(mask, part.clone());
        }
        Ok(part)
    }
}

/// Build Cedar's extension table, and with it the lexer Cedar uses for identifiers (a regex
/// compilation of several hundred microseconds, once per process). Parsing a slice needs both;
/// a short-lived process calls this on one thread while another parses, so the two one-time
/// costs overlap instead of adding up. Harmless to call more than once.
pub fn warm_up() {
    let _ = Context::from_pairs(Vec::new());
}

/// `@id` of the policy that carries the entity type names while a slice is parsed.
const TYPES_ID: &str = "ward-entity-types";

fn invalid(action: &str, e: &dyn std::fmt::Display) -> WardError {
    WardError::new(
        ErrorCode::PolicyInvalid,
        format!(
            "policy slice `{action}` does not parse: {}",
            one_line(&e.to_string())
        ),
    )
}

/// Parse one guarded policy under an id of its own (`ward-guarded-N`).
fn parse_guarded(action: &str, i: usize, text: &str) -> Result<(Policy, Meta), WardError> {
    let set = PolicySet::from_str(text).map_err(|e| invalid(action, &e))?;
    let mut policies = set.policies();
    let (Some(policy), None) = (policies.next(), policies.next()) else {
        return Err(WardError::new(
            ErrorCode::PolicyInvalid,
            format!("policy slice `{action}`: guarded entry {i} is not exactly one policy"),
        ));
    };
    let policy = policy.new_id(PolicyId::new(format!("ward-guarded-{i}")));
    let meta = meta_of(&policy);
    Ok((policy, meta))
}

/// A policy's annotations, read in one pass (each `annotation()` lookup is costly on the hot
/// path). Cedar's own ids (`policy0`, …) are kept and mapped to the pack's `@id`s: renaming
/// would copy every policy.
fn meta_of(policy: &Policy) -> Meta {
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
    Meta {
        id: id.unwrap_or_else(|| policy.id().to_string()),
        reason,
        outcome,
        local,
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

/// The facts as name → JSON value, the form both the guards and the context read.
fn facts_map(facts: &Facts) -> Result<serde_json::Map<String, serde_json::Value>, WardError> {
    match serde_json::to_value(facts) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(WardError::new(
            ErrorCode::PolicyEval,
            "context: facts did not serialise",
        )),
    }
}

/// The request context, built directly as Cedar values (no JSON round trip).
/// Also returns the names of the boolean facts that are true, read from the same serialization.
fn context(
    call: &ToolCall,
    map: serde_json::Map<String, serde_json::Value>,
    used: Option<&HashSet<String>>,
) -> Result<(Context, Vec<String>), WardError> {
    let err =
        |e: &dyn std::fmt::Display| WardError::new(ErrorCode::PolicyEval, format!("context: {e}"));
    let mut fact_pairs = Vec::with_capacity(64);
    let mut fired = Vec::new();
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
            serde_json::Value::Number(n) => RestrictedExpression::new_long(n.as_i64().unwrap_or(0)),
            _ => continue,
        };
        if name != "notes" {
            fact_pairs.push((name, expr));
        }
    }
    let (server, tool) = match &call.action {
        Action::Mcp { server, tool, .. } => (server.clone(), tool.clone()),
        _ => (String::new(), String::new()),
    };
    let facts_record = RestrictedExpression::new_record(fact_pairs).map_err(|e| err(&e))?;
    let credential = match &call.action {
        Action::Credential { provider, name } => {
            let field = |k: &str| {
                RestrictedExpression::new_string(
                    call.input
                        .get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_string(),
                )
            };
            let scopes = call
                .input
                .get("scopes")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .map(|s| RestrictedExpression::new_string(s.to_string()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            Some(
                RestrictedExpression::new_record([
                    (
                        "provider".to_string(),
                        RestrictedExpression::new_string(provider.clone()),
                    ),
                    (
                        "name".to_string(),
                        RestrictedExpression::new_string(name.clone()),
                    ),
                    ("repo".to_string(), field("repo")),
                    ("env".to_string(), field("env")),
                    ("requester".to_string(), field("requester")),
                    ("assistant".to_string(), field("assistant")),
                    ("task".to_string(), field("task")),
                    ("scopes".to_string(), RestrictedExpression::new_set(scopes)),
                ])
                .map_err(|e| err(&e))?,
            )
        }
        _ => None,
    };
    let mut pairs = vec![
        (
            "client".to_string(),
            RestrictedExpression::new_string(match &call.action {
                // The registration's kind (`ci` and `custom` have no client).
                Action::Credential { .. } => call
                    .input
                    .get("kind")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string(),
                _ => call.assistant.client.as_str().to_string(),
            }),
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
    ];
    if let Some(c) = credential {
        pairs.push(("credential".to_string(), c));
    }
    let context = Context::from_pairs(pairs).map_err(|e| err(&e))?;
    Ok((context, fired))
}

/// Decide one call. Errors are returned so the caller can fail closed with the right code.
pub fn decide(engine: &Engine, call: &ToolCall, facts: &Facts) -> Result<Decision, WardError> {
    decide_map(engine, call, facts_map(facts)?, &facts.notes)
}

/// [`decide`] over the facts in their map form.
fn decide_map(
    engine: &Engine,
    call: &ToolCall,
    map: serde_json::Map<String, serde_json::Value>,
    notes: &[String],
) -> Result<Decision, WardError> {
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
    // A credential is asked by a registered assistant: its registration id.
    let who = match &call.action {
        Action::Credential { .. } => call
            .input
            .get("assistant")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| call.assistant.id()),
        _ => call.assistant.id(),
    };
    let principal =
        EntityUid::from_type_name_and_id(engine.assistant_type.clone(), EntityId::new(who));
    // A credential's target is what it is for (`postgres:analytics`); a tool's, its name.
    let target = match &call.action {
        Action::Credential { .. } => call.action.summary(),
        _ => call.tool_name.clone(),
    };
    let resource =
        EntityUid::from_type_name_and_id(engine.target_type.clone(), EntityId::new(&target));
    let part = engine.part(engine.mask(&map))?;
    let (context, fired) = context(call, map, part.facts_used.as_ref())?;
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
        .is_authorized(&request, &part.set, &engine.entities);
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
        .filter_map(|pid| part.meta.get(pid))
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
            if !notes.is_empty() {
                reason.push_str(" (");
                reason.push_str(&notes.join("; "));
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
    facts_map(facts)
        .map(|map| {
            map.into_iter()
                .filter(|(k, v)| fired_fact(k, v))
                .map(|(k, _)| k)
                .collect()
        })
        .unwrap_or_default()
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
        Engine::from_compiled(action, &pack.slices[action]).unwrap()
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
        let e = Engine::from_compiled("shell", &pack.slices["shell"]).unwrap();
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
        assert!(e.base.facts_used.is_some());
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
        Arc::get_mut(&mut full.base).unwrap().facts_used = None;
        assert_eq!(decide(&full, &c, &f).unwrap(), pruned);
        assert_eq!(pruned.outcome, Outcome::Ask);
    }

    /// The default pack, read from the repository.
    fn default_pack() -> crate::pack::CompiledPack {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
        let mut sources = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "cedar") {
                sources.push(PackSource {
                    name: path.file_name().unwrap().to_string_lossy().into_owned(),
                    text: std::fs::read_to_string(&path).unwrap(),
                });
            }
        }
        compile(&sources).unwrap()
    }

    fn action_for(kind: &str) -> Action {
        match kind {
            "shell" => Action::Shell {
                command: "x".into(),
            },
            "file_read" => Action::FileRead { paths: vec![] },
            "file_write" => Action::FileWrite {
                paths: vec![],
                content: None,
            },
            "web_fetch" => Action::WebFetch { url: "x".into() },
            "mcp_call" => Action::Mcp {
                server: "s".into(),
                tool: "t".into(),
                arguments: serde_json::json!({}),
            },
            _ => Action::Other { name: "x".into() },
        }
    }

    #[test]
    fn skipping_guarded_policies_decides_exactly_like_evaluating_all() {
        let pack = default_pack();
        let base = facts_map(&Facts::default()).unwrap();
        let bools: Vec<String> = base
            .iter()
            .filter(|(_, v)| v.is_boolean())
            .map(|(k, _)| k.clone())
            .collect();
        // No fact, each fact alone, each pair, and a deterministic spread of larger sets.
        let mut sets: Vec<Vec<usize>> = vec![vec![]];
        for i in 0..bools.len() {
            sets.push(vec![i]);
            for j in i + 1..bools.len() {
                sets.push(vec![i, j]);
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..300 {
            let mut set = Vec::new();
            for i in 0..bools.len() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x.is_multiple_of(5) {
                    set.push(i);
                }
            }
            sets.push(set);
        }
        let mut guarded_total = 0;
        for (action, slice) in &pack.slices {
            guarded_total += slice.guarded.len();
            let fast = Engine::from_compiled(action, slice).unwrap();
            let all = Engine::from_slice(action, &slice.text()).unwrap();
            assert_eq!(fast.len(), all.len(), "{action}");
            let c = call(action_for(action));
            for set in &sets {
                let mut map = base.clone();
                for &i in set {
                    map.insert(bools[i].clone(), serde_json::Value::Bool(true));
                }
                let a = decide_map(&fast, &c, map.clone(), &[]);
                let b = decide_map(&all, &c, map, &[]);
                assert_eq!(a, b, "{action} with {set:?}");
            }
        }
        // The pack is mostly guarded forbids: the skipping is exercised, not vacuous.
        assert!(guarded_total > 20, "{guarded_total}");
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
