//! The one decision path: payload → HookEvent → facts → Cedar → audit append → client reply.
//! `ward hook`, `ward eval`, `ward demo`, `ward explain` and `ward policy test` all go through
//! [`handle`], so what they report is what a hook does.

use crate::home::Home;
use crate::ident;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};
use ward_audit::NoteSigner;
use ward_clients::{Origin, Reply};
use ward_core::event::{EffectRecord, FileChange, GitEffect, event_id, rfc3339_ms};
use ward_core::{
    Action, ClientKind, Decision, ErrorCode, Event, EventKind, HookEvent, HookKind, ToolCall,
    WardError,
};
use ward_policy::{Facts, NormalizeEnv};
use ward_store::Store;

/// Largest file ward hashes when recording an effect.
const MAX_HASH_BYTES: u64 = 64 << 20;

/// State for handling hook payloads.
pub struct Runtime {
    pub home: Home,
    pub origin: Origin,
    /// Append events to the audit log (false for `ward explain`).
    pub record: bool,
    pub allow_hosts: Vec<String>,
    store: Option<Store>,
    signer: Option<NoteSigner>,
}

/// What handling one payload produced.
pub struct Handled {
    pub reply: Reply,
    pub event: Option<HookEvent>,
    pub decision: Option<Decision>,
    pub facts: Option<Facts>,
    pub event_id: Option<String>,
}

impl Runtime {
    pub fn new(home: Home, record: bool) -> Runtime {
        Runtime {
            home,
            origin: Origin {
                host: ident::hostname(),
                os_user: ident::os_user(),
            },
            record,
            allow_hosts: ward_policy::normalize::default_allow_hosts(),
            store: None,
            signer: None,
        }
    }

    fn store(&mut self) -> Result<&mut Store, WardError> {
        if self.store.is_none() {
            self.store = Some(Store::open(&self.home.db_path())?);
        }
        self.store
            .as_mut()
            .ok_or_else(|| WardError::new(ErrorCode::StoreOpen, "audit store unavailable"))
    }

    fn append(&mut self, event: &Event) -> Result<(), WardError> {
        if !self.record {
            return Ok(());
        }
        if self.signer.is_none() {
            self.signer = Some(self.home.signer()?);
        }
        let signer = self
            .signer
            .take()
            .ok_or_else(|| WardError::new(ErrorCode::AuditAppend, "no signing key"))?;
        let origin = signer.name().to_string();
        let res = self.store().and_then(|s| s.append(event, &signer, &origin));
        self.signer = Some(signer);
        res.map(|_| ())
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn new_event_id() -> String {
    let mut r = [0u8; 10];
    // An id collision only makes the append fail (UNIQUE), which fails closed.
    let _ = rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut r);
    event_id(now_ms(), r)
}

/// Fill what the adapter cannot know: the repository root.
fn enrich(call: &mut ToolCall) {
    if call.repo_root.is_none() && !call.cwd.is_empty() {
        call.repo_root = ident::repo_root(Path::new(&call.cwd)).map(|p| p.display().to_string());
    }
}

/// The derived facts of one call.
pub fn facts_for(rt: &Runtime, call: &ToolCall) -> Facts {
    let env = NormalizeEnv {
        home: ident::home_dir(),
        cwd: call.cwd.clone(),
        repo_root: call.repo_root.clone(),
        allow_hosts: rt.allow_hosts.clone(),
    };
    ward_policy::normalize::normalize(call, &env)
}

/// The decision path of a short-lived hook process: opening the audit store, loading the
/// policy slice and normalizing the call do not depend on each other, so they run side by side
/// (measured: each costs about a millisecond in a fresh process). A panic in a helper thread is
/// an error, never an allow.
fn decide_overlapped(rt: &mut Runtime, call: &ToolCall) -> (Result<Decision, WardError>, Facts) {
    let panicked = |what: &str| {
        WardError::new(
            ErrorCode::InternalPanic,
            format!("{what} failed unexpectedly"),
        )
    };
    let open_store = rt.record && rt.store.is_none();
    let db = rt.home.db_path();
    let home = rt.home.clone();
    let kind = call.action.kind();
    let (store, engine, facts) = std::thread::scope(|s| {
        let store = open_store.then(|| s.spawn(|| Store::open(&db)));
        let engine = s.spawn(|| home.engine(kind));
        let facts = facts_for(rt, call);
        let engine = engine
            .join()
            .unwrap_or_else(|_| Err(panicked("loading the policy")));
        let store = store.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(panicked("opening the audit log")))
        });
        (store, engine, facts)
    });
    match store {
        Some(Ok(st)) => rt.store = Some(st),
        Some(Err(e)) => return (Err(e), facts),
        None => {}
    }
    let decision = engine.and_then(|engine| ward_policy::decide(&engine, call, &facts));
    (decision, facts)
}

