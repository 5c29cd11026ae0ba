//! The MCP gateway's protocol side: newline-delimited JSON-RPC framing with a bound, the few
//! messages ward acts on (`tools/call`), and a stdio relay that passes everything else through
//! untouched. What a call is allowed to do is decided by the caller's callback.

pub mod http;
pub mod jsonrpc;
pub mod pins;
pub mod stdio;
