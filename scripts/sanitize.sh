#!/usr/bin/env bash
# Sanitizer runs of everything that does not need TensorFlow (docs/reliability.md, "Sanitizers"):
#   build-asan  ALEXNET_SANITIZE=address,undefined: the data pipeline's tests, flag parsing, the layer
#               table's derived columns, LRN's arithmetic, the hand-written reference's gradients, the
#               run folder's files and the cluster flags (data_tests, flags_test, lrn_rows_test,
#               layers_test, reference_gradient_test, util_test, schedule_test, resume_options_test,
#               config_json_test, cluster_test,
#               run_files_fuzz_regression_test, caffe_mapping_test, torch_state_dict_test)
#   build-tsan  ALEXNET_SANITIZE=thread: the tests of the threaded code: the loader and the colour
#               statistics' thread pool (ctest -R "Loader|ColorStats")
# Both are configured with ALEXNET_TF=OFF as Debug builds (-O0 compiles in half the time of -O1;
# the tests spend their time mostly in OpenCV, which is not instrumented anyway), use ccache when
# it is installed, build only the test targets they run, and bound every test with ctest --timeout.
# A finding fails its test (UBSan does not recover; ASan, LSan and TSan exit non-zero), and so
# this script. The sanitizer runtimes (libasan8, libubsan1, liblsan0, libtsan2) come with gcc.
# Usage: bash scripts/sanitize.sh [asan] [tsan]   (both when none is named)
# Environment: JOBS (default nproc), SANITIZE_TIMEOUT (seconds per test, default 300).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOBS="${JOBS:-$(nproc)}"
TIMEOUT="${SANITIZE_TIMEOUT:-300}"
RUNS=("$@")
((${#RUNS[@]})) || RUNS=(asan tsan)

LAUNCHER=()
if command -v ccache >/dev/null; then LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
GENERATOR=()
if command -v ninja >/dev/null; then GENERATOR=(-G Ninja); fi

# ASan's leak checker stays on; UBSan prints the stack of its (fatal) finding; TSan's suppressions
# are only for races inside the uninstrumented libraries (each entry says why).
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/scripts/tsan.supp"
export LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp"

# run NAME SANITIZERS "TARGETS" [ctest args...]
run() {
  local name=$1 sanitize=$2 targets=$3
  shift 3
  local dir="$ROOT/build-$name" start=$SECONDS
  echo "sanitize: $name (-fsanitize=$sanitize) in $dir: building $targets"
  cmake -S "$ROOT" -B "$dir" "${GENERATOR[@]}" "${LAUNCHER[@]}" -DALEXNET_TF=OFF \
    -DALEXNET_SANITIZE="$sanitize" -DCMAKE_BUILD_TYPE=Debug >/dev/null || return 1
  # (`|| return 1`: run is called in an `||` list, where set -e does not stop it.)
  # shellcheck disable=SC2086  # targets is a word list
  cmake --build "$dir" -j "$JOBS" --target $targets || return 1
  local built=$SECONDS rc=0
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" --timeout "$TIMEOUT" "$@" || rc=$?
  echo "sanitize: $name: $(ctest --test-dir "$dir" -N "$@" | sed -n 's/^Total Tests: //p') tests," \
       "build $((built - start)) s, tests $((SECONDS - built)) s$( ((rc)) && echo ", FAILED")"
  return "$rc"
}

ASAN_TARGETS="data_tests flags_test lrn_rows_test layers_test reference_gradient_test util_test schedule_test resume_options_test config_json_test cluster_test run_files_fuzz_regression_test caffe_mapping_test torch_state_dict_test"
# Every run goes ahead even when an earlier one found something; the exit status says if any did.
failed=()
for r in "${RUNS[@]}"; do
  case $r in
    asan) run asan address,undefined "$ASAN_TARGETS" || failed+=(asan) ;;
    tsan) run tsan thread data_tests -R "Loader|ColorStats" || failed+=(tsan) ;;
    *) echo "sanitize: unknown run '$r' (asan, tsan)" >&2; exit 2 ;;
  esac
done
if ((${#failed[@]})); then
  echo "sanitize: FAILED: ${failed[*]}" >&2
  exit 1
fi
