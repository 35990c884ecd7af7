#!/usr/bin/env bash
# The main job: installs what is missing, builds, then prints AlexNet's summary and runs
# training steps on a random batch.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/build.sh"
"$ROOT/build/src/cli/alexnet" summary
"$ROOT/build/src/cli/alexnet" train-step --batch 16 --steps 3
