#!/usr/bin/env bash
# Stops the daemons slurm/local_cluster/start.sh started (by their pid files) after cancelling our jobs.
# Leaves the packages installed.
set -uo pipefail
export SLURM_CONF=${SLURM_CONF:-/etc/slurm/slurm.conf}
D=${SLURM_LOCAL_DIR:-${TMPDIR:-/tmp}/molpeg-local-slurm}
scancel --user="$(id -un)" 2>/dev/null; sleep 1
for f in "$D/slurmd.pid" "$D/slurmctld.pid" "$D/munged.pid"; do
  [ -s "$f" ] || continue; p=$(cat "$f"); rm -f "$f"
  kill "$p" 2>/dev/null || continue
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -9 "$p"
done
true
