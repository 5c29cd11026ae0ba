//! Where the tests find their MCP peers: the npm packages scripts/test.sh installs into
//! `$WARD_MCP_NPM` (default /tmp/ward-mcp-npm), and the Python SDK scripts in tests/mcp/.

use std::path::PathBuf;

/// The npm install the MCP tests use.
pub fn npm_root() -> PathBuf {
    PathBuf::from(std::env::var("WARD_MCP_NPM").unwrap_or_else(|_| "/tmp/ward-mcp-npm".into()))
}

/// The entry point of an npm reference server (`server-filesystem`, `server-everything`).
pub fn npm_server(package: &str) -> PathBuf {
    let p = npm_root()
        .join("node_modules/@modelcontextprotocol")
        .join(package)
        .join("dist/index.js");
    assert!(
        p.exists(),
        "{} is missing: run scripts/test.sh, which installs the MCP reference servers",
        p.display()
    );
    p
}
