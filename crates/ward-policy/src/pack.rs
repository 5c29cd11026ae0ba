//! The policy pack: Cedar schema, compilation (parse + strict validation + split by action) and
//! the per-action slices a hook loads.
//!
//! Validation is the slow part (schema parsing alone costs milliseconds), so it runs when the
//! pack changes, keyed by [`pack_hash`]; a hook parses only the slice for its action.

use crate::facts::Facts;
use cedar_policy::{ActionConstraint, Policy, PolicySet, Schema, ValidationMode, Validator};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

/// The Cedar actions, one per `ward_core::Action` kind.
pub const ACTIONS: [&str; 7] = [
    "shell",
    "file_read",
    "file_write",
    "web_fetch",
    "mcp_call",
    "other",
    "credential",
];

/// The fixed part of the schema; the `Facts` record type is generated from [`Facts`] so the two
/// can never drift apart.
pub const SCHEMA: &str = r#"// ward Cedar schema. `Facts` is generated from the fields of ward_policy::facts::Facts.
entity Assistant;
entity Target;
type Context = {
  "client": String,
  "tool": String,
  "mcp_server": String,
  "mcp_tool": String,
  "facts": Facts,
  "credential"?: Credential,
};
// A credential asked of the broker (action "credential"; resource Target::"PROVIDER:NAME").
type Credential = {
  "provider": String,
  "name": String,
  "repo": String,
  "env": String,
  "requester": String,
  "assistant": String,
  "task": String,
  "scopes": Set<String>,
};
action "shell", "file_read", "file_write", "web_fetch", "mcp_call", "other", "credential" appliesTo {
  principal: Assistant,
  resource: Target,
  context: Context,
};
"#;

/// The full schema text: [`SCHEMA`] plus the generated `Facts` type.
pub fn schema_text() -> String {
    let mut s = String::from(SCHEMA);
    s.push_str("type Facts = {\n");
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(Facts::default()) {
        for (name, value) in map {
            if name == "notes" {
                continue;
            }
            let ty = match value {
                serde_json::Value::Bool(_) => "Bool",
                serde_json::Value::Array(_) => "Set<String>",
                serde_json::Value::Number(_) => "Long",
                _ => "String",
            };
            s.push_str(&format!("  \"{name}\": {ty},\n"));
        }
    }
    s.push_str("};\n");
    s
}

/// One file of the pack.
#[derive(Debug, Clone)]
pub struct PackSource {
    pub name: String,
    pub text: String,
}

