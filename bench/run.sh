#!/usr/bin/env bash
# Runs the benchmarks and prints each result as a ratio against its baseline from the same run.
# usage: bench/run.sh [build dir]
set -euo pipefail
BUILD=${1:-build}
"$BUILD/bench/pbe_bench_training" --benchmark_format=json --benchmark_min_time=2 > "$BUILD/bench.json"
# pbe_dist keeps freed buffers in the heap (util/memory.h, keep_freed_memory); the benchmarks run
# with glibc's defaults, and once more with the same setting through GLIBC_TUNABLES.
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=2147483647 \
  "$BUILD/bench/pbe_bench_training" --benchmark_filter=Layout --benchmark_format=json --benchmark_min_time=2 \
  > "$BUILD/bench_heap.json"
python3 - "$BUILD/bench.json" "$BUILD/bench_heap.json" <<'PY'
import json, sys
runs = {b["name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
heap = {b["name"]: b for b in json.load(open(sys.argv[2]))["benchmarks"]}
step1 = runs["BM_TrainStep/threads:1/real_time"]
step2 = runs["BM_TrainStep/threads:2/real_time"]
pack = runs["BM_GradientPackUnpack/real_time"]
pred = runs["BM_Predict/real_time"]
print(f"train step, batch 128, 1 thread : {step1['items_per_second']:.0f} img/s (baseline 1.00x)")
print(f"train step, batch 128, 2 threads: {step2['items_per_second']:.0f} img/s ({step2['items_per_second'] / step1['items_per_second']:.2f}x)")
print(f"gradient pack+unpack per step   : {pack['real_time'] / step1['real_time']:.3f}x of a 1-thread train step")
print(f"prediction, 1 thread            : {pred['items_per_second'] / step1['items_per_second']:.2f}x the training throughput")
for kind in ("TrainStep", "Pgd"):
    nchw = runs[f"BM_Layout{kind}/channels_last:0/real_time"]["items_per_second"]
    nhwc = runs[f"BM_Layout{kind}/channels_last:1/real_time"]["items_per_second"]
    kept = heap[f"BM_Layout{kind}/channels_last:1/real_time"]["items_per_second"]
    print(f"{kind:9s} batch 64, 1 thread, NCHW weights: {nchw:.0f} img/s (baseline 1.00x); channels-last: "
          f"{nhwc:.0f} img/s ({nhwc / nchw:.2f}x); channels-last, freed memory kept: {kept:.0f} img/s ({kept / nchw:.2f}x)")
PY

# Collectives and sharded PGD under mpirun: 1 rank x 1 thread is the baseline.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
COLL="$BUILD/bench/pbe_bench_collectives"
# mpirun binds each rank to a core by default: two threads of one bound rank share one core, so
# the 2-thread case runs unbound (and, for comparison, bound).
{
  mpirun -np 1 "$COLL" 1
  mpirun -np 2 "$COLL" 1
  mpirun -np 1 --bind-to none "$COLL" 2
  mpirun -np 1 "$COLL" 2
} > "$BUILD/bench_collectives.jsonl"
python3 - "$BUILD/bench_collectives.jsonl" <<'PY'
import json, sys
one, two, threads, bound = [json.loads(line) for line in open(sys.argv[1])]
for row in two["allreduce"]:
    gbs = row["bytes"] / row["allreduce_s"] / 1e9
    print(f"allreduce {row['bytes'] / 1024:>8.0f} KiB, 2 ranks: {gbs:6.2f} GB/s "
          f"({row['copy_s'] / row['allreduce_s']:.3f}x the speed of a local copy)")
base = one["pgd_images_per_s"]
print(f"PGD (7 steps), 1 rank x 1 thread : {base:.0f} img/s (baseline 1.00x)")
print(f"PGD (7 steps), 2 ranks x 1 thread: {two['pgd_images_per_s']:.0f} img/s ({two['pgd_images_per_s'] / base:.2f}x)")
print(f"PGD (7 steps), 1 rank x 2 threads: {threads['pgd_images_per_s']:.0f} img/s ({threads['pgd_images_per_s'] / base:.2f}x)")
print(f"  the same under mpirun's default core binding: {bound['pgd_images_per_s'] / base:.2f}x")
PY
