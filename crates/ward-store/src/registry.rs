//! Assistants as identities: registrations, owners and lifecycle. The service decides who may
//! change what; this module stores, and makes each change of status one conditional UPDATE, so
//! two admins racing cannot, say, resume an assistant that the other just retired.

use crate::conn::ConnRef;
use crate::people::RowLike;
use crate::repo::{to_i64, to_u64};
use sqlx::Row;

/// The kinds of assistant ward knows.
pub const KINDS: [&str; 7] = [
    "claude-code",
    "codex",
    "cursor",
    "gemini",
    "copilot",
    "ci",
    "custom",
];

/// Where an assistant is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Seen or registered, not yet approved by an owner.
    Pending,
    Active,
    /// Stopped for now; `resume` makes it active again.
    Suspended,
    /// Gone for good.
    Retired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "pending" => Some(Status::Pending),
            "active" => Some(Status::Active),
            "suspended" => Some(Status::Suspended),
            "retired" => Some(Status::Retired),
            _ => None,
        }
    }
}

/// One registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assistant {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub host: String,
    pub os_user: String,
    pub owner: Option<String>,
    pub purpose: String,
    /// Repository globs it may work in.
    pub repos: Vec<String>,
    /// Environments it may touch.
    pub envs: Vec<String>,
    pub review_by_ms: Option<u64>,
    pub status: Status,
    pub created_ms: u64,
    pub last_seen_ms: Option<u64>,
    pub rotated_ms: Option<u64>,
    /// When the status last changed, and who changed it.
    pub status_ms: u64,
    pub status_by: String,
}

const COLUMNS: &str = "id, name, kind, host, os_user, owner, purpose, repos, envs, review_by_ms, status, created_ms, last_seen_ms, rotated_ms, status_ms, status_by";

fn list_of(text: &str) -> Result<Vec<String>, sqlx::Error> {
    serde_json::from_str(text)
        .map_err(|e| sqlx::Error::Protocol(format!("a stored list does not parse: {e}")))
}

fn assistant_from(r: &impl RowLike) -> Result<Assistant, sqlx::Error> {
    let status = r.text("status")?;
    let opt = |c: &str| -> Result<Option<u64>, sqlx::Error> { Ok(r.opt_int(c)?.map(to_u64)) };
    Ok(Assistant {
        id: r.text("id")?,
        name: r.text("name")?,
        kind: r.text("kind")?,
        host: r.text("host")?,
        os_user: r.text("os_user")?,
        owner: r.opt_text("owner")?,
        purpose: r.text("purpose")?,
        repos: list_of(&r.text("repos")?)?,
        envs: list_of(&r.text("envs")?)?,
        review_by_ms: opt("review_by_ms")?,
        status: Status::parse(&status).ok_or_else(|| {
            sqlx::Error::Protocol(format!("unknown assistant status `{status}` in the store"))
        })?,
        created_ms: to_u64(r.int("created_ms")?),
        last_seen_ms: opt("last_seen_ms")?,
        rotated_ms: opt("rotated_ms")?,
        status_ms: to_u64(r.int("status_ms")?),
        status_by: r.text("status_by")?,
    })
}

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A live (not retired) assistant already has this name.
    NameTaken,
    /// A live assistant already has this kind, host and OS user.
    IdentityTaken(String),
}

/// Store a new registration. Checked first, and enforced by the partial unique indexes: the
/// insert does nothing where one of them (or the id) is taken, so a registration that loses a
/// race to another is checked again and refused like any other, never a failed statement (an
/// error in the server's log, and on Postgres a rolled-back transaction) and never two live
/// rows.
pub async fn register(
    conn: ConnRef<'_>,
    a: &Assistant,
) -> Result<Result<(), Refused>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
    for _ in 0..2 {
        let taken = sqlx::query("SELECT id FROM assistants WHERE name = $1 AND status <> 'retired'")
            .bind(&a.name)
            .fetch_optional(&mut *c)
            .await?;
        if taken.is_some() {
            return Ok(Err(Refused::NameTaken));
        }
        if a.kind != "ci" && a.kind != "custom" {
            let same = sqlx::query(
                "SELECT name FROM assistants WHERE kind = $1 AND host = $2 AND os_user = $3 AND status <> 'retired'",
            )
            .bind(&a.kind)
            .bind(&a.host)
            .bind(&a.os_user)
            .fetch_optional(&mut *c)
            .await?;
            if let Some(row) = same {
                return Ok(Err(Refused::IdentityTaken(row.try_get("name")?)));
            }
        }
        let list = |v: &[String]| {
            serde_json::to_string(v).map_err(|e| sqlx::Error::Protocol(format!("a list does not serialise: {e}")))
        };
        let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO assistants ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT DO NOTHING"
        )))
        .bind(&a.id)
        .bind(&a.name)
        .bind(&a.kind)
        .bind(&a.host)
        .bind(&a.os_user)
        .bind(a.owner.as_deref())
        .bind(&a.purpose)
        .bind(list(&a.repos)?)
        .bind(list(&a.envs)?)
        .bind(a.review_by_ms.map(to_i64))
        .bind(a.status.as_str())
        .bind(to_i64(a.created_ms))
        .bind(a.last_seen_ms.map(to_i64))
        .bind(a.rotated_ms.map(to_i64))
        .bind(to_i64(a.status_ms))
        .bind(&a.status_by)
        .execute(&mut *c)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Ok(()));
        }
        // Taken between the checks and the insert: the checks now say by what.
    }
    Err(sqlx::Error::Protocol(format!(
        "the registration `{}` conflicts with a stored one that is neither its name nor its identity (its id?)",
        a.name
    )))
    })
}

