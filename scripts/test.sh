#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs the whole test suite with CTest,
# then the sanitizer runs of the TensorFlow-free code (scripts/sanitize.sh: ASan+UBSan and TSan
# builds in build-asan/ and build-tsan/; ALEXNET_SKIP_SANITIZERS=1 leaves them out), then a
# fuzzing smoke run of every parser (scripts/fuzz.sh, about 30 s per target; set
# ALEXNET_FUZZ_SECONDS to change it, 0 to skip).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/build.sh"
ctest --test-dir "$ROOT/build" --output-on-failure -j "$(nproc)" "$@"
if [[ "${ALEXNET_SKIP_SANITIZERS:-0}" != 1 ]]; then
  start=$SECONDS
  bash "$ROOT/scripts/sanitize.sh"
  echo "test: sanitizer runs took $((SECONDS - start)) s"
fi
if [[ ${ALEXNET_FUZZ_SECONDS:-30} != 0 ]]; then
  start=$SECONDS
  bash "$ROOT/scripts/fuzz.sh" "${ALEXNET_FUZZ_SECONDS:-30}"
  echo "test: fuzzing smoke run took $((SECONDS - start)) s"
fi
