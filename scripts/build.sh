#!/usr/bin/env bash
# Configures (CMake preset "release") and builds pbe-dist into build/. Extra arguments go to the build.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release > /dev/null
cmake --build --preset release -j "$(nproc)" "$@"
