#!/usr/bin/env bash
# What the model store saves, as wall-time ratios from one invocation (2 ranks): a spec run twice
# (the second run's victims from the store; baseline: the first run, which trains and stores them),
# and the spec with one defense added after it finished (baseline: the same without a store,
# model_store: none, which trains every victim again).
# usage: bench/model_store.sh [build dir] [spec] [added defense entry, YAML flow]
# Defaults: build/, experiments/smoke.yaml, {name: fp}.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build} SPEC=${2:-$SRC/experiments/smoke.yaml} ADDED=${3:-"{name: fp}"}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp "$SPEC" "$WORK/spec.yaml"
sed "s/^defenses:/defenses:\n  - $ADDED/" "$SPEC" > "$WORK/added.yaml"
sed "s/^defenses:/model_store: none\ndefenses:\n  - $ADDED/" "$SPEC" > "$WORK/added-nostore.yaml"
ms() {  # ms SPEC OUTPUT [flags]: the wall time of one 2-rank run, in milliseconds
  local start
  start=$(date +%s%N)
  mpirun -np 2 "$BUILD/launcher/pbe_dist" "$1" -o "$WORK/$2" "${@:3}" > "$WORK/$2.log" 2>&1 || { cat "$WORK/$2.log"; exit 1; }
  echo $(( ($(date +%s%N) - start) / 1000000 ))
}
STORE=(--model-store "$WORK/models")
first=$(ms "$WORK/spec.yaml" first.h5 "${STORE[@]}")
again=$(ms "$WORK/spec.yaml" again.h5 "${STORE[@]}")
without=$(ms "$WORK/added-nostore.yaml" added-nostore.h5)
with=$(ms "$WORK/added.yaml" added.h5 "${STORE[@]}")
awk -v spec="$(basename "$SPEC")" -v added="$ADDED" -v first="$first" -v again="$again" -v with="$with" -v without="$without" 'BEGIN {
  printf "%s, 2 ranks\n", spec
  printf "the same spec again: %.1f s against %.1f s the first time (%.2fx the time)\n", again / 1000, first / 1000, again / first
  printf "one defense added (%s): %.1f s against %.1f s without the store (%.2fx the time)\n", added, with / 1000, without / 1000, with / without
}'
