//! `ward audit …`: verify, prove, check proofs, tail, export, trace.

use crate::home::Home;
use crate::output::cell;
use std::io::Read;
use std::path::Path;
use ward_audit::{ConsistencyBundle, InclusionBundle};
use ward_core::{ErrorCode, WardError};
use ward_store::{Store, StoredEvent};

/// The install's audit store: `database_url` from ward.toml / `WARD_DATABASE_URL`, else the
/// SQLite file in `$WARD_HOME`.
fn open() -> Result<(Home, Store), WardError> {
    let home = Home::resolve()?;
    let target = crate::people_cmd::target(&home)?;
    if let ward_store::Target::Sqlite(p) = &target
        && !p.exists()
    {
        return Err(WardError::new(
            ErrorCode::StoreOpen,
            format!(
                "no audit log at `{}`; run `ward init` or a hook first",
                p.display()
            ),
        ));
    }
    let store = Store::open_target(&target)?;
    Ok((home, store))
}

fn audit_err(e: ward_audit::AuditError) -> WardError {
    WardError::new(ErrorCode::AuditVerify, e.to_string())
}

pub fn verify(json: bool) -> Result<i32, WardError> {
    let (home, mut store) = open()?;
    let verifier = home.verifier()?;
    match ward_store::verify::verify(&mut store, &verifier) {
        Ok(s) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": true, "events": s.events, "checkpoints": s.checkpoints, "root": s.root_hex})
                );
            } else {
                println!(
                    "audit log intact: {} events, {} signed checkpoints verified, root {}",
                    s.events, s.checkpoints, s.root_hex
                );
            }
            Ok(0)
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": false, "code": e.code.as_str(), "error": e.message})
                );
            } else {
                eprintln!(
                    "error[{}]: audit log verification failed: {}",
                    e.code, e.message
                );
                eprintln!("  help: {}", e.code.help());
            }
            Ok(1)
        }
    }
}

pub fn prove(event_id: &str) -> Result<i32, WardError> {
    let (home, mut store) = open()?;
    let ev = store.event_by_id(event_id)?.ok_or_else(|| {
        WardError::new(
            ErrorCode::BadInput,
            format!("no event `{event_id}` in the audit log"),
        )
    })?;
    let cp = store
        .latest_checkpoint()?
        .ok_or_else(|| WardError::new(ErrorCode::AuditVerify, "the log has no checkpoint"))?;
    let leaves = store.leaf_hashes(cp.size)?;
    let proof = ward_audit::inclusion_proof(&leaves, ev.seq).map_err(audit_err)?;
    let leaf = ward_audit::leaf_hash(&ev.body);
    let bundle = InclusionBundle {
        leaf_index: ev.seq,
        leaf_hash: leaf,
        proof,
        checkpoint_note: cp.note,
        vkey: home.verifier()?.vkey(),
    };
    // Never hand out a proof that does not check.
    bundle.check().map_err(audit_err)?;
    print!("{}", bundle.to_text());
    Ok(0)
}

fn read_input(file: &Path) -> Result<String, WardError> {
    let mut s = String::new();
    if file == Path::new("-") {
        std::io::stdin()
            .take(1 << 20)
            .read_to_string(&mut s)
            .map_err(|e| WardError::new(ErrorCode::Io, format!("cannot read stdin: {e}")))?;
    } else {
        s = std::fs::read_to_string(file).map_err(|e| {
            WardError::new(
                ErrorCode::Io,
                format!("cannot read `{}`: {e}", file.display()),
            )
        })?;
    }
    Ok(s)
}

