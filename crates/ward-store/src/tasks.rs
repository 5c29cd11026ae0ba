//! Tasks and the leases issued inside them. Ending is one conditional UPDATE over the task's
//! tree (a recursive CTE both backends run), so a task ends once, with its children, whoever
//! races to end it.

use crate::conn::ConnRef;
use crate::people::RowLike;
use crate::repo::{to_i64, to_u64};

/// One task, as stored (scopes as `kind:glob` strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// `ward-task-…`
    pub id: String,
    /// The task this one was delegated from (a sub-agent's).
    pub parent: Option<String>,
    /// The ward user the work is for.
    pub requester: String,
    /// The assistant's registration id.
    pub assistant: String,
    pub repo: String,
    pub env: Option<String>,
    pub scopes: Vec<String>,
    /// Who delegated to whom, the requester first (`user:alice`, `assistant:ward-ast-…`,
    /// `agent:…`).
    pub actors: Vec<String>,
    /// The client session that opened it, if one did.
    pub session_id: Option<String>,
    pub created_ms: u64,
    pub expires_ms: u64,
    pub ended_ms: Option<u64>,
    pub end_reason: Option<String>,
}

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Live,
    Ended,
    Expired,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Live => "live",
            State::Ended => "ended",
            State::Expired => "expired",
        }
    }
}

impl Task {
    pub fn state(&self, now_ms: u64) -> State {
        if self.ended_ms.is_some() {
            State::Ended
        } else if now_ms >= self.expires_ms {
            State::Expired
        } else {
            State::Live
        }
    }

    /// The RFC 8693 actor chain of a token for this task, outermost (the current actor) first;
    /// the requester is the token's subject, not an actor.
    pub fn act_chain(&self) -> Vec<String> {
        self.actors.iter().skip(1).rev().cloned().collect()
    }
}

/// One lease: something issued inside a task that must die with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// `ward-lease-…` (a token's lease id is its `jti`).
    pub id: String,
    pub task: String,
    /// The lease this one was derived from (an exchanged token's source).
    pub parent: Option<String>,
    /// `token`, `secret`, `postgres`, …
    pub kind: String,
    /// What it grants: an audience, `git:HOST/OWNER/NAME`, a provider and role.
    pub resource: String,
    /// What revoking it needs (JSON; never a secret).
    pub detail: String,
    pub issued_ms: u64,
    pub expires_ms: u64,
    pub revoked_ms: Option<u64>,
    pub revoke_reason: Option<String>,
}

impl Lease {
    pub fn live(&self, now_ms: u64) -> bool {
        self.revoked_ms.is_none() && now_ms < self.expires_ms
    }
}

fn list_of(text: &str) -> Result<Vec<String>, sqlx::Error> {
    serde_json::from_str(text)
        .map_err(|e| sqlx::Error::Protocol(format!("a stored list does not parse: {e}")))
}

fn to_list(v: &[String]) -> Result<String, sqlx::Error> {
    serde_json::to_string(v)
        .map_err(|e| sqlx::Error::Protocol(format!("a list does not serialise: {e}")))
}

const TASK_COLUMNS: &str = "id, parent, requester, assistant, repo, env, scopes, actors, session_id, created_ms, expires_ms, ended_ms, end_reason";

fn task_from(r: &impl RowLike) -> Result<Task, sqlx::Error> {
    Ok(Task {
        id: r.text("id")?,
        parent: r.opt_text("parent")?,
        requester: r.text("requester")?,
        assistant: r.text("assistant")?,
        repo: r.text("repo")?,
        env: r.opt_text("env")?,
        scopes: list_of(&r.text("scopes")?)?,
        actors: list_of(&r.text("actors")?)?,
        session_id: r.opt_text("session_id")?,
        created_ms: to_u64(r.int("created_ms")?),
        expires_ms: to_u64(r.int("expires_ms")?),
        ended_ms: r.opt_int("ended_ms")?.map(to_u64),
        end_reason: r.opt_text("end_reason")?,
    })
}

const LEASE_COLUMNS: &str =
    "id, task, parent, kind, resource, detail, issued_ms, expires_ms, revoked_ms, revoke_reason";

fn lease_from(r: &impl RowLike) -> Result<Lease, sqlx::Error> {
    Ok(Lease {
        id: r.text("id")?,
        task: r.text("task")?,
        parent: r.opt_text("parent")?,
        kind: r.text("kind")?,
        resource: r.text("resource")?,
        detail: r.text("detail")?,
        issued_ms: to_u64(r.int("issued_ms")?),
        expires_ms: to_u64(r.int("expires_ms")?),
        revoked_ms: r.opt_int("revoked_ms")?.map(to_u64),
        revoke_reason: r.opt_text("revoke_reason")?,
    })
}

