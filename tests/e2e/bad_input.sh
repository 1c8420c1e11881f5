#!/usr/bin/env bash
# Bad input gets one clear line and exit code 2, and never touches existing results.
# usage: bad_input.sh PBE_DIST MPIEXEC SOURCE_DIR
set -uo pipefail
PBE_DIST=$1 MPIEXEC=$2 SRC=$3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect CODE PATTERN command...: exit code and a stderr line matching PATTERN.
expect() {
  local code=$1 pattern=$2
  shift 2
  "$@" > "$WORK/stdout" 2> "$WORK/stderr"
  local got=$?
  [[ $got == "$code" ]] || fail "exit $got (expected $code) from: $* ; stderr: $(cat "$WORK/stderr")"
  grep -qE "$pattern" "$WORK/stderr" || fail "stderr of '$*' lacks /$pattern/: $(cat "$WORK/stderr")"
  [[ $(grep -c "error" "$WORK/stderr") == 1 ]] || fail "expected exactly one error line: $(cat "$WORK/stderr")"
}

sed 's/epochs: 4/epochz: 4/' "$SRC/tests/specs/tiny.yaml" > "$WORK/typo.yaml"
expect 2 "typo.yaml:11: training.epochz: unknown key" "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/typo.yaml" -o "$WORK/typo.h5"
[[ ! -e "$WORK/typo.h5" ]] || fail "a results file was written for a bad spec"

sed 's/name: badnets/name: badnetz/' "$SRC/tests/specs/tiny.yaml" > "$WORK/name.yaml"
expect 2 "name.yaml:16: attacks\[1\].name: unknown attack 'badnetz'" "$PBE_DIST" "$WORK/name.yaml" -o "$WORK/n.h5"

cat > "$WORK/data.yaml" <<YAML
dataset: {name: mnist, path: $WORK/nodata}
attacks: [none]
defenses: [none]
YAML
expect 2 "nodata/train-images-idx3-ubyte.gz: file not found" "$PBE_DIST" "$WORK/data.yaml" -o "$WORK/d.h5"
[[ ! -e "$WORK/d.h5" ]] || fail "a results file was written although the data is missing"

# An existing results file is refused and left byte-for-byte intact.
echo "precious results" > "$WORK/old.h5"
expect 2 "old.h5: results file exists; pass --overwrite" "$MPIEXEC" -n 2 "$PBE_DIST" "$SRC/tests/specs/tiny.yaml" -o "$WORK/old.h5"
[[ $(cat "$WORK/old.h5") == "precious results" ]] || fail "existing results file was modified"
# With --overwrite it is replaced by the run's results.
"$MPIEXEC" -n 2 "$PBE_DIST" "$SRC/tests/specs/tiny.yaml" -o "$WORK/old.h5" --overwrite > /dev/null 2>&1 || fail "--overwrite run failed"
"$PBE_DIST" inspect "$WORK/old.h5" > "$WORK/inspect.txt" 2>&1 || fail "the overwritten file: $(cat "$WORK/inspect.txt")"
grep -q "6 done, 0 failed, 0 missing" "$WORK/inspect.txt" || fail "the overwritten file: $(cat "$WORK/inspect.txt")"

"$PBE_DIST" run > /dev/null 2>&1; [[ $? == 2 ]] || fail "missing spec argument must exit 2"
"$PBE_DIST" --help > "$WORK/help.txt" || fail "--help failed"
grep -q "^Usage: pbe_dist \[OPTIONS\] SUBCOMMAND" "$WORK/help.txt" || fail "--help does not name the program: $(head -3 "$WORK/help.txt")"
"$PBE_DIST" plan "$SRC/tests/specs/tiny.yaml" -o "$WORK/plan.h5" > "$WORK/plan.txt" || fail "plan failed"
grep -q "3 cells" "$WORK/plan.txt" || fail "plan output: $(cat "$WORK/plan.txt")"
grep -q "> $WORK/plan.h5$" "$WORK/plan.txt" || fail "plan does not name the output it plans: $(cat "$WORK/plan.txt")"
[[ ! -e "$WORK/plan.h5" && ! -e "$WORK/plan.h5.ckpt" ]] || fail "plan wrote its output"
# Without its data, a spec is planned from the official dataset size (sizing a cluster allocation).
"$PBE_DIST" plan "$SRC/experiments/all-gtsrb.yaml" -o "$WORK/none.h5" > "$WORK/plan-gtsrb.txt" 2>&1 || fail "plan without data: $(cat "$WORK/plan-gtsrb.txt")"
grep -q "sized as the official 39209-image training set" "$WORK/plan-gtsrb.txt" || fail "plan without data: $(cat "$WORK/plan-gtsrb.txt")"
grep -q "^24 cells (8 attacks x 3 seeds)" "$WORK/plan-gtsrb.txt" || fail "plan without data: $(cat "$WORK/plan-gtsrb.txt")"
echo "bad_input: ok"
