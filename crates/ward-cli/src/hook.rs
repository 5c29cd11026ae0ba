//! `ward hook <client>`: read one payload from stdin, answer on stdout/stderr/exit code.
//! Nothing that goes wrong here may reach the exit code as a crash: Claude Code, Codex and
//! Gemini run the tool when a hook exits 1 or dies, so every failure becomes the client's block.

use crate::home::Home;
use crate::pipeline::{Runtime, handle};
use std::io::{Read, Write};
use ward_clients::{MAX_PAYLOAD_BYTES, Reply};
use ward_core::{ClientKind, ErrorCode, WardError};

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
    let mut rt = Runtime::new(home, true);
    handle(&mut rt, client, &buf, event_hint).reply
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