/// SHA-256 over the pack's file names and contents (sorted by name), hex.
pub fn pack_hash(sources: &[PackSource]) -> String {
    let mut sorted: Vec<&PackSource> = sources.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut h = Sha256::new();
    h.update(b"ward-pack-v1\n");
    h.update(schema_text().as_bytes());
    for s in sorted {
        h.update((s.name.len() as u64).to_be_bytes());
        h.update(s.name.as_bytes());
        h.update((s.text.len() as u64).to_be_bytes());
        h.update(s.text.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A problem found while compiling the pack: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackDiagnostic {
    /// File name, and the policy id when known.
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for PackDiagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Metadata of one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInfo {
    pub id: String,
    pub file: String,
    pub effect: String,
    pub outcome: String,
    pub actions: Vec<String>,
    pub reason: String,
}

/// A validated pack, split by action.
#[derive(Debug, Clone)]
pub struct CompiledPack {
    pub hash: String,
    /// Action name → every policy that can apply to it.
    pub slices: BTreeMap<String, Slice>,
    pub policies: Vec<PolicyInfo>,
}

/// The policies of one action, split by whether they can be skipped.
///
/// A **guarded** policy is one whose first condition is `when { context.facts.NAME … }` or
/// `when { context.facts.NAME && … }`. Cedar evaluates a policy as
/// `principal-scope && action-scope && resource-scope && when₁ && …`, left to right with
/// short-circuit, and the scope tests cannot fail; so when the fact NAME is false, such a policy
/// is neither satisfied nor an evaluation error, whatever else it says. The engine leaves those
/// policies out of the evaluation (and a hook does not even parse them): most calls fire no fact
/// at all, and then only the unguarded policies run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slice {
    /// Cedar text of the policies that always take part.
    pub always: String,
    /// Policies that take part only when their fact is true.
    pub guarded: Vec<Guarded>,
}

/// One guarded policy: its guard fact and its Cedar text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guarded {
    pub fact: String,
    pub text: String,
}

impl Slice {
    /// A slice of raw Cedar text with no guards (`Engine::from_slice`: tests and benches).
    pub fn unguarded(text: &str) -> Slice {
        Slice {
            always: text.to_string(),
            guarded: Vec::new(),
        }
    }

    /// The whole slice as one Cedar text, guards ignored.
    pub fn text(&self) -> String {
        let mut text = self.always.clone();
        for g in &self.guarded {
            text.push_str("\n\n");
            text.push_str(&g.text);
        }
        text
    }

    /// Number of policies (counted by their `@id`).
    pub fn len(&self) -> usize {
        self.always.matches("@id(").count() + self.guarded.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether any policy of the slice has `@id(ID)`.
    pub fn mentions(&self, needle: &str) -> bool {
        self.always.contains(needle) || self.guarded.iter().any(|g| g.text.contains(needle))
    }
}

/// The guard fact of a policy (see [`Slice`]): the leftmost conjunct of its first condition,
/// when that condition is a `when` and the conjunct reads `context.facts.NAME`. Read from
/// Cedar's JSON form of the policy, so comments and spacing cannot fool it.
pub fn guard_of(policy: &Policy) -> Option<String> {
    let est = policy.to_json().ok()?;
    let first = est.get("conditions")?.as_array()?.first()?;
    if first.get("kind")?.as_str()? != "when" {
        return None;
    }
    let mut body = first.get("body")?;
    while let Some(and) = body.get("&&") {
        body = and.get("left")?;
    }
    let outer = body.get(".")?;
    let name = outer.get("attr")?.as_str()?;
    let inner = outer.get("left")?.get(".")?;
    let on_context = inner.get("left")?.get("Var")?.as_str()? == "context";
    (on_context && inner.get("attr")?.as_str()? == "facts").then(|| name.to_string())
}

/// Parse every file, check annotations, validate strictly against the schema, split by action.
pub fn compile(sources: &[PackSource]) -> Result<CompiledPack, Vec<PackDiagnostic>> {
    let mut diags = Vec::new();
    let schema = match Schema::from_cedarschema_str(&schema_text()) {
        Ok((schema, _warnings)) => Some(schema),
        Err(e) => {
            diags.push(PackDiagnostic {
                location: "schema".into(),
                message: format!("built-in schema does not parse: {e}"),
            });
            None
        }
    };
    let mut all = PolicySet::new();
    let mut infos = Vec::new();
    let mut slices: BTreeMap<String, (Vec<String>, Vec<Guarded>)> = ACTIONS
        .iter()
        .map(|a| (a.to_string(), (Vec::new(), Vec::new())))
        .collect();
    let mut seen_ids = BTreeSet::new();
    let mut sorted: Vec<&PackSource> = sources.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for src in sorted {
        let set = match PolicySet::from_str(&src.text) {
            Ok(set) => set,
            Err(e) => {
                for err in e.iter() {
                    diags.push(PackDiagnostic {
                        location: src.name.clone(),
                        message: one_line(&err.to_string()),
                    });
                }
                continue;
            }
        };
        for policy in set.policies() {
            let Some(id) = policy.annotation("id").map(str::to_string) else {
                diags.push(PackDiagnostic {
                    location: src.name.clone(),
                    message: format!(
                        "a policy has no `@id(\"…\")` annotation: `{}`",
                        first_line(&policy.to_string())
                    ),
                });
                continue;
            };
            let location = format!("{}: policy `{id}`", src.name);
            if !seen_ids.insert(id.clone()) {
                diags.push(PackDiagnostic {
                    location,
                    message: "duplicate `@id`".into(),
                });
                continue;
            }
            let reason = policy.annotation("reason").unwrap_or_default().to_string();
            if reason.is_empty() {
                diags.push(PackDiagnostic {
                    location: location.clone(),
                    message:
                        "missing `@reason(\"…\")`: every policy needs a sentence a human can act on"
                            .into(),
                });
            }
            let effect = policy.effect().to_string();
            let outcome = match (effect.as_str(), policy.annotation("outcome")) {
                ("permit", None) => "allow".to_string(),
                ("permit", Some(o)) => {
                    diags.push(PackDiagnostic {
                        location: location.clone(),
                        message: format!(
                            "`@outcome(\"{o}\")` is only meaningful on forbid policies"
                        ),
                    });
                    "allow".to_string()
                }
                (_, None | Some("deny")) => "deny".to_string(),
                (_, Some("ask")) => "ask".to_string(),
                (_, Some(other)) => {
                    diags.push(PackDiagnostic {
                        location: location.clone(),
                        message: format!(
                            "unknown `@outcome(\"{other}\")`; use \"deny\" or \"ask\""
                        ),
                    });
                    "deny".to_string()
                }
            };
            match (outcome.as_str(), policy.annotation("approval")) {
                (_, None) | ("ask", Some("local" | "approver")) => {}
                ("ask", Some(other)) => diags.push(PackDiagnostic {
                    location: location.clone(),
                    message: format!(
                        "unknown `@approval(\"{other}\")`; use \"approver\" (the default) or \"local\""
                    ),
                }),
                (_, Some(_)) => diags.push(PackDiagnostic {
                    location: location.clone(),
                    message: "`@approval` is only meaningful on `@outcome(\"ask\")` policies".into(),
                }),
            }
            let actions = match policy.action_constraint() {
                ActionConstraint::Any => ACTIONS.iter().map(|s| s.to_string()).collect(),
                ActionConstraint::Eq(uid) => vec![uid.id().unescaped().to_string()],
                ActionConstraint::In(uids) => uids
                    .iter()
                    .map(|u| u.id().unescaped().to_string())
                    .collect(),
            };
            let text = policy.to_string();
            let guard = guard_of(policy);
            for a in &actions {
                match slices.get_mut(a) {
                    Some((always, guarded)) => match &guard {
                        Some(fact) => guarded.push(Guarded {
                            fact: fact.clone(),
                            text: text.clone(),
                        }),
                        None => always.push(text.clone()),
                    },
                    None => diags.push(PackDiagnostic {
                        location: location.clone(),
                        message: format!(
                            "unknown action `{a}`; actions are {}",
                            ACTIONS.join(", ")
                        ),
                    }),
                }
            }
            let renamed = policy.new_id(cedar_policy::PolicyId::new(&id));
            if let Err(e) = all.add(renamed) {
                diags.push(PackDiagnostic {
                    location: location.clone(),
                    message: e.to_string(),
                });
            }
            infos.push(PolicyInfo {
                id,
                file: src.name.clone(),
                effect,
                outcome,
                actions,
                reason,
            });
        }
    }
    if let Some(schema) = schema {
        let result = Validator::new(schema).validate(&all, ValidationMode::Strict);
        for e in result.validation_errors() {
            let id = e.policy_id().to_string();
            let file = infos
                .iter()
                .find(|i| i.id == id)
                .map(|i| i.file.clone())
                .unwrap_or_default();
            diags.push(PackDiagnostic {
                location: format!("{file}: policy `{id}`"),
                message: e.to_string(),
            });
        }
    }
    if infos.is_empty() && diags.is_empty() {
        diags.push(PackDiagnostic {
            location: "pack".into(),
            message: "the pack holds no policies; with none, every call is denied".into(),
        });
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(CompiledPack {
        hash: pack_hash(sources),
        slices: slices
            .into_iter()
            .map(|(k, (always, guarded))| {
                (
                    k,
                    Slice {
                        always: always.join("\n\n"),
                        guarded,
                    },
                )
            })
            .collect(),
        policies: infos,
    })
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(80)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(name: &str, text: &str) -> PackSource {
        PackSource {
            name: name.into(),
            text: text.into(),
        }
    }

    #[test]
    fn schema_parses_and_lists_every_fact() {
        let text = schema_text();
        assert!(Schema::from_cedarschema_str(&text).is_ok(), "{text}");
        assert!(text.contains("\"secret_to_network\": Bool"));
        assert!(text.contains("\"programs\": Set<String>"));
        assert!(!text.contains("\"notes\""));
    }

    #[test]
    fn splits_by_action_and_keeps_annotations() {
        let pack = compile(&[src(
            "a.cedar",
            r#"@id("base") @reason("everyday work") permit(principal, action, resource);
               @id("no-exfil") @reason("secrets must not leave") @outcome("deny")
               forbid(principal, action == Action::"shell", resource) when { context.facts.secret_to_network };"#,
        )])
        .unwrap();
        assert!(pack.slices["shell"].mentions("no-exfil"));
        assert!(!pack.slices["file_read"].mentions("no-exfil"));
        assert!(pack.slices["file_read"].mentions("base"));
        assert_eq!(pack.slices["shell"].guarded.len(), 1);
        assert_eq!(pack.slices["shell"].guarded[0].fact, "secret_to_network");
        assert_eq!(pack.policies.len(), 2);
    }

    #[test]
    fn rejects_missing_id_reason_unknown_attribute_and_bad_outcome() {
        let errs = compile(&[src(
            "b.cedar",
            r#"permit(principal, action, resource);
               @id("x") forbid(principal, action, resource);
               @id("y") @reason("r") forbid(principal, action, resource) when { context.facts.no_such_fact };
               @id("z") @reason("r") @outcome("maybe") forbid(principal, action, resource);"#,
        )])
        .unwrap_err();
        let all = errs
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(all.contains("no `@id"), "{all}");
        assert!(all.contains("missing `@reason"), "{all}");
        assert!(all.contains("policy `y`"), "{all}");
        assert!(all.contains("unknown `@outcome"), "{all}");
    }

    #[test]
    fn guard_is_the_leftmost_fact_of_the_first_when() {
        let guard = |cond: &str| {
            let text = format!("forbid(principal, action, resource) {cond};");
            let set = PolicySet::from_str(&text).unwrap();
            let policy = set.policies().next().unwrap();
            guard_of(policy)
        };
        let g = |s: &str| Some(s.to_string());
        assert_eq!(guard("when { context.facts.publish }"), g("publish"));
        assert_eq!(
            guard("when { context.facts.publish && context.facts.read_only }"),
            g("publish")
        );
        assert_eq!(
            guard("when { (context.facts.a && context.facts.b) && context.client == \"x\" }"),
            g("a")
        );
        assert_eq!(
            guard("when { context.facts.a } unless { context.facts.b }"),
            g("a")
        );
        assert_eq!(guard(""), None);
        assert_eq!(guard("when { context.facts.a || context.facts.b }"), None);
        assert_eq!(guard("when { !context.facts.a }"), None);
        assert_eq!(
            guard("when { context.client == \"x\" && context.facts.a }"),
            None
        );
        assert_eq!(guard("when { context.facts.hosts.contains(\"x\") }"), None);
        assert_eq!(
            guard("unless { context.facts.a } when { context.facts.b }"),
            None
        );
        assert_eq!(
            guard("when { context.facts has a && context.facts.a }"),
            None
        );
        assert_eq!(guard("when { principal.facts.a }"), None);
    }

    #[test]
    fn syntax_errors_name_the_file() {
        let errs = compile(&[src("c.cedar", "permit(principal, action")]).unwrap_err();
        assert!(errs.iter().all(|d| d.location == "c.cedar"));
    }

    #[test]
    fn hash_changes_with_content_not_order() {
        let a = [src("a", "x"), src("b", "y")];
        let b = [src("b", "y"), src("a", "x")];
        let c = [src("a", "x"), src("b", "z")];
        assert_eq!(pack_hash(&a), pack_hash(&b));
        assert_ne!(pack_hash(&a), pack_hash(&c));
    }
}
