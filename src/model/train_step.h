// The pieces of the training step's graph that a single process (train_step.cpp) and a replica
// of a cluster (replicas.cpp) share: the node names a step feeds and fetches, the loss, and the
// momentum update. Internal to src/model; the public face is ModelSession::TrainStep.
#pragma once

#include <string>
#include <vector>

#include <tensorflow/cc/framework/ops.h>
#include <tensorflow/cc/framework/scope.h>
#include <tensorflow/core/framework/tensor.h>

#include "model/graph.h"

namespace alexnet::model {

// Graph node names used to feed and fetch.
namespace names {
constexpr char kLabels[] = "labels";
constexpr char kLearningRate[] = "learning_rate";
constexpr char kLoss[] = "loss";
constexpr char kCrossEntropy[] = "cross_entropy";
constexpr char kTrain[] = "train";
}  // namespace names

// What a checkpoint holds: the parameters, and in training the momentum accumulators.
struct SavedVariables {
  std::vector<std::string> names;
  std::vector<tensorflow::Output> vars;
  void Add(const std::string& name, tensorflow::Output var) {
    names.push_back(name);
    vars.push_back(var);
  }
};

// The loss of a batch and its parts. With label smoothing, cross_entropy is against the smoothed
// targets (what the step minimises, as PyTorch's CrossEntropyLoss(label_smoothing) reports it),
// not against the labels; evaluation computes the plain one from the probabilities.
struct Loss {
  tensorflow::Output labels;         // the "labels" placeholder, [N] int32
  tensorflow::Output per_image;      // softmax cross-entropy of each image against its target, [N]
  tensorflow::Output weight_decay;   // weight_decay * sum of w^2 / 2 over the weights
  tensorflow::Output cross_entropy;  // per_image averaged over the batch, named `cross_entropy_name`
  tensorflow::Output total;          // cross_entropy + weight_decay, named `loss_name`
};

// Softmax cross-entropy of each row of `logits` [N, classes] against the target
// (1 - label_smoothing) * one-hot(label) + label_smoothing / classes, [N]: with label_smoothing 0
// the one-hot labels themselves, the graph as it has always been.
tensorflow::Output SmoothedCrossEntropy(const tensorflow::Scope& root, tensorflow::Output logits,
                                        tensorflow::Output labels, int classes, float label_smoothing);

// labels -> (smoothed) one-hot -> softmax cross-entropy of the logits, averaged over the batch,
// plus weight decay on the weights (L2) of the layers in `train_layers` (empty: every layer).
Loss AddLoss(const tensorflow::Scope& root, const Network& net, int classes, float weight_decay,
             float label_smoothing, const std::string& cross_entropy_name, const std::string& loss_name,
             const std::vector<std::string>& train_layers = {});

// One momentum accumulator per trained parameter (saved, initialised to 0) and the "train" op
// that applies `gradients` (one per entry of `trained`) with SGD with momentum, once the
// gradients, `loss` and the logits of `net` are computed. Frozen parameters have neither.
void AddMomentumUpdate(const tensorflow::Scope& root, const std::vector<Parameter>& trained, const Network& net,
                       tensorflow::Output learning_rate, float momentum,
                       const std::vector<tensorflow::Output>& gradients, tensorflow::Output loss,
                       SavedVariables* saved, std::vector<tensorflow::Output>* init_ops);

// The parameters of the layers in `train_layers` (empty: all), in order.
std::vector<Parameter> TrainedParameters(const Network& net, const std::vector<std::string>& train_layers);
// The parameters' variables, in order.
std::vector<tensorflow::Output> ParameterValues(const std::vector<Parameter>& parameters);
// The operations of `outputs`, as control dependencies.
std::vector<tensorflow::Operation> Ops(const std::vector<tensorflow::Output>& outputs);
// Images of the batch whose arg-max logit is the label.
int CountTop1(const tensorflow::Tensor& logits, const tensorflow::Tensor& labels);

}  // namespace alexnet::model
