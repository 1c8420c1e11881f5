#!/usr/bin/env bash
# Runs one libFuzzer harness (fuzz/NAME.cc) for SECONDS (default 600), built with the "fuzz" preset
# (clang, coverage, ASan and UBSan; build-fuzz/). It starts from the seed corpus fuzz/corpus/NAME
# and keeps what it finds in a scratch copy (the repo's corpus stays small: add an input there by
# hand when it covers something new). A crash, leak or hang is written to
# fuzz-artifacts/NAME-* and the script exits non-zero; reproduce it with
#   build-fuzz/fuzz/fuzz_NAME fuzz-artifacts/NAME-crash-...
# usage: scripts/fuzz.sh NAME [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
names=$(ls fuzz/*.cc | xargs -n1 basename | sed 's/\.cc$//' | tr '\n' ' ')
NAME=${1:-}
[[ -n "$NAME" && -f "fuzz/$NAME.cc" ]] || { echo "usage: scripts/fuzz.sh NAME [seconds]; NAME: $names" >&2; exit 2; }
BUDGET=${2:-600}
cmake --preset fuzz > /dev/null
cmake --build --preset fuzz --target "fuzz_$NAME"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
[ -d "fuzz/corpus/$NAME" ] && cp -rL "fuzz/corpus/$NAME/." "$WORK/"  # -L: a seed may link to a spec
mkdir -p fuzz-artifacts
# The harnesses write their scratch files under TMPDIR: memory, where there is some.
[ -d /dev/shm ] && export TMPDIR=/dev/shm
export ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0"
"build-fuzz/fuzz/fuzz_$NAME" "$WORK" -max_total_time="$BUDGET" -timeout=30 -rss_limit_mb=4096 \
  -artifact_prefix="fuzz-artifacts/$NAME-" -print_final_stats=1
