#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs them.
#   - the real assistant CLIs (Claude Code, Codex, Gemini CLI, Copilot CLI) from npm, pinned,
#     into /tmp/realclient (once per machine), for the end-to-end hook tests;
#   - every crate's unit and integration tests (`cargo test --workspace`).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${WARD_SHARED_DIR:-../shared}
if [ ! -d "$shared/realclient" ]; then
  echo "test.sh: $shared/realclient is missing; set WARD_SHARED_DIR to the shared/ directory" >&2
  exit 1
fi
prefix=${REALCLIENT_PREFIX:-/tmp/realclient}
missing=""
for c in claude codex gemini copilot; do
  [ -x "$prefix/$c/node_modules/.bin/$c" ] || missing="$missing $c"
done
if [ -n "$missing" ]; then
  echo "test.sh: installing the real clients:$missing" >&2
  # shellcheck disable=SC2086
  "$shared/realclient/install.sh" $missing
fi
export WARD_SHARED_DIR="$(cd "$shared" && pwd)"
cargo test --workspace --locked
