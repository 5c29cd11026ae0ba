"""A small MCP server on the official Python SDK (PyPI `mcp`), which speaks both protocol eras,
for ward's gateway tests.

    sdk_server.py stdio | sdk_server.py http PORT | sdk_server.py https PORT CERT KEY

Tools: `add(a, b)`, `whoami()` (the UPSTREAM_TOKEN variable it was started with, or the
Authorization header it was sent, hashed: so a test can tell which credential reached it without
printing it), `read_note(path)`.
"""

import base64
import hashlib
import json
import os
import sys

from mcp.server.mcpserver import Context, MCPServer

mcp = MCPServer("sdk-test")


@mcp.tool()
def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


@mcp.tool()
def whoami(ctx: Context) -> str:
    """Which credential the server was given: for a JWT bearer its audience, task and id (read,
    not verified); otherwise a hash of the Authorization header over HTTP, or of the
    UPSTREAM_TOKEN variable over stdio."""
    headers = ctx.headers or {}
    token = headers.get("authorization") or os.environ.get("UPSTREAM_TOKEN", "")
    parts = token.removeprefix("Bearer ").split(".")
    if len(parts) == 3:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return f"jwt aud={claims.get('aud')} task={claims.get('task')} jti={claims.get('jti')}"
    return hashlib.sha256(token.encode()).hexdigest() if token else "none"


@mcp.tool()
def read_note(path: str) -> str:
    """Read a note file."""
    with open(path) as f:
        return f.read()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "http":
        mcp.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]), stateless_http=False)
    elif len(sys.argv) > 4 and sys.argv[1] == "https":
        import uvicorn

        app = mcp.streamable_http_app(host="127.0.0.1")
        uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), ssl_certfile=sys.argv[3],
                    ssl_keyfile=sys.argv[4], log_level="warning")
    else:
        mcp.run("stdio")
