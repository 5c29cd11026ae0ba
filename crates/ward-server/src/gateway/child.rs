//! One stdio MCP server run by the daemon: lines to its stdin, and its stdout sorted into
//! answers (to the request that asked, its id given back), progress (to the request whose
//! token it carries) and everything else the server says on its own (notifications, its
//! requests to the client), which goes to the session's listening stream or waits for one.

use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use ward_core::{ErrorCode, WardError};

/// Messages the server sent on its own while nobody listened, kept for the next listener.
const BACKLOG: usize = 256;
/// Where a 2026-07-28 subscription message names its `subscriptions/listen` request.
const SUBSCRIPTION: &str = "/params/_meta/io.modelcontextprotocol~1subscriptionId";
/// Messages queued for one request's answer stream (what comes before the answer is dropped
/// beyond this, so that a client that stopped reading never stalls the server's other answers).
const PER_REQUEST: usize = 64;
/// The longest line read from a server.
const MAX_LINE: usize = ward_mcp::stdio::MAX_LINE;

struct Pending {
    client_id: Value,
    progress: Option<String>,
    sink: mpsc::Sender<Value>,
}

#[derive(Default)]
struct Unsolicited {
    listener: Option<mpsc::Sender<Value>>,
    backlog: VecDeque<Value>,
}

/// A running stdio server.
pub struct ChildConn {
    tx: mpsc::Sender<Vec<u8>>,
    pending: Mutex<HashMap<String, Pending>>,
    unsolicited: Mutex<Unsolicited>,
    next: AtomicU64,
    closed: AtomicBool,
    child: Mutex<Option<Child>>,
}

fn gone() -> WardError {
    WardError::new(ErrorCode::Io, "the MCP server has exited")
}

