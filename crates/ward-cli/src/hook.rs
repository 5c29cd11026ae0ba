//! `ward hook <client>`: read one payload from stdin, answer on stdout/stderr/exit code.
//! Nothing that goes wrong here may reach the exit code as a crash: Claude Code, Codex and
//! Gemini run the tool when a hook exits 1 or dies, so every failure becomes the client's block.

use crate::home::Home;
use crate::pipeline::{self, Runtime, Step, handle};
use std::io::{Read, Write};
use std::time::Duration;
use ward_clients::{MAX_PAYLOAD_BYTES, Reply};
use ward_core::event::Caller;
use ward_core::{ClientKind, ErrorCode, WardError};
use ward_server::client::{ClientError, Connection, Endpoint};
use ward_server::config::Offline;
use ward_server::serve::Marker;
use ward_server::spool;

/// Run the hook; returns the exit code.
pub fn run(client: ClientKind, event_hint: Option<&str>) -> i32 {
    ignore_file_size_signal();
    std::panic::set_hook(Box::new(|_| {}));
    let reply =
        std::panic::catch_unwind(|| decide_stdin(client, event_hint)).unwrap_or_else(|_| {
            ward_clients::render_error(
                client,
                event_hint,
                &WardError::new(
                    ErrorCode::InternalPanic,
                    "ward hit an internal error while deciding",
                ),
            )
        });
    emit(&reply)
}

fn decide_stdin(client: ClientKind, event_hint: Option<&str>) -> Reply {
    injected_fault();
    let mut buf = Vec::with_capacity(8192);
    let limit = (MAX_PAYLOAD_BYTES as u64) + 1;
    if let Err(e) = std::io::stdin().lock().take(limit).read_to_end(&mut buf) {
        return ward_clients::render_error(
            client,
            event_hint,
            &WardError::new(
                ErrorCode::PayloadMalformed,
                format!("cannot read stdin: {e}"),
            ),
        );
    }
    if buf.len() > MAX_PAYLOAD_BYTES {
        return ward_clients::render_error(
            client,
            event_hint,
            &WardError::new(
                ErrorCode::PayloadTooLarge,
                format!("payload exceeds {MAX_PAYLOAD_BYTES} bytes"),
            ),
        );
    }
    let home = match Home::resolve().and_then(|h| h.init().map(|_| h)) {
        Ok(h) => h,
        Err(e) => return ward_clients::render_error(client, event_hint, &e),
    };
    // A home served by a daemon: ask it over the socket; it attests, decides and records.
    match ward_server::serve::read_marker(&home) {
        Ok(Some(marker)) => return via_daemon(home, &marker, client, &buf, event_hint),
        Ok(None) => {}
        Err(e) => return ward_clients::render_error(client, event_hint, &e),
    }
    let mut rt = Runtime::new(home, true);
    rt.env_secrets = Some(env_secrets);
    let reply = handle(&mut rt, client, &buf, event_hint).reply;
    if let Some(task) = rt.opened_task.as_deref() {
        export_task(task);
    }
    // The process ends with this reply. Closing the audit store would make SQLite copy the
    // whole WAL into the database and fsync it (the last connection checkpoints on close), a
    // millisecond or more on every hook. The event is already durable in the WAL, the next
    // opener recovers the WAL as after any exit, and appends empty the WAL once it passes a
    // few hundred KiB (`Store::trim_wal`): so the store is left open and the process exits.
    std::mem::forget(rt);
    reply
}

/// How long the hook lets the daemon take beyond an approval wait.
const DAEMON_SLACK: Duration = Duration::from_secs(15);

fn via_daemon(
    home: Home,
    marker: &Marker,
    client: ClientKind,
    payload: &[u8],
    event_hint: Option<&str>,
) -> Reply {
    let fail = |e: WardError| ward_clients::render_error(client, event_hint, &e);
    let wait = match std::env::var("WARD_APPROVAL_WAIT") {
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(s) if s <= 3600 => Some(s),
            _ => return fail(ward_server::service::bad_wait(&v)),
        },
        Err(_) => None,
    };
    let mut path = format!("/v1/hooks/{}", client.as_str());
    let mut sep = '?';
    if let Some(ev) = event_hint {
        path.push_str(&format!("{sep}event={}", query_escape(ev)));
        sep = '&';
    }
    if let Some(w) = wait {
        path.push_str(&format!("{sep}wait={w}"));
    }
    let ep = Endpoint::Unix(marker.socket.clone());
    let mut conn = match Connection::open(&ep, Duration::from_secs(5)) {
        Ok(c) => c,
        Err(ClientError::Connect(e)) => {
            return offline(home, marker, client, payload, event_hint, &e);
        }
        Err(e) => return fail(unreachable(&e.to_string())),
    };
    conn.set_timeout(
        Duration::from_secs(wait.unwrap_or(marker.approval_wait_secs).min(3600)) + DAEMON_SLACK,
    );
    let resp = match conn.request(
        "POST",
        &path,
        &[
            ("ward-reply", "process"),
            ("Content-Type", "application/json"),
            ("ward-env-secrets", &env_secrets().join(",")),
        ],
        payload,
    ) {
        Ok(r) => r,
        // The request may have reached the daemon: deciding again here could record the call
        // twice, so this blocks.
        Err(e) => return fail(unreachable(&e.to_string())),
    };
    let v: serde_json::Value = match serde_json::from_slice(&resp.body) {
        Ok(v) if resp.status == 200 => v,
        _ => {
            return fail(unreachable(&format!(
                "the daemon answered status {} without a hook reply",
                resp.status
            )));
        }
    };
    if let Some(task) = v.get("task").and_then(|x| x.as_str()) {
        export_task(task);
    }
    match (
        v.get("stdout").and_then(|x| x.as_str()),
        v.get("stderr").and_then(|x| x.as_str()),
        v.get("exit_code").and_then(|x| x.as_i64()),
    ) {
        (Some(out), Some(err), Some(code)) => Reply {
            stdout: out.to_string(),
            stderr: err.to_string(),
            exit_code: i32::try_from(code).unwrap_or(2),
        },
        _ => fail(unreachable("the daemon's hook reply is incomplete")),
    }
}

