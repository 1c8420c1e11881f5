#!/usr/bin/env bash
# Units without epochs (NC's trigger search, ANP's mask optimisation) have no checkpoint of their
# own: a run killed (SIGKILL) in the middle of one holds no row for it, and --resume redoes it from
# the start, ending with the rows of an uninterrupted run.
# usage: resume_units.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR
set -euo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'pkill -9 -f "$WORK/" 2> /dev/null || true; rm -rf "$WORK"' EXIT
fail() { echo "resume_units: $*"; exit 1; }
rows_in() { "$PYTHON" -c "import h5py; print(len(h5py.File('$1','r')['matrix']))" 2> /dev/null || echo 0; }

for unit in nc anp; do
  case $unit in  # long enough (4-6 s on 2 cores) for the kill 1 s in to land inside
    nc) defense="{name: nc, epochs: 120, early_stop_patience: 0, unlearn_epochs: 2, clean_fraction: 0.5}" ;;
    anp) defense="{name: anp, iterations: 200, clean_fraction: 0.5}" ;;
  esac
  cat > "$WORK/$unit.yaml" <<YAML
name: $unit
output: $WORK/unused.h5
dataset:
  name: synthetic
  synthetic: {classes: 4, channels: 1, size: 12, train: 600, test: 200, seed: 3}
model: {name: small-cnn, width: 8}
training: {epochs: 3, batch_size: 32, lr: 0.02}
attacks: [badnets]
defenses: [none, $defense]
probes: {samples: 0}
seeds: [0]
YAML
  "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/$unit.yaml" -o "$WORK/$unit-ref.h5" > /dev/null 2>&1 || fail "$unit: the reference run failed"
  setsid "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/$unit.yaml" -o "$WORK/$unit.h5" > "$WORK/$unit.txt" 2>&1 &
  job=$!
  for _ in $(seq 1200); do [ "$(rows_in "$WORK/$unit.h5")" -ge 1 ] && break; sleep 0.05; done
  sleep 1  # inside the unit, which starts as the first row is committed
  kill -9 -- "-$job" 2> /dev/null || true
  wait "$job" 2> /dev/null || true
  [ "$(rows_in "$WORK/$unit.h5")" = 1 ] || fail "$unit: the kill did not land inside the unit ($(rows_in "$WORK/$unit.h5") rows)"
  "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/$unit.yaml" -o "$WORK/$unit.h5" --resume > "$WORK/$unit-resume.txt" 2>&1 ||
    { cat "$WORK/$unit-resume.txt"; fail "$unit: --resume failed"; }
  "$PYTHON" - "$WORK/$unit-ref.h5" "$WORK/$unit.h5" <<'PY' || fail "$unit: the resumed run differs from the uninterrupted one"
import sys, h5py
def rows(path):
    with h5py.File(path, "r") as f:
        return [(r["defense"].decode(), r["status"].decode(), r["acc"], r["asr"]) for r in f["matrix"][()]]
ref, got = rows(sys.argv[1]), rows(sys.argv[2])
assert len(ref) == 2 and got == ref, (got, ref)
PY
  echo "resume_units: $unit killed inside its unit, redone on --resume, rows as uninterrupted"
done
