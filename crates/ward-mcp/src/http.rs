//! Streamable HTTP, the parts that need no socket: which protocol era a POST speaks, the
//! 2026-07-28 rule that the `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers must
//! say what the body says, and Server-Sent Events framing in both directions.

use base64::Engine as _;
use serde_json::Value;

/// Protocol revisions of the initialize/session era.
pub const LEGACY_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
/// Protocol revisions of the stateless era (`_meta` on every request, `server/discover`).
pub const MODERN_VERSIONS: [&str; 1] = ["2026-07-28"];
/// The `_meta` key that carries a stateless request's protocol version.
pub const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";

/// JSON-RPC code for headers that disagree with the body (2026-07-28).
pub const HEADER_MISMATCH: i64 = -32020;
/// JSON-RPC code for a protocol version this gateway does not speak (2026-07-28).
pub const UNSUPPORTED_VERSION: i64 = -32022;

/// Which era a POST belongs to, with its protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Era {
    /// initialize/session: `Mcp-Session-Id`, server-to-client requests, SSE streams.
    Legacy(String),
    /// stateless: every request carries its version in `_meta`.
    Modern(String),
}

/// The headers the check reads (`None`: absent or not visible ASCII).
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    pub protocol_version: Option<&'a str>,
    pub method: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// A POST that must be refused with `400` and this JSON-RPC error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderError {
    pub code: i64,
    pub message: String,
}

fn mismatch(message: String) -> HeaderError {
    HeaderError {
        code: HEADER_MISMATCH,
        message,
    }
}

fn known(v: &str) -> bool {
    LEGACY_VERSIONS.contains(&v) || MODERN_VERSIONS.contains(&v)
}

fn unsupported(v: &str) -> HeaderError {
    HeaderError {
        code: UNSUPPORTED_VERSION,
        message: format!(
            "protocol version `{v}` is not supported; supported: {}, {}",
            LEGACY_VERSIONS.join(", "),
            MODERN_VERSIONS.join(", ")
        ),
    }
}

/// Decode an `Mcp-Name` value: plain ASCII as is, `=?base64?…?=` as UTF-8.
pub fn decode_name(header: &str) -> Option<String> {
    match header
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        None => Some(header.to_string()),
    }
}

/// What `Mcp-Name` must say for a message: the tool or prompt name, or the resource URI.
pub fn name_of(msg: &Value) -> Option<&str> {
    let params = msg.get("params")?;
    match msg.get("method")?.as_str()? {
        "tools/call" | "prompts/get" => params.get("name")?.as_str(),
        "resources/read" => params.get("uri")?.as_str(),
        _ => None,
    }
}

/// The era of one POSTed body and whether its headers agree with it. A body of the stateless
/// era must carry `Mcp-Method` (equal to its method), `Mcp-Name` where the method names a
/// tool, prompt or resource, and an `MCP-Protocol-Version` equal to its `_meta` version;
/// batches belong to the session era only. An unknown version is refused, since the checks a
/// version needs cannot be known.
pub fn check(h: &Headers, body: &Value) -> Result<Era, HeaderError> {
    if let Some(v) = h.protocol_version
        && !known(v)
    {
        return Err(unsupported(v));
    }
    let meta = match body {
        Value::Array(_) => None,
        one => one
            .pointer("/params/_meta")
            .and_then(|m| m.get(META_VERSION))
            .map(|v| v.as_str().ok_or_else(|| unsupported(&v.to_string())))
            .transpose()?,
    };
    let modern = meta.is_some_and(|v| MODERN_VERSIONS.contains(&v))
        || h.protocol_version
            .is_some_and(|v| MODERN_VERSIONS.contains(&v));
    if !modern {
        if let Some(v) = meta
            && !known(v)
        {
            return Err(unsupported(v));
        }
        return Ok(Era::Legacy(
            h.protocol_version.unwrap_or("2025-03-26").to_string(),
        ));
    }
    if body.is_array() {
        return Err(mismatch(
            "batches are not part of the 2026-07-28 protocol".into(),
        ));
    }
    let version = match (h.protocol_version, meta) {
        (Some(hv), Some(mv)) if hv == mv => hv,
        (Some(hv), Some(mv)) => {
            return Err(mismatch(format!(
                "MCP-Protocol-Version says `{hv}` but the request's _meta says `{mv}`"
            )));
        }
        // A response or notification has no `_meta` version of its own.
        (Some(hv), None) if body.get("method").is_none() || body.get("id").is_none() => hv,
        (Some(_), None) => {
            return Err(mismatch(format!(
                "a 2026-07-28 request needs `_meta[\"{META_VERSION}\"]`"
            )));
        }
        (None, _) => {
            return Err(mismatch(
                "a 2026-07-28 request needs the MCP-Protocol-Version header".into(),
            ));
        }
    };
    if let Some(method) = body.get("method").and_then(Value::as_str) {
        match h.method {
            Some(m) if m == method => {}
            Some(m) => {
                return Err(mismatch(format!(
                    "Mcp-Method says `{m}` but the body's method is `{method}`"
                )));
            }
            None => {
                return Err(mismatch(format!(
                    "the Mcp-Method header is missing (the body's method is `{method}`)"
                )));
            }
        }
        if let Some(want) = name_of(body) {
            match h.name.map(decode_name) {
                Some(Some(n)) if n == want => {}
                Some(Some(n)) => {
                    return Err(mismatch(format!(
                        "Mcp-Name says `{n}` but the body names `{want}`"
                    )));
                }
                Some(None) => {
                    return Err(mismatch("Mcp-Name is not valid `=?base64?…?=`".into()));
                }
                None => {
                    return Err(mismatch(format!(
                        "the Mcp-Name header is missing (the body names `{want}`)"
                    )));
                }
            }
        } else if matches!(method, "tools/call" | "prompts/get" | "resources/read") {
            return Err(mismatch(format!("`{method}` names nothing in its params")));
        }
    } else if h.method.is_some() && body.get("id").is_none() {
        return Err(mismatch(
            "Mcp-Method on a message that is not a request".into(),
        ));
    }
    Ok(Era::Modern(version.to_string()))
}

