//! The HTTP API (the same router serves TCP and the unix socket). Problems are RFC 9457 JSON
//! with a stable ward code; request bodies are bounded. Hook endpoints never answer a problem to
//! a client: an error there is the client's own "block" (a Claude Code `http` hook treats a
//! non-2xx answer as a non-blocking error and runs the tool).

use crate::approvals;
use crate::assistants::Undo;
use crate::service::{HookRequest, Service, now_ms};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::IncomingStream;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use ward_core::event::Caller;
use ward_core::{ClientKind, ErrorCode, WardError};
use ward_store::people::{self, ApprovalState, Role, User};
use ward_store::registry::Status;
use ward_store::{CheckpointQuery, EventQuery, read_err};

pub use checked::{Path, Query};

/// The OpenAPI document, checked in and served as is.
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");

/// Who is at the other end of the connection.
#[derive(Debug, Clone)]
pub enum Peer {
    /// A unix socket peer, as the kernel reported it and `/proc` showed it when the connection
    /// was accepted (once per connection, not per request).
    Unix(Arc<crate::attest::UnixPeer>),
    /// A unix socket peer whose credentials could not be read: never trusted.
    UnixUnknown,
    Tcp(SocketAddr),
}

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer::Tcp(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, tokio::net::UnixListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::UnixListener>) -> Self {
        match stream.io().peer_cred() {
            Ok(c) => Peer::Unix(Arc::new(crate::attest::unix_peer(
                c.uid(),
                c.gid(),
                c.pid(),
            ))),
            Err(_) => Peer::UnixUnknown,
        }
    }
}

type Svc = Arc<Service>;

pub fn router(svc: Svc) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/decide", post(decide))
        .route("/v1/hooks/{client}", post(hook))
        .route("/v1/events", get(events))
        .route("/v1/events/{id}", get(event))
        .route("/v1/events/{id}/proof", get(proof))
        .route("/v1/checkpoint", get(checkpoint))
        .route("/v1/approvals", get(list_approvals))
        .route("/v1/approvals/{id}", get(get_approval))
        .route("/v1/approvals/{id}/approve", post(approve))
        .route("/v1/approvals/{id}/deny", post(deny))
        .route("/v1/users", get(list_users).post(add_user))
        .route("/v1/whoami", get(whoami))
        .route(
            "/v1/assistants",
            get(list_assistants).post(register_assistant),
        )
        .route(
            "/v1/assistants/{id}",
            get(get_assistant).patch(update_assistant),
        )
        .route("/v1/assistants/{id}/{change}", post(change_assistant))
        .route("/v1/tasks", get(list_tasks).post(start_task))
        .route("/v1/tasks/{id}", get(get_task))
        .route("/v1/tasks/{id}/end", post(end_task))
        .route("/v1/introspect", post(introspect))
        .route("/v1/token", post(token_exchange))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/v1/mcp/{server}/tools", get(mcp_held))
        .route("/v1/mcp/{server}/tools/accept", post(mcp_accept))
        .route(
            "/mcp/{name}",
            post(crate::gateway::post)
                .get(crate::gateway::get)
                .delete(crate::gateway::delete),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(svc)
}

/// axum's `Path` and `Query`, answering a bad request the way every other one is answered: a
/// problem body with a stable code. axum's own answer is a plain-text 400, which also breaks the
/// contract of `POST /v1/hooks/{client}` (a client reads a non-2xx answer as "no decision").
pub mod checked {
    use super::Problem;
    use axum::extract::FromRequestParts;
    use axum::http::StatusCode;
    use axum::http::request::Parts;
    use serde::de::DeserializeOwned;
    use ward_core::ErrorCode;

    /// Path parameters; a segment that does not decode (not UTF-8) is a 400 problem.
    #[derive(Debug)]
    pub struct Path<T>(pub T);

    /// The query string; one that does not fit the endpoint's parameters is a 400 problem.
    #[derive(Debug)]
    pub struct Query<T>(pub T);

    impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
        type Rejection = Problem;

        async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
            axum::extract::Path::<T>::from_request_parts(parts, state)
                .await
                .map(|axum::extract::Path(v)| Path(v))
                .map_err(|e| bad("path", &e.body_text()))
        }
    }

    impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
        type Rejection = Problem;

        async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
            axum::extract::Query::<T>::from_request_parts(parts, state)
                .await
                .map(|axum::extract::Query(v)| Query(v))
                .map_err(|e| bad("query string", &e.body_text()))
        }
    }

    fn bad(what: &str, why: &str) -> Problem {
        // axum's texts start with a preamble of its own ("Failed to deserialize query string: ").
        let why = why.split_once(": ").map_or(why, |(_, w)| w);
        Problem::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadInput,
            format!("bad {what}: {why}; see /openapi.json for this endpoint's parameters"),
        )
    }
}

/// An RFC 9457 problem with ward's code.
pub struct Problem {
    pub status: StatusCode,
    pub err: WardError,
}

impl Problem {
    pub fn new(status: StatusCode, code: ErrorCode, msg: impl Into<String>) -> Problem {
        Problem {
            status,
            err: WardError::new(code, msg),
        }
    }
}

fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden | ErrorCode::CredentialDenied => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::ApprovalState | ErrorCode::AssistantState | ErrorCode::TaskState => {
            StatusCode::CONFLICT
        }
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::BadInput
        | ErrorCode::Usage
        | ErrorCode::PayloadMalformed
        | ErrorCode::PayloadInvalid
        | ErrorCode::PayloadUnknownEvent => StatusCode::BAD_REQUEST,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl From<WardError> for Problem {
    fn from(err: WardError) -> Problem {
        Problem {
            status: status_for(err.code),
            err,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = json!({
            "type": format!("https://ward.dev/errors/{}", self.err.code.as_str()),
            "title": self.status.canonical_reason().unwrap_or("error"),
            "status": self.status.as_u16(),
            "code": self.err.code.as_str(),
            "detail": self.err.message,
            "help": self.err.code.help(),
        });
        let mut r = (self.status, body.to_string()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        r
    }
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, v.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Read a bounded body.
pub(crate) async fn body_bytes(svc: &Service, body: Body) -> Result<Bytes, WardError> {
    let limit = svc.settings.max_body_bytes;
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_big = std::error::Error::source(&e)
            .is_some_and(|s| s.to_string().contains("length limit"))
            || e.to_string().contains("length limit");
        if too_big {
            WardError::new(
                ErrorCode::PayloadTooLarge,
                format!("the request body exceeds {limit} bytes"),
            )
        } else {
            WardError::new(
                ErrorCode::PayloadMalformed,
                format!("cannot read the request body: {e}"),
            )
        }
    })
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The user an API key names; every admin, approval and read endpoint needs one.
async fn authenticate(svc: &Service, headers: &HeaderMap, need: Role) -> Result<User, Problem> {
    let Some(key) = bearer(headers) else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "this endpoint needs an API key (`Authorization: Bearer ward_k_…`)",
        ));
    };
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let user = people::user_by_key(c.r(), &crate::keys::secret_hash(key))
        .await
        .map_err(read_err)?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "the API key is not valid (unknown or revoked)",
            )
        })?;
    if user.role < need {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!(
                "`{}` has the {} role; this needs {}",
                user.name,
                user.role.as_str(),
                need.as_str()
            ),
        ));
    }
    Ok(user)
}

/// The caller of a hook or decide request (attested on the socket, a hook token over TCP), and
/// its home directory when the socket told it.
pub(crate) async fn hook_caller(
    svc: &Service,
    peer: &Peer,
    headers: &HeaderMap,
) -> Result<(Caller, Option<String>), WardError> {
    match peer {
        Peer::Unix(p) => Ok((p.caller.clone(), p.home.clone())),
        Peer::UnixUnknown => Err(WardError::new(
            ErrorCode::Unauthenticated,
            "the socket peer's credentials could not be read",
        )),
        Peer::Tcp(addr) => {
            let token = bearer(headers).ok_or_else(|| {
                WardError::new(
                    ErrorCode::Unauthenticated,
                    "HTTP hooks need `Authorization: Bearer <token>` from `ward hook token NAME`",
                )
            })?;
            let hash = crate::keys::secret_hash(token);
            let name = match svc.hook_tokens.get(&hash, Instant::now()) {
                Some(name) => name,
                None => {
                    let mut c = svc.pool.acquire().await.map_err(read_err)?;
                    let name = people::hook_token_name(c.r(), &hash)
                        .await
                        .map_err(read_err)?
                        .ok_or_else(|| {
                            WardError::new(
                                ErrorCode::Unauthenticated,
                                "the hook token is not valid (unknown or rotated)",
                            )
                        })?;
                    svc.hook_tokens.put(hash, name.clone(), Instant::now());
                    name
                }
            };
            Ok((
                Caller {
                    transport: "http".into(),
                    token: Some(name),
                    addr: Some(addr.to_string()),
                    ..Caller::default()
                },
                None,
            ))
        }
    }
}

#[derive(Deserialize, Default)]
struct HookQuery {
    event: Option<String>,
    wait: Option<String>,
}

pub(crate) fn parse_wait(w: Option<&str>) -> Result<Option<Duration>, WardError> {
    match w {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|s| *s <= 3600)
            .map(|s| Some(Duration::from_secs(s)))
            .ok_or_else(|| crate::service::bad_wait(v)),
    }
}

