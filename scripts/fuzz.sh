#!/usr/bin/env bash
# Fuzzes every parser of untrusted bytes with libFuzzer (clang-14, ASan + UBSan): configures and
# builds build-fuzz/, then runs each fuzz/ target for SECONDS (default 30: the CI smoke run; two
# targets at a time on two cores) on a temporary copy of its seeds fuzz/corpus/<target>, so the
# corpus in the repository never grows. Prints per target the executions, seconds and corpus
# size; a crash (or leak, timeout, out-of-memory) fails the script with the input's path (kept in
# build-fuzz/fuzz-artifacts/).
#   bash scripts/fuzz.sh                     # smoke run, 30 s per target
#   ALEXNET_FUZZ_SECONDS=600 bash scripts/fuzz.sh   # the longer run (docs/reliability.md)
#   bash scripts/fuzz.sh 600 fuzz_idx fuzz_config   # seconds, then only these targets
# ALEXNET_FUZZ_JOBS=1 runs one target at a time (the figures in docs/reliability.md).
# ALEXNET_FUZZ_KEEP=DIR keeps the grown corpora in DIR/<target> (e.g. to minimise and commit).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET="${1:-${ALEXNET_FUZZ_SECONDS:-30}}"
shift $(($# > 0 ? 1 : 0))
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
  TARGETS=(fuzz_decode_image fuzz_idx fuzz_idx_gzip fuzz_list_file fuzz_color_stats fuzz_config fuzz_state
           fuzz_caffe_labels fuzz_caffe_mean fuzz_caffe_prototxt fuzz_torch_pickle fuzz_safetensors
           fuzz_saved_model_record)
fi
BUILD="$ROOT/build-fuzz"
JOBS="$(nproc)"
((JOBS > 2)) && JOBS=2

for tool in clang-14 clang++-14; do
  command -v "$tool" >/dev/null || { echo "fuzz: $tool missing (bash scripts/setup.sh)" >&2; exit 1; }
done
start=$(date +%s)
CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" -DALEXNET_TF=OFF -DALEXNET_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
nice cmake --build "$BUILD" -j "$JOBS" --target fuzz_targets >/dev/null
echo "fuzz: built ${#TARGETS[@]} targets in $(($(date +%s) - start)) s"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/alexnet-fuzz-run-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# Findings are kept outside the temporary folder so the script can name them.
ARTIFACTS="${ALEXNET_FUZZ_ARTIFACTS:-$BUILD/fuzz-artifacts}"
mkdir -p "$ARTIFACTS"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# One target: fuzzes, then writes its table row to $WORK/$t.row, or returns 1 (log in $WORK/$t.log).
fuzz_one() {
  local t=$1 corpus="$WORK/$1" log="$WORK/$1.log" seeds t0 dict=()
  mkdir -p "$corpus"
  seeds=$(find "$ROOT/fuzz/corpus/$t" -type f | wc -l)
  cp "$ROOT/fuzz/corpus/$t/"* "$corpus/"
  case $t in  # JSON syntax and the files' keys: without them the fuzzer took minutes to reach the fields
    fuzz_color_stats | fuzz_config | fuzz_state | fuzz_saved_model_record) dict=(-dict="$ROOT/fuzz/json.dict") ;;
  esac
  t0=$(date +%s)
  # -rss_limit_mb also bounds a single allocation (malloc_limit_mb); -timeout is per input.
  nice "$BUILD/fuzz/$t" "$corpus" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 \
    -max_len=65536 -print_final_stats=1 "${dict[@]}" -artifact_prefix="$ARTIFACTS/$t-" >"$log" 2>&1 || return 1
  printf '%-18s %12s %8s %14s %14s\n' "$t" "$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")" \
    "$(($(date +%s) - t0))" "$seeds" "$(find "$corpus" -type f | wc -l)" >"$WORK/$t.row"
  if [[ -n ${ALEXNET_FUZZ_KEEP:-} ]]; then
    mkdir -p "$ALEXNET_FUZZ_KEEP/$t" && cp "$corpus/"* "$ALEXNET_FUZZ_KEEP/$t/"
  fi
}

# ALEXNET_FUZZ_JOBS targets at a time (default: the -j of the build, at most 2), one core each.
PARALLEL="${ALEXNET_FUZZ_JOBS:-$JOBS}"
running=0
for t in "${TARGETS[@]}"; do
  if ((running >= PARALLEL)); then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait || true

printf '%-18s %12s %8s %14s %14s\n' target executions seconds "seed inputs" "corpus inputs"
failed=0
for t in "${TARGETS[@]}"; do
  if [[ -f $WORK/$t.row ]]; then
    cat "$WORK/$t.row"
    continue
  fi
  failed=1
  log="$WORK/$t.log"
  tail -n 60 "$log" >&2
  # The sanitizer's own line, which a long stack trace pushes out of the tail.
  grep -m 3 -E "runtime error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|what\(\)" "$log" >&2 || true
  crash=$(grep -o "Test unit written to .*" "$log" | sed 's/Test unit written to //' | tail -n 1)
  echo "fuzz: $t FAILED; the input is ${crash:-(see the log above)}" >&2
  echo "fuzz: reproduce with $BUILD/fuzz/$t ${crash:-INPUT}" >&2
done
((failed == 0)) || exit 1
echo "fuzz: no crash in ${#TARGETS[@]} targets, $SECONDS_PER_TARGET s each, $PARALLEL at a time;" \
  "total $(($(date +%s) - start)) s with the build"
