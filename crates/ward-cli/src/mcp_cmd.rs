//! `ward mcp wrap --name NAME -- CMD ARGS…`: run a stdio MCP server as a child and speak MCP to
//! the client on our own stdin/stdout, relaying every message; each `tools/call` goes through
//! the same decision, registry, task and audit path as a hook first, and a refused one is
//! answered with a tool result that has `isError` and the reason, so the model can react.

use serde_json::{Value, json};
use std::io::BufReader;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use ward_core::{Action, ClientKind, ErrorCode, HookEvent, HookKind, Outcome, ToolCall, WardError};
use ward_server::home::Home;
use ward_server::mcp_pins;
use ward_server::pipeline::{self, Runtime};
use ward_store::Store;

pub fn wrap(name: &str, client: ClientKind, command: &[String]) -> Result<i32, WardError> {
    let Some((program, args)) = command.split_first() else {
        return Err(WardError::new(
            ErrorCode::Usage,
            "give the server's command after `--`: `ward mcp wrap --name fs -- npx @modelcontextprotocol/server-filesystem ~`",
        ));
    };
    if name.is_empty() || name.contains("__") || name.contains(char::is_whitespace) {
        return Err(WardError::new(
            ErrorCode::BadInput,
            format!("`{name}` is not a server name; use letters, digits, `-` and `_`"),
        ));
    }
    let home = Home::resolve()?;
    home.init()?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            WardError::new(
                ErrorCode::Io,
                format!("cannot start the MCP server `{program}`: {e}"),
            )
        })?;
    let (Some(server_in), Some(server_out)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(WardError::new(ErrorCode::Io, "the MCP server has no pipes"));
    };
    // Pins live in the home's store, behind their own connection: the client's calls and the
    // server's answers are handled on two threads.
    let pins = Arc::new(Mutex::new(Store::open(&home.db_path())?));
    let signer = home.signer()?;
    let mut rt = Runtime::new(home, true);
    rt.keep_warm();
    let home = rt.home.clone();
    let session = format!("mcp-{name}-{}", std::process::id());
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let origin = rt.origin.clone();
    let held = {
        let pins = pins.clone();
        let name = name.to_string();
        move |tool: &str| -> Result<Option<String>, WardError> {
            let mut store = pins
                .lock()
                .map_err(|_| WardError::new(ErrorCode::StoreOpen, "the pin store is poisoned"))?;
            store.block_on(async |c| mcp_pins::held(c.r(), &name, tool).await)
        }
    };
    // Allowed calls by request id, until their results come back; the results go to a recorder
    // thread (the daemon's log, or this home's).
    let decided: Arc<Mutex<std::collections::HashMap<String, ToolCall>>> = Arc::default();
    // One runtime decides and records, shared with the recorder of results (whose events join the
    // next decision's transaction instead of holding the log's lock while a call waits).
    let rt = Arc::new(Mutex::new(rt));
    let (results, recording) = recorder(&home, rt.clone(), client, &session, &cwd)?;
    let on_list = {
        let decided_answers = decided.clone();
        let (pins, name, origin) = (pins.clone(), name.to_string(), origin.clone());
        // The listing is decided apart from the calls (it runs on the relay's other thread):
        // a tool the policy refuses whatever its arguments is not shown.
        let mut lister = Runtime::new(home.clone(), false);
        lister.keep_warm();
        let (session, cwd) = (session.clone(), cwd.clone());
        let assistant = format!(
            "{}@{}/{}",
            ward_server::assistants::kind_of(client),
            origin.host,
            origin.os_user
        );
        move |method: &str, answer: &mut Value| {
            if ward_mcp::jsonrpc::DECIDED.contains(&method) {
                // A decided call's result: recorded, off the path of the answer.
                let key = answer.get("id").map(Value::to_string).unwrap_or_default();
                if let Some(call) = decided_answers.lock().ok().and_then(|mut m| m.remove(&key)) {
                    let (success, error, output_bytes) = ward_mcp::jsonrpc::outcome_of(answer);
                    let _ = results.send((
                        call,
                        ward_core::Effect {
                            success,
                            exit_code: None,
                            error,
                            output_bytes,
                        },
                    ));
                }
                return;
            }
            let tools = match method {
                "tools/list" => match answer.pointer("/result/tools").and_then(Value::as_array) {
                    Some(t) => t.clone(),
                    None => return,
                },
                _ => Vec::new(),
            };
            let hidden = pins
                .lock()
                .map_err(|_| WardError::new(ErrorCode::StoreOpen, "the pin store is poisoned"))
                .and_then(|mut store| {
                    if tools.is_empty() {
                        return Ok(Vec::new());
                    }
                    let seen = store.block_on(async |c| {
                        mcp_pins::observe(c.r(), &name, &tools, pipeline::now_ms()).await
                    })?;
                    for change in &seen.changes {
                        let ev = mcp_pins::pin_event(
                            change,
                            &assistant,
                            &name,
                            &origin.host,
                            &origin.os_user,
                        );
                        store.append(&ev, &signer, signer.name())?;
                    }
                    Ok(seen.held.into_iter().map(|(t, _)| t).collect::<Vec<_>>())
                })
                .and_then(|mut hidden| {
                    hidden.extend(mcp_pins::refused_outright(method, answer, |tool, args| {
                        let call =
                            mcp_call(&origin, client, &session, &cwd, &name, None, tool, args);
                        let (d, _) = pipeline::Decider::decide(&mut lister, &call);
                        Ok(d?.outcome == Outcome::Deny)
                    })?);
                    // The listing itself is a record: what was offered, and what was held back.
                    let ev = mcp_pins::list_event(
                        method,
                        &name,
                        &hidden,
                        &assistant,
                        &origin.host,
                        &origin.os_user,
                    );
                    pins.lock()
                        .map_err(|_| {
                            WardError::new(ErrorCode::StoreOpen, "the pin store is poisoned")
                        })?
                        .append(&ev, &signer, signer.name())?;
                    Ok(hidden)
                });
            mcp_pins::show(method, answer, hidden);
        }
    };
    // With a daemon serving this home, calls are decided there (asks become approval requests
    // another person grants, events share its group commits); when it does not answer, the
    // home's `offline` rule says whether to decide here or refuse.
    let mut daemon = Daemon::find(&home)?;
    let decide = |call: &ward_mcp::jsonrpc::ToolsCall| -> Result<(), String> {
        // Pins are tools' definitions: a resource read or a prompt has none. A held tool is
        // refused here, and the refusal is recorded as a decision like any other.
        let refusal = match if call.access {
            Ok(None)
        } else {
            held(&call.tool)
        } {
            Ok(None) => None,
            Ok(Some(why)) => Some(ward_core::Decision::refused("mcp-pin", why)),
            Err(e) => Some(ward_core::Decision::fail_closed(
                e.code,
                &format!("could not check the tool's pin: {}", e.message),
            )),
        };
        let tool_call = mcp_call(
            &origin,
            client,
            &session,
            &cwd,
            name,
            Some(format!("mcp-{}", call.id)),
            &call.tool,
            &call.arguments,
        );
        let verdict = 'verdict: {
            if refusal.is_none()
                && let Some(d) = daemon.as_mut()
            {
                match d.decide(&tool_call) {
                    Ok(verdict) => break 'verdict verdict,
                    Err(e) if d.offline == ward_server::config::Offline::Deny => {
                        break 'verdict Err(format!(
                            "ward: the daemon does not answer ({e}) and this home's `offline` is \"deny\"; start `ward serve`"
                        ));
                    }
                    // `offline = "local"`: decided and recorded here, as without a daemon.
                    Err(_) => {}
                }
            }
            let ev = HookEvent {
                client,
                event_name: "tools/call".into(),
                kind: HookKind::PreTool,
                session_id: session.clone(),
                cwd: cwd.clone(),
                call: Some(tool_call.clone()),
                effect: None,
            };
            let handled = match rt.lock() {
                Ok(mut rt) => {
                    if let Some(d) = refusal {
                        rt.refuse_next(d);
                    }
                    pipeline::handle_event(&mut rt, ev)
                }
                Err(_) => {
                    break 'verdict Err("ward could not decide: its runtime is poisoned".into());
                }
            };
            match handled.decision {
                Some(d) if d.outcome == Outcome::Allow => Ok(()),
                // Nobody could approve an ask here: refused, with the reason and the policy.
                Some(d) => Err(format!("ward: {}", d.reason)),
                None => Err(format!(
                    "ward could not decide: {}",
                    handled.reply.stderr.trim()
                )),
            }
        };
        if verdict.is_ok()
            && let Ok(mut m) = decided.lock()
        {
            m.insert(call.id.to_string(), tool_call);
        }
        verdict
    };
    let relayed = ward_mcp::stdio::relay(
        BufReader::new(std::io::stdin()),
        Box::new(std::io::stdout()),
        server_in,
        BufReader::new(server_out),
        decide,
        on_list,
    );
    let status = child
        .wait()
        .map_err(|e| WardError::new(ErrorCode::Io, format!("the MCP server vanished: {e}")))?;
    // The relay is done and the recorder's sender with it: what it holds is written now.
    let _ = recording.join();
    relayed.map_err(|e| WardError::new(ErrorCode::Io, format!("relaying MCP messages: {e}")))?;
    Ok(status.code().unwrap_or(1))
}

