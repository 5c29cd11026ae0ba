//! The daemon's state and the decision path it serves: the same pipeline as a hook process
//! (parse → prepare → record → finish), with engines kept warm, events group-committed, the
//! caller attested, and `ask` turned into an approval request an approver must grant.

use crate::approvals;
use crate::commit::Committer;
use crate::config::Settings;
use crate::home::Home;
use crate::metrics::{Metrics, Stage};
use crate::pipeline::{self, Decider, Handled, Prepared, Step};
use crate::ttl::TtlCache;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use ward_audit::{NoteSigner, NoteVerifier};
use ward_clients::Origin;
use ward_core::event::Caller;
use ward_core::{ClientKind, Decision, ErrorCode, Event, HookEvent, Outcome, ToolCall, WardError};
use ward_policy::{Engine, Facts, NormalizeEnv};
use ward_store::{Pool, read_err};

pub use crate::pipeline::now_ms;

/// Engines per action for one pack content.
#[derive(Default)]
struct PackCache {
    hash: String,
    engines: HashMap<&'static str, Arc<Engine>>,
}

/// Where events go.
pub enum Sink {
    /// The audit log, group-committed (always, in production).
    Audit(Committer),
    /// Nowhere: only `ward serve --bench-no-audit`, to measure the cost of durability.
    Discard,
}

/// The daemon.
pub struct Service {
    pub home: Home,
    pub settings: Settings,
    pub pool: Pool,
    pub sink: Sink,
    pub signer: Arc<NoteSigner>,
    pub verifier: NoteVerifier,
    pub metrics: Arc<Metrics>,
    pub host: String,
    pack: RwLock<PackCache>,
    allow_hosts: Arc<[String]>,
    /// Hook token hash → the name it was issued for, for [`HOOK_TOKEN_TTL`].
    pub hook_tokens: TtlCache<[u8; 32], String>,
    /// A directory → its repository root, for [`REPO_ROOT_TTL`].
    repo_roots: TtlCache<String, Option<String>>,
    /// A session → its open task, for [`SESSION_TASK_TTL`].
    session_tasks: TtlCache<String, Option<ward_core::event::TaskRef>>,
    /// The task-token key, read from the home once it has been read successfully.
    token_key: std::sync::OnceLock<ward_broker::jwt::TokenKey>,
    /// Registrations by hook identity, valid while the registry stamp is unchanged (see
    /// [`Service::registration`]).
    registrations: Mutex<Registrations>,
    /// Postgres: registry announcements received (`follow_changes`), and whether they are
    /// being received now.
    pub registry_generation: AtomicU64,
    pub registry_listening: AtomicBool,
    /// The MCP gateway's sessions and upstreams.
    pub mcp: crate::gateway::Gateway,
}

/// A pooled connection holding a turn at the write lock ([`Service::write_conn`]); the
/// connection goes back to the pool before the turn is given up.
pub struct WriteConn<'a> {
    conn: ward_store::Conn,
    _turn: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl WriteConn<'_> {
    pub fn r(&mut self) -> ward_store::conn::ConnRef<'_> {
        self.conn.r()
    }
}

/// Times the steps of one decision into [`Metrics::stage`]: each lap is the time since the
/// previous one (only steps that succeeded are observed).
struct StageClock<'a> {
    metrics: &'a Metrics,
    last: Instant,
}

