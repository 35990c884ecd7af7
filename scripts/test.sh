#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs the whole test suite with CTest,
# then the sanitizer runs of the TensorFlow-free code (scripts/sanitize.sh: ASan+UBSan and TSan
# builds in build-asan/ and build-tsan/; ALEXNET_SKIP_SANITIZERS=1 leaves them out).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/build.sh"
ctest --test-dir "$ROOT/build" --output-on-failure -j "$(nproc)" "$@"
if [[ "${ALEXNET_SKIP_SANITIZERS:-0}" != 1 ]]; then
  start=$SECONDS
  bash "$ROOT/scripts/sanitize.sh"
  echo "test: sanitizer runs took $((SECONDS - start)) s"
fi
