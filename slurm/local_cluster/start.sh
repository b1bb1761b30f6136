#!/usr/bin/env bash
# A single-node SLURM cluster on localhost (slurmctld + slurmd + munge) for the SLURM tests in CI.
# Debian/Ubuntu, as root; installs the packages only when absent; idempotent; no systemd, no cgroups.
# Env: SLURM_CONF (default /etc/slurm/slurm.conf), SLURM_LOCAL_DIR (state, logs, pid files;
#      default $TMPDIR/molpeg-local-slurm), SLURM_AUTH=munge|none (auth/none exists in SLURM 22.05 only).
# stop.sh stops exactly the daemons this script started (by their pid files).
set -euo pipefail
CONF=${SLURM_CONF:-/etc/slurm/slurm.conf}; export SLURM_CONF=$CONF
D=${SLURM_LOCAL_DIR:-${TMPDIR:-/tmp}/molpeg-local-slurm}; AUTH=${SLURM_AUTH:-munge}
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
fi
mkdir -p "$D"/{state,spool,log} "$(dirname "$CONF")"

if [ "$AUTH" = munge ] && ! munge -n >/dev/null 2>&1; then
  [ -s /etc/munge/munge.key ] || { mungekey -c -k /etc/munge/munge.key; chown munge: /etc/munge/munge.key; }
  install -d -o munge -g munge -m 0755 /run/munge
  runuser -u munge -- munged; cp /run/munge/munged.pid "$D/munged.pid"  # so stop only kills ours
  for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
fi

# Topology as slurmd detects it; RealMemory at 90% so the node is never drained for "Low RealMemory".
HW=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //; s/ RealMemory=.*//')
MEM=$(( $(slurmd -C | head -1 | sed 's/.*RealMemory=\([0-9]*\).*/\1/') * 9 / 10 ))
cat > "$D/slurm.conf.new" <<CFG
ClusterName=molpegci
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/$AUTH
CredType=cred/$AUTH
AuthInfo=cred_expire=5
MailProg=/bin/true
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core   # CR_Core_Memory: jobs w/o --mem take the whole node
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=1
KillWait=5
ReturnToService=2
MpiDefault=none
NodeName=localhost $HW RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CFG

if ! cmp -s "$D/slurm.conf.new" "$CONF"; then   # config changed: restart daemons if running
  mv "$D/slurm.conf.new" "$CONF"
  for f in "$D/slurmd.pid" "$D/slurmctld.pid"; do
    alive "$f" && { p=$(cat "$f"); kill "$p"; while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; }
  done
fi
alive "$D/slurmctld.pid" || slurmctld -i
alive "$D/slurmd.pid"    || slurmd -N localhost

for _ in $(seq 120); do
  sinfo -h -n localhost -o %T 2>/dev/null | grep -qxE 'idle|mixed|allocated' && { sinfo; exit 0; }
  sleep 0.5
done
echo "slurm node did not become idle; see $D/log" >&2; sinfo -R >&2 || true; exit 1
