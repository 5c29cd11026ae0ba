//! SQL (and the SQL-like commands of Redis and MongoDB) that destroys data: `DROP DATABASE`,
//! `DROP SCHEMA`, `DROP TABLE`, `TRUNCATE`, `DELETE`/`UPDATE` without a `WHERE` (or with one that is
//! always true), `ALTER TABLE … DROP`, `FLUSHALL`, collection drops. Statements are split on `;`
//! outside quotes with comments removed, and judged by how they start, so prose that merely
//! mentions "drop table" is not SQL. `SELECT`, `INSERT`, `CREATE`, and `DELETE … WHERE id = 1` pass.

/// The first destructive statement's label, if any.
pub(crate) fn destructive(text: &str) -> Option<&'static str> {
    let clean = strip_comments(text);
    for stmt in split_statements(&clean) {
        if let Some(label) = statement(&stmt) {
            return Some(label);
        }
    }
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if compact.contains("dropdatabase()")
        || compact.contains(".drop()")
        || compact.contains("deletemany({})")
        || compact.contains(".remove({})")
    {
        return Some("a MongoDB collection or database drop");
    }
    None
}

/// Does `text` read as SQL (it starts with a statement keyword)?
pub(crate) fn looks_like_sql(text: &str) -> bool {
    let clean = strip_comments(text);
    let first = clean
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    matches!(
        first.as_str(),
        "SELECT"
            | "INSERT"
            | "UPDATE"
            | "DELETE"
            | "DROP"
            | "TRUNCATE"
            | "ALTER"
            | "CREATE"
            | "WITH"
            | "GRANT"
            | "REVOKE"
            | "MERGE"
            | "REPLACE"
            | "BEGIN"
            | "FLUSHALL"
            | "FLUSHDB"
    )
}

fn statement(stmt: &str) -> Option<&'static str> {
    let words: Vec<String> = stmt
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ','))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    let upper = words.join(" ");
    match w(0) {
        "DROP" => {
            let mut i = 1;
            while matches!(w(i), "TEMPORARY" | "TEMP" | "IF" | "EXISTS") {
                i += 1;
            }
            match w(i) {
                "DATABASE" => Some("`DROP DATABASE`"),
                "SCHEMA" => Some("`DROP SCHEMA`"),
                "TABLE" | "COLLECTION" => Some("`DROP TABLE`"),
                "KEYSPACE" => Some("`DROP KEYSPACE`"),
                "OWNED" => Some("`DROP OWNED`"),
                _ => None,
            }
        }
        "TRUNCATE" => Some("`TRUNCATE`"),
        "DELETE" => (!has_real_where(&upper)).then_some("`DELETE` without `WHERE`"),
        "UPDATE" => (!has_real_where(&upper)).then_some("`UPDATE` without `WHERE`"),
        "ALTER" if w(1) == "TABLE" && words.iter().any(|x| x == "DROP") => {
            Some("`ALTER TABLE … DROP`")
        }
        "FLUSHALL" | "FLUSHDB" => Some("`FLUSHALL`"),
        _ => None,
    }
}

/// A `WHERE` clause that is not always true (`WHERE 1=1`, `WHERE TRUE`).
fn has_real_where(upper: &str) -> bool {
    let Some(at) = upper.find(" WHERE ") else {
        return false;
    };
    let cond: String = upper[at + " WHERE ".len()..]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let always = [
        "1=1", "TRUE", "1", "'1'='1'", "'A'='A'", "1<>0", "0=0", "NOTFALSE",
    ];
    !always.iter().any(|a| {
        cond == *a
            || cond.strip_prefix(a).is_some_and(|r| {
                r.is_empty()
                    || r.starts_with("OR")
                    || r.starts_with("LIMIT")
                    || r.starts_with("RETURNING")
            })
    })
}

fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match (c, chars.get(i + 1)) {
            ('\'' | '"' | '`', _) => {
                quote = Some(c);
                out.push(c);
                i += 1;
            }
            ('-', Some('-')) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
                out.push(' ');
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn split_statements(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        if let Some(q) = quote {
            cur.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => {
                quote = Some(c);
                cur.push(c);
            }
            ';' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destructive_statements() {
        assert!(destructive("DROP DATABASE production;").is_some());
        assert!(destructive("drop table if exists users").is_some());
        assert!(destructive("BEGIN; TRUNCATE orders CASCADE; COMMIT;").is_some());
        assert!(destructive("DELETE FROM users").is_some());
        assert!(destructive("delete from users where 1=1").is_some());
        assert!(destructive("UPDATE accounts SET balance = 0").is_some());
        assert!(destructive("ALTER TABLE users DROP COLUMN email").is_some());
        assert!(destructive("-- cleanup\nDROP SCHEMA public CASCADE").is_some());
    }

    #[test]
    fn ordinary_statements() {
        for q in [
            "SELECT * FROM users WHERE id = 1",
            "select count(*) from orders",
            "DELETE FROM sessions WHERE expires_at < now()",
            "UPDATE users SET name = 'x' WHERE id = 7",
            "INSERT INTO t VALUES (1)",
            "CREATE TABLE t (id int)",
            "SELECT 'DROP TABLE x' AS text",
            "how do I drop a table in postgres?",
            "DROP INDEX idx_users_email",
        ] {
            assert!(destructive(q).is_none(), "{q}");
        }
        assert!(looks_like_sql("select 1"));
        assert!(!looks_like_sql("rust tokio select cancellation"));
    }
}