async fn hook(
    State(svc): State<Svc>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(client): Path<String>,
    query: Result<Query<HookQuery>, Problem>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(client) = client.parse::<ClientKind>() else {
        return Problem::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("unknown client `{client}`; use claude-code, codex, gemini, cursor or copilot"),
        )
        .into_response();
    };
    let process = headers
        .get("ward-reply")
        .is_some_and(|v| v.as_bytes() == b"process");
    // A query string that does not parse is answered as the client's block, like any other
    // error on the decision path (a non-2xx answer would let the client go ahead).
    let (q, bad_query) = match query {
        Ok(Query(q)) => (q, None),
        Err(p) => (HookQuery::default(), Some(p.err)),
    };
    let hint = q.event.as_deref();
    let fail = |e: WardError| {
        svc.metrics.decision("deny", &[], Duration::ZERO);
        hook_response(
            process,
            &ward_clients::render_error(client, hint, &e),
            None,
            None,
            None,
        )
    };
    if let Some(e) = bad_query {
        return fail(e);
    }
    let payload = match body_bytes(&svc, body).await {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let wait = match parse_wait(q.wait.as_deref()) {
        Ok(w) => w,
        Err(e) => return fail(e),
    };
    let (caller, home_dir) = match hook_caller(&svc, &peer, &headers).await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    // Only an attested local hook process speaks for its environment.
    let env_secrets = match &peer {
        Peer::Unix(_) => headers
            .get("ward-env-secrets")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .filter(|n| !n.is_empty())
                    .take(64)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let ans = svc
        .hook(HookRequest {
            client,
            payload: &payload,
            hint,
            caller,
            home_dir,
            wait,
            env_secrets,
        })
        .await;
    hook_response(
        process,
        &ans.handled.reply,
        ans.handled.event_id.as_deref(),
        ans.approval_id.as_deref(),
        ans.task.as_deref(),
    )
}

/// A hook answer: for a hook process, the whole reply as JSON; for an HTTP hook, the client's
/// reply body (what it would read on stdout) with the event id in a header.
fn hook_response(
    process: bool,
    reply: &ward_clients::Reply,
    event_id: Option<&str>,
    approval_id: Option<&str>,
    task: Option<&str>,
) -> Response {
    let mut r = if process {
        json_response(
            StatusCode::OK,
            &json!({
                "stdout": reply.stdout,
                "stderr": reply.stderr,
                "exit_code": reply.exit_code,
                "event_id": event_id,
                "approval_id": approval_id,
                "task": task,
            }),
        )
    } else {
        let mut r = (StatusCode::OK, reply.stdout.clone()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    if let Some(id) = event_id.and_then(|i| HeaderValue::from_str(i).ok()) {
        r.headers_mut().insert("ward-event-id", id);
    }
    r
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    /// A raw client payload and its client.
    client: Option<String>,
    event: Option<String>,
    payload: Option<Value>,
    /// Or a normalized call.
    call: Option<ward_core::ToolCall>,
    /// Seconds to wait for an approver.
    wait: Option<u64>,
    /// With an MCP `call`: what the call returned (recorded, linked to its decision; nothing
    /// is decided).
    effect: Option<ward_core::Effect>,
}

async fn decide(
    State(svc): State<Svc>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    // Who asks first: an unauthenticated body is not read.
    let (caller, home_dir) = hook_caller(&svc, &peer, &headers).await?;
    let bytes = body_bytes(&svc, body).await?;
    let req: DecideBody = serde_json::from_slice(&bytes).map_err(|e| {
        WardError::new(
            ErrorCode::PayloadMalformed,
            format!("the body is not a decide request: {e}"),
        )
    })?;
    let wait = match req.wait {
        Some(s) if s > 3600 => return Err(crate::service::bad_wait(&s.to_string()).into()),
        Some(s) => Some(Duration::from_secs(s)),
        None => None,
    };
    let is_effect = req.effect.is_some();
    if is_effect
        && !req
            .call
            .as_ref()
            .is_some_and(|c| matches!(c.action, ward_core::Action::Mcp { .. }))
    {
        return Err(WardError::new(
            ErrorCode::PayloadInvalid,
            "`effect` is recorded for an MCP `call` only (hooks send their clients' post-tool payloads)",
        )
        .into());
    }
    let ans = match (req.client, req.payload, req.call) {
        (Some(c), Some(p), None) => {
            let client = c.parse::<ClientKind>().map_err(|_| {
                WardError::new(ErrorCode::BadInput, format!("unknown client `{c}`"))
            })?;
            let payload = p.to_string();
            svc.hook(HookRequest {
                client,
                payload: payload.as_bytes(),
                hint: req.event.as_deref(),
                caller,
                home_dir,
                wait,
                env_secrets: Vec::new(),
            })
            .await
        }
        // An MCP call (from `ward mcp wrap`), for any client: decided as it is, for the caller
        // the connection attests (the body's identity is not trusted).
        (None, None, Some(mut call)) if matches!(call.action, ward_core::Action::Mcp { .. }) => {
            let who = crate::service::who(&caller);
            call.assistant.host = svc.host.clone();
            call.assistant.os_user = who.clone();
            let (event_name, kind) = match &req.effect {
                Some(_) => ("tools/call result", ward_core::HookKind::PostTool),
                None => ("tools/call", ward_core::HookKind::PreTool),
            };
            let ev = ward_core::HookEvent {
                client: call.assistant.client,
                event_name: event_name.into(),
                kind,
                session_id: call.session_id.clone(),
                cwd: call.cwd.clone(),
                call: Some(call),
                effect: req.effect,
            };
            let run = crate::service::Run {
                who,
                caller,
                home_dir,
                wait,
                env_secrets: Vec::new(),
                task: None,
                refuse: None,
                started: Instant::now(),
            };
            svc.run(ev, run).await
        }
        (None, None, Some(call)) => {
            let payload = normalized_as_payload(&call)?;
            svc.hook(HookRequest {
                client: call.assistant.client,
                payload: payload.as_bytes(),
                hint: Some("PreToolUse"),
                caller,
                home_dir,
                wait,
                env_secrets: Vec::new(),
            })
            .await
        }
        _ => {
            return Err(WardError::new(
                ErrorCode::PayloadInvalid,
                "send either `client` + `payload` (a raw hook payload) or `call` (a normalized call)",
            )
            .into());
        }
    };
    let h = &ans.handled;
    if is_effect {
        // A result recorded, not a decision: where it went, or why it could not be.
        return match &h.event_id {
            Some(id) => Ok(json_response(
                StatusCode::OK,
                &json!({ "recorded": true, "event_id": id }),
            )),
            None => Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::AuditAppend,
                format!("the result was not recorded: {}", h.reply.stderr.trim()),
            )),
        };
    }
    let decision = match &h.decision {
        Some(d) => d.clone(),
        None => {
            // The payload did not parse or was not a tool call: a deny naming why.
            let reason = h.reply.stderr.trim().to_string();
            ward_core::Decision {
                outcome: ward_core::Outcome::Deny,
                policies: Vec::new(),
                reason: if reason.is_empty() {
                    "not a pre-tool call: nothing to decide".into()
                } else {
                    reason
                },
                facts: Vec::new(),
                error_code: Some(ErrorCode::PayloadInvalid.as_str().into()),
                confirm_locally: false,
            }
        }
    };
    let mut r = json_response(
        StatusCode::OK,
        &json!({
            "decision": decision.outcome.as_str(),
            "reason": decision.reason,
            "policies": decision.policies,
            "facts": decision.facts,
            "error_code": decision.error_code,
            "event_id": h.event_id,
            "approval_id": ans.approval_id,
        }),
    );
    if let Some(id) = h
        .event_id
        .as_deref()
        .and_then(|i| HeaderValue::from_str(i).ok())
    {
        r.headers_mut().insert("ward-event-id", id);
    }
    Ok(r)
}

/// A normalized call, as the Claude Code payload that carries it (the one adapter path).
fn normalized_as_payload(call: &ward_core::ToolCall) -> Result<String, WardError> {
    if call.assistant.client != ClientKind::ClaudeCode {
        return Err(WardError::new(
            ErrorCode::BadInput,
            "a normalized `call` must name `claude-code` as its client; send other clients' raw payloads with `client` + `payload`",
        ));
    }
    let (tool, input) = match &call.action {
        ward_core::Action::Shell { command } => ("Bash", json!({ "command": command })),
        ward_core::Action::FileRead { paths } => (
            "Read",
            json!({ "file_path": paths.first().cloned().unwrap_or_default() }),
        ),
        ward_core::Action::FileWrite { paths, content } => (
            "Write",
            json!({ "file_path": paths.first().cloned().unwrap_or_default(), "content": content.clone().unwrap_or_default() }),
        ),
        ward_core::Action::WebFetch { url } => ("WebFetch", json!({ "url": url })),
        ward_core::Action::Mcp {
            server,
            tool,
            arguments,
        } => {
            return Ok(json!({
                "session_id": call.session_id,
                "cwd": call.cwd,
                "hook_event_name": "PreToolUse",
                "tool_name": format!("mcp__{server}__{tool}"),
                "tool_input": arguments,
                "tool_use_id": call.tool_use_id,
            })
            .to_string());
        }
        ward_core::Action::Other { name } => (name.as_str(), call.input.clone()),
        ward_core::Action::Credential { .. } => {
            return Err(WardError::new(
                ErrorCode::BadInput,
                "credentials are asked of the broker (`ward credential …`, `POST /v1/token`), not decided as hook calls",
            ));
        }
    };
    Ok(json!({
        "session_id": call.session_id,
        "cwd": call.cwd,
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": input,
        "tool_use_id": call.tool_use_id,
    })
    .to_string())
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

async fn readyz(State(svc): State<Svc>) -> Result<Response, Problem> {
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    ward_store::repo::ping(c.r()).await.map_err(read_err)?;
    drop(c);
    svc.engine("shell")?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"status": "ready", "audit_lag": svc.audit_lag()}),
    ))
}

