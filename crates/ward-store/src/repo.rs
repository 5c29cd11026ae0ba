//! The repository: every query ward makes, written once and run on either backend.
//!
//! The SQL uses `$N` placeholders, which both SQLite and Postgres accept, and only types both
//! share (BIGINT/INTEGER, TEXT, BYTEA/BLOB). Where the two must differ — the migrations and how an
//! appender takes the log's write lock — the branch is explicit.

use crate::conn::ConnRef;
use crate::{Receipt, StoredCheckpoint, StoredEvent};
use sqlx::{Connection, Row};
use std::time::Duration;
use ward_audit::{Checkpoint, Frontier, NoteSigner};
use ward_core::Event;

pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The schema version the SQLite migrations bring a database to (`PRAGMA user_version`).
pub(crate) const SQLITE_SCHEMA_VERSION: i64 = 7;

/// Apply pending migrations.
///
/// SQLite: the version check keeps the common case (a hook process) to one pragma read. SQLite
/// has no migration lock, so two processes may race on a fresh database: the loser's migration
/// transaction fails and rolls back, and a retry finds the work done.
/// Postgres: sqlx's migrator takes an advisory lock, so replicas starting together are safe.
///
/// `run_direct` rather than `run`: `run` goes through sqlx's `Acquire`, whose bound makes the
/// future not provably `Send` for a spawned task (rust-lang/rust#100013).
pub async fn migrate(conn: ConnRef<'_>) -> Result<(), sqlx::Error> {
    match conn {
        ConnRef::Sqlite(conn) => {
            let version: i64 = sqlx::query_scalar("PRAGMA user_version")
                .fetch_one(&mut *conn)
                .await?;
            if version >= SQLITE_SCHEMA_VERSION {
                return Ok(());
            }
            let migrator = sqlx::migrate!("./migrations/sqlite");
            let mut attempt = 0;
            loop {
                match migrator.run_direct(None, &mut *conn, false).await {
                    Ok(()) => break,
                    Err(_) if attempt < 20 => {
                        attempt += 1;
                        std::thread::sleep(Duration::from_millis(10 * attempt));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "PRAGMA user_version = {SQLITE_SCHEMA_VERSION}"
            )))
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
        ConnRef::Pg(conn) => {
            sqlx::migrate!("./migrations/postgres")
                .run_direct(None, &mut *conn, false)
                .await?;
            Ok(())
        }
    }
}

/// SQLite: copy the WAL into the database and truncate it, without waiting for other
/// connections (busy: nothing done). Postgres: nothing to do.
pub async fn trim_wal(conn: ConnRef<'_>) -> Result<(), sqlx::Error> {
    if let ConnRef::Sqlite(conn) = conn {
        sqlx::query("PRAGMA busy_timeout = 0")
            .execute(&mut *conn)
            .await?;
        let done = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_optional(&mut *conn)
            .await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "PRAGMA busy_timeout = {}",
            crate::conn::BUSY_TIMEOUT.as_millis()
        )))
        .execute(&mut *conn)
        .await?;
        done?;
    }
    Ok(())
}

/// One event prepared for insertion: its canonical bytes, leaf hash and index columns. Making
/// one is the CPU part of an append; a daemon makes them on the requests' own tasks so that the
/// single writer only writes.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub(crate) id: String,
    pub(crate) ts: String,
    pub(crate) kind: String,
    pub(crate) session_id: String,
    pub(crate) tool_use_id: Option<String>,
    pub(crate) tool_name: Option<String>,
    pub(crate) input_hash: Option<String>,
    pub(crate) outcome: Option<String>,
    pub(crate) commit: Option<String>,
    pub(crate) body: Vec<u8>,
    pub(crate) leaf: ward_audit::Hash,
    pub(crate) files: Vec<(String, Option<String>)>,
}

impl LogRow {
    pub fn new(event: &Event) -> Result<LogRow, sqlx::Error> {
        prepare(event)
    }
}

