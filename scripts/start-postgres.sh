#!/usr/bin/env bash
# Start a throwaway PostgreSQL for tests: a fresh data dir (initdb), trust auth, listening
# on 127.0.0.1 only, fsync off. Prints DATABASE_URL=... and PGDATA=...; stop it with
# scripts/stop-postgres.sh PGDATA. Runs the server as the `postgres` user when run as root
# (PostgreSQL refuses to run as root).
#
#   scripts/start-postgres.sh [DATA_DIR] [PORT]
#
# The binaries come from $PG_BIN, else `pg_config --bindir`, else the newest
# /usr/lib/postgresql/*/bin. Without them: apt-get install postgresql (scripts/install-test-deps.sh).
set -euo pipefail

find_bin() {
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then echo "$PG_BIN"; return; fi
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
}

BIN=$(find_bin)
if [ -z "$BIN" ]; then
  echo "PostgreSQL server binaries (initdb, pg_ctl) not found: install them with 'apt-get install postgresql'" \
    "(scripts/install-test-deps.sh does), or set PG_BIN to their folder" >&2
  exit 1
fi

DATA=${1:-$(mktemp -d "${TMPDIR:-/tmp}/dstack-pg-XXXXXX")}
PORT=${2:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}
mkdir -p "$DATA"

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres: "$DATA"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

as_owner "$BIN/initdb" -D "$DATA/db" -U postgres --auth=trust --no-locale -E UTF8 >"$DATA/initdb.log" 2>&1 ||
  { cat "$DATA/initdb.log" >&2; exit 1; }
# The socket goes in the data dir: /var/run/postgresql may not exist or be writable.
as_owner "$BIN/pg_ctl" -D "$DATA/db" -l "$DATA/server.log" -w -t 60 start \
  -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  >/dev/null || { cat "$DATA/server.log" >&2; exit 1; }

echo "DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
echo "PGDATA=$DATA"