async fn metrics(State(svc): State<Svc>) -> Response {
    let mut r = (StatusCode::OK, svc.metrics.render(svc.audit_lag())).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

async fn openapi() -> Response {
    let mut r = (StatusCode::OK, OPENAPI).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A known path asked with a method it does not take (axum adds the `Allow` header).
async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::BadInput,
        "this endpoint does not take that method; the `Allow` header and /openapi.json list the ones it does",
    )
}

async fn not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such endpoint; see /openapi.json",
    )
}

fn stored_json(e: &ward_store::StoredEvent) -> Result<Value, WardError> {
    let mut v = e.json()?;
    if let Some(o) = v.as_object_mut() {
        o.insert("seq".into(), json!(e.seq));
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    from: Option<u64>,
    limit: Option<u64>,
}

async fn events(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Viewer).await?;
    let limit = match q.limit {
        None => 100,
        Some(n @ 1..=1000) => n,
        Some(n) => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadInput,
                format!("`limit={n}` is out of range: ask for 1 to 1000 events a page"),
            ));
        }
    };
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let rows = ward_store::repo::events(
        c.r(),
        &EventQuery::From {
            from: q.from.unwrap_or(0),
            limit,
        },
    )
    .await
    .map_err(read_err)?;
    let list = rows
        .iter()
        .map(stored_json)
        .collect::<Result<Vec<_>, _>>()?;
    let next = rows.last().map(|e| e.seq + 1);
    Ok(json_response(
        StatusCode::OK,
        &json!({"events": list, "next": next}),
    ))
}

async fn event_row(svc: &Service, id: &str) -> Result<ward_store::StoredEvent, Problem> {
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    ward_store::repo::events(c.r(), &EventQuery::ById(id.to_string()))
        .await
        .map_err(read_err)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                format!("no event `{id}` in the audit log"),
            )
        })
}

async fn event(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Viewer).await?;
    let row = event_row(&svc, &id).await?;
    Ok(json_response(StatusCode::OK, &stored_json(&row)?))
}

async fn proof(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Viewer).await?;
    let row = event_row(&svc, &id).await?;
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let cp = ward_store::repo::checkpoints(c.r(), CheckpointQuery::Latest)
        .await
        .map_err(read_err)?
        .into_iter()
        .next()
        .ok_or_else(|| WardError::new(ErrorCode::AuditVerify, "the log has no checkpoint"))?;
    let rows = ward_store::repo::events(
        c.r(),
        &EventQuery::From {
            from: 0,
            limit: cp.size,
        },
    )
    .await
    .map_err(read_err)?;
    drop(c);
    let leaves = ward_store::leaf_hashes_of(&rows)?;
    let audit = |e: ward_audit::AuditError| WardError::new(ErrorCode::AuditVerify, e.to_string());
    let bundle = ward_audit::InclusionBundle {
        leaf_index: row.seq,
        leaf_hash: ward_audit::leaf_hash(&row.body),
        proof: ward_audit::inclusion_proof(&leaves, row.seq).map_err(audit)?,
        checkpoint_note: cp.note,
        vkey: svc.verifier.vkey(),
    };
    bundle.check().map_err(audit)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"event_id": id, "seq": row.seq, "tree_size": cp.size, "bundle": bundle.to_text()}),
    ))
}

