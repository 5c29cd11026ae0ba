//! `ward policy check | test | list`.

use crate::home::{Home, read_pack_dir};
use crate::pipeline::{Runtime, handle};
use std::path::{Path, PathBuf};
use ward_core::{ClientKind, ErrorCode, WardError};
use ward_policy::pack::compile;

fn pack_dir(dir: Option<PathBuf>) -> Result<PathBuf, WardError> {
    match dir {
        Some(d) => Ok(d),
        None => {
            let home = Home::resolve()?;
            home.init()?;
            Ok(home.policies_dir())
        }
    }
}

pub fn check(dir: Option<PathBuf>, json: bool) -> Result<i32, WardError> {
    let dir = pack_dir(dir)?;
    let sources = read_pack_dir(&dir)?;
    match compile(&sources) {
        Ok(pack) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": true, "policies": pack.policies.len(), "hash": pack.hash})
                );
            } else {
                let per: Vec<String> = pack
                    .slices
                    .iter()
                    .map(|(a, t)| format!("{a} {}", t.len()))
                    .collect();
                println!(
                    "policy pack `{}` is valid: {} policies in {} files (per action: {})",
                    dir.display(),
                    pack.policies.len(),
                    sources.len(),
                    per.join(", ")
                );
            }
            Ok(0)
        }
        Err(diags) => {
            if json {
                let d: Vec<_> = diags
                    .iter()
                    .map(|d| serde_json::json!({"location": d.location, "message": d.message}))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({"ok": false, "code": ErrorCode::PolicyInvalid.as_str(), "diagnostics": d})
                );
            } else {
                for d in &diags {
                    eprintln!(
                        "error[{}]: {}: {}",
                        ErrorCode::PolicyInvalid,
                        d.location,
                        d.message
                    );
                }
                eprintln!(
                    "  help: the schema is printed by `ward policy schema`; every policy needs @id and @reason"
                );
            }
            Ok(1)
        }
    }
}

pub fn list(dir: Option<PathBuf>, json: bool) -> Result<i32, WardError> {
    let dir = pack_dir(dir)?;
    let pack = crate::home::compile_sources(&read_pack_dir(&dir)?)?;
    for p in &pack.policies {
        if json {
            println!(
                "{}",
                serde_json::json!({"id": p.id, "file": p.file, "outcome": p.outcome, "actions": p.actions, "reason": p.reason})
            );
        } else {
            println!(
                "{:<28} {:<6} {:<40} {}",
                p.id,
                p.outcome,
                p.actions.join(","),
                p.reason
            );
        }
    }
    Ok(0)
}

/// One policy test case.
#[derive(serde::Deserialize)]
struct Case {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    id: Option<String>,
    client: String,
    #[serde(default)]
    hook_event: Option<String>,
    event: serde_json::Value,
    expected: String,
}

fn load_cases(dir: &Path) -> Result<Vec<(String, Case)>, WardError> {
    let bad = |p: &Path, e: &dyn std::fmt::Display| {
        WardError::new(
            ErrorCode::BadInput,
            format!("test case file `{}`: {e}", p.display()),
        )
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| bad(dir, &e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("json" | "jsonl")
            )
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| bad(&f, &e))?;
        let docs: Vec<String> = if f.extension().and_then(|e| e.to_str()) == Some("jsonl") {
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect()
        } else {
            vec![text]
        };
        for (i, d) in docs.iter().enumerate() {
            let case: Case =
                serde_json::from_str(d).map_err(|e| bad(&f, &format!("case {}: {e}", i + 1)))?;
            let label = case
                .name
                .clone()
                .or_else(|| case.id.clone())
                .unwrap_or_else(|| {
                    format!(
                        "{}#{}",
                        f.file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        i + 1
                    )
                });
            out.push((label, case));
        }
    }
    if out.is_empty() {
        return Err(WardError::new(
            ErrorCode::BadInput,
            format!("no test cases (*.json, *.jsonl) in `{}`", dir.display()),
        ));
    }
    Ok(out)
}

pub fn test(dir: &Path, policies: Option<PathBuf>, json: bool) -> Result<i32, WardError> {
    let cases = load_cases(dir)?;
    let tmp = crate::eval::TempHome::new(policies.as_deref())?;
    let mut rt = Runtime::new(tmp.home(), false);
    let mut failed = 0;
    for (label, case) in &cases {
        let client: ClientKind = case.client.parse().map_err(|m: String| {
            WardError::new(ErrorCode::BadInput, format!("case `{label}`: {m}"))
        })?;
        let payload = serde_json::to_vec(&case.event).unwrap_or_default();
        let h = handle(&mut rt, client, &payload, case.hook_event.as_deref());
        let got = h
            .decision
            .as_ref()
            .map(|d| d.outcome.as_str())
            .unwrap_or("error");
        let ok = got == case.expected;
        if !ok {
            failed += 1;
        }
        let reason = h
            .decision
            .as_ref()
            .map(|d| d.reason.clone())
            .unwrap_or_else(|| h.reply.stderr.clone());
        if json {
            println!(
                "{}",
                serde_json::json!({"case": label, "expected": case.expected, "got": got, "ok": ok, "reason": reason})
            );
        } else if !ok {
            println!(
                "FAIL {label}: expected {} got {got}: {reason}",
                case.expected
            );
        }
    }
    if !json {
        println!("{} passed, {} failed", cases.len() - failed, failed);
    }
    Ok(if failed == 0 { 0 } else { 1 })
}
