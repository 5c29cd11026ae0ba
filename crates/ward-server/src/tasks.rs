//! Tasks and task tokens: start a task for an assistant (its scopes from the registration, its
//! token an EdDSA JWT whose `jti` is a lease), end it with every task delegated from it and every
//! lease of the tree, and answer RFC 7662 introspection. Each step is an audit event.

use crate::assistants;
use crate::pipeline::{bare_event, now_ms};
use serde_json::{Value, json};
use ward_audit::NoteSigner;
use ward_broker::jwt::{Actor, Claims, TokenKey, UnverifiedToken};
use ward_broker::scope::{self, Scope};
use ward_broker::task as rules;
use ward_core::event::{LeaseRef, TaskRef};
use ward_core::{ErrorCode, Event, EventKind, WardError};
use ward_store::conn::ConnRef;
use ward_store::registry::{Assistant, Status};
use ward_store::tasks::{self, Lease, State, Task};
use ward_store::{append_err, read_err};

/// The audience of the token a task starts with: ward itself (credential helpers, token
/// exchange, introspection).
pub const AUDIENCE: &str = "ward";

/// What `ward task start` (or a client's SessionStart) asks for.
#[derive(Debug, Clone, Default)]
pub struct StartTask {
    /// The assistant's id or name.
    pub assistant: String,
    pub repo: String,
    pub env: Option<String>,
    pub ttl_ms: Option<u64>,
    /// Extra `kind:glob` scopes (a secret, a database); a child's narrow its parent's.
    pub scopes: Vec<String>,
    /// The task this one is delegated from.
    pub parent: Option<String>,
    /// The sub-agent the child task is for (`agent:NAME` in the actor chain).
    pub agent: Option<String>,
    pub session_id: Option<String>,
}

/// A started task and its first token.
#[derive(Debug, Clone)]
pub struct Started {
    pub task: Task,
    pub token: String,
    pub lease: Lease,
}

fn random_id(prefix: &str) -> Result<String, WardError> {
    let mut b = [0u8; 12];
    rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut b)
        .map_err(|e| WardError::new(ErrorCode::Io, format!("no randomness available: {e}")))?;
    Ok(format!("{prefix}{}", hex::encode(b)))
}

/// `ward-task-` + 24 hex characters.
pub fn new_task_id() -> Result<String, WardError> {
    random_id("ward-task-")
}

/// `ward-lease-` + 24 hex characters.
pub fn new_lease_id() -> Result<String, WardError> {
    random_id("ward-lease-")
}

fn task_err(msg: String) -> WardError {
    WardError::new(ErrorCode::TaskState, msg)
}

/// The task named `id`, or a clear error.
pub async fn get(c: ConnRef<'_>, id: &str) -> Result<Task, WardError> {
    tasks::get_task(c, id)
        .await
        .map_err(read_err)?
        .ok_or_else(|| {
            WardError::new(
                ErrorCode::NotFound,
                format!("no task `{id}`; `ward task list` shows the live ones"),
            )
        })
}

/// Refuse an assistant that may not work now.
fn require_active(a: &Assistant) -> Result<(), WardError> {
    match a.status {
        Status::Active => Ok(()),
        Status::Pending => Err(WardError::new(
            ErrorCode::AssistantState,
            format!(
                "assistant `{}` ({}) is pending; an admin activates it with `ward assistant approve {} --owner USER`",
                a.name, a.id, a.id
            ),
        )),
        s => Err(WardError::new(
            ErrorCode::AssistantState,
            format!(
                "assistant `{}` ({}) is {}: it gets no tasks{}",
                a.name,
                a.id,
                s.as_str(),
                if s == Status::Suspended {
                    format!(" until `ward assistant resume {}`", a.id)
                } else {
                    String::new()
                }
            ),
        )),
    }
}

/// Append one event (its own group of one), durable before this returns.
pub async fn record(c: ConnRef<'_>, signer: &NoteSigner, ev: &Event) -> Result<(), WardError> {
    let row = ward_store::repo::LogRow::new(ev).map_err(append_err)?;
    ward_store::repo::append_rows(
        c,
        &[row],
        signer,
        signer.name(),
        ward_store::OnDuplicate::Fail,
        &mut ward_store::repo::FrontierCache::default(),
    )
    .await
    .map_err(append_err)?;
    Ok(())
}

