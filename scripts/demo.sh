#!/usr/bin/env bash
# Quick start (1): set up, build, run the default demo - experiments/quick.yaml on 2 MPI ranks - and
# report it. Prints progress, the attack x defense table, then where the Markdown report and the
# figures are. Each phase says how long it took; a second run finds setup and build done and starts
# the run within seconds. Results go to a new file under results/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/phase.sh
phase setup scripts/setup.sh
phase build scripts/build.sh --target pbe_dist
MPIRUN_FLAGS=(--oversubscribe)
[[ $(id -u) -eq 0 ]] && MPIRUN_FLAGS+=(--allow-run-as-root)
OUT="results/quick-$(date +%Y%m%d-%H%M%S).h5"
phase run mpirun -np 2 "${MPIRUN_FLAGS[@]}" build/launcher/pbe_dist experiments/quick.yaml -o "$OUT"
REPORT="${OUT%.h5}"
phase report build/launcher/pbe_dist report "$OUT" --figures --out "$REPORT"
echo "demo: results $OUT"
echo "demo: report $REPORT/report.md"
echo "demo: figures $REPORT/figures/"
