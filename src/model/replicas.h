// Data-parallel training on TensorFlow's distributed runtime (between-graph replication): every
// process runs its own gRPC server and its own copy of the graph, placed on its own task's CPU,
// and the replicas meet only in collective all-reduce ops (CollectiveReduceV2, ring algorithm).
// Everything a ModelSession does differently as one replica of a cluster is here: the replica's
// loss and the gradient all-reduce of its training step, the ops that copy the chief's variables
// and sum numbers over the replicas, and running them. docs/scaling.md explains the design.
//
// There is no C++ op wrapper for the collective ops in the wheel, so AllReduceSum adds the node
// itself (NodeBuilder, i.e. a NodeDef with its attributes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tensorflow/cc/framework/ops.h>
#include <tensorflow/cc/framework/scope.h>
#include <tensorflow/core/framework/graph.pb.h>
#include <tensorflow/core/framework/tensor.h>
#include <tensorflow/core/public/session_options.h>

#include "model/cluster_spec.h"
#include "model/session.h"
#include "model/train_step.h"
#include "util/status.h"

namespace alexnet::model {

// Starts this process's TensorFlow server for `cluster` (job "worker", protocol "grpc") and
// returns its session target ("grpc://..."). Once per process: a second call returns the
// first server's target. The server lives until the process exits (TensorFlow's GrpcServer
// cannot be shut down cleanly; its destructor aborts). An address already in use or a cluster
// list that does not parse is an error naming the task and the address.
Result<std::string> StartServer(const ClusterSpec& cluster, int intra_op_threads);

// Collective instance keys: one per all-reduce in the graph, the same in every replica.
namespace instance_keys {
constexpr int kStepTotals = 10;       // images, losses, votes of a training step
constexpr int kSum = 11;              // Replicas::Sum
constexpr int kGradient = 1000;       // + parameter index
constexpr int kSyncParameter = 2000;  // + variable index (parameters, then momentum accumulators)
}  // namespace instance_keys

// The element-wise sum of `x` over all replicas (every replica adds the node with the same
// key and shape). `timeout_s` bounds the wait for the other replicas.
tensorflow::Output AllReduceSum(const tensorflow::Scope& scope, tensorflow::Input x, const ClusterSpec& cluster,
                                int instance_key, double timeout_s);

// A replica's wish to stop after the step (SIGINT/SIGTERM, time budget). The wishes are summed
// over the replicas inside the step, so that all of them stop after the same step.
struct StopVotes {
  bool signal = false;
  bool time_budget = false;
};

// The replica part of a ModelSession whose SessionConfig has a cluster (session.replicas()).
class Replicas {
 public:
  explicit Replicas(ModelSession* owner) : owner_(*owner) {}

  // Building the session (ModelSession::Build and StartSession call these instead of their
  // single-process parts). The replica's training step: its share of the global batch's loss,
  // the gradients of the shares summed over the replicas (the gradients of the global batch) and
  // the single process's momentum update; then the ops that copy the chief's variables to every
  // replica and sum numbers over the replicas. EvalStep and Gradients fetch the loss of this
  // replica's batch alone (the single-process loss under other names).
  Status AddTrainingStep(const tensorflow::Scope& root, SavedVariables* saved,
                         std::vector<tensorflow::Output>* init_ops);
  // Every node on this task's CPU; the session runs on this process's server and uses only its
  // own task's device.
  void ConfigureSession(tensorflow::GraphDef* graph, tensorflow::SessionOptions* options) const;

  // One SGD step on this replica's share of the global batch (possibly empty): the loss,
  // cross-entropy, correct answers and image count of the global batch, and the stop votes of
  // all replicas.
  Status TrainStep(const tensorflow::Tensor& images, const tensorflow::Tensor& labels, float learning_rate,
                   const StopVotes& votes, StepResult* result);
  // Gives every replica the chief's parameters and momentum accumulators; `allreduce_s`
  // (optional) receives the time of one all-reduce of all parameters, the size of the gradient
  // a step averages.
  Status SyncFromChief(double* allreduce_s = nullptr);
  // The element-wise sum of `values` over the replicas (all pass the same length, at most 16).
  // A collective, so every replica must call it.
  Result<std::vector<double>> Sum(const std::vector<double>& values);
  // FNV-1a over the bytes of every variable (parameters and momentum accumulators), in order:
  // replicas that hold identical weights print the same number.
  Result<uint64_t> VariablesChecksum();

  const ClusterSpec& cluster() const { return owner_.config().cluster; }

 private:
  tensorflow::Output AddShareOfLoss(const tensorflow::Scope& root);
  void AddSyncOps(const tensorflow::Scope& root, const SavedVariables& saved);
  Status TrainStepOn(const tensorflow::Tensor& images, const tensorflow::Tensor& labels,
                     const tensorflow::Tensor& weights, float learning_rate, const StopVotes& votes,
                     StepResult* result);

  ModelSession& owner_;  // the session this is part of
};

}  // namespace alexnet::model
