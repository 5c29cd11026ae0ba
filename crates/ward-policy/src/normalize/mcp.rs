//! MCP tool-call arguments: secrets, secret paths, destinations and recipients, shell text.

use super::text;
use crate::facts::{Facts, NormalizeEnv};
use serde_json::Value;

/// JSON nodes visited per call.
const MAX_NODES: usize = 10_000;
/// Nesting followed.
const MAX_DEPTH: usize = 32;

const SHELL_KEYS: &[&str] = &[
    "command",
    "cmd",
    "script",
    "shell",
    "bash",
    "commandline",
    "command_line",
    "shell_command",
];
/// Keys whose value is a database query.
const SQL_KEYS: &[&str] = &[
    "sql",
    "query",
    "statement",
    "statements",
    "sql_query",
    "sqlquery",
    "raw_sql",
    "command_sql",
];
/// Tool names that destroy a database, project or bucket whatever their arguments.
const DESTRUCTIVE_TOOLS: &[&str] = &[
    "drop_database",
    "dropdatabase",
    "drop_collection",
    "dropcollection",
    "drop_table",
    "droptable",
    "drop_schema",
    "delete_database",
    "deletedatabase",
    "delete_project",
    "deleteproject",
    "delete_cluster",
    "delete_bucket",
    "delete_branch_database",
    "truncate_table",
    "flushall",
    "flush_all",
    "reset_database",
    "wipe_database",
];
const PATH_KEYS: &[&str] = &[
    "path",
    "paths",
    "file",
    "files",
    "file_path",
    "filepath",
    "filename",
    "directory",
    "dir",
    "source",
    "src",
    "target",
    "destination",
    "dest",
    "root",
    "cwd",
    "folder",
    "uri",
];
const TO_KEYS: &[&str] = &[
    "to",
    "recipient",
    "recipients",
    "to_address",
    "to_addresses",
    "email",
    "emails",
];
const HIDDEN_KEYS: &[&str] = &[
    "cc",
    "bcc",
    "reply_to",
    "replyto",
    "forward_to",
    "forwardto",
    "cc_addresses",
    "bcc_addresses",
];
const DEST_KEYS: &[&str] = &[
    "webhook",
    "webhook_url",
    "callback",
    "callback_url",
    "endpoint",
    "destination_url",
    "target_url",
    "upload_url",
    "post_url",
    "forward_url",
    "exfil",
    "report_url",
    "notify_url",
];

struct Scan<'e> {
    env: &'e NormalizeEnv,
    facts: Facts,
    writes: bool,
    to_domains: Vec<String>,
    hidden: Vec<(String, String)>,
    nodes: usize,
    /// Where SQL may hide: `Keys` (only the query keys), `Any` (any string of a database tool),
    /// `None` (a search or docs tool, whose `query` is prose).
    sql: SqlScope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SqlScope {
    None,
    Keys,
    Any,
}

/// How a tool's name says its strings may be SQL.
fn sql_scope(tool: &str) -> SqlScope {
    const PROSE: &[&str] = &[
        "search",
        "docs",
        "doc_",
        "web",
        "browse",
        "fetch",
        "lookup",
        "google",
        "bing",
        "brave",
        "perplexity",
        "wiki",
        "ask",
        "chat",
        "question",
        "library",
        "issue",
        "comment",
        "message",
        "email",
        "mail",
        "slack",
        "note",
        "memory",
    ];
    const DATABASE: &[&str] = &[
        "sql",
        "query",
        "database",
        "db_",
        "_db",
        "statement",
        "postgres",
        "mysql",
        "sqlite",
        "mongo",
        "redis",
        "supabase",
        "neon",
        "bigquery",
        "snowflake",
        "clickhouse",
        "duckdb",
        "execute",
        "exec_",
        "run_",
    ];
    if PROSE.iter().any(|p| tool.contains(p)) {
        SqlScope::None
    } else if DATABASE.iter().any(|d| tool.contains(d)) || tool == "db" || tool == "exec" {
        SqlScope::Any
    } else {
        SqlScope::Keys
    }
}

/// Facts of one MCP call.
pub(crate) fn scan(server: &str, tool: &str, args: &Value, env: &NormalizeEnv) -> Facts {
    let t = tool.to_ascii_lowercase();
    let writes = [
        "write", "create", "edit", "update", "move", "delete", "remove", "put", "upload", "save",
    ]
    .iter()
    .any(|w| t.contains(w))
        && !t.contains("pull_request")
        && !t.contains("issue");
    let mut s = Scan {
        env,
        facts: Facts::default(),
        writes,
        to_domains: Vec::new(),
        hidden: Vec::new(),
        nodes: 0,
        sql: sql_scope(&t),
    };
    if let Some(d) = DESTRUCTIVE_TOOLS.iter().find(|d| t.contains(*d)) {
        s.facts.destroys_shared = true;
        s.facts
            .notes
            .push(format!("MCP tool `{tool}` is destructive (`{d}`)"));
    }
    if (t.contains("delete_many") || t.contains("deletemany"))
        && args
            .get("filter")
            .is_none_or(|f| f.as_object().is_some_and(serde_json::Map::is_empty))
    {
        s.facts.destroys_shared = true;
        s.facts.notes.push(format!(
            "MCP tool `{tool}` deletes every document (empty filter)"
        ));
    }
    s.walk(args, "", 0);
    s.recipients();
    let _ = server;
    let mut f = s.facts;
    f.parsed = !f.unparseable;
    f
}

