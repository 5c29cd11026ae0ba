//! Settings of `ward serve` (and what the hook needs of them): a TOML file (`$WARD_HOME/ward.toml`
//! or `--config`), then `WARD_*` environment variables, then flags — later wins. Every bad setting
//! is reported, each with where it came from, and a daemon with any bad setting does not start.

use crate::home::Home;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use ward_store::Target;

/// What a hook does when the daemon does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offline {
    /// Decide locally with the last policy seen, and spool the event for the daemon.
    Local,
    /// Block (fail closed).
    Deny,
}

impl Offline {
    pub fn as_str(self) -> &'static str {
        match self {
            Offline::Local => "local",
            Offline::Deny => "deny",
        }
    }
}

/// The effective settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub socket: PathBuf,
    pub database: Target,
    pub offline: Offline,
    /// How long a hook waits for an approver before answering "pending".
    pub approval_wait: Duration,
    /// How long an approval request (and a granted approval) lives.
    pub approval_ttl: Duration,
    pub max_body_bytes: usize,
    pub group_commit_max: usize,
    /// OS user → ward user, for requesters whose names differ.
    pub requesters: BTreeMap<String, String>,
    /// Extra hosts on the egress allowlist.
    pub allow_hosts: Vec<String>,
    /// Audiences a task token may be exchanged for (globs; `ward` itself, a renewal, always).
    pub token_audiences: Vec<String>,
    /// First use and pending treatment of assistants (`assistant_first_use`,
    /// `assistant_pending`).
    pub enrollment: crate::assistants::Enrollment,
    /// Git hosts and credential providers (`[credentials.git."HOST"]`, `[providers.NAME]`).
    pub broker: crate::credentials::Broker,
    /// Upstream MCP servers served at `/mcp/NAME` (`[mcp.servers.NAME]`).
    pub mcp: BTreeMap<String, crate::gateway::McpServer>,
}

/// One bad setting and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// `ward.toml:3 (listen)`, `WARD_LISTEN`, `--listen`.
    pub location: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Flags given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub socket: Option<String>,
}

/// The keys the file and the environment accept.
const KEYS: &[(&str, &str)] = &[
    ("listen", "WARD_LISTEN"),
    ("socket", "WARD_SOCKET"),
    ("database_url", "WARD_DATABASE_URL"),
    ("offline", "WARD_OFFLINE"),
    ("approval_wait", "WARD_APPROVAL_WAIT"),
    ("approval_ttl", "WARD_APPROVAL_TTL"),
    ("max_body_bytes", "WARD_MAX_BODY_BYTES"),
    ("group_commit_max", "WARD_GROUP_COMMIT_MAX"),
    ("allow_hosts", "WARD_ALLOW_HOSTS"),
    ("token_audiences", "WARD_TOKEN_AUDIENCES"),
    ("assistant_first_use", "WARD_ASSISTANT_FIRST_USE"),
    ("assistant_pending", "WARD_ASSISTANT_PENDING"),
];

/// A raw value with its location.
struct Raw {
    value: RawValue,
    location: String,
}

enum RawValue {
    Str(String),
    Int(i64),
    List(Vec<String>),
    Other(String),
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map(|s| s.matches('\n').count() + 1)
        .unwrap_or(1)
}

