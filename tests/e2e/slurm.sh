#!/usr/bin/env bash
# The project's SLURM scripts on a real single-machine SLURM (munged, slurmctld and slurmd from
# Debian's slurm-wlm and munge, started here in a temporary directory and stopped after):
# - single_node.sbatch runs tiny.yaml on 2 tasks (mpirun), multi_node.sbatch on 2 tasks of this
#   one node (srun with PMIx), with the same /matrix;
# - submit_array.sh runs it as a 2-task array (--cells k/2) plus the merge job, whose merged file
#   equals the single job's /matrix;
# - a job told to stop (SIGUSR1 to its batch script, as --signal=B:USR1 sends it) stops at a safe
#   point, requeues itself and ends with complete results.
# Exit 77 (skipped; 1 under PBE_NO_SKIP=1, as in CI) where slurm-wlm or munge is not installed, or not
# as root. usage: slurm.sh PBE_DIST PYTHON SOURCE_DIR
set -euo pipefail
PBE_DIST=$1 PYTHON=$2 SRC=$3
source "$(dirname "$0")/skip.sh"
for tool in munged mungekey slurmctld slurmd sbatch squeue scontrol scancel; do
  command -v "$tool" > /dev/null || skip "$tool not installed (apt install slurm-wlm munge)"
done
[ "$(id -u)" = 0 ] || skip "slurmd runs jobs as root here; run the tests as root"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export PBE_DIST HDF5_USE_FILE_LOCKING=FALSE
S=$(mktemp -d /tmp/pbe-slurm.XXXXXX)  # short: it holds munge's socket
export SLURM_CONF=$S/slurm.conf
stop_cluster() {
  scancel --full --quiet $(squeue -h -o %A 2>/dev/null) 2>/dev/null || true
  for p in slurmd slurmctld munged; do [ -e "$S/$p.pid" ] && kill "$(cat "$S/$p.pid")" 2>/dev/null || true; done
  sleep 1
  rm -rf "$S"
}
trap stop_cluster EXIT
mkdir -p "$S/state" "$S/spool" "$S/work/logs"
mungekey --create --keyfile="$S/munge.key" > /dev/null 2>&1
chmod 600 "$S/munge.key"
munged --key-file="$S/munge.key" --socket="$S/munge.socket" --pid-file="$S/munged.pid" --log-file="$S/munged.log" \
  --seed-file="$S/munge.seed" -f
host=$(hostname -s)
# Two ports the OS says are free (bound together, so they differ), for slurmctld and slurmd.
read -r port dport < <("$PYTHON" -c "
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(('', 0))
print(*(x.getsockname()[1] for x in s))")
cat > "$SLURM_CONF" <<CONF
ClusterName=pbetest
SlurmctldHost=$host
AuthType=auth/munge
AuthInfo=socket=$S/munge.socket,cred_expire=10
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$dport
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=600
NodeName=$host CPUs=4 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep idle > /dev/null && break; sleep 1; done
sinfo -h -o %T | grep idle > /dev/null || { echo "the SLURM node did not come up"; cat "$S"/*.log; exit 1; }

# Waits until job $1 (and its array tasks) left the queue; prints its state and exit code.
wait_job() {
  for _ in $(seq 240); do
    [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && break
    sleep 0.5
  done
  [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] || { echo "job $1 still queued"; squeue; exit 1; }
  scontrol show job "$1" | grep -oE "JobState=[A-Z]+|ExitCode=[0-9:]+|Restarts=[0-9]+" | tr '\n' ' '
}
cd "$S/work"
SPEC=$SRC/tests/specs/tiny.yaml
plain=$(sbatch --parsable --ntasks=2 "$SRC/slurm/single_node.sbatch" "$SPEC" -o "$S/work/plain.h5")
state=$(wait_job "$plain")
echo "single_node.sbatch: $state"
[[ $state == *"JobState=COMPLETED"*"ExitCode=0:0"* ]] || { echo "$state"; cat logs/*; exit 1; }

# multi_node.sbatch's srun (PMIx) launch, on this one node, without GPUs.
nodes=$(PBE_DIST=$PBE_DIST sbatch --parsable --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 --gpus-per-task=0 \
        "$SRC/slurm/multi_node.sbatch" "$SPEC" -o "$S/work/srun.h5")
state=$(wait_job "$nodes")
echo "multi_node.sbatch (srun, PMIx): $state"
[[ $state == *"JobState=COMPLETED"*"ExitCode=0:0"* ]] || { echo "$state"; cat logs/*; exit 1; }

read -r _ array _ merge <<< "$("$SRC/slurm/submit_array.sh" 2 "$SPEC" "$S/work/array" --ntasks=2)"
wait_job "$array" > /dev/null
state=$(wait_job "$merge")
echo "array + merge: $state"
[[ $state == *"JobState=COMPLETED"*"ExitCode=0:0"* ]] || { echo "$state"; cat logs/*; exit 1; }
"$PYTHON" - "$S/work/plain.h5" "$S/work/array/all.h5" "$S/work/srun.h5" <<'PY'
import sys, h5py
def matrix(path):
    with h5py.File(path, "r") as f:
        return [(r["attack"].decode(), r["defense"].decode(), r["status"].decode(), r["acc"], r["asr"]) for r in f["matrix"][()]]
same = lambda a, b: a == b or (a != a and b != b)
plain = matrix(sys.argv[1])
for path in sys.argv[2:]:
    other = matrix(path)
    assert len(plain) == len(other) == 6 and all(same(x, y) for p, m in zip(plain, other) for x, y in zip(p, m)), (path, plain, other)
PY

# Stop and requeue: the batch script gets SIGUSR1 once the first unit is in the file.
sed "s/^  epochs: 4/  epochs: 30/" "$SPEC" > "$S/work/long.yaml"
job=$(sbatch --parsable --ntasks=2 "$SRC/slurm/single_node.sbatch" "$S/work/long.yaml" -o "$S/work/long.h5")
for _ in $(seq 600); do
  "$PYTHON" -c "import h5py,sys; sys.exit(0 if len(h5py.File('$S/work/long.h5','r')['matrix']) else 1)" 2>/dev/null && break
  sleep 0.05
done
scancel --batch --signal=USR1 "$job"
# SLURM holds a requeued job back until its revoked credential expires (cred_expire, 10 s here).
state=$(wait_job "$job")
echo "stopped and requeued: $state"
[[ $state == *"JobState=COMPLETED"*"Restarts=1"* ]] || { echo "$state"; cat logs/*; exit 1; }
grep -q "stopped at a safe point; requeueing job $job" logs/pbe-dist-"$job".out || { cat logs/*; exit 1; }
"$PBE_DIST" inspect "$S/work/long.h5" | grep "6 done, 0 failed, 0 missing" > /dev/null || { "$PBE_DIST" inspect "$S/work/long.h5"; exit 1; }
echo "slurm: single job, array + merge, stop + requeue"
