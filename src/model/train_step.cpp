// The training step of a single process, as llm.c's train_gpt2.c has it: forward (the loss),
// backward (its gradients), update (SGD with momentum), and TrainStep, which runs it on a batch.
// A replica of a cluster builds its own step from the same loss and update (replicas.cpp).
#include "model/train_step.h"

#include <tensorflow/cc/framework/gradients.h>
#include <tensorflow/cc/ops/standard_ops.h>

#include "model/ranking.h"
#include "model/session.h"

namespace alexnet::model {

namespace ops = tensorflow::ops;
using tensorflow::Output;
using tensorflow::Scope;
using tensorflow::Tensor;

// Softmax cross-entropy averaged over the batch, plus weight decay: d/dw (wd * w^2 / 2) = wd * w,
// which is the paper's "- 0.0005 * lr * w" term of the momentum update.
// (SparseSoftmaxCrossEntropyWithLogits has no C++ gradient in TF 2.21; the dense op has.)
// Fine-tuning: only the weights of the trained layers have a weight decay term (a frozen
// layer's would be a constant, whose gradient no variable receives).
// Label smoothing (Szegedy et al. 2016, Inception v3) puts label_smoothing / classes on every
// class and the rest on the label: the one-hot op's on and off values. The dense op's gradient,
// softmax - target, holds for any target distribution.
Output SmoothedCrossEntropy(const Scope& root, Output logits, Output labels, int classes, float label_smoothing) {
  const float off = label_smoothing / static_cast<float>(classes);  // 0 without smoothing
  const float on = 1.0f - label_smoothing + off;                     // 1 without smoothing
  auto target = ops::OneHot(root, labels, classes, on, off);
  return ops::SoftmaxCrossEntropyWithLogits(root, logits, target).loss;
}

Loss AddLoss(const Scope& root, const Network& net, int classes, float weight_decay, float label_smoothing,
             const std::string& cross_entropy_name, const std::string& loss_name,
             const std::vector<std::string>& train_layers) {
  Loss loss;
  loss.labels = ops::Placeholder(root.WithOpName(names::kLabels), tensorflow::DT_INT32, ops::Placeholder::Shape({-1}));
  loss.per_image = SmoothedCrossEntropy(root, net.logits, loss.labels, classes, label_smoothing);
  loss.cross_entropy = ops::Mean(root.WithOpName(cross_entropy_name), loss.per_image, {0});
  std::vector<Output> l2;
  for (const Parameter& p : TrainedParameters(net, train_layers)) {
    if (p.is_weight) l2.push_back(ops::L2Loss(root, p.value));
  }
  loss.weight_decay = ops::Mul(root, ops::AddN(root, l2), ops::Const(root, weight_decay));
  loss.total = ops::Add(root.WithOpName(loss_name), loss.cross_entropy, loss.weight_decay);
  return loss;
}

void AddMomentumUpdate(const Scope& root, const std::vector<Parameter>& trained, const Network& net,
                       Output learning_rate, float momentum, const std::vector<Output>& gradients, Output loss,
                       SavedVariables* saved, std::vector<Output>* init_ops) {
  // No variable is updated before every gradient, the loss and the logits are computed (TF1's
  // GATE_GRAPH). Without this gate TensorFlow may run fc8's update while the backward pass still
  // reads fc8's weights to propagate the error to fc7 (variables are updated in place), so the
  // gradients of the lower layers would be computed with partly updated weights, differently
  // from one run to the next.
  std::vector<Output> computed = gradients;
  computed.push_back(loss);
  computed.push_back(net.logits);
  const auto ready = ops::NoOp(root.WithOpName("gradients_ready").WithControlDependencies(Ops(computed)));
  const Scope update = root.NewSubScope("momentum").WithControlDependencies({ready.operation});
  std::vector<Output> updates;
  for (size_t i = 0; i < trained.size(); ++i) {
    const Parameter& p = trained[i];
    // ApplyMomentum: accum = momentum * accum + grad; var -= lr * accum. With a constant
    // learning rate this equals the paper's v = 0.9 v - lr * grad; w += v (v = -lr * accum).
    auto accum = ops::Variable(root.WithOpName(p.name + "/Momentum"), p.shape, tensorflow::DT_FLOAT);
    saved->Add(p.name + "/Momentum", accum);
    const Scope init = root.NewSubScope("init");
    init_ops->push_back(ops::Assign(init, accum, ops::ZerosLike(init, p.value)));
    updates.push_back(
        ops::ApplyMomentum(update, p.value, accum, learning_rate, gradients[i], ops::Const(root, momentum)));
  }
  ops::NoOp(root.WithOpName(names::kTrain).WithControlDependencies(Ops(updates)));
}

// The single-process step's graph: the loss of the batch, its gradient with respect to every
// parameter (TensorFlow's symbolic differentiation), and the momentum update.
Status ModelSession::AddTrainingStep(const Scope& root, SavedVariables* saved, std::vector<Output>* init_ops) {
  auto lr = ops::Placeholder(root.WithOpName(names::kLearningRate), tensorflow::DT_FLOAT, ops::Placeholder::Shape({}));
  const Loss loss = AddLoss(root, net_, config_.model.num_classes, config_.weight_decay, config_.label_smoothing,
                            names::kCrossEntropy, names::kLoss, config_.train_layers);
  ALEXNET_RETURN_IF_TF_ERROR(root.status());
  // With frozen layers (fine-tuning), the gradients of the trained parameters only: TensorFlow
  // then adds no backward op for what lies below the lowest trained layer.
  const std::vector<Parameter> trained = TrainedParameters(net_, config_.train_layers);
  std::vector<Output> grads;
  ALEXNET_RETURN_IF_TF_ERROR(tensorflow::AddSymbolicGradients(root, {loss.total}, ParameterValues(trained), &grads));
  for (const Output& g : grads) gradient_names_.push_back(g.name());
  AddMomentumUpdate(root, trained, net_, lr, config_.momentum, grads, loss.total, saved, init_ops);
  return Status::Ok();
}

Status ModelSession::TrainStep(const Tensor& images, const Tensor& labels, float learning_rate,
                               StepResult* result, tensorflow::RunMetadata* trace) {
  std::vector<Tensor> out;
  ALEXNET_RETURN_IF_ERROR(RunTrainStep(images, labels, learning_rate, {}, {}, &out, trace));
  result->loss = out[0].scalar<float>()();
  result->cross_entropy = out[1].scalar<float>()();
  result->correct_top1 = CountTop1(out[2], labels);
  result->batch = static_cast<int>(labels.dim_size(0));
  return Status::Ok();
}

Status ModelSession::RunTrainStep(const Tensor& images, const Tensor& labels, float learning_rate,
                                  const std::vector<std::pair<std::string, Tensor>>& more_feeds,
                                  const std::vector<std::string>& more_fetches, std::vector<Tensor>* out,
                                  tensorflow::RunMetadata* trace) {
  if (!config_.training) return Status::Internal("session built without training ops");
  Tensor lr(tensorflow::DT_FLOAT, {});
  lr.scalar<float>()() = learning_rate;
  Tensor keep(tensorflow::DT_FLOAT, {});
  keep.scalar<float>()() = KeepProb();
  std::vector<std::pair<std::string, Tensor>> feeds = {{net_.input.name(), images},
                                                        {names::kLabels, labels},
                                                        {names::kLearningRate, lr},
                                                        {net_.keep_prob.name(), keep}};
  feeds.insert(feeds.end(), more_feeds.begin(), more_feeds.end());
  std::vector<std::string> fetches = {names::kLoss, names::kCrossEntropy, net_.logits.name()};
  fetches.insert(fetches.end(), more_fetches.begin(), more_fetches.end());
  return Run(feeds, fetches, {names::kTrain}, out, trace);
}

std::vector<Parameter> TrainedParameters(const Network& net, const std::vector<std::string>& train_layers) {
  std::vector<Parameter> trained;
  for (const Parameter& p : net.parameters) {
    if (IsTrained(p.name, train_layers)) trained.push_back(p);
  }
  return trained;
}

std::vector<Output> ParameterValues(const std::vector<Parameter>& parameters) {
  std::vector<Output> values;
  for (const Parameter& p : parameters) values.push_back(p.value);
  return values;
}

std::vector<tensorflow::Operation> Ops(const std::vector<Output>& outputs) {
  std::vector<tensorflow::Operation> ops_list;
  for (const Output& o : outputs) ops_list.push_back(o.op());
  return ops_list;
}

int CountTop1(const Tensor& logits, const Tensor& labels) {
  const int classes = static_cast<int>(logits.dim_size(1));
  const auto y = labels.flat<int32_t>();
  int correct = 0;
  for (int64_t i = 0; i < logits.dim_size(0); ++i) {
    correct += ArgMax(logits.flat<float>().data() + i * classes, classes) == y(i);
  }
  return correct;
}

}  // namespace alexnet::model
