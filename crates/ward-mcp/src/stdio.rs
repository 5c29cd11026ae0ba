//! The stdio relay: the client's messages go to the server's stdin, the server's to the
//! client's stdout, line by line; a `tools/call` the decision refuses is answered in the
//! server's place and never reaches it. Lines are bounded, and a line that is not JSON, or a
//! call that cannot be read, is answered with an error instead of being passed on.

use crate::jsonrpc::{self, Inbound, ToolsCall};
use serde_json::Value;
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

/// Longest message accepted from the client (bytes, without the newline).
pub const MAX_LINE: usize = 8 << 20;

/// One line, at most `max` bytes: `Ok(None)` at end of input, `Ok(Some(Err(())))` for a line
/// that was too long (the rest of it is read and dropped).
pub fn read_line(r: &mut impl BufRead, max: usize) -> std::io::Result<Option<Result<Vec<u8>, ()>>> {
    let mut line = Vec::new();
    let mut too_long = false;
    let mut any = false;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(any.then_some(if too_long { Err(()) } else { Ok(line) }));
        }
        any = true;
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(buf.len());
        r.consume(used);
        if done.is_some() {
            return Ok(Some(if too_long { Err(()) } else { Ok(line) }));
        }
    }
}

/// Write one message and a newline, whole, to a shared writer.
fn send(out: &Mutex<Box<dyn Write + Send>>, bytes: &[u8]) -> std::io::Result<()> {
    let mut w = out
        .lock()
        .map_err(|_| std::io::Error::other("the client writer is poisoned"))?;
    w.write_all(bytes)?;
    w.write_all(b"\n")?;
    w.flush()
}

fn send_json(out: &Mutex<Box<dyn Write + Send>>, v: &Value) -> std::io::Result<()> {
    send(out, v.to_string().as_bytes())
}

/// The requests in flight whose answers ward looks at (id → method): listings, and the calls
/// it decided.
type Listing = Arc<Mutex<std::collections::HashMap<String, &'static str>>>;

fn note_lists(msg: &Value, listing: &Listing) {
    let items: Vec<&Value> = match msg {
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    for m in items {
        if let Some(method) = m.get("method").and_then(Value::as_str)
            && let Some(list) = jsonrpc::LISTS
                .iter()
                .chain(jsonrpc::DECIDED.iter())
                .find(|l| **l == method)
            && let Some(id) = m.get("id")
            && let Ok(mut l) = listing.lock()
        {
            l.insert(id.to_string(), list);
        }
    }
}

/// Relay until the client closes its side (then the server's stdin is closed) and the server's
/// output ends. `decide` answers `Ok(())` to pass a call on, `Err(reason)` to refuse it;
/// `on_answer` sees (and may edit) the server's answer to each `tools/list`, `prompts/list` and
/// `resources/list` before the client does, and each answer to a `tools/call`, `resources/read`
/// or `prompts/get` (named by the request's method).
pub fn relay(
    client_in: impl BufRead,
    client_out: Box<dyn Write + Send>,
    server_in: impl Write,
    server_out: impl BufRead + Send + 'static,
    mut decide: impl FnMut(&ToolsCall) -> Result<(), String>,
    mut on_list: impl FnMut(&str, &mut Value) + Send + 'static,
) -> std::io::Result<()> {
    let out: Arc<Mutex<Box<dyn Write + Send>>> = Arc::new(Mutex::new(client_out));
    let listing: Listing = Arc::default();
    let back = {
        let out = out.clone();
        let listing = listing.clone();
        std::thread::spawn(move || -> std::io::Result<()> {
            let mut server_out = server_out;
            // The server frames its own output; it is passed on line by line, untouched unless
            // it answers a `tools/list`.
            while let Some(line) = read_line(&mut server_out, usize::MAX)? {
                let Ok(bytes) = line else { continue };
                let answered = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
                    let id = v.get("id")?.to_string();
                    if v.get("method").is_some() {
                        return None;
                    }
                    let list = listing.lock().ok().and_then(|mut l| l.remove(&id))?;
                    Some((list, v))
                });
                match answered {
                    Some((list, mut v)) => {
                        on_list(list, &mut v);
                        send_json(&out, &v)?;
                    }
                    None => send(&out, &bytes)?,
                }
            }
            Ok(())
        })
    };
    let mut client_in = client_in;
    let mut server_in = server_in;
    while let Some(line) = read_line(&mut client_in, MAX_LINE)? {
        let Ok(bytes) = line else {
            send_json(
                &out,
                &jsonrpc::error(&Value::Null, -32600, "message too large for ward"),
            )?;
            continue;
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let msg: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) => {
                send_json(&out, &jsonrpc::error(&Value::Null, -32700, "parse error"))?;
                continue;
            }
        };
        note_lists(&msg, &listing);
        let forward = match &msg {
            Value::Array(items) => {
                // A batch (older protocol eras): decide each call; pass on what may pass.
                let mut kept = Vec::new();
                for item in items {
                    match judge(item, &mut decide) {
                        Ok(()) => kept.push(item.clone()),
                        Err(answer) => send_json(&out, &answer)?,
                    }
                }
                (!kept.is_empty()).then(|| Value::Array(kept).to_string().into_bytes())
            }
            single => match judge(single, &mut decide) {
                Ok(()) => Some(bytes),
                Err(answer) => {
                    send_json(&out, &answer)?;
                    None
                }
            },
        };
        if let Some(b) = forward {
            server_in.write_all(&b)?;
            server_in.write_all(b"\n")?;
            server_in.flush()?;
        }
    }
    drop(server_in);
    back.join()
        .map_err(|_| std::io::Error::other("the server relay panicked"))?
}

