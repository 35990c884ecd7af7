// Which processes train one model together (data parallelism on TensorFlow's distributed
// runtime) and which of them this process is. A plain struct without TensorFlow, so the run
// files (config.json) and the flags can hold it; session.h and replicas.h act on it.
#pragma once

#include <string>
#include <vector>

namespace alexnet::model {

struct ClusterSpec {
  std::vector<std::string> workers;  // "host:port" of every task; task 0 is the chief
  int task = 0;                      // this process's index in `workers`
  // A collective (gradient average, validation sum) that has not completed after this many
  // seconds fails the step: a worker that hangs or cannot be reached stops the others.
  double collective_timeout_s = 120;
  // Start-up waits longer: the workers reach their first collective after loading their data
  // and statistics, which may take minutes and need not happen at the same pace.
  double startup_timeout_s = 600;

  bool enabled() const { return !workers.empty(); }
  int size() const { return static_cast<int>(workers.size()); }
  bool chief() const { return task == 0; }
  const std::string& address() const { return workers[static_cast<size_t>(task)]; }
  // The task's device: every node of the replica's graph is placed there.
  std::string device() const { return "/job:worker/replica:0/task:" + std::to_string(task) + "/device:CPU:0"; }
};

}  // namespace alexnet::model
