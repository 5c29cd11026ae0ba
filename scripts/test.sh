#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs them.
#   - the real assistant CLIs (Claude Code, Codex, Gemini CLI, Copilot CLI) from npm, pinned,
#     into /tmp/realclient (once per machine), for the end-to-end hook tests;
#   - a Postgres for the repository suite that runs against both backends: the server that
#     WARD_TEST_DATABASE_URL names (default the local one on 127.0.0.1:5432), or, when none
#     answers, a throwaway one started from the system's PostgreSQL binaries in a temp dir;
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

# The credential-helper tests drive the tools' own clients: git, OpenSSH's ssh-keygen, kubectl,
# and botocore's credential_process provider (pip, pinned) for AWS.
if ! python3 -c 'import botocore' >/dev/null 2>&1; then
  echo "test.sh: installing botocore for the AWS credential_process test" >&2
  python3 -m pip install --quiet 'botocore==1.43.11'
fi
# The official MCP Python SDK (PyPI `mcp`, pinned): a client and a server in the gateway tests.
if ! python3 -c 'import importlib.metadata as m, sys; sys.exit(m.version("mcp") != "2.3.0")' >/dev/null 2>&1; then
  echo "test.sh: installing the MCP Python SDK" >&2
  python3 -m pip install --quiet 'mcp==2.3.0'
fi
# schemathesis (PyPI, pinned): the API against its checked-in OpenAPI document.
if ! python3 -c 'import importlib.metadata as m, sys; sys.exit(m.version("schemathesis") != "4.32.5")' >/dev/null 2>&1; then
  echo "test.sh: installing schemathesis" >&2
  python3 -m pip install --quiet 'schemathesis==4.32.5'
fi
# The npm reference MCP servers and the inspector CLI, pinned, for the MCP gateway tests.
export WARD_MCP_NPM=${WARD_MCP_NPM:-/tmp/ward-mcp-npm}
if [ ! -f "$WARD_MCP_NPM/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js" ] \
  || [ ! -f "$WARD_MCP_NPM/node_modules/@modelcontextprotocol/server-everything/dist/index.js" ] \
  || [ ! -x "$WARD_MCP_NPM/node_modules/.bin/mcp-inspector" ]; then
  echo "test.sh: installing the MCP reference servers and inspector into $WARD_MCP_NPM" >&2
  mkdir -p "$WARD_MCP_NPM"
  npm install --silent --no-audit --no-fund --prefix "$WARD_MCP_NPM" \
    @modelcontextprotocol/server-filesystem@2026.8.31 @modelcontextprotocol/server-everything@2026.8.31 \
    @modelcontextprotocol/inspector@2.12.0 >/dev/null
fi

# sshd on loopback for the SSH certificate login test (Debian's openssh-server).
if [ ! -x /usr/sbin/sshd ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing openssh-server for the SSH certificate test" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server >/dev/null; }
  else
    echo "test.sh: /usr/sbin/sshd is missing; install openssh-server" >&2
    exit 1
  fi
fi
for tool in git ssh ssh-keygen kubectl openssl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test.sh: $tool is missing; install it (Debian: git, openssh-client, openssl; kubectl from the Kubernetes packages)" >&2; exit 1; }
done

export WARD_TEST_DATABASE_URL=${WARD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -d "$WARD_TEST_DATABASE_URL"
  else
    psql "$WARD_TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1
  fi
}
if ! pg_answers; then
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
    echo "test.sh: no Postgres answers at $WARD_TEST_DATABASE_URL and no PostgreSQL binaries were found;" >&2
    echo "test.sh: install them (Debian: apt-get install postgresql) or set WARD_TEST_DATABASE_URL" >&2
    exit 1
  fi
  pgdir=$(mktemp -d /tmp/ward-pg.XXXXXX)
  port=55432
  as_pg=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$pgdir"
    as_pg=(runuser -u postgres --)
  fi
  echo "test.sh: starting a throwaway Postgres in $pgdir on port $port" >&2
  "${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust >/dev/null
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1" -l "$pgdir/log" -w start >/dev/null
  trap '"${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1; rm -rf "$pgdir"' EXIT
  export WARD_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
fi
if [ "$#" -gt 0 ]; then
  cargo test --locked "$@"   # e.g. ./scripts/test.sh -p ward-store
else
  cargo test --workspace --locked
fi