/// Read the TOML file into raw values (syntax and unknown keys are errors).
fn read_file(
    path: &std::path::Path,
    explicit: bool,
    out: &mut BTreeMap<&'static str, Raw>,
    requesters: &mut BTreeMap<String, String>,
    broker: &mut crate::credentials::Broker,
    mcp: &mut BTreeMap<String, crate::gateway::McpServer>,
    errors: &mut Vec<ConfigError>,
) {
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return,
        Err(e) => {
            errors.push(ConfigError {
                location: name,
                message: format!("cannot read the config file: {e}"),
            });
            return;
        }
    };
    let doc = match toml_edit::Document::parse(text.as_str()) {
        Ok(d) => d,
        Err(e) => {
            let line = e.span().map(|s| line_of(&text, s.start)).unwrap_or(1);
            errors.push(ConfigError {
                location: format!("{name}:{line}"),
                message: format!(
                    "not valid TOML: {}",
                    e.message().split_whitespace().collect::<Vec<_>>().join(" ")
                ),
            });
            return;
        }
    };
    for (key, item) in doc.as_table().iter() {
        let line = item
            .span()
            .or_else(|| doc.as_table().key(key).and_then(|k| k.span()))
            .map(|s| line_of(&text, s.start))
            .unwrap_or(1);
        let location = format!("{name}:{line} ({key})");
        if key == "credentials" || key == "providers" {
            let at = |what: &str| format!("{name}:{line} ({what})");
            crate::credentials::read_section(key, item, &at, broker, errors);
            continue;
        }
        if key == "mcp" {
            let at = |what: &str| format!("{name}:{line} ({what})");
            crate::gateway::config::read_section(item, &at, mcp, errors);
            continue;
        }
        if key == "requesters" {
            match item.as_table_like() {
                Some(t) => {
                    for (os_user, v) in t.iter() {
                        match v.as_str() {
                            Some(u) if !u.trim().is_empty() => {
                                requesters.insert(os_user.to_string(), u.trim().to_string());
                            }
                            _ => errors.push(ConfigError {
                                location: format!("{name}:{line} (requesters.{os_user})"),
                                message: "must be the name of a ward user (a string)".into(),
                            }),
                        }
                    }
                }
                None => errors.push(ConfigError {
                    location,
                    message: "must be a table of `os_user = \"ward_user\"`".into(),
                }),
            }
            continue;
        }
        let Some((k, _)) = KEYS.iter().find(|(k, _)| *k == key) else {
            let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
            errors.push(ConfigError {
                location,
                message: format!(
                    "unknown setting; known settings are {}, requesters, credentials, providers, mcp",
                    known.join(", ")
                ),
            });
            continue;
        };
        let value = if let Some(s) = item.as_str() {
            RawValue::Str(s.to_string())
        } else if let Some(i) = item.as_integer() {
            RawValue::Int(i)
        } else if let Some(a) = item.as_array() {
            let strs: Option<Vec<String>> =
                a.iter().map(|v| v.as_str().map(str::to_string)).collect();
            match strs {
                Some(v) => RawValue::List(v),
                None => RawValue::Other("an array of non-strings".into()),
            }
        } else {
            RawValue::Other(item.type_name().to_string())
        };
        out.insert(k, Raw { value, location });
    }
}

fn as_string(raw: &Raw, errors: &mut Vec<ConfigError>) -> Option<String> {
    match &raw.value {
        RawValue::Str(s) => Some(s.clone()),
        RawValue::Int(i) => Some(i.to_string()),
        RawValue::List(_) => {
            errors.push(ConfigError {
                location: raw.location.clone(),
                message: "must be a string, not an array".into(),
            });
            None
        }
        RawValue::Other(t) => {
            errors.push(ConfigError {
                location: raw.location.clone(),
                message: format!("must be a string, not {t}"),
            });
            None
        }
    }
}

