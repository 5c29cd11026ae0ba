//! ward-store: the audit log and its indexes, in SQLite (WAL, `synchronous=FULL`, the embedded
//! default) or Postgres, through sqlx.
//!
//! [`repo`] holds every query, written once for both backends; [`conn`] says where the store
//! lives; [`writer`] runs the same append on SQLite without sqlx, for the daemon's writer
//! thread. [`Store`] is the synchronous face a short-lived process uses (a hook, the CLI): it
//! drives sqlx on a current-thread runtime, without I/O or timer drivers for SQLite. Every append
//! runs in one transaction that assigns sequence numbers, extends the Merkle frontier and stores a
//! signed checkpoint, holding the log's write lock (`BEGIN IMMEDIATE` on SQLite, a row lock on
//! Postgres), so concurrent writers can never fork the log. An append returns only after the
//! commit is durable.

/// Runs `$body` with `$c` bound to the backend's connection (`&mut SqliteConnection` or
/// `&mut PgConnection`) and `$pg` to whether it is Postgres. The body is compiled once per
/// backend; the SQL text is shared.
macro_rules! on_backend {
    ($conn:expr, $c:ident, $pg:ident => $body:block) => {
        match $conn {
            ConnRef::Sqlite($c) => {
                let $pg = false;
                $body
            }
            ConnRef::Pg($c) => {
                let $pg = true;
                $body
            }
        }
    };
}

pub mod conn;
pub mod people;
pub mod pins;
pub mod provision;
pub mod registry;
pub mod repo;
pub mod tasks;
#[cfg(any(test, feature = "test-support"))]
pub mod testdb;
pub mod writer;

pub use conn::{Conn, Pool, Target, redact};
pub use repo::{CheckpointQuery, EventQuery, OnDuplicate};

use std::path::Path;
use ward_audit::{Hash, NoteSigner};
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
    /// The event's leaf index.
    pub seq: u64,
    /// The tree size of the checkpoint signed by the commit that made it durable.
    pub tree_size: u64,
    /// That checkpoint's root.
    pub root: Hash,
}

/// The audit store, synchronous.
pub struct Store {
    rt: tokio::runtime::Runtime,
    conn: Conn,
    /// The WAL file of an SQLite store, which this store checkpoints itself (see
    /// [`Store::trim_wal`]).
    wal: Option<std::path::PathBuf>,
    /// The tree's edge as this store last saw it (see [`repo::FrontierCache`]).
    edge: repo::FrontierCache,
}

/// WAL size past which a store's append checkpoints the WAL into the database and empties it.
const WAL_TRIM_BYTES: u64 = 512 << 10;

