#!/usr/bin/env bash
# The GPU checks, as one script for a session lent the GPU machine (device tool): build the cuda
# preset against PyTorch's CUDA LibTorch and NCCL, run the tests that need a GPU (NCCL
# collectives, models and training on cuda, tiny.yaml with device: cuda), then time tiny.yaml on
# the GPU against the CPU.
# usage: scripts/gpu_check.sh   (from the repository root; log in $OUT when set)
set -euo pipefail
export PBE_TORCH_PREFIX=${PBE_TORCH_PREFIX:-$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
LOG=${OUT:-.}/gpu_check.log
timed() { local t0=$SECONDS; "$@" > /dev/null; echo "$((SECONDS - t0)) s: $*"; }
{
  nvidia-smi --query-gpu=name,memory.total --format=csv
  cmake --preset cuda -DPBE_BUILD_BENCH=OFF -DPBE_USE_CCACHE=OFF
  cmake --build --preset cuda -j "$(nproc)" --target pbe_dist pbe_unit_tests pbe_mpi_tests
  mpirun -np 1 build-cuda/tests/pbe_mpi_tests --gtest_filter='NcclProcessGroup.*:ProcessGroup.*'
  build-cuda/tests/pbe_unit_tests --gtest_filter='Placement.*:Autocast.*'
  ctest --test-dir build-cuda -R e2e_compute_options --output-on-failure
  for precision in fp32 bf16; do
    sed "s/^seeds: \[0\]/seeds: [0]\ndevice: cuda\nprecision: $precision\nchannels_last: true/" tests/specs/tiny.yaml > /tmp/tiny-cuda.yaml
    timed build-cuda/pbe_dist /tmp/tiny-cuda.yaml -o "/tmp/tiny-cuda-$precision.h5" --overwrite
  done
  timed build-cuda/pbe_dist tests/specs/tiny.yaml -o /tmp/tiny-cpu.h5 --overwrite
} 2>&1 | tee "$LOG"