fn base_event(ev: &HookEvent, kind: EventKind, origin: &Origin) -> Event {
    let call = ev.call.as_ref();
    Event {
        id: new_event_id(),
        ts: rfc3339_ms(now_ms()),
        kind,
        client: ev.client,
        hook_event: ev.event_name.clone(),
        assistant: call.map(|c| c.assistant.id()).unwrap_or_else(|| {
            format!("{}@{}/{}", ev.client.as_str(), origin.host, origin.os_user)
        }),
        human: origin.os_user.clone(),
        host: origin.host.clone(),
        session_id: ev.session_id.clone(),
        tool_use_id: call.and_then(|c| c.tool_use_id.clone()),
        agent_id: call.and_then(|c| c.agent_id.clone()),
        tool_name: call.map(|c| c.tool_name.clone()),
        action_kind: call.map(|c| c.action.kind().to_string()),
        action: call.map(|c| truncate(&c.action.summary(), 4096)),
        input_hash: call.map(|c| ward_core::canonical::canonical_hash(&c.input)),
        cwd: ev.cwd.clone(),
        repo_root: call.and_then(|c| c.repo_root.clone()),
        decision: None,
        effect: None,
        decision_event: None,
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push('…');
    t
}

/// Handle one payload end to end.
pub fn handle(rt: &mut Runtime, client: ClientKind, payload: &[u8], hint: Option<&str>) -> Handled {
    let mut ev = match ward_clients::parse(client, payload, hint, &rt.origin) {
        Ok(ev) => ev,
        Err(e) => {
            return Handled {
                reply: ward_clients::render_error(client, hint, &e),
                event: None,
                decision: None,
                facts: None,
                event_id: None,
            };
        }
    };
    if let Some(call) = ev.call.as_mut() {
        enrich(call);
    }
    match ev.kind {
        HookKind::PreTool | HookKind::PermissionRequest => handle_decision(rt, ev),
        HookKind::PostTool => handle_effect(rt, ev),
        HookKind::SessionStart | HookKind::SessionEnd => handle_record(rt, ev, EventKind::Session),
        HookKind::Prompt | HookKind::Lifecycle => handle_record(rt, ev, EventKind::Lifecycle),
    }
}

fn handle_decision(rt: &mut Runtime, ev: HookEvent) -> Handled {
    let Some(call) = ev.call.clone() else {
        let err = WardError::new(
            ErrorCode::PayloadInvalid,
            format!("`{}` carries no tool call", ev.event_name),
        );
        return Handled {
            reply: ward_clients::render_error(ev.client, Some(&ev.event_name), &err),
            event: Some(ev),
            decision: None,
            facts: None,
            event_id: None,
        };
    };
    let (result, facts) = decide_overlapped(rt, &call);
    let error = result.as_ref().err().cloned();
    let decision = result.unwrap_or_else(|e| Decision::fail_closed(e.code, &e.message));
    let mut event = base_event(&ev, EventKind::Decision, &rt.origin);
    event.decision = Some(decision.clone());
    // Record first: an answer leaves only once its event is durable.
    let (decision, reply) = match (rt.append(&event), error) {
        (Ok(()), None) => {
            let reply = ward_clients::render_decision(ev.client, &ev, &decision);
            (decision, reply)
        }
        (Ok(()), Some(e)) | (Err(e), _) => {
            let reply = ward_clients::render_error(ev.client, Some(&ev.event_name), &e);
            (Decision::fail_closed(e.code, &e.message), reply)
        }
    };
    let id = rt.record.then(|| event.id.clone());
    Handled {
        reply,
        event: Some(ev),
        decision: Some(decision),
        facts: Some(facts),
        event_id: id,
    }
}

fn handle_effect(rt: &mut Runtime, ev: HookEvent) -> Handled {
    let mut event = base_event(&ev, EventKind::Effect, &rt.origin);
    let effect = ev.effect.clone().unwrap_or_default();
    let mut record = EffectRecord {
        success: effect.success,
        exit_code: effect.exit_code,
        error: effect.error.clone(),
        output_bytes: effect.output_bytes,
        files: Vec::new(),
        git: None,
    };
    let mut facts = None;
    if let Some(call) = ev.call.as_ref() {
        let f = facts_for(rt, call);
        record.files = changed_files(call, &f);
        record.git = git_effect(call, &f);
        facts = Some(f);
        if rt.record {
            let link = rt.store().and_then(|s| {
                s.find_decision(
                    &ev.session_id,
                    call.tool_use_id.as_deref(),
                    Some(call.tool_name.as_str()),
                    event.input_hash.as_deref(),
                )
            });
            match link {
                Ok(l) => event.decision_event = l,
                Err(e) => return error_handled(ev, e),
            }
        }
    }
    event.effect = Some(record);
    match rt.append(&event) {
        Ok(()) => Handled {
            reply: ward_clients::render_ack(ev.client, &ev),
            event_id: rt.record.then(|| event.id.clone()),
            event: Some(ev),
            decision: None,
            facts,
        },
        Err(e) => error_handled(ev, e),
    }
}

fn error_handled(ev: HookEvent, e: WardError) -> Handled {
    Handled {
        reply: ward_clients::render_error(ev.client, Some(&ev.event_name), &e),
        event: Some(ev),
        decision: None,
        facts: None,
        event_id: None,
    }
}

fn handle_record(rt: &mut Runtime, ev: HookEvent, kind: EventKind) -> Handled {
    let event = base_event(&ev, kind, &rt.origin);
    match rt.append(&event) {
        Ok(()) => Handled {
            reply: ward_clients::render_ack(ev.client, &ev),
            event_id: rt.record.then(|| event.id.clone()),
            event: Some(ev),
            decision: None,
            facts: None,
        },
        Err(e) => error_handled(ev, e),
    }
}

fn resolve(cwd: &str, p: &str) -> PathBuf {
    let home = ident::home_dir();
    if let Some(rest) = p.strip_prefix("~/") {
        return Path::new(&home).join(rest);
    }
    let path = Path::new(p);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        Path::new(cwd).join(path)
    }
}

