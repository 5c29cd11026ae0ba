//! The one decision path: payload → HookEvent → facts → Cedar → audit append → client reply.
//! `ward hook`, `ward eval`, `ward demo`, `ward explain` and `ward policy test` all go through
//! [`handle`], so what they report is what a hook does.

use crate::assistants::{self, PendingRule};
use crate::config::Settings;
use crate::home::Home;
use crate::ident;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};
use ward_audit::NoteSigner;
use ward_clients::{Origin, Reply};
use ward_core::event::{
    EffectRecord, FileChange, GitEffect, RegistrationRef, event_id, rfc3339_ms,
};
use ward_core::{
    Action, ClientKind, Decision, ErrorCode, Event, EventKind, HookEvent, HookKind, ToolCall,
    WardError,
};
use ward_policy::{Facts, NormalizeEnv};
use ward_store::Store;
use ward_store::registry::{self, Assistant};

/// Largest file ward hashes when recording an effect.
const MAX_HASH_BYTES: u64 = 64 << 20;

/// State for handling hook payloads.
pub struct Runtime {
    pub home: Home,
    pub origin: Origin,
    /// Append events to the audit log (false for `ward explain`).
    pub record: bool,
    pub allow_hosts: std::sync::Arc<[String]>,
    store: Option<Store>,
    signer: Option<NoteSigner>,
    /// The registration the last decided call acts under (resolved beside the decision).
    registration: Option<Result<(Assistant, bool), WardError>>,
    /// `ward.toml` and `WARD_*` settings, read only when a call needs them (a new or pending
    /// assistant: first use, the requester mapping, the pending rule), at most once.
    settings: OnceLock<Result<Settings, WardError>>,
    /// The task the last SessionStart opened (for `CLAUDE_ENV_FILE`).
    pub opened_task: Option<String>,
    /// Reads the names of secret-looking variables in the hook's environment (set by `ward
    /// hook`); asked only on SessionStart, so other calls pay nothing for it.
    pub env_secrets: Option<fn() -> Vec<String>>,
    /// Engines kept between calls by a long-lived front end (`ward mcp wrap`); a hook process
    /// decides once and loads only the slice it needs.
    warm: Option<WarmEngines>,
    /// Events recorded with the next append, in its transaction (see [`Runtime::defer`]).
    deferred: Vec<Event>,
    defer_next: bool,
    /// A deny decided before the policy, for the next call (see [`Runtime::refuse_next`]).
    refusal: Option<Decision>,
}

/// Engines a long-lived runtime keeps, valid while the pack's content is unchanged (checked
/// at most every [`WARM_CHECK`]).
#[derive(Default)]
struct WarmEngines {
    checked: Option<std::time::Instant>,
    hash: String,
    engines: std::collections::HashMap<&'static str, std::sync::Arc<ward_policy::Engine>>,
}

