//! MCP tool pins: the definition of each server's tools as first seen, and what changed since.

use crate::conn::ConnRef;
use crate::people::RowLike;
use crate::repo::{to_i64, to_u64};

/// One pinned tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub server: String,
    pub tool: String,
    pub hash: String,
    /// The pinned definition (canonical JSON).
    pub definition: String,
    /// `pinned`, `changed` (a new definition waits) or `flagged` (it looks poisoned).
    pub state: String,
    /// What the poisoning scan found (JSON list).
    pub findings: String,
    pub pending_hash: Option<String>,
    pub pending_definition: Option<String>,
    pub first_seen_ms: u64,
    pub updated_ms: u64,
}

const COLS: &str = "server, tool, hash, definition, state, findings, pending_hash, pending_definition, first_seen_ms, updated_ms";

fn pin_from(r: &impl RowLike) -> Result<Pin, sqlx::Error> {
    Ok(Pin {
        server: r.text("server")?,
        tool: r.text("tool")?,
        hash: r.text("hash")?,
        definition: r.text("definition")?,
        state: r.text("state")?,
        findings: r.text("findings")?,
        pending_hash: r.opt_text("pending_hash")?,
        pending_definition: r.opt_text("pending_definition")?,
        first_seen_ms: to_u64(r.int("first_seen_ms")?),
        updated_ms: to_u64(r.int("updated_ms")?),
    })
}

pub async fn get(conn: ConnRef<'_>, server: &str, tool: &str) -> Result<Option<Pin>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM mcp_pins WHERE server = $1 AND tool = $2"
        )))
        .bind(server)
        .bind(tool)
        .fetch_optional(&mut *c)
        .await?;
        row.as_ref().map(pin_from).transpose()
    })
}

/// A server's pins, by tool.
pub async fn of_server(conn: ConnRef<'_>, server: &str) -> Result<Vec<Pin>, sqlx::Error> {
    on_backend!(conn, c, _pg => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM mcp_pins WHERE server = $1 ORDER BY tool"
        )))
        .bind(server)
        .fetch_all(&mut *c)
        .await?;
        rows.iter().map(pin_from).collect()
    })
}

/// Store a pin (insert or replace).
pub async fn put(conn: ConnRef<'_>, p: &Pin) -> Result<(), sqlx::Error> {
    on_backend!(conn, c, _pg => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO mcp_pins ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (server, tool) DO UPDATE SET hash = excluded.hash, definition = excluded.definition,
               state = excluded.state, findings = excluded.findings, pending_hash = excluded.pending_hash,
               pending_definition = excluded.pending_definition, updated_ms = excluded.updated_ms"
        )))
        .bind(&p.server)
        .bind(&p.tool)
        .bind(&p.hash)
        .bind(&p.definition)
        .bind(&p.state)
        .bind(&p.findings)
        .bind(p.pending_hash.as_deref())
        .bind(p.pending_definition.as_deref())
        .bind(to_i64(p.first_seen_ms))
        .bind(to_i64(p.updated_ms))
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}