fn as_u64(raw: &Raw, what: &str, errors: &mut Vec<ConfigError>) -> Option<u64> {
    let parsed = match &raw.value {
        RawValue::Int(i) => u64::try_from(*i).ok(),
        RawValue::Str(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    if parsed.is_none() {
        errors.push(ConfigError {
            location: raw.location.clone(),
            message: format!("must be a whole number of {what}"),
        });
    }
    parsed
}

/// Load the settings for `home`: file, then environment (`env`), then flags.
pub fn load(
    home: &Home,
    flags: &Flags,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut raw: BTreeMap<&'static str, Raw> = BTreeMap::new();
    let mut requesters = BTreeMap::new();
    let mut broker = crate::credentials::Broker::default();
    let mut mcp = BTreeMap::new();
    let (path, explicit) = match &flags.config {
        Some(p) => (p.clone(), true),
        None => (home.dir.join("ward.toml"), false),
    };
    read_file(
        &path,
        explicit,
        &mut raw,
        &mut requesters,
        &mut broker,
        &mut mcp,
        &mut errors,
    );
    for (key, var) in KEYS {
        if let Some(v) = env(var) {
            let value = if *key == "allow_hosts" || *key == "token_audiences" {
                RawValue::List(
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                )
            } else {
                RawValue::Str(v)
            };
            raw.insert(
                key,
                Raw {
                    value,
                    location: (*var).to_string(),
                },
            );
        }
    }
    for (key, flag, v) in [
        ("listen", "--listen", &flags.listen),
        ("database_url", "--database-url", &flags.database_url),
        ("socket", "--socket", &flags.socket),
    ] {
        if let Some(v) = v {
            raw.insert(
                key,
                Raw {
                    value: RawValue::Str(v.clone()),
                    location: flag.to_string(),
                },
            );
        }
    }

    let mut s = Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
        socket: home.dir.join("ward.sock"),
        database: Target::Sqlite(home.db_path()),
        offline: Offline::Local,
        approval_wait: Duration::from_secs(60),
        approval_ttl: Duration::from_secs(3600),
        max_body_bytes: ward_clients::MAX_PAYLOAD_BYTES,
        group_commit_max: crate::commit::DEFAULT_MAX_BATCH,
        requesters,
        allow_hosts: Vec::new(),
        token_audiences: Vec::new(),
        enrollment: crate::assistants::Enrollment::default(),
        broker,
        mcp,
    };
    if let Some(r) = raw.get("listen")
        && let Some(v) = as_string(r, &mut errors)
    {
        match v.trim().parse::<SocketAddr>() {
            Ok(a) => s.listen = a,
            Err(_) => errors.push(ConfigError {
                location: r.location.clone(),
                message: format!("`{v}` is not an address:port such as 127.0.0.1:7878"),
            }),
        }
    }
    if let Some(r) = raw.get("socket")
        && let Some(v) = as_string(r, &mut errors)
    {
        let p = PathBuf::from(v.trim());
        if p.as_os_str().is_empty() || !p.is_absolute() {
            errors.push(ConfigError {
                location: r.location.clone(),
                message: format!("`{v}` must be an absolute path"),
            });
        } else {
            s.socket = p;
        }
    }
    if let Some(r) = raw.get("database_url")
        && let Some(v) = as_string(r, &mut errors)
    {
        match Target::parse(&v) {
            Ok(t) => s.database = t,
            Err(e) => errors.push(ConfigError {
                location: r.location.clone(),
                message: e.message,
            }),
        }
    }
    if let Some(r) = raw.get("offline")
        && let Some(v) = as_string(r, &mut errors)
    {
        match v.trim() {
            "local" => s.offline = Offline::Local,
            "deny" => s.offline = Offline::Deny,
            other => errors.push(ConfigError {
                location: r.location.clone(),
                message: format!("`{other}` is not one of \"local\", \"deny\""),
            }),
        }
    }
    if let Some(r) = raw.get("assistant_first_use")
        && let Some(v) = as_string(r, &mut errors)
    {
        use crate::assistants::FirstUse;
        match v.trim() {
            "activate" => s.enrollment.first_use = FirstUse::Activate,
            "pending" => s.enrollment.first_use = FirstUse::Pending,
            other => errors.push(ConfigError {
                location: r.location.clone(),
                message: format!("`{other}` is not one of \"activate\", \"pending\""),
            }),
        }
    }
    if let Some(r) = raw.get("assistant_pending")
        && let Some(v) = as_string(r, &mut errors)
    {
        use crate::assistants::PendingRule;
        match v.trim() {
            "deny" => s.enrollment.pending = PendingRule::Deny,
            "read-only" => s.enrollment.pending = PendingRule::ReadOnly,
            "ask" => s.enrollment.pending = PendingRule::Ask,
            other => errors.push(ConfigError {
                location: r.location.clone(),
                message: format!("`{other}` is not one of \"deny\", \"read-only\", \"ask\""),
            }),
        }
    }
    if let Some(r) = raw.get("approval_wait")
        && let Some(v) = as_u64(r, "seconds", &mut errors)
    {
        if v > 3600 {
            errors.push(ConfigError {
                location: r.location.clone(),
                message: "at most 3600 seconds; clients time out long before".into(),
            });
        } else {
            s.approval_wait = Duration::from_secs(v);
        }
    }
    if let Some(r) = raw.get("approval_ttl")
        && let Some(v) = as_u64(r, "seconds", &mut errors)
    {
        if v == 0 {
            errors.push(ConfigError {
                location: r.location.clone(),
                message: "must be at least 1 second".into(),
            });
        } else {
            s.approval_ttl = Duration::from_secs(v);
        }
    }
    if let Some(r) = raw.get("max_body_bytes")
        && let Some(v) = as_u64(r, "bytes", &mut errors)
    {
        if !(1024..=64 << 20).contains(&v) {
            errors.push(ConfigError {
                location: r.location.clone(),
                message: "must be between 1024 and 67108864".into(),
            });
        } else {
            s.max_body_bytes = v as usize;
        }
    }
    if let Some(r) = raw.get("group_commit_max")
        && let Some(v) = as_u64(r, "events", &mut errors)
    {
        if !(1..=10_000).contains(&v) {
            errors.push(ConfigError {
                location: r.location.clone(),
                message: "must be between 1 and 10000".into(),
            });
        } else {
            s.group_commit_max = v as usize;
        }
    }
    if let Some(r) = raw.get("allow_hosts") {
        match &r.value {
            RawValue::List(v) => s.allow_hosts = v.clone(),
            _ => errors.push(ConfigError {
                location: r.location.clone(),
                message: "must be a list of host names".into(),
            }),
        }
    }
    if let Some(r) = raw.get("token_audiences") {
        match &r.value {
            RawValue::List(v) if v.iter().all(|a| !a.trim().is_empty() && !a.contains(' ')) => {
                s.token_audiences = v.clone()
            }
            _ => errors.push(ConfigError {
                location: r.location.clone(),
                message: "must be a list of audience globs such as \"mcp:*\"".into(),
            }),
        }
    }
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_need_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        let s = load(&home, &Flags::default(), &no_env).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:7878");
        assert_eq!(s.socket, dir.path().join("ward.sock"));
        assert_eq!(s.database, Target::Sqlite(dir.path().join("ward.db")));
        assert_eq!(s.offline, Offline::Local);
        assert_eq!(s.approval_wait, Duration::from_secs(60));
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ward.toml"),
            "listen = \"127.0.0.1:9000\"\noffline = \"deny\"\napproval_wait = 5\n[requesters]\ndev = \"alice\"\n",
        )
        .unwrap();
        let home = Home::at(dir.path());
        let env = |k: &str| (k == "WARD_APPROVAL_WAIT").then(|| "0".to_string());
        let flags = Flags {
            listen: Some("127.0.0.1:9001".into()),
            ..Flags::default()
        };
        let s = load(&home, &flags, &env).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(s.offline, Offline::Deny);
        assert_eq!(s.approval_wait, Duration::ZERO);
        assert_eq!(s.requesters.get("dev").map(String::as_str), Some("alice"));
    }

    #[test]
    fn assistant_enrollment_settings() {
        use crate::assistants::{Enrollment, FirstUse, PendingRule};
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        assert_eq!(
            load(&home, &Flags::default(), &no_env).unwrap().enrollment,
            Enrollment::default()
        );
        std::fs::write(
            dir.path().join("ward.toml"),
            "assistant_first_use = \"pending\"\nassistant_pending = \"read-only\"\n",
        )
        .unwrap();
        let s = load(&home, &Flags::default(), &no_env).unwrap();
        assert_eq!(s.enrollment.first_use, FirstUse::Pending);
        assert_eq!(s.enrollment.pending, PendingRule::ReadOnly);
        let env = |k: &str| (k == "WARD_ASSISTANT_PENDING").then(|| "maybe".to_string());
        let errs = load(&home, &Flags::default(), &env).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].location, "WARD_ASSISTANT_PENDING");
        assert!(
            errs[0].message.contains("\"read-only\""),
            "{}",
            errs[0].message
        );
    }

    #[test]
    fn every_bad_setting_is_reported_with_its_location() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ward.toml"),
            "listen = \"nowhere\"\n\noffline = \"maybe\"\ncolour = true\napproval_wait = -3\n",
        )
        .unwrap();
        let home = Home::at(dir.path());
        let env = |k: &str| (k == "WARD_DATABASE_URL").then(|| "mysql://x".to_string());
        let flags = Flags {
            socket: Some("relative.sock".into()),
            ..Flags::default()
        };
        let errs = load(&home, &flags, &env).unwrap_err();
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        let has = |needle: &str| text.iter().any(|t| t.contains(needle));
        assert_eq!(errs.len(), 6, "{text:#?}");
        assert!(has("ward.toml:1 (listen)"), "{text:#?}");
        assert!(has("ward.toml:3 (offline)"), "{text:#?}");
        assert!(has("ward.toml:4 (colour): unknown setting"), "{text:#?}");
        assert!(has("ward.toml:5 (approval_wait)"), "{text:#?}");
        assert!(
            has("WARD_DATABASE_URL: unsupported database URL"),
            "{text:#?}"
        );
        assert!(
            has("--socket: `relative.sock` must be an absolute path"),
            "{text:#?}"
        );
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ward.toml"), "listen = \"a\"\noffline = \n").unwrap();
        let errs = load(&Home::at(dir.path()), &Flags::default(), &no_env).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].location.ends_with("ward.toml:2"), "{}", errs[0]);
    }

    #[test]
    fn a_named_config_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let flags = Flags {
            config: Some(dir.path().join("missing.toml")),
            ..Flags::default()
        };
        let errs = load(&Home::at(dir.path()), &flags, &no_env).unwrap_err();
        assert!(errs[0].message.contains("cannot read"), "{}", errs[0]);
    }
}
