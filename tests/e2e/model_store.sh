#!/usr/bin/env bash
# The model store: a second run of a spec takes every victim from the store (no training: no
# "train" progress line, model_source "store" for every attack unit) and ends with the /matrix,
# curves and triggers of the first, bit for bit but the seconds; a truncated entry is reported and
# trained again, and the next run reuses it; `models list|show|gc` list, show and collect entries;
# model_store: none trains and stores nothing; two jobs started together on one empty store both
# finish with the same results and leave one entry per victim (and no temporaries).
# usage: model_store.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR
set -euo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'pkill -9 -f "$WORK/spec.yaml" 2>/dev/null || true; rm -rf "$WORK"' EXIT
grep -v "^model_store:" "$SRC/tests/specs/tiny.yaml" > "$WORK/spec.yaml"  # the default: auto
run() { "$MPIEXEC" -n "$1" "$PBE_DIST" "$WORK/spec.yaml" "${@:2}"; }
fail() { echo "model_store.sh: $*"; exit 1; }
entries() { find "$1" -maxdepth 1 -name '*.pt' 2>/dev/null | wc -l; }

# Prints each attack unit's model_source, in cell order; with a second file, exits 1 unless both
# hold the same /matrix (but seconds), attack curves (but seconds), metrics and triggers.
check() {
  "$PYTHON" - "$@" <<'PY'
import sys, h5py, numpy as np
files = [h5py.File(p, "r") for p in sys.argv[1:]]
f = files[0]
cells = [f"cells/synthetic/small-cnn/{a}/seed0/attack" for a in ("none", "badnets", "input-aware")]
print(" ".join(f[c].attrs["model_source"] for c in cells))
if len(files) == 2:
    g = files[1]
    m, n = f["matrix"][()], g["matrix"][()]
    for name in m.dtype.names:
        if name != "seconds" and not np.array_equal(m[name], n[name], equal_nan=m[name].dtype.kind == "f"):
            sys.exit(f"/matrix column {name} differs: {m[name]} against {n[name]}")
    def leaves(group, out, prefix=""):
        for k, v in group.items():
            if isinstance(v, h5py.Group): leaves(v, out, prefix + k + "/")
            elif k != "seconds": out[prefix + k] = v[()]
        for k, v in group.attrs.items():
            if k not in ("seconds", "model_source", "model_key"): out[prefix + "@" + k] = v
        return out
    for c in cells:
        a, b = leaves(f[c], {}), leaves(g[c], {})
        if a.keys() != b.keys(): sys.exit(f"{c}: {sorted(a)} against {sorted(b)}")
        for k in a:
            x, y = np.asarray(a[k]), np.asarray(b[k])
            if not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"): sys.exit(f"{c}/{k} differs")
PY
}
# expect SOURCES FILE [REFERENCE]: the attack units' model_source, and the same results.
expect() {
  local want=$1 out
  shift
  out=$(check "$@") || fail "$*: the results differ"
  [ "$out" = "$want" ] || fail "$*: model_source $out, not $want"
}

# 1. Trained and stored, then taken from the store.
run 2 -o "$WORK/a.h5" > "$WORK/a.log" 2>&1 || { cat "$WORK/a.log"; fail "first run failed"; }
expect "trained trained trained" "$WORK/a.h5"
[ "$(entries "$WORK/models")" = 3 ] || fail "first run stored $(entries "$WORK/models") entries, not 3"
run 2 -o "$WORK/b.h5" > "$WORK/b.log" 2>&1 || { cat "$WORK/b.log"; fail "second run failed"; }
expect "store store store" "$WORK/b.h5" "$WORK/a.h5"
grep -q ": train epoch" "$WORK/b.log" && fail "the second run trained a victim"
[ "$(grep -c "from the model store" "$WORK/b.log")" = 3 ] || fail "the second run does not say where its victims came from"
grep -q "done 100%" "$WORK/b.log" || fail "the second run's progress does not reach 100%"

# gc: an entry no results file refers to is listed, and deleted only with --delete.
STRAY=$(printf '0%.0s' $(seq 64))
first=$(find "$WORK/models" -name '*.pt' | head -1)
cp "$first" "$WORK/models/$STRAY.pt"
cp "${first%.pt}.yaml" "$WORK/models/$STRAY.yaml"
"$PBE_DIST" models gc "$WORK/a.h5" --store "$WORK/models" > "$WORK/gc.log" || fail "models gc failed"
grep -q "^unused  000000000000" "$WORK/gc.log" && grep -q ": 1 model(s) no results file" "$WORK/gc.log" ||
  { cat "$WORK/gc.log"; fail "models gc does not list the stray entry"; }
