// What a training run does differently as one replica of a cluster (docs/scaling.md). A
// TrainingRun (trainer.h) holds a ReplicaRun when its config has a cluster and calls it at the
// few places where a replica differs from a single process: its TensorFlow server is started
// first, its session is a replica (model/replicas.h) and starts from the chief's weights and
// training state, its steps carry the stop votes of all replicas, it validates its share of the
// validation split and sums the counts with the others, and it prints its variables' checksum
// at the end. Only the chief writes the run folder (TrainingRun's chief_).
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "data/loader.h"
#include "model/cluster_spec.h"
#include "model/replicas.h"
#include "model/session.h"
#include "train/evaluate.h"
#include "train/train_state.h"
#include "util/status.h"

namespace alexnet::train {

class ReplicaRun {
 public:
  // Starts this process's TensorFlow server, so that a port in use or a bad cluster list is said
  // before any work. nullptr without a cluster (a single process). Progress goes to `out`.
  static Result<std::unique_ptr<ReplicaRun>> Start(const model::ClusterSpec& cluster, int threads,
                                                   std::ostream& out);

  bool chief() const { return cluster_.chief(); }
  // The session is a replica: this process's place in the cluster and its server. Each replica
  // draws its own dropout masks (the graph's random ops are seeded from the model seed); the
  // initial weights it draws from that seed are replaced by the chief's anyway.
  void ConfigureSession(model::SessionConfig* config) const;
  // Every replica takes the chief's weights, momentum and training state (fresh or resumed), so
  // they all start from the same point; the time of one all-reduce of all parameters is said.
  Status SyncFromChief(model::ModelSession* session, TrainState* state) const;
  // One SGD step on this replica's share of the global batch; `result` is of the global batch,
  // with the stop votes of all replicas. A failure names the worker that failed, if it can.
  Status Step(model::ModelSession* session, const data::Batch& batch, float learning_rate,
              const model::StopVotes& votes, model::StepResult* result) const;
  // Validation: this replica's share of every batch (loader options `o`), then the counts
  // summed over the replicas into `val`, so that every replica takes the same decisions.
  void TakeShare(data::LoaderOptions* o) const;
  Status SumCounts(model::ModelSession* session, EvalResult* val) const;
  // The line under the run's header: task, workers, shard sizes of a batch of `batch`, timeout.
  void PrintHeader(int batch) const;
  // "variables checksum <hex> (task I, step S)": identical replicas print the same number.
  void PrintChecksum(model::ModelSession* session, int64_t step) const;

 private:
  ReplicaRun(const model::ClusterSpec& cluster, std::string target, std::ostream& out)
      : cluster_(cluster), target_(std::move(target)), out_(out) {}

  model::ClusterSpec cluster_;
  std::string target_;  // this process's TensorFlow server
  std::ostream& out_;
};

}  // namespace alexnet::train
