//! Test support (feature `test-support`): a fresh, empty Postgres database per test, on the
//! server `WARD_TEST_DATABASE_URL` names (default: the local server on 127.0.0.1:5432).
//! A server that does not answer is an error that says what to do — never a silent skip.

use crate::Target;
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

/// The admin URL tests create their databases through.
pub fn admin_url() -> String {
    std::env::var("WARD_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A fresh database, dropped (best effort) when this value is dropped.
pub struct FreshPg {
    pub url: String,
    name: String,
    admin: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn with_db(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .map(|rt| rt.block_on(f))
}

impl FreshPg {
    /// Create `ward_test_<pid>_<n>_<nanos>` on the test server.
    pub fn create() -> Result<FreshPg, String> {
        let admin = admin_url();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "ward_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let hint = format!(
            "no Postgres answers at `{}` (WARD_TEST_DATABASE_URL); run the suite with ./scripts/test.sh, which starts a throwaway server, or install PostgreSQL (Debian: apt-get install postgresql)",
            crate::redact(&admin)
        );
        block_on(async {
            let mut c = sqlx::postgres::PgConnectOptions::from_str(&admin)
                .map_err(|e| format!("{hint}: {e}"))?
                .connect()
                .await
                .map_err(|e| format!("{hint}: {e}"))?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut c)
                .await
                .map_err(|e| format!("cannot create test database {name}: {e}"))?;
            let _ = c.close().await;
            Ok::<_, String>(())
        })??;
        Ok(FreshPg {
            url: with_db(&admin, &name),
            name,
            admin,
        })
    }

    pub fn target(&self) -> Target {
        Target::Postgres(self.url.clone())
    }
}

impl Drop for FreshPg {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = block_on(async move {
            if let Ok(opts) = sqlx::postgres::PgConnectOptions::from_str(&admin)
                && let Ok(mut c) = opts.connect().await
            {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut c)
                .await;
                let _ = c.close().await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::with_db;

    #[test]
    fn database_name_is_swapped_in_the_url() {
        assert_eq!(
            with_db("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_db("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_db("postgres://h:5432", "x"), "postgres://h:5432/x");
    }
}
