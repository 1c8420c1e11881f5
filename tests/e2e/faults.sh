#!/usr/bin/env bash
# Fault behaviour on 2 ranks: a cell whose training diverges fails alone (exit 3, its error in the
# results, the other cells done) and stays failed on --resume; an error one group of ranks meets
# ends the job (exit 2); a rank killed mid-run ends the whole job, non-zero, within 60 s; a rank
# that fails at run time ends it with exit 1, one line, and the results file as it was; a fresh
# run removes an earlier run's checkpoints (OUTPUT.ckpt) instead of resuming from them.
# usage: faults.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR
set -uo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "faults: $*"; exit 1; }

# 1. A failing cell leaves the others done.
"$MPIEXEC" -n 2 "$PBE_DIST" "$SRC/tests/specs/faults.yaml" -o "$WORK/faults.h5" > "$WORK/out.txt" 2> "$WORK/err.txt"
rc=$?
[ "$rc" = 3 ] || { cat "$WORK/err.txt"; fail "expected exit 3 for failed cells, got $rc"; }
grep -q "2 of 6 results failed" "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "no failure summary"; }
"$PYTHON" - "$WORK/faults.h5" <<'PY' || fail "results of the failing run"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    rows = {(r["attack"].decode(), r["defense"].decode()): r for r in f["matrix"][()]}
    assert len(rows) == 6, sorted(rows)
    for (attack, defense), r in rows.items():
        status, error = r["status"].decode(), r["error"].decode()
        if attack == "diverging":
            assert status == "failed" and "input-aware: loss is" in error, (attack, defense, status, error)
        else:
            assert status == "done" and error == "" and r["acc"] > 0.5, (attack, defense, status, error)
    cell = f["cells/synthetic/small-cnn/diverging/seed0"]
    assert cell.attrs["status"] == "failed" and "loss is" in cell.attrs["error"]
PY

# 1b. Failed units stay failed: --resume skips them like done ones (exit 3 again, /matrix unchanged
# to the byte, wall times included: nothing ran again).
cp "$WORK/faults.h5" "$WORK/before.h5"
"$MPIEXEC" -n 2 "$PBE_DIST" "$SRC/tests/specs/faults.yaml" -o "$WORK/faults.h5" --resume > /dev/null 2> "$WORK/resume-err.txt"
rc=$?
[ "$rc" = 3 ] || { cat "$WORK/resume-err.txt"; fail "--resume of a run with failed cells: expected exit 3, got $rc"; }
"$PYTHON" - "$WORK/before.h5" "$WORK/faults.h5" <<'PY' || fail "--resume ran a failed unit again"
import sys, h5py, numpy
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    before, after = a["matrix"][()], b["matrix"][()]
    assert len(before) == len(after), (len(before), len(after))
    for field in before.dtype.names:
        x, y = before[field], after[field]
        same = numpy.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else bool((x == y).all())
        assert same, (field, x, y)
    assert b["cells/synthetic/small-cnn/diverging/seed0"].attrs["status"] == "failed"
PY

# 2. An error only one group of ranks meets (a defense rejecting the model at run time, groups of
# one rank): the job ends with exit 2 and the error, instead of the other group waiting for it.
sed -e "s/^seeds: \[0\]/seeds: [0]\nranks_per_cell: 1/" -e "s/^  - {name: ft, epochs: 1, clean_fraction: 0.1}/  - {name: nad, betas: [1, 2], teacher_epochs: 1, epochs: 1}/" \
  "$SRC/tests/specs/faults.yaml" > "$WORK/group-error.yaml"
grep -q "name: nad" "$WORK/group-error.yaml" || fail "could not write the group-error spec"
start=$SECONDS
timeout 120 "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/group-error.yaml" -o "$WORK/group-error.h5" > /dev/null 2> "$WORK/group-error.txt"
rc=$?
[ "$rc" = 2 ] || { cat "$WORK/group-error.txt"; fail "a group's ConfigError: expected exit 2, got $rc"; }
grep -q "pbe_dist: error on rank [01]: nad: betas has 2 weights but the model exposes 3 stages" "$WORK/group-error.txt" ||
  { cat "$WORK/group-error.txt"; fail "the group's error was not reported with its rank"; }
[ $((SECONDS - start)) -lt 60 ] || fail "the job took $((SECONDS - start)) s to end"

# 3. A rank killed mid-run: the job ends, non-zero, within 60 s (no hang in a collective).
cat > "$WORK/long.yaml" <<YAML
name: long
output: $WORK/long.h5
dataset:
  name: synthetic
  synthetic: {classes: 4, channels: 1, size: 12, train: 600, test: 100, seed: 3}
