//! The MCP gateway of `ward serve`: `/mcp/NAME` is a Streamable HTTP endpoint in front of the
//! configured upstream server. Clients prove who they are to ward (a task token, a hook token,
//! or the attested unix socket); the upstream never sees that proof. Every `tools/call` is a
//! decision on the same path as a hook, `tools/list` answers are pinned and filtered, and both
//! protocol eras are served: sessions (`initialize`, `Mcp-Session-Id`, SSE, a listening GET) and
//! the stateless 2026-07-28 era (`_meta` on every request, header checks, `server/discover`).

pub mod child;
pub mod config;
pub mod remote;

pub use config::{McpServer, Upstream};

use crate::http::{Path, Query};
use crate::http::{Peer, Problem};
use crate::service::{Run, Service};
use crate::ttl::TtlCache;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use child::ChildConn;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use ward_broker::scope::{self, Scope};
use ward_core::event::{Caller, TaskRef};
use ward_core::{
    Action, Assistant, ClientKind, Decision, Effect, ErrorCode, HookEvent, HookKind, Outcome,
    ToolCall, WardError,
};
use ward_mcp::http::{Era, Headers};
use ward_mcp::jsonrpc;
use ward_store::read_err;

type Svc = Arc<Service>;

/// A session nobody used for this long is ended (its server stopped).
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// How long a checked task token is trusted before it is checked again (revocation takes
/// effect within this time).
pub const TOKEN_TTL: Duration = Duration::from_secs(1);
/// An answer that takes longer than this is streamed (SSE) when the client accepts that.
pub const STREAM_AFTER: Duration = Duration::from_millis(100);
/// The longest wait for an upstream answer.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(600);

/// Who is calling, as the gateway decides for them.
#[derive(Debug, Clone)]
pub struct Principal {
    /// What a session is bound to: only the same principal may use it.
    pub key: String,
    /// The requesting user (the task's requester, or the hook caller).
    pub who: String,
    pub caller: Caller,
    /// The assistant identity the registry knows the caller by.
    pub assistant: Assistant,
    /// A task token's task and scopes, and the token (for an exchange to an upstream).
    pub task: Option<TaskRef>,
    pub token: Option<String>,
    pub scopes: Option<Vec<Scope>>,
    pub home_dir: Option<String>,
}

/// An upstream connection: a stdio child or a remote server.
#[derive(Clone)]
pub enum Conn {
    Child(Arc<ChildConn>),
    Remote(Arc<remote::RemoteSession>),
}

/// A request in flight upstream: its messages arrive on `rx`, the answer last. Dropped before
/// the answer came (the client closed its stream), the request is cancelled upstream.
pub struct Flight {
    rx: mpsc::Receiver<Value>,
    cancel: Option<(Arc<ChildConn>, Value)>,
    answered: bool,
}

impl Flight {
    async fn recv(&mut self) -> Option<Value> {
        let v = self.rx.recv().await;
        if v.as_ref().is_none_or(is_answer) {
            self.answered = true;
        }
        v
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        if !self.answered
            && let Some((c, wire)) = &self.cancel
        {
            c.abandon(wire);
        }
    }
}

impl Conn {
    async fn request(&self, msg: Value) -> Result<Flight, WardError> {
        match self {
            Conn::Child(c) => {
                let (wire, rx) = c.request(msg).await?;
                Ok(Flight {
                    rx,
                    cancel: Some((c.clone(), wire)),
                    answered: false,
                })
            }
            // Dropping the receiver closes the upstream response: that is the cancellation.
            Conn::Remote(r) => Ok(Flight {
                rx: r.request(msg).await?,
                cancel: None,
                answered: false,
            }),
        }
    }

    async fn send(&self, msg: &Value) -> Result<(), WardError> {
        match self {
            Conn::Child(c) => {
                let mut m = msg.clone();
                // A cancellation names the request by the id the server knows it by.
                if m.get("method").and_then(Value::as_str) == Some("notifications/cancelled")
                    && let Some(rid) = m.pointer("/params/requestId").cloned()
                    && let Some(wire) = c.wire_id(&rid)
                    && let Some(slot) = m.pointer_mut("/params/requestId")
                {
                    *slot = wire;
                }
                c.send(&m).await
            }
            Conn::Remote(r) => r.send(msg).await,
        }
    }

    fn end(&self) {
        match self {
            Conn::Child(c) => c.kill(),
            Conn::Remote(r) => r.end(),
        }
    }
}

/// One client session of the initialize era.
pub struct Session {
    pub server: String,
    pub principal: String,
    conn: Conn,
    last: Mutex<Instant>,
}

/// What a stateless (2026-07-28) request of a server is sent to.
#[derive(Clone)]
enum Shared {
    /// The server speaks the stateless era: one connection for every such request.
    Modern(Conn),
    /// The server speaks only the initialize era.
    Legacy,
}

