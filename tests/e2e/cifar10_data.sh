#!/usr/bin/env bash
# The real CIFAR-10: scripts/get_cifar10.sh from each kind of source (the JPEG copy, the official
# tarball's layout, a folder), its one-line refusals (a corrupt batch, a tarball without batches, an
# existing DEST left as it was), then a small BadNets run on 2 ranks on the real images (PreAct-
# ResNet-18 at width 8, 5,000 images, PBE) that learns and whose report renders. Skipped (77; 1 under PBE_NO_SKIP=1, as in CI) without the JPEG copy in
# ../shared/data (or $PBE_SHARED_DATA).
# usage: cifar10_data.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR
set -euo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4
SHARED=${PBE_SHARED_DATA:-$SRC/../shared/data}
source "$(dirname "$0")/skip.sh"
[[ -f $SHARED/cifar10-jpeg.tar.gz ]] || skip "no $SHARED/cifar10-jpeg.tar.gz"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export PBE_DIST
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
GET=$SRC/scripts/get_cifar10.sh
fail() { echo "FAIL: $*"; exit 1; }
# expect_refusal WHAT LINE_PATTERN -- command...: exit 2, one line on stderr matching the pattern.
expect_refusal() {
  local what=$1 pattern=$2 rc=0
  shift 3
  "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
  [[ $rc == 2 ]] || fail "$what: exit $rc, expected 2: $(cat "$WORK/err")"
  [[ $(wc -l < "$WORK/err") == 1 ]] || fail "$what: not one line: $(cat "$WORK/err")"
  grep -q -- "$pattern" "$WORK/err" || fail "$what: '$(cat "$WORK/err")' does not say '$pattern'"
}

# The JPEG copy, converted and checked.
"$GET" "$SHARED/cifar10-jpeg.tar.gz" "$WORK/jpeg" > "$WORK/jpeg.txt"
grep -q "50000 training images, 10000 test images" "$WORK/jpeg.txt" || fail "$(cat "$WORK/jpeg.txt")"
grep -q "training images per class: 5000 5000 5000 5000 5000 5000 5000 5000 5000 5000" "$WORK/jpeg.txt" ||
  fail "$(cat "$WORK/jpeg.txt")"
[[ -z $(ls -d "$WORK"/jpeg.partial.* 2> /dev/null) ]] || fail "a partial folder was left behind"

# The official tarball's layout (cifar-10-batches-bin/...), byte for byte through extraction.
mkdir "$WORK/official" && cp -r "$WORK/jpeg" "$WORK/official/cifar-10-batches-bin"
tar -czf "$WORK/cifar-10-binary.tar.gz" -C "$WORK/official" cifar-10-batches-bin
"$GET" "$WORK/cifar-10-binary.tar.gz" "$WORK/from-tarball" > /dev/null
for f in data_batch_{1..5}.bin test_batch.bin; do
  cmp -s "$WORK/jpeg/$f" "$WORK/from-tarball/$f" || fail "$f differs after the tarball"
done

# A folder, copied; the same folder as DEST, checked in place.
"$GET" "$WORK/from-tarball" "$WORK/from-folder" > /dev/null
cmp -s "$WORK/jpeg/test_batch.bin" "$WORK/from-folder/test_batch.bin" || fail "folder copy differs"
"$GET" "$WORK/from-folder" "$WORK/from-folder" | grep "the whole release" > /dev/null || fail "in-place check"

# Refusals: one line, exit 2, nothing left at DEST.
cp -r "$WORK/jpeg" "$WORK/short" && truncate -s 30727000 "$WORK/short/data_batch_3.bin"
expect_refusal "truncated batch" "short/data_batch_3.bin: 9999 records, the release's batches have 10000" -- \
  "$GET" "$WORK/short" "$WORK/dest1"
[[ ! -e $WORK/dest1 ]] || fail "DEST made from a truncated batch"
cp "$WORK/short/data_batch_1.bin" "$WORK/short/data_batch_3.bin"
expect_refusal "duplicated batch" "short: class [0-9] has [0-9]* training images, the release has 5000 of each" -- \
  "$GET" "$WORK/short" "$WORK/dest1"
tar -czf "$WORK/other.tar.gz" -C "$WORK/jpeg" batches.meta.txt
expect_refusal "unrelated tarball" "other.tar.gz: neither CIFAR-10's binary tarball" -- \
  "$GET" "$WORK/other.tar.gz" "$WORK/dest1"
head -c 1000000 "$WORK/cifar-10-binary.tar.gz" > "$WORK/cut.tar.gz"
expect_refusal "cut download" "cut.tar.gz" -- "$GET" "$WORK/cut.tar.gz" "$WORK/dest1"
[[ ! -e $WORK/dest1 ]] || fail "DEST made from a refused source"
expect_refusal "existing DEST" "from-folder exists" -- "$GET" "$WORK/jpeg" "$WORK/from-folder"
cmp -s "$WORK/jpeg/test_batch.bin" "$WORK/from-folder/test_batch.bin" || fail "existing DEST was touched"
echo "get_cifar10: JPEG copy, tarball and folder accepted; 5 bad sources refused in one line"

# A small run on the real images: 2 ranks, BadNets, PBE; the report renders the CIFAR-10 table.
cat > "$WORK/spec.yaml" <<EOF
name: cifar10-e2e
output: $WORK/run.h5
dataset: {name: cifar10, path: $WORK/jpeg, train_subset: 5000, test_subset: 1000}
model: {name: preact-resnet18, width: 8}
training: {epochs: 3, batch_size: 128, lr: 0.05, momentum: 0.9, weight_decay: 5.0e-4, schedule: cosine}
attacks:
  - {name: badnets, poison_rate: 0.1, target: 0}
defenses:
  - none
  - {name: pbe, steps: 2, epochs_per_step: 1, fractions: [0.5]}
probes: {samples: 200, dump_samples: 0}
seeds: [0]
EOF
"$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/spec.yaml" > "$WORK/run.log" 2>&1 || { tail -5 "$WORK/run.log"; fail "run"; }
"$PBE_DIST" report "$WORK/run.h5" > "$WORK/report.md"
"$PYTHON" - "$WORK/run.h5" <<'PY'
import sys, h5py
m = h5py.File(sys.argv[1], "r")["matrix"][:]
rows = {(r["attack"].decode(), r["defense"].decode()): r for r in m}
before = rows[("badnets", "none")]
# 3 epochs on 5,000 real images learn (chance: 10%); they do not implant BadNets yet (ASR 15%
# measured), which the experiments/cifar10-*.yaml victims do.
assert before["acc"] > 0.30, before
assert all(r["status"] == b"done" for r in rows.values()), rows
assert ("badnets", "pbe") in rows, rows.keys()
print(f"cifar10 run: ACC {before['acc']:.3f}, ASR {before['asr']:.3f} before defense")
PY
grep -q "^| badnets | " "$WORK/report.md" || { cat "$WORK/report.md"; fail "no BadNets row in the report"; }
