#include "model/session.h"
#include "model/session_options.h"

#include "model/gradient_fixes.h"
#include "model/precision.h"
#include "model/replicas.h"
#include "model/train_step.h"

#include <algorithm>
#include <cmath>

#include <tensorflow/cc/ops/standard_ops.h>
#include <tensorflow/core/framework/tensor_util.h>
#include <tensorflow/core/protobuf/config.pb.h>

namespace alexnet::model {

namespace ops = tensorflow::ops;
using tensorflow::Output;
using tensorflow::Scope;
using tensorflow::Tensor;

// Graph node names used to feed and fetch (the training step's: train_step.h).
namespace names {
constexpr char kInit[] = "initialize_all";
constexpr char kSavePrefix[] = "save/prefix";
constexpr char kSave[] = "save/SaveV2";
constexpr char kRestore[] = "restore/all";
// "set/conv1/weights" feeds the value that "set/conv1/weights/assign" assigns (AssignParameters).
constexpr char kSet[] = "set/";
}  // namespace names

namespace {
// A 1-D int64 constant holding a shape, e.g. the dims of a variable for its initialiser.
Output ShapeConst(const Scope& s, const tensorflow::TensorShape& shape) {
  Tensor t(tensorflow::DT_INT64, {shape.dims()});
  for (int i = 0; i < shape.dims(); ++i) t.flat<int64_t>()(i) = shape.dim_size(i);
  return ops::Const(s, t);
}
}  // namespace

ModelSession::ModelSession() = default;

ModelSession::~ModelSession() {
  if (session_) session_->Close().IgnoreError();
}

Result<std::unique_ptr<ModelSession>> ModelSession::Create(const SessionConfig& config) {
  std::unique_ptr<ModelSession> m(new ModelSession());
  m->config_ = config;
  m->config_.model.precision = UsablePrecision(config.model.precision);
  if (config.cluster.enabled()) m->replicas_ = std::make_unique<Replicas>(m.get());
  ALEXNET_RETURN_IF_ERROR(m->Build());
  return m;
}

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
  scope_ = std::make_unique<Scope>(Scope::NewRootScope());
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
    auto value = ops::Placeholder(root.WithOpName(names::kSet + p.name), tensorflow::DT_FLOAT,
                                  ops::Placeholder::Shape(p.shape));
    ops::Assign(root.WithOpName(names::kSet + p.name + "/assign"), p.value, value);
  }
  // The training step (train_step.cpp), or a replica's (replicas.cpp): where the graph of a
  // replica differs from a single process's (StartSession then places it on its task's device).
  if (replicas_) {
    ALEXNET_RETURN_IF_ERROR(replicas_->AddTrainingStep(root, &saved, &init_ops));
  } else if (config_.training) {
    ALEXNET_RETURN_IF_ERROR(AddTrainingStep(root, &saved, &init_ops));
  }
  ops::NoOp(root.WithOpName(names::kInit).WithControlDependencies(Ops(init_ops)));
  AddCheckpointOps(root, saved);
  for (const Output& v : saved.vars) variable_names_.push_back(v.name());
  ALEXNET_RETURN_IF_TF_ERROR(root.status());
  ALEXNET_RETURN_IF_TF_ERROR(root.ToGraphDef(&graph_def_));
  FixLrnGradientAttributes(&graph_def_);
  return StartSession();
}

tensorflow::SessionOptions BaseSessionOptions(int threads, Precision precision) {
  tensorflow::SessionOptions so;
  if (threads > 0) {
    so.config.set_intra_op_parallelism_threads(threads);
    so.config.set_inter_op_parallelism_threads(1);
  }
  ApplyPrecision(precision, &so.config);
  return so;
}

Status ModelSession::StartSession() {
  tensorflow::SessionOptions so = BaseSessionOptions(config_.threads, config_.model.precision);
  if (config_.one_op_at_a_time) so.config.set_inter_op_parallelism_threads(-1);
  if (replicas_) replicas_->ConfigureSession(&graph_def_, &so);  // its task's device, its server
  session_.reset(tensorflow::NewSession(so));
  if (!session_) return Status::Internal("could not create a TensorFlow session");
  return FromTf(session_->Create(graph_def_));
}

Status ModelSession::Initialize() { return FromTf(session_->Run({}, {}, {names::kInit}, nullptr)); }

Status ModelSession::Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                         const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
                         std::vector<Tensor>* out, tensorflow::RunMetadata* trace) {
  if (!trace) return FromTf(session_->Run(feeds, fetches, targets, out));
  tensorflow::RunOptions options;
  options.set_trace_level(tensorflow::RunOptions::FULL_TRACE);
  options.set_output_partition_graphs(true);
  return FromTf(session_->Run(options, feeds, fetches, targets, out, trace));
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

Status ModelSession::AssignParameters(const std::vector<std::pair<std::string, Tensor>>& values) {
  std::vector<std::pair<std::string, Tensor>> feeds;
  std::vector<std::string> targets;
  for (const auto& [name, value] : values) {
    const auto p = std::find_if(net_.parameters.begin(), net_.parameters.end(),
                                [&](const Parameter& q) { return q.name == name; });
    if (p == net_.parameters.end()) return Status::Internal("no parameter " + name + " in the network");
    if (value.dtype() != tensorflow::DT_FLOAT || value.shape() != p->shape) {
      return Status::Internal(name + " is " + p->shape.DebugString() + " in the network, " +
                              value.shape().DebugString() + " in the values given");
    }
    feeds.emplace_back(names::kSet + name, value);
    targets.push_back(names::kSet + name + "/assign");
  }
  return FromTf(session_->Run(feeds, {}, targets, nullptr));
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

}  // namespace alexnet::model
