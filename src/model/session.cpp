#include "model/session.h"

#include "model/gradient_fixes.h"
#include "model/heap.h"
#include "model/precision.h"
#include "model/ranking.h"
#include "model/replicas.h"

#include <chrono>
#include <cmath>

#include <tensorflow/cc/framework/gradients.h>
#include <tensorflow/cc/ops/standard_ops.h>
#include <tensorflow/core/framework/tensor_util.h>
#include <tensorflow/core/protobuf/config.pb.h>
#include <tensorflow/core/protobuf/rewriter_config.pb.h>

namespace alexnet::model {

namespace ops = tensorflow::ops;
using tensorflow::Output;
using tensorflow::Scope;
using tensorflow::Tensor;

// Graph node names used to feed and fetch.
namespace names {
constexpr char kLabels[] = "labels";
constexpr char kLearningRate[] = "learning_rate";
constexpr char kLoss[] = "loss";
constexpr char kCrossEntropy[] = "cross_entropy";
constexpr char kTrain[] = "train";
constexpr char kInit[] = "initialize_all";
constexpr char kSavePrefix[] = "save/prefix";
constexpr char kSave[] = "save/SaveV2";
constexpr char kRestore[] = "restore/all";
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

// The step totals a distributed step sums over the replicas (kStepTotals), in order.
enum StepTotal { kImages, kCrossEntropySum, kCorrect, kSignalVotes, kTimeBudgetVotes, kStepTotalCount };

namespace {
// A 1-D int64 constant holding a shape, e.g. the dims of a variable for its initialiser.
Output ShapeConst(const Scope& s, const tensorflow::TensorShape& shape) {
  Tensor t(tensorflow::DT_INT64, {shape.dims()});
  for (int i = 0; i < shape.dims(); ++i) t.flat<int64_t>()(i) = shape.dim_size(i);
  return ops::Const(s, t);
}
std::vector<tensorflow::Operation> Ops(const std::vector<Output>& outputs) {
  std::vector<tensorflow::Operation> ops_list;
  for (const Output& o : outputs) ops_list.push_back(o.op());
  return ops_list;
}
}  // namespace

ModelSession::~ModelSession() {
  if (session_) session_->Close().IgnoreError();
}

Result<std::unique_ptr<ModelSession>> ModelSession::Create(const SessionConfig& config) {
  std::unique_ptr<ModelSession> m(new ModelSession());
  m->config_ = config;
  m->config_.model.precision = UsablePrecision(config.model.precision);
  ALEXNET_RETURN_IF_ERROR(m->Build());
  return m;
}

// What a checkpoint holds: the parameters, and in training the momentum accumulators.
struct SavedVariables {
  std::vector<std::string> names;
  std::vector<Output> vars;
  void Add(const std::string& name, Output var) {
    names.push_back(name);
    vars.push_back(var);
  }
};

namespace {

// A parameter's initial value: weights N(0, sigma) (paper) or N(0, sqrt(2 / fan_in)) (He), conv1
// divided by the pixels' standard deviation when the input is not standardised; biases 1 or 0
// as the table says (paper) or 0 (He).
Output InitialValue(const Scope& s, const Parameter& p, const ModelOptions& mo, bool first_layer, int seed2) {
  if (!p.is_weight) {
    return ops::Fill(s, ShapeConst(s, p.shape), ops::Const(s, mo.init == Init::kHe ? 0.0f : p.bias_value));
  }
  float stddev = mo.init_stddev;
  if (mo.init == Init::kHe) {
    stddev = std::sqrt(2.0f / float(p.fan_in));
    if (first_layer && !mo.standardize_input) stddev /= mo.input_stddev;  // conv1 sees raw pixels
  }
  Output normal = ops::RandomNormal(s, ShapeConst(s, p.shape), tensorflow::DT_FLOAT,
                                    ops::RandomNormal::Seed(mo.seed).Seed2(seed2));
  return ops::Mul(s, normal, ops::Const(s, stddev));
}

// Checkpoint save/restore in TensorFlow's V2 format, so Python's tf.train.load_checkpoint reads
// it. The prefix is fed at run time.
void AddCheckpointOps(const Scope& root, const SavedVariables& saved) {
  const Scope s = root.NewSubScope("save");
  auto prefix = ops::Placeholder(root.WithOpName(names::kSavePrefix), tensorflow::DT_STRING,
                                 ops::Placeholder::Shape({}));
  const int64_t n = static_cast<int64_t>(saved.names.size());
  Tensor tnames(tensorflow::DT_STRING, {n});
  Tensor slices(tensorflow::DT_STRING, {n});
  for (int64_t i = 0; i < n; ++i) {
    tnames.flat<tensorflow::tstring>()(i) = saved.names[i];
    slices.flat<tensorflow::tstring>()(i) = "";
  }
  auto names_c = ops::Const(s, tnames);
  auto slices_c = ops::Const(s, slices);
  ops::SaveV2(root.WithOpName(names::kSave), prefix, names_c, slices_c,
              tensorflow::InputList(std::vector<tensorflow::Input>(saved.vars.begin(), saved.vars.end())));
  const Scope r = root.NewSubScope("restore");
  std::vector<tensorflow::DataType> dtypes(saved.names.size(), tensorflow::DT_FLOAT);
  auto restored = ops::RestoreV2(r, prefix, names_c, slices_c, dtypes);
  std::vector<Output> assigns;
  for (size_t i = 0; i < saved.vars.size(); ++i) assigns.push_back(ops::Assign(r, saved.vars[i], restored.tensors[i]));
  ops::NoOp(root.WithOpName(names::kRestore).WithControlDependencies(Ops(assigns)));
}

}  // namespace

Status ModelSession::Build() {
  // A replica's nodes all live on its own task's CPU; only the collectives talk to the others.
  scope_ = std::make_unique<Scope>(distributed() ? Scope::NewRootScope().WithDevice(config_.cluster.device())
                                                 : Scope::NewRootScope());
  local_loss_name_ = names::kLoss;
  local_cross_entropy_name_ = names::kCrossEntropy;
  const Scope& root = *scope_;
  ALEXNET_RETURN_IF_ERROR(BuildAlexNet(root, config_.model, /*with_dropout=*/true, MakeVariable, &net_));
  SavedVariables saved;
  std::vector<Output> init_ops;
  int seed2 = 100;
  for (const Parameter& p : net_.parameters) {
    saved.Add(p.name, p.value);
    const Scope s = root.NewSubScope("init");
    const bool first = p.name == net_.parameters.front().name;
    init_ops.push_back(ops::Assign(s, p.value, InitialValue(s, p, config_.model, first, seed2)));
    if (p.is_weight) ++seed2;  // one random stream per weight tensor, as runs have always drawn them
  }
  if (config_.training) ALEXNET_RETURN_IF_ERROR(AddTrainingOps(root, &saved, &init_ops));
  ops::NoOp(root.WithOpName(names::kInit).WithControlDependencies(Ops(init_ops)));
  AddCheckpointOps(root, saved);
  if (distributed()) AddReplicaSyncOps(root, saved);
  for (const Output& v : saved.vars) variable_names_.push_back(v.name());
  ALEXNET_RETURN_IF_TF_ERROR(root.status());
  ALEXNET_RETURN_IF_TF_ERROR(root.ToGraphDef(&graph_def_));
  FixLrnGradientAttributes(&graph_def_);
  if (distributed()) {
    for (auto& node : *graph_def_.mutable_node()) {
      if (node.device().empty()) node.set_device(config_.cluster.device());
    }
  }
  return StartSession();
}

// Softmax cross-entropy averaged over the batch, plus weight decay: d/dw (wd * w^2 / 2) = wd * w,
// which is the paper's "- 0.0005 * lr * w" term of the momentum update.
// (SparseSoftmaxCrossEntropyWithLogits has no C++ gradient in TF 2.21; the dense op has.)
Output ModelSession::AddLoss(const Scope& root) {
  auto labels = ops::Placeholder(root.WithOpName(names::kLabels), tensorflow::DT_INT32,
                                 ops::Placeholder::Shape({-1}));
  auto onehot = ops::OneHot(root, labels, config_.model.num_classes, 1.0f, 0.0f);
  auto xent = ops::SoftmaxCrossEntropyWithLogits(root, net_.logits, onehot);
  auto ce = ops::Mean(root.WithOpName(names::kCrossEntropy), xent.loss, {0});
  std::vector<Output> l2;
  for (const Parameter& p : net_.parameters) {
    if (p.is_weight) l2.push_back(ops::L2Loss(root, p.value));
  }
  auto decay = ops::Mul(root, ops::AddN(root, l2), ops::Const(root, config_.weight_decay));
  return ops::Add(root.WithOpName(names::kLoss), ce, decay);
}

// A replica's share of the loss of the global batch, whose gradients summed over the replicas
// are the gradients of the single-process loss on the whole batch: its cross-entropy summed
// over its own images and divided by the images of all replicas, plus 1/N of the weight decay
// (the replicas hold the same weights). The images of all replicas come from a small
// all-reduce at the start of the step (kStepTotals), which also sums the replicas' summed
// cross-entropy, correct answers and stop votes for the progress line and the stop decision.
// Named outputs: kLoss / kCrossEntropy of the global batch, kStepTotals, and kLocalLoss /
// kLocalCrossEntropy of this replica's batch alone (evaluation needs no other replica).
Output ModelSession::AddReplicaLoss(const Scope& root) {
  auto labels = ops::Placeholder(root.WithOpName(names::kLabels), tensorflow::DT_INT32,
                                 ops::Placeholder::Shape({-1}));
  auto onehot = ops::OneHot(root, labels, config_.model.num_classes, 1.0f, 0.0f);
  auto xent = ops::SoftmaxCrossEntropyWithLogits(root, net_.logits, onehot).loss;
  std::vector<Output> l2;
  for (const Parameter& p : net_.parameters) {
    if (p.is_weight) l2.push_back(ops::L2Loss(root, p.value));
  }
  auto decay = ops::Mul(root, ops::AddN(root, l2), ops::Const(root, config_.weight_decay));
  auto local_ce = ops::Mean(root.WithOpName(names::kLocalCrossEntropy), xent, {0});
  ops::Add(root.WithOpName(names::kLocalLoss), local_ce, decay);
  local_loss_name_ = names::kLocalLoss;
  local_cross_entropy_name_ = names::kLocalCrossEntropy;

  // Each image's weight in the global batch: 1, or 0 for the blank image an empty shard runs.
  auto weights = ops::PlaceholderWithDefault(root.WithOpName(names::kExampleWeights),
                                             ops::Fill(root, ops::Shape(root, labels), 1.0f),
                                             tensorflow::PartialTensorShape({-1}));
  auto images = ops::Sum(root, weights, {0});
  auto ce_sum = ops::Sum(root, ops::Mul(root, xent, weights), {0});
  auto predicted = ops::Cast(root, ops::ArgMax(root, net_.logits, 1), tensorflow::DT_INT32);
  auto hits = ops::Cast(root, ops::Equal(root, predicted, labels), tensorflow::DT_FLOAT);
  auto correct = ops::Sum(root, ops::Mul(root, hits, weights), {0});
  auto votes = ops::Placeholder(root.WithOpName(names::kStopVotes), tensorflow::DT_FLOAT,
                                ops::Placeholder::Shape({2}));
  const Output counts = ops::Stack(root, std::initializer_list<Output>{images, ce_sum, correct});
  auto mine = ops::Concat(root, std::initializer_list<Output>{counts, votes}, 0);
  const ClusterSpec& c = config_.cluster;
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

// The loss, its symbolic gradients and one momentum accumulator and update per parameter.
Status ModelSession::AddTrainingOps(const Scope& root, SavedVariables* saved, std::vector<Output>* init_ops) {
  auto lr = ops::Placeholder(root.WithOpName(names::kLearningRate), tensorflow::DT_FLOAT,
                             ops::Placeholder::Shape({}));
  const Output loss = distributed() ? AddReplicaLoss(root) : AddLoss(root);
  ALEXNET_RETURN_IF_TF_ERROR(root.status());
  std::vector<Output> vars;
  for (const Parameter& p : net_.parameters) vars.push_back(p.value);
  std::vector<Output> local_grads;
  ALEXNET_RETURN_IF_TF_ERROR(tensorflow::AddSymbolicGradients(root, {loss}, vars, &local_grads));
  // Distributed: the sum over the replicas of their shares is the gradient of the global batch.
  std::vector<Output> grads = local_grads;
  if (distributed()) {
    const Scope s = root.NewSubScope("allreduce");
    for (size_t i = 0; i < grads.size(); ++i) {
      grads[i] = AllReduceSum(s, local_grads[i], config_.cluster, instance_keys::kGradient + static_cast<int>(i),
                              config_.cluster.collective_timeout_s);
    }
    ALEXNET_RETURN_IF_TF_ERROR(root.status());
  }
  // No variable is updated before every gradient, the loss and the logits are computed (TF1's
  // GATE_GRAPH). Without this gate TensorFlow may run fc8's update while the backward pass still
  // reads fc8's weights to propagate the error to fc7 (variables are updated in place), so the
  // gradients of the lower layers would be computed with partly updated weights, differently
  // from one run to the next.
  std::vector<Output> computed = grads;
  computed.push_back(loss);
  computed.push_back(net_.logits);
  const auto ready = ops::NoOp(root.WithOpName("gradients_ready").WithControlDependencies(Ops(computed)));
  const Scope update = root.NewSubScope("momentum").WithControlDependencies({ready.operation});
  std::vector<Output> updates;
  for (size_t i = 0; i < vars.size(); ++i) {
    const Parameter& p = net_.parameters[i];
    gradient_names_.push_back(local_grads[i].name());
    // ApplyMomentum: accum = momentum * accum + grad; var -= lr * accum. With a constant
    // learning rate this equals the paper's v = 0.9 v - lr * grad; w += v (v = -lr * accum).
    auto accum = ops::Variable(root.WithOpName(p.name + "/Momentum"), p.shape, tensorflow::DT_FLOAT);
    saved->Add(p.name + "/Momentum", accum);
    const Scope init = root.NewSubScope("init");
    init_ops->push_back(ops::Assign(init, accum, ops::ZerosLike(init, p.value)));
    updates.push_back(ops::ApplyMomentum(update, p.value, accum, lr, grads[i], ops::Const(root, config_.momentum)));
  }
  ops::NoOp(root.WithOpName(names::kTrain).WithControlDependencies(Ops(updates)));
  return Status::Ok();
}

// Every variable takes the chief's value: the replicas all-reduce their values times 1 (chief) or
// 0 (the others), which gives the chief's values exactly. Parameters and momentum accumulators
// are two targets, so that the parameters alone (the size of a gradient) can be timed.
void ModelSession::AddReplicaSyncOps(const Scope& root, const SavedVariables& saved) {
  const Scope s = root.NewSubScope("replicas");
  const ClusterSpec& c = config_.cluster;
  const auto mine = ops::Const(s, c.chief() ? 1.0f : 0.0f);
  std::vector<Output> parameters, momentum;
  for (size_t i = 0; i < saved.vars.size(); ++i) {
    const Output chiefs = AllReduceSum(s, ops::Mul(s, saved.vars[i], mine), c,
                                       instance_keys::kSyncParameter + static_cast<int>(i), c.startup_timeout_s);
    (i < net_.parameters.size() ? parameters : momentum).push_back(ops::Assign(s, saved.vars[i], chiefs));
  }
  ops::NoOp(root.WithOpName(names::kSyncParameters).WithControlDependencies(Ops(parameters)));
  ops::NoOp(root.WithOpName(names::kSyncMomentum).WithControlDependencies(Ops(momentum)));
  auto in = ops::Placeholder(root.WithOpName(names::kSumInput), tensorflow::DT_DOUBLE, ops::Placeholder::Shape({-1}));
  ops::Identity(root.WithOpName(names::kSum), AllReduceSum(s, in, c, instance_keys::kSum, c.collective_timeout_s));
}

Status ModelSession::StartSession() {
  KeepFreedMemoryForReuse();  // before the session's threads exist (heap.h)
  tensorflow::SessionOptions so;
  if (config_.threads > 0) {
    so.config.set_intra_op_parallelism_threads(config_.threads);
    so.config.set_inter_op_parallelism_threads(1);
  }
  if (config_.one_op_at_a_time) so.config.set_inter_op_parallelism_threads(-1);
  ApplyPrecision(config_.model.precision, &so.config);
  if (distributed()) {
    so.target = config_.target;
    ApplyClusterConfig(config_.cluster, &so.config);
    // bf16 on the distributed runtime: grappler's remapper fuses the bf16 convolutions into
    // _FusedConv2D, which a DirectSession's oneDNN rewrite turns into its oneDNN kernel but a
    // worker's graph manager does not, and _FusedConv2D has no bf16 CPU kernel ("Value for attr
    // 'T' of bfloat16 is not in the list of allowed values"). Unfused, the ops run in bf16.
    if (config_.model.precision == Precision::kBf16) {
      so.config.mutable_graph_options()->mutable_rewrite_options()->set_remapping(tensorflow::RewriterConfig::OFF);
    }
  }
  session_.reset(tensorflow::NewSession(so));
  if (!session_) return Status::Internal("could not create a TensorFlow session");
  return FromTf(session_->Create(graph_def_));
}

Status ModelSession::Initialize() { return FromTf(session_->Run({}, {}, {names::kInit}, nullptr)); }

namespace {
int CountTop1(const Tensor& logits, const Tensor& labels) {
  const int classes = static_cast<int>(logits.dim_size(1));
  const auto y = labels.flat<int32_t>();
  int correct = 0;
  for (int64_t i = 0; i < logits.dim_size(0); ++i) {
    correct += ArgMax(logits.flat<float>().data() + i * classes, classes) == y(i);
  }
  return correct;
}
}  // namespace

Status ModelSession::Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                         const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
                         std::vector<Tensor>* out, tensorflow::RunMetadata* trace) {
  if (!trace) return FromTf(session_->Run(feeds, fetches, targets, out));
  tensorflow::RunOptions options;
  options.set_trace_level(tensorflow::RunOptions::FULL_TRACE);
  options.set_output_partition_graphs(true);
  return FromTf(session_->Run(options, feeds, fetches, targets, out, trace));
}

Status ModelSession::TrainStep(const Tensor& images, const Tensor& labels, float learning_rate,
                               StepResult* result, tensorflow::RunMetadata* trace, const StopVotes& votes) {
  if (!config_.training) return Status::Internal("session built without training ops");
  // An empty shard (a last batch of an epoch smaller than the number of replicas) must still
  // take part in the step's collectives, but TensorFlow's CPU convolutions fail on a batch of
  // 0 ("input depth must be evenly divisible by filter depth: 3 vs 96"): it runs one blank
  // image with weight 0, which adds nothing to the loss, the gradients or the counts.
  const bool blank = distributed() && images.dim_size(0) == 0;
  if (blank) {
    Tensor one_image(tensorflow::DT_FLOAT, {1, images.dim_size(1), images.dim_size(2), images.dim_size(3)});
    one_image.flat<float>().setZero();
    Tensor one_label(tensorflow::DT_INT32, {1});
    one_label.flat<int32_t>()(0) = 0;
    Tensor zero_weight(tensorflow::DT_FLOAT, {1});
    zero_weight.flat<float>()(0) = 0.0f;
    return TrainStepOn(one_image, one_label, zero_weight, learning_rate, result, trace, votes);
  }
  return TrainStepOn(images, labels, Tensor(), learning_rate, result, trace, votes);
}

Status ModelSession::TrainStepOn(const Tensor& images, const Tensor& labels, const Tensor& weights,
                                 float learning_rate, StepResult* result, tensorflow::RunMetadata* trace,
                                 const StopVotes& votes) {
  Tensor lr(tensorflow::DT_FLOAT, {});
  lr.scalar<float>()() = learning_rate;
  Tensor keep(tensorflow::DT_FLOAT, {});
  keep.scalar<float>()() = KeepProb();
  std::vector<std::pair<std::string, Tensor>> feeds = {{net_.input.name(), images},
                                                        {names::kLabels, labels},
                                                        {names::kLearningRate, lr},
                                                        {net_.keep_prob.name(), keep}};
  std::vector<std::string> fetches = {names::kLoss, names::kCrossEntropy, net_.logits.name()};
  if (distributed()) {
    Tensor v(tensorflow::DT_FLOAT, {2});
    v.flat<float>()(0) = votes.signal ? 1.0f : 0.0f;
    v.flat<float>()(1) = votes.time_budget ? 1.0f : 0.0f;
    feeds.emplace_back(names::kStopVotes, v);
    if (weights.NumElements() > 0) feeds.emplace_back(names::kExampleWeights, weights);
    fetches.push_back(names::kStepTotals);
  }
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_ERROR(Run(feeds, fetches, {names::kTrain}, &out, trace));
  result->loss = out[0].scalar<float>()();
  result->cross_entropy = out[1].scalar<float>()();
  result->correct_top1 = CountTop1(out[2], labels);
  result->batch = static_cast<int>(labels.dim_size(0));
  if (distributed()) {
    const auto totals = out[3].flat<float>();
    result->batch = static_cast<int>(std::lround(totals(kImages)));
    result->correct_top1 = static_cast<int>(std::lround(totals(kCorrect)));
    result->signal_votes = static_cast<int>(std::lround(totals(kSignalVotes)));
    result->time_budget_votes = static_cast<int>(std::lround(totals(kTimeBudgetVotes)));
  }
  return Status::Ok();
}

Status ModelSession::EvalStep(const Tensor& images, const Tensor& labels, StepResult* result,
                              Tensor* probabilities) {
  std::vector<std::string> fetch = {net_.logits.name(), net_.probabilities.name()};
  if (config_.training) {
    fetch.push_back(local_loss_name_);
    fetch.push_back(local_cross_entropy_name_);
  }
  std::vector<std::pair<std::string, Tensor>> feed = {{net_.input.name(), images}};
  if (config_.training) feed.emplace_back(names::kLabels, labels);
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_TF_ERROR(session_->Run(feed, fetch, {}, &out));
  result->correct_top1 = CountTop1(out[0], labels);
  result->batch = static_cast<int>(labels.dim_size(0));
  if (config_.training) {
    result->loss = out[2].scalar<float>()();
    result->cross_entropy = out[3].scalar<float>()();
  }
  if (probabilities) *probabilities = out[1];
  return Status::Ok();
}

Status ModelSession::Predict(const Tensor& images, Tensor* probabilities, tensorflow::RunMetadata* trace) {
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_ERROR(Run({{net_.input.name(), images}}, {net_.probabilities.name()}, {}, &out, trace));
  *probabilities = out[0];
  return Status::Ok();
}

Status ModelSession::Stages(const Tensor& images, std::vector<std::pair<std::string, Tensor>>* stages) {
  std::vector<std::string> fetch;
  for (const auto& st : net_.stages) fetch.push_back(st.second.name());
  fetch.push_back(net_.probabilities.name());
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_TF_ERROR(session_->Run({{net_.input.name(), images}}, fetch, {}, &out));
  stages->clear();
  for (size_t i = 0; i < net_.stages.size(); ++i) stages->emplace_back(net_.stages[i].first, out[i]);
  stages->emplace_back("softmax", out.back());
  return Status::Ok();
}

Status ModelSession::ReadParameters(std::vector<std::pair<std::string, Tensor>>* params) {
  std::vector<std::string> fetch;
  for (const Parameter& p : net_.parameters) fetch.push_back(p.value.name());
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_TF_ERROR(session_->Run({}, fetch, {}, &out));
  params->clear();
  // Fetching a reference Variable aliases its buffer, which the next training step overwrites
  // in place: hand out copies.
  for (size_t i = 0; i < out.size(); ++i) {
    params->emplace_back(net_.parameters[i].name, tensorflow::tensor::DeepCopy(out[i]));
  }
  return Status::Ok();
}

Status ModelSession::Gradients(const Tensor& images, const Tensor& labels, std::vector<Tensor>* grads,
                               float* loss) {
  if (!config_.training) return Status::Internal("session built without training ops");
  std::vector<std::string> fetch = gradient_names_;
  fetch.push_back(local_loss_name_);
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_TF_ERROR(session_->Run({{net_.input.name(), images}, {names::kLabels, labels}}, fetch, {}, &out));
  *loss = out.back().scalar<float>()();
  out.pop_back();
  *grads = std::move(out);
  return Status::Ok();
}

Status ModelSession::Save(const std::string& prefix) {
  Tensor p(tensorflow::DT_STRING, {});
  p.scalar<tensorflow::tstring>()() = prefix;
  return FromTf(session_->Run({{names::kSavePrefix, p}}, {}, {names::kSave}, nullptr), prefix);
}

Status ModelSession::Restore(const std::string& prefix) {
  Tensor p(tensorflow::DT_STRING, {});
  p.scalar<tensorflow::tstring>()() = prefix;
  return FromTf(session_->Run({{names::kSavePrefix, p}}, {}, {names::kRestore}, nullptr), prefix);
}

Status ModelSession::SyncReplicas(double* allreduce_s) {
  if (!distributed()) return Status::Internal("not a replica of a distributed run");
  ALEXNET_RETURN_IF_TF_ERROR(session_->Run({}, {}, {names::kSyncParameters}, nullptr));
  if (config_.training) ALEXNET_RETURN_IF_TF_ERROR(session_->Run({}, {}, {names::kSyncMomentum}, nullptr));
  if (!allreduce_s) return Status::Ok();
  // Once more, now that every replica has arrived: the time of the all-reduce itself. The
  // values do not change (the chief's values plus zeros).
  const auto start = std::chrono::steady_clock::now();
  ALEXNET_RETURN_IF_TF_ERROR(session_->Run({}, {}, {names::kSyncParameters}, nullptr));
  *allreduce_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::Ok();
}

Result<std::vector<double>> ModelSession::SumAcrossReplicas(const std::vector<double>& values) {
  if (!distributed()) return values;
  // A collective instance keeps the shape it first ran with: always send kSumWidth numbers.
  constexpr int64_t kSumWidth = 16;
  if (static_cast<int64_t>(values.size()) > kSumWidth) return Status::Internal("SumAcrossReplicas: too many values");
  Tensor in(tensorflow::DT_DOUBLE, {kSumWidth});
  in.flat<double>().setZero();
  for (size_t i = 0; i < values.size(); ++i) in.flat<double>()(static_cast<int64_t>(i)) = values[i];
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_TF_ERROR(session_->Run({{names::kSumInput, in}}, {names::kSum}, {}, &out));
  const auto sum = out[0].flat<double>();
  return std::vector<double>(sum.data(), sum.data() + values.size());
}

Result<uint64_t> ModelSession::VariablesChecksum() {
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_TF_ERROR(session_->Run({}, variable_names_, {}, &out));
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