/// An event about a task (its start, its end, a credential inside it).
pub fn task_event(kind: EventKind, t: &Task, a: Option<&Assistant>, action: String) -> Event {
    let identity = a
        .map(|a| format!("{}@{}/{}", a.kind, a.host, a.os_user))
        .unwrap_or_else(|| format!("custom@{}/{}", crate::ident::hostname(), t.assistant));
    let mut ev = bare_event(
        kind,
        &identity,
        t.session_id.as_deref().unwrap_or(&t.id),
        &crate::ident::hostname(),
        &t.requester,
    );
    ev.action_kind = Some(match kind {
        EventKind::Credential => "credential".into(),
        _ => "task".into(),
    });
    ev.action = Some(action);
    ev.repo_root = Some(t.repo.clone());
    ev.task = Some(TaskRef {
        id: t.id.clone(),
        actors: t.actors.clone(),
    });
    ev.registration = a.map(|a| ward_core::event::RegistrationRef {
        id: a.id.clone(),
        status: a.status.as_str().to_string(),
        enrolled: false,
    });
    ev
}

/// A new lease of task `t`, issued now: what revoking it needs goes in `detail` (never a
/// secret).
pub fn new_lease(
    t: &Task,
    kind: &str,
    resource: &str,
    detail: Value,
    expires_ms: u64,
    parent: Option<&str>,
) -> Result<Lease, WardError> {
    Ok(Lease {
        id: new_lease_id()?,
        task: t.id.clone(),
        parent: parent.map(str::to_string),
        kind: kind.to_string(),
        resource: resource.to_string(),
        detail: detail.to_string(),
        issued_ms: now_ms(),
        expires_ms,
        revoked_ms: None,
        revoke_reason: None,
    })
}

/// What a minted token is for.
#[derive(Debug, Clone, Copy)]
pub struct TokenFor<'a> {
    pub audience: &'a str,
    pub scopes: &'a [String],
    /// The lease of the token it was exchanged from.
    pub parent: Option<&'a str>,
    /// Asked lifetime (capped by the task and by 8 hours).
    pub ttl_ms: u64,
}

/// Mint a token for `t` (a lease of kind `token`).
pub async fn mint(
    c: ConnRef<'_>,
    key: &TokenKey,
    issuer: &str,
    t: &Task,
    what: TokenFor<'_>,
) -> Result<(String, Lease), WardError> {
    let TokenFor {
        audience,
        scopes,
        parent,
        ttl_ms,
    } = what;
    let now = now_ms();
    let lease = new_lease(
        t,
        "token",
        audience,
        json!({}),
        rules::token_expiry(t, now, ttl_ms),
        parent,
    )?;
    tasks::insert_lease(c, &lease).await.map_err(append_err)?;
    let claims = Claims {
        iss: issuer.to_string(),
        sub: format!("user:{}", t.requester),
        aud: audience.to_string(),
        iat: now / 1000,
        exp: lease.expires_ms / 1000,
        jti: lease.id.clone(),
        task: t.id.clone(),
        scope: scopes.to_vec(),
        act: Actor::from_chain(&t.act_chain()),
    };
    Ok((key.sign(&claims), lease))
}

