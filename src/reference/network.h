// The whole network by hand: the layer functions of layers.h chained in the order of the layer
// table (model::ComputeLayerShapes, the same rows the TensorFlow graph is built from), forward to
// the loss and backward to every parameter and every layer's input. No TensorFlow; double.
//
// The loss is the data loss only: softmax cross-entropy averaged over the batch. Weight decay
// (the training loss adds weight_decay * sum w^2 / 2, whose gradient is weight_decay * w) is not
// included; comparisons with TensorFlow differentiate TensorFlow's cross-entropy alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/layers.h"
#include "reference/tensor.h"
#include "util/status.h"

namespace alexnet::reference {

// A trainable tensor, named as the TensorFlow graph names it: "conv1/weights", "fc8/biases".
struct Parameter {
  std::string name;
  Tensor value;
};

struct Network {
  std::vector<model::LayerShape> layers;  // the rows: kind, window, stride, pad, activation, dropout, shapes
  model::LrnParams lrn;
  // In the table's order, as model::Network::parameters: conv1/weights (11, 11, 3, 96),
  // conv1/biases (96), conv2/weights (5, 5, 96, 256), ..., fc6/weights (H * W * 256, 4096), ...,
  // fc8/biases (classes).
  std::vector<Parameter> params;
  // Layer i's weights are params[weights_index[i]], its biases the next one; -1 for LRN and pooling.
  std::vector<int> weights_index;
};

// The table of `opts` (its variants applied) with zero parameters of the right shapes. The
// reference starts at conv1: opts.standardize_input (a scaling before conv1) is refused.
Result<Network> MakeNetwork(const model::ModelOptions& opts);
// Any table of rows, e.g. a miniature one in a test (each row's in_* must be the previous out_*).
Network MakeNetwork(const std::vector<model::LayerShape>& layers, const model::LrnParams& lrn);

// The initialisation of opts.init, from its own random stream (not TensorFlow's numbers):
// He: weights N(0, sqrt(2 / fan_in)) (conv1's divided by opts.input_stddev), biases 0;
// paper: weights N(0, opts.init_stddev), biases 1 where the table says so, else 0.
void InitializeParameters(const model::ModelOptions& opts, uint64_t seed, Network* net);

// The dropout of a pass: the keep probability and, for every layer with dropout, a fixed mask
// (N, units) of 0 (dropped) and 1 (kept). No masks: no dropout (inference, keep_prob 1).
struct DropoutMasks {
  double keep_prob = 1.0;
  std::vector<Tensor> masks;  // one per layer (an empty Tensor for a layer without dropout), or none
};
// Bernoulli(keep_prob) masks for `batch` images, from a seeded stream.
DropoutMasks DrawDropoutMasks(const Network& net, int batch, double keep_prob, uint64_t seed);

// What the forward pass computes, and the backward pass reads.
struct Activations {
  Tensor images;                  // (N, S, S, 3): conv1's input
  std::vector<Tensor> activated;  // per layer: its output after its activation (ReLU, tanh), before dropout
  std::vector<Tensor> output;     // per layer: what the next layer gets (after dropout); the last: logits (N, K)
  Tensor probabilities;           // (N, K): softmax of the logits
  double loss = 0;                // mean cross-entropy over the batch
};

struct Gradients {
  std::vector<Tensor> params;          // dL/d params[k], the shapes of Network::params
  std::vector<Tensor> input;           // per layer: dL/d(its input); input[0] = dL/d images
  std::vector<Tensor> pre_activation;  // per layer with an activation: dL/d(its value before it); else empty
  Tensor logits;                       // dL/d logits (N, K) = (p - onehot) / N
};

// images (N, S, S, 3), labels (N) in [0, classes).
Activations Forward(const Network& net, const Tensor& images, const std::vector<int>& labels,
                    const DropoutMasks& dropout);
// The backward pass from the loss down to the images, BackwardLayer from the top layer down. It
// reads only what `acts` holds (each
// layer's input, its activated output, the probabilities): `acts` may be another implementation's
// forward pass (TensorFlow's, in model/gradcheck.h), so that the two gradients see the same
// ReLU masks and pooling argmaxes.
Gradients Backward(const Network& net, const Activations& acts, const std::vector<int>& labels,
                   const DropoutMasks& dropout);

// The switches of a forward pass: which way each ReLU went (on or off) and where each pooling
// window's maximum was. Away from ties, a small change of the input does not move them; the loss is
// then a smooth function, which central differences measure exactly.
struct Switches {
  std::vector<Tensor> relu;               // per layer with a ReLU: 1 where its output is > 0, else 0
  std::vector<std::vector<size_t>> pool;  // per pooling layer: MaxPoolSwitches of its input
};
// The switches of `acts` (any implementation's forward pass: TensorFlow's, in model/gradcheck.h).
Switches SwitchesOf(const Network& net, const Activations& acts);

// Layer i's own operation (conv, LRN, pooling or FC) on its input, before its activation; with
// `held`, pooling takes each window's value at the held switch instead of its maximum.
Tensor LayerForward(const Network& net, size_t layer, const Tensor& in, const Switches* held = nullptr);

// One layer's backward pass: from dL/d(its output) back through its dropout, its activation and
// its operation, reading its input and activated output from `acts`.
struct LayerGradients {
  Tensor input;           // dL/d(the layer's input)
  Tensor pre_activation;  // dL/d(its value before the activation); empty without one
  Tensor weights, biases;  // empty for LRN and pooling
};
LayerGradients BackwardLayer(const Network& net, size_t layer, const Activations& acts, const Tensor& d_output,
                             const DropoutMasks& dropout);

// Where a partial forward pass starts (for finite differences of an intermediate tensor):
// at layer i's input, or at layer i's value before its activation.
enum class Entry { kInput, kPreActivation };
// The loss when layer `layer` is entered at `entry` with `value`, the rest as Forward. layer =
// layers.size() with kInput enters at the logits. With `held`, every ReLU and pooling window keeps
// the switch it had there (a ReLU passes its input where held on, 0 where held off): the loss
// along that forward pass's path, which is the loss itself as long as no value crosses a tie.
double LossFrom(const Network& net, size_t layer, Entry entry, const Tensor& value, const std::vector<int>& labels,
                const DropoutMasks& dropout, const Switches* held = nullptr);

}  // namespace alexnet::reference
