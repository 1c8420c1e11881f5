#!/usr/bin/env bash
# The spec's compute options through pbe_dist on 2 ranks: tiny.yaml in bf16 autocast with
# channels-last weights learns what float32 learns, and the results file records how it ran. Each
# option reaches the training: channels-last weights alone change the victim's losses in the last
# bits (other kernels), bf16 by more than 0.1%.
# `device: cuda` (1 rank) on a host without a GPU is one error line and exit 2, nothing written; on
# a host with one, it learns what the CPU learns.
# usage: compute_options.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR
set -euo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
with() { sed "s/^seeds: \[0\]/seeds: [0]\n$1/" "$SRC/tests/specs/tiny.yaml" > "$WORK/$2.yaml"; }
with 'precision: bf16\nchannels_last: true' bf16
with 'device: cuda' cuda
with 'channels_last: true' channels-last

"$MPIEXEC" -n 2 "$PBE_DIST" "$SRC/tests/specs/tiny.yaml" -o "$WORK/fp32.h5" > /dev/null 2>&1
"$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/bf16.yaml" -o "$WORK/bf16.h5" > /dev/null 2> "$WORK/bf16.log"
grep -q "cpu (mpi, bf16, channels_last)" "$WORK/bf16.log" || { echo "the log does not say how it runs"; cat "$WORK/bf16.log"; exit 1; }
"$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/channels-last.yaml" -o "$WORK/channels-last.h5" > /dev/null 2>&1
"$PYTHON" - "$WORK/fp32.h5" "$WORK/channels-last.h5" "$WORK/bf16.h5" <<'PY'
import sys, h5py, numpy as np
def losses(path):
    with h5py.File(path, "r") as f:
        return f["cells/synthetic/small-cnn/badnets/seed0/attack/curves/loss"][()]
fp32, cl, bf16 = (losses(p) for p in sys.argv[1:4])
assert not np.array_equal(fp32, cl) and np.allclose(fp32, cl, rtol=1e-3), ("channels_last", fp32, cl)
assert np.abs(bf16 - fp32).max() / np.abs(fp32).max() > 1e-3, ("bf16 computes as fp32", fp32, bf16)
PY

set +e
"$MPIEXEC" -n 1 "$PBE_DIST" "$WORK/cuda.yaml" -o "$WORK/cuda.h5" > "$WORK/cuda.out" 2> "$WORK/cuda.err"
rc=$?
set -e
if [ "$rc" = 2 ]; then  # no GPU here
  [ "$(grep -c '^pbe_dist:' "$WORK/cuda.err")" = 1 ] || { echo "not one line:"; cat "$WORK/cuda.err"; exit 1; }
  grep -q "cuda.yaml: device cuda: rank 0 sees no CUDA GPU" "$WORK/cuda.err" || { cat "$WORK/cuda.err"; exit 1; }
  [ ! -e "$WORK/cuda.h5" ] || { echo "a results file was written"; exit 1; }
elif [ "$rc" != 0 ]; then
  echo "device cuda: exit $rc"; cat "$WORK/cuda.err"; exit 1
fi

"$PYTHON" - "$WORK/fp32.h5" "$WORK/bf16.h5" "$([ "$rc" = 0 ] && echo "$WORK/cuda.h5")" <<'PY'
import sys, h5py
def compute(path):
    with h5py.File(path, "r") as f:
        return {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f["provenance/compute"].attrs.items()}
fp32 = compute(sys.argv[1])
assert fp32["precision"] == "fp32" and fp32["channels_last"] == "false" and fp32["device"] == "cpu", fp32
assert fp32["backend"] == "mpi", fp32
runs = [(sys.argv[2], {"precision": "bf16", "channels_last": "true", "device": "cpu"})]
if sys.argv[3]:
    runs.append((sys.argv[3], {"device": "cuda:0", "backend": "single"}))
for path, expected in runs:
    got = compute(path)
    for k, v in expected.items():
        assert got[k] == v, (path, k, got)
PY
# The clean model and BadNets learn the same in bf16 (and on the GPU) as in float32.
"$PYTHON" "$SRC/tests/e2e/matrix_agrees.py" "$WORK/fp32.h5" "$WORK/bf16.h5" $([ "$rc" = 0 ] && echo "$WORK/cuda.h5") > "$WORK/agree.txt" ||
  { cat "$WORK/agree.txt"; exit 1; }
echo "compute options: fp32/bf16 rows agree; $([ "$rc" = 0 ] && echo "cuda run checked" || echo "no GPU: cuda refused")"
