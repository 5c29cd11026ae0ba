//! Approvals: an `ask` becomes a request bound to the canonical hash of the exact action
//! (assistant, session, tool, input). An approver — a ward user with the approver or admin role
//! who is not the requester — grants or denies it; a grant is used once, by the identical call;
//! requests expire. Every step is an audit event naming who took it.

use crate::pipeline::{Prepared, base_event_like};
use crate::service::{Service, now_ms, set_decision};
use serde_json::json;
use std::time::{Duration, Instant};
use ward_core::event::ApprovalRef;
use ward_core::{ClientKind, Decision, ErrorCode, EventKind, Outcome, WardError};
use ward_store::people::{self, Approval, ApprovalState, Role, User};
use ward_store::read_err;

/// How often a waiting hook looks at its request.
const POLL: Duration = Duration::from_millis(100);

/// The hash an approval is bound to.
pub fn action_hash(p: &Prepared) -> String {
    let call = p.ev.call.as_ref();
    ward_core::canonical::canonical_hash(&json!({
        "assistant": p.event.assistant,
        "session": p.event.session_id,
        "tool": call.map(|c| c.tool_name.clone()),
        "input": call.map(|c| c.input.clone()),
    }))
}

/// Whether the client can show its own confirmation prompt for this event.
fn client_can_confirm(client: ClientKind, event_name: &str) -> bool {
    match client {
        ClientKind::ClaudeCode | ClientKind::Copilot => true,
        ClientKind::Cursor => !matches!(event_name, "beforeReadFile" | "beforeTabFileRead"),
        ClientKind::Codex | ClientKind::Gemini => false,
    }
}

fn approval_ref(a: &Approval, state: &str) -> ApprovalRef {
    ApprovalRef {
        id: a.id.clone(),
        state: state.into(),
        requester: a.requester.clone(),
        approver: a.decided_by.clone(),
        note: a.note.clone(),
        action_hash: a.action_hash.clone(),
    }
}

/// Turn an `ask` into its answer. Returns the approval id involved, if any.
pub async fn gate(
    svc: &Service,
    p: &mut Prepared,
    requester: &str,
    wait: Duration,
) -> Result<Option<String>, WardError> {
    let Some(asked) = p.decision.clone() else {
        return Ok(None);
    };
    let hash = action_hash(p);
    if asked.confirm_locally && client_can_confirm(p.ev.client, &p.ev.event_name) {
        // The developer's own prompt in the client decides; recorded as exactly that.
        p.event.approval = Some(ApprovalRef {
            id: String::new(),
            state: "local_confirm".into(),
            requester: requester.to_string(),
            approver: None,
            note: None,
            action_hash: hash,
        });
        svc.metrics.approval("local_confirm");
        return Ok(None);
    }
    let now = now_ms();
    let live = {
        let mut c = svc.pool.acquire().await.map_err(read_err)?;
        people::live_approval_for(c.r(), &hash, now)
            .await
            .map_err(read_err)?
    };
    // Every write below takes its turn at the write lock first, then its connection, and
    // gives both back before waiting for a commit (`record`).
    let request = match live {
        Some(a) if a.state == ApprovalState::Approved => {
            if use_approval(svc, &a.id).await? {
                granted(svc, p, &asked, &a);
                return Ok(Some(a.id));
            }
            // Someone used it first: this call needs a request of its own.
            None
        }
        Some(a) => Some(a),
        None => None,
    };
    let request = match request {
        Some(a) => a,
        None => {
            let mut a = Approval {
                id: crate::keys::new_approval_id()?,
                action_hash: hash.clone(),
                requester: requester.to_string(),
                assistant: p.event.assistant.clone(),
                session_id: p.event.session_id.clone(),
                tool_name: p.event.tool_name.clone(),
                action: p.event.action.clone(),
                reason: asked.reason.clone(),
                policies: asked.policies.join(","),
                state: ApprovalState::Pending,
                created_ms: now,
                expires_ms: now + svc.settings.approval_ttl.as_millis() as u64,
                decided_by: None,
                decided_ms: None,
                note: None,
                used_ms: None,
                request_event: None,
            };
            // The request is an audit event before anyone can act on it.
            let mut ev = base_event_like(&p.event, EventKind::Approval);
            ev.approval = Some(approval_ref(&a, "requested"));
            ev.decision = Some(asked.clone());
            a.request_event = Some(ev.id.clone());
            svc.record(&ev).await?;
            {
                let mut c = svc.write_conn().await?;
                people::insert_approval(c.r(), &a)
                    .await
                    .map_err(ward_store::append_err)?;
            }
            svc.metrics.approval("requested");
            a
        }
    };
    let deadline = Instant::now() + wait;
    let mut current = request;
    loop {
        match current.state_at(now_ms()) {
            ApprovalState::Approved => {
                if use_approval(svc, &current.id).await? {
                    granted(svc, p, &asked, &current);
                    return Ok(Some(current.id));
                }
                // Used by an identical call that got there first.
                pending(p, &asked, &current, "was already used by an identical call");
                return Ok(Some(current.id));
            }
            ApprovalState::Denied => {
                let by = current.decided_by.clone().unwrap_or_default();
                let note = current
                    .note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default();
                let d = Decision {
                    outcome: Outcome::Deny,
                    reason: format!("denied by approver `{by}` ({}){note}", current.id),
                    confirm_locally: false,
                    ..asked.clone()
                };
                p.event.approval = Some(approval_ref(&current, "denied"));
                set_decision(p, d);
                return Ok(Some(current.id));
            }
            ApprovalState::Expired | ApprovalState::Used => {
                pending(
                    p,
                    &asked,
                    &current,
                    "expired; the next identical call asks again",
                );
                return Ok(Some(current.id));
            }
            ApprovalState::Pending => {}
        }
        if Instant::now() + POLL > deadline {
            pending(p, &asked, &current, "is pending");
            return Ok(Some(current.id));
        }
        tokio::time::sleep(POLL).await;
        let mut c = svc.pool.acquire().await.map_err(read_err)?;
        if let Some(a) = people::approval(c.r(), &current.id)
            .await
            .map_err(read_err)?
        {
            current = a;
        }
    }
}