pub fn check_proof(file: &Path) -> Result<i32, WardError> {
    let text = read_input(file)?;
    // Trust the local verifier key when there is one; a bundle's own key proves nothing alone.
    let trusted = Home::resolve().ok().and_then(|h| h.verifier().ok());
    let result = if text.starts_with("ward-audit consistency bundle") {
        let b = ConsistencyBundle::from_text(&text)
            .map_err(|e| WardError::new(ErrorCode::BadInput, e.to_string()))?;
        let r = match &trusted {
            Some(v) => b.check_with(v),
            None => b.check(),
        };
        r.map(|_| {
            format!(
                "consistency proof valid: tree of {} extends tree of {}",
                b.new_size, b.old_size
            )
        })
    } else {
        let b = InclusionBundle::from_text(&text)
            .map_err(|e| WardError::new(ErrorCode::BadInput, e.to_string()))?;
        let r = match &trusted {
            Some(v) => b.check_with(v),
            None => b.check(),
        };
        r.map(|cp| {
            format!(
                "inclusion proof valid: leaf {} is in the signed tree of {} ({})",
                b.leaf_index, cp.size, cp.origin
            )
        })
    };
    match result {
        Ok(msg) => {
            println!("{msg}");
            if trusted.is_none() {
                println!(
                    "note: checked against the key inside the bundle; pass it a trusted $WARD_HOME to pin the key"
                );
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!(
                "error[{}]: proof does not verify: {e}",
                ErrorCode::AuditVerify
            );
            Ok(1)
        }
    }
}

pub fn consistency(old_size: u64, new_size: u64) -> Result<i32, WardError> {
    let (home, mut store) = open()?;
    if old_size == 0 || old_size > new_size {
        return Err(WardError::new(
            ErrorCode::BadInput,
            format!("need 0 < old-size <= new-size, got {old_size} and {new_size}"),
        ));
    }
    let old_cp = store.checkpoint_at(old_size)?;
    let new_cp = store.checkpoint_at(new_size)?.ok_or_else(|| {
        WardError::new(
            ErrorCode::BadInput,
            format!("no checkpoint for tree size {new_size}"),
        )
    })?;
    let leaves = store.leaf_hashes(new_size)?;
    let proof = ward_audit::consistency_proof(&leaves, old_size).map_err(audit_err)?;
    let old_root = ward_audit::root_from_leaf_hashes(&leaves[..old_size as usize]);
    if let Some(cp) = old_cp
        && cp.root.as_slice() != old_root.as_slice()
    {
        return Err(WardError::new(
            ErrorCode::AuditVerify,
            format!("checkpoint {old_size} does not match the stored events"),
        ));
    }
    let bundle = ConsistencyBundle {
        old_size,
        new_size,
        old_root,
        new_root: ward_audit::root_from_leaf_hashes(&leaves),
        proof,
        checkpoint_note: Some(new_cp.note),
        vkey: home.verifier()?.vkey(),
    };
    bundle.check().map_err(audit_err)?;
    print!("{}", bundle.to_text());
    Ok(0)
}

fn summary_line(ev: &StoredEvent) -> String {
    let v = ev.json().unwrap_or_default();
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let outcome = v
        .pointer("/decision/outcome")
        .and_then(|x| x.as_str())
        .unwrap_or("");
    format!(
        "{:>6}  {}  {}  {}  {}  {}  {}",
        ev.seq,
        cell(&s("ts"), 24),
        cell(&s("client"), 11),
        cell(&s("kind"), 9),
        cell(outcome, 5),
        cell(&s("tool_name"), 14),
        cell(&s("action"), 60)
    )
}

pub fn tail(n: u64, json: bool) -> Result<i32, WardError> {
    let (_, mut store) = open()?;
    for ev in store.tail(n)? {
        if json {
            println!("{}", String::from_utf8_lossy(&ev.body));
        } else {
            println!("{}", summary_line(&ev));
        }
    }
    Ok(0)
}

/// An OCSF-shaped record (API Activity, class 6003) carrying the full ward event.
fn ocsf(ev: &StoredEvent) -> Result<serde_json::Value, WardError> {
    let v = ev.json()?;
    let outcome = v.pointer("/decision/outcome").and_then(|x| x.as_str());
    let (disposition_id, disposition) = match outcome {
        Some("allow") => (1, "Allowed"),
        Some("deny") => (2, "Blocked"),
        Some("ask") => (10, "Pending approval"),
        _ => (0, "Unknown"),
    };
    Ok(serde_json::json!({
        "id": v.get("id"),
        "seq": ev.seq,
        "time": v.get("ts"),
        "class_uid": 6003,
        "class_name": "API Activity",
        "category_uid": 6,
        "category_name": "Application Activity",
        "activity_name": v.get("kind"),
        "severity_id": if outcome == Some("deny") { 3 } else { 1 },
        "disposition_id": disposition_id,
        "disposition": disposition,
        "actor": {
            "user": {"name": v.get("human")},
            "app_name": v.get("client"),
            "session": {"uid": v.get("session_id")},
            "invoked_by": v.get("assistant"),
        },
        "api": {"operation": v.get("tool_name"), "request": {"uid": v.get("tool_use_id")}},
        "device": {"hostname": v.get("host")},
        "metadata": {"product": {"name": "ward", "vendor_name": "ward"}, "version": "1.5.0", "log_name": "audit", "sequence": ev.seq},
        "message": v.pointer("/decision/reason"),
        "unmapped": v,
    }))
}

pub fn export(format: &str) -> Result<i32, WardError> {
    if format != "jsonl" {
        return Err(WardError::new(
            ErrorCode::BadInput,
            format!("unknown export format `{format}`; supported: jsonl"),
        ));
    }
    let (_, mut store) = open()?;
    let mut from = 0;
    loop {
        let rows = store.events(from, 2000)?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            break;
        };
        for ev in &rows {
            println!("{}", ocsf(ev)?);
        }
        from = last + 1;
    }
    Ok(0)
}