/// How long a result may wait for the next decision's transaction before it is written alone.
const RESULT_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

type Results = std::sync::mpsc::Sender<(ToolCall, ward_core::Effect)>;

/// The thread that records what wrapped calls returned, linked to their decisions: through the
/// daemon when one serves the home (its group commits), else in the home's log, written with the
/// next decision or after [`RESULT_WAIT`] without one.
fn recorder(
    home: &Home,
    rt: Arc<Mutex<Runtime>>,
    client: ClientKind,
    session: &str,
    cwd: &str,
) -> Result<(Results, std::thread::JoinHandle<()>), WardError> {
    let (tx, rx) = std::sync::mpsc::channel::<(ToolCall, ward_core::Effect)>();
    let mut daemon = Daemon::find(home)?;
    let (session, cwd) = (session.to_string(), cwd.to_string());
    let flush = |rt: &Arc<Mutex<Runtime>>| {
        if let Ok(mut rt) = rt.lock()
            && let Err(e) = rt.flush()
        {
            eprintln!("ward mcp wrap: results not recorded yet: {}", e.message);
        }
    };
    let handle = std::thread::spawn(move || {
        loop {
            let (call, effect) = match rx.recv_timeout(RESULT_WAIT) {
                Ok(r) => r,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    flush(&rt);
                    continue;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            };
            if let Some(d) = daemon.as_mut()
                && d.record(&call, &effect).is_ok()
            {
                continue;
            }
            let ev = HookEvent {
                client,
                event_name: "tools/call result".into(),
                kind: HookKind::PostTool,
                session_id: session.clone(),
                cwd: cwd.clone(),
                call: Some(call),
                effect: Some(effect),
            };
            if let Ok(mut rt) = rt.lock() {
                let handled = rt.defer(ev);
                if handled.event_id.is_none() {
                    eprintln!(
                        "ward mcp wrap: a call's result was not recorded: {}",
                        handled.reply.stderr.trim()
                    );
                }
            }
        }
        flush(&rt);
    });
    Ok((tx, handle))
}