async fn checkpoint(State(svc): State<Svc>, headers: HeaderMap) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Viewer).await?;
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let cp = ward_store::repo::checkpoints(c.r(), CheckpointQuery::Latest)
        .await
        .map_err(read_err)?
        .into_iter()
        .next();
    Ok(json_response(
        StatusCode::OK,
        &match cp {
            Some(cp) => {
                json!({"size": cp.size, "root": hex::encode(&cp.root), "note": cp.note, "vkey": svc.verifier.vkey()})
            }
            None => json!({"size": 0, "root": null, "note": null, "vkey": svc.verifier.vkey()}),
        },
    ))
}

pub fn approval_json(a: &people::Approval, now: u64) -> Value {
    json!({
        "id": a.id,
        "state": a.state_at(now).as_str(),
        "requester": a.requester,
        "assistant": a.assistant,
        "session_id": a.session_id,
        "tool_name": a.tool_name,
        "action": a.action,
        "reason": a.reason,
        "policies": a.policies.split(',').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
        "action_hash": a.action_hash,
        "created_ms": a.created_ms,
        "expires_ms": a.expires_ms,
        "decided_by": a.decided_by,
        "decided_ms": a.decided_ms,
        "note": a.note,
        "used_ms": a.used_ms,
        "request_event": a.request_event,
    })
}

async fn list_approvals(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Viewer).await?;
    let state = match q.get("state").map(String::as_str) {
        None | Some("all") => None,
        Some(s) => Some(ApprovalState::parse(s).ok_or_else(|| {
            WardError::new(
                ErrorCode::BadInput,
                format!("unknown state `{s}`; use pending, approved, denied, used, expired or all"),
            )
        })?),
    };
    let now = now_ms();
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let list = people::approvals(c.r(), state, now, 500)
        .await
        .map_err(read_err)?;
    let v: Vec<Value> = list.iter().map(|a| approval_json(a, now)).collect();
    Ok(json_response(StatusCode::OK, &json!({"approvals": v})))
}

async fn get_approval(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Viewer).await?;
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let a = people::approval(c.r(), &id)
        .await
        .map_err(read_err)?
        .ok_or_else(|| WardError::new(ErrorCode::NotFound, format!("no approval `{id}`")))?;
    Ok(json_response(StatusCode::OK, &approval_json(&a, now_ms())))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    note: Option<String>,
}

async fn decide_approval(
    svc: Svc,
    headers: HeaderMap,
    id: String,
    body: Body,
    approve: bool,
) -> Result<Response, Problem> {
    let user = authenticate(&svc, &headers, Role::Approver).await?;
    let bytes = body_bytes(&svc, body).await?;
    let note: NoteBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        NoteBody::default()
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            WardError::new(
                ErrorCode::PayloadMalformed,
                format!("the body is not {{\"note\": …}}: {e}"),
            )
        })?
    };
    let note = note
        .note
        .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(500).collect::<String>());
    let a = approvals::decide(&svc, &user, &id, approve, note.as_deref()).await?;
    Ok(json_response(StatusCode::OK, &approval_json(&a, now_ms())))
}

async fn approve(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Problem> {
    decide_approval(svc, headers, id, body, true).await
}

async fn deny(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Problem> {
    decide_approval(svc, headers, id, body, false).await
}

fn user_json(u: &User) -> Value {
    json!({"name": u.name, "role": u.role.as_str(), "created_ms": u.created_ms})
}

async fn list_users(State(svc): State<Svc>, headers: HeaderMap) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Admin).await?;
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let users = people::users(c.r()).await.map_err(read_err)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"users": users.iter().map(user_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddUser {
    name: String,
    role: String,
}

async fn add_user(
    State(svc): State<Svc>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Admin).await?;
    let bytes = body_bytes(&svc, body).await?;
    let req: AddUser = serde_json::from_slice(&bytes).map_err(|e| {
        WardError::new(
            ErrorCode::PayloadMalformed,
            format!("the body is not {{\"name\", \"role\"}}: {e}"),
        )
    })?;
    let mut c = svc.write_conn().await?;
    let (user, key) = crate::users::add(c.r(), &req.name, &req.role).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"user": user_json(&user), "api_key": key}),
    ))
}

async fn whoami(State(svc): State<Svc>, headers: HeaderMap) -> Result<Response, Problem> {
    let u = authenticate(&svc, &headers, Role::Viewer).await?;
    Ok(json_response(StatusCode::OK, &user_json(&u)))
}

// The assistant registry, for admins (changes) and viewers (reads). Each change is recorded as a
// `registry` event through the group commit before it is answered; one that cannot be recorded
// is undone. Every daemon forgets what it remembered of the registry.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StaleQuery {
    stale: Option<bool>,
    unused_days: Option<u64>,
}

async fn list_assistants(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Query(q): Query<StaleQuery>,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Viewer).await?;
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let all = ward_store::registry::list(c.r()).await.map_err(read_err)?;
    let users = people::users(c.r()).await.map_err(read_err)?;
    let stale = (q.stale == Some(true)).then(|| q.unused_days.unwrap_or(30));
    let v: Vec<Value> = crate::assistants::listing(&all, &users, now_ms(), stale)
        .into_iter()
        .map(|(a, why)| {
            let mut v = with_risk(&svc, a);
            if stale.is_some() {
                v["stale"] = json!(why);
            }
            v
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"assistants": v})))
}

