#!/usr/bin/env bash
# Installs the system packages the test suite needs, from Debian, when they are missing.
# The tests use: git (project snapshots), python3 (example and fixture workflows), bash,
# chromium (the dashboard's browser tests drive /usr/bin/chromium through playwright-core),
# openssl (a private CA for the TLS tests).
set -euo pipefail

missing=()
command -v git >/dev/null || missing+=(git)
command -v python3 >/dev/null || missing+=(python3)
command -v bash >/dev/null || missing+=(bash)
# The python provider makes virtualenvs: Debian's python3 needs python3-venv for that.
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v openssl >/dev/null || missing+=(openssl)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
echo "test dependencies present: git python3 bash chromium openssl"

# PostgreSQL and moto_server for the storage tests (the store and blob store conformance suites).
bash "$(dirname "$0")/storage-test-deps.sh"