impl<'a> StageClock<'a> {
    fn new(metrics: &'a Metrics, started: Instant) -> StageClock<'a> {
        StageClock {
            metrics,
            last: started,
        }
    }

    fn lap(&mut self, stage: Stage) {
        let now = Instant::now();
        self.metrics.stage(stage, now.duration_since(self.last));
        self.last = now;
    }
}

/// What the daemon remembers of the registry, and under which stamp.
#[derive(Default)]
struct Registrations {
    stamp: Option<(u64, i64, i64)>,
    by_identity: HashMap<(String, String, String), ward_store::registry::Assistant>,
}

/// How long the daemon trusts a hook token it has looked up: a rotated token stops working
/// within this time, and a busy HTTP hook path costs no query per request.
pub const HOOK_TOKEN_TTL: Duration = Duration::from_secs(1);

/// How long the daemon remembers where a directory's repository root is (a `git init` or a
/// removed `.git` is seen within this time); walking up the tree cost a `stat` per level per
/// request.
pub const REPO_ROOT_TTL: Duration = Duration::from_secs(1);

/// How long the daemon remembers which task a session's events belong to (the record only: no
/// decision depends on it, and the daemon's own SessionStart and SessionEnd update it at once).
pub const SESSION_TASK_TTL: Duration = Duration::from_secs(1);

/// One hook call to decide.
pub struct HookRequest<'a> {
    pub client: ClientKind,
    pub payload: &'a [u8],
    pub hint: Option<&'a str>,
    pub caller: Caller,
    /// The caller's home directory (`~` in its calls), when the socket told it.
    pub home_dir: Option<String>,
    /// How long to wait for an approver (`None`: the configured default).
    pub wait: Option<Duration>,
    /// Names of secret-looking variables in the hook process's environment (an attested local
    /// hook tells them; recorded on SessionStart for `ward report standing`).
    pub env_secrets: Vec<String>,
}

/// One event to decide, and who it is for.
pub struct Run {
    /// The requesting OS user (or hook-token name): the origin's user.
    pub who: String,
    pub caller: Caller,
    pub home_dir: Option<String>,
    pub wait: Option<Duration>,
    pub env_secrets: Vec<String>,
    /// The task the event belongs to when the caller proved it (a task token); otherwise the
    /// session's.
    pub task: Option<ward_core::event::TaskRef>,
    /// A deny ward decided before the policy (recorded as the decision instead of the pack's).
    pub refuse: Option<Decision>,
    pub started: Instant,
}

/// What the daemon answered.
pub struct HookAnswer {
    pub handled: Handled,
    pub approval_id: Option<String>,
    /// The task a SessionStart opened (the hook process exports it for the session's shell).
    pub task: Option<String>,
}

/// The decider of the daemon: warm engines, the caller's home for `~`.
struct Warm<'a> {
    svc: &'a Service,
    home_dir: String,
}

impl Decider for Warm<'_> {
    fn facts(&self, call: &ToolCall) -> Facts {
        let env = NormalizeEnv {
            home: self.home_dir.clone(),
            cwd: call.cwd.clone(),
            repo_root: call.repo_root.clone(),
            allow_hosts: self.svc.allow_hosts.clone(),
        };
        ward_policy::normalize::normalize(call, &env)
    }

    fn decide(&mut self, call: &ToolCall) -> (Result<Decision, WardError>, Facts) {
        let facts = self.facts(call);
        let decision = self
            .svc
            .engine(call.action.kind())
            .and_then(|e| ward_policy::decide(&e, call, &facts));
        (decision, facts)
    }
}

impl Service {
    pub fn new(
        home: Home,
        settings: Settings,
        pool: Pool,
        sink: Sink,
        signer: Arc<NoteSigner>,
        metrics: Arc<Metrics>,
    ) -> Result<Service, WardError> {
        let verifier = signer.verifier();
        let mut allow_hosts = ward_policy::normalize::default_allow_hosts();
        allow_hosts.extend(settings.allow_hosts.iter().cloned());
        Ok(Service {
            home,
            settings,
            pool,
            sink,
            signer,
            verifier,
            metrics,
            host: crate::ident::hostname(),
            pack: RwLock::new(PackCache::default()),
            allow_hosts: allow_hosts.into(),
            hook_tokens: TtlCache::new(HOOK_TOKEN_TTL, 4096),
            repo_roots: TtlCache::new(REPO_ROOT_TTL, 4096),
            session_tasks: TtlCache::new(SESSION_TASK_TTL, 4096),
            token_key: std::sync::OnceLock::new(),
            registrations: Mutex::new(Registrations::default()),
            registry_generation: AtomicU64::new(0),
            registry_listening: AtomicBool::new(false),
            mcp: crate::gateway::Gateway::new(),
        })
    }

