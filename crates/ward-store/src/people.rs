//! Humans, their API keys, hook tokens and approval requests. Who may do what is decided by the
//! service; this module only stores, and makes each state change atomic (a conditional UPDATE),
//! so two approvers racing, or two retries using one approval, cannot both win.

use crate::conn::ConnRef;
use crate::repo::{to_i64, to_u64};
use sqlx::Row;

/// A role, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Approver,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "approver" => Some(Role::Approver),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub created_ms: u64,
}

fn user_from(r: &impl RowLike) -> Result<User, sqlx::Error> {
    let role: String = r.text("role")?;
    Ok(User {
        name: r.text("name")?,
        role: Role::parse(&role)
            .ok_or_else(|| sqlx::Error::Protocol(format!("unknown role `{role}` in the store")))?,
        created_ms: to_u64(r.int("created_ms")?),
    })
}

/// Column access shared by both backends' rows.
pub(crate) trait RowLike {
    fn text(&self, c: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, c: &str) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, c: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, c: &str) -> Result<Option<i64>, sqlx::Error>;
}

macro_rules! row_like {
    ($t:ty) => {
        impl RowLike for $t {
            fn text(&self, c: &str) -> Result<String, sqlx::Error> {
                self.try_get(c)
            }
            fn opt_text(&self, c: &str) -> Result<Option<String>, sqlx::Error> {
                self.try_get(c)
            }
            fn int(&self, c: &str) -> Result<i64, sqlx::Error> {
                self.try_get(c)
            }
            fn opt_int(&self, c: &str) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(c)
            }
        }
    };
}
row_like!(sqlx::sqlite::SqliteRow);
row_like!(sqlx::postgres::PgRow);

/// Add a user; `Ok(false)` when the name is taken.
pub async fn add_user(
    conn: ConnRef<'_>,
    name: &str,
    role: Role,
    now_ms: u64,
) -> Result<bool, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let r = sqlx::query(
            "INSERT INTO users (name, role, created_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(to_i64(now_ms))
        .execute(&mut *c)
        .await?;
        Ok(r.rows_affected() == 1)
    })
}

pub async fn users(conn: ConnRef<'_>) -> Result<Vec<User>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let rows = sqlx::query("SELECT name, role, created_ms FROM users WHERE disabled = 0 ORDER BY name")
            .fetch_all(&mut *c)
            .await?;
        rows.iter().map(user_from).collect()
    })
}

pub async fn user(conn: ConnRef<'_>, name: &str) -> Result<Option<User>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query("SELECT name, role, created_ms FROM users WHERE name = $1 AND disabled = 0")
            .bind(name)
            .fetch_optional(&mut *c)
            .await?;
        row.as_ref().map(user_from).transpose()
    })
}

/// Store a new API key (its hash) for `user`.
pub async fn add_key(
    conn: ConnRef<'_>,
    id: &str,
    user: &str,
    key_hash: &[u8],
    now_ms: u64,
) -> Result<(), sqlx::Error> {
    on_backend!(conn, c, _pg => {
        sqlx::query("INSERT INTO api_keys (id, user_name, key_hash, created_ms) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(user)
            .bind(key_hash)
            .bind(to_i64(now_ms))
            .execute(&mut *c)
            .await?;
        Ok(())
    })
}

/// The user a (hashed) key belongs to, if the key is live and the user enabled.
pub async fn user_by_key(conn: ConnRef<'_>, key_hash: &[u8]) -> Result<Option<User>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query(
            "SELECT u.name, u.role, u.created_ms FROM api_keys k JOIN users u ON u.name = k.user_name
             WHERE k.key_hash = $1 AND k.revoked_ms IS NULL AND u.disabled = 0",
        )
        .bind(key_hash)
        .fetch_optional(&mut *c)
        .await?;
        row.as_ref().map(user_from).transpose()
    })
}

