#include "train/replica_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "train/batch_tensors.h"
#include "train/cluster.h"
#include "util/format.h"

namespace alexnet::train {

namespace {

// TrainState as numbers, to send the chief's to the other replicas (Replicas::Sum).
std::vector<double> StateNumbers(const TrainState& s) {
  return {double(s.step),     double(s.epoch),      double(s.batch_in_epoch),
          s.learning_rate,    double(s.lr_drops),   double(s.epochs_without_improvement),
          s.best_val_top1,    double(s.images_seen), s.train_seconds,
          s.last_loss};
}

TrainState StateFromNumbers(const std::vector<double>& v) {
  TrainState s;
  s.step = std::llround(v[0]);
  s.epoch = std::llround(v[1]);
  s.batch_in_epoch = std::llround(v[2]);
  s.learning_rate = static_cast<float>(v[3]);
  s.lr_drops = static_cast<int>(std::lround(v[4]));
  s.epochs_without_improvement = static_cast<int>(std::lround(v[5]));
  s.best_val_top1 = v[6];
  s.images_seen = std::llround(v[7]);
  s.train_seconds = v[8];
  s.last_loss = static_cast<float>(v[9]);
  return s;
}

}  // namespace

Result<std::unique_ptr<ReplicaRun>> ReplicaRun::Start(const model::ClusterSpec& cluster, int threads,
                                                      std::ostream& out) {
  if (!cluster.enabled()) return std::unique_ptr<ReplicaRun>();
  ALEXNET_ASSIGN_OR_RETURN(std::string target, model::StartServer(cluster, threads));
  return std::unique_ptr<ReplicaRun>(new ReplicaRun(cluster, std::move(target), out));
}

void ReplicaRun::ConfigureSession(model::SessionConfig* config) const {
  config->cluster = cluster_;
  config->target = target_;
  config->model.seed += 1000 * cluster_.task;
}

Status ReplicaRun::SyncFromChief(model::ModelSession* session, TrainState* state) const {
  double allreduce_s = 0;
  const Status synced = session->replicas()->SyncFromChief(&allreduce_s);
  if (!synced.ok()) return ExplainReplicaFailure(synced, cluster_).With("cannot synchronise the replicas");
  std::vector<double> mine = StateNumbers(*state);
  if (!chief()) std::fill(mine.begin(), mine.end(), 0.0);
  Result<std::vector<double>> summed = session->replicas()->Sum(mine);
  if (!summed.ok()) return ExplainReplicaFailure(summed.status(), cluster_);
  const std::vector<double>& chiefs = summed.value();
  *state = StateFromNumbers(chiefs);
  const double mb = 4.0 * double(session->network().ParameterCount()) / 1e6;
  out_ << "replicas synchronised from the chief; one all-reduce of the " << FormatFixed(mb, 1)
       << " MB of parameters across " << cluster_.size() << " workers took " << FormatFixed(allreduce_s, 3)
       << " s" << std::endl;
  return Status::Ok();
}

Status ReplicaRun::Step(model::ModelSession* session, const data::Batch& batch, float learning_rate,
                        const model::StopVotes& votes, model::StepResult* result) const {
  const Status st =
      session->replicas()->TrainStep(ImagesTensor(batch), LabelsTensor(batch), learning_rate, votes, result);
  return ExplainReplicaFailure(st, cluster_);
}

void ReplicaRun::TakeShare(data::LoaderOptions* o) const {
  o->shard = cluster_.task;
  o->shards = cluster_.size();
}

Status ReplicaRun::SumCounts(model::ModelSession* session, EvalResult* val) const {
  Result<std::vector<double>> summed =
      session->replicas()->Sum({double(val->images), double(val->top1), double(val->top5), val->loss_sum});
  if (!summed.ok()) return ExplainReplicaFailure(summed.status(), cluster_).With("validation");
  const std::vector<double>& sum = summed.value();
  val->images = std::llround(sum[0]);
  val->top1 = std::llround(sum[1]);
  val->top5 = std::llround(sum[2]);
  val->loss_sum = sum[3];
  return Status::Ok();
}

void ReplicaRun::PrintHeader(int batch) const {
  const auto& c = cluster_;
  out_ << "  data parallel: task " << c.task << (c.chief() ? " (chief)" : "") << " of " << c.size()
       << " workers at " << c.address() << ", " << batch / c.size() << " to " << (batch + c.size() - 1) / c.size()
       << " images of each batch of " << batch << ", collective timeout " << FormatFixed(c.collective_timeout_s, 0)
       << " s" << (c.chief() ? "" : "; the chief writes the run folder") << std::endl;
}

void ReplicaRun::PrintChecksum(model::ModelSession* session, int64_t step) const {
  const Result<uint64_t> sum = session->replicas()->VariablesChecksum();
  if (!sum.ok()) return;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(*sum));
  out_ << "variables checksum " << hex << " (task " << cluster_.task << ", step " << step << ")\n";
}

}  // namespace alexnet::train