impl ChildConn {
    /// Start `command` with `env` added to the daemon's environment.
    pub fn spawn(
        command: &[String],
        env: &[(String, String)],
        cwd: Option<&str>,
    ) -> Result<std::sync::Arc<ChildConn>, WardError> {
        let Some((program, args)) = command.split_first() else {
            return Err(WardError::new(
                ErrorCode::Config,
                "the server has no command",
            ));
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true);
        if let Some(d) = cwd {
            cmd.current_dir(d);
        }
        let mut child = cmd.spawn().map_err(|e| {
            WardError::new(
                ErrorCode::Io,
                format!("cannot start the MCP server `{program}`: {e}"),
            )
        })?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(WardError::new(ErrorCode::Io, "the MCP server has no pipes"));
        };
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(1024);
        let conn = std::sync::Arc::new(ChildConn {
            tx,
            pending: Mutex::new(HashMap::new()),
            unsolicited: Mutex::new(Unsolicited::default()),
            next: AtomicU64::new(1),
            closed: AtomicBool::new(false),
            child: Mutex::new(Some(child)),
        });
        tokio::spawn(async move {
            while let Some(mut line) = rx.recv().await {
                line.push(b'\n');
                if stdin.write_all(&line).await.is_err() || stdin.flush().await.is_err() {
                    break;
                }
            }
        });
        let reader = conn.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout);
            let mut buf = Vec::new();
            // A line over the bound is read to its end and dropped: a server cannot make the
            // daemon hold an unbounded message.
            let mut oversize = false;
            loop {
                buf.clear();
                let limit = MAX_LINE as u64 + 1;
                match (&mut lines).take(limit).read_until(b'\n', &mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let whole = buf.last() == Some(&b'\n');
                        if oversize || (!whole && buf.len() > MAX_LINE) {
                            oversize = !whole;
                            continue;
                        }
                        if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                            reader.dispatch(v);
                        }
                    }
                }
            }
            reader.close();
        });
        Ok(conn)
    }

    /// Route one message from the server.
    fn dispatch(&self, mut v: Value) {
        let is_answer = v.get("method").is_none() && v.get("id").is_some();
        if is_answer {
            let key = v.get("id").map(Value::to_string).unwrap_or_default();
            let p = self.pending.lock().ok().and_then(|mut m| m.remove(&key));
            if let Some(p) = p {
                if let Some(id) = v.get_mut("id") {
                    *id = p.client_id;
                }
                // The answer is never dropped, and never waited for here: a full stream gets it
                // once its reader catches up, while the server's other answers go on.
                if let Err(mpsc::error::TrySendError::Full(v)) = p.sink.try_send(v) {
                    tokio::spawn(async move {
                        let _ = p.sink.send(v).await;
                    });
                }
            }
            return;
        }
        // 2026-07-28: a subscription's messages name the `subscriptions/listen` request.
        if let Some(sub) = v.pointer(SUBSCRIPTION).map(Value::to_string) {
            let found = self
                .pending
                .lock()
                .ok()
                .and_then(|m| m.get(&sub).map(|p| (p.client_id.clone(), p.sink.clone())));
            if let Some((client_id, sink)) = found {
                if let Some(slot) = v.pointer_mut(SUBSCRIPTION) {
                    *slot = client_id;
                }
                let _ = sink.try_send(v);
                return;
            }
        }
        if v.get("method").and_then(Value::as_str) == Some("notifications/progress") {
            let token = v.pointer("/params/progressToken").map(Value::to_string);
            let sink = self.pending.lock().ok().and_then(|m| {
                m.values()
                    .find(|p| p.progress.is_some() && p.progress == token)
                    .map(|p| p.sink.clone())
            });
            if let Some(s) = sink {
                let _ = s.try_send(v);
                return;
            }
        }
        self.unsolicited_message(v);
    }

    /// A message the server sent on its own: to the listening stream, else to a request in
    /// flight (its stream is open), else kept for the next listener.
    fn unsolicited_message(&self, v: Value) {
        let listener = self
            .unsolicited
            .lock()
            .ok()
            .and_then(|u| u.listener.clone());
        if let Some(l) = listener {
            match l.try_send(v) {
                Ok(()) => return,
                // A listener that stopped reading keeps its messages waiting instead.
                Err(mpsc::error::TrySendError::Full(v)) => return self.keep(v),
                Err(mpsc::error::TrySendError::Closed(v)) => {
                    if let Ok(mut u) = self.unsolicited.lock() {
                        u.listener = None;
                    }
                    return self.keep(v);
                }
            }
        }
        let inflight = self
            .pending
            .lock()
            .ok()
            .and_then(|m| m.values().next().map(|p| p.sink.clone()));
        match inflight {
            Some(s) => {
                if let Err(
                    mpsc::error::TrySendError::Full(v) | mpsc::error::TrySendError::Closed(v),
                ) = s.try_send(v)
                {
                    self.keep(v);
                }
            }
            None => self.keep(v),
        }
    }

    fn keep(&self, v: Value) {
        if let Ok(mut u) = self.unsolicited.lock() {
            if u.backlog.len() >= BACKLOG {
                u.backlog.pop_front();
            }
            u.backlog.push_back(v);
        }
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let pending: Vec<Pending> = self
            .pending
            .lock()
            .map(|mut m| m.drain().map(|(_, p)| p).collect())
            .unwrap_or_default();
        for p in pending {
            let _ = p.sink.try_send(json!({"jsonrpc": "2.0", "id": p.client_id,
                "error": {"code": -32603, "message": "the MCP server has exited"}}));
        }
        if let Ok(mut u) = self.unsolicited.lock() {
            u.listener = None;
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Send a request; its answer (id given back) and the messages that belong to it arrive
    /// on the receiver, the answer last. Also returns the id the server knows it by.
    pub async fn request(
        &self,
        mut msg: Value,
    ) -> Result<(Value, mpsc::Receiver<Value>), WardError> {
        if self.is_closed() {
            return Err(gone());
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let wire = json!(format!("ward-{n}"));
        let client_id = msg.get("id").cloned().unwrap_or(Value::Null);
        let progress = msg
            .pointer("/params/_meta/progressToken")
            .map(Value::to_string);
        if let Some(id) = msg.get_mut("id") {
            *id = wire.clone();
        }
        let (sink, rx) = mpsc::channel(PER_REQUEST);
        if let Ok(mut m) = self.pending.lock() {
            m.insert(
                wire.to_string(),
                Pending {
                    client_id,
                    progress,
                    sink,
                },
            );
        }
        let bytes = serde_json::to_vec(&msg)
            .map_err(|e| WardError::new(ErrorCode::Io, format!("cannot encode a message: {e}")))?;
        if self.tx.send(bytes).await.is_err() {
            if let Ok(mut m) = self.pending.lock() {
                m.remove(&wire.to_string());
            }
            return Err(gone());
        }
        Ok((wire, rx))
    }

    /// The client stopped waiting for a request (it closed the stream): forget it and tell the
    /// server it is cancelled.
    pub fn abandon(&self, wire: &Value) {
        let was = self
            .pending
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&wire.to_string()));
        if was.is_some() && !self.is_closed() {
            let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": wire, "reason": "the client closed the stream"}});
            let _ = self.tx.try_send(note.to_string().into_bytes());
        }
    }

    /// Pass a notification or an answer to one of the server's requests.
    pub async fn send(&self, msg: &Value) -> Result<(), WardError> {
        if self.is_closed() {
            return Err(gone());
        }
        let bytes = serde_json::to_vec(msg)
            .map_err(|e| WardError::new(ErrorCode::Io, format!("cannot encode a message: {e}")))?;
        self.tx.send(bytes).await.map_err(|_| gone())
    }

    /// The id the server knows a client's request by (for `notifications/cancelled`).
    pub fn wire_id(&self, client_id: &Value) -> Option<Value> {
        let m = self.pending.lock().ok()?;
        m.iter()
            .find(|(_, p)| &p.client_id == client_id)
            .and_then(|(k, _)| serde_json::from_str(k).ok())
    }

    /// Become the listener for what the server says on its own; what waited is sent first.
    pub fn listen(&self) -> mpsc::Receiver<Value> {
        let (tx, rx) = mpsc::channel(BACKLOG);
        if let Ok(mut u) = self.unsolicited.lock() {
            while let Some(v) = u.backlog.pop_front() {
                if tx.try_send(v).is_err() {
                    break;
                }
            }
            u.listener = Some(tx);
        }
        rx
    }

    /// Stop the server.
    pub fn kill(&self) {
        if let Ok(mut c) = self.child.lock()
            && let Some(mut child) = c.take()
        {
            let _ = child.start_kill();
        }
        self.close();
    }
}