/// Create or rotate the hook token `name` (the old token stops working).
pub async fn set_hook_token(
    conn: ConnRef<'_>,
    name: &str,
    token_hash: &[u8],
    now_ms: u64,
) -> Result<(), sqlx::Error> {
    on_backend!(conn, c, _pg => {
        sqlx::query(
            "INSERT INTO hook_tokens (name, token_hash, created_ms) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, created_ms = excluded.created_ms, revoked_ms = NULL",
        )
        .bind(name)
        .bind(token_hash)
        .bind(to_i64(now_ms))
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}

/// The name of the live hook token with this hash.
pub async fn hook_token_name(
    conn: ConnRef<'_>,
    token_hash: &[u8],
) -> Result<Option<String>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query("SELECT name FROM hook_tokens WHERE token_hash = $1 AND revoked_ms IS NULL")
            .bind(token_hash)
            .fetch_optional(&mut *c)
            .await?;
        row.map(|r| r.try_get::<String, _>("name")).transpose()
    })
}

/// The stored state of an approval. `Expired` is never stored: a pending or approved request
/// past its expiry reads as expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalState {
    Pending,
    Approved,
    Denied,
    Used,
    Expired,
}

impl ApprovalState {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalState::Pending => "pending",
            ApprovalState::Approved => "approved",
            ApprovalState::Denied => "denied",
            ApprovalState::Used => "used",
            ApprovalState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<ApprovalState> {
        match s {
            "pending" => Some(ApprovalState::Pending),
            "approved" => Some(ApprovalState::Approved),
            "denied" => Some(ApprovalState::Denied),
            "used" => Some(ApprovalState::Used),
            "expired" => Some(ApprovalState::Expired),
            _ => None,
        }
    }
}

/// One approval request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub id: String,
    pub action_hash: String,
    pub requester: String,
    pub assistant: String,
    pub session_id: String,
    pub tool_name: Option<String>,
    pub action: Option<String>,
    pub reason: String,
    /// Policy ids, comma-separated.
    pub policies: String,
    pub state: ApprovalState,
    pub created_ms: u64,
    pub expires_ms: u64,
    pub decided_by: Option<String>,
    pub decided_ms: Option<u64>,
    pub note: Option<String>,
    pub used_ms: Option<u64>,
    pub request_event: Option<String>,
}

impl Approval {
    /// The state as of `now_ms` (pending and approved requests expire).
    pub fn state_at(&self, now_ms: u64) -> ApprovalState {
        match self.state {
            ApprovalState::Pending | ApprovalState::Approved if now_ms >= self.expires_ms => {
                ApprovalState::Expired
            }
            s => s,
        }
    }
}

const APPROVAL_COLS: &str = "SELECT id, action_hash, requester, assistant, session_id, tool_name, action, reason, policies, state, created_ms, expires_ms, decided_by, decided_ms, note, used_ms, request_event FROM approvals";

fn approval_from(r: &impl RowLike) -> Result<Approval, sqlx::Error> {
    let state: String = r.text("state")?;
    Ok(Approval {
        id: r.text("id")?,
        action_hash: r.text("action_hash")?,
        requester: r.text("requester")?,
        assistant: r.text("assistant")?,
        session_id: r.text("session_id")?,
        tool_name: r.opt_text("tool_name")?,
        action: r.opt_text("action")?,
        reason: r.text("reason")?,
        policies: r.text("policies")?,
        state: ApprovalState::parse(&state).ok_or_else(|| {
            sqlx::Error::Protocol(format!("unknown approval state `{state}` in the store"))
        })?,
        created_ms: to_u64(r.int("created_ms")?),
        expires_ms: to_u64(r.int("expires_ms")?),
        decided_by: r.opt_text("decided_by")?,
        decided_ms: r.opt_int("decided_ms")?.map(to_u64),
        note: r.opt_text("note")?,
        used_ms: r.opt_int("used_ms")?.map(to_u64),
        request_event: r.opt_text("request_event")?,
    })
}

