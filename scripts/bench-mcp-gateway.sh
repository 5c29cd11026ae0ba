#!/usr/bin/env bash
# Throughput and latency of the MCP gateway of `ward serve`, as docs/PERFORMANCE.md reports them:
# `tools/call echo` on /mcp/everything (the npm reference server as a stdio child, one per client
# session) with C callers for D seconds over S sessions, with durable audit (a decision and a
# result event per call) and, in the same run, with the audit sink disabled.
# Usage: scripts/bench-mcp-gateway.sh [C] [D] [S]     (defaults 16 callers, 10 s, 2 sessions)
# Needs a release build (cargo build --release) and the npm servers scripts/test.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:-16}
D=${2:-10}
S=${3:-2}
W=$PWD/target/release/ward
[ -x "$W" ] || { echo "bench-mcp-gateway.sh: build first: cargo build --release" >&2; exit 1; }
NPM=${WARD_MCP_NPM:-/tmp/ward-mcp-npm}
SERVER=$NPM/node_modules/@modelcontextprotocol/server-everything/dist/index.js
[ -f "$SERVER" ] || { echo "bench-mcp-gateway.sh: $SERVER is missing: run scripts/test.sh" >&2; exit 1; }
tmp=$(mktemp -d /tmp/ward-mcp-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

run() { # name, extra serve args...
  local name=$1; shift
  local home=$tmp/$name
  mkdir -p "$home"
  printf '[mcp.servers.everything]\ncommand = ["node", "%s", "stdio"]\n' "$SERVER" > "$home/ward.toml"
  local token
  token=$(WARD_HOME=$home "$W" hook token bench | tail -1)
  WARD_HOME=$home "$W" serve --listen 127.0.0.1:0 "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" &
  pids+=($!)
  local port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/$name.out")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$tmp/$name.err" >&2; exit 1; }
  echo "== $name"
  WARD_HOME=$home "$W" bench --http "http://127.0.0.1:$port" --token "$token" --mcp everything \
    -c "$C" -d "$D" --sessions "$S"
}
run durable
run no-audit --bench-no-audit
