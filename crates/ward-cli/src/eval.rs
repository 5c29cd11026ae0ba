//! `ward eval` and `ward explain`: the hook path, run on labelled cases or one payload.

use crate::home::Home;
use crate::pipeline::{Runtime, handle};
use std::io::Read;
use std::path::{Path, PathBuf};
use ward_core::{ClientKind, ErrorCode, WardError};

/// A throw-away `$WARD_HOME`, removed on drop.
pub struct TempHome {
    dir: PathBuf,
}

impl TempHome {
    /// A fresh home; with `policies`, that directory's `*.cedar` files replace the default pack.
    pub fn new(policies: Option<&Path>) -> Result<TempHome, WardError> {
        let mut r = [0u8; 8];
        let _ = rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut r);
        let dir =
            std::env::temp_dir().join(format!("ward-{}-{}", std::process::id(), hex::encode(r)));
        let home = Home::at(&dir);
        if let Some(p) = policies {
            let sources = crate::home::read_pack_dir(p)?;
            std::fs::create_dir_all(home.policies_dir()).map_err(|e| {
                WardError::new(
                    ErrorCode::Io,
                    format!("cannot create `{}`: {e}", dir.display()),
                )
            })?;
            for s in sources {
                std::fs::write(home.policies_dir().join(&s.name), &s.text).map_err(|e| {
                    WardError::new(ErrorCode::Io, format!("cannot write policy copy: {e}"))
                })?;
            }
        }
        home.init()?;
        Ok(TempHome { dir })
    }

    pub fn home(&self) -> Home {
        Home::at(&self.dir)
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub use ward_clients::client_verdict;

#[derive(serde::Deserialize)]
struct Row {
    id: String,
    label: String,
    expected: String,
    client: String,
    event: serde_json::Value,
    #[serde(default)]
    hook_event: Option<String>,
}

pub fn eval(corpus: &Path, show: bool, json: bool) -> Result<i32, WardError> {
    let text = std::fs::read_to_string(corpus).map_err(|e| {
        WardError::new(
            ErrorCode::Io,
            format!("cannot read `{}`: {e}", corpus.display()),
        )
    })?;
    let mut rows = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let row: Row = serde_json::from_str(line).map_err(|e| {
            WardError::new(
                ErrorCode::BadInput,
                format!("`{}` line {}: {e}", corpus.display(), i + 1),
            )
        })?;
        rows.push(row);
    }
    let tmp = TempHome::new(None)?;
    let mut rt = Runtime::new(tmp.home(), true);
    let (mut mal, mut ben, mut caught, mut exact, mut hardfp, mut friction, mut failopen) =
        (0, 0, 0, 0, 0, 0, 0);
    for r in &rows {
        let client: ClientKind = r.client.parse().map_err(|m: String| {
            WardError::new(ErrorCode::BadInput, format!("case `{}`: {m}", r.id))
        })?;
        let payload = serde_json::to_vec(&r.event).unwrap_or_default();
        let h = handle(&mut rt, client, &payload, r.hook_event.as_deref());
        let got = client_verdict(client, &h.reply);
        if got == "failopen" {
            failopen += 1;
        }
        let malicious = r.label == "malicious";
        if malicious {
            mal += 1;
            if got == "deny" || got == "ask" {
                caught += 1;
            }
            if got == r.expected {
                exact += 1;
            }
        } else {
            ben += 1;
            if got == "deny" {
                hardfp += 1;
            }
            if got == "ask" && r.expected == "allow" {
                friction += 1;
            }
        }
        let reason = h
            .decision
            .as_ref()
            .map(|d| d.reason.clone())
            .unwrap_or_default();
        if json {
            println!(
                "{}",
                serde_json::json!({"id": r.id, "label": r.label, "expected": r.expected, "got": got, "reason": reason})
            );
        } else if show && got != r.expected {
            println!(
                "  {:<8} {:<11} {:<9} want {:<5} got {:<8} {}",
                r.id, r.client, r.label, r.expected, got, reason
            );
        }
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    let summary = format!(
        "cases {}: catch {}/{} = {:.1}% (exact {:.1}%); hard-fp {}/{} = {:.1}%; friction {}/{} = {:.1}%; fail-open {}",
        rows.len(),
        caught,
        mal,
        pct(caught, mal),
        pct(exact, mal),
        hardfp,
        ben,
        pct(hardfp, ben),
        friction,
        ben,
        pct(friction, ben),
        failopen
    );
    if json {
        println!(
            "{}",
            serde_json::json!({"summary": summary, "cases": rows.len(), "catch_rate": pct(caught, mal) / 100.0,
                "hard_false_positive_rate": pct(hardfp, ben) / 100.0, "friction_rate": pct(friction, ben) / 100.0, "fail_open": failopen})
        );
    } else {
        println!("{summary}");
    }
    Ok(0)
}

pub fn explain(client: ClientKind, event: Option<&str>, json: bool) -> Result<i32, WardError> {
    let mut buf = Vec::new();
    std::io::stdin()
        .take(ward_clients::MAX_PAYLOAD_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| WardError::new(ErrorCode::Io, format!("cannot read stdin: {e}")))?;
    let home = Home::resolve()?;
    home.init()?;
    let mut rt = Runtime::new(home, false);
    let h = handle(&mut rt, client, &buf, event);
    let call = h.event.as_ref().and_then(|e| e.call.clone());
    if json {
        println!(
            "{}",
            serde_json::json!({
                "event": h.event.as_ref().map(|e| e.event_name.clone()),
                "kind": h.event.as_ref().map(|e| format!("{:?}", e.kind)),
                "call": call,
                "facts": h.facts,
                "decision": h.decision,
                "reply": {"exit_code": h.reply.exit_code, "stdout": h.reply.stdout, "stderr": h.reply.stderr},
                "client_reads_it_as": client_verdict(client, &h.reply),
            })
        );
        return Ok(0);
    }
    if let Some(ev) = &h.event {
        println!("event      {} ({:?})", ev.event_name, ev.kind);
    }
    if let Some(c) = &call {
        println!("assistant  {}", c.assistant.id());
        println!(
            "action     {} via `{}`: {}",
            c.action.kind(),
            c.tool_name,
            c.action.summary()
        );
        println!(
            "cwd        {}  (repo {})",
            c.cwd,
            c.repo_root.as_deref().unwrap_or("-")
        );
    }
    if let Some(f) = &h.facts {
        if !f.programs.is_empty() {
            println!(
                "programs   {}",
                f.programs.iter().cloned().collect::<Vec<_>>().join(" ")
            );
        }
        let fired = ward_policy::engine::fired_facts(f);
        println!(
            "facts      {}",
            if fired.is_empty() {
                "(none)".to_string()
            } else {
                fired.join(", ")
            }
        );
        for n in &f.notes {
            println!("           - {n}");
        }
    }
    if let Some(d) = &h.decision {
        println!("decision   {} by [{}]", d.outcome, d.policies.join(", "));
        println!("reason     {}", d.reason);
    }
    println!(
        "reply      exit {}; stdout {}; the client reads it as {}",
        h.reply.exit_code,
        if h.reply.stdout.is_empty() {
            "(empty)".to_string()
        } else {
            h.reply.stdout.trim().to_string()
        },
        client_verdict(client, &h.reply)
    );
    Ok(0)
}
