//! Group commit: many callers' events share one transaction, one fsync and one signed
//! checkpoint. A caller's answer waits for its event's commit, so nothing is answered before
//! it is durable; if the commit fails, every caller in the batch gets the error (and denies).

use crate::metrics::Metrics;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use ward_audit::NoteSigner;
use ward_core::{ErrorCode, Event, WardError};
use ward_store::repo::LogRow;
use ward_store::writer::SqliteAppender;
use ward_store::{Conn, OnDuplicate, Receipt, Target, repo};

/// One event waiting for its commit, already serialised (on the caller's task).
struct Job {
    row: LogRow,
    done: oneshot::Sender<Result<u64, WardError>>,
}

/// A handle to the writer task.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
    /// SQLite: turns at the file's write lock, taken in order by the writer (around each
    /// commit) and by the daemon's other writes ([`Committer::write_turn`]).
    turns: Option<Arc<Turns>>,
}

/// First come, first served turns at SQLite's write lock within the daemon.
///
/// SQLite has one writer at a time, and a connection that finds the lock taken polls for it
/// with growing sleeps. The audit writer commits back to back and takes the lock again right
/// after each commit, so another connection's write (a first-use enrolment, an approval) could
/// poll for seconds (measured: a registration held 2.24 s under load). A fair queue in front of
/// the lock bounds that wait to the commits already queued.
pub type Turns = tokio::sync::Mutex<()>;

/// How many events one commit takes at most.
pub const DEFAULT_MAX_BATCH: usize = 512;

impl Committer {
    /// Start the writer, on its own thread and connection to `target`. The commit is the one
    /// serial step of every decision: on a busy machine its task must not queue behind request
    /// tasks for a worker thread between its statements (measured: the writer was busy 94% of
    /// the time at 6k decisions/s).
    pub async fn start(
        target: Target,
        signer: Arc<NoteSigner>,
        metrics: Arc<Metrics>,
        max_batch: usize,
        queue: usize,
    ) -> Result<Committer, WardError> {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let (ready_tx, ready_rx) = oneshot::channel();
        let turns = (!target.is_postgres()).then(|| Arc::new(Turns::new(())));
        let writer_turns = turns.clone();
        std::thread::Builder::new()
            .name("ward-audit-writer".into())
            .spawn(move || match Appender::open(target) {
                Ok(appender) => {
                    let _ = ready_tx.send(Ok(()));
                    writer(
                        appender,
                        rx,
                        signer,
                        metrics,
                        max_batch.max(1),
                        writer_turns,
                    );
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| {
                WardError::new(
                    ErrorCode::AuditAppend,
                    format!("cannot start the audit writer: {e}"),
                )
            })?;
        ready_rx.await.unwrap_or_else(|_| {
            Err(WardError::new(
                ErrorCode::AuditAppend,
                "the audit writer stopped while starting",
            ))
        })?;
        Ok(Committer { tx, turns })
    }

    /// A turn at the store's write lock, for a write outside the audit log (SQLite only: `None`
    /// on Postgres, whose writes lock rows). Take it before acquiring the connection that
    /// writes, and drop it before anything that waits for a commit (`append`), which needs a
    /// turn of its own.
    pub async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.turns {
            Some(t) => Some(t.lock().await),
            None => None,
        }
    }

    /// Append `event`; returns its sequence number once durable.
    pub async fn append(&self, event: &Event) -> Result<u64, WardError> {
        // Serialise here, on the caller's task: the single writer only writes.
        let row = LogRow::new(event).map_err(ward_store::append_err)?;
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { row, done })
            .await
            .map_err(|_| WardError::new(ErrorCode::AuditAppend, "the audit writer has stopped"))?;
        wait.await.unwrap_or_else(|_| {
            Err(WardError::new(
                ErrorCode::AuditAppend,
                "the audit writer stopped before the event was durable",
            ))
        })
    }

    /// Events waiting for a commit (the audit lag).
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }
}

/// The writer's connection. SQLite is driven directly on the writer's thread (no hop per
/// statement: [`ward_store::writer`]); Postgres through sqlx on a current-thread runtime.
enum Appender {
    Sqlite {
        path: PathBuf,
        appender: Option<SqliteAppender>,
    },
    Sqlx {
        target: Target,
        rt: tokio::runtime::Runtime,
        conn: Option<Conn>,
        cache: repo::FrontierCache,
    },
}

