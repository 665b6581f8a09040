#!/usr/bin/env bash
# Stop a PostgreSQL started by scripts/start-postgres.sh and delete its data: scripts/stop-postgres.sh PGDATA
set -euo pipefail
DATA=${1:?usage: scripts/stop-postgres.sh PGDATA}
BIN=${PG_BIN:-$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
if [ -f "$DATA/db/postmaster.pid" ]; then
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$BIN/pg_ctl" -D "$DATA/db" -m immediate -w stop >/dev/null || true
  else
    "$BIN/pg_ctl" -D "$DATA/db" -m immediate -w stop >/dev/null || true
  fi
fi
rm -rf "$DATA"
