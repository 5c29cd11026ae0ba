#!/usr/bin/env python3
"""A `tools/call` through `ward mcp wrap` against the same server called directly, side by side.

Usage: scripts/bench-mcp-wrap.py [WARD_BIN] [CALLS] [daemon]   (defaults: target/release/ward, 500)

With `daemon`, a `ward serve` runs in the temporary home first, so the wrapper decides through it
(over its unix socket, events in its group commits) as it does wherever a daemon serves the home.

Starts the npm reference server `server-everything` twice (from $WARD_MCP_NPM, default
/tmp/ward-mcp-npm, as scripts/test.sh installs it): once bare, once behind `ward mcp wrap` in a
fresh temporary $WARD_HOME. Initializes both, then sends CALLS `echo` calls to each,
alternating, and prints the round-trip percentiles of both and what the wrapper adds at p50.
docs/PERFORMANCE.md quotes it.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ward = sys.argv[1] if len(sys.argv) > 1 else "target/release/ward"
calls = int(sys.argv[2]) if len(sys.argv) > 2 else 500
with_daemon = len(sys.argv) > 3 and sys.argv[3] == "daemon"
npm = os.environ.get("WARD_MCP_NPM", "/tmp/ward-mcp-npm")
server = os.path.join(npm, "node_modules/@modelcontextprotocol/server-everything/dist/index.js")
if not os.path.exists(server):
    sys.exit(f"{server} is missing: run scripts/test.sh (it installs the MCP reference servers)")


class Peer:
    def __init__(self, argv, env):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=env)
        self.next = 0

    def call(self, method, params):
        self.next += 1
        msg = {"jsonrpc": "2.0", "id": self.next, "method": method, "params": params}
        self.p.stdin.write((json.dumps(msg) + "\n").encode())
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            if not line:
                sys.exit(f"{method}: the server closed its output")
            v = json.loads(line)
            if v.get("id") == self.next:
                return v

    def close(self):
        self.p.kill()
        self.p.wait()


with tempfile.TemporaryDirectory() as home:
    env = dict(os.environ, WARD_HOME=home)
    subprocess.run([ward, "init"], stdout=subprocess.DEVNULL, env=env, check=True)
    daemon = None
    if with_daemon:
        daemon = subprocess.Popen([ward, "serve", "--listen", "127.0.0.1:0"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        daemon.stdout.readline()  # it prints its addresses once it is ready
    bare = Peer(["node", server, "stdio"], env)
    wrapped = Peer([ward, "mcp", "wrap", "--name", "everything", "--", "node", server, "stdio"], env)
    for peer in (bare, wrapped):
        peer.call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                 "clientInfo": {"name": "bench", "version": "1"}})
        peer.call("tools/list", {})
    times = {"bare": [], "wrapped": []}
    for i in range(calls):
        for name, peer in (("bare", bare), ("wrapped", wrapped)) if i % 2 == 0 else \
                (("wrapped", wrapped), ("bare", bare)):
            t = time.perf_counter()
            r = peer.call("tools/call", {"name": "echo", "arguments": {"message": f"m{i}"}})
            times[name].append(time.perf_counter() - t)
            if "result" not in r or r["result"].get("isError"):
                sys.exit(f"{name}: {r}")
    bare.close()
    wrapped.close()
    if daemon is not None:
        daemon.terminate()
        daemon.wait()


def q(a, f):
    a = sorted(a)
    return a[min(len(a) - 1, int(len(a) * f))] * 1e3


for name in ("bare", "wrapped"):
    t = times[name]
    print(f"{name:8} p50 {q(t, .5):.3f} ms  p90 {q(t, .9):.3f} ms  p99 {q(t, .99):.3f} ms")
print(f"added at p50: {q(times['wrapped'], .5) - q(times['bare'], .5):.3f} ms")