/// How often a warm runtime looks for policy edits (the daemon's housekeeping does the same).
pub const WARM_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

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
            allow_hosts: ward_policy::normalize::default_allow_hosts().into(),
            store: None,
            signer: None,
            registration: None,
            settings: OnceLock::new(),
            opened_task: None,
            env_secrets: None,
            warm: None,
            deferred: Vec::new(),
            defer_next: false,
            refusal: None,
        }
    }

    /// Decide the next call as `d` (a deny ward made before the policy: a held MCP tool),
    /// recorded like any decision.
    pub fn refuse_next(&mut self, d: Decision) {
        self.refusal = Some(d);
    }

    /// Handle an event that decides nothing (a wrapped call's result) without an append of its
    /// own: it is written in the same transaction as the next append, or by [`Runtime::flush`].
    /// A long-lived front end uses this so that a result never holds the log's write lock while
    /// the next call waits to be decided.
    pub fn defer(&mut self, ev: HookEvent) -> Handled {
        self.defer_next = true;
        let handled = handle_event(self, ev);
        self.defer_next = false;
        handled
    }

    /// Append what was deferred, now.
    pub fn flush(&mut self) -> Result<(), WardError> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        self.append_with_deferred(None)
    }

    /// Append what was deferred and then `current`, in one transaction. On failure the deferred
    /// events are kept for the next try; `current`'s failure is its caller's answer.
    fn append_with_deferred(&mut self, current: Option<&Event>) -> Result<(), WardError> {
        if self.signer.is_none() {
            self.signer = Some(self.home.signer()?);
        }
        let signer = self
            .signer
            .take()
            .ok_or_else(|| WardError::new(ErrorCode::AuditAppend, "no signing key"))?;
        let mut batch = std::mem::take(&mut self.deferred);
        let deferred = batch.len();
        batch.extend(current.cloned());
        let origin = signer.name().to_string();
        let res = self
            .store()
            .and_then(|s| s.append_batch(&batch, &signer, &origin, ward_store::OnDuplicate::Fail));
        self.signer = Some(signer);
        if res.is_err() {
            batch.truncate(deferred);
            self.deferred = batch;
        }
        res.map(|_| ())
    }

    /// Keep engines between calls (for a front end that decides many calls in one process).
    pub fn keep_warm(&mut self) {
        self.warm = Some(WarmEngines::default());
    }

    /// The warm engine for `kind`, if this runtime keeps them: reloaded when the pack changed.
    fn warm_engine(
        &mut self,
        kind: &'static str,
    ) -> Option<Result<std::sync::Arc<ward_policy::Engine>, WardError>> {
        let home = self.home.clone();
        let w = self.warm.as_mut()?;
        let now = std::time::Instant::now();
        if w.checked
            .is_none_or(|t| now.duration_since(t) >= WARM_CHECK)
        {
            let hash = match home.policy_sources() {
                Ok(sources) => ward_policy::pack::pack_hash(&sources),
                Err(e) => {
                    // An unreadable pack decides nothing (fail closed), and is looked at again.
                    w.engines.clear();
                    w.checked = None;
                    return Some(Err(e));
                }
            };
            if hash != w.hash {
                w.engines.clear();
                w.hash = hash;
            }
            w.checked = Some(now);
        }
        if let Some(e) = w.engines.get(kind) {
            return Some(Ok(e.clone()));
        }
        Some(home.engine(kind).map(|e| {
            let e = std::sync::Arc::new(e);
            w.engines.insert(kind, e.clone());
            e
        }))
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
        if self.defer_next {
            self.deferred.push(event.clone());
            return Ok(());
        }
        self.append_with_deferred(Some(event))
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn new_event_id() -> String {
    let mut r = [0u8; 10];
    // An id collision only makes the append fail (UNIQUE), which fails closed.
    let _ = rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut r);
    event_id(now_ms(), r)
}

/// Fill what the adapter cannot know: the repository root, found by `repo_root` (walking up
/// from the call's directory; the daemon remembers the answer per directory for a second).
fn enrich(call: &mut ToolCall, repo_root: &dyn Fn(&str) -> Option<String>) {
    if call.repo_root.is_none() && !call.cwd.is_empty() {
        call.repo_root = repo_root(&call.cwd);
    }
}

/// The repository root of `cwd`, read from the file system now.
pub fn find_repo_root(cwd: &str) -> Option<String> {
    ident::repo_root(Path::new(cwd)).map(|p| p.display().to_string())
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

/// The settings in `cell`, read on first use.
fn settings_in<'a>(
    cell: &'a OnceLock<Result<Settings, WardError>>,
    home: &Home,
) -> Result<&'a Settings, WardError> {
    cell.get_or_init(|| crate::serve::settings(home, &crate::config::Flags::default()))
        .as_ref()
        .map_err(Clone::clone)
}