/// The gateway's state in the daemon.
pub struct Gateway {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    shared: tokio::sync::Mutex<HashMap<String, Shared>>,
    tokens: TtlCache<[u8; 32], Principal>,
    calls: AtomicU64,
}

impl Default for Gateway {
    fn default() -> Gateway {
        Gateway {
            sessions: Mutex::default(),
            shared: tokio::sync::Mutex::default(),
            tokens: TtlCache::new(TOKEN_TTL, 4096),
            calls: AtomicU64::new(0),
        }
    }
}

impl Gateway {
    pub fn new() -> Gateway {
        Gateway::default()
    }

    /// End sessions idle for [`SESSION_IDLE`]; returns how many.
    pub fn sweep(&self, now: Instant) -> usize {
        let Ok(mut s) = self.sessions.lock() else {
            return 0;
        };
        let idle: Vec<String> = s
            .iter()
            .filter(|(_, v)| {
                v.last
                    .lock()
                    .map(|t| now.duration_since(*t) > SESSION_IDLE)
                    .unwrap_or(true)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in &idle {
            if let Some(v) = s.remove(k) {
                v.conn.end();
            }
        }
        idle.len()
    }

    /// Stop every upstream the gateway started.
    pub async fn shutdown(&self) {
        if let Ok(mut s) = self.sessions.lock() {
            for (_, v) in s.drain() {
                v.conn.end();
            }
        }
        for (_, v) in self.shared.lock().await.drain() {
            if let Shared::Modern(c) = v {
                c.end();
            }
        }
    }

    fn count(&self, server: &str) -> usize {
        self.sessions
            .lock()
            .map(|s| s.values().filter(|v| v.server == server).count())
            .unwrap_or(usize::MAX)
    }
}

#[derive(Deserialize, Default)]
pub struct McpQuery {
    /// The client kind a hook-token or socket caller speaks for (default `claude-code`).
    client: Option<String>,
    /// How long a call that needs approval waits for an approver (seconds).
    wait: Option<String>,
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// A JSON-RPC message as the HTTP answer.
fn rpc(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, v.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn problem(status: StatusCode, code: ErrorCode, msg: impl Into<String>) -> Response {
    Problem::new(status, code, msg).into_response()
}

/// Browsers' cross-site requests are refused (DNS rebinding): an `Origin`, when sent, must be
/// this machine.
fn origin_ok(h: &HeaderMap) -> bool {
    let Some(o) = header_str(h, "origin") else {
        return h.get("origin").is_none();
    };
    let rest = o
        .strip_prefix("http://")
        .or_else(|| o.strip_prefix("https://"));
    let Some(rest) = rest else {
        return false;
    };
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => rest.split(':').next().unwrap_or(""),
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

fn unauthorized(e: WardError, name: &str) -> Response {
    let mut r = Problem::from(e).into_response();
    if r.status() == StatusCode::UNAUTHORIZED
        && let Ok(v) = HeaderValue::from_str(&format!(
            "Bearer realm=\"ward\", error=\"invalid_token\", resource=\"/mcp/{name}\""
        ))
    {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && !token.contains(' ')
}

/// Who is calling: a task token (its assistant, task and scopes), else a hook token or the
/// attested socket peer (policy alone decides).
async fn principal(
    svc: &Service,
    peer: &Peer,
    headers: &HeaderMap,
    q: &McpQuery,
) -> Result<Principal, WardError> {
    if let Some(token) = crate::http::bearer(headers)
        && looks_like_jwt(token)
    {
        let hash = crate::keys::secret_hash(token);
        if let Some(p) = svc.mcp.tokens.get(&hash, Instant::now()) {
            return Ok(p);
        }
        let key = svc.token_key()?;
        let mut c = svc.pool.acquire().await.map_err(read_err)?;
        let active = crate::tasks::check_token(
            c.r(),
            &key,
            svc.signer.name(),
            token,
            Some(crate::tasks::AUDIENCE),
        )
        .await?
        .map_err(|why| {
            WardError::new(
                ErrorCode::Unauthenticated,
                format!("the task token is not active: {why}"),
            )
        })?;
        let client = active.assistant.kind.parse::<ClientKind>().map_err(|_| {
            WardError::new(
                ErrorCode::Forbidden,
                format!(
                    "the token's assistant is a `{}`, which cannot call MCP tools",
                    active.assistant.kind
                ),
            )
        })?;
        let scopes = scope::parse_all(&active.claims.scope).map_err(|e| {
            WardError::new(ErrorCode::Forbidden, format!("the token's scopes: {e}"))
        })?;
        let p = Principal {
            key: format!("task:{}:{}", active.task.id, active.assistant.id),
            who: active.task.requester.clone(),
            caller: Caller {
                transport: "http".into(),
                token: Some(format!("task-token:{}", active.lease.id)),
                addr: match peer {
                    Peer::Tcp(a) => Some(a.to_string()),
                    _ => None,
                },
                ..Caller::default()
            },
            assistant: Assistant {
                client,
                host: active.assistant.host.clone(),
                os_user: active.assistant.os_user.clone(),
            },
            task: Some(crate::sessions::task_ref(&active.task)),
            token: Some(token.to_string()),
            scopes: Some(scopes),
            home_dir: None,
        };
        svc.mcp.tokens.put(hash, p.clone(), Instant::now());
        return Ok(p);
    }
    let (caller, home_dir) = crate::http::hook_caller(svc, peer, headers).await?;
    let client = match q.client.as_deref() {
        None => ClientKind::ClaudeCode,
        Some(k) => k.parse::<ClientKind>().map_err(|_| {
            WardError::new(
                ErrorCode::BadInput,
                format!("unknown client `{k}`; use claude-code, codex, gemini, cursor or copilot"),
            )
        })?,
    };
    let who = crate::service::who(&caller);
    Ok(Principal {
        key: format!("who:{who}"),
        who: who.clone(),
        caller,
        assistant: Assistant {
            client,
            host: svc.host.clone(),
            os_user: who,
        },
        task: None,
        token: None,
        scopes: None,
        home_dir,
    })
}

fn tool_call(
    server: &McpServer,
    p: &Principal,
    session: &str,
    use_id: String,
    tool: &str,
    arguments: &Value,
) -> ToolCall {
    ToolCall {
        assistant: p.assistant.clone(),
        session_id: session.to_string(),
        tool_use_id: Some(use_id),
        tool_name: format!("mcp__{}__{tool}", server.name),
        action: Action::Mcp {
            server: server.name.clone(),
            tool: tool.to_string(),
            arguments: arguments.clone(),
        },
        input: arguments.clone(),
        cwd: server.cwd.clone().unwrap_or_else(|| "/".into()),
        repo_root: None,
        agent_id: None,
    }
}

fn run_for(p: &Principal, wait: Option<Duration>) -> Run {
    Run {
        who: p.who.clone(),
        caller: p.caller.clone(),
        home_dir: p.home_dir.clone(),
        wait,
        env_secrets: Vec::new(),
        task: p.task.clone(),
        refuse: None,
        started: Instant::now(),
    }
}

/// Decide one `tools/call`: `Ok(use id)` to pass it on, `Err(reason)` to answer it refused.
async fn decide_call(
    svc: &Service,
    server: &McpServer,
    p: &Principal,
    session: &str,
    call: &jsonrpc::ToolsCall,
    wait: Option<Duration>,
) -> Result<String, String> {
    // Refusals ward decides before the policy are decisions too: recorded, never silent.
    let target = format!("{}/{}", server.name, call.tool);
    let refuse = match &p.scopes {
        Some(scopes) if !scope::permits(scopes, "mcp", &target) => Some(Decision::refused(
            "mcp-task-scope",
            format!(
                "the task token's scopes do not include `mcp:{target}`; start the task with `--scope mcp:{}/*` (or this tool)",
                server.name
            ),
        )),
        _ if call.access => None,
        _ => {
            let held = match svc.pool.acquire().await {
                Ok(mut c) => crate::mcp_pins::held(c.r(), &server.name, &call.tool).await,
                Err(e) => Err(read_err(e)),
            };
            match held {
                Ok(None) => None,
                Ok(Some(why)) => Some(Decision::refused("mcp-pin", why)),
                Err(e) => Some(Decision::fail_closed(
                    e.code,
                    &format!("could not check the tool's pin: {}", e.message),
                )),
            }
        }
    };
    let n = svc.mcp.calls.fetch_add(1, Ordering::Relaxed);
    let use_id = format!("mcp-{session}-{n}");
    let ev = HookEvent {
        client: p.assistant.client,
        event_name: "tools/call".into(),
        kind: HookKind::PreTool,
        session_id: session.to_string(),
        cwd: server.cwd.clone().unwrap_or_else(|| "/".into()),
        call: Some(tool_call(
            server,
            p,
            session,
            use_id.clone(),
            &call.tool,
            &call.arguments,
        )),
        effect: None,
    };
    let ans = svc
        .run(
            ev,
            Run {
                refuse,
                ..run_for(p, wait)
            },
        )
        .await;
    match ans.handled.decision {
        Some(d) if d.outcome == Outcome::Allow => Ok(use_id),
        Some(d) => Err(format!("ward: {}", d.reason)),
        None => Err(format!(
            "ward could not decide: {}",
            ans.handled.reply.stderr.trim()
        )),
    }
}

/// Record what a decided call returned (its size and error), linked to its decision.
async fn record_result(
    svc: Svc,
    server: McpServer,
    p: Principal,
    session: String,
    use_id: String,
    call: jsonrpc::ToolsCall,
    answer: Value,
) {
    let (success, error, size) = jsonrpc::outcome_of(&answer);
    let ev = HookEvent {
        client: p.assistant.client,
        event_name: "tools/call result".into(),
        kind: HookKind::PostTool,
        session_id: session.clone(),
        cwd: server.cwd.clone().unwrap_or_else(|| "/".into()),
        call: Some(tool_call(
            &server,
            &p,
            &session,
            use_id,
            &call.tool,
            &call.arguments,
        )),
        effect: Some(Effect {
            success,
            exit_code: None,
            error,
            output_bytes: size,
        }),
    };
    let ans = svc.run(ev, run_for(&p, None)).await;
    if ans.handled.event_id.is_none() {
        eprintln!(
            "ward serve: the result of an MCP call to `{}` was not recorded: {}",
            server.name,
            ans.handled.reply.stderr.trim()
        );
    }
}

/// Pin and filter a listing answer (`tools/list`, `prompts/list`, `resources/list`): held tools,
/// tools outside a task token's scopes and items the policy refuses whatever the caller would
/// choose are removed, and the listing is recorded; if that cannot be checked, the answer
/// becomes an error.
async fn filter_list(
    svc: &Service,
    server: &McpServer,
    p: &Principal,
    method: &str,
    answer: &mut Value,
) {
    let assistant = format!(
        "{}@{}/{}",
        crate::assistants::kind_of(p.assistant.client),
        p.assistant.host,
        p.assistant.os_user
    );
    let checked = async {
        let mut hidden: Vec<String> = Vec::new();
        if method == "tools/list"
            && let Some(tools) = answer.pointer("/result/tools").and_then(Value::as_array)
        {
            let mut c = svc.write_conn().await?;
            let seen =
                crate::mcp_pins::observe(c.r(), &server.name, tools, crate::pipeline::now_ms())
                    .await?;
            drop(c);
            for change in &seen.changes {
                let ev =
                    crate::mcp_pins::pin_event(change, &assistant, &server.name, &svc.host, &p.who);
                svc.record(&ev).await?;
            }
            hidden.extend(seen.held.into_iter().map(|(t, _)| t));
        }
        hidden.extend(crate::mcp_pins::refused_outright(
            method,
            answer,
            |tool, args| {
                if let Some(scopes) = &p.scopes
                    && !scope::permits(scopes, "mcp", &format!("{}/{tool}", server.name))
                {
                    return Ok(true);
                }
                let call = tool_call(server, p, "list", String::new(), tool, args);
                Ok(svc.decide_only(&call, p.home_dir.clone())?.outcome == Outcome::Deny)
            },
        )?);
        // The listing itself is a record: what was offered, and what was held back.
        let mut ev = crate::mcp_pins::list_event(
            method,
            &server.name,
            &hidden,
            &assistant,
            &svc.host,
            &p.who,
        );
        ev.task = p.task.clone();
        svc.record(&ev).await?;
        Ok::<Vec<String>, WardError>(hidden)
    };
    let hidden = checked.await;
    crate::mcp_pins::show(method, answer, hidden);
}

/// The secrets a child's environment gets, opened from the store.
async fn child_env(svc: &Service, server: &McpServer) -> Result<Vec<(String, String)>, WardError> {
    let mut env: Vec<(String, String)> = server
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if server.secrets.is_empty() {
        return Ok(env);
    }
    let seal = svc.home.seal_key()?;
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    for (var, secret) in &server.secrets {
        match crate::credentials::open_secret(c.r(), &seal, secret).await? {
            Ok(v) => env.push((var.clone(), v)),
            Err(why) => {
                return Err(WardError::new(
                    ErrorCode::Config,
                    format!("MCP server `{}`: {why}", server.name),
                ));
            }
        }
    }
    drop(c);
    let mut ev = crate::pipeline::bare_event(
        ward_core::EventKind::Lifecycle,
        &format!("ward-mcp/{}", server.name),
        &format!("mcp-{}", server.name),
        &svc.host,
        "ward",
    );
    ev.hook_event = "upstream".into();
    ev.action_kind = Some("mcp_upstream".into());
    ev.action = Some(format!(
        "mcp upstream {} started with secrets {}",
        server.name,
        server
            .secrets
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    ));
    svc.record(&ev).await?;
    Ok(env)
}

/// The token a `url` server with `upstream_token = "exchange"` gets for this caller: the caller's
/// task token exchanged (RFC 8693) for the audience `mcp:NAME`, a child lease of the task that
/// never outlives it. Refused for callers without a task token, and by the exchange's own rules
/// (`token_audiences`, the task's scopes, the `credential` policy).
async fn exchanged_token(
    svc: &Service,
    server: &McpServer,
    p: &Principal,
) -> Result<String, WardError> {
    let Some(subject) = &p.token else {
        return Err(WardError::new(
            ErrorCode::Forbidden,
            format!(
                "`{}` gets a token exchanged from the caller's task token: connect with a task token (`ward task start`)",
                server.name
            ),
        ));
    };
    let x = crate::tasks::Exchange {
        grant_type: crate::tasks::GRANT_TOKEN_EXCHANGE.into(),
        subject_token: subject.clone(),
        subject_token_type: crate::tasks::TOKEN_TYPE_JWT.into(),
        actor_token: None,
        actor_token_type: None,
        audience: format!("mcp:{}", server.name),
        scope: String::new(),
        requested_token_type: None,
    };
    match svc.exchange(&x).await? {
        Ok(t) => Ok(t.token),
        Err(r) => Err(WardError::new(
            ErrorCode::Forbidden,
            format!(
                "ward cannot get `{}` a token for this task: {} ({})",
                server.name, r.description, r.error
            ),
        )),
    }
}

/// A new upstream connection for `server`, for caller `p`.
async fn connect(svc: &Service, server: &McpServer, p: &Principal) -> Result<Conn, WardError> {
    match &server.upstream {
        Upstream::Command(cmd) => {
            let env = child_env(svc, server).await?;
            Ok(Conn::Child(ChildConn::spawn(
                cmd,
                &env,
                server.cwd.as_deref(),
            )?))
        }
        Upstream::Url(url) => {
            let bearer = match &server.bearer_secret {
                None if server.exchange_token => Some(exchanged_token(svc, server, p).await?),
                None => None,
                Some(secret) => {
                    let seal = svc.home.seal_key()?;
                    let mut c = svc.pool.acquire().await.map_err(read_err)?;
                    Some(
                        crate::credentials::open_secret(c.r(), &seal, secret)
                            .await?
                            .map_err(|why| {
                                WardError::new(
                                    ErrorCode::Config,
                                    format!("MCP server `{}`: {why}", server.name),
                                )
                            })?,
                    )
                }
            };
            Ok(Conn::Remote(Arc::new(remote::RemoteSession::new(
                url,
                bearer,
                server.ca_file.as_deref(),
            )?)))
        }
    }
}

/// The connection stateless requests of `server` go to, found out once per server by asking
/// it `server/discover`.
async fn shared(svc: &Service, server: &McpServer, p: &Principal) -> Result<Shared, WardError> {
    let mut m = svc.mcp.shared.lock().await;
    if let Some(s) = m.get(&server.name).cloned() {
        let alive = match &s {
            Shared::Modern(Conn::Child(c)) => !c.is_closed(),
            _ => true,
        };
        if alive {
            drop(m);
            // A caller's own upstream token means a link of its own (only the era is shared);
            // its exchange runs outside the lock every stateless request takes.
            if server.exchange_token
                && let Shared::Modern(_) = s
            {
                return Ok(Shared::Modern(connect(svc, server, p).await?));
            }
            return Ok(s);
        }
    }
    let conn = connect(svc, server, p).await?;
    let probe = json!({"jsonrpc": "2.0", "id": "ward-discover", "method": "server/discover",
        "params": {"_meta": {
            ward_mcp::http::META_VERSION: ward_mcp::http::MODERN_VERSIONS[0],
            "io.modelcontextprotocol/clientInfo": {"name": "ward", "version": env!("CARGO_PKG_VERSION")},
            "io.modelcontextprotocol/clientCapabilities": {}}}});
    // An upstream that cannot be reached says nothing about its era: nothing is remembered.
    let answer = match conn.request(probe).await {
        Ok(rx) => final_answer(rx, Duration::from_secs(30)).await,
        Err(e) => Err(e),
    };
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            conn.end();
            return Err(e);
        }
    };
    let modern = answer
        .pointer("/result/supportedVersions")
        .and_then(Value::as_array)
        .is_some_and(|v| {
            v.iter()
                .any(|x| x.as_str() == Some(ward_mcp::http::MODERN_VERSIONS[0]))
        });
    let s = if modern {
        Shared::Modern(conn)
    } else {
        conn.end();
        Shared::Legacy
    };
    m.insert(server.name.clone(), s.clone());
    Ok(s)
}

fn is_answer(v: &Value) -> bool {
    v.get("method").is_none() && (v.get("result").is_some() || v.get("error").is_some())
}

/// Wait for a request's answer, dropping what comes before it.
async fn final_answer(mut rx: Flight, limit: Duration) -> Result<Value, WardError> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(v)) if is_answer(&v) => return Ok(v),
            Ok(Some(_)) => continue,
            Ok(None) => return Err(WardError::new(ErrorCode::Io, "the MCP server has exited")),
            Err(_) => {
                return Err(WardError::new(
                    ErrorCode::Io,
                    "the MCP server did not answer in time",
                ));
            }
        }
    }
}

