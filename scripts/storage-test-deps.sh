#!/usr/bin/env bash
# What the storage tests need beyond Debian basics: PostgreSQL's server binaries (the tests
# start a throwaway server with scripts/start-postgres.sh) and moto_server (an S3-compatible
# server; s3rver, the other one, comes with npm ci). Installs them when missing and it can.
set -euo pipefail

have_postgres() {
  { command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; } ||
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

if ! have_postgres; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: PostgreSQL server; install it with: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi

if ! command -v moto_server >/dev/null && [ -z "${MOTO_SERVER:-}" ]; then
  # Normally preinstalled (dstack's dev and CI machines have it); pip is the way to get it elsewhere.
  python3 -m pip install --quiet 'moto[server]' ||
    { echo "missing: moto_server; install it with: pip install 'moto[server]' (or set MOTO_SERVER)" >&2; exit 1; }
fi
echo "storage test dependencies present: PostgreSQL $(ls -d /usr/lib/postgresql/*/ 2>/dev/null | xargs -n1 basename | tr '\n' ' ')moto_server"