/// The daemon serving this home, as the wrapper talks to it (one kept-alive socket connection).
struct Daemon {
    endpoint: ward_server::client::Endpoint,
    conn: Option<ward_server::client::Connection>,
    offline: ward_server::config::Offline,
    /// `WARD_APPROVAL_WAIT`, if set; otherwise the daemon's own setting applies.
    wait: Option<u64>,
}

impl Daemon {
    fn find(home: &Home) -> Result<Option<Daemon>, WardError> {
        let Some(marker) = ward_server::serve::read_marker(home)? else {
            return Ok(None);
        };
        let wait = match std::env::var("WARD_APPROVAL_WAIT") {
            Ok(v) => Some(
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| ward_server::service::bad_wait(&v))?,
            ),
            Err(_) => None,
        };
        Ok(Some(Daemon {
            endpoint: ward_server::client::Endpoint::Unix(marker.socket.clone()),
            conn: None,
            offline: ward_server::serve::offline_rule(&marker)?,
            wait,
        }))
    }

    /// Record what a call returned (linked by the daemon to its decision).
    fn record(&mut self, call: &ToolCall, effect: &ward_core::Effect) -> Result<(), String> {
        let body = json!({ "call": call, "effect": effect }).to_string();
        match self.post(&body)? {
            (200, _) => Ok(()),
            (status, v) => Err(format!("HTTP {status}: {}", v["detail"])),
        }
    }

    /// POST to `/v1/decide`, reopening a kept-alive connection the daemon closed, once.
    fn post(&mut self, body: &str) -> Result<(u16, Value), String> {
        for _ in 0..2 {
            let conn = match self.conn.as_mut() {
                Some(c) => c,
                None => {
                    let c = ward_server::client::Connection::open(
                        &self.endpoint,
                        std::time::Duration::from_secs(3600),
                    )
                    .map_err(|e| e.to_string())?;
                    self.conn.insert(c)
                }
            };
            match conn.request(
                "POST",
                "/v1/decide",
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            ) {
                Ok(r) => {
                    return Ok((
                        r.status,
                        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
                    ));
                }
                Err(_) => self.conn = None,
            }
        }
        Err("the daemon closed the connection".into())
    }

    /// The daemon's verdict (`Ok(Err(reason))` refuses), or why it could not be asked.
    fn decide(&mut self, call: &ToolCall) -> Result<Result<(), String>, String> {
        let body = json!({ "call": call, "wait": self.wait }).to_string();
        let (status, v) = self.post(&body)?;
        Ok(match (status, v["decision"].as_str()) {
            (200, Some("allow")) => Ok(()),
            (200, Some(_)) => Err(format!(
                "ward: {}",
                v["reason"].as_str().unwrap_or("refused")
            )),
            // The daemon refused the request itself: a block naming why.
            (status, _) => Err(format!(
                "ward could not decide (HTTP {status}): {}",
                v["detail"].as_str().unwrap_or("no reason given")
            )),
        })
    }
}