fn prepare(event: &Event) -> Result<LogRow, sqlx::Error> {
    let body = event.canonical_bytes();
    if body.is_empty() {
        return Err(sqlx::Error::Protocol("event did not serialise".into()));
    }
    Ok(LogRow {
        leaf: ward_audit::leaf_hash(&body),
        body,
        id: event.id.clone(),
        ts: event.ts.clone(),
        kind: serde_json::to_value(event.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        session_id: event.session_id.clone(),
        tool_use_id: event.tool_use_id.clone(),
        tool_name: event.tool_name.clone(),
        input_hash: event.input_hash.clone(),
        outcome: event
            .decision
            .as_ref()
            .map(|d| d.outcome.as_str().to_string()),
        commit: event
            .effect
            .as_ref()
            .and_then(|e| e.git.as_ref())
            .map(|g| g.commit.clone()),
        files: event
            .effect
            .as_ref()
            .map(|e| {
                e.files
                    .iter()
                    .map(|f| (f.path.clone(), f.sha256.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Rows per INSERT statement (12 binds each: well inside SQLite's 32766 and Postgres' 65535).
const INSERT_CHUNK: usize = 1000;

/// What to do with an event whose id is already in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDuplicate {
    /// Fail the whole batch (the id is meant to be new).
    Fail,
    /// Skip it (replaying a spool that may have been partly ingested).
    Skip,
}

/// Append `events` in order as the next leaves, in one transaction, and sign one checkpoint
/// for the resulting tree size. Many decisions share this transaction's commit (group commit).
/// Returns one receipt per event (`None` for a skipped duplicate).
pub async fn append_batch(
    conn: ConnRef<'_>,
    events: &[Event],
    signer: &NoteSigner,
    origin: &str,
    on_duplicate: OnDuplicate,
    cache: &mut FrontierCache,
) -> Result<Vec<Option<Receipt>>, sqlx::Error> {
    let rows = events.iter().map(prepare).collect::<Result<Vec<_>, _>>()?;
    append_rows(conn, &rows, signer, origin, on_duplicate, cache).await
}

/// The tree's right edge as one writer last committed it. A writer that appends again and again
/// (the daemon's) keeps it, and each commit then checks it with a conditional update instead of
/// reading it: one statement fewer per commit. If another appender moved the tree meanwhile, the
/// check fails, the transaction is rolled back and the batch is appended again from the stored
/// state — nothing is denied, nothing forks.
#[derive(Debug, Default)]
pub struct FrontierCache(Option<Frontier>);

impl FrontierCache {
    /// Read the stored edge outside any transaction, so that a later append need not read it
    /// while it holds the write lock (a hook does this while it decides). An empty log, or an
    /// edge that moves before the append, just means the append reads it again.
    pub async fn load(conn: ConnRef<'_>) -> Result<FrontierCache, sqlx::Error> {
        on_backend!(conn, c, _pg => {
            let row = sqlx::query("SELECT frontier FROM tree_state WHERE id = 1")
                .fetch_optional(&mut *c)
                .await?;
            Ok(FrontierCache(row.map(|r| frontier_of(&r)).transpose()?))
        })
    }
}

/// The tree edge stored in a `tree_state` row.
fn frontier_of<R: Row>(row: &R) -> Result<Frontier, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> Vec<u8>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let bytes: Vec<u8> = row.try_get("frontier")?;
    Frontier::from_bytes(&bytes).map_err(|e| sqlx::Error::Protocol(e.to_string()))
}

/// What an append writes, worked out before any statement runs: the rows' sequence numbers,
/// the new tree edge and the signed checkpoint. Both executors use it: sqlx here, and the
/// daemon's own SQLite connection in [`crate::writer`].
pub(crate) struct Plan<'r> {
    pub(crate) old_size: u64,
    pub(crate) frontier: Frontier,
    /// The rows that go in (a replay skips ids already logged), with their sequence numbers.
    pub(crate) new_rows: Vec<(u64, &'r LogRow)>,
    pub(crate) receipts: Vec<Option<Receipt>>,
    /// The checkpoint note for the new size; `None` when nothing is appended.
    pub(crate) note: Option<String>,
}

impl Plan<'_> {
    /// The `event_files` rows of the new events.
    pub(crate) fn files(&self) -> Vec<(u64, &str, Option<&str>)> {
        self.new_rows
            .iter()
            .flat_map(|(seq, row)| {
                row.files
                    .iter()
                    .map(move |(p, h)| (*seq, p.as_str(), h.as_deref()))
            })
            .collect()
    }
}

/// Plan appending `rows` after `frontier`; `seen[i]` says row `i` is already logged (skip it).
pub(crate) fn plan<'r>(
    rows: &'r [LogRow],
    seen: &[bool],
    mut frontier: Frontier,
    signer: &NoteSigner,
    origin: &str,
) -> Result<Plan<'r>, ward_audit::AuditError> {
    let old_size = frontier.size();
    let mut seqs: Vec<Option<u64>> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if seen.get(i).copied().unwrap_or(false) {
            seqs.push(None);
            continue;
        }
        seqs.push(Some(frontier.size()));
        frontier.append(row.leaf);
    }
    let new_rows = seqs
        .iter()
        .zip(rows)
        .filter_map(|(s, r)| s.map(|s| (s, r)))
        .collect::<Vec<_>>();
    let (size, root) = (frontier.size(), frontier.root());
    let receipts = seqs
        .iter()
        .map(|s| {
            s.map(|seq| Receipt {
                seq,
                tree_size: size,
                root,
            })
        })
        .collect();
    let note = if new_rows.is_empty() {
        None
    } else {
        Some(ward_audit::try_sign_checkpoint(
            signer,
            &Checkpoint {
                origin: origin.to_string(),
                size,
                root,
            },
        )?)
    };
    Ok(Plan {
        old_size,
        frontier,
        new_rows,
        receipts,
        note,
    })
}

/// The statements of an append, shared by both executors (`$N` in order, so SQLite binds them
/// by position too).
pub(crate) const SQL_EDGE_READ: &str = "SELECT size, frontier FROM tree_state WHERE id = 1";
const SQL_EDGE_LOCK_PG: &str = "SELECT size, frontier FROM tree_state WHERE id = 1 FOR UPDATE";
pub(crate) const SQL_EDGE_MOVE: &str =
    "UPDATE tree_state SET size = $1, frontier = $2 WHERE id = 1 AND size = $3";
pub(crate) const SQL_EDGE_STORE: &str =
    "INSERT INTO tree_state (id, size, frontier) VALUES (1, $1, $2)
     ON CONFLICT (id) DO UPDATE SET size = excluded.size, frontier = excluded.frontier";
pub(crate) const SQL_SEEN: &str = "SELECT 1 AS one FROM events WHERE id = $1";
pub(crate) const SQL_EVENTS: &str = "INSERT INTO events (seq, id, ts, kind, session_id, tool_use_id, tool_name, input_hash, outcome, commit_sha, body, leaf_hash) ";
pub(crate) const SQL_FILES: &str = "INSERT INTO event_files (seq, path, sha256) ";
pub(crate) const SQL_CHECKPOINT: &str =
    "INSERT INTO checkpoints (size, root, note) VALUES ($1, $2, $3)";

/// A whole append on Postgres as one statement (so one round trip, in its own implicit
/// transaction), for a writer that remembers the tree edge: the conditional edge update, the
/// events, their files and the signed checkpoint. Every insert depends on the edge update
/// having matched, so if another appender moved the tree nothing is written and `moved` is 0.
/// The events' foreign keys are checked at the end of the statement, when all rows are in.
const SQL_APPEND_PG: &str = "WITH edge AS (
    UPDATE tree_state SET size = $1, frontier = $2 WHERE id = 1 AND size = $3 RETURNING size
), ev AS (
    INSERT INTO events (seq, id, ts, kind, session_id, tool_use_id, tool_name, input_hash, outcome, commit_sha, body, leaf_hash)
    SELECT * FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                         $10::text[], $11::text[], $12::text[], $13::text[], $14::bytea[], $15::bytea[])
    WHERE EXISTS (SELECT 1 FROM edge)
), files AS (
    INSERT INTO event_files (seq, path, sha256)
    SELECT * FROM unnest($16::bigint[], $17::text[], $18::text[])
    WHERE EXISTS (SELECT 1 FROM edge)
), cp AS (
    INSERT INTO checkpoints (size, root, note) SELECT $1, $19, $20 WHERE EXISTS (SELECT 1 FROM edge)
)
SELECT count(*) AS moved FROM edge";