/// What a forwarded request needs once its answer is back.
enum After {
    Nothing,
    List(&'static str),
    Call(String, jsonrpc::ToolsCall),
}

struct Ctx {
    svc: Svc,
    server: McpServer,
    p: Principal,
    session: String,
}

impl Ctx {
    async fn finish(&self, after: &After, mut answer: Value) -> Value {
        match after {
            After::Nothing => {}
            After::List(method) => {
                if answer.get("result").is_some() {
                    filter_list(&self.svc, &self.server, &self.p, method, &mut answer).await;
                }
            }
            After::Call(use_id, call) => {
                tokio::spawn(record_result(
                    self.svc.clone(),
                    self.server.clone(),
                    self.p.clone(),
                    self.session.clone(),
                    use_id.clone(),
                    call.clone(),
                    answer.clone(),
                ));
            }
        }
        answer
    }
}

/// An upstream that could not be set up for this request: 403 when ward refused the caller a
/// credential for it, 502 when the upstream could not be started or reached.
fn upstream_failure(msg: &Value, e: &WardError) -> Response {
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let status = match e.code {
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_GATEWAY,
    };
    rpc(
        status,
        &jsonrpc::error(&id, -32603, &format!("ward: {}", e.message)),
    )
}

fn session_header(r: &mut Response, sid: Option<&str>) {
    if let Some(s) = sid
        && let Ok(v) = HeaderValue::from_str(s)
    {
        r.headers_mut().insert("mcp-session-id", v);
    }
}

fn new_session_id() -> String {
    let mut b = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    hex::encode(b)
}

fn sse_response(
    stream: impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static,
) -> Response {
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// `POST /mcp/{name}`: one client message (or a batch of the older era).
pub async fn post(
    State(svc): State<Svc>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(name): Path<String>,
    Query(q): Query<McpQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (p, server) = match admit(&svc, &peer, &headers, &q, &name).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let wait = match crate::http::parse_wait(q.wait.as_deref()) {
        Ok(w) => w,
        Err(e) => return Problem::from(e).into_response(),
    };
    let bytes = match crate::http::body_bytes(&svc, body).await {
        Ok(b) => b,
        Err(e) => return Problem::from(e).into_response(),
    };
    let Ok(msg) = serde_json::from_slice::<Value>(&bytes) else {
        return rpc(
            StatusCode::BAD_REQUEST,
            &jsonrpc::error(&Value::Null, -32700, "the body is not JSON"),
        );
    };
    let h = Headers {
        protocol_version: header_str(&headers, "mcp-protocol-version"),
        method: header_str(&headers, "mcp-method"),
        name: header_str(&headers, "mcp-name"),
    };
    let era = match ward_mcp::http::check(&h, &msg) {
        Ok(e) => e,
        Err(e) => {
            let id = msg.get("id").cloned().unwrap_or(Value::Null);
            let mut v = jsonrpc::error(&id, e.code, &e.message);
            if e.code == ward_mcp::http::UNSUPPORTED_VERSION
                && let Some(err) = v.get_mut("error")
            {
                let mut supported: Vec<&str> = ward_mcp::http::LEGACY_VERSIONS.to_vec();
                supported.extend(ward_mcp::http::MODERN_VERSIONS);
                err["data"] = json!({ "supported": supported });
            }
            return rpc(StatusCode::BAD_REQUEST, &v);
        }
    };
    let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
    let sid = header_str(&headers, "mcp-session-id").map(str::to_string);
    let (conn, session, new_sid) = match era {
        Era::Modern(_) => match shared(&svc, &server, &p).await {
            Ok(Shared::Modern(c)) => (c, format!("mcp-{name}-stateless"), None),
            Ok(Shared::Legacy) => {
                let id = msg.get("id").cloned().unwrap_or(Value::Null);
                if method == "server/discover" {
                    return rpc(
                        StatusCode::OK,
                        &jsonrpc::error(
                            &id,
                            -32601,
                            &format!("`{name}` speaks the initialize era only; send `initialize`"),
                        ),
                    );
                }
                let v = json!({"jsonrpc": "2.0", "id": id, "error": {
                    "code": ward_mcp::http::UNSUPPORTED_VERSION,
                    "message": format!("`{name}` speaks the initialize era only"),
                    "data": {"supported": ward_mcp::http::LEGACY_VERSIONS}}});
                return rpc(StatusCode::BAD_REQUEST, &v);
            }
            Err(e) => return upstream_failure(&msg, &e),
        },
        Era::Legacy(_) => match (&sid, method == "initialize" && msg.is_object()) {
            (None, true) => {
                if svc.mcp.count(&name) >= server.max_sessions {
                    return problem(
                        StatusCode::TOO_MANY_REQUESTS,
                        ErrorCode::Forbidden,
                        format!(
                            "`{name}` has {} sessions open, its `max_sessions`; end one (DELETE) or raise the limit",
                            server.max_sessions
                        ),
                    );
                }
                let conn = match connect(&svc, &server, &p).await {
                    Ok(c) => c,
                    Err(e) => return upstream_failure(&msg, &e),
                };
                let id = new_session_id();
                (conn, format!("mcp-{name}-{id}"), Some(id))
            }
            (Some(s), _) => {
                let found = svc.mcp.sessions.lock().ok().and_then(|m| m.get(s).cloned());
                match found {
                    Some(sess) if sess.server == name && sess.principal == p.key => {
                        if let Ok(mut t) = sess.last.lock() {
                            *t = Instant::now();
                        }
                        (sess.conn.clone(), format!("mcp-{name}-{s}"), None)
                    }
                    _ => {
                        return problem(
                            StatusCode::NOT_FOUND,
                            ErrorCode::NotFound,
                            "no such MCP session (ended, expired, or another caller's); initialize again",
                        );
                    }
                }
            }
            (None, false) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadInput,
                    "this request needs the Mcp-Session-Id header from the initialize answer",
                );
            }
        },
    };
    let ctx = Ctx {
        svc: svc.clone(),
        server: server.clone(),
        p,
        session,
    };
    let batch = msg.is_array();
    let items = match msg {
        Value::Array(a) => a,
        one => vec![one],
    };
    // Requests forwarded (with what their answers need), and answers ward gave itself.
    let mut forwarded: Vec<(After, Flight)> = Vec::new();
    let mut answers: Vec<Value> = Vec::new();
    for m in items {
        let id = m.get("id").cloned();
        let is_request = m.get("method").is_some() && id.is_some();
        if !is_request {
            if let Err(e) = conn.send(&m).await {
                answers.push(jsonrpc::error(
                    &Value::Null,
                    -32603,
                    &format!("ward: {}", e.message),
                ));
            }
            continue;
        }
        let id = id.unwrap_or(Value::Null);
        let after = match jsonrpc::classify(&m) {
            jsonrpc::Inbound::Call(call) => {
                match decide_call(&ctx.svc, &ctx.server, &ctx.p, &ctx.session, &call, wait).await {
                    Ok(use_id) => After::Call(use_id, call),
                    Err(reason) => {
                        answers.push(jsonrpc::refused(&call, &reason));
                        continue;
                    }
                }
            }
            jsonrpc::Inbound::BadCall { what, .. } => {
                answers.push(jsonrpc::error(&id, -32602, &format!("ward: {what}")));
                continue;
            }
            jsonrpc::Inbound::Other => match m
                .get("method")
                .and_then(Value::as_str)
                .and_then(|method| jsonrpc::LISTS.iter().find(|l| **l == method))
            {
                Some(list) => After::List(list),
                None => After::Nothing,
            },
        };
        match conn.request(m).await {
            Ok(rx) => forwarded.push((after, rx)),
            Err(e) => answers.push(jsonrpc::error(&id, -32603, &format!("ward: {}", e.message))),
        }
    }
    if new_sid.is_some() && forwarded.is_empty() {
        // The upstream could not be reached: no session.
        conn.end();
        return rpc(
            StatusCode::BAD_GATEWAY,
            &answers.pop().unwrap_or_else(|| {
                jsonrpc::error(&Value::Null, -32603, "ward: the MCP server did not answer")
            }),
        );
    }
    if let Some(s) = &new_sid
        && forwarded.len() == 1
    {
        // The session exists once its server answered `initialize`.
        let Some((_, rx)) = forwarded.pop() else {
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Io,
                "lost the initialize",
            );
        };
        let answer = match final_answer(rx, UPSTREAM_TIMEOUT).await {
            Ok(a) => a,
            Err(e) => {
                conn.end();
                return rpc(
                    StatusCode::BAD_GATEWAY,
                    &jsonrpc::error(&Value::Null, -32603, &format!("ward: {}", e.message)),
                );
            }
        };
        if answer.get("result").is_some() {
            if let Ok(mut m) = svc.mcp.sessions.lock() {
                m.insert(
                    s.clone(),
                    Arc::new(Session {
                        server: name.clone(),
                        principal: ctx.p.key.clone(),
                        conn: conn.clone(),
                        last: Mutex::new(Instant::now()),
                    }),
                );
            }
            let mut r = rpc(StatusCode::OK, &answer);
            session_header(&mut r, Some(s));
            return r;
        }
        conn.end();
        return rpc(StatusCode::OK, &answer);
    }
    if forwarded.is_empty() && answers.is_empty() {
        return StatusCode::ACCEPTED.into_response();
    }
    let sse_ok = header_str(&headers, "accept").is_some_and(|a| a.contains("text/event-stream"));
    let json_ok = header_str(&headers, "accept")
        .is_none_or(|a| a.contains("application/json") || a.contains("*/*"));
    if !batch && forwarded.len() == 1 && sse_ok {
        let Some((after, mut rx)) = forwarded.pop() else {
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Io,
                "lost a request",
            );
        };
        // A quick answer goes back as JSON; a slow one, or one with messages before it (progress,
        // a long-lived `subscriptions/listen`), becomes a stream.
        let first = match tokio::time::timeout(STREAM_AFTER, rx.recv()).await {
            Ok(Some(v)) => Some(v),
            Ok(None) => {
                return rpc(
                    StatusCode::OK,
                    &jsonrpc::error(&Value::Null, -32603, "ward: the MCP server did not answer"),
                );
            }
            Err(_) => None,
        };
        if let Some(v) = &first
            && is_answer(v)
            && json_ok
        {
            let v = v.clone();
            return rpc(StatusCode::OK, &ctx.finish(&after, v).await);
        }
        let state = (first, rx, Arc::new(ctx), after, false);
        let stream =
            futures_util::stream::unfold(state, |(first, mut rx, ctx, after, done)| async move {
                if done {
                    return None;
                }
                let next = match first {
                    Some(v) => Some(v),
                    None => tokio::time::timeout(UPSTREAM_TIMEOUT, rx.recv())
                        .await
                        .ok()
                        .flatten(),
                };
                let v = next?;
                if is_answer(&v) {
                    let v = ctx.finish(&after, v).await;
                    let chunk = Bytes::from(ward_mcp::http::sse_event(None, &v.to_string()));
                    return Some((Ok(chunk), (None, rx, ctx, after, true)));
                }
                let chunk = Bytes::from(ward_mcp::http::sse_event(None, &v.to_string()));
                Some((Ok(chunk), (None, rx, ctx, after, false)))
            });
        return sse_response(stream);
    }
    for (after, rx) in forwarded {
        let a = match final_answer(rx, UPSTREAM_TIMEOUT).await {
            Ok(a) => ctx.finish(&after, a).await,
            Err(e) => jsonrpc::error(&Value::Null, -32603, &format!("ward: {}", e.message)),
        };
        answers.push(a);
    }
    if batch {
        rpc(StatusCode::OK, &Value::Array(answers))
    } else {
        rpc(StatusCode::OK, &answers.pop().unwrap_or(Value::Null))
    }
}

