//! ward-store: the audit log and its indexes, in SQLite (WAL, `synchronous=FULL`) through sqlx.
//!
//! The API is synchronous: a hook is a short-lived process, so the store drives sqlx on a
//! current-thread runtime without I/O or timer drivers. Every append runs in one
//! `BEGIN IMMEDIATE` transaction that assigns the sequence number, extends the Merkle frontier
//! and stores a signed checkpoint, so concurrent hooks serialise on SQLite's write lock and can
//! never fork the log. An append returns only after the commit is durable.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};
use std::path::Path;
use std::time::Duration;
use ward_audit::{Checkpoint, Frontier, Hash, NoteSigner};
use ward_core::{ErrorCode, Event, WardError};

/// One stored event row.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: u64,
    pub id: String,
    pub body: Vec<u8>,
    pub leaf_hash: Vec<u8>,
}

impl StoredEvent {
    /// The event as JSON (the canonical bytes parse as JSON).
    pub fn json(&self) -> Result<serde_json::Value, WardError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            WardError::new(
                ErrorCode::AuditVerify,
                format!("event {} body is not JSON: {e}", self.seq),
            )
        })
    }
}

/// A stored checkpoint.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Vec<u8>,
    pub note: String,
}

/// What an append produced.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub seq: u64,
    pub tree_size: u64,
    pub root: Hash,
}

/// The audit store.
pub struct Store {
    rt: tokio::runtime::Runtime,
    conn: SqliteConnection,
}

