// Builds AlexNet's forward pass as a TensorFlow graph from the layer table (layers.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <tensorflow/cc/framework/ops.h>
#include <tensorflow/cc/framework/scope.h>

#include "model/layers.h"
#include "model/tf_status.h"

namespace alexnet::model {

// A trainable tensor of the model, named after its layer: "conv1/weights", "fc8/biases".
struct Parameter {
  std::string name;
  tensorflow::TensorShape shape;
  bool is_weight;    // weights get weight decay and the N(0, sigma) / He initialisation
  float bias_value;  // paper initialisation of a bias (1 or 0)
  int64_t fan_in;    // k*k*in_channels or the FC input width (He initialisation)
  tensorflow::Output value;  // the Variable (training) or Const (frozen graph)
};

// Supplies the tensor behind a parameter: a Variable for training, a Const for a frozen graph.
using ParameterFactory =
    std::function<tensorflow::Output(const tensorflow::Scope&, const Parameter&)>;

struct Network {
  tensorflow::Output input;      // "input": [N, S, S, 3] float, NHWC, mean-subtracted
  tensorflow::Output keep_prob;  // "keep_prob": dropout keep probability, default 1 (inference)
  tensorflow::Output logits;     // "fc8/logits": [N, classes]
  tensorflow::Output probabilities;  // "probabilities": softmax of the logits
  // Every stage of the seed's table in order (conv1, lrn1, pool1, ..., fc8) with its output.
  std::vector<std::pair<std::string, tensorflow::Output>> stages;
  std::vector<Parameter> parameters;

  int64_t ParameterCount() const;  // weights and biases of every layer
};

// with_dropout=false leaves dropout out of the graph entirely (frozen inference graphs);
// with it, dropout is active only when keep_prob < 1 is fed.
Status BuildAlexNet(const tensorflow::Scope& root, const ModelOptions& opts, bool with_dropout,
                    const ParameterFactory& make_parameter, Network* net);

// The default factory: one float Variable per parameter, named after it.
tensorflow::Output MakeVariable(const tensorflow::Scope& scope, const Parameter& p);

}  // namespace alexnet::model