/// Every request to `/mcp/{name}`: a page of another origin is refused, then who is calling
/// (before saying which servers exist), then the server.
async fn admit(
    svc: &Service,
    peer: &Peer,
    headers: &HeaderMap,
    q: &McpQuery,
    name: &str,
) -> Result<(Principal, McpServer), Response> {
    if !origin_ok(headers) {
        return Err(problem(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "requests from a web page of another origin are refused",
        ));
    }
    let p = principal(svc, peer, headers, q)
        .await
        .map_err(|e| unauthorized(e, name))?;
    let Some(server) = svc.settings.mcp.get(name).cloned() else {
        return Err(problem(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("no MCP server `{name}`; configure it as [mcp.servers.{name}] in ward.toml"),
        ));
    };
    Ok((p, server))
}

/// The session a GET or DELETE names, if it is the caller's.
async fn own_session(
    svc: &Service,
    peer: &Peer,
    headers: &HeaderMap,
    q: &McpQuery,
    name: &str,
) -> Result<(String, Arc<Session>), Response> {
    let (p, _) = admit(svc, peer, headers, q, name).await?;
    let Some(sid) = header_str(headers, "mcp-session-id") else {
        // The stateless era has no stream to listen on and no session to end.
        return Err(StatusCode::METHOD_NOT_ALLOWED.into_response());
    };
    let found = svc
        .mcp
        .sessions
        .lock()
        .ok()
        .and_then(|m| m.get(sid).cloned());
    match found {
        Some(s) if s.server == name && s.principal == p.key => Ok((sid.to_string(), s)),
        _ => Err(problem(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such MCP session (ended, expired, or another caller's); initialize again",
        )),
    }
}

/// `GET /mcp/{name}`: the session's stream of what the server says on its own.
pub async fn get(
    State(svc): State<Svc>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(name): Path<String>,
    Query(q): Query<McpQuery>,
    headers: HeaderMap,
) -> Response {
    let (_, s) = match own_session(&svc, &peer, &headers, &q, &name).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let rx = match &s.conn {
        Conn::Child(c) => c.listen(),
        Conn::Remote(r) => r.listen(),
    };
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let v = rx.recv().await?;
        Some((
            Ok(Bytes::from(ward_mcp::http::sse_event(None, &v.to_string()))),
            rx,
        ))
    });
    sse_response(stream)
}

/// `DELETE /mcp/{name}`: end the session (its server is stopped).
pub async fn delete(
    State(svc): State<Svc>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(name): Path<String>,
    Query(q): Query<McpQuery>,
    headers: HeaderMap,
) -> Response {
    let (sid, s) = match own_session(&svc, &peer, &headers, &q, &name).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Ok(mut m) = svc.mcp.sessions.lock() {
        m.remove(&sid);
    }
    s.conn.end();
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_may_be_the_origin() {
        let mut h = HeaderMap::new();
        assert!(origin_ok(&h));
        for (o, ok) in [
            ("http://localhost:6274", true),
            ("http://127.0.0.1", true),
            ("http://[::1]:3000", true),
            ("https://evil.example", false),
            ("http://localhost.evil.example", false),
            ("null", false),
        ] {
            h.insert("origin", HeaderValue::from_static(o));
            assert_eq!(origin_ok(&h), ok, "{o}");
        }
    }
}
