// `alexnet train --local-workers N`: N training processes on this machine, one cluster on
// 127.0.0.1. No TensorFlow here: it only says what the workers run, and starts, watches and
// signals them.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "util/status.h"

namespace alexnet::train {

struct LocalWorkers {
  int count = 2;
  std::string program;             // the alexnet binary
  std::vector<std::string> args;   // its arguments ("train", ...), without --local-workers
  std::string run_dir;             // the run folder: tasks 1.. write their logs there
  double collective_timeout_s = 120;
};

// Environment variable set for the workers it starts: their TensorFlow server then listens on
// the loopback interface only (see cli/loopback_bind.cpp).
inline constexpr char kLoopbackOnlyEnv[] = "ALEXNET_LOOPBACK_ONLY";

// Picks N free ports on 127.0.0.1, starts the N processes with `--cluster 127.0.0.1:P0,...
// --task I` (task 0 on this terminal, the others into <run>/worker-<I>.log), forwards SIGINT
// and SIGTERM to all of them, and waits. Returns the chief's exit status (128 + signal when it
// was killed). Workers still running a collective timeout (+ 30 s) after the chief ended or a
// worker failed are killed (at start-up they would otherwise wait the start-up timeout).
Result<int> RunLocalWorkers(const LocalWorkers& request, std::ostream& out);

// The arguments each worker gets from `args`, the launching command's own (without argv[0]):
// --local-workers N (or --local-workers=N) dropped, and `--run run_dir` added when there is no
// --run, so that all of them write to one run folder. RunLocalWorkers adds --cluster and --task.
std::vector<std::string> LocalWorkerArguments(std::vector<std::string> args, const std::string& run_dir);

// The path of this program's binary (/proc/self/exe resolved; itself when that fails), to start
// it again as the workers.
std::string ThisProgram();

}  // namespace alexnet::train
