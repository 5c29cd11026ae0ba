//! `[mcp.servers.NAME]` in `ward.toml`: the upstream MCP servers `ward serve` fronts at
//! `/mcp/NAME`.

use crate::config::ConfigError;
use std::collections::BTreeMap;

/// Where an upstream server runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// A stdio server the daemon starts: one per client session, one shared by stateless
    /// requests.
    Command(Vec<String>),
    /// A Streamable HTTP server (`http://` or `https://`).
    Url(String),
}

/// One configured server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpServer {
    pub name: String,
    pub upstream: Upstream,
    /// Plain variables for the child's environment.
    pub env: BTreeMap<String, String>,
    /// Variables whose values are sealed secrets (`VAR = "secret-name"`), opened when the child
    /// starts; the client never sees them.
    pub secrets: BTreeMap<String, String>,
    /// For `url`: a sealed secret sent upstream as `Authorization: Bearer …`.
    pub bearer_secret: Option<String>,
    /// For an `https://` url: the CA certificates (PEM) to trust instead of the public roots.
    pub ca_file: Option<String>,
    /// For `url`: send the upstream a token ward exchanges from the caller's task token (RFC
    /// 8693, audience `mcp:NAME`, a child lease of the task) instead of a standing secret.
    pub exchange_token: bool,
    /// The child's working directory (and the directory its calls' relative paths are read
    /// against).
    pub cwd: Option<String>,
    /// Client sessions at once (each a child for `command`).
    pub max_sessions: usize,
}

pub const DEFAULT_MAX_SESSIONS: usize = 64;

/// A usable server name: letters, digits, `-`, `_`, no `__` (it separates the parts of
/// `mcp__SERVER__TOOL`).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains("__")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn string_table(
    v: &toml_edit::Item,
    at: &str,
    errors: &mut Vec<ConfigError>,
    location: &dyn Fn(&str) -> String,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(t) = v.as_table_like() else {
        errors.push(ConfigError {
            location: location(at),
            message: "must be a table of `NAME = \"value\"`".into(),
        });
        return out;
    };
    for (k, v) in t.iter() {
        match v.as_str() {
            Some(s) => {
                out.insert(k.to_string(), s.to_string());
            }
            None => errors.push(ConfigError {
                location: location(&format!("{at}.{k}")),
                message: "must be a string".into(),
            }),
        }
    }
    out
}

