#!/usr/bin/env bash
# Crash safety and --resume: a 2-rank run (2 groups of 1) killed with SIGKILL at random moments
# (up to 0.4 s after one of its units) leaves a results file that h5py and h5dump open, holding
# only whole units; resumed after every kill, it ends with the /matrix of an uninterrupted run. A
# corrupt checkpoint is reported and recomputed; a truncated results file or another spec given to
# --resume is refused in one line, the file untouched. A reader opens the file again and again
# while a job writes it. SIGUSR1, SIGTERM and SIGINT, sent while the ranks are frozen (so never
# after the run finished), stop a run at a safe point with exit 75, and --resume finishes it.
# HDF5's file locking stays on (its default), as on a researcher's machine.
# usage: resume.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR
set -euo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'pkill -9 -f "$WORK/spec.yaml" 2>/dev/null || true; rm -rf "$WORK"' EXIT
sed -e "s/^seeds: \[0\]/seeds: [0]\nranks_per_cell: 1/" -e "s/^  epochs: 4/  epochs: 10/" \
  "$SRC/tests/specs/tiny.yaml" > "$WORK/spec.yaml"
run() { "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/spec.yaml" "$@"; }

run -o "$WORK/ref.h5" > /dev/null 2>&1

# Checks that a results file opens with h5py and h5dump and that each /matrix row has its unit.
check_file() {
  [ -e "$1" ] || return 0
  h5dump -H "$1" > /dev/null || { echo "h5dump cannot open $1 after a kill"; exit 1; }
  "$PYTHON" - "$1" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    for r in f["matrix"][()]:
        cell = f"cells/synthetic/small-cnn/{r['attack'].decode()}/seed{r['seed']}"
        if r["status"].decode() == "done":
            assert cell + "/defenses/" + r["defense"].decode() in f, (cell, r)
        assert cell + "/attack" in f, cell
PY
}

rows_in() {  # /matrix rows in the results file (0 without one)
  "$PYTHON" -c "import h5py; print(len(h5py.File('$1','r')['matrix']))" 2>/dev/null || echo 0
}

# Starts the job in its own process group and kills all of it with SIGKILL $1 tenths of a second
# after it committed its next unit: a random point, tied to progress rather than to the clock
# (a fast machine finishes the whole run in two seconds).
kill_after_next_unit() {
  local before
  before=$(rows_in "$WORK/out.h5")
  setsid bash -c "$(declare -f run); MPIEXEC='$MPIEXEC' PBE_DIST='$PBE_DIST' WORK='$WORK'; run -o '$WORK/out.h5' --resume" \
    > /dev/null 2>> "$WORK/log.txt" &
  local pid=$!
  for _ in $(seq 1200); do
    [ "$(rows_in "$WORK/out.h5")" -gt "$before" ] && break
    sleep 0.05
  done
  sleep "$(awk "BEGIN {print $1 / 10}")"
  kill -9 -- "-$pid" 2>/dev/null || true
  local rc=0
  wait "$pid" 2>/dev/null || rc=$?
  # Killed (128 + 9), or finished before the kill: then it must have succeeded.
  [ "$rc" = 137 ] || [ "$rc" = 0 ] || { echo "the resumed run failed with exit $rc:"; tail -5 "$WORK/log.txt"; exit 1; }
  sleep 0.2
}

partial=0
for t in $(shuf -i 0-4 -n 3); do  # a different draw each run; each kill's delay is printed
  kill_after_next_unit "$t"
  check_file "$WORK/out.h5"
  rows=$([ -e "$WORK/out.h5" ] && rows_in "$WORK/out.h5" || echo none)
  echo "killed $t/10 s after a unit: $rows of 6 rows in the file"
  [ "$rows" != 6 ] && partial=$((partial + 1))
done
[ "$partial" -gt 0 ] || { echo "no kill interrupted the run"; exit 1; }

# Kill once more right after the first unit is in the file, and corrupt the checkpoints it left.
setsid bash -c "$(declare -f run); MPIEXEC='$MPIEXEC' PBE_DIST='$PBE_DIST' WORK='$WORK'; run -o '$WORK/corrupt.h5'" \
  > /dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do
  "$PYTHON" -c "import h5py,sys; f=h5py.File('$WORK/corrupt.h5','r'); sys.exit(0 if 'cells' in f else 1)" 2>/dev/null && break
  sleep 0.05
