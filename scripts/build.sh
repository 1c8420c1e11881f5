#!/usr/bin/env bash
# Configures (CMake preset "cpu") and builds pbe-dist into build/. Extra arguments go to the build.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset cpu > /dev/null
cmake --build --preset cpu -j "$(nproc)" "$@"