/// The registration a call's assistant acts under (enrolling it when first seen). The settings
/// are read only for a new assistant (first use, and the requester mapping for its owner).
fn registration_of(
    store: &mut Store,
    call: &ToolCall,
    home: &Home,
    settings: &OnceLock<Result<Settings, WardError>>,
    os_user: &str,
) -> Result<(Assistant, bool), WardError> {
    let kind = assistants::kind_of(call.assistant.client);
    let (host, user) = (&call.assistant.host, &call.assistant.os_user);
    let first_use = || settings_in(settings, home).map(|s| s.enrollment.first_use);
    // Only asked after `first_use` has read the settings successfully.
    let owner = || {
        settings_in(settings, home)
            .ok()
            .and_then(|s| s.requesters.get(os_user).cloned())
            .unwrap_or_else(|| os_user.to_string())
    };
    store.block_on(async |c| {
        assistants::resolve(c.r(), kind, host, user, &owner, &first_use, now_ms()).await
    })
}

/// Apply the assistant's registration to a prepared decision: the decision becomes what
/// [`assistants::gate`] makes of it, and the event records the registration.
pub fn apply_registration(p: &mut Prepared, a: &Assistant, enrolled: bool, rule: PendingRule) {
    let (Some(call), Some(d)) = (p.ev.call.as_ref(), p.decision.take()) else {
        return;
    };
    let d = within_repos(a, call, assistants::gate(a, enrolled, rule, call, d));
    p.event.decision = Some(d.clone());
    p.decision = Some(d);
    p.event.registration = Some(RegistrationRef {
        id: a.id.clone(),
        status: a.status.as_str().to_string(),
        enrolled,
    });
}

/// A registration that lists repositories limits its assistant to them: a call whose
/// repository (its root path or a remote's `host/owner/name` or `owner/name`) matches none of
/// the globs, or that is in no repository, is denied. A policy deny stands as it is.
fn within_repos(a: &Assistant, call: &ToolCall, d: Decision) -> Decision {
    if a.repos.is_empty() || d.outcome == ward_core::Outcome::Deny {
        return d;
    }
    let names = match &call.repo_root {
        Some(root) => ident::repo_names(Path::new(root)),
        None => vec![call.cwd.clone()],
    };
    if a.repos
        .iter()
        .any(|g| names.iter().any(|n| ident::glob_matches(g, n)))
    {
        return d;
    }
    let here = names.last().cloned().unwrap_or_default();
    Decision {
        outcome: ward_core::Outcome::Deny,
        policies: vec!["assistant-scope".into()],
        reason: format!(
            "assistant `{}` ({}) may work only in {}; this call is in `{here}`{}: an admin can widen it with `ward assistant update {} --repo GLOB`",
            a.name,
            a.id,
            a.repos.join(", "),
            if call.repo_root.is_none() {
                " (no repository)"
            } else {
                ""
            },
            a.id
        ),
        facts: d.facts,
        error_code: None,
        confirm_locally: false,
    }
}

/// The decision path of a short-lived hook process: opening the audit store, loading the
/// policy slice and normalizing the call do not depend on each other, so they run side by side
/// (measured: each costs about a millisecond in a fresh process). The decision is made on the
/// thread that loaded the slice: Cedar measures the stack of the thread it runs on, which on
/// the main thread means reading `/proc/self/maps`. A panic in a helper thread is an error,
/// never an allow.
fn decide_overlapped(rt: &mut Runtime, call: &ToolCall) -> (Result<Decision, WardError>, Facts) {
    let panicked = |what: &str| {
        WardError::new(
            ErrorCode::InternalPanic,
            format!("{what} failed unexpectedly"),
        )
    };
    let open_store = rt.record && rt.store.is_none();
    if !open_store && let Some(engine) = rt.warm_engine(call.action.kind()) {
        // Warm: nothing to load, so nothing to overlap.
        let facts = facts_for(rt, call);
        return (
            engine.and_then(|e| ward_policy::decide(&e, call, &facts)),
            facts,
        );
    }
    let db = rt.home.db_path();
    let home = rt.home.clone();
    let owner = rt.origin.os_user.clone();
    let (settings, rt_home) = (&rt.settings, &rt.home);
    let kind = call.action.kind();
    let (facts_tx, facts_rx) = std::sync::mpsc::sync_channel::<Facts>(1);
    let (store, decision, facts) = std::thread::scope(|s| {
        let store = open_store.then(|| {
            s.spawn(|| {
                let mut store = Store::open(&db)?;
                store.load_edge();
                let registration = registration_of(&mut store, call, rt_home, settings, &owner);
                Ok((store, registration))
            })
        });
        let decider = s.spawn(move || {
            let engine = home.engine(kind);
            let facts = facts_rx
                .recv()
                .map_err(|_| panicked("deriving the facts"))?;
            engine.and_then(|engine| ward_policy::decide(&engine, call, &facts))
        });
        // Cedar's identifier lexer, which the slice's parse needs after its own.
        ward_policy::warm_up();
        let facts = facts_for(rt, call);
        // The decider only fails to receive if it has already stopped (and then says why).
        let _ = facts_tx.send(facts.clone());
        let decision = decider.join().unwrap_or_else(|_| Err(panicked("deciding")));
        let store = store.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(panicked("opening the audit log")))
        });
        (store, decision, facts)
    });
    match store {
        Some(Ok((st, registration))) => {
            rt.store = Some(st);
            rt.registration = Some(registration);
        }
        Some(Err(e)) => return (Err(e), facts),
        None => {}
    }
    (decision, facts)
}

