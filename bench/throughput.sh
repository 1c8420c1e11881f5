#!/usr/bin/env bash
# PreAct-ResNet-18 (3x32x32) training-step and PGD-7 throughput of the project (LibTorch:
# pbe_bench_throughput) against PyTorch in Python (throughput_reference.py): the same model,
# steps, batches, compute modes and threads, in one run. Prints img/s of each and their ratio;
# with --other-build, also another build of the project (e.g. against another LibTorch) and the
# ratio against it.
# usage: bench/throughput.sh [--build DIR] [--other-build DIR] [--python PY] [--min-time S]
#            [--device cpu|cuda] [--width W] [--batches 128,512] [--modes fp32,tf32,bf16+cl]
#            [--steps N] [--threads N]
# Defaults: build/, .venv's python (else python3), 2 s per figure, the settings' defaults.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build OTHER="" PYTHON="" MIN_TIME=2 SETTINGS=()
while (($#)); do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --other-build) OTHER=$2; shift 2 ;;
    --python) PYTHON=$2; shift 2 ;;
    --min-time) MIN_TIME=$2; shift 2 ;;
    --device|--width|--batches|--modes|--steps|--threads) SETTINGS+=("$1" "$2"); shift 2 ;;
    *) echo "throughput.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n $PYTHON ]] || { [[ -x $SRC/.venv/bin/python ]] && PYTHON=$SRC/.venv/bin/python || PYTHON=python3; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$BUILD/bench/pbe_bench_throughput" "${SETTINGS[@]}" --benchmark_min_time="$MIN_TIME" \
  --benchmark_format=json > "$WORK/project.json"
if [[ -n $OTHER ]]; then
  "$OTHER/bench/pbe_bench_throughput" "${SETTINGS[@]}" --benchmark_min_time="$MIN_TIME" \
    --benchmark_format=json > "$WORK/other.json"
fi
"$PYTHON" "$SRC/bench/throughput_reference.py" "${SETTINGS[@]}" --min-time "$MIN_TIME" > "$WORK/pytorch.jsonl"

"$PYTHON" - "$WORK/project.json" "$WORK/pytorch.jsonl" "$WORK/other.json" <<'PY'
import json, os, sys
def project(path):
    run = json.load(open(path))
    rates = {}
    for b in run["benchmarks"]:
        what, batch, mode = b["name"].split("/")[:3]
        rates[(what, int(batch.split(":")[1]), mode)] = b["items_per_second"]
    return run["context"], rates
ctx, ours = project(sys.argv[1])
other_ctx, other = project(sys.argv[3]) if os.path.exists(sys.argv[3]) else (None, {})
theirs = {(r["what"], r["batch"], r["mode"]): r["images_per_s"] for r in map(json.loads, open(sys.argv[2]))}
print(f"PreAct-ResNet-18 (width {ctx['width']}) on {ctx['device']}, {ctx['threads']} thread(s), in one run: "
      f"the project on LibTorch {ctx['libtorch']}"
      + (f", the other build on LibTorch {other_ctx['libtorch']}" if other_ctx else "") + ", PyTorch (Python)")
head = f"{'step':<6} {'batch':>5} {'mode':<8} {'project img/s':>14}"
if other_ctx:
    head += f" {'other img/s':>12} {'vs other':>9}"
print(head + f" {'PyTorch img/s':>14} {'vs PyTorch':>10}")
ratio = lambda a, b: f"{a / b:.2f}" if b else "-"
for key in sorted(ours, key=lambda k: (k[0] != "train", k[2], k[1])):
    o, t = ours[key], theirs.get(key)
    line = f"{key[0]:<6} {key[1]:>5} {key[2]:<8} {o:>14,.1f}"
    if other_ctx:
        line += f" {other.get(key, float('nan')):>12,.1f} {ratio(o, other.get(key)):>9}"
    print(line + f" {t or float('nan'):>14,.1f} {ratio(o, t):>10}")
PY
