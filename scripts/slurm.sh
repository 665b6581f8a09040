#!/usr/bin/env bash
# A real single-node Slurm on this machine, for the Slurm backend's tests (and for trying it).
#
#   scripts/slurm.sh start    install Debian's slurmctld/slurmd/slurm-client/munge when missing,
#                             write /etc/slurm/slurm.conf for this machine, start munged,
#                             slurmctld and slurmd, and wait until the node is idle
#   scripts/slurm.sh stop     stop what `start` started, by the PIDs it recorded
#   scripts/slurm.sh status   exit 0 when the node answers and is up, printing sinfo
#
# Needs root (apt-get, daemons that switch users). State lives in $DSTACK_SLURM_DIR
# (default /var/tmp/dstack-slurm). A slurm.conf that this script did not write is never
# overwritten: then it only checks that that Slurm answers.
set -euo pipefail

DIR=${DSTACK_SLURM_DIR:-/var/tmp/dstack-slurm}
CONF=/etc/slurm/slurm.conf
MARK='# written by dstack scripts/slurm.sh'
MUNGE_SOCKET_DIR=/run/munge

log() { echo "slurm.sh: $*" >&2; }
die() {
  log "$*"
  exit 1
}

install() {
  local missing=()
  command -v slurmctld >/dev/null || missing+=(slurmctld)
  command -v slurmd >/dev/null || missing+=(slurmd)
  command -v sbatch >/dev/null || missing+=(slurm-client)
  command -v munged >/dev/null || missing+=(munge)
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}"
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

node_line() {
  # `slurmd -C` prints this machine as slurm.conf wants it: NodeName=vm CPUs=2 ... RealMemory=24105
  slurmd -C | head -n 1
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    log "$CONF exists and was not written by this script: using that Slurm as it is"
    return 1
  fi
  local node name cpus mem
  node=$(node_line)
  name=$(sed -n 's/.*NodeName=\([^ ]*\).*/\1/p' <<<"$node")
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$node")
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
  [ -n "$name" ] && [ -n "$cpus" ] && [ -n "$mem" ] || die "could not read this machine from 'slurmd -C': $node"
  mkdir -p /etc/slurm "$DIR/state" "$DIR/spool"
  # Written beside it, then renamed into place (and only when it changed): a start while Slurm
  # runs (each test process calls this) must never let an sbatch read a half-written file.
  local next="$CONF.$$.tmp"
  cat >"$next" <<EOF
$MARK: a single-node cluster for tests
ClusterName=dstack-test
SlurmctldHost=$name(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.log
ReturnToService=2
KillWait=5
MinJobAge=10
SlurmdTimeout=30
InactiveLimit=0
NodeName=$name NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$name Default=YES MaxTime=INFINITE State=UP DefMemPerCPU=$((mem / cpus / 4))
EOF
  if cmp -s "$next" "$CONF"; then
    rm -f "$next"
  else
    mv -f "$next" "$CONF"
    log "wrote $CONF ($name: $cpus CPUs, $mem MB)"
  fi
}

munge_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

node_state() { sinfo -h -N -o '%T' 2>/dev/null | head -n 1; }

start() {
  install
  mkdir -p "$DIR"
  local ours=1
  write_conf || ours=0
  if ! munge_ok; then
    mkdir -p "$MUNGE_SOCKET_DIR"
    chown munge: "$MUNGE_SOCKET_DIR" 2>/dev/null || true
    # 9>&-: the daemons must not inherit (and so hold) the lock.
    if [ "$(id -u)" = 0 ]; then runuser -u munge -- munged 9>&-; else munged 9>&-; fi
    for _ in $(seq 50); do munge_ok && break; sleep 0.1; done
    munge_ok || die "munged did not start (see /var/log/munge/munged.log)"
    cp "$MUNGE_SOCKET_DIR/munged.pid" "$DIR/munged.pid" 2>/dev/null || pgrep -n -x munged >"$DIR/munged.pid"
  fi
  if [ "$ours" = 1 ]; then
    alive "$DIR/slurmctld.pid" || slurmctld -i 9>&- || die "slurmctld did not start (see $DIR/slurmctld.log)"
    alive "$DIR/slurmd.pid" || slurmd 9>&- || die "slurmd did not start (see $DIR/slurmd.log)"
  fi
  local state=''
  for _ in $(seq 150); do
    state=$(node_state)
    case "$state" in
      idle | mixed | allocated) break ;;
      down* | drain* | fail*) [ "$ours" = 1 ] && scontrol update nodename="$(sinfo -h -N -o %N | head -n 1)" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.2
  done
  case "$state" in
    idle | mixed | allocated) log "node is $state" ;;
    *) die "the Slurm node did not become idle (state: '${state:-no answer}'); see $DIR/slurmctld.log and $DIR/slurmd.log" ;;
  esac
}

stop_pid() {
  local file=$1 name=$2
  alive "$file" || { rm -f "$file"; return 0; }
  local pid
  pid=$(cat "$file")
  kill "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$file"
  log "stopped $name ($pid)"
}

stop() {
  stop_pid "$DIR/slurmd.pid" slurmd
  stop_pid "$DIR/slurmctld.pid" slurmctld
  stop_pid "$DIR/munged.pid" munged
}

status() {
  local state
  state=$(node_state)
  case "$state" in
    idle | mixed | allocated) sinfo && exit 0 ;;
    *) log "Slurm is not up (node state: '${state:-no answer}')" && exit 1 ;;
  esac
}

# One start or stop at a time: test files running in parallel may all ask for Slurm.
lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/lock"
  flock -w 300 9 || die "another scripts/slurm.sh holds $DIR/lock"
}

case "${1:-}" in
  start) lock && start ;;
  stop) lock && stop ;;
  status) status ;;
  *) die "usage: scripts/slurm.sh start|stop|status" ;;
esac
