#!/usr/bin/env bash
# Where a slow commit comes from: a daemon on a fresh Postgres database (or SQLite with
# `sqlite`), settled for 3 s at RATE, then RUNS open-loop runs of D seconds with 32 callers on the
# unix socket. Per run: the load tool's p50/p99/max, the commits the daemon made and how many took
# over 5/10/25/50 ms (its `ward_audit_commit_seconds` histogram, read before and after), and the
# pages the kernel saw dirtied (/proc/vmstat nr_dirtied). Beside the runs, an fdatasync probe
# writes 8 KB and syncs a file of its own on the same disk 200 times a second and prints every
# sync over 20 ms, with its time: a stall that also holds the probe is the disk's, not ward's.
# Usage: scripts/probe-commit-stalls.sh [RATE] [D] [RUNS] [postgres|sqlite]   (2500 10 6 postgres)
# docs/PERFORMANCE.md quotes it ("the Postgres stalls, traced").
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-2500}
D=${2:-10}
RUNS=${3:-6}
STORE=${4:-postgres}
W=$PWD/target/release/ward
[ -x "$W" ] || { echo "probe-commit-stalls.sh: build first: cargo build --release" >&2; exit 1; }
ADMIN=${WARD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
tmp=$(mktemp -d /tmp/ward-probe.XXXXXX)
DB=""
cleanup() {
  [ -f "$tmp/pid" ] && kill "$(cat "$tmp/pid")" 2>/dev/null || true
  [ -f "$tmp/probe.pid" ] && kill "$(cat "$tmp/probe.pid")" 2>/dev/null || true
  sleep 0.5
  if [ -n "$DB" ]; then psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/home"
if [ "$STORE" = postgres ]; then
  DB=ward_probe_$$
  psql "$ADMIN" -qc "CREATE DATABASE $DB" >/dev/null
  export WARD_DATABASE_URL="${ADMIN%/*}/$DB"
fi
WARD_HOME=$tmp/home "$W" serve --listen 127.0.0.1:0 > "$tmp/out" 2> "$tmp/err" &
echo $! > "$tmp/pid"
for _ in $(seq 100); do grep -q "ward serve:" "$tmp/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\) .*|\1|p' "$tmp/out")
[ -n "$port" ] || { cat "$tmp/err" >&2; exit 1; }
WARD_HOME=$tmp/home "$W" bench --socket "$tmp/home/ward.sock" -c 32 -d 3 --rate "$RATE" --json > /dev/null

python3 - "$tmp/probe.dat" $((RUNS * (D + 1) + 2)) > "$tmp/probe.out" <<'EOF' &
import os, sys, time
path, secs = sys.argv[1], float(sys.argv[2])
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
os.ftruncate(fd, 16 << 20)
buf, off, start, n, worst = b"x" * 8192, 0, time.time(), 0, 0.0
while time.time() - start < secs:
    pause = start + n / 200 - time.time()
    if pause > 0:
        time.sleep(pause)
    t = time.perf_counter()
    os.pwrite(fd, buf, off)
    os.fdatasync(fd)
    took = time.perf_counter() - t
    worst = max(worst, took)
    if took > 0.02:
        print(f"fdatasync probe: {took * 1000:.0f} ms at {time.strftime('%H:%M:%S', time.localtime())}", flush=True)
    off, n = (off + 8192) % (16 << 20), n + 1
print(f"fdatasync probe: {n} syncs, slowest {worst * 1000:.1f} ms", flush=True)
EOF
echo $! > "$tmp/probe.pid"

for _ in $(seq "$RUNS"); do
  d0=$(awk '/^nr_dirtied /{print $2}' /proc/vmstat)
  curl -s "http://127.0.0.1:$port/metrics" > "$tmp/m0"
  t0=$(date +%T)
  res=$(WARD_HOME=$tmp/home "$W" bench --socket "$tmp/home/ward.sock" -c 32 -d "$D" --rate "$RATE" --json)
  t1=$(date +%T)
  curl -s "http://127.0.0.1:$port/metrics" > "$tmp/m1"
  d1=$(awk '/^nr_dirtied /{print $2}' /proc/vmstat)
  python3 - "$res" "$tmp/m0" "$tmp/m1" "$t0" "$t1" $(((d1 - d0) * 4 / 1024)) <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
def read(path):
    out = {}
    for line in open(path):
        if line.startswith("ward_audit_commit_seconds_bucket") or line.startswith("ward_audit_batch_events_count"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out
a, b = read(sys.argv[2]), read(sys.argv[3])
d = {k: b[k] - a.get(k, 0) for k in b}
total = d['ward_audit_commit_seconds_bucket{le="+Inf"}']
over = [int(total - d[f'ward_audit_commit_seconds_bucket{{le="{le}"}}']) for le in ("0.005", "0.01", "0.025", "0.05")]
print(f"{sys.argv[4]}–{sys.argv[5]}  {r['per_second']:.0f}/s  p50 {r['p50_us'] / 1000:.2f} ms  p99 {r['p99_us'] / 1000:.2f} ms  "
      f"max {r['max_us'] / 1000:.1f} ms  commits {int(d['ward_audit_batch_events_count'])}, over 5/10/25/50 ms: {over}  dirtied {sys.argv[6]} MB")
EOF
done
wait "$(cat "$tmp/probe.pid")" 2>/dev/null || true
rm -f "$tmp/probe.pid"
cat "$tmp/probe.out"
