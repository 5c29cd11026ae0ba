#!/usr/bin/env bash
# Bytes the daemon writes per group commit: `/proc/PID/io` write_bytes before and after
# `ward bench --socket -c C -d D`, divided by the commits the daemon's /metrics counted.
# Usage: scripts/serve-io-per-commit.sh [WARD_BIN] [C] [D]
set -euo pipefail
W=${1:-target/release/ward}; C=${2:-32}; D=${3:-6}
T=$(mktemp -d /tmp/ward-io.XXXXXX); mkdir -p "$T/h"
WARD_HOME=$T/h "$W" serve --listen 127.0.0.1:0 > "$T/out" 2> "$T/err" &
SP=$!
trap 'kill $SP 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 100); do grep -q "ward serve:" "$T/out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\) .*|\1|p' "$T/out")
before=$(awk '/^write_bytes/ {print $2}' "/proc/$SP/io")
rate=$(WARD_HOME=$T/h "$W" bench --socket "$T/h/ward.sock" -c "$C" -d "$D" --json | python3 -c "import json,sys; print(int(json.load(sys.stdin)['per_second']))")
after=$(awk '/^write_bytes/ {print $2}' "/proc/$SP/io")
commits=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^ward_audit_batch_events_count/ {print $2}')
events=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^ward_audit_batch_events_sum/ {print $2}')
echo "rate $rate/s, $commits commits of $events events, $(( (after - before) / commits / 1024 )) KB written per commit"
