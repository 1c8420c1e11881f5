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

# Work that cannot fit is refused before it starts, with one line, not by the allocator or the
# OOM killer: a synthetic set larger than memory, an IDX header claiming billions of images, a
# subset larger than its set, a batch larger than the training set.
sed 's/train: 600, test: 200/train: 100000000000, test: 200/' "$SRC/tests/specs/tiny.yaml" > "$WORK/huge.yaml"
expect 2 "huge.yaml:6: dataset.synthetic: its 100000000200 images would need 13.1 TiB, more than this machine's .* of memory" \
  "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/huge.yaml" -o "$WORK/huge.h5"
mkdir -p "$WORK/idx"
for split in train t10k; do
  printf '\x00\x00\x08\x03\x7f\xff\xff\xff\x00\x00\x10\x00\x00\x00\x10\x00' > "$WORK/idx/$split-images-idx3-ubyte"
  printf '\x00\x00\x08\x01\x7f\xff\xff\xff' > "$WORK/idx/$split-labels-idx1-ubyte"
done
cat > "$WORK/idx.yaml" <<YAML
dataset: {name: mnist, path: $WORK/idx}
attacks: [none]
defenses: [none]
YAML
expect 2 "idx/train-images-idx3-ubyte: its header's 2147483647 images of 4096x4096 would need 32.0 PiB, more than" \
  "$PBE_DIST" "$WORK/idx.yaml" -o "$WORK/idx.h5"
sed 's/seed: 3}/seed: 3}\n  train_subset: 601/' "$SRC/tests/specs/tiny.yaml" > "$WORK/subset.yaml"
expect 2 "dataset.train_subset: 601 is more than the 600 images of synthetic" \
  "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/subset.yaml" -o "$WORK/subset.h5"
sed 's/batch_size: 32/batch_size: 601/' "$SRC/tests/specs/tiny.yaml" > "$WORK/batch.yaml"
expect 2 "batch.yaml: training.batch_size: 601 is more than the 600 training images" \
  "$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/batch.yaml" -o "$WORK/batch.h5"
expect 2 "batch.yaml: training.batch_size: 601 is more than the 600 training images" "$PBE_DIST" plan "$WORK/batch.yaml"
for f in huge idx subset batch; do [[ ! -e "$WORK/$f.h5" ]] || fail "a results file was written for $f.yaml"; done

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