async fn get_assistant(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Viewer).await?;
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let a = crate::assistants::get(c.r(), &id).await?;
    Ok(json_response(StatusCode::OK, &with_risk(&svc, &a)))
}

/// An assistant as the API shows it: with its risk tier under the daemon's policy and
/// settings now (`"risk": null` if the pack cannot be evaluated; the error is in `risk_error`).
fn with_risk(svc: &Service, a: &ward_store::registry::Assistant) -> Value {
    let mut v = crate::assistants::to_json(a);
    // The daemon's warm engines, as its decisions use them.
    match crate::assistants::risk(&|k| svc.engine(k), a, svc.settings.enrollment.pending) {
        Ok(r) => v["risk"] = r.json(),
        Err(e) => {
            v["risk"] = Value::Null;
            v["risk_error"] = json!(e.to_string());
        }
    }
    v
}

fn body_json<T: serde::de::DeserializeOwned>(bytes: &[u8], shape: &str) -> Result<T, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_slice(b"{}").map_err(|e| bad_body(shape, &e));
    }
    serde_json::from_slice(bytes).map_err(|e| bad_body(shape, &e))
}

fn bad_body(shape: &str, e: &dyn std::fmt::Display) -> Problem {
    WardError::new(
        ErrorCode::PayloadMalformed,
        format!("the body is not {shape}: {e}"),
    )
    .into()
}

fn review_date(v: &str) -> Result<u64, Problem> {
    ward_core::event::date_ms(v).ok_or_else(|| {
        WardError::new(
            ErrorCode::BadInput,
            format!("`{v}` is not a date; give the review date as YYYY-MM-DD"),
        )
        .into()
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    name: String,
    kind: String,
    owner: String,
    host: Option<String>,
    os_user: Option<String>,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    repos: Vec<String>,
    #[serde(default)]
    envs: Vec<String>,
    review_by: Option<String>,
}

async fn register_assistant(
    State(svc): State<Svc>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let user = authenticate(&svc, &headers, Role::Admin).await?;
    let bytes = body_bytes(&svc, body).await?;
    let b: RegisterBody = body_json(&bytes, "{\"name\", \"kind\", \"owner\", …}")?;
    let r = crate::assistants::Registration {
        host: b.host.unwrap_or_else(|| svc.host.clone()),
        os_user: b.os_user.unwrap_or_else(|| b.owner.clone()),
        name: b.name,
        kind: b.kind,
        owner: b.owner,
        purpose: b.purpose,
        repos: b.repos,
        envs: b.envs,
        review_by_ms: b.review_by.as_deref().map(review_date).transpose()?,
    };
    let mut c = svc.write_conn().await?;
    let a = crate::assistants::register(c.r(), &r, &user.name).await?;
    drop(c);
    recorded(
        &svc,
        &a,
        "register",
        &user.name,
        Undo::Status(Status::Retired),
    )
    .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"id": a.id, "status": a.status.as_str()}),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    owner: Option<String>,
    purpose: Option<String>,
    repos: Option<Vec<String>>,
    envs: Option<Vec<String>>,
    /// `null` clears it; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    review_by: Option<Option<String>>,
}

/// A field that is present (`Some`, possibly `null`) or absent (`None`, by `default`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