/// Start a task for `requester`: the assistant must be active, the repository and environment
/// within its registration (a child's within its parent's scopes), the TTL within 8 hours.
pub async fn start(
    mut c: ConnRef<'_>,
    signer: &NoteSigner,
    key: &TokenKey,
    req: &StartTask,
    requester: &str,
) -> Result<Started, WardError> {
    let a = assistants::get(c.reborrow(), &req.assistant).await?;
    require_active(&a)?;
    let extra = scope::parse_all(&req.scopes).map_err(|s| {
        WardError::new(
            ErrorCode::BadInput,
            format!("`{s}` is not a scope; write `kind:glob`, e.g. `secret:npm-token`"),
        )
    })?;
    let now = now_ms();
    let ttl = req.ttl_ms.unwrap_or(rules::DEFAULT_TASK_TTL_MS);
    let mut env = req.env.clone();
    let (parent, scopes, actors, expires, requester) = match &req.parent {
        Some(pid) => {
            let p = get(c.reborrow(), pid).await?;
            if p.state(now) != State::Live {
                return Err(task_err(format!(
                    "the parent task {pid} is {}; a child needs a live parent",
                    p.state(now).as_str()
                )));
            }
            let mut wanted = extra.clone();
            if req.repo != p.repo {
                wanted.push(Scope::new("repo", &req.repo));
            }
            if let Some(e) = &req.env {
                wanted.push(Scope::new("env", e));
            }
            let scopes = if wanted.is_empty() {
                rules::child_scopes(&p, &[])
            } else {
                // Narrowing names what the child keeps; it keeps the parent's repository and
                // environment unless it names narrower ones.
                let theirs = scope::parse_all(&p.scopes).map_err(task_err)?;
                let mut keep: Vec<Scope> = theirs
                    .iter()
                    .filter(|s| {
                        (s.kind == "repo" || s.kind == "env")
                            && !wanted.iter().any(|w| w.kind == s.kind)
                    })
                    .cloned()
                    .collect();
                keep.extend(wanted);
                rules::child_scopes(&p, &keep)
            }
            .map_err(task_err)?;
            let mut actors = p.actors.clone();
            actors.push(format!("assistant:{}", a.id));
            if let Some(agent) = &req.agent {
                actors.push(format!("agent:{agent}"));
            }
            actors.dedup();
            let expires = now.saturating_add(ttl).min(p.expires_ms);
            // A child works where its parent does unless it narrowed that.
            env = env.or_else(|| p.env.clone());
            (
                Some(p.id.clone()),
                scopes,
                actors,
                expires,
                p.requester.clone(),
            )
        }
        None => {
            let scopes = rules::initial_scopes(
                &req.repo,
                req.env.as_deref(),
                &a.repos,
                &a.envs,
                &extra,
            )
            .map_err(|why| {
                task_err(format!(
                    "{why}: an admin can widen it with `ward assistant update {} --repo GLOB --env E`",
                    a.id
                ))
            })?;
            let mut actors = vec![format!("user:{requester}"), format!("assistant:{}", a.id)];
            if let Some(agent) = &req.agent {
                actors.push(format!("agent:{agent}"));
            }
            (
                None,
                scopes,
                actors,
                now.saturating_add(ttl),
                requester.to_string(),
            )
        }
    };
    let t = Task {
        id: new_task_id()?,
        parent,
        requester,
        assistant: a.id.clone(),
        repo: req.repo.clone(),
        env,
        scopes: scope::to_strings(&scopes),
        actors,
        session_id: req.session_id.clone(),
        created_ms: now,
        expires_ms: expires,
        ended_ms: None,
        end_reason: None,
    };
    tasks::insert_task(c.reborrow(), &t)
        .await
        .map_err(append_err)?;
    let minted = mint(
        c.reborrow(),
        key,
        signer.name(),
        &t,
        TokenFor {
            audience: AUDIENCE,
            scopes: &t.scopes,
            parent: None,
            ttl_ms: rules::DEFAULT_TOKEN_TTL_MS,
        },
    )
    .await;
    let recorded = match &minted {
        Ok(_) => {
            let ev = task_event(
                EventKind::Task,
                &t,
                Some(&a),
                format!(
                    "task start {} repo {} scopes {}",
                    t.id,
                    t.repo,
                    t.scopes.join(" ")
                ),
            );
            record(c.reborrow(), signer, &ev).await
        }
        Err(e) => Err(e.clone()),
    };
    match (minted, recorded) {
        (Ok((token, lease)), Ok(())) => Ok(Started {
            task: t,
            token,
            lease,
        }),
        (_, Err(e)) => {
            // Nothing unrecorded stands: end what was made.
            let _ = tasks::end_task(c.reborrow(), &t.id, now_ms(), "unrecorded").await;
            let _ = revoke_all(c.reborrow(), std::slice::from_ref(&t.id), "unrecorded").await;
            Err(WardError::new(
                e.code,
                format!(
                    "the task could not be recorded, so it was not started: {}",
                    e.message
                ),
            ))
        }
        (Err(e), Ok(())) => Err(e),
    }
}

/// Mark every unrevoked lease of `task_ids` revoked in the store; returns them.
async fn revoke_all(
    mut c: ConnRef<'_>,
    task_ids: &[String],
    reason: &str,
) -> Result<Vec<Lease>, WardError> {
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    let live = tasks::unrevoked_leases(c.reborrow(), task_ids)
        .await
        .map_err(read_err)?;
    let now = now_ms();
    let mut out = Vec::new();
    for l in live {
        if tasks::revoke_lease(c.reborrow(), &l.id, now, reason)
            .await
            .map_err(append_err)?
        {
            out.push(l);
        }
    }
    Ok(out)
}

