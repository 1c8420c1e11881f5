#!/usr/bin/env bash
# Runs the benchmarks and prints each result as a ratio against its baseline from the same run.
# usage: bench/run.sh [build dir]
set -euo pipefail
BUILD=${1:-build}
"$BUILD/bench/pbe_bench_training" --benchmark_format=json --benchmark_min_time=2 > "$BUILD/bench.json"
python3 - "$BUILD/bench.json" <<'PY'
import json, sys
runs = {b["name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
step1 = runs["BM_TrainStep/threads:1/real_time"]
step2 = runs["BM_TrainStep/threads:2/real_time"]
pack = runs["BM_GradientPackUnpack/real_time"]
pred = runs["BM_Predict/real_time"]
print(f"train step, batch 128, 1 thread : {step1['items_per_second']:.0f} img/s (baseline 1.00x)")
print(f"train step, batch 128, 2 threads: {step2['items_per_second']:.0f} img/s ({step2['items_per_second'] / step1['items_per_second']:.2f}x)")
print(f"gradient pack+unpack per step   : {pack['real_time'] / step1['real_time']:.3f}x of a 1-thread train step")
print(f"prediction, 1 thread            : {pred['items_per_second'] / step1['items_per_second']:.2f}x the training throughput")
PY