pub async fn insert_approval(conn: ConnRef<'_>, a: &Approval) -> Result<(), sqlx::Error> {
    on_backend!(conn, c, _pg => {
        sqlx::query(
            "INSERT INTO approvals (id, action_hash, requester, assistant, session_id, tool_name, action, reason, policies, state, created_ms, expires_ms, request_event)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&a.id)
        .bind(&a.action_hash)
        .bind(&a.requester)
        .bind(&a.assistant)
        .bind(&a.session_id)
        .bind(&a.tool_name)
        .bind(&a.action)
        .bind(&a.reason)
        .bind(&a.policies)
        .bind(a.state.as_str())
        .bind(to_i64(a.created_ms))
        .bind(to_i64(a.expires_ms))
        .bind(&a.request_event)
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}

pub async fn approval(conn: ConnRef<'_>, id: &str) -> Result<Option<Approval>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{APPROVAL_COLS} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
        row.as_ref().map(approval_from).transpose()
    })
}

/// The live (unexpired, pending or approved) request for this exact action, approved first.
pub async fn live_approval_for(
    conn: ConnRef<'_>,
    action_hash: &str,
    now_ms: u64,
) -> Result<Option<Approval>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{APPROVAL_COLS} WHERE action_hash = $1 AND state IN ('pending', 'approved') AND expires_ms > $2
             ORDER BY CASE state WHEN 'approved' THEN 0 ELSE 1 END, created_ms DESC LIMIT 1"
        )))
        .bind(action_hash)
        .bind(to_i64(now_ms))
        .fetch_optional(&mut *c)
        .await?;
        row.as_ref().map(approval_from).transpose()
    })
}

/// Approvals, newest first; `state` filters (expired = pending/approved past expiry).
pub async fn approvals(
    conn: ConnRef<'_>,
    state: Option<ApprovalState>,
    now_ms: u64,
    limit: u64,
) -> Result<Vec<Approval>, sqlx::Error> {
    let filter = match state {
        None => "1 = 1",
        Some(ApprovalState::Pending) => "state = 'pending' AND expires_ms > $2",
        Some(ApprovalState::Approved) => "state = 'approved' AND expires_ms > $2",
        Some(ApprovalState::Denied) => "state = 'denied'",
        Some(ApprovalState::Used) => "state = 'used'",
        Some(ApprovalState::Expired) => "state IN ('pending', 'approved') AND expires_ms <= $2",
    };
    // `$2` is bound always; a filter that does not use it compares it with itself.
    let sql =
        format!("{APPROVAL_COLS} WHERE {filter} AND $2 = $2 ORDER BY created_ms DESC LIMIT $1");
    on_backend!(conn, c, _pg => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_i64(limit))
            .bind(to_i64(now_ms))
            .fetch_all(&mut *c)
            .await?;
        rows.iter().map(approval_from).collect()
    })
}

/// Move a pending, unexpired request to approved or denied. `Ok(false)` when it was not
/// pending (already decided, used or expired) — read it again to say which.
pub async fn decide_approval(
    conn: ConnRef<'_>,
    id: &str,
    approve: bool,
    by: &str,
    note: Option<&str>,
    now_ms: u64,
) -> Result<bool, sqlx::Error> {
    let state = if approve { "approved" } else { "denied" };
    on_backend!(conn, c, _pg => {
        let r = sqlx::query(
            "UPDATE approvals SET state = $1, decided_by = $2, decided_ms = $3, note = $4
             WHERE id = $5 AND state = 'pending' AND expires_ms > $3",
        )
        .bind(state)
        .bind(by)
        .bind(to_i64(now_ms))
        .bind(note)
        .bind(id)
        .execute(&mut *c)
        .await?;
        Ok(r.rows_affected() == 1)
    })
}

/// Use an approved, unexpired request once. `Ok(false)` when someone else used it first.
pub async fn use_approval(conn: ConnRef<'_>, id: &str, now_ms: u64) -> Result<bool, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let r = sqlx::query(
            "UPDATE approvals SET state = 'used', used_ms = $1
             WHERE id = $2 AND state = 'approved' AND expires_ms > $1",
        )
        .bind(to_i64(now_ms))
        .bind(id)
        .execute(&mut *c)
        .await?;
        Ok(r.rows_affected() == 1)
    })
}

/// Put a just-decided request back to pending (its audit event could not be recorded, so the
/// decision must not stand).
pub async fn undo_decision(conn: ConnRef<'_>, id: &str, by: &str) -> Result<(), sqlx::Error> {
    on_backend!(conn, c, _pg => {
        sqlx::query(
            "UPDATE approvals SET state = 'pending', decided_by = NULL, decided_ms = NULL, note = NULL
             WHERE id = $1 AND decided_by = $2 AND state IN ('approved', 'denied')",
        )
        .bind(id)
        .bind(by)
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}