/// One assistant by id, or by name: the live registration of that name, else its latest.
pub async fn get(conn: ConnRef<'_>, id_or_name: &str) -> Result<Option<Assistant>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM assistants WHERE id = $1 OR name = $1
             ORDER BY (status = 'retired'), created_ms DESC LIMIT 1"
        )))
        .bind(id_or_name)
        .fetch_optional(&mut *c)
        .await?;
        row.as_ref().map(assistant_from).transpose()
    })
}

/// Every assistant, retired ones too, by name then creation.
pub async fn list(conn: ConnRef<'_>) -> Result<Vec<Assistant>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM assistants ORDER BY name, created_ms"
        )))
        .fetch_all(&mut *c)
        .await?;
        rows.iter().map(assistant_from).collect()
    })
}

/// Move an assistant to `to` if its status is one of `from` (and, for `owner`, set the owner
/// too). `Ok(false)`: it was not in one of those states when the update ran.
pub async fn set_status(
    conn: ConnRef<'_>,
    id: &str,
    from: &[Status],
    to: Status,
    owner: Option<&str>,
    by: &str,
    now_ms: u64,
) -> Result<bool, sqlx::Error> {
    // Statuses come from the enum, never from input, so they can be spelled into the query.
    let in_list = from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    on_backend!(conn, c, _pg => {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE assistants SET status = $1, owner = COALESCE($2, owner), status_ms = $3, status_by = $4
             WHERE id = $5 AND status IN ({in_list})"
        )))
        .bind(to.as_str())
        .bind(owner)
        .bind(to_i64(now_ms))
        .bind(by)
        .bind(id)
        .execute(&mut *c)
        .await?;
        Ok(r.rows_affected() == 1)
    })
}

/// What the registry holds for a hook identity (kind, host, OS user).
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// Its live (not retired) registration.
    Live(Box<Assistant>),
    /// Only retired registrations: it was governed before, and retiring it was meant to last.
    Retired,
    /// Never registered.
    Never,
}

/// The registration of a hook identity.
pub async fn by_identity(
    conn: ConnRef<'_>,
    kind: &str,
    host: &str,
    os_user: &str,
) -> Result<Seen, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM assistants WHERE kind = $1 AND host = $2 AND os_user = $3
             ORDER BY (status = 'retired'), created_ms DESC LIMIT 1"
        )))
        .bind(kind)
        .bind(host)
        .bind(os_user)
        .fetch_optional(&mut *c)
        .await?;
        Ok(match row.as_ref().map(assistant_from).transpose()? {
            Some(a) if a.status == Status::Retired => Seen::Retired,
            Some(a) => Seen::Live(Box::new(a)),
            None => Seen::Never,
        })
    })
}

/// Record that `id` was seen at `now_ms`.
pub async fn seen(conn: ConnRef<'_>, id: &str, now_ms: u64) -> Result<(), sqlx::Error> {
    on_backend!(conn, c, _pg => {
        sqlx::query("UPDATE assistants SET last_seen_ms = $1 WHERE id = $2")
            .bind(to_i64(now_ms))
            .bind(id)
            .execute(&mut *c)
            .await?;
        Ok(())
    })
}

/// The Postgres channel registry changes are announced on.
pub const CHANGED_CHANNEL: &str = "ward_registry";

/// Announce that the registry changed (Postgres `NOTIFY`, delivered to every listening daemon;
/// nothing on SQLite, where the home's stamp file does it). Call after the change committed.
pub async fn announce_change(conn: ConnRef<'_>) -> Result<(), sqlx::Error> {
    if let ConnRef::Pg(c) = conn {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANGED_CHANNEL)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Follow registry announcements on Postgres for as long as the future runs: `generation` moves
/// on every announcement and every (re)connection, and `listening` says whether announcements
/// are being received now (while it is false nothing may be trusted from memory). On SQLite it
/// returns at once.
pub async fn follow_changes(
    pool: &crate::Pool,
    generation: &std::sync::atomic::AtomicU64,
    listening: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering;
    let crate::Pool::Pg(pool) = pool else {
        return;
    };
    loop {
        if let Ok(mut l) = sqlx::postgres::PgListener::connect_with(pool).await
            && l.listen(CHANGED_CHANNEL).await.is_ok()
        {
            generation.fetch_add(1, Ordering::SeqCst);
            listening.store(true, Ordering::SeqCst);
            // `Ok(None)`: the connection was lost; announcements in between are gone.
            while let Ok(Some(_)) = l.try_recv().await {
                generation.fetch_add(1, Ordering::SeqCst);
            }
        }
        listening.store(false, Ordering::SeqCst);
        generation.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Store `a`'s owner, purpose, repositories, environments and review date, unless it is
/// retired. `Ok(false)`: it was retired (or gone) when the update ran.
pub async fn update(conn: ConnRef<'_>, a: &Assistant) -> Result<bool, sqlx::Error> {
    let list = |v: &[String]| {
        serde_json::to_string(v)
            .map_err(|e| sqlx::Error::Protocol(format!("a list does not serialise: {e}")))
    };
    let (repos, envs) = (list(&a.repos)?, list(&a.envs)?);
    on_backend!(conn, c, _pg => {
        let r = sqlx::query(
            "UPDATE assistants SET owner = $1, purpose = $2, repos = $3, envs = $4, review_by_ms = $5
             WHERE id = $6 AND status <> 'retired'",
        )
        .bind(a.owner.as_deref())
        .bind(&a.purpose)
        .bind(&repos)
        .bind(&envs)
        .bind(a.review_by_ms.map(to_i64))
        .bind(&a.id)
        .execute(&mut *c)
        .await?;
        Ok(r.rows_affected() == 1)
    })
}