[ -e "$WORK/models/$STRAY.pt" ] || fail "models gc deleted without --delete"
rc=0
"$PBE_DIST" models gc "$WORK/a.h5" "$WORK/spec.yaml" --store "$WORK/models" --delete > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] && [ -e "$WORK/models/$STRAY.pt" ] || fail "models gc with a file that is not results: exit $rc"
"$PBE_DIST" models gc "$WORK/a.h5" --store "$WORK/models" --delete > /dev/null || fail "models gc --delete failed"
[ ! -e "$WORK/models/$STRAY.pt" ] && [ ! -e "$WORK/models/$STRAY.yaml" ] && [ "$(entries "$WORK/models")" = 3 ] ||
  fail "models gc --delete did not delete just the stray entry"

# 2. A truncated entry: reported, trained again, replaced.
BADNETS=$("$PYTHON" -c "import h5py; print(h5py.File('$WORK/a.h5','r')['cells/synthetic/small-cnn/badnets/seed0/attack'].attrs['model_key'])")
"$PBE_DIST" models list --store "$WORK/models" | grep -q "3 model(s)" || fail "models list does not list the 3 models"
"$PBE_DIST" models show "${BADNETS:0:8}" --store "$WORK/models" | grep -q "^attack: badnets$" ||
  fail "models show does not show badnets' recipe"
truncate -s 1000 "$WORK/models/$BADNETS.pt"
rc=0
"$PBE_DIST" models show "$BADNETS" --store "$WORK/models" > "$WORK/show.log" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "$BADNETS.pt: truncated" "$WORK/show.log" || { cat "$WORK/show.log"; fail "models show: exit $rc on a truncated entry"; }
run 2 -o "$WORK/c.h5" > "$WORK/c.log" 2>&1 || { cat "$WORK/c.log"; fail "run with a truncated entry failed"; }
grep -q "models/$BADNETS.pt: .*training the model again" "$WORK/c.log" || { cat "$WORK/c.log"; fail "the truncated entry was not reported"; }
expect "store trained store" "$WORK/c.h5" "$WORK/a.h5"
run 2 -o "$WORK/d.h5" > /dev/null 2>&1 || fail "run after the retraining failed"
expect "store store store" "$WORK/d.h5" "$WORK/a.h5"

# 3. model_store: none.
sed -i "s/^output: .*/&\nmodel_store: none/" "$WORK/spec.yaml"
run 2 -o "$WORK/e.h5" > /dev/null 2>&1 || fail "run without a store failed"
expect "trained trained trained" "$WORK/e.h5" "$WORK/a.h5"
[ -z "$("$PYTHON" -c "import h5py; print(h5py.File('$WORK/e.h5','r')['cells/synthetic/small-cnn/none/seed0/attack'].attrs['model_key'])")" ] ||
  fail "model_store: none recorded a key"
[ "$(entries "$WORK/models")" = 3 ] || fail "model_store: none changed the store"

# 4. Two jobs at once on one empty store (1 rank each: 2 cores).
run 1 -o "$WORK/j1.h5" --model-store "$WORK/shared" > "$WORK/j1.log" 2>&1 &
J1=$!
run 1 -o "$WORK/j2.h5" --model-store "$WORK/shared" > "$WORK/j2.log" 2>&1 || { cat "$WORK/j2.log"; fail "job 2 failed"; }
wait $J1 || { cat "$WORK/j1.log"; fail "job 1 failed"; }
# Which job trains which victim depends on their pace; the results must not.
check "$WORK/j1.h5" "$WORK/j2.h5" > /dev/null || fail "the two jobs' results differ"
[ "$(entries "$WORK/shared")" = 3 ] || fail "two jobs left $(entries "$WORK/shared") entries, not 3"
[ "$(ls "$WORK/shared" | wc -l)" = 6 ] || fail "temporaries left in the store: $(ls "$WORK/shared")"
run 1 -o "$WORK/j3.h5" --model-store "$WORK/shared" > /dev/null 2>&1 || fail "a run on the shared store failed"
expect "store store store" "$WORK/j3.h5" "$WORK/j1.h5"
echo "model_store.sh: ok"