pub async fn insert_task(conn: ConnRef<'_>, t: &Task) -> Result<(), sqlx::Error> {
    let (scopes, actors) = (to_list(&t.scopes)?, to_list(&t.actors)?);
    on_backend!(conn, c, _pg => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )))
        .bind(&t.id)
        .bind(t.parent.as_deref())
        .bind(&t.requester)
        .bind(&t.assistant)
        .bind(&t.repo)
        .bind(t.env.as_deref())
        .bind(&scopes)
        .bind(&actors)
        .bind(t.session_id.as_deref())
        .bind(to_i64(t.created_ms))
        .bind(to_i64(t.expires_ms))
        .bind(t.ended_ms.map(to_i64))
        .bind(t.end_reason.as_deref())
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}

pub async fn get_task(conn: ConnRef<'_>, id: &str) -> Result<Option<Task>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1")))
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
        row.as_ref().map(task_from).transpose()
    })
}

/// The newest task a client session opened that has not ended.
pub async fn task_of_session(
    conn: ConnRef<'_>,
    session_id: &str,
) -> Result<Option<Task>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE session_id = $1 AND ended_ms IS NULL
             ORDER BY created_ms DESC LIMIT 1"
        )))
        .bind(session_id)
        .fetch_optional(&mut *c)
        .await?;
        row.as_ref().map(task_from).transpose()
    })
}

/// Tasks, newest first: all of them, or only those not ended (expired ones included, for the
/// caller to show as such).
pub async fn list_tasks(conn: ConnRef<'_>, open_only: bool) -> Result<Vec<Task>, sqlx::Error> {
    let filter = if open_only {
        "WHERE ended_ms IS NULL"
    } else {
        ""
    };
    on_backend!(conn, c, _pg => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks {filter} ORDER BY created_ms DESC, id"
        )))
        .fetch_all(&mut *c)
        .await?;
        rows.iter().map(task_from).collect()
    })
}

/// The tree of tasks under `roots` (roots included), as a recursive CTE.
const TREE: &str = "WITH RECURSIVE tree(id) AS (
        SELECT id FROM tasks WHERE {roots}
        UNION SELECT t.id FROM tasks t JOIN tree ON t.parent = tree.id
    )";

async fn end_where(
    conn: ConnRef<'_>,
    roots: &str,
    key: &str,
    now_ms: u64,
    reason: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let tree = TREE.replace("{roots}", roots);
    on_backend!(conn, c, _pg => {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "{tree} UPDATE tasks SET ended_ms = $2, end_reason = $3
             WHERE id IN (SELECT id FROM tree) AND ended_ms IS NULL RETURNING id"
        )))
        .bind(key)
        .bind(to_i64(now_ms))
        .bind(reason)
        .fetch_all(&mut *c)
        .await?;
        Ok(rows)
    })
}

/// End a task and every task delegated from it; the ids that this call ended (none: it had
/// ended already).
pub async fn end_task(
    conn: ConnRef<'_>,
    id: &str,
    now_ms: u64,
    reason: &str,
) -> Result<Vec<String>, sqlx::Error> {
    end_where(conn, "id = $1", id, now_ms, reason).await
}

/// End every open task of an assistant, with their children.
pub async fn end_tasks_of(
    conn: ConnRef<'_>,
    assistant: &str,
    now_ms: u64,
    reason: &str,
) -> Result<Vec<String>, sqlx::Error> {
    end_where(
        conn,
        "assistant = $1 AND ended_ms IS NULL",
        assistant,
        now_ms,
        reason,
    )
    .await
}

pub async fn insert_lease(conn: ConnRef<'_>, l: &Lease) -> Result<(), sqlx::Error> {
    on_backend!(conn, c, _pg => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO leases ({LEASE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )))
        .bind(&l.id)
        .bind(&l.task)
        .bind(l.parent.as_deref())
        .bind(&l.kind)
        .bind(&l.resource)
        .bind(&l.detail)
        .bind(to_i64(l.issued_ms))
        .bind(to_i64(l.expires_ms))
        .bind(l.revoked_ms.map(to_i64))
        .bind(l.revoke_reason.as_deref())
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}

pub async fn get_lease(conn: ConnRef<'_>, id: &str) -> Result<Option<Lease>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {LEASE_COLUMNS} FROM leases WHERE id = $1")))
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
        row.as_ref().map(lease_from).transpose()
    })
}

/// Leases not revoked: of the given tasks, or (`tasks` empty) all of them.
pub async fn unrevoked_leases(
    conn: ConnRef<'_>,
    tasks: &[String],
) -> Result<Vec<Lease>, sqlx::Error> {
    // The task ids travel as one JSON array, expanded by each backend's own function.
    let list = to_list(tasks)?;
    on_backend!(conn, c, pg => {
        let filter = match (tasks.is_empty(), pg) {
            (true, _) => "$1 = $1",
            (false, true) => "task IN (SELECT jsonb_array_elements_text($1::jsonb))",
            (false, false) => "task IN (SELECT value FROM json_each($1))",
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {LEASE_COLUMNS} FROM leases WHERE revoked_ms IS NULL AND {filter} ORDER BY issued_ms, id"
        )))
        .bind(&list)
        .fetch_all(&mut *c)
        .await?;
        rows.iter().map(lease_from).collect()
    })
}

