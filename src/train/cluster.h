// Where the cluster of a data-parallel run comes from: `--cluster HOST:PORT,... --task I`, or
// the TF_CONFIG environment variable as TensorFlow's Python users write it. No TensorFlow here.
#pragma once

#include <string>

#include "util/status.h"
#include "model/cluster_spec.h"

namespace alexnet::train {

// "host:port,host:port,..." and this process's index. Errors say what is wrong with which entry.
Result<model::ClusterSpec> ParseClusterList(const std::string& list, int task);

// TF_CONFIG: {"cluster": {"chief": ["h:p"], "worker": ["h:p", ...]}, "task": {"type": "worker",
// "index": 0}}. The chief (if listed) is task 0 and the workers follow it; without a "chief" job
// worker 0 is the chief. Other jobs ("ps", "evaluator") are refused.
Result<model::ClusterSpec> ClusterFromTfConfig(const std::string& json);

// Checks a spec made by hand: at least one worker, every address host:port with a port in
// 1..65535, no address twice, task in range.
Status CheckCluster(const model::ClusterSpec& cluster);

// A failed collective step, said in the cluster's terms: which worker (task and address) failed
// or could not be reached, or that none answered within the collective timeout, followed by
// TensorFlow's own message, as StatusCode::kUnavailable. Other failures are returned unchanged.
Status ExplainReplicaFailure(const Status& failure, const model::ClusterSpec& cluster);

}  // namespace alexnet::train
