#!/usr/bin/env bash
# The whole suite (unit, MPI and end-to-end tests) under AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer: CMake preset "asan" (build-asan/; our code instrumented, LibTorch, MPI
# and HDF5 as installed; time limits x4). Any report fails the test that met it. Run it before you
# stop when you changed C++; docs/reliability.md has its last figures and why each suppression in
# tests/sanitize/ is there. gpu_check_dry_run is left out: it checks a release build, not our code.
# usage: scripts/sanitize.sh [ctest arguments, e.g. -R e2e_resume]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset asan > /dev/null
cmake --build --preset asan -j "$(nproc)"
# protect_shadow_gap=0: CUDA's runtime (inside LibTorch) maps memory where ASan's shadow gap is.
export ASAN_OPTIONS="protect_shadow_gap=0:detect_leaks=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --preset asan -E gpu_check_dry_run "$@"