async fn update_assistant(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Problem> {
    let user = authenticate(&svc, &headers, Role::Admin).await?;
    let bytes = body_bytes(&svc, body).await?;
    let b: UpdateBody = body_json(
        &bytes,
        "{\"owner\", \"purpose\", \"repos\", \"envs\", \"review_by\"}",
    )?;
    let u = crate::assistants::Update {
        owner: b.owner,
        purpose: b.purpose,
        repos: b.repos,
        envs: b.envs,
        review_by_ms: match b.review_by {
            None => None,
            Some(None) => Some(None),
            Some(Some(d)) => Some(Some(review_date(&d)?)),
        },
    };
    let mut c = svc.write_conn().await?;
    let (before, after) = crate::assistants::update(c.r(), &id, &u).await?;
    drop(c);
    recorded(
        &svc,
        &after,
        "update",
        &user.name,
        Undo::Fields(Box::new(before)),
    )
    .await?;
    Ok(json_response(
        StatusCode::OK,
        &crate::assistants::to_json(&after),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    owner: Option<String>,
}

async fn change_assistant(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Path((id, verb)): Path<(String, String)>,
    body: Body,
) -> Result<Response, Problem> {
    use crate::assistants::Change;
    let change = match verb.as_str() {
        "approve" => Change::Approve,
        "suspend" => Change::Suspend,
        "resume" => Change::Resume,
        "retire" => Change::Retire,
        _ => return Err(not_found().await),
    };
    let user = authenticate(&svc, &headers, Role::Admin).await?;
    let bytes = body_bytes(&svc, body).await?;
    let b: ChangeBody = body_json(&bytes, "{\"owner\"}")?;
    let mut c = svc.write_conn().await?;
    let before = crate::assistants::get(c.r(), &id).await?.status;
    let a = crate::assistants::change(c.r(), &id, change, b.owner.as_deref(), &user.name).await?;
    drop(c);
    recorded(&svc, &a, change.verb(), &user.name, Undo::Status(before)).await?;
    let mut v = crate::assistants::to_json(&a);
    // A suspended or retired assistant holds nothing: its tasks end, its leases are revoked.
    if matches!(change, Change::Suspend | Change::Retire) {
        let mut c = svc.write_conn().await?;
        let ended = crate::tasks::end_of_assistant(
            c.r(),
            &svc.signer,
            &a.id,
            &format!("assistant {}", a.status.as_str()),
            &svc.settings.broker,
        )
        .await?;
        v["ended_tasks"] = json!(ended.tasks);
        v["revoked_leases"] = json!(ended.revoked_json());
    }
    Ok(json_response(StatusCode::OK, &v))
}

// Tasks and their tokens. Starting and ending are admin work (a CI system holds an admin key);
// reading is a viewer's. Each step is appended to the log before it is answered.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TasksQuery {
    all: Option<bool>,
}

async fn list_tasks(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Query(q): Query<TasksQuery>,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Viewer).await?;
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let list = ward_store::tasks::list_tasks(c.r(), q.all != Some(true))
        .await
        .map_err(read_err)?;
    let now = now_ms();
    let v: Vec<Value> = list.iter().map(|t| crate::tasks::to_json(t, now)).collect();
    Ok(json_response(StatusCode::OK, &json!({ "tasks": v })))
}

async fn get_task(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Viewer).await?;
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let (t, leases) = crate::tasks::get_with_leases(c.r(), &id).await?;
    Ok(json_response(
        StatusCode::OK,
        &crate::tasks::to_json_with_leases(&t, &leases, now_ms()),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    assistant: String,
    repo: String,
    env: Option<String>,
    /// `90s`, `15m`, `2h`.
    ttl: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    parent: Option<String>,
    agent: Option<String>,
    /// The ward user the work is for (default: the caller).
    requester: Option<String>,
}

async fn start_task(
    State(svc): State<Svc>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let user = authenticate(&svc, &headers, Role::Admin).await?;
    let bytes = body_bytes(&svc, body).await?;
    let b: StartBody = body_json(&bytes, "{\"assistant\", \"repo\", …}")?;
    let ttl_ms = b
        .ttl
        .as_deref()
        .map(ward_broker::task::parse_ttl)
        .transpose()
        .map_err(|e| WardError::new(ErrorCode::BadInput, e))?;
    let req = crate::tasks::StartTask {
        assistant: b.assistant,
        repo: b.repo,
        env: b.env,
        ttl_ms,
        scopes: b.scopes,
        parent: b.parent,
        agent: b.agent,
        session_id: None,
    };
    let key = svc.token_key()?;
    let requester = b.requester.unwrap_or(user.name);
    let mut c = svc.write_conn().await?;
    let s = crate::tasks::start(c.r(), &svc.signer, &key, &req, &requester).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({
            "id": s.task.id,
            "token": s.token,
            "expires": ward_core::event::rfc3339_ms(s.task.expires_ms),
            "token_expires": ward_core::event::rfc3339_ms(s.lease.expires_ms),
            "scopes": s.task.scopes,
        }),
    ))
}

async fn end_task(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Admin).await?;
    let mut c = svc.write_conn().await?;
    let ended = crate::tasks::end(
        c.r(),
        &svc.signer,
        &id,
        "ended over the API",
        &svc.settings.broker,
    )
    .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"ended": ended.tasks, "revoked": ended.revoked_json()}),
    ))
}

/// RFC 7662: `token=…` as a form (the RFC's encoding) or `{"token": …}`. An API key, when
/// given, must be valid; without one the answer is the same. RFC 7662 asks for authorization
/// against token scanning, which matters for guessable opaque tokens: ward's are signed JWTs
/// (a guess fails the signature check), the JWKS is public, and an inactive answer is exactly
/// `{"active": false}`, so a resource server or a tool holding a token can ask with nothing else.
async fn introspect(
    State(svc): State<Svc>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    if bearer(&headers).is_some_and(|b| b.starts_with(crate::keys::API_KEY_PREFIX)) {
        authenticate(&svc, &headers, Role::Viewer).await?;
    }
    let bytes = body_bytes(&svc, body).await?;
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let token = if form {
        form_field(&bytes, "token")
    } else {
        #[derive(Deserialize)]
        struct B {
            token: String,
        }
        Some(body_json::<B>(&bytes, "{\"token\"}")?.token)
    }
    .ok_or_else(|| WardError::new(ErrorCode::BadInput, "no `token` in the request"))?;
    let key = svc.token_key()?;
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let v = match crate::tasks::check_token(c.r(), &key, svc.signer.name(), &token, None).await? {
        Ok(a) => crate::tasks::introspection(&a),
        Err(_) => json!({ "active": false }),
    };
    Ok(json_response(StatusCode::OK, &v))
}

/// The held tool definitions of an MCP server (viewer).
async fn mcp_held(
    State(svc): State<Svc>,
    Path(server): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    authenticate(&svc, &headers, Role::Viewer).await?;
    let mut c = svc.pool.acquire().await.map_err(read_err)?;
    let held = crate::mcp_pins::held_pins(c.r(), &server).await?;
    Ok(json_response(
        StatusCode::OK,
        &crate::mcp_pins::held_json(&server, &held),
    ))
}

/// Accept held tool definitions (an approver; recorded naming them).
async fn mcp_accept(
    State(svc): State<Svc>,
    Path(server): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let user = authenticate(&svc, &headers, Role::Approver).await?;
    let bytes = body_bytes(&svc, body).await?;
    #[derive(Deserialize, Default)]
    struct B {
        tool: Option<String>,
    }
    let b: B = if bytes.iter().all(u8::is_ascii_whitespace) {
        B::default()
    } else {
        body_json(&bytes, "{\"tool\": \"NAME\"} (or no body: every held tool)")?
    };
    let mut c = svc.write_conn().await?;
    let done = crate::mcp_pins::accept_recorded(
        c.r(),
        &svc.signer,
        &server,
        b.tool.as_deref(),
        &format!("user:{}", user.name),
    )
    .await?;
    if done.is_empty() {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("nothing of `{server}` is held; GET /v1/mcp/{server}/tools shows what is"),
        ));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"server": server, "accepted": done, "by": user.name}),
    ))
}

