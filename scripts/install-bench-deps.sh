#!/usr/bin/env bash
# Installs the peers `npm run bench` compares dstack with, from Debian, when they are missing:
#   make       (scenarios 2, 3: the floor for a DAG of trivial jobs)
#   snakemake  (scenarios 1-4: the workflow manager peer)
#   hyperfine  (not required by the harness, which times runs itself; handy to re-check one by hand)
#   time       (/usr/bin/time -v: peak memory in scenario 4)
# Slurm is not installed here: scripts/slurm.sh start installs and starts it (scenario 7).
set -euo pipefail

missing=()
command -v make >/dev/null || missing+=(make)
command -v snakemake >/dev/null || missing+=(snakemake)
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${missing[*]}; install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing ${missing[*]} (apt-get)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "bench dependencies present: make snakemake hyperfine /usr/bin/time" >&2