fn sha256_file(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_HASH_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    Some(hex::encode(Sha256::digest(&bytes)))
}

/// The files a call changed, with the SHA-256 of their content after the call.
fn changed_files(call: &ToolCall, facts: &Facts) -> Vec<FileChange> {
    let paths: Vec<String> = match &call.action {
        Action::FileWrite { paths, .. } => paths.clone(),
        Action::Shell { .. } => facts.paths_written.iter().cloned().collect(),
        _ => Vec::new(),
    };
    paths
        .iter()
        .take(256)
        .map(|p| {
            let abs = resolve(&call.cwd, p);
            FileChange {
                path: abs.display().to_string(),
                sha256: sha256_file(&abs),
            }
        })
        .collect()
}

/// After a `git commit` or `git push`, the commit and ref the repository now points at.
fn git_effect(call: &ToolCall, facts: &Facts) -> Option<GitEffect> {
    let Action::Shell { command } = &call.action else {
        return None;
    };
    if !facts.programs.contains("git") {
        return None;
    }
    let words: Vec<&str> = command.split_whitespace().collect();
    let verb = if words.contains(&"push") {
        "push"
    } else if words.contains(&"commit") {
        "commit"
    } else {
        return None;
    };
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&call.cwd)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    let git_ref = git(&["symbolic-ref", "-q", "HEAD"]);
    Some(GitEffect {
        commit: commit.to_ascii_lowercase(),
        git_ref,
        verb: verb.to_string(),
    })
}
