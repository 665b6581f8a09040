#!/usr/bin/env bash
# A Docker engine and the images dstack's docker tests use, with no registry:
#   - installs docker.io from Debian when dockerd is missing (apt-get update first);
#   - starts a dockerd of its own (own socket, data-root, exec-root and pidfile under
#     $DSTACK_TEST_DOCKER_DIR, default /var/lib/dstack-test) unless that one already runs;
#     --bridge=none --iptables=false: containers use the host network or none;
#   - builds the test images offline, once (they stay in the data-root):
#       dstack-test/busybox:latest          shell jobs (Debian's busybox-static, no bash)
#       dstack-test/python:3.11             Debian bookworm minbase + python3, venv, pip
#       python:3.11                         the same image, for the python provider in docker
#       tensorflow/tensorflow:1.15.0-py3    the python image + a `curl` stand-in, for the
#                                           reference docs' GPT-2 workflows as written
# Safe to run concurrently (a lock) and again (it only does what is missing). The last line it
# prints is DOCKER_HOST=unix://... for the tests to use.
set -euo pipefail

BASE=${DSTACK_TEST_DOCKER_DIR:-/var/lib/dstack-test}
SOCK="$BASE/docker.sock"
HERE="$(cd "$(dirname "$0")" && pwd)"
export DOCKER_HOST="unix://$SOCK"

log() { echo "docker-test-env: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

[ "$(id -u)" = 0 ] || fail "needs root (to install docker.io and run dockerd); run: sudo bash $0"
mkdir -p "$BASE/cache"
exec 9>"$BASE/setup.lock"
flock -w 900 9 || fail "another setup holds $BASE/setup.lock"

apt_install() {
  # Other processes may hold dpkg's lock for a while; wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >&2
}

if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  log "installing docker.io and debootstrap from Debian"
  apt_install docker.io debootstrap ca-certificates
fi

engine_up() { docker version >/dev/null 2>&1; }

if ! engine_up; then
  log "starting dockerd on $SOCK (log: $BASE/dockerd.log)"
  rm -f "$SOCK" "$BASE/docker.pid"
  # setsid + every stream redirected (the lock's too): the engine outlives this script and holds
  # neither a test's pipes nor the setup lock.
  setsid dockerd \
    --host "$DOCKER_HOST" \
    --data-root "$BASE/data" \
    --exec-root "$BASE/exec" \
    --pidfile "$BASE/docker.pid" \
    --bridge=none --iptables=false --ip-masq=false --ip-forward=false \
    --log-level warn \
    </dev/null >"$BASE/dockerd.log" 2>&1 9>&- &
  for _ in $(seq 1 120); do
    engine_up && break
    sleep 0.5
  done
  engine_up || fail "dockerd did not start within 60 s; see $BASE/dockerd.log:
$(tail -n 20 "$BASE/dockerd.log")"
fi

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

if ! has_image dstack-test/busybox:latest; then
  log "building dstack-test/busybox:latest from Debian's busybox-static"
  work=$(mktemp -d)
  (cd "$work" && apt-get download busybox-static >/dev/null 2>&1) || {
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    (cd "$work" && apt-get download busybox-static >/dev/null)
  }
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/deb"
  mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp" "$work/rootfs/etc" "$work/rootfs/workspace"
  chmod 1777 "$work/rootfs/tmp"
  cp "$work/deb/bin/busybox" "$work/rootfs/bin/busybox"
  for applet in $("$work/rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$work/rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$work/rootfs/etc/passwd"
  tar -C "$work/rootfs" -c . | docker import -c 'ENV PATH=/bin' - dstack-test/busybox:latest >/dev/null
  rm -rf "$work"
fi

if ! has_image dstack-test/python:3.11; then
  tarball="$BASE/cache/python-rootfs.tar"
  if [ ! -s "$tarball" ]; then
    log "building a Debian bookworm rootfs with python3 (debootstrap; a minute or two, once)"
    work=$(mktemp -d)
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,python-is-python3 \
      bookworm "$work/rootfs" http://deb.debian.org/debian >"$BASE/debootstrap.log" 2>&1 ||
      fail "debootstrap failed; see $BASE/debootstrap.log"
    # Like the official python images: pip may install into the system Python.
    rm -f "$work"/rootfs/usr/lib/python3*/EXTERNALLY-MANAGED
    rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
    mkdir -p "$work/rootfs/workspace"
    tar -C "$work/rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$work"
  fi
  docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
    "$tarball" dstack-test/python:3.11 >/dev/null
fi
has_image python:3.11 || docker tag dstack-test/python:3.11 python:3.11

if ! has_image tensorflow/tensorflow:1.15.0-py3; then
  log "building the tensorflow/tensorflow:1.15.0-py3 stand-in"
  cid=$(docker create dstack-test/python:3.11 true)
  docker cp "$HERE/test-images/stand-in" "$cid:/opt/stand-in"
  docker cp "$HERE/test-images/stand-in/curl" "$cid:/usr/local/bin/curl"
  docker commit "$cid" tensorflow/tensorflow:1.15.0-py3 >/dev/null
  docker rm "$cid" >/dev/null
fi

echo "DOCKER_HOST=$DOCKER_HOST"
