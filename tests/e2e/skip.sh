# skip REASON...: ends an e2e test as skipped (exit 77, ctest's SKIP_RETURN_CODE), or as failed
# (exit 1) where PBE_NO_SKIP=1: .ci/run sets it, since CI has every tool and file these tests need
# and a skip there would be a test that silently did not run. Only the GPU tests may skip in CI.
skip() {
  if [[ ${PBE_NO_SKIP:-0} == 1 ]]; then
    echo "FAILED: this test would skip ($*), and PBE_NO_SKIP=1 requires it to run"
    exit 1
  fi
  echo "skipped: $*"
  exit 77
}
