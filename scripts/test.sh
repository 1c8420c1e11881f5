#!/usr/bin/env bash
# Quick start (2): set up, build, and run the whole test suite through ctest. Each phase says how
# long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/phase.sh
phase setup scripts/setup.sh
phase build scripts/build.sh
phase tests ctest --preset release