/// What ending a task did.
#[derive(Debug, Clone, Default)]
pub struct Ended {
    /// The tasks this ended (the named one first if it was live, then its children).
    pub tasks: Vec<String>,
    /// Leases revoked, with what revoking each outside ward said (`Err`: it must be cleaned up
    /// by hand, e.g. a database that was unreachable; its expiry still bounds it).
    pub leases: Vec<(Lease, Result<(), String>)>,
}

/// End the tasks `ended` (already marked ended in the store): revoke their leases, inside and
/// outside ward, and record it all.
async fn finish(
    mut c: ConnRef<'_>,
    signer: &NoteSigner,
    ended: Vec<String>,
    reason: &str,
    broker: &crate::credentials::Broker,
) -> Result<Ended, WardError> {
    let revoked = revoke_all(c.reborrow(), &ended, reason).await?;
    let mut out = Ended {
        tasks: ended.clone(),
        leases: Vec::new(),
    };
    for l in revoked {
        let r = crate::credentials::revoke(broker, &l).await;
        out.leases.push((l, r));
    }
    for id in &ended {
        let t = get(c.reborrow(), id).await?;
        let a = assistants::get(c.reborrow(), &t.assistant).await.ok();
        let ev = task_event(
            EventKind::Task,
            &t,
            a.as_ref(),
            format!("task end {} ({reason})", t.id),
        );
        record(c.reborrow(), signer, &ev).await?;
        for (l, r) in out.leases.iter().filter(|(l, _)| &l.task == id) {
            let mut ev = task_event(
                EventKind::Credential,
                &t,
                a.as_ref(),
                format!("revoke {} {}", l.kind, l.resource),
            );
            ev.lease = Some(LeaseRef {
                id: Some(l.id.clone()),
                kind: l.kind.clone(),
                resource: l.resource.clone(),
                state: "revoked".into(),
                reason: Some(match r {
                    Ok(()) => reason.to_string(),
                    Err(e) => format!("{reason}; not revoked outside ward: {e}"),
                }),
            });
            record(c.reborrow(), signer, &ev).await?;
        }
    }
    Ok(out)
}

impl Ended {
    /// Each revoked lease as JSON, with what revoking it outside ward said (`error`: null).
    pub fn revoked_json(&self) -> Vec<Value> {
        self.leases
            .iter()
            .map(|(l, r)| {
                json!({"lease": l.id, "kind": l.kind, "resource": l.resource, "error": r.as_ref().err()})
            })
            .collect()
    }
}

/// End a task and every task delegated from it, revoking every lease of the tree.
pub async fn end(
    mut c: ConnRef<'_>,
    signer: &NoteSigner,
    id: &str,
    reason: &str,
    broker: &crate::credentials::Broker,
) -> Result<Ended, WardError> {
    let t = get(c.reborrow(), id).await?;
    let ended = tasks::end_task(c.reborrow(), &t.id, now_ms(), reason)
        .await
        .map_err(append_err)?;
    if ended.is_empty() {
        return Err(task_err(format!(
            "task {} ended already ({})",
            t.id,
            t.end_reason.as_deref().unwrap_or("no reason recorded")
        )));
    }
    finish(c, signer, ended, reason, broker).await
}

/// End every task of an assistant (it was suspended or retired).
pub async fn end_of_assistant(
    mut c: ConnRef<'_>,
    signer: &NoteSigner,
    assistant_id: &str,
    reason: &str,
    broker: &crate::credentials::Broker,
) -> Result<Ended, WardError> {
    let ended = tasks::end_tasks_of(c.reborrow(), assistant_id, now_ms(), reason)
        .await
        .map_err(append_err)?;
    finish(c, signer, ended, reason, broker).await
}

/// End tasks whose TTL ran out and revoke their leases (expired ones are already dead to every
/// check; this cleans up what lives outside ward).
pub async fn sweep(
    mut c: ConnRef<'_>,
    signer: &NoteSigner,
    broker: &crate::credentials::Broker,
) -> Result<Ended, WardError> {
    let now = now_ms();
    let open = tasks::list_tasks(c.reborrow(), true)
        .await
        .map_err(read_err)?;
    let mut ended = Vec::new();
    for t in open.iter().filter(|t| t.state(now) == State::Expired) {
        ended.extend(
            tasks::end_task(c.reborrow(), &t.id, now, "expired")
                .await
                .map_err(append_err)?,
        );
    }
    finish(c, signer, ended, "expired", broker).await
}

