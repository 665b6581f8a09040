#!/usr/bin/env bash
# A journaled ext4 for the benchmarks' temp folders, in a file on this disk (root, a loop device).
#
#   bash bench/scratch.sh up [GIB]   # make and mount it (default 48 GiB, sparse); prints the TMPDIR to use
#   TMPDIR=/mnt/dstack-bench-scratch npm run bench
#   bash bench/scratch.sh down       # unmount it and delete the file
#
# Why: on ext4 without a journal (this project's bench machine), each file created within a
# minute or more of a large deletion steps past every inode just freed in its block group. The
# file-heavy scenarios (2, 5) then measure the deletions that came before each step: the same
# `cp -r` of 1 GiB in 10,000 files took 0.5 to 5 s (bench/PROFILES.md, session 23). A journaled
# ext4 is what a Debian install makes; both dstack and its peers run on it alike.
set -euo pipefail

MOUNT=/mnt/dstack-bench-scratch
IMAGE=/var/tmp/dstack-bench-scratch.img

case "${1:-}" in
  up)
    size="${2:-48}"
    if mountpoint -q "$MOUNT"; then
      echo "scratch.sh: $MOUNT is mounted already" >&2
    else
      [ "$(id -u)" = 0 ] || { echo "scratch.sh: needs root (a loop mount)" >&2; exit 1; }
      truncate -s "${size}G" "$IMAGE"
      # Inode tables and the journal written now, not by a background thread during the first scenario.
      mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$IMAGE"
      mkdir -p "$MOUNT"
      mount -o loop "$IMAGE" "$MOUNT"
      chmod 1777 "$MOUNT"
    fi
    echo "export TMPDIR=$MOUNT"
    ;;
  down)
    if mountpoint -q "$MOUNT"; then umount "$MOUNT"; fi
    rm -f "$IMAGE"
    ;;
  *)
    echo "usage: bash bench/scratch.sh up [GIB] | down" >&2
    exit 2
    ;;
esac