model: {name: small-cnn, width: 8}
training: {epochs: 400, batch_size: 32, lr: 0.02}
attacks: [badnets]
defenses: [none]
probes: {samples: 0}
seeds: [0]
YAML
"$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/long.yaml" > "$WORK/long.txt" 2>&1 &
job=$!
victim=""
for _ in $(seq 100); do
  if grep -q "train epoch" "$WORK/long.txt" 2>/dev/null; then
    for pid in $(pgrep -f "$WORK/long.yaml"); do
      if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -x "OMPI_COMM_WORLD_RANK=1" > /dev/null; then victim=$pid; fi
    done
    [ -n "$victim" ] && break
  fi
  sleep 0.3
done
[ -n "$victim" ] || { kill -9 "$job"; cat "$WORK/long.txt"; fail "did not find rank 1 training"; }
kill -9 "$victim"
start=$SECONDS
for _ in $(seq 600); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$job" 2>/dev/null; then
  pkill -9 -f "$WORK/long.yaml"
  fail "the job still runs 60 s after rank 1 was killed"
fi
wait "$job"
rc=$?
[ "$rc" != 0 ] || fail "the job exited 0 after rank 1 was killed"
echo "faults: ok (killed rank 1; the job ended with $rc after $((SECONDS - start)) s)"

# 4. A rank that fails at run time: a run stopped at a safe point (SIGUSR1, exit 75) is resumed
# where rank 0 cannot write its checkpoint (OUTPUT.ckpt is a file). The job ends with exit 1 and
# one line naming the rank and the problem, and the results file opens as it was.
# stop_long_run NAME: runs long.yaml into $WORK/NAME.h5 and, once its victim's first epoch
# checkpoint is written (a condition, not a log line: progress lines are rate-limited), stops it
# with SIGUSR1; it must end with exit 75.
stop_long_run() {
  "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/long.yaml" -o "$WORK/$1.h5" > "$WORK/$1.txt" 2>&1 &
  local job=$! rc=0
  for _ in $(seq 600); do [ -e "$WORK/$1.h5.ckpt/badnets-seed0.train.pt" ] && break; sleep 0.05; done
  kill -USR1 "$job"
  wait "$job" || rc=$?
  [ "$rc" = 75 ] || { cat "$WORK/$1.txt"; fail "SIGUSR1: expected exit 75, got $rc"; }
}
stop_long_run stop
rm -rf "$WORK/stop.h5.ckpt"
touch "$WORK/stop.h5.ckpt"
cp "$WORK/stop.h5" "$WORK/stop-before.h5"
timeout 120 "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/long.yaml" -o "$WORK/stop.h5" --resume > /dev/null 2> "$WORK/fail1.txt"
rc=$?
[ "$rc" = 1 ] || { cat "$WORK/fail1.txt"; fail "a rank's run-time failure: expected exit 1, got $rc"; }
grep -q "pbe_dist: error on rank 0: .*stop.h5.ckpt/badnets-seed0.train.pt: cannot create its directory" "$WORK/fail1.txt" ||
  { cat "$WORK/fail1.txt"; fail "the failure was not reported in one line with its rank"; }
cmp -s "$WORK/stop.h5" "$WORK/stop-before.h5" || fail "the failed resume changed the results file"
echo "faults: ok (a rank's run-time failure: exit 1, results file unchanged)"

# 5. A fresh run never picks up an earlier run's checkpoints: a run of long.yaml stopped early
# leaves its victim's checkpoint; a run of another spec (6 epochs, another lr) into the same file
# with --overwrite must remove it and end exactly as the same spec run into a fresh file.
stop_long_run stale
[ -e "$WORK/stale.h5.ckpt/badnets-seed0.train.pt" ] || fail "the stopped run left no victim checkpoint"
sed -e "s/epochs: 400/epochs: 6/" -e "s/lr: 0.02/lr: 0.03/" "$WORK/long.yaml" > "$WORK/short.yaml"
"$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/short.yaml" -o "$WORK/stale.h5" --overwrite > /dev/null 2>&1 || fail "the --overwrite run failed"
"$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/short.yaml" -o "$WORK/fresh.h5" > /dev/null 2>&1 || fail "the fresh run failed"
"$PYTHON" - "$WORK/stale.h5" "$WORK/fresh.h5" <<'PY' || fail "the --overwrite run used the stale checkpoint"
import sys, h5py
def curve(path):
    with h5py.File(path, "r") as f:
        c = f["cells/synthetic/small-cnn/badnets/seed0/attack/curves"]
        return list(c["loss"][()]), list(c["acc"][()])
got, want = curve(sys.argv[1]), curve(sys.argv[2])
assert got == want, f"victim curve: {len(got[0])} epochs, losses {got[0][:3]}...; a fresh run: {len(want[0])}, {want[0][:3]}..."
PY
echo "faults: ok (an earlier run's checkpoints are not picked up by a fresh run)"
