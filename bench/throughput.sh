#!/usr/bin/env bash
# PreAct-ResNet-18 (3x32x32) training-step and PGD-7 throughput of the project (LibTorch:
# pbe_bench_throughput) against PyTorch in Python (throughput_reference.py): the same model,
# steps, batches, compute modes and threads, in one run. Prints img/s of each and their ratio.
# usage: bench/throughput.sh [--build DIR] [--python PY] [--min-time S] [--device cpu|cuda]
#            [--width W] [--batches 128,512] [--modes fp32,tf32,bf16+cl] [--steps N] [--threads N]
# Defaults: build/, .venv's python (else python3), 2 s per figure, the settings' defaults.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build PYTHON="" MIN_TIME=2 SETTINGS=()
while (($#)); do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
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
"$PYTHON" "$SRC/bench/throughput_reference.py" "${SETTINGS[@]}" --min-time "$MIN_TIME" > "$WORK/pytorch.jsonl"

"$PYTHON" - "$WORK/project.json" "$WORK/pytorch.jsonl" <<'PY'
import json, sys
project = json.load(open(sys.argv[1]))
ctx = project["context"]
ours = {}
for b in project["benchmarks"]:
    what, batch, mode = b["name"].split("/")[:3]
    ours[(what, int(batch.split(":")[1]), mode)] = b["items_per_second"]
theirs = {(r["what"], r["batch"], r["mode"]): r["images_per_s"] for r in map(json.loads, open(sys.argv[2]))}
print(f"PreAct-ResNet-18 (width {ctx['width']}) on {ctx['device']}, {ctx['threads']} thread(s); "
      f"project: LibTorch {ctx['libtorch']}; reference: PyTorch (Python) in the same run")
print(f"{'step':<6} {'batch':>5} {'mode':<8} {'project img/s':>14} {'PyTorch img/s':>14} {'ratio':>6}")
for key in sorted(ours, key=lambda k: (k[0] != "train", k[2], k[1])):
    o, t = ours[key], theirs.get(key)
    ratio = f"{o / t:6.2f}" if t else "     -"
    print(f"{key[0]:<6} {key[1]:>5} {key[2]:<8} {o:>14,.0f} {t or float('nan'):>14,.0f} {ratio}")
PY
