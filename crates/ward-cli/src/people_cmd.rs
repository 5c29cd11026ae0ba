//! People and approvals from the command line.
//!
//! - `ward user add|list`, `ward hook token`: the OS user who owns `$WARD_HOME` administers the
//!   install directly against its store, without a key (as `tctl` does on an auth host).
//! - `ward approvals list`, `ward approve`, `ward deny`, `ward login`: always through the daemon's
//!   API with an API key, so the approver is the key's user, never inferred.

use crate::home::Home;
use crate::output::cell;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use ward_core::{ErrorCode, WardError};
use ward_server::client::{self, Endpoint};
use ward_server::config::Flags;
use ward_store::{Conn, Target};

/// The store this install uses (`database_url` from ward.toml / `WARD_DATABASE_URL`).
pub fn target(home: &Home) -> Result<Target, WardError> {
    Ok(ward_server::serve::settings(home, &Flags::default())?.database)
}

/// Run `f` on a connection to the install's store (for the owner's direct administration).
pub(crate) fn with_store<T>(
    f: impl AsyncFnOnce(&mut Conn) -> Result<T, WardError>,
) -> Result<T, WardError> {
    let home = Home::resolve()?;
    home.init()?;
    owner_check(&home)?;
    let target = target(&home)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            WardError::new(ErrorCode::StoreOpen, format!("cannot start a runtime: {e}"))
        })?;
    rt.block_on(async {
        let mut conn = Conn::open(&target).await.map_err(|e| {
            WardError::new(
                ErrorCode::StoreOpen,
                format!("cannot open the store `{}`: {e}", target.display()),
            )
        })?;
        f(&mut conn).await
    })
}

/// Direct administration is for the owner of `$WARD_HOME` only.
fn owner_check(home: &Home) -> Result<(), WardError> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&home.dir).map_err(|e| {
        WardError::new(
            ErrorCode::HomeInit,
            format!("cannot read `{}`: {e}", home.dir.display()),
        )
    })?;
    let me = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    if me.is_some_and(|uid| uid != meta.uid()) {
        return Err(WardError::new(
            ErrorCode::Forbidden,
            format!(
                "`{}` belongs to another user; administer it as its owner, or through the API with an admin key",
                home.dir.display()
            ),
        ));
    }
    Ok(())
}

pub fn user_add(name: &str, role: &str, json_out: bool) -> Result<i32, WardError> {
    let (user, key) = with_store(async |c| ward_server::users::add(c.r(), name, role).await)?;
    if json_out {
        println!(
            "{}",
            json!({"name": user.name, "role": user.role.as_str(), "api_key": key})
        );
    } else {
        println!(
            "added user `{}` with role {}; their API key (shown once, give it to them privately):",
            user.name,
            user.role.as_str()
        );
        println!("{key}");
    }
    Ok(0)
}

pub fn user_list(json_out: bool) -> Result<i32, WardError> {
    let users = with_store(async |c| {
        ward_store::people::users(c.r())
            .await
            .map_err(ward_store::read_err)
    })?;
    if json_out {
        let v: Vec<Value> = users
            .iter()
            .map(|u| json!({"name": u.name, "role": u.role.as_str(), "created_ms": u.created_ms}))
            .collect();
        println!("{}", json!({ "users": v }));
    } else if users.is_empty() {
        println!("no users yet; add one with `ward user add NAME --role approver`");
    } else {
        println!("{} ROLE", cell("NAME", 24));
        for u in users {
            println!("{} {}", cell(&u.name, 24), u.role.as_str());
        }
    }
    Ok(0)
}

/// Create or rotate a hook token in this install's store.
pub fn new_hook_token(name: &str) -> Result<String, WardError> {
    with_store(async |c| ward_server::users::hook_token(c.r(), name).await)
}

pub fn hook_token(name: &str) -> Result<i32, WardError> {
    let token = new_hook_token(name)?;
    println!(
        "hook token `{name}` (replaces any earlier one; send it as `Authorization: Bearer …` to /v1/hooks/<client>):"
    );
    println!("{token}");
    Ok(0)
}

/// Saved by `ward login`.
fn login_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("ward").join("login.json"))
}