/// `Ok(())`: pass the message on; `Err(answer)`: answer it in the server's place.
fn judge(
    msg: &Value,
    decide: &mut impl FnMut(&ToolsCall) -> Result<(), String>,
) -> Result<(), Value> {
    match jsonrpc::classify(msg) {
        Inbound::Other => Ok(()),
        Inbound::BadCall { id, what } => Err(jsonrpc::error(&id, -32602, what)),
        Inbound::Call(call) => decide(&call).map_err(|why| jsonrpc::refused(&call, &why)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A server's output that starts once something was written to it.
    struct AfterRequest(Shared, std::io::Cursor<Vec<u8>>);
    impl std::io::Read for AfterRequest {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            while self.0.0.lock().unwrap().is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            self.1.read(buf)
        }
    }
    impl BufRead for AfterRequest {
        fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
            while self.0.0.lock().unwrap().is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            self.1.fill_buf()
        }
        fn consume(&mut self, n: usize) {
            self.1.consume(n)
        }
    }

    fn lines(b: &[u8]) -> Vec<Value> {
        String::from_utf8_lossy(b)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn refused_calls_never_reach_the_server_and_the_rest_passes_untouched() {
        let client = [
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"x": {"unknown": true}}}).to_string(),
            "not json".to_string(),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "ok", "arguments": {}}}).to_string(),
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "bad", "arguments": {}}}).to_string(),
            json!([{"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "bad"}}, {"jsonrpc": "2.0", "method": "notifications/x"}]).to_string(),
        ]
        .join("\n");
        let to_server = Shared::default();
        let to_client = Shared::default();
        let server_says = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n".to_vec();
        relay(
            std::io::Cursor::new(client.into_bytes()),
            Box::new(to_client.clone()),
            to_server.clone(),
            std::io::Cursor::new(server_says),
            |c| {
                if c.tool == "bad" {
                    Err("ward says no".into())
                } else {
                    Ok(())
                }
            },
            |_, _| {},
        )
        .unwrap();
        let sent = lines(&to_server.0.lock().unwrap());
        assert_eq!(sent.len(), 3, "{sent:?}");
        assert_eq!(
            sent[0]["params"]["x"]["unknown"], true,
            "unknown fields pass untouched"
        );
        assert_eq!(sent[1]["params"]["name"], "ok");
        assert_eq!(
            sent[2],
            json!([{"jsonrpc": "2.0", "method": "notifications/x"}])
        );
        let got = lines(&to_client.0.lock().unwrap());
        let refused: Vec<&Value> = got
            .iter()
            .filter(|v| v["result"]["isError"] == true)
            .collect();
        assert_eq!(refused.len(), 2, "{got:?}");
        assert!(got.iter().any(|v| v["error"]["code"] == -32700));
        assert!(got.iter().any(|v| v["id"] == 1 && v["result"] == json!({})));
    }

    #[test]
    fn answers_to_tools_list_are_shown_to_on_list_first() {
        let client = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list"}).to_string();
        let server_says = format!(
            "{}\n{}\n",
            json!({"jsonrpc": "2.0", "id": 9, "result": {"tools": [{"name": "a"}, {"name": "b"}]}}),
            json!({"jsonrpc": "2.0", "id": 10, "result": {"tools": [{"name": "untouched"}]}})
        );
        let to_client = Shared::default();
        let to_server = Shared::default();
        relay(
            std::io::Cursor::new(client.into_bytes()),
            Box::new(to_client.clone()),
            to_server.clone(),
            // A server answers only what it was asked: nothing before the request reached it.
            AfterRequest(to_server, std::io::Cursor::new(server_says.into_bytes())),
            |_| Ok(()),
            |list, v| {
                assert_eq!(list, "tools/list");
                if let Some(tools) = v["result"]["tools"].as_array_mut() {
                    tools.retain(|t| t["name"] != "b");
                }
            },
        )
        .unwrap();
        let got = lines(&to_client.0.lock().unwrap());
        assert_eq!(got[0]["result"]["tools"], json!([{"name": "a"}]));
        assert_eq!(
            got[1]["result"]["tools"],
            json!([{"name": "untouched"}]),
            "not an answer to a list"
        );
    }

    #[test]
    fn long_lines_are_cut_off_not_buffered() {
        let mut r = std::io::Cursor::new(b"aaaaaaaa\nbb\n".to_vec());
        assert_eq!(read_line(&mut r, 4).unwrap(), Some(Err(())));
        assert_eq!(read_line(&mut r, 4).unwrap(), Some(Ok(b"bb".to_vec())));
        assert_eq!(read_line(&mut r, 4).unwrap(), None);
    }

    proptest! {
        #[test]
        fn framing_never_panics_and_never_forwards_a_refused_call(input in proptest::collection::vec(any::<u8>(), 0..512)) {
            let to_server = Shared::default();
            let _ = relay(
                std::io::Cursor::new(input),
                Box::new(Shared::default()),
                to_server.clone(),
                std::io::Cursor::new(Vec::new()),
                |_| Err("no".into()),
                |_, _| {},
            );
            let sent = to_server.0.lock().unwrap().clone();
            for line in String::from_utf8_lossy(&sent).lines() {
                let v: Value = serde_json::from_str(line).unwrap();
                let text = v.to_string();
                prop_assert!(!text.contains("\"tools/call\""), "forwarded: {}", text);
            }
        }
    }
}