/// Names (never values) of the secret-looking variables this hook inherited from its client.
fn env_secrets() -> Vec<String> {
    let vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    ward_broker::standing::secret_names(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Give the session's shell its task: Claude Code sources `CLAUDE_ENV_FILE` (set for
/// SessionStart hooks) before each command. Other clients have no such file; their tools get
/// `WARD_TASK` from whoever starts them. Best effort: without it, credential helpers refuse.
fn export_task(task: &str) {
    if let Some(path) = std::env::var_os("CLAUDE_ENV_FILE").filter(|p| !p.is_empty()) {
        let _ = ward_server::sessions::export_task(std::path::Path::new(&path), task);
    }
}

fn unreachable(why: &str) -> WardError {
    WardError::new(
        ErrorCode::DaemonUnreachable,
        format!("the ward daemon did not answer: {why}"),
    )
}

fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The daemon is down: block (`offline = "deny"`) or decide here with the pack on disk and
/// spool the event for the daemon (`offline = "local"`).
fn offline(
    home: Home,
    marker: &Marker,
    client: ClientKind,
    payload: &[u8],
    event_hint: Option<&str>,
    why: &std::io::Error,
) -> Reply {
    let fail = |e: WardError| ward_clients::render_error(client, event_hint, &e);
    match ward_server::serve::offline_rule(marker) {
        Ok(Offline::Deny) => fail(unreachable(&format!(
            "{why} (socket `{}`; offline = \"deny\")",
            marker.socket.display()
        ))),
        Ok(Offline::Local) => {
            let spool_home = home.clone();
            let mut rt = Runtime::new(home, false);
            let origin = rt.origin.clone();
            let ev = match pipeline::parse(
                client,
                payload,
                event_hint,
                &origin,
                &pipeline::find_repo_root,
            ) {
                Ok(ev) => ev,
                Err(h) => return h.reply,
            };
            let mut p = match pipeline::prepare(ev, &origin, &mut rt) {
                Step::Answer(h) => return h.reply,
                Step::Record(p) => p,
            };
            p.event.caller = Some(Caller {
                transport: "spool".into(),
                pid: i32::try_from(std::process::id()).ok(),
                user: Some(origin.os_user.clone()),
                ..Caller::default()
            });
            let recorded = spool::append(&spool_home, &p.event).map(|()| true);
            pipeline::finish(*p, recorded).reply
        }
        Err(e) => fail(e),
    }
}

/// Write the reply; if stdout cannot be written the answer must still block.
pub fn emit(reply: &Reply) -> i32 {
    let out_ok = {
        let mut out = std::io::stdout().lock();
        out.write_all(reply.stdout.as_bytes())
            .and_then(|_| {
                if reply.stdout.is_empty() || reply.stdout.ends_with('\n') {
                    Ok(())
                } else {
                    out.write_all(b"\n")
                }
            })
            .and_then(|_| out.flush())
            .is_ok()
    };
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(reply.stderr.as_bytes());
    if !reply.stderr.is_empty() && !reply.stderr.ends_with('\n') {
        let _ = err.write_all(b"\n");
    }
    let _ = err.flush();
    if out_ok {
        reply.exit_code
    } else {
        let _ = err.write_all(
            b"ward E4002: cannot write the hook answer to stdout (blocked: ward fails closed)\n",
        );
        2
    }
}

/// A write past `ulimit -f` raises SIGXFSZ, whose default action kills the process, which most
/// clients read as "run the tool". Ignoring it turns the write into an EFBIG error, which the
/// audit append reports, and the hook denies.
#[expect(
    unsafe_code,
    reason = "libc::signal is the only way to ignore SIGXFSZ; the call has no memory effects"
)]
fn ignore_file_size_signal() {
    // SAFETY: installing SIG_IGN for SIGXFSZ has no preconditions and touches no Rust state.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Debug builds only: `WARD_DEBUG_FAULT=panic` panics inside the hook, so tests can prove that a
/// crash still answers "block". Release builds compile this to nothing.
#[cfg(debug_assertions)]
#[expect(
    clippy::panic,
    reason = "fault injection for the fail-closed tests; debug builds only"
)]
fn injected_fault() {
    if std::env::var_os("WARD_DEBUG_FAULT").is_some_and(|v| v == "panic") {
        panic!("injected fault");
    }
}

#[cfg(not(debug_assertions))]
fn injected_fault() {}
