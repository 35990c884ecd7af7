#include "model/replicas.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>

#include <tensorflow/cc/framework/gradients.h>
#include <tensorflow/cc/ops/standard_ops.h>
#include <tensorflow/core/distributed_runtime/server_lib.h>
#include <tensorflow/core/graph/node_builder.h>
#include <tensorflow/core/protobuf/cluster.pb.h>
#include <tensorflow/core/protobuf/config.pb.h>
#include <tensorflow/core/protobuf/rewriter_config.pb.h>
#include <tensorflow/core/protobuf/tensorflow_server.pb.h>

#include "model/tf_status.h"

namespace alexnet::model {

namespace ops = tensorflow::ops;
using tensorflow::Output;
using tensorflow::Scope;
using tensorflow::Tensor;

// Graph node names of a replica's own ops.
namespace names {
constexpr char kLocalLoss[] = "local/loss";
constexpr char kLocalCrossEntropy[] = "local/cross_entropy";
constexpr char kStopVotes[] = "replicas/stop_votes";
constexpr char kExampleWeights[] = "replicas/example_weights";
constexpr char kStepTotals[] = "replicas/step_totals";
constexpr char kSyncParameters[] = "replicas/sync_parameters";
constexpr char kSyncMomentum[] = "replicas/sync_momentum";
constexpr char kSumInput[] = "replicas/sum_input";
constexpr char kSum[] = "replicas/sum";
}  // namespace names

// The step totals a replica's step sums over the replicas (kStepTotals), in order.
enum StepTotal { kImages, kCrossEntropySum, kCorrect, kSignalVotes, kTimeBudgetVotes, kStepTotalCount };

namespace {

constexpr char kJob[] = "worker";
constexpr int kGroupKey = 1;  // all replicas form one collective group

std::string GroupLeader() { return std::string("/job:") + kJob + "/replica:0/task:0"; }

tensorflow::ServerDef MakeServerDef(const ClusterSpec& cluster, int intra_op_threads) {
  tensorflow::ServerDef def;
  tensorflow::JobDef* job = def.mutable_cluster()->add_job();
  job->set_name(kJob);
  for (int i = 0; i < cluster.size(); ++i) (*job->mutable_tasks())[i] = cluster.workers[static_cast<size_t>(i)];
  def.set_job_name(kJob);
  def.set_task_index(cluster.task);
  def.set_protocol("grpc");
  // The worker's devices (and their thread pools) are made from the server's default config.
  tensorflow::ConfigProto* config = def.mutable_default_session_config();
  if (intra_op_threads > 0) {
    config->set_intra_op_parallelism_threads(intra_op_threads);
    config->set_inter_op_parallelism_threads(1);
  }
  config->mutable_experimental()->set_collective_group_leader(GroupLeader());
  return def;
}

}  // namespace

Result<std::string> StartServer(const ClusterSpec& cluster, int intra_op_threads) {
  static std::mutex mutex;
  static tensorflow::ServerInterface* server = nullptr;  // never destroyed: see the header
  std::lock_guard<std::mutex> lock(mutex);
  if (server) return server->target();
  const std::string where = "task " + std::to_string(cluster.task) + " (" + cluster.address() + ")";
  std::unique_ptr<tensorflow::ServerInterface> made;
  const Status created = FromTf(tensorflow::NewServer(MakeServerDef(cluster, intra_op_threads), &made));
  if (!created.ok()) return created.With("cannot start the TensorFlow server of " + where);
  const Status started = FromTf(made->Start());
  if (!started.ok()) {
    return Status::Error(started.code(), "", "cannot start the TensorFlow server of " + where + ": " +
                                                 started.reason() + " (is the port in use by another process?)");
  }
  server = made.release();
  return server->target();
}

tensorflow::Output AllReduceSum(const tensorflow::Scope& scope, tensorflow::Input x, const ClusterSpec& cluster,
                                int instance_key, double timeout_s) {
  if (!scope.ok()) return tensorflow::Output();
  const std::string name = scope.GetUniqueNameForOp("AllReduceSum");
  const auto group_size = ops::Const(scope, cluster.size());
  const auto group_key = ops::Const(scope, kGroupKey);
  const auto key = ops::Const(scope, instance_key);
  const auto input = ops::AsNodeOut(scope, x);
  if (!scope.ok()) return tensorflow::Output();
  tensorflow::Node* node = nullptr;
  auto builder = tensorflow::NodeBuilder(name, "CollectiveReduceV2")
                     .Input(input)
                     .Input(ops::AsNodeOut(scope, group_size))
                     .Input(ops::AsNodeOut(scope, group_key))
                     .Input(ops::AsNodeOut(scope, key))
                     .Input(std::vector<tensorflow::NodeBuilder::NodeOut>{})  // no ordering tokens
                     .Attr("merge_op", "Add")
                     .Attr("final_op", "Id")
                     .Attr("communication_hint", "ring")
                     .Attr("timeout_seconds", static_cast<float>(timeout_s));
  scope.UpdateBuilder(&builder);
  scope.UpdateStatus(builder.Finalize(scope.graph(), &node));
  if (!scope.ok()) return tensorflow::Output();
  scope.UpdateStatus(scope.DoShapeInference(node));
  return tensorflow::Output(node, 0);
}

// The replica's graph.

Status Replicas::AddTrainingStep(const Scope& root, SavedVariables* saved, std::vector<Output>* init_ops) {
  if (!owner_.config_.training) return Status::Internal("a replica of a cluster must be a training session");
  auto lr = ops::Placeholder(root.WithOpName(names::kLearningRate), tensorflow::DT_FLOAT, ops::Placeholder::Shape({}));
  const Output share = AddShareOfLoss(root);
  ALEXNET_RETURN_IF_TF_ERROR(root.status());
  // Frozen layers (fine-tuning) as in a single process: only the trained parameters' gradients.
  const std::vector<Parameter> trained = TrainedParameters(owner_.net_, owner_.config_.train_layers);
  std::vector<Output> local_grads;
  ALEXNET_RETURN_IF_TF_ERROR(tensorflow::AddSymbolicGradients(root, {share}, ParameterValues(trained), &local_grads));
  for (const Output& g : local_grads) owner_.gradient_names_.push_back(g.name());
  // The sum over the replicas of their shares' gradients is the gradient of the global batch.
  const ClusterSpec& c = cluster();
  const Scope s = root.NewSubScope("allreduce");
  std::vector<Output> grads = local_grads;
  for (size_t i = 0; i < grads.size(); ++i) {
    grads[i] =
        AllReduceSum(s, local_grads[i], c, instance_keys::kGradient + static_cast<int>(i), c.collective_timeout_s);
  }
  ALEXNET_RETURN_IF_TF_ERROR(root.status());
  AddMomentumUpdate(root, trained, owner_.net_, lr, owner_.config_.momentum, grads, share, saved, init_ops);
  AddSyncOps(root, *saved);
  return Status::Ok();
}

// A replica's share of the loss of the global batch, whose gradients summed over the replicas
// are the gradients of the single-process loss on the whole batch: its cross-entropy summed
// over its own images and divided by the images of all replicas, plus 1/N of the weight decay
// (the replicas hold the same weights). The images of all replicas come from a small
// all-reduce at the start of the step (kStepTotals), which also sums the replicas' summed
// cross-entropy, correct answers and stop votes for the progress line and the stop decision.
// Named outputs: kLoss / kCrossEntropy of the global batch, kStepTotals, and kLocalLoss /
// kLocalCrossEntropy of this replica's batch alone (the single-process loss, for evaluation,
// which needs no other replica).
Output Replicas::AddShareOfLoss(const Scope& root) {
  const Network& net = owner_.net_;
  const Loss local = AddLoss(root, net, owner_.config_.model.num_classes, owner_.config_.weight_decay,
                             owner_.config_.label_smoothing, names::kLocalCrossEntropy, names::kLocalLoss,
                             owner_.config_.train_layers);
  owner_.local_loss_name_ = names::kLocalLoss;
  owner_.local_cross_entropy_name_ = names::kLocalCrossEntropy;
  const Output& xent = local.per_image;
  const Output& decay = local.weight_decay;

  // Each image's weight in the global batch: 1, or 0 for the blank image an empty shard runs.
  auto weights = ops::PlaceholderWithDefault(root.WithOpName(names::kExampleWeights),
                                             ops::Fill(root, ops::Shape(root, local.labels), 1.0f),
                                             tensorflow::PartialTensorShape({-1}));
  auto images = ops::Sum(root, weights, {0});
  auto ce_sum = ops::Sum(root, ops::Mul(root, xent, weights), {0});
  auto predicted = ops::Cast(root, ops::ArgMax(root, net.logits, 1), tensorflow::DT_INT32);
  auto hits = ops::Cast(root, ops::Equal(root, predicted, local.labels), tensorflow::DT_FLOAT);
  auto correct = ops::Sum(root, ops::Mul(root, hits, weights), {0});
  auto votes = ops::Placeholder(root.WithOpName(names::kStopVotes), tensorflow::DT_FLOAT,
                                ops::Placeholder::Shape({2}));
  const Output counts = ops::Stack(root, std::initializer_list<Output>{images, ce_sum, correct});
  auto mine = ops::Concat(root, std::initializer_list<Output>{counts, votes}, 0);
  const ClusterSpec& c = cluster();
  auto totals = ops::Identity(root.WithOpName(names::kStepTotals),
                              AllReduceSum(root, mine, c, instance_keys::kStepTotals, c.collective_timeout_s));
  // No gradient flows into the totals: the image count only scales this replica's share.
  auto all_images = ops::StopGradient(root, ops::Gather(root, totals, ops::Const(root, int(kImages))));
  auto ce = ops::Div(root.WithOpName(names::kCrossEntropy),
                     ops::Gather(root, totals, ops::Const(root, int(kCrossEntropySum))), all_images);
  ops::Add(root.WithOpName(names::kLoss), ce, decay);
  return ops::Add(root, ops::Div(root, ce_sum, all_images),
                  ops::Mul(root, decay, ops::Const(root, 1.0f / float(c.size()))));
}

// Every variable takes the chief's value: the replicas all-reduce their values times 1 (chief) or
// 0 (the others), which gives the chief's values exactly. Parameters and momentum accumulators
// are two targets, so that the parameters alone (the size of a gradient) can be timed. And
// kSum: the sum of a vector of numbers over the replicas.
void Replicas::AddSyncOps(const Scope& root, const SavedVariables& saved) {
  const Scope s = root.NewSubScope("replicas");
  const ClusterSpec& c = cluster();
  const auto mine = ops::Const(s, c.chief() ? 1.0f : 0.0f);
  std::vector<Output> parameters, momentum;
  for (size_t i = 0; i < saved.vars.size(); ++i) {
    const Output chiefs = AllReduceSum(s, ops::Mul(s, saved.vars[i], mine), c,
                                       instance_keys::kSyncParameter + static_cast<int>(i), c.startup_timeout_s);
    (i < owner_.net_.parameters.size() ? parameters : momentum).push_back(ops::Assign(s, saved.vars[i], chiefs));
  }
  ops::NoOp(root.WithOpName(names::kSyncParameters).WithControlDependencies(Ops(parameters)));
  ops::NoOp(root.WithOpName(names::kSyncMomentum).WithControlDependencies(Ops(momentum)));
  auto in = ops::Placeholder(root.WithOpName(names::kSumInput), tensorflow::DT_DOUBLE, ops::Placeholder::Shape({-1}));
  ops::Identity(root.WithOpName(names::kSum), AllReduceSum(s, in, c, instance_keys::kSum, c.collective_timeout_s));
}

void Replicas::ConfigureSession(tensorflow::GraphDef* graph, tensorflow::SessionOptions* options) const {
  const ClusterSpec& c = cluster();
  for (auto& node : *graph->mutable_node()) {
    if (node.device().empty()) node.set_device(c.device());
  }
  options->target = owner_.config_.target;
  options->config.mutable_experimental()->set_collective_group_leader(GroupLeader());
  options->config.add_device_filters(std::string("/job:") + kJob + "/replica:0/task:" + std::to_string(c.task));
  // bf16 on the distributed runtime: grappler's remapper fuses the bf16 convolutions into
  // _FusedConv2D, which a DirectSession's oneDNN rewrite turns into its oneDNN kernel but a
  // worker's graph manager does not, and _FusedConv2D has no bf16 CPU kernel ("Value for attr
  // 'T' of bfloat16 is not in the list of allowed values"). Unfused, the ops run in bf16.
  if (owner_.config_.model.precision == Precision::kBf16) {
    options->config.mutable_graph_options()->mutable_rewrite_options()->set_remapping(
        tensorflow::RewriterConfig::OFF);
  }
}

// Running the replica's ops.

Status Replicas::TrainStep(const Tensor& images, const Tensor& labels, float learning_rate, const StopVotes& votes,
                           StepResult* result) {
  // An empty shard (a last batch of an epoch smaller than the number of replicas) must still
  // take part in the step's collectives, but TensorFlow's CPU convolutions fail on a batch of
  // 0 ("input depth must be evenly divisible by filter depth: 3 vs 96"): it runs one blank
  // image with weight 0, which adds nothing to the loss, the gradients or the counts.
  if (images.dim_size(0) == 0) {
    Tensor one_image(tensorflow::DT_FLOAT, {1, images.dim_size(1), images.dim_size(2), images.dim_size(3)});
    one_image.flat<float>().setZero();
    Tensor one_label(tensorflow::DT_INT32, {1});
    one_label.flat<int32_t>()(0) = 0;
    Tensor zero_weight(tensorflow::DT_FLOAT, {1});
    zero_weight.flat<float>()(0) = 0.0f;
    return TrainStepOn(one_image, one_label, zero_weight, learning_rate, votes, result);
  }
  return TrainStepOn(images, labels, Tensor(), learning_rate, votes, result);
}

// The single-process step's feeds plus the stop votes and the images' weights (when not all 1),
// and the step totals of all replicas fetched.
Status Replicas::TrainStepOn(const Tensor& images, const Tensor& labels, const Tensor& weights, float learning_rate,
                             const StopVotes& votes, StepResult* result) {
  Tensor v(tensorflow::DT_FLOAT, {2});
  v.flat<float>()(0) = votes.signal ? 1.0f : 0.0f;
  v.flat<float>()(1) = votes.time_budget ? 1.0f : 0.0f;
  std::vector<std::pair<std::string, Tensor>> feeds = {{names::kStopVotes, v}};
  if (weights.NumElements() > 0) feeds.emplace_back(names::kExampleWeights, weights);
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_ERROR(owner_.RunTrainStep(images, labels, learning_rate, feeds, {names::kStepTotals}, &out));
  result->loss = out[0].scalar<float>()();
  result->cross_entropy = out[1].scalar<float>()();
  const auto totals = out[3].flat<float>();
  result->batch = static_cast<int>(std::lround(totals(kImages)));
  result->correct_top1 = static_cast<int>(std::lround(totals(kCorrect)));
  result->signal_votes = static_cast<int>(std::lround(totals(kSignalVotes)));
  result->time_budget_votes = static_cast<int>(std::lround(totals(kTimeBudgetVotes)));
  return Status::Ok();
}

Status Replicas::SyncFromChief(double* allreduce_s) {
  ALEXNET_RETURN_IF_ERROR(owner_.Run({}, {}, {names::kSyncParameters}, nullptr, nullptr));
  ALEXNET_RETURN_IF_ERROR(owner_.Run({}, {}, {names::kSyncMomentum}, nullptr, nullptr));
  if (!allreduce_s) return Status::Ok();
  // Once more, now that every replica has arrived: the time of the all-reduce itself. The
  // values do not change (the chief's values plus zeros).
  const auto start = std::chrono::steady_clock::now();
  ALEXNET_RETURN_IF_ERROR(owner_.Run({}, {}, {names::kSyncParameters}, nullptr, nullptr));
  *allreduce_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::Ok();
}

Result<std::vector<double>> Replicas::Sum(const std::vector<double>& values) {
  // A collective instance keeps the shape it first ran with: always send kSumWidth numbers.
  constexpr int64_t kSumWidth = 16;
  if (static_cast<int64_t>(values.size()) > kSumWidth) return Status::Internal("Replicas::Sum: too many values");
  Tensor in(tensorflow::DT_DOUBLE, {kSumWidth});
  in.flat<double>().setZero();
  for (size_t i = 0; i < values.size(); ++i) in.flat<double>()(static_cast<int64_t>(i)) = values[i];
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_ERROR(owner_.Run({{names::kSumInput, in}}, {names::kSum}, {}, &out, nullptr));
  const auto sum = out[0].flat<double>();
  return std::vector<double>(sum.data(), sum.data() + values.size());
}

Result<uint64_t> Replicas::VariablesChecksum() {
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_ERROR(owner_.Run({}, owner_.variable_names_, {}, &out, nullptr));
  uint64_t h = 1469598103934665603ull;
  for (const Tensor& t : out) {
    const auto bytes = t.tensor_data();
    for (const char b : bytes) {
      h ^= static_cast<unsigned char>(b);
      h *= 1099511628211ull;
    }
  }
  return h;
}

}  // namespace alexnet::model
