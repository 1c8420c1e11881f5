#!/usr/bin/env bash
# The GPU checks, one run for a session lent the GPU machine (device tool), within 8 minutes on
# its 16 cores. Stages, each timed, each run even when an earlier one failed (but the build):
#   machine  what the machine has (GPU, PyTorch, compilers, MPI, NCCL)
#   build    configure + build the release preset (PyTorch 2.11's LibTorch, CUDA 13, NCCL from
#            the torch venv, deps/ carried from here)
#   tests    the NCCL collectives on the GPU, placement and autocast tests, e2e_compute_options
#   tiny     tests/specs/tiny.yaml: CPU, cuda fp32, cuda bf16 + channels_last, 2 ranks on one GPU
#            over MPI; wall time of each; every run's /matrix within docs/gpu.md's tolerance of the CPU's
#   bench    bench/throughput.sh: the project's PreAct-ResNet-18 training step and PGD-7 against
#            PyTorch (Python), batch 128 and 512, fp32 / tf32 / bf16 + channels_last
#   cifar10  experiments/gpu-check.yaml: PreAct-ResNet-18, BadNets, a 10-epoch victim, PBE; its
#            table and the wall time of each unit (the rest of the time budget)
# Everything goes to $OUT/gpu_check.log; the cell's results file to $OUT/gpu-check.h5.
#
# usage: scripts/gpu_check.sh --prepare   here, before the device call: deps/ and CIFAR-10's
#                                         archive in shared/data/ (which the device tool carries)
#        scripts/gpu_check.sh             on the GPU machine, from the repository root:
#          device run: command "scripts/gpu_check.sh", carry ["deps", "shared"], timeout_s 560
#        scripts/gpu_check.sh --dry-run BUILD   every stage on the CPU with small sizes, against an
#                                         existing build (no configure); ctest runs it
# Exit 77 (skipped) without the CIFAR-10 archive (1 under PBE_NO_SKIP=1, as in CI).
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
MODE=gpu BUILD=build
case ${1:-} in
  --prepare) MODE=prepare ;;
  --dry-run) MODE=dry; BUILD=${2:?--dry-run needs the build directory} ;;
  "") ;;
  *) echo "usage: scripts/gpu_check.sh [--prepare | --dry-run BUILD]" >&2; exit 2 ;;
esac
# CIFAR-10 (the JPEG archive and its converter): shared/data in the checkout (--prepare puts them
# there for the device tool), or ../shared/data beside it (the development machines and CI).
DATA=shared/data
[[ -f $DATA/cifar10-jpeg.tar.gz || $MODE == prepare ]] || DATA=../shared/data

if [[ $MODE == prepare ]]; then
  set -e
  scripts/deps.sh
  mkdir -p $DATA
  cp ../shared/data/cifar10-jpeg.tar.gz ../shared/data/cifar10_to_bin.py $DATA/
  echo "prepared: deps/ ($(du -sh deps | cut -f1)), shared/data ($(du -sh shared/data | cut -f1))"
  echo 'device run: command "scripts/gpu_check.sh", carry ["deps", "shared"], timeout_s 560'
  exit 0
fi

if [[ ! -f $DATA/cifar10-jpeg.tar.gz ]]; then
  echo "gpu_check: no CIFAR-10 archive in shared/data or ../shared/data (scripts/gpu_check.sh --prepare)"
  [[ ${PBE_NO_SKIP:-0} == 1 ]] && exit 1  # CI has the archive: its dry run must not skip
  exit 77
fi
BUDGET=${GPU_CHECK_BUDGET:-480}  # seconds; the cell gets what the stages before it leave
WORK=$(mktemp -d)
CONVERT=""
trap '[[ -n $CONVERT ]] && kill $CONVERT 2> /dev/null; rm -rf "$WORK"' EXIT
OUT=${OUT:-$WORK}
exec > >(tee "$OUT/gpu_check.log") 2>&1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export PYTHONUNBUFFERED=1
PBE_DIST=$BUILD/launcher/pbe_dist
FAILED=()

stage() {
  local name=$1 t0=$SECONDS rc
  shift
  echo "== $name ($(date -u +%H:%M:%S), ${SECONDS} s in)"
  "$@"
  rc=$?
  if ((rc == 0)); then echo "== $name: ok, $((SECONDS - t0)) s"
  else echo "== $name: FAILED (exit $rc), $((SECONDS - t0)) s"; FAILED+=("$name"); fi
  return $rc
}

# The Python with h5py (and Pillow and numpy for the CIFAR-10 conversion): the GPU machine's
# python3 has them all; here Debian's.
PYTHON=python3
[[ $MODE == dry && -x /usr/bin/python3 ]] && PYTHON=/usr/bin/python3
# On the CPU the device-dependent keys become the CPU's.
DEVICE=cuda
[[ $MODE == dry ]] && DEVICE=cpu

# A copy of spec $1 at $2 with each "old=>new" line replacement applied (each must match).
spec_with() {
  local from=$1 to=$2
  shift 2
  "$PYTHON" - "$from" "$to" "$@" <<'PY'
import sys
text = open(sys.argv[1]).read()
for rule in sys.argv[3:]:
    old, new = rule.split("=>")
    if old not in text:
        sys.exit(f"spec_with: '{old}' not in {sys.argv[1]}")
    text = text.replace(old, new, 1)
open(sys.argv[2], "w").write(text)
PY
}

machine() {
  if command -v nvidia-smi > /dev/null; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  else echo "no nvidia-smi"; fi
  local torch_python=python3
  [[ $MODE == dry ]] && torch_python=.venv/bin/python
  "$torch_python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'gpu', torch.cuda.is_available())"
  cmake --version | head -1; c++ --version | head -1; nvcc --version 2>&1 | tail -1
  mpirun --version 2>&1 | head -1
  echo "cores: $(nproc)"
}

