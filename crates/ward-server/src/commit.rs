//! Group commit: many callers' events share one transaction, one fsync and one signed
//! checkpoint. A caller's answer waits for its event's commit, so nothing is answered before
//! it is durable; if the commit fails, every caller in the batch gets the error (and denies).

use crate::metrics::Metrics;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use ward_audit::NoteSigner;
use ward_core::{ErrorCode, Event, WardError};
use ward_store::repo::LogRow;
use ward_store::{Conn, OnDuplicate, Target, repo};

/// One event waiting for its commit, already serialised (on the caller's task).
struct Job {
    row: LogRow,
    done: oneshot::Sender<Result<u64, WardError>>,
}

/// A handle to the writer task.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
}

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
        std::thread::Builder::new()
            .name("ward-audit-writer".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(WardError::new(
                            ErrorCode::AuditAppend,
                            format!("cannot start the audit writer: {e}"),
                        )));
                        return;
                    }
                };
                rt.block_on(async move {
                    match Conn::open(&target).await {
                        Ok(conn) => {
                            let _ = ready_tx.send(Ok(()));
                            writer(target, conn, rx, signer, metrics, max_batch.max(1)).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(ward_store::append_err(e)));
                        }
                    }
                });
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
        Ok(Committer { tx })
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

async fn writer(
    target: Target,
    conn: Conn,
    mut rx: mpsc::Receiver<Job>,
    signer: Arc<NoteSigner>,
    metrics: Arc<Metrics>,
    max_batch: usize,
) {
    let origin = signer.name().to_string();
    let mut conn = Some(conn);
    let mut cache = repo::FrontierCache::default();
    let mut jobs: Vec<Job> = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut jobs, max_batch).await > 0 {
        let started = Instant::now();
        let (rows, dones): (Vec<LogRow>, Vec<_>) = jobs.drain(..).map(|j| (j.row, j.done)).unzip();
        if conn.is_none() {
            conn = Conn::open(&target).await.ok();
        }
        let result = match conn.as_mut() {
            Some(c) => repo::append_rows(
                c.r(),
                &rows,
                &signer,
                &origin,
                OnDuplicate::Fail,
                &mut cache,
            )
            .await
            .map_err(ward_store::append_err),
            None => Err(WardError::new(
                ErrorCode::AuditAppend,
                format!("cannot reach the audit store `{}`", target.display()),
            )),
        };
        metrics.commit(rows.len(), started.elapsed());
        match result {
            Ok(receipts) => {
                for (done, r) in dones.into_iter().zip(receipts) {
                    let _ = done.send(r.map(|r| r.seq).ok_or_else(|| {
                        WardError::new(ErrorCode::AuditAppend, "the append stored nothing")
                    }));
                }
            }
            Err(e) => {
                metrics.commit_failed();
                // A broken connection is reopened for the next batch.
                conn = None;
                for done in dones {
                    let _ = done.send(Err(e.clone()));
                }
            }
        }
    }
}
