//! `ward assistant register|list|show|approve|suspend|resume|retire`: the registry, administered
//! by the owner of `$WARD_HOME` directly against its store (as `ward user add` is).

use crate::output::cell;
use crate::people_cmd::with_store;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use ward_core::event::date_ms;
use ward_core::{ErrorCode, WardError};
use ward_policy::Engine;
use ward_server::assistants::{self, Change, Registration, Undo};
use ward_store::registry::{Assistant, Status};

/// Who made a change from the command line: the OS user (the owner of the home).
fn by() -> String {
    format!("os:{}", ward_server::ident::os_user())
}

/// `YYYY-MM-DD` → Unix ms, or a clear error.
pub fn review_by(date: Option<&str>) -> Result<Option<u64>, WardError> {
    date.map(|d| {
        date_ms(d).ok_or_else(|| {
            WardError::new(
                ErrorCode::BadInput,
                format!("`{d}` is not a date; give the review date as YYYY-MM-DD"),
            )
        })
    })
    .transpose()
}

/// The home's signing key, for registry events (`with_store` has created it on a fresh home).
fn signer() -> Result<ward_audit::NoteSigner, WardError> {
    ward_server::home::Home::resolve()?.signer()
}

/// Record `a`'s change in the audit log; if it cannot be recorded, take it back (`undo`) and
/// fail, so that no change stands unaudited.
async fn record_or_undo(
    c: &mut ward_store::Conn,
    a: &Assistant,
    verb: &str,
    undo: assistants::Undo,
    by: &str,
) -> Result<(), WardError> {
    let recorded = match signer() {
        Ok(signer) => assistants::record_change(c.r(), &signer, a, verb, by).await,
        Err(e) => Err(e),
    };
    match recorded {
        Ok(()) => Ok(()),
        Err(e) => Err(assistants::undo_unrecorded(c.r(), a, undo, e).await),
    }
}

/// Tell a running daemon that the registry changed (it drops what it remembers). Called after
/// every registry command, whether or not it changed anything.
fn stamp<T>(result: Result<T, WardError>) -> Result<T, WardError> {
    let touched = ward_server::home::Home::resolve().and_then(|h| h.touch_registry());
    let value = result?;
    touched.map_err(|e| {
        WardError::new(
            e.code,
            format!(
                "the registry changed, but a running `ward serve` cannot be told (restart it): {}",
                e.message
            ),
        )
    })?;
    Ok(value)
}

/// Tell every daemon on a Postgres store that the registry changed (SQLite: the stamp does).
async fn announce(c: &mut ward_store::Conn) -> Result<(), WardError> {
    ward_store::registry::announce_change(c.r())
        .await
        .map_err(|e| {
            WardError::new(
                ErrorCode::AuditAppend,
                format!(
                    "the registry changed, but running daemons on the database cannot be told (restart them): {e}"
                ),
            )
        })
}

pub fn register(r: Registration, json_out: bool) -> Result<i32, WardError> {
    let by = by();
    let a = stamp(with_store(async |c| {
        let a = assistants::register(c.r(), &r, &by).await?;
        record_or_undo(c, &a, "register", Undo::Status(Status::Retired), &by).await?;
        announce(c).await?;
        Ok(a)
    }))?;
    if json_out {
        println!("{}", json!({"id": a.id, "status": a.status.as_str()}));
    } else {
        println!(
            "registered `{}` ({}@{}/{}), owned by {}: {} is {}",
            a.name,
            a.kind,
            a.host,
            a.os_user,
            a.owner.as_deref().unwrap_or("nobody"),
            a.id,
            a.status.as_str()
        );
    }
    Ok(0)
}

