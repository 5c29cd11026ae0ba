#!/usr/bin/env bash
# Throughput and latency of `ward serve`, as docs/PERFORMANCE.md reports them:
#   for each store (SQLite with durable audit, SQLite with the audit sink disabled, Postgres with
#   durable audit) and each transport (unix socket hook, HTTP /v1/decide): closed-loop
#   throughput with C callers for D seconds, then p99 latency at half that rate after 3 s of
#   settling at it (open loop; "of
#   which late" is how late the load tool itself sent, p99, which that latency includes), then
#   p99 at half the issue's target rate (5000/s on SQLite, 2500/s on Postgres), settled the same.
#   "daemon p99 / max" are the bounds of the daemon's own `ward_decision_seconds` buckets that
#   hold the 99th percentile and the slowest decision of that run (from /metrics before and
#   after it): what the daemon measured, without the transport and the load tool. A stall holds
#   at most one request per caller in the daemon, but every request a caller then sends late, so
#   it shows in the daemon's max, not its p99.
# Usage: scripts/bench-serve.sh [C] [D]     (defaults 32 callers, 10 s)
# Needs a release build (cargo build --release) and, for the Postgres rows, a server at
# WARD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:-32}
D=${2:-10}
W=$PWD/target/release/ward
[ -x "$W" ] || { echo "bench-serve.sh: build first: cargo build --release" >&2; exit 1; }
ADMIN=${WARD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
tmp=$(mktemp -d /tmp/ward-bench.XXXXXX)
# A daemon is started inside `$(start …)`, a subshell: its pid goes in a file, not a variable.
stop() { # name: stop that daemon and wait for it to exit
  local pid
  pid=$(cat "$tmp/$1.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$tmp/$1.pid"
}
cleanup() {
  for f in "$tmp"/*.pid; do [ -f "$f" ] && stop "$(basename "$f" .pid)"; done
  rm -rf "$tmp"
  if [ -n "${PGDB:-}" ]; then psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

start() { # name, extra args...; prints the port
  local name=$1; shift
  mkdir -p "$tmp/$name"
  WARD_HOME=$tmp/$name "$W" serve --listen 127.0.0.1:0 "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" &
  echo $! > "$tmp/$name.pid"
  for _ in $(seq 100); do
    grep -q "ward serve:" "$tmp/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  sed -n 's|.*http://127.0.0.1:\([0-9]*\) .*|\1|p' "$tmp/$name.out"
}

measure() { # name, port, half the target rate, extra env
  local name=$1 port=$2 goal=$3 token
  shift 3
  token=$(WARD_HOME=$tmp/$name "$@" "$W" hook token bench | tail -1)
  for target in socket http; do
    if [ "$target" = socket ]; then args=(--socket "$tmp/$name/ward.sock"); else args=(--http "http://127.0.0.1:$port" --token "$token"); fi
    full=$(WARD_HOME=$tmp/$name "$W" bench "${args[@]}" -c "$C" -d "$D" --json)
    rps=$(python3 -c "import json,sys; print(int(json.loads(sys.argv[1])['per_second']))" "$full")
    # Settle at the half rate first (3 s, not counted): right after the saturating run the
    # machine is still flushing what it wrote, and the latency asked for is the steady state's.
    WARD_HOME=$tmp/$name "$W" bench "${args[@]}" -c "$C" -d 3 --rate $((rps / 2)) --json > /dev/null
    curl -s "http://127.0.0.1:$port/metrics" > "$tmp/m0"
    half=$(WARD_HOME=$tmp/$name "$W" bench "${args[@]}" -c "$C" -d "$D" --rate $((rps / 2)) --json)
    curl -s "http://127.0.0.1:$port/metrics" > "$tmp/m1"
    WARD_HOME=$tmp/$name "$W" bench "${args[@]}" -c "$C" -d 3 --rate "$goal" --json > /dev/null
    curl -s "http://127.0.0.1:$port/metrics" > "$tmp/m2"
    at=$(WARD_HOME=$tmp/$name "$W" bench "${args[@]}" -c "$C" -d "$D" --rate "$goal" --json)
    curl -s "http://127.0.0.1:$port/metrics" > "$tmp/m3"
    python3 - "$name" "$target" "$full" "$half" "$at" "$tmp" <<'EOF'
import json, sys
name, target = sys.argv[1], sys.argv[2]
full, half, at = (json.loads(a) for a in sys.argv[3:6])
tmp = sys.argv[6]

def buckets(path):
    out = []
    for line in open(path):
        if line.startswith('ward_decision_seconds_bucket{le="'):
            le, n = line.split('"')[1], float(line.rsplit(' ', 1)[1])
            out.append((float('inf') if le == '+Inf' else float(le), n))
    return out

def daemon(before, after):
    b = buckets(f"{tmp}/{before}")
    a = buckets(f"{tmp}/{after}")
    d = [(le, n - m) for (le, n), (_, m) in zip(a, b)]
    total = d[-1][1]
    show = lambda le: "> 5 s" if le == float('inf') else f"≤ {le * 1000:g} ms"
    p99 = next(le for le, n in d if n >= 0.99 * total)
    top = next(le for le, n in d if n >= total)
    return f"{show(p99)} / {show(top)}"

print(f"| {name} | {target} | {full['per_second']:.0f}/s | {full['p50_us']/1000:.2f} ms | {full['p99_us']/1000:.2f} ms "
      f"| {half['per_second']:.0f}/s | {half['p50_us']/1000:.2f} ms | {half['p99_us']/1000:.2f} ms | {half['late_p99_us']/1000:.2f} ms | {daemon('m0', 'm1')} "
      f"| {at['per_second']:.0f}/s | {at['p50_us']/1000:.2f} ms | {at['p99_us']/1000:.2f} ms | {daemon('m2', 'm3')} "
      f"| {full['errors'] + half['errors'] + at['errors']} |")
EOF
  done
}

echo "| store | transport | max rate | p50 | p99 | half rate | p50 | p99 | of which late, p99 | daemon p99 / max | half the target | p50 | p99 | daemon p99 / max | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
p=$(start sqlite)
measure sqlite "$p" 5000
stop sqlite
p=$(start sqlite-no-audit --bench-no-audit)
measure sqlite-no-audit "$p" 5000
stop sqlite-no-audit
if psql "$ADMIN" -qAtc 'select 1' >/dev/null 2>&1; then
  PGDB=ward_bench_$$
  psql "$ADMIN" -qc "CREATE DATABASE $PGDB" >/dev/null
  url="${ADMIN%/*}/$PGDB"
  p=$(WARD_DATABASE_URL=$url start postgres)
  measure postgres "$p" 2500 env WARD_DATABASE_URL="$url"
  stop postgres
else
  echo "bench-serve.sh: no Postgres at $ADMIN; skipping its rows" >&2
fi