/// RFC 8693 token exchange. The subject token authenticates the request (no API key): it must be
/// an active task token minted for ward. Form-encoded as the RFC has it, or the same fields as
/// JSON. A refusal is RFC 6749 §5.2 (`{"error", "error_description"}`, 400).
async fn token_exchange(
    State(svc): State<Svc>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let bytes = body_bytes(&svc, body).await?;
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let field = |name: &str| -> Option<String> {
        if form {
            form_field(&bytes, name)
        } else {
            serde_json::from_slice::<Value>(&bytes)
                .ok()?
                .get(name)?
                .as_str()
                .map(str::to_string)
        }
    };
    let x = crate::tasks::Exchange {
        grant_type: field("grant_type").unwrap_or_default(),
        subject_token: field("subject_token").unwrap_or_default(),
        subject_token_type: field("subject_token_type").unwrap_or_default(),
        actor_token: field("actor_token"),
        actor_token_type: field("actor_token_type"),
        audience: field("audience")
            .or_else(|| field("resource"))
            .unwrap_or_default(),
        scope: field("scope").unwrap_or_default(),
        requested_token_type: field("requested_token_type"),
    };
    let mut r = match svc.exchange(&x).await? {
        Ok(t) => json_response(StatusCode::OK, &crate::tasks::exchange_json(&t)),
        Err(r) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": r.error, "error_description": r.description}),
        ),
    };
    // RFC 6749 §5.1: token responses are never cached.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// One field of an `application/x-www-form-urlencoded` body.
fn form_field(bytes: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_decode(v))?
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

async fn jwks(State(svc): State<Svc>) -> Result<Response, Problem> {
    let key = svc.token_key()?;
    Ok(json_response(
        StatusCode::OK,
        &ward_broker::jwt::jwks(&[key.verifying_key()]),
    ))
}

/// Record the change (durable before it is answered) and tell every daemon; if it cannot be
/// recorded, take it back and fail.
async fn recorded(
    svc: &Service,
    a: &ward_store::registry::Assistant,
    verb: &str,
    by: &str,
    undo: Undo,
) -> Result<(), Problem> {
    let result = svc
        .record(&crate::assistants::registry_event(a, verb, by))
        .await;
    if let Err(e) = result {
        let err = match svc.write_conn().await {
            Ok(mut c) => crate::assistants::undo_unrecorded(c.r(), a, undo, e).await,
            Err(_) => e,
        };
        let _ = svc.registry_changed().await;
        return Err(err.into());
    }
    svc.registry_changed().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests")]
    use super::*;
    use ward_core::EventKind;

    /// The checked-in document names every kind of event the log holds (`GET /v1/events`
    /// answers them all).
    #[test]
    fn the_openapi_document_names_every_event_kind() {
        use EventKind::*;
        let all = [
            Decision, Effect, Session, Lifecycle, Approval, Registry, Task, Credential,
        ];
        for k in all {
            // Exhaustive: a new kind stops this compiling until it is listed above.
            match k {
                Decision | Effect | Session | Lifecycle | Approval | Registry | Task
                | Credential => {}
            }
        }
        let spec: Value = serde_json::from_str(OPENAPI).unwrap();
        let documented: Vec<&str> =
            spec["components"]["schemas"]["Event"]["properties"]["kind"]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
        let served: Vec<String> = all
            .iter()
            .map(|k| {
                serde_json::to_value(k)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(documented, served);
    }

    /// Every shape of a normalized call's `action` is documented, with the fields it needs.
    #[test]
    fn the_openapi_document_describes_every_action() {
        use ward_core::Action;
        let s = String::new;
        let all = [
            Action::Shell { command: s() },
            Action::FileRead { paths: vec![] },
            Action::FileWrite {
                paths: vec![],
                content: None,
            },
            Action::WebFetch { url: s() },
            Action::Mcp {
                server: s(),
                tool: s(),
                arguments: Value::Null,
            },
            Action::Other { name: s() },
            Action::Credential {
                provider: s(),
                name: s(),
            },
        ];
        for a in &all {
            // Exhaustive: a new action stops this compiling until it is listed above.
            match a {
                Action::Shell { .. }
                | Action::FileRead { .. }
                | Action::FileWrite { .. }
                | Action::WebFetch { .. }
                | Action::Mcp { .. }
                | Action::Other { .. }
                | Action::Credential { .. } => {}
            }
        }
        let spec: Value = serde_json::from_str(OPENAPI).unwrap();
        let shapes = spec["components"]["schemas"]["ToolCall"]["properties"]["action"]["oneOf"]
            .as_array()
            .unwrap();
        assert_eq!(shapes.len(), all.len());
        for a in &all {
            let v = serde_json::to_value(a).unwrap();
            let kind = v["kind"].as_str().unwrap();
            let shape = shapes
                .iter()
                .find(|sh| sh["properties"]["kind"]["const"] == kind)
                .unwrap_or_else(|| panic!("action `{kind}` is not in openapi.json"));
            // What serialises is what is documented, and every required field is one it has.
            for field in v.as_object().unwrap().keys() {
                assert!(
                    shape["properties"].get(field).is_some(),
                    "`{kind}.{field}` is not documented"
                );
            }
            for req in shape["required"].as_array().unwrap() {
                assert!(
                    v.get(req.as_str().unwrap()).is_some(),
                    "`{kind}` documents `{req}` as required"
                );
            }
        }
    }
}
