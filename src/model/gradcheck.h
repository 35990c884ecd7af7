// `alexnet gradcheck`: TensorFlow's gradients of our graph, checked three ways. For every
// parameter tensor and every layer's input, the gradient of the loss from
//   TensorFlow  AddSymbolicGradients on the graph built from the layer table (BuildAlexNet, the
//               loss of AddLoss, float32), as training computes it;
//   hand        the backward pass written out in src/reference (double), run on TensorFlow's own
//               activations, so that both see the same ReLU masks and pooling argmaxes;
//   FD          central differences of the loss at sampled values, the loss computed by
//               src/reference's forward pass in double (float32 differences would drown in the
//               loss's rounding: reference/tensor.h).
// TensorFlow vs hand checks TensorFlow's backward layer by layer against formulas; FD checks both
// against the loss itself. GradientGraph is also what tests/model/backward_test.cpp compares.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <tensorflow/core/framework/tensor.h>
#include <tensorflow/core/public/session.h>

#include "model/graph.h"
#include "model/layers.h"
#include "model/reference_tensors.h"
#include "reference/network.h"
#include "util/status.h"

namespace alexnet::model {

// TensorFlow's forward and backward pass, in the reference's structures (converted to double).
struct TensorFlowPass {
  // images, each layer's activated output and output, the probabilities recomputed in double
  // from TensorFlow's logits, and TensorFlow's loss.
  reference::Activations forward;
  // dL/d every parameter, every layer's input, every activation's input, the logits.
  reference::Gradients gradients;
};

// The network's graph from the layer table (BuildAlexNet) with its parameters as placeholders
// (fed, so that both sides compute with the same values), the mean softmax cross-entropy of
// AddLoss (without weight decay), and TensorFlow's symbolic gradients of it with respect to every
// parameter, every layer's input, every activation's input and the logits. Dropout runs with the
// masks it is given: they are fed in place of the graph's random ones (the "<layer>/dropout/Floor"
// tensors; TensorFlow lets a run feed any tensor).
class GradientGraph {
 public:
  // repair_lrn_gradient: apply FixLrnGradientAttributes (gradient_fixes.h), as training does.
  // Without it TensorFlow's LRN gradient is computed with the wrong constants.
  static Result<std::unique_ptr<GradientGraph>> Create(const ModelOptions& opts, bool repair_lrn_gradient);
  ~GradientGraph();

  // net: the parameters (float32 values, see RoundToFloat); images (N, S, S, 3); labels (N).
  Status Run(const reference::Network& net, const reference::Tensor& images, const std::vector<int>& labels,
             const reference::DropoutMasks& dropout, TensorFlowPass* pass);

  int lrn_gradients_repaired() const { return repaired_; }

 private:
  GradientGraph() = default;
  ModelOptions opts_;
  std::vector<LayerShape> layers_;
  std::unique_ptr<tensorflow::Scope> scope_;
  Network net_;
  std::unique_ptr<tensorflow::Session> session_;
  int repaired_ = 0;
  std::string loss_name_, labels_name_;
  std::vector<std::string> activated_names_, mask_names_;  // per layer; mask "" without dropout
  std::vector<std::string> param_grad_names_, input_grad_names_, pre_activation_grad_names_;  // "" when none
  std::string logits_grad_name_;
};

struct GradCheckOptions {
  ModelOptions model;       // the network: the command sets 67 x 67, 5 classes, He initialisation
  int batch = 2;
  int samples = 8;          // values per tensor for finite differences
  bool unrepaired_lrn_gradient = false;  // true: without FixLrnGradientAttributes (gradient_fixes.h)
  std::string layer;        // only this layer's rows ("" = all): a table name, or "loss"
  double pixel_stddev = 60;  // the random images: N(0, this), as mean-subtracted 0..255 pixels
};

// What --layer accepts: the table's layer names, then "loss" (softmax + cross-entropy).
std::vector<std::string> GradCheckLayerNames(const ModelOptions& opts);

// One gradient, compared three ways. Errors are normalised: the largest difference over the
// tensor (TensorFlow vs hand) or over the sampled values (the FD columns), divided by the
// largest |gradient| of the tensor, TensorFlow's or hand's.
struct GradCheckRow {
  std::string layer;  // the table's name, or "loss"
  std::string name;   // "conv1/weights", "conv1 input", "conv1 relu input", "loss input (logits)"
  std::string shape;  // "11x11x3x96"
  double scale = 0;   // max |gradient|
  double tf_vs_hand = 0, tf_vs_fd = 0, hand_vs_fd = 0;
  int samples = 0;    // values compared with finite differences
  bool pass = true;
};

struct GradCheckReport {
  GradCheckOptions options;
  double tf_loss = 0, reference_loss = 0;  // TensorFlow's (float32) and the hand forward pass's
  int lrn_gradients_repaired = 0;
  double threshold = 0;
  std::vector<GradCheckRow> rows;
  bool pass() const;
};

Result<GradCheckReport> RunGradCheck(const GradCheckOptions& options);
// The header that says what is compared, the table, the verdict.
std::string FormatGradCheck(const GradCheckReport& report);
// ok when every row passes; otherwise a failure naming the tensors over the threshold.
Status GradCheckVerdict(const GradCheckReport& report);

}  // namespace alexnet::model