/// Run `plan` as [`SQL_APPEND_PG`]; false when the remembered edge was not the stored one
/// (nothing was written).
async fn append_pg_at_once(
    c: &mut sqlx::PgConnection,
    plan: &Plan<'_>,
) -> Result<bool, sqlx::Error> {
    let Some(note) = &plan.note else {
        return Ok(true);
    };
    let rows = &plan.new_rows;
    let col = |f: fn(&LogRow) -> Option<&str>| rows.iter().map(|(_, r)| f(r)).collect::<Vec<_>>();
    let files = plan.files();
    let moved: i64 = sqlx::query_scalar(SQL_APPEND_PG)
        .bind(to_i64(plan.frontier.size()))
        .bind(plan.frontier.to_bytes())
        .bind(to_i64(plan.old_size))
        .bind(rows.iter().map(|(seq, _)| to_i64(*seq)).collect::<Vec<_>>())
        .bind(col(|r| Some(r.id.as_str())))
        .bind(col(|r| Some(r.ts.as_str())))
        .bind(col(|r| Some(r.kind.as_str())))
        .bind(col(|r| Some(r.session_id.as_str())))
        .bind(col(|r| r.tool_use_id.as_deref()))
        .bind(col(|r| r.tool_name.as_deref()))
        .bind(col(|r| r.input_hash.as_deref()))
        .bind(col(|r| r.outcome.as_deref()))
        .bind(col(|r| r.commit.as_deref()))
        .bind(
            rows.iter()
                .map(|(_, r)| r.body.as_slice())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, r)| r.leaf.as_slice())
                .collect::<Vec<_>>(),
        )
        .bind(
            files
                .iter()
                .map(|(seq, _, _)| to_i64(*seq))
                .collect::<Vec<_>>(),
        )
        .bind(files.iter().map(|(_, path, _)| *path).collect::<Vec<_>>())
        .bind(files.iter().map(|(_, _, sha)| *sha).collect::<Vec<_>>())
        .bind(plan.frontier.root().as_slice())
        .bind(note)
        .fetch_one(&mut *c)
        .await?;
    Ok(moved == 1)
}

