#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs the whole test suite with CTest,
# then a fuzzing smoke run of every parser (scripts/fuzz.sh, about 30 s per target; set
# ALEXNET_FUZZ_SECONDS to change it, 0 to skip).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/build.sh"
ctest --test-dir "$ROOT/build" --output-on-failure -j "$(nproc)" "$@"
if [[ ${ALEXNET_FUZZ_SECONDS:-30} != 0 ]]; then
  bash "$ROOT/scripts/fuzz.sh" "${ALEXNET_FUZZ_SECONDS:-30}"
fi