impl Appender {
    fn open(target: Target) -> Result<Appender, WardError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                WardError::new(
                    ErrorCode::AuditAppend,
                    format!("cannot start the audit writer: {e}"),
                )
            })?;
        // Through sqlx first in both cases: it brings the schema up to date.
        let conn = rt
            .block_on(Conn::open(&target))
            .map_err(ward_store::append_err)?;
        Ok(match target {
            Target::Sqlite(path) => {
                drop(conn);
                let appender = SqliteAppender::open(&path)?;
                Appender::Sqlite {
                    path,
                    appender: Some(appender),
                }
            }
            target @ Target::Postgres(_) => Appender::Sqlx {
                target,
                rt,
                conn: Some(conn),
                cache: repo::FrontierCache::default(),
            },
        })
    }

    fn append(
        &mut self,
        rows: &[LogRow],
        signer: &NoteSigner,
        origin: &str,
    ) -> Result<Vec<Option<Receipt>>, WardError> {
        match self {
            Appender::Sqlite { path, appender } => {
                let a = match appender {
                    Some(a) => a,
                    None => appender.insert(SqliteAppender::open(path)?),
                };
                let result = a.append_rows(rows, signer, origin, OnDuplicate::Fail);
                if result.is_err() {
                    // A broken connection is reopened for the next batch.
                    *appender = None;
                }
                result
            }
            Appender::Sqlx {
                target,
                rt,
                conn,
                cache,
            } => {
                if conn.is_none() {
                    *conn = rt.block_on(Conn::open(target)).ok();
                }
                let Some(c) = conn.as_mut() else {
                    return Err(WardError::new(
                        ErrorCode::AuditAppend,
                        format!("cannot reach the audit store `{}`", target.display()),
                    ));
                };
                let result = rt
                    .block_on(repo::append_rows(
                        c.r(),
                        rows,
                        signer,
                        origin,
                        OnDuplicate::Fail,
                        cache,
                    ))
                    .map_err(ward_store::append_err);
                if result.is_err() {
                    *conn = None;
                    *cache = repo::FrontierCache::default();
                }
                result
            }
        }
    }
}

/// The writer's loop: take what is queued (up to `max_batch`), commit it as one transaction,
/// answer every caller in it.
fn writer(
    mut appender: Appender,
    mut rx: mpsc::Receiver<Job>,
    signer: Arc<NoteSigner>,
    metrics: Arc<Metrics>,
    max_batch: usize,
    turns: Option<Arc<Turns>>,
) {
    let origin = signer.name().to_string();
    let mut rows: Vec<LogRow> = Vec::with_capacity(max_batch);
    let mut dones = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        while let Some(job) = next {
            rows.push(job.row);
            dones.push(job.done);
            next = if rows.len() < max_batch {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        let turn = turns.as_deref().map(Turns::blocking_lock);
        let started = Instant::now();
        let result = appender.append(&rows, &signer, &origin);
        drop(turn);
        metrics.commit(rows.len(), started.elapsed());
        rows.clear();
        match result {
            Ok(receipts) => {
                for (done, r) in dones.drain(..).zip(receipts) {
                    let _ = done.send(r.map(|r| r.seq).ok_or_else(|| {
                        WardError::new(ErrorCode::AuditAppend, "the append stored nothing")
                    }));
                }
            }
            Err(e) => {
                metrics.commit_failed();
                for done in dones.drain(..) {
                    let _ = done.send(Err(e.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::home::Home;
    use std::time::Duration;
    use ward_core::EventKind;

    /// The writer commits only in its turn: while another write holds the turn, an append
    /// waits, and it completes once the turn is given back (so a write queued before a commit
    /// goes before it, instead of polling SQLite's lock against a writer that always wins).
    #[test]
    fn the_writer_commits_in_turn_with_other_writes() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        home.init().unwrap();
        let signer = Arc::new(home.signer().unwrap());
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(in_turn(dir.path(), signer));
    }

    async fn in_turn(dir: &std::path::Path, signer: Arc<NoteSigner>) {
        let target = Target::Sqlite(dir.join("turns.db"));
        let c = Committer::start(target, signer, Arc::new(Metrics::default()), 64, 64)
            .await
            .unwrap();
        let ev = |n: u32| {
            crate::pipeline::bare_event(
                EventKind::Approval,
                "claude-code@host/dev",
                &format!("s{n}"),
                "host",
                "dev",
            )
        };
        assert_eq!(c.append(&ev(0)).await.unwrap(), 0);

        let turn = c.write_turn().await.expect("SQLite has turns");
        let waiting = tokio::spawn({
            let c = c.clone();
            let e = ev(1);
            async move { c.append(&e).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !waiting.is_finished(),
            "the writer committed while another write held the turn"
        );
        drop(turn);
        let seq = tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("the append completes once the turn is free")
            .unwrap()
            .unwrap();
        assert_eq!(seq, 1);
    }
}