/// Use approval `id` once; false when it was already used (or is no longer approved).
async fn use_approval(svc: &Service, id: &str) -> Result<bool, WardError> {
    let mut c = svc.write_conn().await?;
    people::use_approval(c.r(), id, now_ms())
        .await
        .map_err(read_err)
}

fn granted(svc: &Service, p: &mut Prepared, asked: &Decision, a: &Approval) {
    let by = a.decided_by.clone().unwrap_or_default();
    let d = Decision {
        outcome: Outcome::Allow,
        reason: format!("approved by `{by}` ({}): {}", a.id, asked.reason),
        confirm_locally: false,
        ..asked.clone()
    };
    p.event.approval = Some(approval_ref(a, "used"));
    set_decision(p, d);
    svc.metrics.approval("used");
}

fn pending(p: &mut Prepared, asked: &Decision, a: &Approval, what: &str) {
    let d = Decision {
        outcome: Outcome::Deny,
        reason: format!(
            "approval {id} {what}: ask an approver to run `ward approve {id}`, then retry the identical call ({})",
            asked.reason,
            id = a.id
        ),
        confirm_locally: false,
        ..asked.clone()
    };
    p.event.approval = Some(approval_ref(a, "pending"));
    set_decision(p, d);
}

/// Who may decide `a`: an approver or admin who is not the requester, while it is pending.
pub fn check_approver(user: &User, a: &Approval, now: u64) -> Result<(), WardError> {
    if user.role < Role::Approver {
        return Err(WardError::new(
            ErrorCode::Forbidden,
            format!(
                "`{}` has the {} role; approving needs approver or admin",
                user.name,
                user.role.as_str()
            ),
        ));
    }
    if user.name == a.requester {
        return Err(WardError::new(
            ErrorCode::Forbidden,
            format!(
                "`{}` requested {}; nobody may approve their own request",
                user.name, a.id
            ),
        ));
    }
    match a.state_at(now) {
        ApprovalState::Pending => Ok(()),
        s => Err(WardError::new(
            ErrorCode::ApprovalState,
            format!("{} is {}, not pending", a.id, s.as_str()),
        )),
    }
}

/// Approve or deny `id` as `user`; records the step and returns the request as it now is.
pub async fn decide(
    svc: &Service,
    user: &User,
    id: &str,
    approve: bool,
    note: Option<&str>,
) -> Result<Approval, WardError> {
    let mut c = svc.write_conn().await?;
    let a = people::approval(c.r(), id)
        .await
        .map_err(read_err)?
        .ok_or_else(|| WardError::new(ErrorCode::NotFound, format!("no approval `{id}`")))?;
    let now = now_ms();
    check_approver(user, &a, now)?;
    if !people::decide_approval(c.r(), id, approve, &user.name, note, now)
        .await
        .map_err(ward_store::append_err)?
    {
        // Someone else decided it, or it expired, between the read and the update.
        let again = people::approval(c.r(), id).await.map_err(read_err)?;
        let state = again
            .map(|a| a.state_at(now_ms()).as_str())
            .unwrap_or("gone");
        return Err(WardError::new(
            ErrorCode::ApprovalState,
            format!("{id} is {state}, not pending"),
        ));
    }
    let decided = people::approval(c.r(), id)
        .await
        .map_err(read_err)?
        .ok_or_else(|| WardError::new(ErrorCode::NotFound, format!("no approval `{id}`")))?;
    drop(c);
    let step = if approve { "approved" } else { "denied" };
    let mut ev = crate::pipeline::bare_event(
        EventKind::Approval,
        &decided.assistant,
        &decided.session_id,
        &svc.host,
        &decided.requester,
    );
    ev.tool_name = decided.tool_name.clone();
    ev.action = decided.action.clone();
    ev.approval = Some(approval_ref(&decided, step));
    if let Err(e) = svc.record(&ev).await {
        // No record, no approval.
        if let Ok(mut c) = svc.write_conn().await {
            let _ = people::undo_decision(c.r(), id, &user.name).await;
        }
        return Err(e);
    }
    svc.metrics.approval(step);
    Ok(decided)
}