/// A wrapped server's `tools/call` as ward decides it.
#[expect(
    clippy::too_many_arguments,
    reason = "one call's fields, named at the call sites"
)]
fn mcp_call(
    origin: &ward_clients::Origin,
    client: ClientKind,
    session: &str,
    cwd: &str,
    server: &str,
    use_id: Option<String>,
    tool: &str,
    arguments: &Value,
) -> ToolCall {
    ToolCall {
        assistant: ward_core::Assistant {
            client,
            host: origin.host.clone(),
            os_user: origin.os_user.clone(),
        },
        session_id: session.to_string(),
        tool_use_id: use_id,
        tool_name: format!("mcp__{server}__{tool}"),
        action: Action::Mcp {
            server: server.to_string(),
            tool: tool.to_string(),
            arguments: arguments.clone(),
        },
        input: arguments.clone(),
        cwd: cwd.to_string(),
        repo_root: None,
        agent_id: None,
    }
}

/// `ward mcp tools diff NAME`: each held tool's pinned definition beside the new one, and what
/// the poisoning scan found. Exit 0 when nothing is held, 1 when something waits for review.
/// Through the daemon's API when `api` is given, else on the install's store (its owner).
pub fn tools_diff(
    server: &str,
    api: Option<&crate::people_cmd::Api>,
    json_out: bool,
) -> Result<i32, WardError> {
    let v = match api {
        Some(api) => api.call("GET", &format!("/v1/mcp/{server}/tools"), None)?,
        None => {
            let held =
                crate::people_cmd::with_store(async |c| mcp_pins::held_pins(c.r(), server).await)?;
            mcp_pins::held_json(server, &held)
        }
    };
    let held = v["held"].as_array().cloned().unwrap_or_default();
    if json_out {
        println!("{v}");
    } else if held.is_empty() {
        println!("no tool of `{server}` is held: every definition is the pinned one");
    } else {
        for p in &held {
            println!(
                "{} ({}):",
                p["tool"].as_str().unwrap_or(""),
                p["state"].as_str().unwrap_or("")
            );
            for x in p["findings"].as_array().into_iter().flatten() {
                println!("  found: {}", x.as_str().unwrap_or(""));
            }
            println!("  pinned: {}", p["pinned"]);
            if !p["new"].is_null() {
                println!("  new:    {}", p["new"]);
            }
        }
        println!("accept with `ward mcp tools accept {server} [TOOL]`");
    }
    Ok(if held.is_empty() { 0 } else { 1 })
}

/// `ward mcp tools accept NAME [TOOL]`: trust the held definitions (recorded in the log, naming
/// who accepted). Through the daemon's API (an approver's key) when `api` is given, else on
/// the install's store (its owner).
pub fn tools_accept(
    server: &str,
    tool: Option<&str>,
    api: Option<&crate::people_cmd::Api>,
) -> Result<i32, WardError> {
    let done: Vec<String> = match api {
        Some(api) => {
            let v = api.call(
                "POST",
                &format!("/v1/mcp/{server}/tools/accept"),
                Some(&json!({ "tool": tool })),
            )?;
            v["accepted"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        }
        None => {
            let home = Home::resolve()?;
            let signer = home.signer()?;
            let by = format!("os:{}", ward_server::ident::os_user());
            crate::people_cmd::with_store(async |c| {
                mcp_pins::accept_recorded(c.r(), &signer, server, tool, &by).await
            })?
        }
    };
    if done.is_empty() {
        return Err(WardError::new(
            ErrorCode::NotFound,
            format!(
                "nothing of `{server}`{} is held; `ward mcp tools diff {server}` shows what is",
                tool.map(|t| format!(" named `{t}`")).unwrap_or_default()
            ),
        ));
    }
    for t in &done {
        println!("accepted the definition of `{t}` ({server})");
    }
    Ok(0)
}