/// A task token that passed every check, with what it belongs to.
#[derive(Debug, Clone)]
pub struct Active {
    pub claims: Claims,
    pub task: Task,
    pub lease: Lease,
    pub assistant: Assistant,
}

/// Check a token completely: signature, issuer, lifetime, audience (`None`: its own), its lease,
/// its task and its assistant. `Ok(Err(why))`: not active, and why.
pub async fn check_token(
    mut c: ConnRef<'_>,
    key: &TokenKey,
    issuer: &str,
    token: &str,
    audience: Option<&str>,
) -> Result<Result<Active, String>, WardError> {
    let now = now_ms();
    let parsed = match UnverifiedToken::parse(token.trim()) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let aud = audience
        .map(str::to_string)
        .unwrap_or_else(|| parsed.claims_unverified().aud.clone());
    let claims = match parsed.verify(&key.verifying_key(), &aud, now / 1000) {
        Ok(v) => v.into_claims(),
        Err(e) => return Ok(Err(e.to_string())),
    };
    if claims.iss != issuer {
        return Ok(Err(format!("issued by `{}`, not by this ward", claims.iss)));
    }
    let Some(lease) = tasks::get_lease(c.reborrow(), &claims.jti)
        .await
        .map_err(read_err)?
    else {
        return Ok(Err("ward never issued this token".into()));
    };
    if lease.task != claims.task || lease.kind != "token" {
        return Ok(Err("the token does not match its lease".into()));
    }
    if let Some(why) = &lease.revoke_reason {
        return Ok(Err(format!("the token was revoked ({why})")));
    }
    if !lease.live(now) {
        return Ok(Err("the token has expired".into()));
    }
    let task = get(c.reborrow(), &claims.task).await?;
    match task.state(now) {
        State::Live => {}
        s => return Ok(Err(format!("its task {} has {}", task.id, s.as_str()))),
    }
    let assistant = assistants::get(c.reborrow(), &task.assistant).await?;
    if assistant.status != Status::Active {
        return Ok(Err(format!(
            "its assistant {} is {}",
            assistant.id,
            assistant.status.as_str()
        )));
    }
    Ok(Ok(Active {
        claims,
        task,
        lease,
        assistant,
    }))
}

/// The RFC 7662 answer for an active token.
pub fn introspection(a: &Active) -> Value {
    let c = &a.claims;
    let mut v = json!({
        "active": true,
        "scope": c.scope.join(" "),
        "client_id": a.assistant.id,
        "username": a.task.requester,
        "token_type": "Bearer",
        "exp": c.exp,
        "iat": c.iat,
        "sub": c.sub,
        "aud": c.aud,
        "iss": c.iss,
        "jti": c.jti,
        "task": c.task,
    });
    if let Some(act) = &c.act {
        v["act"] = json!(act);
    }
    v
}

/// A task as JSON (`ward task show`, the API).
pub fn to_json(t: &Task, now: u64) -> Value {
    json!({
        "id": t.id,
        "parent": t.parent,
        "state": t.state(now).as_str(),
        "requester": t.requester,
        "assistant": t.assistant,
        "repo": t.repo,
        "env": t.env,
        "scopes": t.scopes,
        "actors": t.actors,
        "session_id": t.session_id,
        "created": ward_core::event::rfc3339_ms(t.created_ms),
        "expires": ward_core::event::rfc3339_ms(t.expires_ms),
        "ended": t.ended_ms.map(ward_core::event::rfc3339_ms),
        "end_reason": t.end_reason,
    })
}

/// A task and every lease it was given (`ward task show`, `GET /v1/tasks/{id}`).
pub async fn get_with_leases(
    mut c: ConnRef<'_>,
    id: &str,
) -> Result<(Task, Vec<Lease>), WardError> {
    let t = get(c.reborrow(), id).await?;
    let leases = tasks::leases_of(c, &t.id).await.map_err(read_err)?;
    Ok((t, leases))
}

/// [`to_json`] with the task's leases.
pub fn to_json_with_leases(t: &Task, leases: &[Lease], now: u64) -> Value {
    let mut v = to_json(t, now);
    v["leases"] = json!(
        leases
            .iter()
            .map(|l| lease_json(l, now))
            .collect::<Vec<_>>()
    );
    v
}