fn io_err(code: ErrorCode, what: &str, e: impl std::fmt::Display) -> WardError {
    WardError::new(code, format!("{what}: {}", one_line(&e.to_string())))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The schema version the migrations bring a database to (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// Apply pending migrations. The version check keeps the common case to one pragma read.
/// SQLite has no migration lock, so two processes may race on a fresh database: the loser's
/// migration transaction fails and rolls back, and a retry finds the work done.
async fn migrate(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *conn)
        .await?;
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    let migrator = sqlx::migrate!("./migrations/sqlite");
    let mut attempt = 0;
    loop {
        match migrator.run(&mut *conn).await {
            Ok(()) => break,
            Err(_) if attempt < 20 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(10 * attempt));
            }
            Err(e) => return Err(e.into()),
        }
    }
    sqlx::query("PRAGMA user_version = 1")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    /// Open (creating if needed) the database at `path` and apply migrations.
    pub fn open(path: &Path) -> Result<Store, WardError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| io_err(ErrorCode::StoreOpen, "cannot start the store runtime", e))?;
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(15))
            .foreign_keys(true);
        let conn = rt.block_on(async {
            let mut conn = opts.connect().await?;
            migrate(&mut conn).await?;
            Ok::<_, sqlx::Error>(conn)
        });
        let conn = conn.map_err(|e| {
            io_err(
                ErrorCode::StoreOpen,
                &format!("cannot open the audit log `{}`", path.display()),
                e,
            )
        })?;
        Ok(Store { rt, conn })
    }

    /// Append one event as the next leaf and sign a checkpoint for the new tree size.
    pub fn append(
        &mut self,
        event: &Event,
        signer: &NoteSigner,
        origin: &str,
    ) -> Result<Receipt, WardError> {
        let body = event.canonical_bytes();
        if body.is_empty() {
            return Err(WardError::new(
                ErrorCode::AuditAppend,
                "event did not serialise",
            ));
        }
        let leaf = ward_audit::leaf_hash(&body);
        let kind = serde_json::to_value(event.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let outcome = event
            .decision
            .as_ref()
            .map(|d| d.outcome.as_str().to_string());
        let commit = event
            .effect
            .as_ref()
            .and_then(|e| e.git.as_ref())
            .map(|g| g.commit.clone());
        let files: Vec<(String, Option<String>)> = event
            .effect
            .as_ref()
            .map(|e| {
                e.files
                    .iter()
                    .map(|f| (f.path.clone(), f.sha256.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let Store { rt, conn } = self;
        let res: Result<Receipt, sqlx::Error> = rt.block_on(async {
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            let state = sqlx::query("SELECT size, frontier FROM tree_state WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await?;
            let mut frontier = match state {
                Some(row) => {
                    let bytes: Vec<u8> = row.try_get("frontier")?;
                    Frontier::from_bytes(&bytes).map_err(|e| sqlx::Error::Protocol(e.to_string()))?
                }
                None => Frontier::new(),
            };
            let seq = frontier.size();
            sqlx::query(
                "INSERT INTO events (seq, id, ts, kind, session_id, tool_use_id, tool_name, input_hash, outcome, commit_sha, body, leaf_hash)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(to_i64(seq))
            .bind(&event.id)
            .bind(&event.ts)
            .bind(&kind)
            .bind(&event.session_id)
            .bind(&event.tool_use_id)
            .bind(&event.tool_name)
            .bind(&event.input_hash)
            .bind(&outcome)
            .bind(&commit)
            .bind(&body)
            .bind(leaf.as_slice())
            .execute(&mut *tx)
            .await?;
            for (path, sha) in &files {
                sqlx::query("INSERT INTO event_files (seq, path, sha256) VALUES (?, ?, ?)")
                    .bind(to_i64(seq))
                    .bind(path)
                    .bind(sha)
                    .execute(&mut *tx)
                    .await?;
            }
            frontier.append(leaf);
            let root = frontier.root();
            let size = frontier.size();
            sqlx::query(
                "INSERT INTO tree_state (id, size, frontier) VALUES (1, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET size = excluded.size, frontier = excluded.frontier",
            )
            .bind(to_i64(size))
            .bind(frontier.to_bytes())
            .execute(&mut *tx)
            .await?;
            let note = ward_audit::try_sign_checkpoint(
                signer,
                &Checkpoint {
                    origin: origin.to_string(),
                    size,
                    root,
                },
            )
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
            sqlx::query("INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?)")
                .bind(to_i64(size))
                .bind(root.as_slice())
                .bind(&note)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Receipt {
                seq,
                tree_size: size,
                root,
            })
        });
        res.map_err(|e| io_err(ErrorCode::AuditAppend, "cannot record the event durably", e))
    }

    /// The decision event a post-tool event belongs to: by the client's call id when it has one,
    /// else the latest decision in the same session for the same tool and input.
    pub fn find_decision(
        &mut self,
        session_id: &str,
        tool_use_id: Option<&str>,
        tool_name: Option<&str>,
        input_hash: Option<&str>,
    ) -> Result<Option<String>, WardError> {
        let Store { rt, conn } = self;
        let res = rt.block_on(async {
            if let Some(tid) = tool_use_id {
                let row = sqlx::query(
                    "SELECT id FROM events WHERE tool_use_id = ? AND session_id = ? AND kind = 'decision' ORDER BY seq DESC LIMIT 1",
                )
                .bind(tid)
                .bind(session_id)
                .fetch_optional(&mut *conn)
                .await?;
                if let Some(row) = row {
                    return row.try_get::<String, _>("id").map(Some);
                }
            }
            let row = sqlx::query(
                "SELECT id FROM events WHERE session_id = ? AND tool_name IS ? AND input_hash IS ? AND kind = 'decision' ORDER BY seq DESC LIMIT 1",
            )
            .bind(session_id)
            .bind(tool_name)
            .bind(input_hash)
            .fetch_optional(&mut *conn)
            .await?;
            row.map(|r| r.try_get::<String, _>("id")).transpose()
        });
        res.map_err(|e| io_err(ErrorCode::StoreOpen, "cannot read the audit log", e))
    }

    fn rows(&mut self, sql: &'static str, binds: &[String]) -> Result<Vec<StoredEvent>, WardError> {
        let Store { rt, conn } = self;
        let res = rt.block_on(async {
            let mut q = sqlx::query(sql);
            for b in binds {
                q = q.bind(b);
            }
            let rows = q.fetch_all(&mut *conn).await?;
            rows.into_iter()
                .map(|r| {
                    Ok(StoredEvent {
                        seq: to_u64(r.try_get::<i64, _>("seq")?),
                        id: r.try_get("id")?,
                        body: r.try_get("body")?,
                        leaf_hash: r.try_get("leaf_hash")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        });
        res.map_err(|e| io_err(ErrorCode::StoreOpen, "cannot read the audit log", e))
    }

    /// Events with `seq >= from`, in order, at most `limit`.
    pub fn events(&mut self, from: u64, limit: u64) -> Result<Vec<StoredEvent>, WardError> {
        self.rows(
            "SELECT seq, id, body, leaf_hash FROM events WHERE seq >= CAST(? AS INTEGER) ORDER BY seq LIMIT CAST(? AS INTEGER)",
            &[from.to_string(), limit.min(i64::MAX as u64).to_string()],
        )
    }

    /// The last `n` events, oldest first.
    pub fn tail(&mut self, n: u64) -> Result<Vec<StoredEvent>, WardError> {
        let mut v = self.rows(
            "SELECT seq, id, body, leaf_hash FROM events ORDER BY seq DESC LIMIT CAST(? AS INTEGER)",
            &[n.min(i64::MAX as u64).to_string()],
        )?;
        v.reverse();
        Ok(v)
    }

    pub fn event_by_id(&mut self, id: &str) -> Result<Option<StoredEvent>, WardError> {
        Ok(self
            .rows(
                "SELECT seq, id, body, leaf_hash FROM events WHERE id = ?",
                &[id.to_string()],
            )?
            .into_iter()
            .next())
    }

    /// Effect events that produced a commit whose SHA starts with `prefix`.
    pub fn effects_by_commit(&mut self, prefix: &str) -> Result<Vec<StoredEvent>, WardError> {
        self.rows(
            "SELECT seq, id, body, leaf_hash FROM events WHERE commit_sha LIKE ? || '%' ORDER BY seq",
            &[prefix.to_ascii_lowercase()],
        )
    }

    /// Effect events that changed `path` (exact absolute path).
    pub fn effects_by_path(&mut self, path: &str) -> Result<Vec<StoredEvent>, WardError> {
        self.rows(
            "SELECT e.seq, e.id, e.body, e.leaf_hash FROM events e JOIN event_files f ON f.seq = e.seq WHERE f.path = ? ORDER BY e.seq",
            &[path.to_string()],
        )
    }

    /// The number of leaves and the stored frontier.
    pub fn tree_state(&mut self) -> Result<(u64, Option<Vec<u8>>), WardError> {
        let Store { rt, conn } = self;
        let res = rt.block_on(async {
            let row = sqlx::query("SELECT size, frontier FROM tree_state WHERE id = 1")
                .fetch_optional(&mut *conn)
                .await?;
            match row {
                Some(r) => Ok((
                    to_u64(r.try_get::<i64, _>("size")?),
                    Some(r.try_get::<Vec<u8>, _>("frontier")?),
                )),
                None => Ok((0, None)),
            }
        });
        res.map_err(|e: sqlx::Error| io_err(ErrorCode::StoreOpen, "cannot read the tree state", e))
    }

    /// All checkpoints, by size.
    pub fn checkpoints(&mut self) -> Result<Vec<StoredCheckpoint>, WardError> {
        self.checkpoints_where("", &[])
    }

    /// The checkpoint of the largest tree size.
    pub fn latest_checkpoint(&mut self) -> Result<Option<StoredCheckpoint>, WardError> {
        Ok(self
            .checkpoints_where("ORDER BY size DESC LIMIT 1", &[])?
            .into_iter()
            .next())
    }

    /// The checkpoint for exactly `size` leaves.
    pub fn checkpoint_at(&mut self, size: u64) -> Result<Option<StoredCheckpoint>, WardError> {
        Ok(self
            .checkpoints_where("WHERE size = CAST(? AS INTEGER)", &[size.to_string()])?
            .into_iter()
            .next())
    }

    fn checkpoints_where(
        &mut self,
        clause: &'static str,
        binds: &[String],
    ) -> Result<Vec<StoredCheckpoint>, WardError> {
        let Store { rt, conn } = self;
        let order = if clause.contains("ORDER") {
            ""
        } else {
            " ORDER BY size"
        };
        let sql = format!("SELECT size, root, note FROM checkpoints {clause}{order}");
        let res = rt.block_on(async {
            // Built only from the static clauses of this module.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for b in binds {
                q = q.bind(b);
            }
            let rows = q.fetch_all(&mut *conn).await?;
            rows.into_iter()
                .map(|r| {
                    Ok(StoredCheckpoint {
                        size: to_u64(r.try_get::<i64, _>("size")?),
                        root: r.try_get("root")?,
                        note: r.try_get("note")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        });
        res.map_err(|e| io_err(ErrorCode::StoreOpen, "cannot read checkpoints", e))
    }

    /// Leaf hashes of the first `size` leaves, as stored (verification recomputes them).
    pub fn leaf_hashes(&mut self, size: u64) -> Result<Vec<Hash>, WardError> {
        let rows = self.events(0, size)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(ward_audit::leaf_hash(&r.body));
        }
        Ok(out)
    }
}

pub mod verify;

#[cfg(test)]
mod tests;
