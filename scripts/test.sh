#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs the whole test suite with CTest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/build.sh"
ctest --test-dir "$ROOT/build" --output-on-failure -j "$(nproc)" "$@"