    /// The warm engine for `action`, loading it on first use after a pack change.
    pub fn engine(&self, action: &'static str) -> Result<Arc<Engine>, WardError> {
        if let Ok(p) = self.pack.read()
            && let Some(e) = p.engines.get(action)
        {
            return Ok(e.clone());
        }
        let engine = Arc::new(self.home.engine(action)?);
        if let Ok(mut p) = self.pack.write() {
            p.engines.insert(action, engine.clone());
        }
        Ok(engine)
    }

    /// The policy's decision on a call, with nothing recorded (what a `tools/list` may show);
    /// `~` is the caller's home when the socket told it, else the daemon's.
    pub fn decide_only(
        &self,
        call: &ToolCall,
        home_dir: Option<String>,
    ) -> Result<Decision, WardError> {
        let warm = Warm {
            svc: self,
            home_dir: home_dir.unwrap_or_else(crate::ident::home_dir),
        };
        let facts = warm.facts(call);
        self.engine(call.action.kind())
            .and_then(|e| ward_policy::decide(&e, call, &facts))
    }

    /// Drop warm engines when the pack on disk changed; returns whether it did.
    pub fn refresh_pack(&self) -> bool {
        let Ok(sources) = self.home.policy_sources() else {
            // An unreadable pack: drop the engines so every decision reports it (fail closed).
            if let Ok(mut p) = self.pack.write() {
                p.engines.clear();
                p.hash.clear();
            }
            return true;
        };
        let hash = ward_policy::pack::pack_hash(&sources);
        let changed = self.pack.read().map(|p| p.hash != hash).unwrap_or(true);
        if changed && let Ok(mut p) = self.pack.write() {
            p.engines.clear();
            p.hash = hash;
        }
        changed
    }

    /// Record one event; returns once it is durable.
    pub async fn record(&self, event: &Event) -> Result<(), WardError> {
        match &self.sink {
            Sink::Audit(c) => c.append(event).await.map(|_| ()),
            Sink::Discard => Ok(()),
        }
    }

