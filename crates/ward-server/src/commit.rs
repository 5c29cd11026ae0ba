//! Group commit: many callers' events share one transaction, one fsync and one signed
//! checkpoint. A caller's answer waits for its event's commit, so nothing is answered before
//! it is durable; if the commit fails, every caller in the batch gets the error (and denies).

use crate::metrics::Metrics;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use ward_audit::NoteSigner;
use ward_core::{ErrorCode, Event, WardError};
use ward_store::{Conn, OnDuplicate, Target, repo};

/// One event waiting for its commit.
struct Job {
    event: Event,
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
    /// Start the writer on its own connection to `target`.
    pub async fn start(
        target: Target,
        signer: Arc<NoteSigner>,
        metrics: Arc<Metrics>,
        max_batch: usize,
        queue: usize,
    ) -> Result<Committer, WardError> {
        let conn = Conn::open(&target).await.map_err(ward_store::append_err)?;
        let (tx, rx) = mpsc::channel(queue.max(1));
        tokio::spawn(writer(target, conn, rx, signer, metrics, max_batch.max(1)));
        Ok(Committer { tx })
    }

    /// Append `event`; returns its sequence number once durable.
    pub async fn append(&self, event: Event) -> Result<u64, WardError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { event, done })
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
    let mut jobs: Vec<Job> = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut jobs, max_batch).await > 0 {
        let started = Instant::now();
        let events: Vec<Event> = jobs.iter().map(|j| j.event.clone()).collect();
        if conn.is_none() {
            conn = Conn::open(&target).await.ok();
        }
        let result = match conn.as_mut() {
            Some(c) => repo::append_batch(c.r(), &events, &signer, &origin, OnDuplicate::Fail)
                .await
                .map_err(ward_store::append_err),
            None => Err(WardError::new(
                ErrorCode::AuditAppend,
                format!("cannot reach the audit store `{}`", target.display()),
            )),
        };
        metrics.commit(jobs.len(), started.elapsed());
        match result {
            Ok(receipts) => {
                for (job, r) in jobs.drain(..).zip(receipts) {
                    let _ = job.done.send(r.map(|r| r.seq).ok_or_else(|| {
                        WardError::new(ErrorCode::AuditAppend, "the append stored nothing")
                    }));
                }
            }
            Err(e) => {
                metrics.commit_failed();
                // A broken connection is reopened for the next batch.
                conn = None;
                for job in jobs.drain(..) {
                    let _ = job.done.send(Err(e.clone()));
                }
            }
        }
    }
}