/// A lease as JSON (`ward lease list`).
pub fn lease_json(l: &Lease, now: u64) -> Value {
    json!({
        "id": l.id,
        "task": l.task,
        "parent": l.parent,
        "kind": l.kind,
        "resource": l.resource,
        "live": l.live(now),
        "issued": ward_core::event::rfc3339_ms(l.issued_ms),
        "expires": ward_core::event::rfc3339_ms(l.expires_ms),
        "revoked": l.revoked_ms.map(ward_core::event::rfc3339_ms),
        "revoke_reason": l.revoke_reason,
    })
}

/// RFC 8693 `grant_type` for token exchange.
pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693 token types ward issues and accepts.
pub const TOKEN_TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const TOKEN_TYPE_ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";

/// An RFC 8693 exchange request.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub grant_type: String,
    pub subject_token: String,
    pub subject_token_type: String,
    pub actor_token: Option<String>,
    pub actor_token_type: Option<String>,
    pub audience: String,
    /// Space-delimited; empty: the subject's own scopes.
    pub scope: String,
    pub requested_token_type: Option<String>,
}

/// A refused exchange: the RFC 6749 §5.2 `error` and a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRefused {
    pub error: &'static str,
    pub description: String,
}

/// A token issued by exchange.
#[derive(Debug, Clone)]
pub struct Exchanged {
    pub token: String,
    pub lease: Lease,
    pub scopes: Vec<String>,
}