/// [`append_batch`] for rows already prepared.
pub async fn append_rows(
    mut conn: ConnRef<'_>,
    rows: &[LogRow],
    signer: &NoteSigner,
    origin: &str,
    on_duplicate: OnDuplicate,
    cache: &mut FrontierCache,
) -> Result<Vec<Option<Receipt>>, sqlx::Error> {
    // Postgres, with the edge remembered and nothing to look up first: one round trip. Each
    // round trip of a commit is a wake-up of the server's process on a machine that is busy
    // deciding; five of them made the commit, and so every decision's tail, slower
    // (docs/PERFORMANCE.md). A moved edge falls through to the locking path below.
    if let ConnRef::Pg(c) = &mut conn
        && on_duplicate == OnDuplicate::Fail
        && let Some(frontier) = cache.0.take()
    {
        let plan = plan(rows, &[], frontier, signer, origin)
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        if append_pg_at_once(c, &plan).await? {
            cache.0 = Some(plan.frontier);
            return Ok(plan.receipts);
        }
    }
    on_backend!(conn, c, pg => {
    loop {
        let mut tx = if pg {
            c.begin().await?
        } else {
            c.begin_with("BEGIN IMMEDIATE").await?
        };
        let cached = cache.0.take();
        let from_cache = cached.is_some();
        let frontier = match cached {
            Some(f) => f,
            None => {
                let lock = if pg { SQL_EDGE_LOCK_PG } else { SQL_EDGE_READ };
                match sqlx::query(lock).fetch_optional(&mut *tx).await? {
                    Some(row) => frontier_of(&row)?,
                    None => Frontier::new(),
                }
            }
        };
        let mut seen = Vec::new();
        if on_duplicate == OnDuplicate::Skip {
            for row in rows {
                let hit = sqlx::query(SQL_SEEN)
                    .bind(&row.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                seen.push(hit.is_some());
            }
        }
        let plan = plan(rows, &seen, frontier, signer, origin)
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        // One statement per table for the whole batch: a round trip per row to the database
        // (or to sqlx's SQLite worker thread) would cost more than the rows.
        if from_cache && !plan.new_rows.is_empty() {
            // The cached edge must still be the stored one; this update also takes the row lock
            // on Postgres before anything else is written.
            let moved = sqlx::query(SQL_EDGE_MOVE)
                .bind(to_i64(plan.frontier.size()))
                .bind(plan.frontier.to_bytes())
                .bind(to_i64(plan.old_size))
                .execute(&mut *tx)
                .await?;
            if moved.rows_affected() != 1 {
                tx.rollback().await?;
                continue;
            }
        }
        for chunk in plan.new_rows.chunks(INSERT_CHUNK) {
            let mut q = sqlx::QueryBuilder::new(SQL_EVENTS);
            q.push_values(chunk, |mut b, (seq, row)| {
                b.push_bind(to_i64(*seq))
                    .push_bind(row.id.as_str())
                    .push_bind(row.ts.as_str())
                    .push_bind(row.kind.as_str())
                    .push_bind(row.session_id.as_str())
                    .push_bind(row.tool_use_id.as_deref())
                    .push_bind(row.tool_name.as_deref())
                    .push_bind(row.input_hash.as_deref())
                    .push_bind(row.outcome.as_deref())
                    .push_bind(row.commit.as_deref())
                    .push_bind(row.body.as_slice())
                    .push_bind(row.leaf.as_slice());
            });
            q.build().execute(&mut *tx).await?;
        }
        for chunk in plan.files().chunks(INSERT_CHUNK) {
            let mut q = sqlx::QueryBuilder::new(SQL_FILES);
            q.push_values(chunk, |mut b, (seq, path, sha)| {
                b.push_bind(to_i64(*seq)).push_bind(*path).push_bind(*sha);
            });
            q.build().execute(&mut *tx).await?;
        }
        if let Some(note) = &plan.note {
            if !from_cache {
                sqlx::query(SQL_EDGE_STORE)
                    .bind(to_i64(plan.frontier.size()))
                    .bind(plan.frontier.to_bytes())
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(SQL_CHECKPOINT)
                .bind(to_i64(plan.frontier.size()))
                .bind(plan.frontier.root().as_slice())
                .bind(note)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        cache.0 = Some(plan.frontier);
        return Ok(plan.receipts);
    }
    })
}

/// The decision event a post-tool event belongs to: by the client's call id when it has one,
/// else the latest decision in the same session for the same tool and input.
pub async fn find_decision(
    conn: ConnRef<'_>,
    session_id: &str,
    tool_use_id: Option<&str>,
    tool_name: Option<&str>,
    input_hash: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        if let Some(tid) = tool_use_id {
            let row = sqlx::query(
                "SELECT id FROM events WHERE tool_use_id = $1 AND session_id = $2 AND kind = 'decision' ORDER BY seq DESC LIMIT 1",
            )
            .bind(tid)
            .bind(session_id)
            .fetch_optional(&mut *c)
            .await?;
            if let Some(row) = row {
                return row.try_get::<String, _>("id").map(Some);
            }
        }
        let row = sqlx::query(
            "SELECT id FROM events WHERE session_id = $1 AND tool_name IS NOT DISTINCT FROM $2 AND input_hash IS NOT DISTINCT FROM $3 AND kind = 'decision' ORDER BY seq DESC LIMIT 1",
        )
        .bind(session_id)
        .bind(tool_name)
        .bind(input_hash)
        .fetch_optional(&mut *c)
        .await?;
        row.map(|r| r.try_get::<String, _>("id")).transpose()
    })
}

/// Which events to read.
#[derive(Debug, Clone)]
pub enum EventQuery {
    /// `seq >= from`, in order, at most `limit`.
    From {
        from: u64,
        limit: u64,
    },
    /// The last `n`, newest first.
    Last(u64),
    ById(String),
    /// Effects whose commit SHA starts with this (lowercase) prefix.
    CommitPrefix(String),
    /// Effects that changed this absolute path.
    Path(String),
}

pub async fn events(conn: ConnRef<'_>, q: &EventQuery) -> Result<Vec<StoredEvent>, sqlx::Error> {
    const COLS: &str = "SELECT seq, id, body, leaf_hash FROM events";
    on_backend!(conn, c, _pg => {
        let rows = match q {
            EventQuery::From { from, limit } => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{COLS} WHERE seq >= $1 ORDER BY seq LIMIT $2"
                )))
                .bind(to_i64(*from))
                .bind(to_i64(*limit))
                .fetch_all(&mut *c)
                .await?
            }
            EventQuery::Last(n) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{COLS} ORDER BY seq DESC LIMIT $1"
                )))
                .bind(to_i64(*n))
                .fetch_all(&mut *c)
                .await?
            }
            EventQuery::ById(id) => {
                sqlx::query(sqlx::AssertSqlSafe(format!("{COLS} WHERE id = $1")))
                    .bind(id)
                    .fetch_all(&mut *c)
                    .await?
            }
            EventQuery::CommitPrefix(p) => {
                // A commit SHA is hex: any other prefix matches nothing (and never reaches
                // LIKE as a pattern). A range both backends answer from the commit index:
                // SQLite's LIKE cannot use it with a bound pattern, Postgres's
                // text_pattern_ops index serves LIKE with a fixed prefix.
                if !p.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Ok(Vec::new());
                }
                let sql = if _pg {
                    "WHERE commit_sha LIKE $1 || '%'"
                } else {
                    "WHERE commit_sha >= $1 AND commit_sha < $1 || char(1114111)"
                };
                sqlx::query(sqlx::AssertSqlSafe(format!("{COLS} {sql} ORDER BY seq")))
                .bind(p.to_ascii_lowercase())
                .fetch_all(&mut *c)
                .await?
            }
            EventQuery::Path(p) => {
                sqlx::query(
                    "SELECT e.seq, e.id, e.body, e.leaf_hash FROM events e JOIN event_files f ON f.seq = e.seq WHERE f.path = $1 ORDER BY e.seq",
                )
                .bind(p)
                .fetch_all(&mut *c)
                .await?
            }
        };
        rows.into_iter()
            .map(|r| {
                Ok(StoredEvent {
                    seq: to_u64(r.try_get::<i64, _>("seq")?),
                    id: r.try_get("id")?,
                    body: r.try_get("body")?,
                    leaf_hash: r.try_get("leaf_hash")?,
                })
            })
            .collect()
    })
}

