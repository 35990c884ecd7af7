// AlexNet's layers by hand: for every layer kind a forward and a backward function in plain loops,
// in double, without TensorFlow (as llm.c's train_gpt2.c has its *_forward / *_backward pairs).
// layers.cpp is meant to be read top to bottom: each pair comes with its formulas. network.h
// chains them in the order of the layer table (model/layers.h).
//
// A backward function takes d_out = dL/d(output), the gradient of the loss L with respect to
// the layer's output, plus what the forward pass saw, and returns dL/d(input) (and dL/d(each
// parameter)). Shapes as TensorFlow's (tensor.h): activations NHWC, filters HWIO, FC weights
// (inputs, outputs).
#pragma once

#include <vector>

#include "model/layers.h"
#include "reference/tensor.h"

namespace alexnet::reference {

// ---- convolution ----
// in (N, H, W, C), weights (K, K, C, OC), biases (OC) -> out (N, OH, OW, OC),
// OH = (H + 2 pad - K) / stride + 1 (likewise OW); zero padding.
Tensor ConvForward(const Tensor& in, const Tensor& weights, const Tensor& biases, int stride, int pad);
struct ConvGradients {
  Tensor d_in;       // (N, H, W, C)
  Tensor d_weights;  // (K, K, C, OC)
  Tensor d_biases;   // (OC)
};
// d_out (N, OH, OW, OC), in and weights as given to ConvForward.
ConvGradients ConvBackward(const Tensor& d_out, const Tensor& in, const Tensor& weights, int stride, int pad);

// ---- ReLU ----
// x (any shape) -> y = max(x, 0), same shape.
Tensor ReluForward(const Tensor& x);
// d_out and y (the forward's output) of the same shape -> d_x = d_out where y > 0, else 0.
Tensor ReluBackward(const Tensor& d_out, const Tensor& y);

// ---- tanh (the table's variant activation) ----
Tensor TanhForward(const Tensor& x);
// d_x = d_out * (1 - y^2), y the forward's output.
Tensor TanhBackward(const Tensor& d_out, const Tensor& y);

// ---- local response normalisation, TensorFlow's convention ----
// a (N, H, W, C) -> b (N, H, W, C), b_c = a_c / (bias + alpha * sum_{|j-c| <= r} a_j^2)^beta.
Tensor LrnForward(const Tensor& a, const model::LrnParams& p);
// d_out (N, H, W, C), a the forward's input -> d_a (N, H, W, C).
Tensor LrnBackward(const Tensor& d_out, const Tensor& a, const model::LrnParams& p);

// ---- max pooling (VALID, k x k windows at stride s) ----
// in (N, H, W, C) -> out (N, (H - k) / s + 1, (W - k) / s + 1, C).
Tensor MaxPoolForward(const Tensor& in, int k, int s);
// Each output's switch: the flat index into `in` of its window's maximum (the first one in
// row-major order on a tie), one per output (N, OH, OW, C) in NHWC order.
std::vector<size_t> MaxPoolSwitches(const Tensor& in, int k, int s);
// d_out (N, OH, OW, C), in the forward's input -> d_in (N, H, W, C): d_out sent to the switches.
Tensor MaxPoolBackward(const Tensor& d_out, const Tensor& in, int k, int s);

// ---- fully connected ----
// in (N, H, W, C) or (N, IN), flattened per image in memory order (y, then x, then channel):
// IN = H * W * C; weights (IN, OUT), biases (OUT) -> out (N, OUT).
Tensor FcForward(const Tensor& in, const Tensor& weights, const Tensor& biases);
struct FcGradients {
  Tensor d_in;       // the shape of in
  Tensor d_weights;  // (IN, OUT)
  Tensor d_biases;   // (OUT)
};
// d_out (N, OUT), in and weights as given to FcForward.
FcGradients FcBackward(const Tensor& d_out, const Tensor& in, const Tensor& weights);

// ---- inverted dropout with a given mask ----
// x (any shape), mask (same shape, 1 = keep, 0 = drop), keep_prob in (0, 1] -> y = x * mask / keep_prob.
Tensor DropoutForward(const Tensor& x, const Tensor& mask, double keep_prob);
// d_x = d_out * mask / keep_prob.
Tensor DropoutBackward(const Tensor& d_out, const Tensor& mask, double keep_prob);

// ---- softmax and cross-entropy, averaged over the batch ----
// logits (N, K) -> probabilities (N, K), each row exp(z_k - max z) / sum_j exp(z_j - max z).
Tensor SoftmaxForward(const Tensor& logits);
// logits (N, K), labels (N) in [0, K) -> L = -1/N sum_b log p(b, label_b), p = softmax(logits).
double CrossEntropyForward(const Tensor& logits, const std::vector<int>& labels);
// -> dL/d logits (N, K) = (p - onehot(label)) / N.
Tensor SoftmaxCrossEntropyBackward(const Tensor& probabilities, const std::vector<int>& labels);

}  // namespace alexnet::reference
