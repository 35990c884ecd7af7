// A clean terminal. TensorFlow reads TF_CPP_MIN_LOG_LEVEL once, while its shared libraries load
// (before main), and writes its start-up lines ("WARNING: All log messages before
// absl::InitializeLog() is called...", the oneDNN notice) at that moment too. So:
//  1. a constructor in this small shared library, which the dynamic linker runs before any other
//     library's (it is linked with -z initfirst), points stderr into an in-memory file, unless the
//     user set TF_CPP_MIN_LOG_LEVEL=0 or passed --verbose;
//  2. EndQuietStart(), first thing in main, gives stderr back and runs the program again with
//     TF_CPP_MIN_LOG_LEVEL=2 (errors only; a level the user set is kept), so that TensorFlow stays
//     quiet after start-up too;
//  3. in that second run the start-up lines are captured again, and EndQuietStart shows what
//     start-up wrote to stderr less TensorFlow's informational lines (a real error still shows).
// The restart also carries OpenCV's decode limit and TensorFlow's oneDNN switch, which the
// libraries read while they load too (start_environment.h); when there is no restart (--verbose,
// the user's TF_CPP_MIN_LOG_LEVEL=0), the constructor restarts the program for those alone, unless
// the user set them.
#pragma once

namespace alexnet::cli {

// Returns at once when stderr was not captured; in the first run it does not return unless the
// re-execution failed.
void EndQuietStart(char** argv);
// For child processes that are this program again (`train --local-workers`): when this process
// had the quiet restart, marks the environment so that they start as its second run did
// (TF_CPP_MIN_LOG_LEVEL=2 is already set; their start-up lines are filtered the same way).
void StartChildrenQuietly();

}  // namespace alexnet::cli
