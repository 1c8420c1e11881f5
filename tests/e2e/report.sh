#!/usr/bin/env bash
# `pbe_dist report` on a real run of tiny.yaml (2 ranks): the tables in every format, and the
# figures as non-empty PNG and PDF files (where python3 has matplotlib; otherwise the tables
# still come and the message says what to install; under PBE_NO_SKIP=1, as in CI, that fails). A file that is not results: exit 2.
# usage: report.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR
set -euo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$MPIEXEC" -n 2 "$PBE_DIST" "$SRC/tests/specs/tiny.yaml" -o "$WORK/tiny.h5" > /dev/null 2>&1

"$PBE_DIST" report "$WORK/tiny.h5" > "$WORK/report.md"
grep -q "^| badnets | 100.00 | " "$WORK/report.md" || { echo "no BadNets row"; cat "$WORK/report.md"; exit 1; }
grep -q "^### The observation" "$WORK/report.md" || { cat "$WORK/report.md"; exit 1; }
"$PBE_DIST" report "$WORK/tiny.h5" --format csv --out "$WORK/csv" > /dev/null
"$PYTHON" - "$WORK/csv" <<'PY'
import csv, os, sys
tables = sorted(os.listdir(sys.argv[1]))
assert tables == ["matrix-synthetic-small-cnn.csv", "observation.csv"], tables
rows = list(csv.DictReader(open(os.path.join(sys.argv[1], tables[0]))))
assert [r["Attack"] for r in rows] == ["none", "badnets", "input-aware"], rows
assert float(rows[1]["No defense ASR"]) >= 90, rows[1]
PY
"$PBE_DIST" report "$WORK/tiny.h5" --format tex --out "$WORK/tex" > /dev/null
# The same numbers as the Markdown table, as LaTeX rows.
md_row=$(grep "^| badnets | " "$WORK/report.md" | head -1 | sed -E 's/^\| //; s/ \|$//; s/ \| / \& /g')
grep -qF "$md_row \\\\" "$WORK/tex/report.tex" || { echo "no LaTeX row '$md_row'"; cat "$WORK/tex/report.tex"; exit 1; }

"$PBE_DIST" report "$WORK/tiny.h5" --out "$WORK/fig" --figures > "$WORK/fig.txt" 2>&1
if "$PYTHON" -c "import matplotlib, numpy, h5py" 2> /dev/null; then
  for f in heatmap-asr-synthetic-small-cnn heatmap-der-synthetic-small-cnn confusion-badnets-seed0 activations-badnets-seed0; do
    for ext in png pdf; do
      [ -s "$WORK/fig/figures/$f.$ext" ] || { echo "missing or empty: $f.$ext"; cat "$WORK/fig.txt"; exit 1; }
    done
  done
  echo "report: tables in 3 formats and the figures"
else
  if [[ ${PBE_NO_SKIP:-0} == 1 ]]; then  # CI installs matplotlib: the figures must be tested there
    echo "FAILED: $PYTHON has no matplotlib, numpy or h5py, and PBE_NO_SKIP=1 requires the figures"; exit 1
  fi
  grep -q "figures need python3 with matplotlib" "$WORK/fig.txt" || { cat "$WORK/fig.txt"; exit 1; }
  [ -s "$WORK/fig/report.md" ] || { echo "no tables without matplotlib"; exit 1; }
  echo "report: tables in 3 formats; figures skipped (no matplotlib)"
fi

printf 'not hdf5' > "$WORK/junk.h5"
set +e; "$PBE_DIST" report "$WORK/junk.h5" > /dev/null 2> "$WORK/junk.txt"; rc=$?; set -e
[ "$rc" = 2 ] && grep -q "junk.h5: not an HDF5 file" "$WORK/junk.txt" || { echo "junk: exit $rc"; cat "$WORK/junk.txt"; exit 1; }