fn io_err(code: ErrorCode, what: &str, e: impl std::fmt::Display) -> WardError {
    WardError::new(code, format!("{what}: {}", one_line(&e.to_string())))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A store error as a user sees it.
pub fn read_err(e: sqlx::Error) -> WardError {
    io_err(ErrorCode::StoreOpen, "cannot read the audit log", e)
}

/// An append error as a user sees it: the event is not durable.
pub fn append_err(e: sqlx::Error) -> WardError {
    io_err(ErrorCode::AuditAppend, "cannot record the event durably", e)
}

impl Store {
    /// Open (creating if needed) the SQLite database at `path` and apply migrations.
    pub fn open(path: &Path) -> Result<Store, WardError> {
        Store::open_target(&Target::Sqlite(path.to_path_buf()))
    }

    /// Open the store at `target` and apply migrations. Postgres needs the runtime's I/O and
    /// timer drivers; SQLite runs its own threads and needs neither.
    pub fn open_target(target: &Target) -> Result<Store, WardError> {
        let mut b = tokio::runtime::Builder::new_current_thread();
        if target.is_postgres() {
            b.enable_all();
        }
        let rt = b
            .build()
            .map_err(|e| io_err(ErrorCode::StoreOpen, "cannot start the store runtime", e))?;
        let conn = rt.block_on(Conn::open_short_lived(target)).map_err(|e| {
            io_err(
                ErrorCode::StoreOpen,
                &format!("cannot open the audit log `{}`", target.display()),
                e,
            )
        })?;
        let wal = match target {
            Target::Sqlite(path) => {
                let mut name = path.as_os_str().to_owned();
                name.push("-wal");
                Some(std::path::PathBuf::from(name))
            }
            Target::Postgres(_) => None,
        };
        Ok(Store {
            rt,
            conn,
            wal,
            edge: repo::FrontierCache::default(),
        })
    }

    /// Append one event as the next leaf and sign a checkpoint for the new tree size.
    pub fn append(
        &mut self,
        event: &Event,
        signer: &NoteSigner,
        origin: &str,
    ) -> Result<Receipt, WardError> {
        let mut r = self.append_batch(
            std::slice::from_ref(event),
            signer,
            origin,
            OnDuplicate::Fail,
        )?;
        r.pop()
            .flatten()
            .ok_or_else(|| WardError::new(ErrorCode::AuditAppend, "the append stored nothing"))
    }

    /// Append several events in one transaction with one checkpoint.
    pub fn append_batch(
        &mut self,
        events: &[Event],
        signer: &NoteSigner,
        origin: &str,
        on_duplicate: OnDuplicate,
    ) -> Result<Vec<Option<Receipt>>, WardError> {
        let Store { rt, conn, edge, .. } = self;
        let receipts = rt
            .block_on(repo::append_batch(
                conn.r(),
                events,
                signer,
                origin,
                on_duplicate,
                edge,
            ))
            .map_err(append_err)?;
        self.trim_wal();
        Ok(receipts)
    }

    /// Read the tree's edge now, so that the next append does not read it under the write lock
    /// (a hook does this while it decides). A failure here only means the append reads it.
    pub fn load_edge(&mut self) {
        let Store { rt, conn, edge, .. } = self;
        if let Ok(loaded) = rt.block_on(repo::FrontierCache::load(conn.r())) {
            *edge = loaded;
        }
    }

    /// Checkpoint the WAL into the database and empty it once it passes [`WAL_TRIM_BYTES`].
    ///
    /// A `Store` lives in one short process (a hook, a CLI command), usually the only one on the
    /// database. SQLite's automatic checkpoints assume a long-lived connection: the shared
    /// memory that records how much of the WAL was copied back dies with the process, so the
    /// next process can neither reuse the WAL from its start nor skip the copied part, and the
    /// WAL would grow with every event (and be replayed by every open). So SQLite's own
    /// checkpointing is off for these connections, and this one empties the WAL when it gets
    /// long. It never waits for other connections (another process busy on the log just means a
    /// later append trims), and it runs after the commit, so it cannot affect the event.
    fn trim_wal(&mut self) {
        let Some(wal) = &self.wal else { return };
        if std::fs::metadata(wal).map_or(true, |m| m.len() < WAL_TRIM_BYTES) {
            return;
        }
        let Store { rt, conn, .. } = self;
        let _ = rt.block_on(repo::trim_wal(conn.r()));
    }

    /// See [`repo::find_decision`].
    pub fn find_decision(
        &mut self,
        session_id: &str,
        tool_use_id: Option<&str>,
        tool_name: Option<&str>,
        input_hash: Option<&str>,
    ) -> Result<Option<String>, WardError> {
        let Store { rt, conn, .. } = self;
        rt.block_on(repo::find_decision(
            conn.r(),
            session_id,
            tool_use_id,
            tool_name,
            input_hash,
        ))
        .map_err(read_err)
    }

    fn query(&mut self, q: EventQuery) -> Result<Vec<StoredEvent>, WardError> {
        let Store { rt, conn, .. } = self;
        rt.block_on(repo::events(conn.r(), &q)).map_err(read_err)
    }

    /// Events with `seq >= from`, in order, at most `limit`.
    pub fn events(&mut self, from: u64, limit: u64) -> Result<Vec<StoredEvent>, WardError> {
        self.query(EventQuery::From { from, limit })
    }

    /// The last `n` events, oldest first.
    pub fn tail(&mut self, n: u64) -> Result<Vec<StoredEvent>, WardError> {
        let mut v = self.query(EventQuery::Last(n))?;
        v.reverse();
        Ok(v)
    }

    /// Run `f` on this store's connection (the registry and people functions are async).
    pub fn block_on<T>(&mut self, f: impl AsyncFnOnce(&mut Conn) -> T) -> T {
        self.rt.block_on(f(&mut self.conn))
    }

    pub fn event_by_id(&mut self, id: &str) -> Result<Option<StoredEvent>, WardError> {
        Ok(self
            .query(EventQuery::ById(id.to_string()))?
            .into_iter()
            .next())
    }

    /// Effect events that produced a commit whose SHA starts with `prefix`.
    pub fn effects_by_commit(&mut self, prefix: &str) -> Result<Vec<StoredEvent>, WardError> {
        self.query(EventQuery::CommitPrefix(prefix.to_string()))
    }

    /// Effect events that changed `path` (exact absolute path).
    pub fn effects_by_path(&mut self, path: &str) -> Result<Vec<StoredEvent>, WardError> {
        self.query(EventQuery::Path(path.to_string()))
    }

    /// The number of leaves and the stored frontier.
    pub fn tree_state(&mut self) -> Result<(u64, Option<Vec<u8>>), WardError> {
        let Store { rt, conn, .. } = self;
        rt.block_on(repo::tree_state(conn.r())).map_err(read_err)
    }

    fn cps(&mut self, q: CheckpointQuery) -> Result<Vec<StoredCheckpoint>, WardError> {
        let Store { rt, conn, .. } = self;
        rt.block_on(repo::checkpoints(conn.r(), q))
            .map_err(read_err)
    }

    /// All checkpoints, by size.
    pub fn checkpoints(&mut self) -> Result<Vec<StoredCheckpoint>, WardError> {
        self.cps(CheckpointQuery::All)
    }

    /// The checkpoint of the largest tree size.
    pub fn latest_checkpoint(&mut self) -> Result<Option<StoredCheckpoint>, WardError> {
        Ok(self.cps(CheckpointQuery::Latest)?.into_iter().next())
    }

    /// The checkpoint for exactly `size` leaves.
    pub fn checkpoint_at(&mut self, size: u64) -> Result<Option<StoredCheckpoint>, WardError> {
        Ok(self.cps(CheckpointQuery::At(size))?.into_iter().next())
    }

    /// Leaf hashes of the first `size` leaves, recomputed from the stored bytes.
    pub fn leaf_hashes(&mut self, size: u64) -> Result<Vec<Hash>, WardError> {
        leaf_hashes_of(&self.events(0, size)?)
    }
}

/// Leaf hashes recomputed from stored rows.
pub fn leaf_hashes_of(rows: &[StoredEvent]) -> Result<Vec<Hash>, WardError> {
    Ok(rows
        .iter()
        .map(|r| ward_audit::leaf_hash(&r.body))
        .collect())
}

pub mod verify;

#[cfg(test)]
mod tests;
