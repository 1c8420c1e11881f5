#!/usr/bin/env bash
# Quick start (1): set up, build, and run the default demo - experiments/quick.yaml on 2 MPI ranks.
# Prints progress, then the attack x defense table. Results go to a new file under results/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh --target pbe_dist
MPIRUN_FLAGS=(--oversubscribe)
[[ $(id -u) -eq 0 ]] && MPIRUN_FLAGS+=(--allow-run-as-root)
OUT="results/quick-$(date +%Y%m%d-%H%M%S).h5"
mpirun -np 2 "${MPIRUN_FLAGS[@]}" build/launcher/pbe_dist experiments/quick.yaml -o "$OUT"