fn saved_login() -> Option<Value> {
    let p = login_path()?;
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

/// How the CLI reaches the API.
pub struct Api {
    ep: Endpoint,
    key: Option<String>,
}

impl Api {
    /// `--server`, `WARD_SERVER`, the saved login, else this home's daemon socket.
    pub fn resolve(server: Option<&str>, key: Option<&str>) -> Result<Api, WardError> {
        let saved = saved_login();
        let server = server
            .map(str::to_string)
            .or_else(|| std::env::var("WARD_SERVER").ok().filter(|s| !s.is_empty()))
            .or_else(|| {
                saved
                    .as_ref()
                    .and_then(|v| v.get("server")?.as_str().map(str::to_string))
            });
        let ep = match server {
            Some(s) => Endpoint::parse(&s).ok_or_else(|| {
                WardError::new(
                    ErrorCode::BadInput,
                    format!("`{s}` is not a server address: use http://host:port or unix:/path"),
                )
            })?,
            None => {
                let home = Home::resolve()?;
                match ward_server::serve::read_marker(&home)? {
                    Some(m) => Endpoint::Unix(m.socket),
                    None => {
                        return Err(WardError::new(
                            ErrorCode::DaemonUnreachable,
                            format!(
                                "no ward daemon serves `{}`; start one with `ward serve`, or pass `--server URL`",
                                home.dir.display()
                            ),
                        ));
                    }
                }
            }
        };
        let key = key
            .map(str::to_string)
            .or_else(|| std::env::var("WARD_API_KEY").ok().filter(|s| !s.is_empty()))
            .or_else(|| {
                saved
                    .as_ref()
                    .and_then(|v| v.get("api_key")?.as_str().map(str::to_string))
            });
        Ok(Api { ep, key })
    }

    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, WardError> {
        let key = self.key.as_deref().ok_or_else(|| {
            WardError::new(
                ErrorCode::Unauthenticated,
                "no API key: pass `--api-key`, set `WARD_API_KEY`, or run `ward login`",
            )
        })?;
        let auth = format!("Bearer {key}");
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let mut headers = vec![("Authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        let resp = client::request(
            &self.ep,
            method,
            path,
            &headers,
            bytes.as_bytes(),
            Duration::from_secs(30),
        )
        .map_err(|e| {
            WardError::new(
                ErrorCode::DaemonUnreachable,
                format!("cannot reach the ward daemon: {e}"),
            )
        })?;
        let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        if resp.status >= 400 {
            let code = v.get("code").and_then(Value::as_str).unwrap_or("");
            let detail = v
                .get("detail")
                .and_then(Value::as_str)
                .unwrap_or("the daemon refused the request");
            let code = match code {
                "E5001" => ErrorCode::Unauthenticated,
                "E5002" => ErrorCode::Forbidden,
                "E5003" => ErrorCode::NotFound,
                "E5004" => ErrorCode::ApprovalState,
                "E1001" | "E1004" | "E4003" => ErrorCode::BadInput,
                _ => ErrorCode::DaemonUnreachable,
            };
            return Err(WardError::new(code, detail.to_string()));
        }
        Ok(v)
    }
}

fn age(ms: u64) -> String {
    let now = ward_server::service::now_ms();
    let s = now.saturating_sub(ms) / 1000;
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        _ => format!("{}h ago", s / 3600),
    }
}

pub fn approvals_list(api: &Api, state: &str, json_out: bool) -> Result<i32, WardError> {
    let v = api.call("GET", &format!("/v1/approvals?state={state}"), None)?;
    if json_out {
        println!("{v}");
        return Ok(0);
    }
    let list = v
        .get("approvals")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if list.is_empty() {
        println!("no {state} approvals");
        return Ok(0);
    }
    println!(
        "{} {} {} {} ACTION",
        cell("ID", 29),
        cell("STATE", 9),
        cell("REQUESTER", 12),
        cell("ASKED", 9),
    );
    for a in list {
        let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let created = a.get("created_ms").and_then(Value::as_u64).unwrap_or(0);
        println!(
            "{} {} {} {} {}",
            cell(&s("id"), 29),
            cell(&s("state"), 9),
            cell(&s("requester"), 12),
            cell(&age(created), 9),
            cell(&format!("{} {}", s("tool_name"), s("action")), 60)
        );
        println!("{}   why: {}", " ".repeat(29), cell(&s("reason"), 100));
    }
    Ok(0)
}

pub fn approve(
    api: &Api,
    id: &str,
    approve: bool,
    note: Option<&str>,
    json_out: bool,
) -> Result<i32, WardError> {
    let verb = if approve { "approve" } else { "deny" };
    let body = json!({ "note": note });
    let v = api.call("POST", &format!("/v1/approvals/{id}/{verb}"), Some(&body))?;
    if json_out {
        println!("{v}");
    } else {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        println!(
            "{} {} by `{}`: {} {} (requested by `{}`)",
            s("id"),
            s("state"),
            s("decided_by"),
            s("tool_name"),
            s("action"),
            s("requester")
        );
    }
    Ok(0)
}

pub fn login(server: Option<&str>, key: Option<&str>) -> Result<i32, WardError> {
    let api = Api::resolve(server, key)?;
    let who = api.call("GET", "/v1/whoami", None)?;
    let path = login_path().ok_or_else(|| {
        WardError::new(
            ErrorCode::HomeInit,
            "cannot find a config directory: set HOME",
        )
    })?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            WardError::new(
                ErrorCode::Io,
                format!("cannot create `{}`: {e}", dir.display()),
            )
        })?;
    }
    let server_text = match &api.ep {
        Endpoint::Unix(p) => format!("unix:{}", p.display()),
        Endpoint::Tcp(hp) => format!("http://{hp}"),
    };
    let saved = json!({"server": server_text, "api_key": api.key});
    crate::home::write_atomic(&path, format!("{saved}\n").as_bytes(), 0o600)?;
    println!(
        "logged in to {server_text} as `{}` ({}); saved in `{}`",
        who.get("name").and_then(Value::as_str).unwrap_or("?"),
        who.get("role").and_then(Value::as_str).unwrap_or("?"),
        path.display()
    );
    Ok(0)
}
