//! MCP tool pinning against the store: a tool's definition is pinned the first time it is seen;
//! a different one later is held (removed from `tools/list`, its calls refused) until a person
//! accepts it with `ward mcp tools accept`; one that looks poisoned is flagged and held the same
//! way.

use serde_json::Value;
use ward_core::{Event, WardError};
use ward_mcp::pins;
use ward_store::conn::ConnRef;
use ward_store::pins::{self as store, Pin};
use ward_store::{append_err, read_err};

/// What seeing a `tools/list` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Tools held back from the client, with why.
    pub held: Vec<(String, String)>,
    /// What changed in the pins, for the audit log (`pinned fs/read_file`, …).
    pub changes: Vec<String>,
}

fn why(p: &Pin) -> String {
    let findings: Vec<String> = serde_json::from_str(&p.findings).unwrap_or_default();
    match p.state.as_str() {
        "changed" => format!(
            "the definition of `{}` changed since it was pinned{}; review it with `ward mcp tools diff {}` and accept it with `ward mcp tools accept {} {}`",
            p.tool,
            if findings.is_empty() {
                String::new()
            } else {
                format!(" and {}", findings.join("; "))
            },
            p.server,
            p.server,
            p.tool
        ),
        _ => format!(
            "the definition of `{}` looks poisoned ({}); review it with `ward mcp tools diff {}` and accept it with `ward mcp tools accept {} {}`",
            p.tool,
            findings.join("; "),
            p.server,
            p.server,
            p.tool
        ),
    }
}

/// Pin what is new, hold what changed or looks poisoned.
pub async fn observe(
    mut c: ConnRef<'_>,
    server: &str,
    tools: &[Value],
    now: u64,
) -> Result<Observed, WardError> {
    let names: Vec<&str> = tools
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .collect();
    let mut out = Observed::default();
    for tool in tools {
        let Some(name) = tool.get("name").and_then(Value::as_str) else {
            continue;
        };
        let hash = pins::definition_hash(tool);
        let definition = pins::definition(tool).to_string();
        let findings = pins::scan(tool, &names);
        let findings_json = serde_json::to_string(&findings).unwrap_or_else(|_| "[]".into());
        let current = store::get(c.reborrow(), server, name)
            .await
            .map_err(read_err)?;
        let next = match current {
            None => {
                let state = if findings.is_empty() {
                    "pinned"
                } else {
                    "flagged"
                };
                out.changes.push(format!("{state} {server}/{name}"));
                Pin {
                    server: server.into(),
                    tool: name.into(),
                    hash,
                    definition,
                    state: state.into(),
                    findings: findings_json,
                    pending_hash: None,
                    pending_definition: None,
                    first_seen_ms: now,
                    updated_ms: now,
                }
            }
            Some(p) if p.hash == hash => p,
            Some(p) if p.pending_hash.as_deref() == Some(hash.as_str()) => p,
            Some(p) => {
                out.changes.push(format!("changed {server}/{name}"));
                Pin {
                    state: "changed".into(),
                    findings: findings_json,
                    pending_hash: Some(hash),
                    pending_definition: Some(definition),
                    updated_ms: now,
                    ..p
                }
            }
        };
        if next.state != "pinned" {
            out.held.push((name.to_string(), why(&next)));
        }
        store::put(c.reborrow(), &next).await.map_err(append_err)?;
    }
    Ok(out)
}

/// Why a tool's calls are held, if they are.
pub async fn held(c: ConnRef<'_>, server: &str, tool: &str) -> Result<Option<String>, WardError> {
    let p = store::get(c, server, tool).await.map_err(read_err)?;
    Ok(p.filter(|p| p.state != "pinned").map(|p| why(&p)))
}

/// Accept the held definitions of a server's tools (all, or one): the pending definition
/// becomes the pin, a flagged one is trusted as it is. The tools accepted.
pub async fn accept(
    mut c: ConnRef<'_>,
    server: &str,
    tool: Option<&str>,
    now: u64,
) -> Result<Vec<String>, WardError> {
    let mut done = Vec::new();
    for p in store::of_server(c.reborrow(), server)
        .await
        .map_err(read_err)?
    {
        if p.state == "pinned" || tool.is_some_and(|t| t != p.tool) {
            continue;
        }
        let accepted = Pin {
            hash: p.pending_hash.clone().unwrap_or(p.hash.clone()),
            definition: p.pending_definition.clone().unwrap_or(p.definition.clone()),
            state: "pinned".into(),
            pending_hash: None,
            pending_definition: None,
            updated_ms: now,
            ..p
        };
        store::put(c.reborrow(), &accepted)
            .await
            .map_err(append_err)?;
        done.push(accepted.tool);
    }
    Ok(done)
}

