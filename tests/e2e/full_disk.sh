#!/usr/bin/env bash
# A file system that fills up under pbe_dist (small tmpfs mounts; needs root, skipped otherwise:
# exit 77, or 1 under PBE_NO_SKIP=1 as in CI).
# - A run: whichever write meets the full disk first (a checkpoint, a results commit; the sizes
#   below make both happen) ends the job with exit 1 and one pbe_dist line naming the file and
#   "No space left on device". The results file is the last committed version: it opens, holds
#   whole units only, and no temporary is left next to it. --resume, once the file system is
#   larger, ends with the /matrix of an uninterrupted run.
# - merge -o and purify --out into a full file system: exit 1, one line naming the output, and an
#   output that was there before is left byte for byte; nothing else is left behind.
# usage: full_disk.sh PBE_DIST MPIEXEC PYTHON SOURCE_DIR WRITE_PURIFY_FIXTURE
set -uo pipefail
PBE_DIST=$1 MPIEXEC=$2 PYTHON=$3 SRC=$4 FIXTURE=$5
source "$(dirname "$0")/skip.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
W=$(mktemp -d)
MOUNTS=()
cleanup() {
  for m in "${MOUNTS[@]}"; do umount "$m" 2> /dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "full_disk: $*"; exit 1; }
# mount_tmpfs DIR KB: a tmpfs of KB kibibytes at DIR (skips the test when it cannot be mounted).
mount_tmpfs() {
  mkdir -p "$1"
  mount -t tmpfs -o "size=$2k" tmpfs "$1" 2> /dev/null || skip "cannot mount a tmpfs (run the tests as root)"
  MOUNTS+=("$1")
}
# one_error TEXT...: stderr ($W/err) has exactly one pbe_dist line, and it holds every TEXT.
one_error() {
  [ "$(grep -c '^pbe_dist:' "$W/err")" = 1 ] || fail "not one pbe_dist line: $(cat "$W/err")"
  for text in "$@"; do grep '^pbe_dist:' "$W/err" | grep -qF -- "$text" || fail "no '$text' in: $(grep '^pbe_dist:' "$W/err")"; done
}
no_temporaries() { ! ls -a "$1" | grep -qE '\.(commit|tmp|partial)-' || fail "a temporary was left: $(ls -a "$1")"; }

SPEC="$SRC/tests/specs/tiny.yaml"
"$MPIEXEC" -n 2 "$PBE_DIST" "$SPEC" -o "$W/ref.h5" > /dev/null 2>&1 || fail "the reference run failed"

# 1. Runs into full file systems of several sizes.
checkpoint_failures=0 commit_failures=0
for kb in 300 600 900 1200 1500; do
  m="$W/m$kb"
  mount_tmpfs "$m" "$kb"
  "$MPIEXEC" -n 2 "$PBE_DIST" "$SPEC" -o "$m/r.h5" > /dev/null 2> "$W/err"
  rc=$?
  if [ "$rc" = 0 ]; then echo "$kb KiB: the run fitted"; continue; fi
  [ "$rc" = 1 ] || fail "$kb KiB: exit $rc, expected 1: $(cat "$W/err")"
  one_error "No space left on device" "$m/r.h5"
  if grep '^pbe_dist:' "$W/err" | grep -qF "$m/r.h5.ckpt/"; then
    checkpoint_failures=$((checkpoint_failures + 1)); what=checkpoint
  else
    one_error "$m/r.h5: "
    commit_failures=$((commit_failures + 1)); what=commit
  fi
  no_temporaries "$m"
  no_temporaries "$m/r.h5.ckpt"
  rows=$("$PYTHON" - "$m/r.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    for r in f["matrix"][()]:
        cell = f"cells/synthetic/small-cnn/{r['attack'].decode()}/seed{r['seed']}"
        assert r["status"].decode() == "done" and cell + "/defenses/" + r["defense"].decode() in f, r
    print(len(f["matrix"]))
PY
) || fail "$kb KiB: the results file left by the failed $what does not read back"
  echo "$kb KiB: the $what failed with $rows of 6 rows committed"
  mount -o remount,size=64m "$m" || fail "cannot grow $m"
  "$MPIEXEC" -n 2 "$PBE_DIST" "$SPEC" -o "$m/r.h5" --resume > /dev/null 2> "$W/err" || fail "$kb KiB: --resume failed: $(cat "$W/err")"
  "$PYTHON" - "$W/ref.h5" "$m/r.h5" <<'PY' || fail "$kb KiB: the resumed /matrix differs from the uninterrupted run's"
import sys, h5py
def matrix(path):
    with h5py.File(path, "r") as f:
        return [(r["attack"], r["defense"], r["status"], r["acc"], r["asr"]) for r in f["matrix"][()]]
ref, got = matrix(sys.argv[1]), matrix(sys.argv[2])
assert len(got) == len(ref) and all(a == b or (a != a and b != b) for g, r in zip(got, ref) for a, b in zip(g, r)), got
PY
done
[ "$checkpoint_failures" -gt 0 ] && [ "$commit_failures" -gt 0 ] ||
  fail "expected both a checkpoint and a commit to meet the full disk ($checkpoint_failures, $commit_failures)"

# 2. merge -o: the merged file (as large as ref.h5) does not fit beside the one already there.
size_kb=$(( $(stat -c %s "$W/ref.h5") / 1024 ))
m="$W/merge"
mount_tmpfs "$m" $((size_kb * 3 / 2))
cp "$W/ref.h5" "$m/merged.h5"
"$PBE_DIST" merge "$W/ref.h5" "$W/m300/r.h5" -o "$m/merged.h5" --overwrite > /dev/null 2> "$W/err"
rc=$?
[ "$rc" = 1 ] || fail "merge into a full disk: exit $rc, expected 1: $(cat "$W/err")"
one_error "$m/merged.h5" "No space left on device"
cmp -s "$W/ref.h5" "$m/merged.h5" || fail "merge changed the output that was there"
[ "$(ls -a "$m" | wc -l)" = 3 ] || fail "merge left files: $(ls -a "$m")"

# 3. purify --out: the purified model does not fit beside the one already there.
"$FIXTURE" "$W/fixture" > /dev/null || fail "could not write the purify fixture"
model_kb=$(( $(stat -c %s "$W/fixture/model.pt") / 1024 ))
m="$W/purify"
mount_tmpfs "$m" $((model_kb * 3 / 2))
cp "$W/fixture/model.pt" "$m/out.pt"
"$MPIEXEC" -n 2 "$PBE_DIST" purify --model "$W/fixture/model.pt" --data "$W/fixture/data" --method ft \
  --clean "$W/fixture/clean" --set epochs=1 --out "$m/out.pt" --overwrite > /dev/null 2> "$W/err"
rc=$?
[ "$rc" = 1 ] || fail "purify into a full disk: exit $rc, expected 1: $(cat "$W/err")"
one_error "$m/out.pt" "No space left on device"
cmp -s "$W/fixture/model.pt" "$m/out.pt" || fail "purify changed the output that was there"
[ "$(ls -a "$m" | wc -l)" = 3 ] || fail "purify left files: $(ls -a "$m")"
echo "full_disk: ok"
