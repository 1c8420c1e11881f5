#!/usr/bin/env bash
# End-to-end: pbe_dist on 1 and 2 ranks over the tiny synthetic spec, results checked with h5py
# and h5dump. usage: run_matrix.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR
set -euo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$MPIEXEC" -n 2 "$PBE_DIST" "$SRC/tests/specs/tiny.yaml" -o "$WORK/two.h5" > "$WORK/out2.txt"
grep -qE "badnets +\| 0" "$WORK/out2.txt" || { echo "no result table printed"; cat "$WORK/out2.txt"; exit 1; }
"$PBE_DIST" run "$SRC/tests/specs/tiny.yaml" -o "$WORK/one.h5" --threads 1 > "$WORK/out1.txt"

h5dump -d /matrix "$WORK/two.h5" | grep '"badnets"' > /dev/null || { echo "h5dump cannot read /matrix"; exit 1; }
"$PYTHON" "$SRC/tests/e2e/check_results.py" "$WORK/two.h5" 2 "$WORK/one.h5"
"$PYTHON" "$SRC/tests/e2e/check_results.py" "$WORK/one.h5" 1
echo "run_matrix: ok"