impl Scan<'_> {
    fn walk(&mut self, v: &Value, key: &str, depth: usize) {
        self.nodes += 1;
        if self.nodes > MAX_NODES || depth > MAX_DEPTH {
            if self.nodes == MAX_NODES + 1 || depth == MAX_DEPTH + 1 {
                self.facts
                    .notes
                    .push("MCP arguments too large or deep to scan completely".into());
            }
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, val) in map {
                    self.walk(val, k, depth + 1);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk(item, key, depth + 1);
                }
            }
            Value::String(s) => self.string(key, s),
            _ => {}
        }
    }

    fn string(&mut self, key: &str, s: &str) {
        let k = key.to_ascii_lowercase();
        if let Some(label) = text::find_token(s) {
            self.facts.mcp_secret_in_args = true;
            self.facts
                .notes
                .push(format!("{label} in MCP argument `{key}`"));
        }
        if SHELL_KEYS.contains(&k.as_str()) {
            let sub = super::analyze_shell(s, self.env);
            let prefix = format!("MCP `{key}`");
            super::merge(&mut self.facts, sub, &prefix);
            return;
        }
        let sql = match self.sql {
            SqlScope::None => false,
            SqlScope::Keys => SQL_KEYS.contains(&k.as_str()),
            SqlScope::Any => SQL_KEYS.contains(&k.as_str()) || super::sql::looks_like_sql(s),
        };
        if sql && let Some(what) = super::sql::destructive(s) {
            self.facts.destroys_shared = true;
            self.facts
                .notes
                .push(format!("MCP argument `{key}` runs {what} on a database"));
        }
        if TO_KEYS.contains(&k.as_str()) || HIDDEN_KEYS.contains(&k.as_str()) {
            for part in s.split([',', ';']) {
                if let Some(d) = text::email_domain(part) {
                    if TO_KEYS.contains(&k.as_str()) {
                        self.to_domains.push(d);
                    } else {
                        self.hidden.push((key.to_string(), d));
                    }
                }
            }
        }
        for url in text::find_urls(s) {
            self.url(&k, url);
        }
        let pathish = s.starts_with("~/")
            || s.starts_with('/')
            || s.starts_with("./")
            || s.starts_with("../")
            || s.starts_with(".env")
            || s.starts_with("file://");
        if (pathish || PATH_KEYS.contains(&k.as_str()))
            && !s.contains('\n')
            && s.len() < 4096
            && !s.contains("://")
            || s.starts_with("file://")
        {
            self.path(key, s.trim_start_matches("file://"));
        }
    }

    fn url(&mut self, key: &str, url: &str) {
        let Some(r) = super::hosts::parse_url(url) else {
            return;
        };
        if url.starts_with("file:") {
            return;
        }
        let class = super::hosts::classify_host(&r.host, self.env);
        self.facts.network = true;
        self.facts.hosts.insert(class.host.clone());
        if class.homoglyph {
            self.facts.homoglyph = true;
            self.facts.notes.push(format!(
                "host `{}` mixes scripts or uses look-alike characters",
                class.host
            ));
        }
        if class.kind == super::hosts::HostKind::Metadata {
            self.facts.metadata_host = true;
        }
        if r.has_credential {
            self.facts.credential_in_url = true;
            self.facts
                .notes
                .push(format!("credential embedded in URL for `{}`", class.host));
        }
        if class.is_external() {
            self.facts.external_host = true;
            let dest =
                DEST_KEYS.contains(&key) || key.contains("webhook") || key.contains("callback");
            if dest {
                self.facts.mcp_external_recipient = true;
                self.facts.network_send = true;
                self.facts.notes.push(format!(
                    "MCP argument `{key}` sends to external host `{}`",
                    class.host
                ));
            }
        }
    }

    fn path(&mut self, key: &str, p: &str) {
        if p.is_empty() {
            return;
        }
        let class = super::paths::classify_path(p, self.env);
        let shown = super::paths::display(&class.resolved, self.env);
        if self.writes {
            self.facts.paths_written.insert(class.resolved.clone());
            self.facts.writes_secret |= class.is_secret();
            self.facts.writes_ci_config |= class.ci_config;
            self.facts.writes_agent_config |= class.agent_config;
            self.facts.writes_persistence |= class.persistence;
            self.facts.writes_outside_workspace |= class.write_outside_workspace();
        } else {
            self.facts.paths_read.insert(class.resolved.clone());
            self.facts.reads_outside_workspace |= class.read_outside_workspace();
        }
        if let Some(kind) = class.secret {
            self.facts.mcp_secret_in_args = true;
            if !self.writes {
                self.facts.reads_secret = true;
            }
            self.facts.notes.push(format!(
                "MCP argument `{key}` names secret file `{shown}` ({kind})"
            ));
        } else if class.workspace_env {
            self.facts.mcp_secret_in_args = true;
            self.facts.reads_workspace_env |= !self.writes;
            self.facts
                .notes
                .push(format!("MCP argument `{key}` names env file `{shown}`"));
        }
        if class.homoglyph {
            self.facts.homoglyph = true;
        }
    }

    fn recipients(&mut self) {
        let to_bases: Vec<String> = self
            .to_domains
            .iter()
            .map(|d| text::base_domain(d))
            .collect();
        for (key, domain) in std::mem::take(&mut self.hidden) {
            let base = text::base_domain(&domain);
            if to_bases.contains(&base) {
                continue;
            }
            let class = super::hosts::classify_host(&domain, self.env);
            if class.kind == super::hosts::HostKind::Allowlisted {
                continue;
            }
            self.facts.mcp_external_recipient = true;
            self.facts.notes.push(format!(
                "`{key}` recipient on `{domain}`, a different domain from the `to` recipients"
            ));
        }
    }
}
