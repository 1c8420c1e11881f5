#!/usr/bin/env bash
# End-to-end: every baseline defense through pbe_dist on 2 ranks, its records read back with h5py.
# usage: baseline_defenses.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR
set -euo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$MPIEXEC" -n 2 "$PBE_DIST" "$SRC/tests/specs/baselines.yaml" -o "$WORK/baselines.h5" > "$WORK/out.txt"
"$PYTHON" "$SRC/tests/e2e/check_baselines.py" "$WORK/baselines.h5"
echo "baseline_defenses: ok"
