#!/usr/bin/env bash
# Installs the system packages the test suite needs, from Debian, when they are missing.
# The tests use: git (project snapshots), python3 (example and fixture workflows), bash.
set -euo pipefail

missing=()
command -v git >/dev/null || missing+=(git)
command -v python3 >/dev/null || missing+=(python3)
command -v bash >/dev/null || missing+=(bash)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
echo "test dependencies present: git python3 bash"