    /// A turn at the store's write lock, in order with the audit writer's commits
    /// ([`crate::commit::Turns`]; `None` where none is needed).
    pub async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.sink {
            Sink::Audit(c) => c.write_turn().await,
            Sink::Discard => None,
        }
    }

    /// A connection for writes, taken after a turn at the write lock ([`Service::write_turn`]),
    /// so a write on a busy daemon waits for the commits queued before it, not for SQLite's
    /// busy handler to win a race. Drop it before anything that waits for a commit
    /// ([`Service::record`]).
    pub async fn write_conn(&self) -> Result<WriteConn<'_>, WardError> {
        self.conn(true).await
    }

    /// A pooled connection, with a turn at the write lock when it `writes`.
    async fn conn(&self, writes: bool) -> Result<WriteConn<'_>, WardError> {
        let turn = match writes {
            true => self.write_turn().await,
            false => None,
        };
        let conn = self.pool.acquire().await.map_err(read_err)?;
        Ok(WriteConn { conn, _turn: turn })
    }

    /// An RFC 8693 token exchange against this daemon's store, key, policy and audiences (the
    /// token endpoint, and the gateway getting an upstream its caller's own token).
    pub async fn exchange(
        &self,
        x: &crate::tasks::Exchange,
    ) -> Result<Result<crate::tasks::Exchanged, crate::tasks::ExchangeRefused>, WardError> {
        let key = self.token_key()?;
        let mut c = self.pool.acquire().await.map_err(read_err)?;
        crate::tasks::exchange(
            c.r(),
            &self.signer,
            &key,
            &|a| self.engine(a),
            &self.settings.token_audiences,
            x,
        )
        .await
    }

    /// The key that signs and verifies task tokens (read once, not per request).
    pub fn token_key(&self) -> Result<ward_broker::jwt::TokenKey, WardError> {
        if let Some(k) = self.token_key.get() {
            return Ok(k.clone());
        }
        let k = self.home.token_key()?;
        Ok(self.token_key.get_or_init(|| k).clone())
    }

    /// Events waiting for a commit.
    pub fn audit_lag(&self) -> usize {
        match &self.sink {
            Sink::Audit(c) => c.queued(),
            Sink::Discard => 0,
        }
    }

    /// The ward user a requesting OS user (or hook token) stands for.
    pub fn requester(&self, os_user: &str) -> String {
        self.settings
            .requesters
            .get(os_user)
            .cloned()
            .unwrap_or_else(|| os_user.to_string())
    }

    /// Decide one hook payload: the one path for the socket, `/v1/hooks/{client}` and
    /// `/v1/decide`.
    pub async fn hook(&self, req: HookRequest<'_>) -> HookAnswer {
        let started = Instant::now();
        let who = who(&req.caller);
        let origin = Origin {
            host: self.host.clone(),
            os_user: who.clone(),
        };
        let roots = |cwd: &str| {
            let now = Instant::now();
            let key = cwd.to_string();
            if let Some(root) = self.repo_roots.get(&key, now) {
                return root;
            }
            let root = pipeline::find_repo_root(cwd);
            self.repo_roots.put(key, root.clone(), now);
            root
        };
        let ev = match pipeline::parse(req.client, req.payload, req.hint, &origin, &roots) {
            Ok(ev) => ev,
            Err(h) => return self.answered(*h, None, started),
        };
        self.run(
            ev,
            Run {
                who,
                caller: req.caller,
                home_dir: req.home_dir,
                wait: req.wait,
                env_secrets: req.env_secrets,
                task: None,
                refuse: None,
                started,
            },
        )
        .await
    }

    /// Decide and record one event already in ward's shape (a hook payload parsed, or a call
    /// the MCP gateway built): registry, task, approvals, durable record, reply.
    pub async fn run(&self, ev: HookEvent, req: Run) -> HookAnswer {
        let Run {
            who,
            caller,
            home_dir,
            wait,
            env_secrets,
            task: given_task,
            refuse,
            started,
        } = req;
        let origin = Origin {
            host: self.host.clone(),
            os_user: who.clone(),
        };
        let mut warm = Warm {
            svc: self,
            home_dir: home_dir.unwrap_or_else(crate::ident::home_dir),
        };
        let mut p = match pipeline::prepare(ev, &origin, &mut warm) {
            Step::Answer(h) => return self.answered(*h, None, started),
            Step::Record(p) => p,
        };
        let mut clock = StageClock::new(&self.metrics, started);
        clock.lap(Stage::Decide);
        if let Some(d) = refuse
            && p.decision.is_some()
        {
            set_decision(&mut p, d);
        }
        // Another OS user's hook on this machine (the socket attests its uid) is not the home
        // owner's own: its assistant is enrolled pending whatever `assistant_first_use` says.
        let stranger = caller.transport == "unix"
            && caller
                .uid
                .is_some_and(|u| Some(u) != crate::ident::process_uid());
        p.event.caller = Some(caller);
        if p.decision.is_some()
            && let Some(call) = p.ev.call.clone()
        {
            match self
                .registration(&call, &self.requester(&who), stranger)
                .await
                .inspect(|_| clock.lap(Stage::Registry))
            {
                Ok((a, enrolled)) => pipeline::apply_registration(
                    &mut p,
                    &a,
                    enrolled,
                    self.settings.enrollment.pending,
                ),
                Err(e) => return self.answered(pipeline::finish(*p, Err(e)), None, started),
            }
        }
        if let Some(q) = p.link.take() {
            match self.find_decision(&q).await {
                Ok(l) => {
                    clock.lap(Stage::Link);
                    p.event.decision_event = l;
                }
                Err(e) => return self.answered(pipeline::finish(*p, Err(e)), None, started),
            }
        }
        let task = match given_task {
            // A task token named its task: the event belongs to it, whatever the session.
            Some(t) => {
                p.event.task = Some(t);
                None
            }
            None => match self
                .session_task(&mut p, &who, &env_secrets, stranger)
                .await
            {
                Ok(t) => {
                    clock.lap(Stage::Task);
                    t
                }
                Err(e) => return self.answered(pipeline::finish(*p, Err(e)), None, started),
            },
        };
        let mut approval_id = None;
        if p.error.is_none() && p.decision.as_ref().map(|d| d.outcome) == Some(Outcome::Ask) {
            let wait = wait.unwrap_or(self.settings.approval_wait);
            let requester = self.requester(&who);
            match approvals::gate(self, &mut p, &requester, wait).await {
                Ok(id) => {
                    clock.lap(Stage::Approval);
                    approval_id = id;
                }
                Err(e) => return self.answered(pipeline::finish(*p, Err(e)), None, started),
            }
        }
        let recorded = self.record(&p.event).await.map(|()| true);
        if recorded.is_ok() {
            clock.lap(Stage::Record);
        }
        let mut ans = self.answered(pipeline::finish(*p, recorded), approval_id, started);
        ans.task = task;
        ans
    }

    /// The session's task on the event: SessionStart opens it (answering its id), SessionEnd
    /// ends it, any other event records the open one (remembered for [`SESSION_TASK_TTL`]).
    async fn session_task(
        &self,
        p: &mut Prepared,
        who: &str,
        env_secrets: &[String],
        stranger: bool,
    ) -> Result<Option<String>, WardError> {
        use crate::sessions::{self, Step};
        let session = p.ev.session_id.clone();
        let step = sessions::step(p.ev.kind);
        if let Step::Record = step {
            let agent = p.ev.call.as_ref().and_then(|c| c.agent_id.clone());
            let cache_key = match &agent {
                Some(a) => format!("{session}#agent:{a}"),
                None => session.clone(),
            };
            let now = Instant::now();
            if let Some(t) = self.session_tasks.get(&cache_key, now) {
                p.event.task = t;
                return Ok(None);
            }
            // A sub-agent's first event opens its child task: a write.
            let mut c = self.conn(agent.is_some()).await?;
            let keys = || Ok((self.signer.as_ref().clone(), self.token_key()?));
            let t = sessions::of_event(c.r(), &session, agent.as_deref(), &keys).await?;
            drop(c);
            p.event.task = t.as_ref().map(sessions::task_ref);
            self.session_tasks.put(cache_key, p.event.task.clone(), now);
            return Ok(None);
        }
        let requester = self.requester(who);
        let mut c = self.write_conn().await?;
        let task = match step {
            Step::Open => {
                let kind = crate::assistants::kind_of(p.ev.client);
                let first_use = if stranger {
                    crate::assistants::FirstUse::Pending
                } else {
                    self.settings.enrollment.first_use
                };
                let (a, enrolled) = crate::assistants::resolve(
                    c.r(),
                    kind,
                    &self.host,
                    who,
                    &|| requester.clone(),
                    &|| Ok(first_use),
                    now_ms(),
                )
                .await?;
                p.event.registration = Some(ward_core::event::RegistrationRef {
                    id: a.id.clone(),
                    status: a.status.as_str().to_string(),
                    enrolled,
                });
                crate::sessions::saw_env(c.r(), &mut p.event, &a, env_secrets).await?;
                let names = pipeline::session_names(&p.ev.cwd, pipeline::find_repo_root(&p.ev.cwd));
                let key = self.token_key()?;
                sessions::open(c.r(), &self.signer, &key, &a, &session, &names, &requester).await?
            }
            _ => sessions::close(c.r(), &self.signer, &session, &self.settings.broker).await?,
        };
        p.event.task = task.as_ref().map(sessions::task_ref);
        let live = match step {
            Step::Open => p.event.task.clone(),
            _ => None,
        };
        self.session_tasks.put(session, live, Instant::now());
        Ok(match step {
            Step::Open => task.map(|t| t.id),
            _ => None,
        })
    }

    fn answered(
        &self,
        handled: Handled,
        approval_id: Option<String>,
        started: Instant,
    ) -> HookAnswer {
        if let Some(d) = &handled.decision {
            self.metrics
                .decision(d.outcome.as_str(), &d.policies, started.elapsed());
        } else if handled.event.is_none() {
            self.metrics.decision("deny", &[], started.elapsed());
        }
        HookAnswer {
            handled,
            approval_id,
            task: None,
        }
    }

    /// The registry changed through this daemon: forget what it remembers, and tell the other
    /// daemons (SQLite: the home's stamp; Postgres: an announcement).
    pub async fn registry_changed(&self) -> Result<(), WardError> {
        if let Ok(mut r) = self.registrations.lock() {
            r.by_identity.clear();
            r.stamp = None;
        }
        if self.settings.database.is_postgres() {
            let mut c = self.pool.acquire().await.map_err(read_err)?;
            ward_store::registry::announce_change(c.r())
                .await
                .map_err(ward_store::append_err)
        } else {
            self.home.touch_registry()
        }
    }

    /// The registration `call`'s assistant acts under, enrolling it when first seen.
    ///
    /// The daemon remembers registrations until the registry changes: on SQLite every registry
    /// change ward makes replaces `$WARD_HOME/registry.stamp` after it commits, and each
    /// decision compares the stamp (one `stat`) before trusting its memory; on Postgres every
    /// change is announced (`NOTIFY`) to every daemon on the database, and while a daemon is
    /// not listening it reads on every decision. So a suspension takes effect on the next
    /// decision after `ward assistant suspend` returns.
    async fn registration(
        &self,
        call: &ToolCall,
        owner: &str,
        stranger: bool,
    ) -> Result<(ward_store::registry::Assistant, bool), WardError> {
        let kind = crate::assistants::kind_of(call.assistant.client);
        let key = (
            kind.to_string(),
            call.assistant.host.clone(),
            call.assistant.os_user.clone(),
        );
        let now = now_ms();
        let (remembered, stamp) = if self.settings.database.is_postgres() {
            let generation = self.registry_generation.load(Ordering::SeqCst);
            (
                self.registry_listening.load(Ordering::SeqCst),
                Some((generation, 0, 0)),
            )
        } else {
            (true, self.home.registry_stamp())
        };
        if remembered && let Ok(mut r) = self.registrations.lock() {
            if r.stamp != stamp {
                r.by_identity.clear();
                r.stamp = stamp;
            }
            if let Some(a) = r.by_identity.get(&key)
                && crate::assistants::seen_lately(a, now)
            {
                return Ok((a.clone(), false));
            }
        }
        // A miss is most often only a read (the registry changed, so the memory was dropped):
        // read first, without a turn at the write lock, which a busy writer keeps taking.
        let mut c = self.conn(false).await?;
        let lately = crate::assistants::live_seen_lately(
            c.r(),
            kind,
            &call.assistant.host,
            &call.assistant.os_user,
            now,
        )
        .await?;
        drop(c);
        // With the registration, the `last_seen` the store now holds: the one read, or the one
        // just written.
        let (a, enrolled, stored_seen) = match lately {
            Some(a) => {
                let seen = a.last_seen_ms;
                (a, false, seen)
            }
            None => {
                // Enrolling the assistant or touching its `last_seen`: both are writes.
                let mut c = self.write_conn().await?;
                let first_use = if stranger {
                    crate::assistants::FirstUse::Pending
                } else {
                    self.settings.enrollment.first_use
                };
                let (a, enrolled) = crate::assistants::resolve(
                    c.r(),
                    kind,
                    &call.assistant.host,
                    &call.assistant.os_user,
                    &|| owner.to_string(),
                    &|| Ok(first_use),
                    now,
                )
                .await?;
                drop(c);
                (a, enrolled, Some(now))
            }
        };
        if remembered
            && let Ok(mut r) = self.registrations.lock()
            // Only under the stamp this read began with: a change since then is not in it.
            && r.stamp == stamp
        {
            let mut kept = a.clone();
            kept.last_seen_ms = stored_seen;
            r.by_identity.insert(key, kept);
        }
        Ok((a, enrolled))
    }

    async fn find_decision(&self, q: &pipeline::LinkQuery) -> Result<Option<String>, WardError> {
        let mut c = self.pool.acquire().await.map_err(read_err)?;
        ward_store::repo::find_decision(
            c.r(),
            &q.session_id,
            q.tool_use_id.as_deref(),
            q.tool_name.as_deref(),
            q.input_hash.as_deref(),
        )
        .await
        .map_err(read_err)
    }
}

