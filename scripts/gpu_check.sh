#!/usr/bin/env bash
# The GPU checks, as one script for a session lent the GPU machine (device tool): build the cuda
# preset against PyTorch's CUDA LibTorch and NCCL, then run the NCCL collective tests on 1 rank.
# usage: scripts/gpu_check.sh   (from the repository root; results in $OUT when set)
set -euo pipefail
export PBE_TORCH_PREFIX=${PBE_TORCH_PREFIX:-$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
LOG=${OUT:-.}/gpu_check.log
{
  nvidia-smi --query-gpu=name,memory.total --format=csv
  cmake --preset cuda -DPBE_BUILD_BENCH=OFF -DPBE_USE_CCACHE=OFF
  cmake --build --preset cuda -j "$(nproc)" --target pbe_mpi_tests
  mpirun -np 1 build-cuda/tests/pbe_mpi_tests --gtest_filter='NcclProcessGroup.*:ProcessGroup.*'
} 2>&1 | tee "$LOG"
