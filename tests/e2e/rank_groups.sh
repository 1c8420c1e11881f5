#!/usr/bin/env bash
# The matrix over rank groups: tiny.yaml on 2 ranks as one group, as 2 groups of 1, and on 4 ranks
# as 2 groups of 2. Every cell runs exactly once, the results file holds them in plan order with
# the same metrics as one group, and no commit copy is left. usage: rank_groups.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR
set -euo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for k in 1 2; do
  sed "s/^seeds: \[0\]/seeds: [0]\nranks_per_cell: $k/" "$SRC/tests/specs/tiny.yaml" > "$WORK/groups$k.yaml"
done
"$MPIEXEC" -n 2 "$PBE_DIST" "$SRC/tests/specs/tiny.yaml" -o "$WORK/one.h5" > /dev/null 2>&1
"$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/groups1.yaml" -o "$WORK/two-groups.h5" > /dev/null 2> "$WORK/log2.txt"
"$MPIEXEC" -n 4 "$PBE_DIST" "$WORK/groups2.yaml" -o "$WORK/four-ranks.h5" > /dev/null 2> "$WORK/log4.txt"
"$MPIEXEC" -n 4 "$PBE_DIST" plan "$WORK/groups2.yaml" | grep "ranks_per_cell 2: 2 groups" > /dev/null || { echo "plan shows no groups"; exit 1; }
"$MPIEXEC" -n 4 "$PBE_DIST" plan "$SRC/tests/specs/tiny.yaml" -o /dev/null > "$WORK/plan1.txt" 2>&1 ||
  { echo "plan failed: $(cat "$WORK/plan1.txt")"; exit 1; }
grep -q "global batch 32, 4 rank(s)$" "$WORK/plan1.txt" || { echo "plan: $(cat "$WORK/plan1.txt")"; exit 1; }
if grep -q groups "$WORK/plan1.txt"; then echo "one group shown as groups"; exit 1; fi
# Each cell was started by exactly one group leader.
for log in "$WORK/log2.txt" "$WORK/log4.txt"; do
  for cell in none badnets input-aware; do
    n=$(grep -c "cell [0-9]/3 $cell seed 0: start" "$log" || true)
    [ "$n" = 1 ] || { echo "$log: cell $cell started $n times"; cat "$log"; exit 1; }
  done
done
# A group size that does not divide the ranks: one line, exit 2, nothing written.
sed "s/^seeds: \[0\]/seeds: [0]\nranks_per_cell: 3/" "$SRC/tests/specs/tiny.yaml" > "$WORK/groups3.yaml"
set +e
"$MPIEXEC" -n 4 "$PBE_DIST" "$WORK/groups3.yaml" -o "$WORK/bad.h5" > /dev/null 2> "$WORK/bad.txt"
rc=$?
set -e
[ "$rc" = 2 ] || { echo "ranks_per_cell 3 on 4 ranks: exit $rc"; cat "$WORK/bad.txt"; exit 1; }
grep -q "groups3.yaml: ranks_per_cell 3 does not divide the 4 ranks" "$WORK/bad.txt" || { cat "$WORK/bad.txt"; exit 1; }
[ ! -e "$WORK/bad.h5" ] || { echo "a results file was written"; exit 1; }
ls "$WORK" | grep "commit-" > /dev/null && { echo "commit copies left: $(ls "$WORK")"; exit 1; }
"$PYTHON" - "$WORK/one.h5" "$WORK/two-groups.h5" "$WORK/four-ranks.h5" <<'PY'
import math, sys, h5py
def load(path):
    with h5py.File(path, "r") as f:
        rows = [(r["attack"].decode(), r["defense"].decode(), r["status"].decode(), r["acc"], r["asr"]) for r in f["matrix"][()]]
        cells = sorted(f["cells/synthetic/small-cnn"])
        defenses = {a: sorted(f[f"cells/synthetic/small-cnn/{a}/seed0/defenses"]) for a in cells}
        # The probes compare with the clean model whichever group ran the "none" cell.
        probes = f["cells/synthetic/small-cnn/badnets/seed0/attack/probes"]
        fractions = {m: probes[m].attrs["target_fraction"] for m in probes}
        return rows, cells, defenses, f["provenance"].attrs["ranks"], fractions
base, base_cells, base_defenses, _, base_fractions = load(sys.argv[1])
for path, ranks in ((sys.argv[2], 2), (sys.argv[3], 4)):
    rows, cells, defenses, r, fractions = load(path)
    assert sorted(fractions) == ["clean", "infected"], (path, fractions)
    for m in fractions:
        assert abs(fractions[m] - base_fractions[m]) <= 0.05, (path, m, fractions, base_fractions)
    assert r == ranks, (path, r)
    assert [row[:3] for row in rows] == [row[:3] for row in base], (path, rows)  # each once, plan order
    assert cells == base_cells and defenses == base_defenses, (path, cells, defenses)
    for a, b in zip(rows, base):
        if a[0] == "input-aware":  # its generator training is rank-count sensitive (check_results.py)
            continue
        for x, y in zip(a[3:], b[3:]):
            assert (math.isnan(x) and math.isnan(y)) or abs(x - y) <= 0.006, (path, a, b)
print("rank_groups: ok")
PY