build() {
  if [[ $MODE == gpu ]]; then
    # No ccache there; pbe_dist report's figures and the e2e tests need the python with h5py.
    cmake --preset release -DPBE_USE_CCACHE=OFF -DPBE_PYTHON="$(command -v python3)" > "$WORK/configure.log" 2>&1 ||
      { cat "$WORK/configure.log"; cat build/CMakeFiles/CMakeConfigureLog.yaml 2>/dev/null | tail -40; return 1; }
    grep -E "LibTorch|NCCL backend|CUDAToolkit" "$WORK/configure.log"
  fi
  cmake --build "$BUILD" -j "$(nproc)" --target pbe_dist pbe_unit_tests pbe_mpi_tests pbe_bench_throughput \
    > "$WORK/build.log" 2>&1 || { grep -B2 -A12 -E "error|Error" "$WORK/build.log" | head -80; return 1; }
}

tests() {
  local rc=0
  mpirun -np 1 "$BUILD/tests/pbe_mpi_tests" --gtest_filter='NcclProcessGroup.*:ProcessGroup.*' --gtest_brief=1 || rc=1
  "$BUILD/tests/pbe_unit_tests" --gtest_filter='Placement.*:Autocast.*' --gtest_brief=1 || rc=1
  ctest --test-dir "$BUILD" -R e2e_compute_options --output-on-failure || rc=1
  return $rc
}

tiny() {
  local t0 rc=0 run name ranks spec
  spec_with tests/specs/tiny.yaml "$WORK/fp32.yaml" "seeds: [0]=>seeds: [0]
device: $DEVICE"
  spec_with tests/specs/tiny.yaml "$WORK/bf16.yaml" "seeds: [0]=>seeds: [0]
device: $DEVICE
precision: bf16
channels_last: true"
  spec_with tests/specs/tiny.yaml "$WORK/mpi.yaml" "seeds: [0]=>seeds: [0]
device: $DEVICE
backend: mpi"
  for run in "cpu:1:tests/specs/tiny.yaml" "fp32:1:$WORK/fp32.yaml" "bf16:1:$WORK/bf16.yaml" "mpi:2:$WORK/mpi.yaml"; do
    IFS=: read -r name ranks spec <<< "$run"
    t0=$SECONDS
    mpirun -np "$ranks" "$PBE_DIST" "$spec" -o "$WORK/tiny-$name.h5" > "$WORK/tiny-$name.log" 2>&1 ||
      { echo "tiny $name: exit $?"; tail -5 "$WORK/tiny-$name.log"; rc=1; continue; }
    echo "tiny $name ($ranks rank(s)): $((SECONDS - t0)) s"
  done
  ((rc == 0)) || return 1
  # The same tolerance as e2e_compute_options (docs/gpu.md).
  "$PYTHON" tests/e2e/matrix_agrees.py "$WORK"/tiny-{cpu,fp32,bf16,mpi}.h5
}

bench() {
  if [[ $MODE == gpu ]]; then
    bench/throughput.sh --build "$BUILD" --python python3 --device cuda --min-time 1
  else
    bench/throughput.sh --build "$BUILD" --device cpu --width 8 --batches 16 --modes fp32,bf16+cl --steps 2 --min-time 0.1
  fi
}

cifar10() {
  local data=$WORK/cifar10 spec=$WORK/gpu-check.yaml left
  wait $CONVERT || { cat "$WORK/cifar10_to_bin.log"; return 1; }
  if [[ $MODE == gpu ]]; then
    spec_with experiments/gpu-check.yaml "$spec" "path: shared/data/cifar10=>path: $data"
  else  # the same cell in miniature on the CPU (channels-last convolutions: see docs/performance.md)
    spec_with experiments/gpu-check.yaml "$spec" "path: shared/data/cifar10=>path: $data
  train_subset: 1000
  test_subset: 500" "device: cuda=>device: cpu" "precision: bf16=>precision: fp32" \
      "channels_last: true=>channels_last: false" "name: preact-resnet18=>name: preact-resnet18
  width: 8" "epochs: 10=>epochs: 1" "  - pbe=>  - name: pbe
    steps: 2
    epochs_per_step: 1
    adversarial_batches: 2
    fractions: [0.5]"
  fi
  left=$((BUDGET - SECONDS))
  ((left >= 60)) || { echo "skipped: ${left} s left of the ${BUDGET} s budget"; return 1; }
  timeout "$left" "$PBE_DIST" "$spec" -o "$OUT/gpu-check.h5" || return 1
  "$PBE_DIST" report "$OUT/gpu-check.h5"
  "$PYTHON" - "$OUT/gpu-check.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    def show(name, node):
        if "seconds" in node.attrs:
            print(f"{name}: {node.attrs['seconds']:.1f} s")
    f["cells"].visititems(show)
PY
}

# CIFAR-10's batches for the last stage, made meanwhile (one core, about 30 s).
"$PYTHON" $DATA/cifar10_to_bin.py "$WORK/cifar10" $DATA/cifar10-jpeg.tar.gz > "$WORK/cifar10_to_bin.log" 2>&1 &
CONVERT=$!

stage machine machine
stage build build || { echo "gpu_check: the build failed; nothing else can run"; exit 1; }
stage tests tests
stage tiny tiny
stage bench bench
stage cifar10 cifar10
echo "gpu_check: ${SECONDS} s in all; failed stages: ${FAILED[*]:-none}"
((${#FAILED[@]} == 0))