pub fn trace(what: &str, json: bool) -> Result<i32, WardError> {
    let (_, mut store) = open()?;
    let is_sha = what.len() >= 7 && what.len() <= 64 && what.chars().all(|c| c.is_ascii_hexdigit());
    let effects = if is_sha {
        store.effects_by_commit(what)?
    } else {
        let p = Path::new(what);
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| WardError::new(ErrorCode::Io, format!("no current directory: {e}")))?
                .join(p)
        };
        store.effects_by_path(&abs.display().to_string())?
    };
    if effects.is_empty() {
        eprintln!(
            "error[{}]: no recorded call produced `{what}`",
            ErrorCode::BadInput
        );
        eprintln!(
            "  help: give a commit SHA (7+ hex digits) or a file path changed by a governed call"
        );
        return Ok(1);
    }
    for eff in effects {
        let e = eff.json()?;
        let decision = match e.get("decision_event").and_then(|x| x.as_str()) {
            Some(id) => store.event_by_id(id)?.map(|d| d.json()).transpose()?,
            None => None,
        };
        if json {
            println!("{}", serde_json::json!({"effect": e, "decision": decision}));
            continue;
        }
        let g = |v: &serde_json::Value, p: &str| {
            v.pointer(p)
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                })
                .unwrap_or_else(|| "-".into())
        };
        println!(
            "effect     {} (seq {}) at {}",
            g(&e, "/id"),
            eff.seq,
            g(&e, "/ts")
        );
        if let Some(c) = e.pointer("/effect/git") {
            println!(
                "git        {} {} {}",
                g(c, "/verb"),
                g(c, "/commit"),
                g(c, "/ref")
            );
        }
        println!("call       {} `{}`", g(&e, "/tool_name"), g(&e, "/action"));
        println!("assistant  {}", g(&e, "/assistant"));
        println!("human      {} on {}", g(&e, "/human"), g(&e, "/host"));
        println!("session    {}", g(&e, "/session_id"));
        match decision {
            Some(d) => {
                println!(
                    "decision   {} {} by {}",
                    g(&d, "/id"),
                    g(&d, "/decision/outcome"),
                    g(&d, "/decision/policies")
                );
                println!("reason     {}", g(&d, "/decision/reason"));
            }
            None => {
                println!("decision   none linked (the pre-tool hook did not run for this call)")
            }
        }
        println!();
    }
    Ok(0)
}
