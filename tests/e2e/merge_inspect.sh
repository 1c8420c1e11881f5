#!/usr/bin/env bash
# SLURM-array-style runs and their merge: tiny.yaml's cells 1-2 and 2-3 as two jobs (--cells),
# merged into the /matrix of one full run; a conflicting duplicate or another spec's file is
# refused and nothing written. `inspect` lists every unit's state, a missing cell included.
# usage: merge_inspect.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR
set -euo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SPEC="$SRC/tests/specs/tiny.yaml"
fails() {  # fails EXPECTED_TEXT COMMAND...: exit 2, the text on stderr, one pbe_dist line
  local text=$1; shift
  set +e; "$@" > /dev/null 2> "$WORK/err.txt"; local rc=$?; set -e
  [ "$rc" = 2 ] || { echo "exit $rc: $*"; cat "$WORK/err.txt"; exit 1; }
  grep -q -- "$text" "$WORK/err.txt" || { echo "expected '$text':"; cat "$WORK/err.txt"; exit 1; }
  [ "$(grep -c '^pbe_dist:' "$WORK/err.txt")" = 1 ] || { cat "$WORK/err.txt"; exit 1; }
}

"$MPIEXEC" -n 2 "$PBE_DIST" "$SPEC" -o "$WORK/full.h5" > /dev/null 2>&1
"$MPIEXEC" -n 2 "$PBE_DIST" "$SPEC" -o "$WORK/a.h5" --cells 1-2 > /dev/null 2>&1
"$MPIEXEC" -n 2 "$PBE_DIST" "$SPEC" -o "$WORK/b.h5" --cells 2,3 > /dev/null 2>&1
fails "--cells: '0' is not a cell number or range in 1-3" "$MPIEXEC" -n 2 "$PBE_DIST" "$SPEC" -o "$WORK/x.h5" --cells 0

"$PBE_DIST" inspect "$WORK/a.h5" > "$WORK/inspect.txt"
grep -q "a.h5: spec 'tiny', 3 cells x 2 defenses: 4 done, 0 failed, 2 missing" "$WORK/inspect.txt" || { cat "$WORK/inspect.txt"; exit 1; }
grep -q "^3 input-aware seed 0: attack missing" "$WORK/inspect.txt" || { cat "$WORK/inspect.txt"; exit 1; }
[ "$(grep -c ': done$' "$WORK/inspect.txt")" = 4 ] || { cat "$WORK/inspect.txt"; exit 1; }
printf 'not hdf5' > "$WORK/junk.h5"
fails "junk.h5: not an HDF5 file" "$PBE_DIST" inspect "$WORK/junk.h5"

"$MPIEXEC" -n 2 "$PBE_DIST" merge "$WORK/a.h5" "$WORK/b.h5" -o "$WORK/merged.h5" > /dev/null
"$PYTHON" - "$WORK/full.h5" "$WORK/merged.h5" "$WORK/a.h5" "$WORK/b.h5" <<'PY'
import sys, h5py
def load(path):
    with h5py.File(path, "r") as f:
        rows = [(r["attack"].decode(), r["defense"].decode(), r["status"].decode(), r["acc"], r["asr"]) for r in f["matrix"][()]]
        return rows, sorted(f["cells/synthetic/small-cnn"]), f["provenance"].attrs.get("merged_from")
full, full_cells, _ = load(sys.argv[1])
merged, cells, sources = load(sys.argv[2])
same = lambda a, b: a == b or (a != a and b != b)  # NaN (no ASR for the clean row) equals NaN
assert len(merged) == len(full) and all(all(same(x, y) for x, y in zip(m, r)) for m, r in zip(merged, full)), (merged, full)
assert cells == full_cells, cells
assert list(sources) == sys.argv[3:], sources
print("merge: the two jobs' files make the full run's /matrix")
PY
"$PBE_DIST" inspect "$WORK/merged.h5" | grep "6 done, 0 failed, 0 missing" > /dev/null
# The report of a part lists the cells it lacks as missing (the spec's cells, not just its rows).
"$PBE_DIST" report "$WORK/a.h5" | grep "^| input-aware | missing | missing | missing |" > /dev/null || { "$PBE_DIST" report "$WORK/a.h5"; exit 1; }
"$PBE_DIST" report "$WORK/merged.h5" | grep "^| input-aware | " > /dev/null || { echo "no report of the merged file"; exit 1; }

# A duplicate unit with another result - a /matrix row's ACC, its status, or the attack unit's
# ACC - is refused, naming the unit and what differs, and nothing is written.
conflicting() {  # conflicting KIND EXPECTED: b.h5 changed in one way, merged after a.h5
  cp "$WORK/b.h5" "$WORK/b2.h5"
  "$PYTHON" - "$WORK/b2.h5" "$1" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    if sys.argv[2] == "attack-acc":
        m = f["cells/synthetic/small-cnn/badnets/seed0/attack/metrics"]
        m.attrs["acc"] = m.attrs["acc"] - 0.1
    else:
        m = f["matrix"][()]
        for i, r in enumerate(m):
            if r["attack"] == b"badnets" and r["defense"] == b"ft":
                if sys.argv[2] == "row-acc":
                    m[i]["acc"] = r["acc"] - 0.1
                else:
                    m[i]["status"] = b"failed"
        f["matrix"][...] = m
PY
  fails "b2.h5: conflicting duplicate of /cells/synthetic/small-cnn/badnets/seed0 $2" \
    "$PBE_DIST" merge "$WORK/a.h5" "$WORK/b2.h5" -o "$WORK/conflict.h5"
  [ ! -e "$WORK/conflict.h5" ] && ! ls "$WORK" | grep -q "conflict.h5.merging" || { echo "a conflicting merge ($1) wrote a file: $(ls "$WORK")"; exit 1; }
}
conflicting row-acc "ft: ACC/ASR/RA [0-9.]* vs "
conflicting row-status "ft: status done vs failed"
conflicting attack-acc "attack: ACC/ASR/RA"
sed 's/lr: 0.02/lr: 0.03/' "$SPEC" > "$WORK/other.yaml"
"$MPIEXEC" -n 2 "$PBE_DIST" "$WORK/other.yaml" -o "$WORK/other.h5" --cells 1 > /dev/null 2>&1
fails "other.h5: another spec than" "$PBE_DIST" merge "$WORK/a.h5" "$WORK/other.h5" -o "$WORK/mixed.h5"
fails "merged.h5: exists; pass --overwrite" "$PBE_DIST" merge "$WORK/a.h5" "$WORK/b.h5" -o "$WORK/merged.h5"
"$PBE_DIST" merge "$WORK/a.h5" "$WORK/full.h5" -o "$WORK/merged.h5" --overwrite > /dev/null
"$PYTHON" -c "import h5py, sys; sys.exit(list(h5py.File('$WORK/merged.h5', 'r')['provenance'].attrs['merged_from']) != ['$WORK/a.h5', '$WORK/full.h5'])" ||
  { echo "merge --overwrite did not replace merged.h5"; exit 1; }
echo "merge: conflicts, other specs and existing outputs refused"
