//! The daemon's audit writer on SQLite: the same append as [`crate::repo::append_rows`] (the
//! same [`crate::repo::plan`], the same statements), run synchronously on a connection that the
//! writer's own thread owns.
//!
//! Through sqlx every statement of a group commit is a round trip to sqlx's SQLite worker
//! thread; on a busy two-core machine each hop waits for a time slice, and the single writer
//! (the one serial step of every durable decision) spent most of each commit waiting
//! (docs/PERFORMANCE.md). Here a commit is the SQLite work, one WAL write and one fsync.
//!
//! The schema is brought up to date through sqlx first ([`SqliteAppender::open`] checks it);
//! other appenders (a hook, the spool ingester) may share the file: `BEGIN IMMEDIATE` takes the
//! write lock, and a remembered tree edge that another appender moved is detected by the
//! conditional update and read again, exactly as in the sqlx executor.

use crate::repo::{
    self, LogRow, OnDuplicate, SQL_CHECKPOINT, SQL_EDGE_MOVE, SQL_EDGE_READ, SQL_EDGE_STORE,
    SQL_EVENTS, SQL_FILES, SQL_SEEN, to_i64,
};
use crate::{Receipt, conn::BUSY_TIMEOUT};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use ward_audit::{Frontier, NoteSigner};
use ward_core::{ErrorCode, WardError};

/// An appender that owns its SQLite connection.
pub struct SqliteAppender {
    conn: Connection,
    /// The tree's right edge as this appender last committed it (see
    /// [`repo::FrontierCache`]).
    edge: Option<Frontier>,
}

fn err(e: impl std::fmt::Display) -> WardError {
    crate::io_err(ErrorCode::AuditAppend, "cannot record the event durably", e)
}

impl SqliteAppender {
    /// Open `path`, whose schema must be current (open it once with [`crate::Conn::open`]
    /// first). The settings are those of every other connection: WAL, `synchronous=FULL`, the
    /// same busy timeout, foreign keys on.
    pub fn open(path: &Path) -> Result<SqliteAppender, WardError> {
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(err(format!(
                "`{}` cannot use write-ahead logging (journal mode {mode})",
                path.display()
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if version < repo::SQLITE_SCHEMA_VERSION {
            return Err(err(format!(
                "`{}` has schema version {version}, not {}: open it through the store first",
                path.display(),
                repo::SQLITE_SCHEMA_VERSION
            )));
        }
        Ok(SqliteAppender { conn, edge: None })
    }

    /// Append `rows` in order as the next leaves in one transaction with one signed checkpoint,
    /// as [`repo::append_rows`] does. Returns one receipt per row (`None` for a skipped
    /// duplicate). The remembered edge is taken before anything can fail, so after a failure
    /// the next append reads it again.
    pub fn append_rows(
        &mut self,
        rows: &[LogRow],
        signer: &NoteSigner,
        origin: &str,
        on_duplicate: OnDuplicate,
    ) -> Result<Vec<Option<Receipt>>, WardError> {
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            let cached = self.edge.take();
            let from_cache = cached.is_some();
            let frontier = match cached {
                Some(f) => f,
                None => {
                    let stored: Option<Vec<u8>> = tx
                        .prepare_cached(SQL_EDGE_READ)
                        .and_then(|mut s| s.query_row([], |r| r.get(1)).optional())
                        .map_err(err)?;
                    match stored {
                        Some(b) => Frontier::from_bytes(&b).map_err(err)?,
                        None => Frontier::new(),
                    }
                }
            };
            let mut seen = Vec::new();
            if on_duplicate == OnDuplicate::Skip {
                let mut q = tx.prepare_cached(SQL_SEEN).map_err(err)?;
                for row in rows {
                    seen.push(q.exists([row.id.as_str()]).map_err(err)?);
                }
            }
            let plan = repo::plan(rows, &seen, frontier, signer, origin).map_err(err)?;
            if from_cache && !plan.new_rows.is_empty() {
                let moved = tx
                    .prepare_cached(SQL_EDGE_MOVE)
                    .and_then(|mut s| {
                        s.execute(params![
                            to_i64(plan.frontier.size()),
                            plan.frontier.to_bytes(),
                            to_i64(plan.old_size)
                        ])
                    })
                    .map_err(err)?;
                if moved != 1 {
                    // Another appender moved the tree: read it again (dropping `tx` rolls back).
                    drop(tx);
                    continue;
                }
            }
            {
                let mut q = tx
                    .prepare_cached(&format!(
                        "{SQL_EVENTS}VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                    ))
                    .map_err(err)?;
                for (seq, row) in &plan.new_rows {
                    q.execute(params![
                        to_i64(*seq),
                        row.id,
                        row.ts,
                        row.kind,
                        row.session_id,
                        row.tool_use_id,
                        row.tool_name,
                        row.input_hash,
                        row.outcome,
                        row.commit,
                        row.body,
                        row.leaf.as_slice()
                    ])
                    .map_err(err)?;
                }
            }
            let files = plan.files();
            if !files.is_empty() {
                let mut q = tx
                    .prepare_cached(&format!("{SQL_FILES}VALUES ($1, $2, $3)"))
                    .map_err(err)?;
                for (seq, path, sha) in files {
                    q.execute(params![to_i64(seq), path, sha]).map_err(err)?;
                }
            }
            if let Some(note) = &plan.note {
                if !from_cache {
                    tx.prepare_cached(SQL_EDGE_STORE)
                        .and_then(|mut s| {
                            s.execute(params![
                                to_i64(plan.frontier.size()),
                                plan.frontier.to_bytes()
                            ])
                        })
                        .map_err(err)?;
                }
                tx.prepare_cached(SQL_CHECKPOINT)
                    .and_then(|mut s| {
                        s.execute(params![
                            to_i64(plan.frontier.size()),
                            plan.frontier.root().as_slice(),
                            note
                        ])
                    })
                    .map_err(err)?;
            }
            tx.commit().map_err(err)?;
            self.edge = Some(plan.frontier);
            return Ok(plan.receipts);
        }
    }
}