/// Every lease of one task, revoked ones too.
pub async fn leases_of(conn: ConnRef<'_>, task: &str) -> Result<Vec<Lease>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {LEASE_COLUMNS} FROM leases WHERE task = $1 ORDER BY issued_ms, id"
        )))
        .bind(task)
        .fetch_all(&mut *c)
        .await?;
        rows.iter().map(lease_from).collect()
    })
}

/// Every lease ever issued, newest first.
pub async fn all_leases(conn: ConnRef<'_>) -> Result<Vec<Lease>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {LEASE_COLUMNS} FROM leases ORDER BY issued_ms DESC, id"
        )))
        .fetch_all(&mut *c)
        .await?;
        rows.iter().map(lease_from).collect()
    })
}

/// Revoke one lease; `Ok(false)` if it was revoked already.
pub async fn revoke_lease(
    conn: ConnRef<'_>,
    id: &str,
    now_ms: u64,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let r = sqlx::query(
            "UPDATE leases SET revoked_ms = $1, revoke_reason = $2 WHERE id = $3 AND revoked_ms IS NULL",
        )
        .bind(to_i64(now_ms))
        .bind(reason)
        .bind(id)
        .execute(&mut *c)
        .await?;
        Ok(r.rows_affected() == 1)
    })
}

/// One sealed static secret's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretInfo {
    pub name: String,
    pub created_ms: u64,
    pub created_by: String,
}

/// Store (or replace) a sealed secret.
pub async fn put_secret(
    conn: ConnRef<'_>,
    name: &str,
    sealed: &str,
    now_ms: u64,
    by: &str,
) -> Result<(), sqlx::Error> {
    on_backend!(conn, c, _pg => {
        sqlx::query(
            "INSERT INTO secrets (name, sealed, created_ms, created_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, created_ms = excluded.created_ms, created_by = excluded.created_by",
        )
        .bind(name)
        .bind(sealed)
        .bind(to_i64(now_ms))
        .bind(by)
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}

/// A sealed secret's stored text.
pub async fn sealed_secret(conn: ConnRef<'_>, name: &str) -> Result<Option<String>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        sqlx::query_scalar("SELECT sealed FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *c)
            .await
    })
}

pub async fn list_secrets(conn: ConnRef<'_>) -> Result<Vec<SecretInfo>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let rows = sqlx::query("SELECT name, created_ms, created_by FROM secrets ORDER BY name")
            .fetch_all(&mut *c)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SecretInfo {
                    name: r.text("name")?,
                    created_ms: to_u64(r.int("created_ms")?),
                    created_by: r.text("created_by")?,
                })
            })
            .collect()
    })
}

/// Remove a secret; `Ok(false)` if there was none of that name.
pub async fn rm_secret(conn: ConnRef<'_>, name: &str) -> Result<bool, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let r = sqlx::query("DELETE FROM secrets WHERE name = $1")
            .bind(name)
            .execute(&mut *c)
            .await?;
        Ok(r.rows_affected() == 1)
    })
}

/// Record that `assistant`'s environment held these secret-looking variables (names) at
/// `now_ms`.
pub async fn saw_env(
    conn: ConnRef<'_>,
    assistant: &str,
    names: &[String],
    now_ms: u64,
) -> Result<(), sqlx::Error> {
    on_backend!(conn, c, _pg => {
        for n in names {
            sqlx::query(
                "INSERT INTO env_exposure (assistant, name, first_seen_ms, last_seen_ms) VALUES ($1, $2, $3, $3)
                 ON CONFLICT (assistant, name) DO UPDATE SET last_seen_ms = excluded.last_seen_ms",
            )
            .bind(assistant)
            .bind(n)
            .bind(to_i64(now_ms))
            .execute(&mut *c)
            .await?;
        }
        Ok(())
    })
}

/// One secret-looking variable seen in an assistant's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    pub assistant: String,
    pub name: String,
    pub first_seen_ms: u64,
    pub last_seen_ms: u64,
}

/// Everything seen, by assistant then name.
pub async fn exposures(conn: ConnRef<'_>) -> Result<Vec<Exposure>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let rows = sqlx::query(
            "SELECT assistant, name, first_seen_ms, last_seen_ms FROM env_exposure ORDER BY assistant, name",
        )
        .fetch_all(&mut *c)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Exposure {
                    assistant: r.text("assistant")?,
                    name: r.text("name")?,
                    first_seen_ms: to_u64(r.int("first_seen_ms")?),
                    last_seen_ms: to_u64(r.int("last_seen_ms")?),
                })
            })
            .collect()
    })
}