done
kill -9 -- "-$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
check_file "$WORK/corrupt.h5"
corrupted=0
for c in "$WORK"/corrupt.h5.ckpt/*.pt; do
  [ -e "$c" ] || continue
  printf 'garbage' | dd of="$c" bs=1 seek=100 conv=notrunc status=none
  corrupted=$((corrupted + 1))
done
[ "$corrupted" -gt 0 ] || { echo "no checkpoint to corrupt after the first unit"; ls -R "$WORK"; exit 1; }
run -o "$WORK/corrupt.h5" --resume > /dev/null 2> "$WORK/corrupt-log.txt"
grep -q "checksum mismatch (corrupt); training" "$WORK/corrupt-log.txt" || { echo "corrupt checkpoint not reported"; cat "$WORK/corrupt-log.txt"; exit 1; }

# The killed run, resumed to the end, with a reader opening the file all along.
( while [ ! -e "$WORK/done" ]; do
    [ -e "$WORK/out.h5" ] && { "$PYTHON" -c "import h5py; h5py.File('$WORK/out.h5','r')['matrix'][()]" || touch "$WORK/reader-failed"; }
    sleep 0.1
  done ) &
reader=$!
run -o "$WORK/out.h5" --resume > /dev/null 2> "$WORK/final-log.txt"
touch "$WORK/done"
wait "$reader"
[ ! -e "$WORK/reader-failed" ] || { echo "a reader could not open the file during the run"; exit 1; }
ls "$WORK" | grep "commit-" > /dev/null && { echo "commit copies left: $(ls "$WORK")"; exit 1; }
[ ! -e "$WORK/out.h5.ckpt" ] || { echo "checkpoints left after a complete run"; exit 1; }

"$PYTHON" - "$WORK/ref.h5" "$WORK/out.h5" "$WORK/corrupt.h5" <<'PY'
import sys, h5py
def matrix(path):
    with h5py.File(path, "r") as f:
        return [(r["attack"].decode(), r["defense"].decode(), r["status"].decode(), r["acc"], r["asr"], r["ra"])
                for r in f["matrix"][()]]
ref = matrix(sys.argv[1])
for path in sys.argv[2:]:
    got = matrix(path)
    assert [g[:3] for g in got] == [r[:3] for r in ref], (path, got, ref)
    for g, r in zip(got, ref):
        for a, b in zip(g[3:], r[3:]):
            assert a == b or (a != a and b != b), (path, g, r)
print("resume: killed runs end as the uninterrupted one;", len(ref), "rows")
PY

# Progress counts against the work a run has left: stopped on SIGUSR1 in the middle and resumed, a
# run of one group (which reports the whole job's progress) ends its lines at 100%, the total
# leaving out the units the file held and the epochs the victim's checkpoint held.
wait_for_first_unit() {
  for _ in $(seq 400); do
    "$PYTHON" -c "import h5py,sys; f=h5py.File('$1','r'); sys.exit(0 if len(f['matrix']) else 1)" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "no unit reached $1"; exit 1
}
# Sends signal $2 to $3 (mpirun, or its ranks) while the ranks of mpirun $1 are frozen (SIGSTOP), so
# that they take it before they can run on: the signal cannot arrive after the run has finished.
signal_frozen() {
  pkill -STOP -P "$1"
  pgrep -P "$1" > /dev/null || { echo "the run finished before it could be stopped"; exit 1; }
  case $3 in
    mpirun) kill "-$2" "$1" ;;
    ranks) pkill "-$2" -P "$1" ;;
  esac
  sleep 0.2  # mpirun forwards a signal to the ranks asynchronously
  pkill -CONT -P "$1"
}
grep -v "^ranks_per_cell" "$WORK/spec.yaml" > "$WORK/one-group.yaml"
"$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/one-group.yaml" -o "$WORK/progress.h5" > /dev/null 2>&1 &
mpi=$!
wait_for_first_unit "$WORK/progress.h5"
signal_frozen "$mpi" USR1 mpirun
set +e; wait "$mpi"; rc=$?; set -e
[ "$rc" = 75 ] || { echo "progress: exit $rc, not 75"; exit 1; }
"$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/one-group.yaml" -o "$WORK/progress.h5" --resume > "$WORK/progress.txt" 2>&1
grep -q "resuming: [1-9]" "$WORK/progress.txt" || { echo "progress: nothing was held"; cat "$WORK/progress.txt"; exit 1; }
last=$(grep -o "done [0-9]*% | ETA [^ ]*" "$WORK/progress.txt" | tail -1)
[ "$last" = "done 100% | ETA 0m00s" ] || { echo "progress: the resumed run's last line says '$last'"; exit 1; }
echo "resume: progress of a resumed run ends at 100%"

# Stopping on a signal: SIGUSR1 to mpirun (forwarded to every rank), SIGTERM to the ranks
# themselves (as srun sends it), and SIGINT to them (Ctrl-C). Exit 75 at the next safe point, the file whole, and --resume
# finishes it as the uninterrupted run.
for how in usr1 term int; do
  "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/spec.yaml" -o "$WORK/$how.h5" > /dev/null 2> "$WORK/$how.txt" &
  mpi=$!
  wait_for_first_unit "$WORK/$how.h5"
  case $how in
    usr1) signal_frozen "$mpi" USR1 mpirun ;;
    term) signal_frozen "$mpi" TERM ranks ;;
    int) signal_frozen "$mpi" INT ranks ;;  # Ctrl-C reaches the ranks as the terminal's process group
  esac
  set +e; wait "$mpi"; rc=$?; set -e
  [ "$rc" = 75 ] || { echo "$how: exit $rc, not 75"; cat "$WORK/$how.txt"; exit 1; }
  grep -q "stopped by a signal .*finish it with --resume" "$WORK/$how.txt" || { cat "$WORK/$how.txt"; exit 1; }
  check_file "$WORK/$how.h5"
  "$PBE_DIST" inspect "$WORK/$how.h5" | grep "[1-9][0-9]* missing" > /dev/null || { echo "$how: nothing left to resume"; exit 1; }
  run -o "$WORK/$how.h5" --resume > /dev/null 2>&1
  echo "resume: stopped by $how with exit 75, then resumed"
done

"$PYTHON" - "$WORK/ref.h5" "$WORK/usr1.h5" "$WORK/term.h5" "$WORK/int.h5" <<'PY'
import sys, h5py
def matrix(path):
    with h5py.File(path, "r") as f:
        return [(r["attack"].decode(), r["defense"].decode(), r["status"].decode(), r["acc"], r["asr"]) for r in f["matrix"][()]]
ref = matrix(sys.argv[1])
for path in sys.argv[2:]:
    got = matrix(path)
    assert len(got) == len(ref) and all(a == b or (a != a and b != b) for g, r in zip(got, ref) for a, b in zip(g, r)), (path, got)
PY

# --resume refuses a truncated file and another spec's file, changing nothing.
cp "$WORK/ref.h5" "$WORK/cut.h5"
truncate -s 2000 "$WORK/cut.h5"
sum=$(md5sum < "$WORK/cut.h5")
set +e
run -o "$WORK/cut.h5" --resume > /dev/null 2> "$WORK/cut.txt"; rc=$?
set -e
[ "$rc" = 2 ] || { echo "truncated file: exit $rc"; cat "$WORK/cut.txt"; exit 1; }
grep -q "cut.h5: cannot resume: .*; nothing was changed" "$WORK/cut.txt" || { cat "$WORK/cut.txt"; exit 1; }
[ "$(md5sum < "$WORK/cut.h5")" = "$sum" ] || { echo "the truncated file was changed"; exit 1; }
sed 's/lr: 0.02/lr: 0.03/' "$WORK/spec.yaml" > "$WORK/other.yaml"
sum=$(md5sum < "$WORK/ref.h5")
set +e
"$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/other.yaml" -o "$WORK/ref.h5" --resume > /dev/null 2> "$WORK/other.txt"; rc=$?
set -e
[ "$rc" = 2 ] || { echo "another spec: exit $rc"; cat "$WORK/other.txt"; exit 1; }
grep -q "cannot resume: it was started by another spec" "$WORK/other.txt" || { cat "$WORK/other.txt"; exit 1; }
[ "$(md5sum < "$WORK/ref.h5")" = "$sum" ] || { echo "the results file was changed"; exit 1; }
echo "resume: truncated file and other spec refused"
