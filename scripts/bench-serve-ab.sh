#!/usr/bin/env bash
# Two `ward` binaries side by side in one run: each serves a fresh temporary home and is driven
# by its own `ward bench` (C callers, D seconds) on the unix socket and over HTTP.
# Usage: scripts/bench-serve-ab.sh BIN_A BIN_B [C] [D] [-- extra `ward serve` args, e.g. --bench-no-audit]
# docs/PERFORMANCE.md quotes it for before/after comparisons made within one run.
set -euo pipefail
A=$1; B=$2; shift 2
C=32; D=6
if [ $# -gt 0 ] && [ "$1" != "--" ]; then C=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" != "--" ]; then D=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then shift; fi
run() { # bin label [serve args]
  local W=$1 label=$2 T SP PORT TOKEN s h
  shift 2
  T=$(mktemp -d /tmp/ward-ab.XXXXXX); mkdir -p "$T/h"
  WARD_HOME=$T/h "$W" serve --listen 127.0.0.1:0 "$@" > "$T/out" 2> "$T/err" &
  SP=$!
  for _ in $(seq 100); do grep -q "ward serve:" "$T/out" 2>/dev/null && break; sleep 0.1; done
  PORT=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\) .*|\1|p' "$T/out")
  TOKEN=$(WARD_HOME=$T/h "$W" hook token bench | tail -1)
  s=$(WARD_HOME=$T/h "$W" bench --socket "$T/h/ward.sock" -c "$C" -d "$D" --json | python3 -c "import json,sys; print(int(json.load(sys.stdin)['per_second']))")
  h=$(WARD_HOME=$T/h "$W" bench --http "http://127.0.0.1:$PORT" --token "$TOKEN" -c "$C" -d "$D" --json | python3 -c "import json,sys; print(int(json.load(sys.stdin)['per_second']))")
  echo "$label socket $s/s http $h/s"
  kill "$SP"; wait "$SP" 2>/dev/null || true; rm -rf "$T"
}
run "$A" A "$@"
run "$B" B "$@"