/// A prepared decision's event and answer must agree: set both.
/// The requesting user a caller stands for: the attested OS user, a hook token's name, or the
/// bare uid.
pub fn who(caller: &Caller) -> String {
    caller
        .user
        .clone()
        .or_else(|| caller.token.clone())
        .or_else(|| caller.uid.map(|u| format!("uid:{u}")))
        .unwrap_or_else(|| "unknown".into())
}

pub fn set_decision(p: &mut Prepared, d: Decision) {
    p.event.decision = Some(d.clone());
    p.decision = Some(d);
}

/// An error for a request that is not allowed to wait that long.
pub fn bad_wait(v: &str) -> WardError {
    WardError::new(
        ErrorCode::BadInput,
        format!("`wait={v}` is not a number of seconds between 0 and 3600"),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests")]
    use super::*;
    use ward_core::{Action, Assistant};

    fn call(os_user: &str) -> ToolCall {
        ToolCall {
            assistant: Assistant {
                client: ClientKind::ClaudeCode,
                host: "box".into(),
                os_user: os_user.into(),
            },
            session_id: "s".into(),
            tool_use_id: None,
            tool_name: "Bash".into(),
            action: Action::Shell {
                command: "ls".into(),
            },
            input: serde_json::json!({}),
            cwd: "/w".into(),
            repo_root: None,
            agent_id: None,
        }
    }

    /// A registration the daemon forgot because the registry changed is read again without a
    /// turn at the write lock (a busy audit writer keeps taking it); enrolling a new assistant
    /// is a write and waits for its turn.
    #[test]
    fn a_forgotten_registration_is_read_without_a_turn_at_the_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        home.init().unwrap();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(forgotten(home));
    }

    async fn forgotten(home: Home) {
        let settings =
            crate::config::load(&home, &crate::config::Flags::default(), &|_| None).unwrap();
        let signer = Arc::new(home.signer().unwrap());
        let metrics = Arc::new(Metrics::default());
        let pool = Pool::connect(&settings.database, 4).await.unwrap();
        let committer = Committer::start(
            settings.database.clone(),
            signer.clone(),
            metrics.clone(),
            64,
            64,
        )
        .await
        .unwrap();
        let svc = Arc::new(
            Service::new(
                home.clone(),
                settings,
                pool,
                Sink::Audit(committer),
                signer,
                metrics,
            )
            .unwrap(),
        );
        let (first, enrolled) = svc.registration(&call("dev"), "dev", false).await.unwrap();
        assert!(enrolled);

        // The registry changed (another process suspended some other assistant, say).
        home.touch_registry().unwrap();
        let turn = svc.write_turn().await.expect("SQLite has turns");
        let (again, enrolled) = tokio::time::timeout(
            Duration::from_secs(5),
            svc.registration(&call("dev"), "dev", false),
        )
        .await
        .expect("reading a known registration waits for no turn")
        .unwrap();
        assert_eq!((again.id.as_str(), enrolled), (first.id.as_str(), false));

        // A new assistant is enrolled: that waits for the turn.
        let waiting = tokio::spawn({
            let svc = svc.clone();
            async move { svc.registration(&call("ops"), "ops", false).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !waiting.is_finished(),
            "an enrolment wrote while another write held the turn"
        );
        drop(turn);
        let (new, enrolled) = tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("the enrolment completes once the turn is free")
            .unwrap()
            .unwrap();
        assert!(enrolled);
        assert_ne!(new.id, first.id);
    }
}