/// RFC 8693 token exchange: an active task token minted for ward (the subject, plus an optional
/// actor token of another active task) becomes a token for `audience`, with scopes that only
/// narrow and the actor chain extended by the actor. The audience must be `ward` (a renewal) or
/// match `audiences` (`token_audiences`), and be permitted by the task's `aud:` scopes if it has
/// any. Issuance and refusal are audit events.
pub async fn exchange(
    mut c: ConnRef<'_>,
    signer: &NoteSigner,
    key: &TokenKey,
    engines: crate::credentials::Engines<'_>,
    audiences: &[String],
    req: &Exchange,
) -> Result<Result<Exchanged, ExchangeRefused>, WardError> {
    let refused = |error: &'static str, d: String| ExchangeRefused {
        error,
        description: d,
    };
    let types = [TOKEN_TYPE_JWT, TOKEN_TYPE_ACCESS];
    let malformed = if req.grant_type != GRANT_TOKEN_EXCHANGE {
        Some(format!("grant_type must be `{GRANT_TOKEN_EXCHANGE}`"))
    } else if !types.contains(&req.subject_token_type.as_str()) {
        Some(format!("subject_token_type must be `{TOKEN_TYPE_JWT}`"))
    } else if req
        .requested_token_type
        .as_deref()
        .is_some_and(|t| !types.contains(&t))
    {
        Some(format!("ward issues only `{TOKEN_TYPE_JWT}`"))
    } else if req.actor_token.is_some()
        && !req
            .actor_token_type
            .as_deref()
            .is_some_and(|t| types.contains(&t))
    {
        Some(format!("actor_token_type must be `{TOKEN_TYPE_JWT}`"))
    } else if req.audience.trim().is_empty() || req.audience.contains(' ') {
        Some("name one audience".to_string())
    } else {
        None
    };
    if let Some(d) = malformed {
        return Ok(Err(refused("invalid_request", d)));
    }
    // Only a token minted for ward itself may be exchanged here: never one for another audience.
    let subject = match check_token(
        c.reborrow(),
        key,
        signer.name(),
        &req.subject_token,
        Some(AUDIENCE),
    )
    .await?
    {
        Ok(a) => a,
        Err(why) => {
            return Ok(Err(refused(
                "invalid_grant",
                format!("the subject token is not active: {why}"),
            )));
        }
    };
    let actor = match &req.actor_token {
        None => None,
        Some(t) => match check_token(c.reborrow(), key, signer.name(), t, Some(AUDIENCE)).await? {
            Ok(a) => Some(a),
            Err(why) => {
                return Ok(Err(refused(
                    "invalid_grant",
                    format!("the actor token is not active: {why}"),
                )));
            }
        },
    };
    let task = &subject.task;
    let theirs = match scope::parse_all(&subject.claims.scope) {
        Ok(s) => s,
        Err(s) => {
            return Ok(Err(refused(
                "invalid_grant",
                format!("the subject token carries a malformed scope `{s}`"),
            )));
        }
    };
    let verdict = (|| {
        let aud = req.audience.as_str();
        let aud_scopes: Vec<&Scope> = theirs.iter().filter(|s| s.kind == "aud").collect();
        if aud != AUDIENCE {
            if !audiences.iter().any(|g| ward_core::glob::matches(g, aud)) {
                return Err(refused(
                    "invalid_target",
                    format!(
                        "`{aud}` is not an audience ward issues tokens for; an admin adds it to `token_audiences` in ward.toml"
                    ),
                ));
            }
            if !aud_scopes.is_empty() && !scope::permits(&theirs, "aud", aud) {
                return Err(refused(
                    "invalid_target",
                    format!("task {} is not scoped to audience `{aud}`", task.id),
                ));
            }
        }
        let wanted = scope::parse_all(
            &req.scope
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>(),
        )
        .map_err(|s| refused("invalid_scope", format!("`{s}` is not a scope")))?;
        let narrowed = scope::narrow(&theirs, &wanted).map_err(|s| {
            refused(
                "invalid_scope",
                format!("scope `{s}` would widen the subject token's"),
            )
        })?;
        // An exchange is answered at once: an `ask` refuses it (no approver is waited for).
        match crate::credentials::decide(engines, task, &subject.assistant, "token", aud) {
            Ok(crate::credentials::Verdict::Allow) => Ok(Ok(narrowed)),
            Ok(crate::credentials::Verdict::Deny(why)) => Err(refused("unauthorized_client", why)),
            Ok(crate::credentials::Verdict::Ask(d)) => Err(refused(
                "unauthorized_client",
                format!("{} (an exchange is never approved one by one)", d.reason),
            )),
            Err(e) => Ok(Err(e)),
        }
    })();
    // A policy that cannot be evaluated fails the request (closed), not the exchange's shape.
    let verdict = match verdict {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => return Err(e),
        Err(r) => Err(r),
    };
    let resource = format!("token:{}", req.audience);
    let event_for = |action: String| {
        let mut t = task.clone();
        if let Some(a) = &actor {
            t.actors.push(format!("assistant:{}", a.assistant.id));
        }
        task_event(EventKind::Credential, &t, Some(&subject.assistant), action)
    };
    let scopes = match verdict {
        Ok(s) => scope::to_strings(&s),
        Err(r) => {
            let mut ev = event_for(format!("refuse token exchange for {}", req.audience));
            ev.lease = Some(LeaseRef {
                id: None,
                kind: "token".into(),
                resource,
                state: "denied".into(),
                reason: Some(r.description.clone()),
            });
            record(c.reborrow(), signer, &ev).await?;
            return Ok(Err(r));
        }
    };
    // The chain: the subject's, then the actor's assistant as the new current actor.
    let mut chained = task.clone();
    if let Some(a) = &actor {
        chained.actors.push(format!("assistant:{}", a.assistant.id));
    }
    let left_ms = subject
        .claims
        .exp
        .saturating_mul(1000)
        .saturating_sub(now_ms());
    let ttl = if req.audience == AUDIENCE {
        rules::DEFAULT_TOKEN_TTL_MS
    } else {
        // A derived token never outlives the one it came from.
        rules::DEFAULT_TOKEN_TTL_MS.min(left_ms)
    };
    let (token, lease) = mint(
        c.reborrow(),
        key,
        signer.name(),
        &chained,
        TokenFor {
            audience: &req.audience,
            scopes: &scopes,
            parent: Some(&subject.lease.id),
            ttl_ms: ttl,
        },
    )
    .await?;
    let mut ev = event_for(format!("issue token exchange for {}", req.audience));
    ev.lease = Some(LeaseRef {
        id: Some(lease.id.clone()),
        kind: "token".into(),
        resource,
        state: "issued".into(),
        reason: None,
    });
    if let Err(e) = record(c.reborrow(), signer, &ev).await {
        let _ = tasks::revoke_lease(c.reborrow(), &lease.id, now_ms(), "unrecorded").await;
        return Err(e);
    }
    Ok(Ok(Exchanged {
        token,
        lease,
        scopes,
    }))
}

/// The RFC 8693 §2.2.1 answer.
pub fn exchange_json(x: &Exchanged) -> Value {
    json!({
        "access_token": x.token,
        "issued_token_type": TOKEN_TYPE_JWT,
        "token_type": "Bearer",
        "expires_in": x.lease.expires_ms.saturating_sub(x.lease.issued_ms) / 1000,
        "scope": x.scopes.join(" "),
    })
}