pub fn base_event(ev: &HookEvent, kind: EventKind, origin: &Origin) -> Event {
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
        caller: None,
        approval: None,
        registration: None,
        task: None,
        lease: None,
    }
}

/// A new event (fresh id and time) about the same call as `e`: same assistant, human, session,
/// tool and action; no decision, effect or approval yet.
pub fn base_event_like(e: &Event, kind: EventKind) -> Event {
    Event {
        id: new_event_id(),
        ts: rfc3339_ms(now_ms()),
        kind,
        decision: None,
        effect: None,
        decision_event: None,
        approval: None,
        registration: None,
        task: None,
        lease: None,
        ..e.clone()
    }
}

/// A new event that belongs to no hook payload (an approver's step).
pub fn bare_event(
    kind: EventKind,
    assistant: &str,
    session_id: &str,
    host: &str,
    human: &str,
) -> Event {
    let client = assistant
        .split('@')
        .next()
        .and_then(|c| c.parse::<ClientKind>().ok())
        .unwrap_or(ClientKind::ClaudeCode);
    Event {
        id: new_event_id(),
        ts: rfc3339_ms(now_ms()),
        kind,
        client,
        hook_event: "ward".into(),
        assistant: assistant.to_string(),
        human: human.to_string(),
        host: host.to_string(),
        session_id: session_id.to_string(),
        tool_use_id: None,
        agent_id: None,
        tool_name: None,
        action_kind: None,
        action: None,
        input_hash: None,
        cwd: String::new(),
        repo_root: None,
        decision: None,
        effect: None,
        decision_event: None,
        caller: None,
        approval: None,
        registration: None,
        task: None,
        lease: None,
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

/// Something that can decide a call: the hook's [`Runtime`] (loads what it needs, side by side)
/// or the service (keeps engines warm).
pub trait Decider {
    /// The derived facts of a call, without deciding (for effects).
    fn facts(&self, call: &ToolCall) -> Facts;
    /// Decide a call; an error is answered as a block.
    fn decide(&mut self, call: &ToolCall) -> (Result<Decision, WardError>, Facts);
}

impl Decider for Runtime {
    fn facts(&self, call: &ToolCall) -> Facts {
        facts_for(self, call)
    }

    fn decide(&mut self, call: &ToolCall) -> (Result<Decision, WardError>, Facts) {
        if let Some(d) = self.refusal.take() {
            return (Ok(d), facts_for(self, call));
        }
        decide_overlapped(self, call)
    }
}

/// How to find the decision an effect belongs to.
#[derive(Debug, Clone)]
pub struct LinkQuery {
    pub session_id: String,
    pub tool_use_id: Option<String>,
    pub tool_name: Option<String>,
    pub input_hash: Option<String>,
}

/// A payload parsed and decided: the audit event to record, and what to answer once it is.
pub struct Prepared {
    pub ev: HookEvent,
    pub event: Event,
    /// For pre-tool events: the decision (a fail-closed deny when deciding failed).
    pub decision: Option<Decision>,
    /// A decision-path error: the answer is a block even if recording succeeds.
    pub error: Option<WardError>,
    pub facts: Option<Facts>,
    /// For effects: the decision to link to, looked up before recording.
    pub link: Option<LinkQuery>,
}

/// The outcome of [`prepare`].
pub enum Step {
    /// Nothing to record (the payload did not parse): answer now.
    Answer(Box<Handled>),
    /// Record `event`, then [`finish`].
    Record(Box<Prepared>),
}

/// Parse a payload and fill what the adapter cannot know (`repo_root`: [`find_repo_root`] or
/// a cache of it).
pub fn parse(
    client: ClientKind,
    payload: &[u8],
    hint: Option<&str>,
    origin: &Origin,
    repo_root: &dyn Fn(&str) -> Option<String>,
) -> Result<HookEvent, Box<Handled>> {
    match ward_clients::parse(client, payload, hint, origin) {
        Ok(mut ev) => {
            if let Some(call) = ev.call.as_mut() {
                enrich(call, repo_root);
            }
            Ok(ev)
        }
        Err(e) => Err(Box::new(Handled {
            reply: ward_clients::render_error(client, hint, &e),
            event: None,
            decision: None,
            facts: None,
            event_id: None,
        })),
    }
}

/// Decide (for pre-tool events) and build the audit event. Pure apart from the decider.
pub fn prepare(ev: HookEvent, origin: &Origin, decider: &mut dyn Decider) -> Step {
    match ev.kind {
        HookKind::PreTool | HookKind::PermissionRequest => {
            let Some(call) = ev.call.clone() else {
                let err = WardError::new(
                    ErrorCode::PayloadInvalid,
                    format!("`{}` carries no tool call", ev.event_name),
                );
                return Step::Answer(Box::new(error_handled(ev, err)));
            };
            let (result, facts) = decider.decide(&call);
            let error = result.as_ref().err().cloned();
            let decision = result.unwrap_or_else(|e| Decision::fail_closed(e.code, &e.message));
            let mut event = base_event(&ev, EventKind::Decision, origin);
            event.decision = Some(decision.clone());
            Step::Record(Box::new(Prepared {
                ev,
                event,
                decision: Some(decision),
                error,
                facts: Some(facts),
                link: None,
            }))
        }
        HookKind::PostTool => {
            let mut event = base_event(&ev, EventKind::Effect, origin);
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
            let mut link = None;
            if let Some(call) = ev.call.as_ref() {
                let f = decider.facts(call);
                record.files = changed_files(call, &f);
                record.git = git_effect(call, &f);
                facts = Some(f);
                link = Some(LinkQuery {
                    session_id: ev.session_id.clone(),
                    tool_use_id: call.tool_use_id.clone(),
                    tool_name: Some(call.tool_name.clone()),
                    input_hash: event.input_hash.clone(),
                });
            }
            event.effect = Some(record);
            Step::Record(Box::new(Prepared {
                ev,
                event,
                decision: None,
                error: None,
                facts,
                link,
            }))
        }
        HookKind::SessionStart | HookKind::SessionEnd => {
            record_only(ev, EventKind::Session, origin)
        }
        HookKind::Prompt | HookKind::Lifecycle => record_only(ev, EventKind::Lifecycle, origin),
    }
}

fn record_only(ev: HookEvent, kind: EventKind, origin: &Origin) -> Step {
    let event = base_event(&ev, kind, origin);
    Step::Record(Box::new(Prepared {
        ev,
        event,
        decision: None,
        error: None,
        facts: None,
        link: None,
    }))
}

/// The answer once recording finished (`recorded` is the append's result; `Ok(false)` means
/// recording was off, as for `ward explain`). An answer other than a block leaves only after its
/// event is durable.
pub fn finish(p: Prepared, recorded: Result<bool, WardError>) -> Handled {
    let Prepared {
        ev,
        event,
        decision,
        error,
        facts,
        ..
    } = p;
    let event_id = match &recorded {
        Ok(true) => Some(event.id.clone()),
        _ => None,
    };
    match decision {
        Some(decision) => {
            let (decision, reply) = match (recorded, error) {
                (Ok(_), None) => {
                    let reply = ward_clients::render_decision(ev.client, &ev, &decision);
                    (decision, reply)
                }
                (Ok(_), Some(e)) | (Err(e), _) => {
                    let reply = ward_clients::render_error(ev.client, Some(&ev.event_name), &e);
                    (Decision::fail_closed(e.code, &e.message), reply)
                }
            };
            Handled {
                reply,
                event: Some(ev),
                decision: Some(decision),
                facts,
                event_id,
            }
        }
        None => match recorded {
            Ok(_) => Handled {
                reply: ward_clients::render_ack(ev.client, &ev),
                event: Some(ev),
                decision: None,
                facts,
                event_id,
            },
            Err(e) => error_handled(ev, e),
        },
    }
}

/// Handle one payload end to end, synchronously (the hook process, eval, demo, explain).
pub fn handle(rt: &mut Runtime, client: ClientKind, payload: &[u8], hint: Option<&str>) -> Handled {
    let origin = rt.origin.clone();
    let ev = match parse(client, payload, hint, &origin, &find_repo_root) {
        Ok(ev) => ev,
        Err(h) => return *h,
    };
    handle_event(rt, ev)
}

/// Handle one event already in ward's shape (a hook payload parsed, or a call another
/// front-end built, such as the MCP wrapper's `tools/call`): the same decision, registry,
/// task and audit path as every hook.
pub fn handle_event(rt: &mut Runtime, mut ev: HookEvent) -> Handled {
    let origin = rt.origin.clone();
    if let Some(call) = ev.call.as_mut() {
        enrich(call, &find_repo_root);
    }
    let mut p = match prepare(ev, &origin, rt) {
        Step::Answer(h) => return *h,
        Step::Record(p) => p,
    };
    if !rt.record {
        return finish(*p, Ok(false));
    }
    if p.decision.is_some()
        && let Some(call) = p.ev.call.clone()
    {
        let same = |a: &Assistant| {
            a.kind == assistants::kind_of(call.assistant.client)
                && a.host == call.assistant.host
                && a.os_user == call.assistant.os_user
        };
        let registration = match rt.registration.take() {
            // Resolved beside this very decision (an error too).
            Some(r) if r.as_ref().map_or(true, |(a, _)| same(a)) => r,
            // The store was already open (or it was another call's): resolve here.
            _ => {
                let owner = rt.origin.os_user.clone();
                let home = rt.home.clone();
                // Lent out while the store borrows `rt`.
                let settings = std::mem::take(&mut rt.settings);
                let r = rt
                    .store()
                    .and_then(|s| registration_of(s, &call, &home, &settings, &owner));
                rt.settings = settings;
                r
            }
        };
        let pending = match &registration {
            Ok((a, _)) if a.status == registry::Status::Pending => {
                settings_in(&rt.settings, &rt.home).map(|s| s.enrollment.pending)
            }
            _ => Ok(PendingRule::default()),
        };
        match (registration, pending) {
            (Ok((a, enrolled)), Ok(rule)) => apply_registration(&mut p, &a, enrolled, rule),
            (Err(e), _) | (_, Err(e)) => return finish(*p, Err(e)),
        }
    }
    if let Some(q) = p.link.take() {
        let link = rt.store().and_then(|s| {
            s.find_decision(
                &q.session_id,
                q.tool_use_id.as_deref(),
                q.tool_name.as_deref(),
                q.input_hash.as_deref(),
            )
        });
        match link {
            Ok(l) => p.event.decision_event = l,
            Err(e) => return error_handled(p.ev, e),
        }
    }
    if let Err(e) = session_task(rt, &mut p) {
        return finish(*p, Err(e));
    }
    let recorded = rt.append(&p.event).map(|()| true);
    finish(*p, recorded)
}

/// The names of the repository a session runs in (the working directory outside one).
pub fn session_names(cwd: &str, repo_root: Option<String>) -> Vec<String> {
    match repo_root {
        Some(root) => ident::repo_names(Path::new(&root)),
        None => vec![cwd.to_string()],
    }
}

/// The session's task, on the event (SessionStart opens it, SessionEnd ends it).
fn session_task(rt: &mut Runtime, p: &mut Prepared) -> Result<(), WardError> {
    let session = p.ev.session_id.clone();
    let step = crate::sessions::step(p.ev.kind);
    if let crate::sessions::Step::Record = step {
        let agent = p.ev.call.as_ref().and_then(|c| c.agent_id.clone());
        let home = rt.home.clone();
        let keys = || Ok((home.signer()?, home.token_key()?));
        let t = rt.store()?.block_on(async |c| {
            crate::sessions::of_event(c.r(), &session, agent.as_deref(), &keys).await
        })?;
        p.event.task = t.as_ref().map(crate::sessions::task_ref);
        return Ok(());
    }
    let home = rt.home.clone();
    let (signer, key) = (home.signer()?, home.token_key()?);
    let settings = settings_in(&rt.settings, &home)?.clone();
    let os_user = rt.origin.os_user.clone();
    let requester = settings
        .requesters
        .get(&os_user)
        .cloned()
        .unwrap_or_else(|| os_user.clone());
    let kind = assistants::kind_of(p.ev.client);
    let host = rt.origin.host.clone();
    let names = session_names(&p.ev.cwd, find_repo_root(&p.ev.cwd));
    let env_secrets = match (&step, rt.env_secrets) {
        (crate::sessions::Step::Open, Some(read)) => read(),
        _ => Vec::new(),
    };
    let task = rt.store()?.block_on(async |c| match step {
        crate::sessions::Step::Open => {
            let first_use = || Ok(settings.enrollment.first_use);
            let owner = || requester.clone();
            let (a, enrolled) =
                assistants::resolve(c.r(), kind, &host, &os_user, &owner, &first_use, now_ms())
                    .await?;
            p.event.registration = Some(RegistrationRef {
                id: a.id.clone(),
                status: a.status.as_str().to_string(),
                enrolled,
            });
            crate::sessions::saw_env(c.r(), &mut p.event, &a, &env_secrets).await?;
            crate::sessions::open(c.r(), &signer, &key, &a, &session, &names, &requester).await
        }
        _ => crate::sessions::close(c.r(), &signer, &session, &settings.broker).await,
    })?;
    if matches!(p.ev.kind, HookKind::SessionStart) {
        rt.opened_task = task.as_ref().map(|t| t.id.clone());
    }
    p.event.task = task.as_ref().map(crate::sessions::task_ref);
    Ok(())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn result(n: u64) -> HookEvent {
        HookEvent {
            client: ClientKind::ClaudeCode,
            event_name: "tools/call result".into(),
            kind: ward_core::HookKind::PostTool,
            session_id: "mcp-test".into(),
            cwd: "/tmp".into(),
            call: None,
            effect: Some(ward_core::Effect {
                success: true,
                exit_code: None,
                error: None,
                output_bytes: n,
            }),
        }
    }

    #[test]
    fn deferred_results_survive_a_failed_flush() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        home.init().unwrap();
        let mut rt = Runtime::new(home.clone(), true);
        for n in 0..2 {
            rt.defer(result(n));
        }
        // The log refuses every insert for a while.
        let db = rusqlite::Connection::open(home.db_path()).unwrap();
        db.execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
        assert!(rt.flush().is_err());
        db.execute_batch("DROP TRIGGER refuse;").unwrap();
        // Nothing deferred was lost: both results are written by the next try.
        rt.flush().unwrap();
        drop(rt);
        let mut store = ward_store::Store::open(&home.db_path()).unwrap();
        let sum = ward_store::verify::verify(&mut store, &home.verifier().unwrap()).unwrap();
        assert_eq!(sum.events, 2);
    }
}