/// One Server-Sent Event carrying a JSON-RPC message.
pub fn sse_event(id: Option<&str>, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + 32);
    if let Some(id) = id {
        out.push_str("id: ");
        out.push_str(id);
        out.push('\n');
    }
    out.push_str("event: message\n");
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
        out.push('\n');
    }
    out.push('\n');
    out
}

/// One event read from an upstream's SSE stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// An incremental SSE reader with a bound on one event's size.
#[derive(Debug, Default)]
pub struct SseReader {
    buf: Vec<u8>,
    current: SseEvent,
    has_data: bool,
    max: usize,
}

impl SseReader {
    pub fn new(max_event: usize) -> SseReader {
        SseReader {
            max: max_event,
            ..SseReader::default()
        }
    }

    /// Feed bytes; the events they complete, or `Err` when one event grows past the bound.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, String> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=i).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line);
            if line.is_empty() {
                if self.has_data {
                    out.push(std::mem::take(&mut self.current));
                } else {
                    self.current = SseEvent::default();
                }
                self.has_data = false;
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line.as_ref(), ""),
            };
            match field {
                "data" => {
                    if self.has_data {
                        self.current.data.push('\n');
                    }
                    self.current.data.push_str(value);
                    self.has_data = true;
                }
                "id" => self.current.id = Some(value.to_string()),
                "event" => self.current.event = Some(value.to_string()),
                _ => {}
            }
            if self.current.data.len() > self.max {
                return Err(format!("an event is over {} bytes", self.max));
            }
        }
        if self.buf.len() > self.max {
            return Err(format!("a line is over {} bytes", self.max));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use serde_json::json;

    fn call(name: &str, version: &str) -> Value {
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": name, "arguments": {}, "_meta": {META_VERSION: version}}})
    }

    #[test]
    fn modern_headers_must_match_the_body() {
        let h = Headers {
            protocol_version: Some("2026-07-28"),
            method: Some("tools/call"),
            name: Some("get_weather"),
        };
        assert_eq!(
            check(&h, &call("get_weather", "2026-07-28")),
            Ok(Era::Modern("2026-07-28".into()))
        );
        for (h2, body) in [
            (
                Headers {
                    name: Some("delete_all"),
                    ..h
                },
                call("get_weather", "2026-07-28"),
            ),
            (
                Headers {
                    method: Some("tools/list"),
                    ..h
                },
                call("get_weather", "2026-07-28"),
            ),
            (
                Headers { method: None, ..h },
                call("get_weather", "2026-07-28"),
            ),
            (
                Headers { name: None, ..h },
                call("get_weather", "2026-07-28"),
            ),
            (
                Headers {
                    protocol_version: None,
                    ..h
                },
                call("get_weather", "2026-07-28"),
            ),
        ] {
            assert_eq!(check(&h2, &body).unwrap_err().code, HEADER_MISMATCH);
        }
        // The body says legacy but the header says modern: the request needs its _meta.
        let bare = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        assert_eq!(
            check(
                &Headers {
                    protocol_version: Some("2026-07-28"),
                    method: Some("tools/list"),
                    name: None
                },
                &bare
            )
            .unwrap_err()
            .code,
            HEADER_MISMATCH
        );
    }

    #[test]
    fn non_ascii_names_travel_in_base64() {
        let h = Headers {
            protocol_version: Some("2026-07-28"),
            method: Some("tools/call"),
            name: Some("=?base64?d2V0dGVyX8O8YmVyYWxs?="),
        };
        assert!(check(&h, &call("wetter_überall", "2026-07-28")).is_ok());
        assert_eq!(decode_name("=?base64?!!?="), None);
    }

    #[test]
    fn versions_are_known_or_refused() {
        let legacy = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        assert_eq!(
            check(&Headers::default(), &legacy),
            Ok(Era::Legacy("2025-03-26".into()))
        );
        let h = Headers {
            protocol_version: Some("2025-11-25"),
            ..Headers::default()
        };
        assert_eq!(check(&h, &legacy), Ok(Era::Legacy("2025-11-25".into())));
        let h = Headers {
            protocol_version: Some("2099-01-01"),
            ..Headers::default()
        };
        assert_eq!(check(&h, &legacy).unwrap_err().code, UNSUPPORTED_VERSION);
        assert_eq!(
            check(&Headers::default(), &call("x", "2099-01-01"))
                .unwrap_err()
                .code,
            UNSUPPORTED_VERSION
        );
    }

    #[test]
    fn sse_round_trips() {
        let framed = sse_event(Some("7"), "{\"a\":1}\n{\"b\":2}");
        let mut r = SseReader::new(1 << 20);
        let mut got = Vec::new();
        for b in framed.as_bytes().chunks(3) {
            got.extend(r.feed(b).unwrap());
        }
        assert_eq!(
            got,
            vec![SseEvent {
                id: Some("7".into()),
                event: Some("message".into()),
                data: "{\"a\":1}\n{\"b\":2}".into()
            }]
        );
        let mut small = SseReader::new(8);
        assert!(small.feed(b"data: 0123456789\n").is_err());
    }
}