/// The number of leaves and the stored frontier.
pub async fn tree_state(conn: ConnRef<'_>) -> Result<(u64, Option<Vec<u8>>), sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query("SELECT size, frontier FROM tree_state WHERE id = 1")
            .fetch_optional(&mut *c)
            .await?;
        match row {
            Some(r) => Ok((
                to_u64(r.try_get::<i64, _>("size")?),
                Some(r.try_get::<Vec<u8>, _>("frontier")?),
            )),
            None => Ok((0, None)),
        }
    })
}

/// Which checkpoints to read.
#[derive(Debug, Clone, Copy)]
pub enum CheckpointQuery {
    All,
    Latest,
    At(u64),
}

pub async fn checkpoints(
    conn: ConnRef<'_>,
    q: CheckpointQuery,
) -> Result<Vec<StoredCheckpoint>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let rows = match q {
            CheckpointQuery::All => {
                sqlx::query("SELECT size, root, note FROM checkpoints ORDER BY size")
                    .fetch_all(&mut *c)
                    .await?
            }
            CheckpointQuery::Latest => {
                sqlx::query("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1")
                    .fetch_all(&mut *c)
                    .await?
            }
            CheckpointQuery::At(size) => {
                sqlx::query("SELECT size, root, note FROM checkpoints WHERE size = $1")
                    .bind(to_i64(size))
                    .fetch_all(&mut *c)
                    .await?
            }
        };
        rows.into_iter()
            .map(|r| {
                Ok(StoredCheckpoint {
                    size: to_u64(r.try_get::<i64, _>("size")?),
                    root: r.try_get("root")?,
                    note: r.try_get("note")?,
                })
            })
            .collect()
    })
}

/// Does the log hold an event with this id?
pub async fn has_event(conn: ConnRef<'_>, id: &str) -> Result<bool, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        Ok(sqlx::query("SELECT 1 AS one FROM events WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .is_some())
    })
}

/// A cheap round trip, for readiness checks.
pub async fn ping(conn: ConnRef<'_>) -> Result<(), sqlx::Error> {
    on_backend!(conn, c, _pg => {
        sqlx::query("SELECT 1 AS one").fetch_one(&mut *c).await?;
        Ok(())
    })
}
