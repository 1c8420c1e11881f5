# Sourced by the quick-start scripts: `phase NAME COMMAND...` runs COMMAND, then says how long
# the phase took ("demo: build took 0m03s"), so that a newcomer knows what to expect.
phase() {
  local name=$1 start=$SECONDS status=0
  shift
  "$@" || status=$?
  local took=$((SECONDS - start))
  printf '%s: %s took %dm%02ds\n' "$(basename "$0" .sh)" "$name" $((took / 60)) $((took % 60))
  return $status
}
