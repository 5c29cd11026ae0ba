//! The MCP wrapper's framing and inspection on arbitrary client bytes: it must never panic, and
//! no `tools/call` the decision refuses may ever reach the server, whatever the framing (single
//! messages, batches, long or broken lines). Also the header-free body checks of `classify`.
//! Run: `cargo +nightly fuzz run --fuzz-dir fuzz mcp_framing -- -max_total_time=60`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(b);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let to_server = Shared::default();
    let _ = ward_mcp::stdio::relay(
        Cursor::new(data.to_vec()),
        Box::new(Shared::default()),
        to_server.clone(),
        Cursor::new(data.to_vec()),
        |_| Err("refused".into()),
        |_, _| {},
    );
    let sent = to_server.0.lock().map(|v| v.clone()).unwrap_or_default();
    for line in sent.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).expect("only JSON is forwarded");
        let items = match &v {
            serde_json::Value::Array(a) => a.clone(),
            one => vec![one.clone()],
        };
        for m in items {
            assert!(
                !matches!(ward_mcp::jsonrpc::classify(&m), ward_mcp::jsonrpc::Inbound::Call(_) | ward_mcp::jsonrpc::Inbound::BadCall { .. }),
                "a refused call reached the server: {m}"
            );
        }
    }
});
