#!/usr/bin/env python3
"""`ward hook claude-code` as a whole process against `ward --version`, interleaved.

Usage: scripts/bench-hook-process.py [WARD_BIN] [PAIRS] [session|daemon]
       (defaults: target/release/ward, 300)

Runs `--version` and one hook (a Claude Code PreToolUse payload for `git status --short`)
alternately PAIRS times in a fresh temporary $WARD_HOME and prints percentiles of both and the
ratio of the medians. With `session`, a SessionStart opens the session's task first, so every
timed call also finds and records its task. With `daemon`, `ward serve` runs for the home, so
every hook asks it over the unix socket (the log is checked to hold every call afterwards). docs/PERFORMANCE.md quotes it beside criterion's mean.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ward = sys.argv[1] if len(sys.argv) > 1 else "target/release/ward"
pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 300
session = len(sys.argv) > 3 and sys.argv[3] == "session"
daemon = len(sys.argv) > 3 and sys.argv[3] == "daemon"
payload = json.dumps({
    "session_id": "bench", "transcript_path": "/tmp/t.jsonl", "cwd": "/tmp",
    "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Bash",
    "tool_input": {"command": "git status --short"}, "tool_use_id": "toolu_bench",
}).encode()


def timed(args, stdin=b""):
    t = time.perf_counter()
    done = subprocess.run(args, input=stdin, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} exited {done.returncode}")
    return elapsed


with tempfile.TemporaryDirectory() as home:
    os.environ["WARD_HOME"] = home
    subprocess.run([ward, "init"], stdout=subprocess.DEVNULL, check=True)
    served = None
    if daemon:
        served = subprocess.Popen([ward, "serve", "--listen", "127.0.0.1:0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if b"ward serve:" not in (served.stdout.readline() if served.stdout else b""):
            sys.exit("ward serve did not start")
    if session:
        start = json.dumps({"session_id": "bench", "transcript_path": "/tmp/t.jsonl",
                            "cwd": "/tmp", "hook_event_name": "SessionStart",
                            "source": "startup"}).encode()
        subprocess.run([ward, "hook", "claude-code"], input=start,
                       stdout=subprocess.DEVNULL, check=True)
    version, hook = [], []
    for _ in range(pairs):
        version.append(timed([ward, "--version"]))
        hook.append(timed([ward, "hook", "claude-code"], payload))
    version.sort()
    hook.sort()
    if served:
        served.terminate()
        served.wait()
        log = subprocess.run([ward, "audit", "verify"], capture_output=True, text=True).stdout
        if f" {pairs} events" not in log:
            sys.exit(f"the daemon's log does not hold the {pairs} calls: {log.strip()}")

    def q(a, f):
        return a[min(len(a) - 1, int(len(a) * f))] * 1e3

    print(f"ward --version       p50 {q(version, .5):.2f} ms")
    print(f"ward hook claude-code p10 {q(hook, .1):.2f}  p50 {q(hook, .5):.2f}  "
          f"p90 {q(hook, .9):.2f}  p99 {q(hook, .99):.2f} ms")
    print(f"ratio of medians     {q(hook, .5) / q(version, .5):.2f}x")