/// Read the `[mcp]` table into `out`, every problem into `errors`.
pub fn read_section(
    item: &toml_edit::Item,
    location: &dyn Fn(&str) -> String,
    out: &mut BTreeMap<String, McpServer>,
    errors: &mut Vec<ConfigError>,
) {
    let err = |errors: &mut Vec<ConfigError>, at: &str, message: String| {
        errors.push(ConfigError {
            location: location(at),
            message,
        })
    };
    let Some(mcp) = item.as_table_like() else {
        err(errors, "mcp", "must be a table with `servers`".into());
        return;
    };
    for (k, v) in mcp.iter() {
        if k != "servers" {
            err(
                errors,
                &format!("mcp.{k}"),
                "unknown key; known: servers".into(),
            );
            continue;
        }
        let Some(servers) = v.as_table_like() else {
            err(
                errors,
                "mcp.servers",
                "must be a table of `[mcp.servers.NAME]`".into(),
            );
            continue;
        };
        for (name, t) in servers.iter() {
            let at = format!("mcp.servers.{name}");
            if !valid_name(name) {
                err(
                    errors,
                    &at,
                    "a server name is letters, digits, `-` and `_`, without `__`".into(),
                );
                continue;
            }
            let Some(t) = t.as_table_like() else {
                err(
                    errors,
                    &at,
                    "must be a table with `command` or `url`".into(),
                );
                continue;
            };
            let mut s = McpServer {
                name: name.to_string(),
                upstream: Upstream::Command(Vec::new()),
                env: BTreeMap::new(),
                secrets: BTreeMap::new(),
                bearer_secret: None,
                ca_file: None,
                exchange_token: false,
                cwd: None,
                max_sessions: DEFAULT_MAX_SESSIONS,
            };
            let (mut command, mut url) = (None, None);
            for (k, v) in t.iter() {
                let here = format!("{at}.{k}");
                match k {
                    "command" => {
                        let parts: Option<Vec<String>> = v.as_array().and_then(|a| {
                            a.iter().map(|x| x.as_str().map(str::to_string)).collect()
                        });
                        match parts {
                            Some(p) if !p.is_empty() && !p[0].is_empty() => command = Some(p),
                            _ => err(
                                errors,
                                &here,
                                "must be a non-empty array of strings: the program, then its arguments"
                                    .into(),
                            ),
                        }
                    }
                    "url" => match v.as_str().map(super::remote::parse_url) {
                        Some(Ok(_)) => url = v.as_str().map(str::to_string),
                        Some(Err(e)) => err(errors, &here, e.message),
                        None => err(errors, &here, "must be an http:// or https:// URL".into()),
                    },
                    "ca_file" => match v.as_str() {
                        Some(f) => match super::remote::read_ca_file(f) {
                            Ok(_) => s.ca_file = Some(f.to_string()),
                            Err(e) => err(errors, &here, e.message),
                        },
                        None => err(errors, &here, "must be the path of a PEM file of CA certificates".into()),
                    },
                    "env" => s.env = string_table(v, &here, errors, location),
                    "secrets" => s.secrets = string_table(v, &here, errors, location),
                    "bearer_secret" => match v.as_str() {
                        Some(b) if !b.trim().is_empty() => s.bearer_secret = Some(b.into()),
                        _ => err(errors, &here, "must be the name of a `ward secret put` secret".into()),
                    },
                    "upstream_token" => match v.as_str() {
                        Some("exchange") => s.exchange_token = true,
                        _ => err(
                            errors,
                            &here,
                            "must be \"exchange\" (a token exchanged from the caller's task token)".into(),
                        ),
                    },
                    "cwd" => match v.as_str() {
                        Some(d) if d.starts_with('/') => s.cwd = Some(d.into()),
                        _ => err(errors, &here, "must be an absolute directory".into()),
                    },
                    "max_sessions" => match v.as_integer() {
                        Some(n) if (1..=4096).contains(&n) => {
                            s.max_sessions = usize::try_from(n).unwrap_or(DEFAULT_MAX_SESSIONS)
                        }
                        _ => err(errors, &here, "must be a whole number from 1 to 4096".into()),
                    },
                    _ => err(
                        errors,
                        &here,
                        "unknown key; known: command, url, env, secrets, bearer_secret, upstream_token, ca_file, cwd, max_sessions"
                            .into(),
                    ),
                }
            }
            s.upstream = match (command, url) {
                (Some(c), None) => Upstream::Command(c),
                (None, Some(u)) => Upstream::Url(u),
                (Some(_), Some(_)) => {
                    err(errors, &at, "has both `command` and `url`; keep one".into());
                    continue;
                }
                (None, None) => {
                    err(
                        errors,
                        &at,
                        "needs `command = [...]` or `url = \"http://…\"`".into(),
                    );
                    continue;
                }
            };
            if matches!(s.upstream, Upstream::Url(_))
                && (!s.env.is_empty() || !s.secrets.is_empty())
            {
                err(
                    errors,
                    &at,
                    "`env` and `secrets` are for a `command` server; a `url` server takes `bearer_secret`"
                        .into(),
                );
                continue;
            }
            if matches!(s.upstream, Upstream::Command(_)) && s.bearer_secret.is_some() {
                err(
                    errors,
                    &at,
                    "`bearer_secret` is for a `url` server; a `command` server takes `secrets`"
                        .into(),
                );
                continue;
            }
            out.insert(name.to_string(), s);
        }
    }
}
