#![no_main]
//! The gateway's Streamable HTTP checks: whatever the headers and body, `check` never panics,
//! a body it accepts as the stateless era really carries matching headers, and the SSE reader
//! never panics or yields an event over its bound.

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use ward_mcp::http::{Era, Headers, SseReader, check, decode_name, name_of};

fuzz_target!(|data: &[u8]| {
    // Three header values and a body, split on the first three 0xff bytes.
    let mut parts = data.splitn(4, |b| *b == 0xff);
    let (v, m, n, body) = (parts.next(), parts.next(), parts.next(), parts.next());
    fn s(p: Option<&[u8]>) -> Option<&str> {
        p.and_then(|b| std::str::from_utf8(b).ok())
    }
    let h = Headers {
        protocol_version: s(v),
        method: s(m),
        name: s(n),
    };
    if let Some(body) = body
        && let Ok(msg) = serde_json::from_slice::<Value>(body)
        && let Ok(Era::Modern(version)) = check(&h, &msg)
    {
        assert_eq!(h.protocol_version, Some(version.as_str()));
        assert!(!msg.is_array(), "a batch passed as the stateless era");
        if let Some(method) = msg.get("method").and_then(Value::as_str) {
            assert_eq!(h.method, Some(method), "Mcp-Method disagrees");
            if let Some(want) = name_of(&msg) {
                assert_eq!(h.name.and_then(decode_name).as_deref(), Some(want));
            }
        }
    }
    let mut r = SseReader::new(64);
    for chunk in data.chunks(7) {
        match r.feed(chunk) {
            Ok(events) => {
                for e in events {
                    assert!(e.data.len() <= 64, "an event over the bound");
                }
            }
            Err(_) => break,
        }
    }
});
