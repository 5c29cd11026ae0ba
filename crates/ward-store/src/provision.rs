//! Database roles minted for a task and dropped when it ends (the broker's Postgres provider).
//! Role names and passwords are ward's own (`ward_` + hex, base64url), so the few statements
//! that cannot take bind parameters (`CREATE ROLE`, `GRANT`) quote them without ambiguity.

use sqlx::Connection;

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Whether `grant` is a plain role name (granted as membership) rather than a statement.
fn is_role_name(grant: &str) -> bool {
    let mut c = grant.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// `CREATE ROLE role LOGIN PASSWORD … VALID UNTIL …`, then each grant: a plain name is granted as
/// a role membership; anything else is run as a statement with `{{name}}` replaced by the role.
/// On any failure the role is dropped again.
pub async fn pg_create_role(
    admin_url: &str,
    role: &str,
    password: &str,
    valid_until_rfc3339: &str,
    grants: &[String],
) -> Result<(), sqlx::Error> {
    let mut c = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE ROLE {} LOGIN PASSWORD {} VALID UNTIL {}",
        ident(role),
        literal(password),
        literal(valid_until_rfc3339)
    )))
    .execute(&mut c)
    .await?;
    for g in grants {
        let sql = if is_role_name(g) {
            format!("GRANT {} TO {}", ident(g), ident(role))
        } else {
            g.replace("{{name}}", &ident(role))
        };
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await {
            let _ = drop_on(&mut c, role).await;
            return Err(e);
        }
    }
    c.close().await
}

async fn drop_on(c: &mut sqlx::PgConnection, role: &str) -> Result<(), sqlx::Error> {
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_roles WHERE rolname = $1")
        .bind(role)
        .fetch_optional(&mut *c)
        .await?;
    if exists.is_none() {
        return Ok(());
    }
    // No new logins, then end the sessions it has, then drop what it owns and the role.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER ROLE {} NOLOGIN",
        ident(role)
    )))
    .execute(&mut *c)
    .await?;
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1")
        .bind(role)
        .execute(&mut *c)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP OWNED BY {}",
        ident(role)
    )))
    .execute(&mut *c)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP ROLE IF EXISTS {}",
        ident(role)
    )))
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Disable, disconnect and drop a role (absent already: nothing to do).
pub async fn pg_drop_role(admin_url: &str, role: &str) -> Result<(), sqlx::Error> {
    let mut c = sqlx::PgConnection::connect(admin_url).await?;
    drop_on(&mut c, role).await?;
    c.close().await
}

/// Whether `role` can log in to `url` now (for tests and `ward lease list --check`).
pub async fn pg_can_login(url: &str) -> bool {
    match sqlx::PgConnection::connect(url).await {
        Ok(c) => {
            let _ = c.close().await;
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_statements_are_told_apart() {
        assert!(is_role_name("app_reader"));
        assert!(!is_role_name("GRANT SELECT ON t TO {{name}}"));
        assert!(!is_role_name("x;drop"));
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
    }
}