/// `stale`: only the stale ones, counting `Some(days)` without a call as unused.
pub fn list(json_out: bool, stale: Option<u64>) -> Result<i32, WardError> {
    let (all, users) = with_store(async |c| {
        let all = ward_store::registry::list(c.r())
            .await
            .map_err(ward_store::read_err)?;
        let users = ward_store::people::users(c.r())
            .await
            .map_err(ward_store::read_err)?;
        Ok((all, users))
    })?;
    let rows = assistants::listing(&all, &users, ward_server::service::now_ms(), stale);
    let all: Vec<&Assistant> = rows.iter().map(|(a, _)| *a).collect();
    let risks = risks(&all)?;
    if json_out {
        let v: Vec<Value> = rows
            .iter()
            .zip(&risks)
            .map(|((a, why), risk)| {
                let mut v = assistants::to_json(a);
                v["risk"] = risk.json();
                if stale.is_some() {
                    v["stale"] = json!(why);
                }
                v
            })
            .collect();
        println!("{}", json!({ "assistants": v }));
    } else if all.is_empty() && stale.is_some() {
        println!("no stale assistants");
    } else if all.is_empty() {
        println!(
            "no assistants registered; register one with `ward assistant register NAME --kind claude-code --owner USER`"
        );
    } else {
        println!(
            "{} {} {} {} {} {} OWNER",
            cell("ID", 25),
            cell("NAME", 20),
            cell("STATUS", 10),
            cell("KIND", 12),
            cell("IDENTITY", 34),
            cell("RISK", 20)
        );
        for ((a, why), risk) in rows.iter().zip(&risks) {
            println!(
                "{} {} {} {} {} {} {}",
                cell(&a.id, 25),
                cell(&a.name, 20),
                cell(a.status.as_str(), 10),
                cell(&a.kind, 12),
                cell(&format!("{}@{}/{}", a.kind, a.host, a.os_user), 34),
                cell(risk.tier, 20),
                a.owner.as_deref().unwrap_or("-")
            );
            if !why.is_empty() {
                println!("  stale: {}", why.join("; "));
            }
        }
    }
    Ok(0)
}

pub fn update(id: &str, u: &assistants::Update, json_out: bool) -> Result<i32, WardError> {
    let by = by();
    let a = stamp(with_store(async |c| {
        let (before, after) = assistants::update(c.r(), id, u).await?;
        record_or_undo(c, &after, "update", Undo::Fields(Box::new(before)), &by).await?;
        announce(c).await?;
        Ok(after)
    }))?;
    if json_out {
        println!("{}", assistants::to_json(&a));
    } else {
        println!("`{}` ({}) updated", a.name, a.id);
    }
    Ok(0)
}

/// Each assistant's risk tier under the policy and settings as they are now (each action's
/// engine loaded once for all of them).
fn risks(all: &[&Assistant]) -> Result<Vec<assistants::Risk>, WardError> {
    let home = ward_server::home::Home::resolve()?;
    let pending = ward_server::serve::settings(&home, &ward_server::config::Flags::default())?
        .enrollment
        .pending;
    let engines: RefCell<HashMap<&'static str, Arc<Engine>>> = RefCell::default();
    let engine = |kind: &'static str| -> Result<Arc<Engine>, WardError> {
        if let Some(e) = engines.borrow().get(kind) {
            return Ok(e.clone());
        }
        let e = Arc::new(home.engine(kind)?);
        engines.borrow_mut().insert(kind, e.clone());
        Ok(e)
    };
    all.iter()
        .map(|a| assistants::risk(&engine, a, pending))
        .collect()
}

pub fn show(id: &str, json_out: bool) -> Result<i32, WardError> {
    let a = with_store(async |c| assistants::get(c.r(), id).await)?;
    let mut v = assistants::to_json(&a);
    for risk in risks(&[&a])? {
        v["risk"] = risk.json();
    }
    if json_out {
        println!("{v}");
    } else if let Value::Object(map) = v {
        for (k, v) in map {
            let shown = match v {
                Value::String(s) => s,
                Value::Null => "-".to_string(),
                other => other.to_string(),
            };
            println!("{} {shown}", cell(&k, 18));
        }
    }
    Ok(0)
}

pub fn change(
    id: &str,
    change: Change,
    owner: Option<&str>,
    json_out: bool,
) -> Result<i32, WardError> {
    let by = by();
    let a = stamp(with_store(async |c| {
        let before = assistants::get(c.r(), id).await?.status;
        let a = assistants::change(c.r(), id, change, owner, &by).await?;
        record_or_undo(c, &a, change.verb(), Undo::Status(before), &by).await?;
        announce(c).await?;
        // A suspended or retired assistant holds nothing: its tasks end, its leases are revoked.
        let ended = if matches!(change, Change::Suspend | Change::Retire) {
            let reason = format!("assistant {}", a.status.as_str());
            crate::task_cmd::end_of_assistant(c, &a.id, &reason).await?
        } else {
            ward_server::tasks::Ended::default()
        };
        Ok((a, ended))
    }))?;
    let (a, ended) = a;
    if json_out {
        println!(
            "{}",
            json!({"id": a.id, "status": a.status.as_str(), "ended_tasks": ended.tasks, "revoked_leases": ended.revoked_json()})
        );
    } else {
        println!("`{}` ({}) is {}", a.name, a.id, a.status.as_str());
        crate::task_cmd::print_ended(&ended);
    }
    Ok(0)
}
