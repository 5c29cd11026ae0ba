//! Where the store lives and how to reach it: one embedded SQLite file (the default) or a
//! Postgres server. Both speak the same repository ([`crate::repo`]); only the connection,
//! the migrations and the append lock differ.

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Postgres, Sqlite};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use ward_core::{ErrorCode, WardError};

/// A database location, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An SQLite file (created on first use).
    Sqlite(PathBuf),
    /// A Postgres URL (`postgres://…` or `postgresql://…`).
    Postgres(String),
}

impl Target {
    /// Parse a `--database-url` value: `postgres://…`, `sqlite://PATH`, `sqlite:PATH` or a
    /// plain file path.
    pub fn parse(s: &str) -> Result<Target, WardError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(WardError::new(
                ErrorCode::Config,
                "the database URL is empty",
            ));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            PgConnectOptions::from_str(s).map_err(|e| {
                WardError::new(
                    ErrorCode::Config,
                    format!("`{}` is not a valid Postgres URL: {e}", redact(s)),
                )
            })?;
            return Ok(Target::Postgres(s.to_string()));
        }
        if let Some(rest) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            return Ok(Target::Sqlite(PathBuf::from(rest)));
        }
        if s.contains("://") {
            return Err(WardError::new(
                ErrorCode::Config,
                format!(
                    "unsupported database URL `{}`: use postgres://… or an SQLite file path",
                    redact(s)
                ),
            ));
        }
        Ok(Target::Sqlite(PathBuf::from(s)))
    }

    /// How to name this target in messages (a Postgres password never appears).
    pub fn display(&self) -> String {
        match self {
            Target::Sqlite(p) => p.display().to_string(),
            Target::Postgres(u) => redact(u),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Target::Postgres(_))
    }
}

/// A URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((a, h)) => (a, h),
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// How long a statement waits for another connection's lock before failing (and the decision
/// with it, closed).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

fn sqlite_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
}

fn pg_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    Ok(PgConnectOptions::from_str(url)?
        .application_name("ward")
        .statement_cache_capacity(256))
}

/// An open connection, owned or borrowed from a pool.
pub enum Conn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
    SqlitePooled(PoolConnection<Sqlite>),
    PgPooled(PoolConnection<Postgres>),
}

/// A connection as the repository uses it.
pub enum ConnRef<'a> {
    Sqlite(&'a mut SqliteConnection),
    Pg(&'a mut PgConnection),
}

impl ConnRef<'_> {
    /// Borrow again, for several calls on one connection.
    pub fn reborrow(&mut self) -> ConnRef<'_> {
        match self {
            ConnRef::Sqlite(c) => ConnRef::Sqlite(c),
            ConnRef::Pg(c) => ConnRef::Pg(c),
        }
    }
}

impl Conn {
    pub fn r(&mut self) -> ConnRef<'_> {
        match self {
            Conn::Sqlite(c) => ConnRef::Sqlite(c),
            Conn::Pg(c) => ConnRef::Pg(c),
            Conn::SqlitePooled(c) => ConnRef::Sqlite(c),
            Conn::PgPooled(c) => ConnRef::Pg(c),
        }
    }

    /// Open one connection for a long-lived process and bring the schema up to date.
    pub async fn open(target: &Target) -> Result<Conn, sqlx::Error> {
        Conn::open_with(target, true).await
    }

    /// Open one connection for a short-lived process (a hook, a CLI command). SQLite's
    /// automatic checkpoints are off: they cannot reset the WAL across processes, and the
    /// `Store`'s appends empty it instead (`Store::trim_wal`, which says why).
    pub async fn open_short_lived(target: &Target) -> Result<Conn, sqlx::Error> {
        Conn::open_with(target, false).await
    }

    async fn open_with(target: &Target, auto_checkpoint: bool) -> Result<Conn, sqlx::Error> {
        let mut conn = match target {
            Target::Sqlite(path) => {
                let mut options = sqlite_options(path);
                if !auto_checkpoint {
                    options = options.pragma("wal_autocheckpoint", "0");
                }
                Conn::Sqlite(options.connect().await?)
            }
            Target::Postgres(url) => Conn::Pg(pg_options(url)?.connect().await?),
        };
        crate::repo::migrate(conn.r()).await?;
        Ok(conn)
    }
}

/// A pool of connections, for the service.
#[derive(Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

impl Pool {
    /// Connect (at most `max` connections) and bring the schema up to date.
    pub async fn connect(target: &Target, max: u32) -> Result<Pool, sqlx::Error> {
        let pool = match target {
            Target::Sqlite(path) => Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(max.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(sqlite_options(path))
                    .await?,
            ),
            Target::Postgres(url) => Pool::Pg(
                PgPoolOptions::new()
                    .max_connections(max.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(pg_options(url)?)
                    .await?,
            ),
        };
        let mut c = pool.acquire().await?;
        crate::repo::migrate(c.r()).await?;
        Ok(pool)
    }

    pub async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(p) => Conn::SqlitePooled(p.acquire().await?),
            Pool::Pg(p) => Conn::PgPooled(p.acquire().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Pg(p) => p.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_never_show_a_password() {
        assert_eq!(
            Target::parse("/tmp/x.db").unwrap(),
            Target::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            Target::parse("sqlite:///tmp/x.db").unwrap(),
            Target::Sqlite("/tmp/x.db".into())
        );
        let t = Target::parse("postgres://ward:s3cret@db:5432/ward").unwrap();
        assert!(t.is_postgres());
        assert_eq!(t.display(), "postgres://ward:***@db:5432/ward");
        assert_eq!(
            Target::parse("mysql://x").unwrap_err().code,
            ErrorCode::Config
        );
        assert_eq!(Target::parse("  ").unwrap_err().code, ErrorCode::Config);
        let e = Target::parse("postgres://a:pw@h:notaport/db").unwrap_err();
        assert!(!e.message.contains("pw"), "{}", e.message);
    }
}