/// A server's pins that are held, for `ward mcp tools diff`.
pub async fn held_pins(c: ConnRef<'_>, server: &str) -> Result<Vec<Pin>, WardError> {
    Ok(store::of_server(c, server)
        .await
        .map_err(read_err)?
        .into_iter()
        .filter(|p| p.state != "pinned")
        .collect())
}

/// The audit event of one pin change (`mcp pin pinned fs/read_file`), seen by `assistant`
/// (`kind@host/user`) through `user`'s session of `server`.
pub fn pin_event(change: &str, assistant: &str, server: &str, host: &str, user: &str) -> Event {
    let mut ev = crate::pipeline::bare_event(
        ward_core::EventKind::Lifecycle,
        assistant,
        &format!("mcp-{server}"),
        host,
        user,
    );
    ev.hook_event = "tools/list".into();
    ev.action_kind = Some("mcp_pin".into());
    ev.action = Some(format!("mcp pin {change}"));
    ev
}

/// The audit event of one listing served (`mcp tools/list fs: hidden [write_file]`).
pub fn list_event(
    method: &str,
    server: &str,
    hidden: &[String],
    assistant: &str,
    host: &str,
    user: &str,
) -> Event {
    let mut ev = pin_event("", assistant, server, host, user);
    ev.hook_event = method.to_string();
    ev.action_kind = Some("mcp_list".into());
    ev.action = Some(format!(
        "mcp {method} {server}: hidden [{}]",
        hidden.join(", ")
    ));
    ev
}

/// What the client is shown of a listing answer (`tools/list`, `prompts/list`,
/// `resources/list`): the list without the `hidden` items or, when they could not be checked, an
/// error in its place (unchecked items are never shown).
pub fn show(method: &str, answer: &mut Value, hidden: Result<Vec<String>, WardError>) {
    let Some((array, key)) = ward_mcp::jsonrpc::list_shape(method) else {
        return;
    };
    match hidden {
        Ok(hidden) => {
            if let Some(list) = answer
                .get_mut("result")
                .and_then(|r| r.get_mut(array))
                .and_then(Value::as_array_mut)
            {
                list.retain(|t| {
                    !t.get(key)
                        .and_then(Value::as_str)
                        .is_some_and(|n| hidden.iter().any(|h| h == n))
                });
            }
        }
        Err(e) => {
            let id = answer.get("id").cloned().unwrap_or(Value::Null);
            *answer = ward_mcp::jsonrpc::error(
                &id,
                -32603,
                &format!("ward could not check the listed items: {}", e.message),
            );
        }
    }
}

/// The items of a listing the policy refuses whatever the caller would choose (decided with no
/// arguments of the caller's): they are not shown. `denied(tool, arguments)` answers whether
/// that request is denied; an item is decided as the request that would use it (a tool as
/// itself, a prompt as `prompt:NAME`, a resource as `resource:URI` with its URI).
pub fn refused_outright(
    method: &str,
    answer: &Value,
    mut denied: impl FnMut(&str, &Value) -> Result<bool, WardError>,
) -> Result<Vec<String>, WardError> {
    let Some((array, key)) = ward_mcp::jsonrpc::list_shape(method) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let items = answer
        .get("result")
        .and_then(|r| r.get(array))
        .and_then(Value::as_array);
    for item in items.into_iter().flatten() {
        let Some(name) = item.get(key).and_then(Value::as_str) else {
            continue;
        };
        let (tool, args) = ward_mcp::jsonrpc::list_item_call(method, name);
        if denied(&tool, &args)? {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

/// Accept held definitions (all of a server's, or one tool's) and record each acceptance,
/// naming who accepted (`user:alice`, `os:dev`). The tools accepted.
pub async fn accept_recorded(
    mut c: ConnRef<'_>,
    signer: &ward_audit::NoteSigner,
    server: &str,
    tool: Option<&str>,
    by: &str,
) -> Result<Vec<String>, WardError> {
    let done = accept(c.reborrow(), server, tool, crate::pipeline::now_ms()).await?;
    let host = crate::ident::hostname();
    for t in &done {
        let mut ev = pin_event(
            &format!("accepted {server}/{t}"),
            &format!("ward@{host}/{by}"),
            server,
            &host,
            by,
        );
        ev.hook_event = "ward".into();
        crate::tasks::record(c.reborrow(), signer, &ev).await?;
    }
    Ok(done)
}

/// A server's held tools as `ward mcp tools diff --json` and the API show them.
pub fn held_json(server: &str, held: &[Pin]) -> Value {
    let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
    let v: Vec<Value> = held
        .iter()
        .map(|p| {
            serde_json::json!({"tool": p.tool, "state": p.state, "pinned": parse(&p.definition),
                "new": p.pending_definition.as_deref().map(parse),
                "findings": parse(&p.findings)})
        })
        .collect();
    serde_json::json!({"server": server, "held": v})
}
