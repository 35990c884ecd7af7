// AlexNet's layers as plain loops: forward and backward of each layer kind, read top to bottom.
//
// Notation: L is the loss (a number), x a layer's input, y its output, and d_y = dL/dy the
// gradient arriving from the layer above. The chain rule gives each backward function:
//   dL/dx_i = sum_j dL/dy_j * dy_j/dx_i
// i.e. every input collects, from every output it influenced, that output's gradient times how
// strongly it influenced it. The backward loops below are the forward loops run again, with each
// "y += w * x" turned into "d_x += w * d_y" and "d_w += x * d_y".
//
// Everything is double (tensor.h says why). Shapes in the comments: N images, H x W pixels,
// C channels in, OC out, K x K filters or windows.
#include "reference/layers.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace alexnet::reference {

namespace {
// A shape mismatch is a bug in the caller; the reference stops rather than reads out of bounds.
void Expect(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

// ============================================================================================
// Convolution (conv1-conv5)
//
// forward:  y(b, oy, ox, o) = bias(o) + sum_{i, j, c} x(b, oy*s + i - pad, ox*s + j - pad, c) * w(i, j, c, o)
//           with x = 0 outside the image (zero padding).
// backward: each term x * w of the sum sends d_y back to both factors:
//   d_bias(o)      = sum_{b, oy, ox} d_y(b, oy, ox, o)
//   d_w(i, j, c, o) = sum_{b, oy, ox} x(b, oy*s + i - pad, ox*s + j - pad, c) * d_y(b, oy, ox, o)
//                    a correlation of the input with the output gradient (the same sliding window
//                    as the forward pass, with d_y in place of the filter);
//   d_x(b, iy, ix, c) = sum over every (oy, ox, i, j) with oy*s + i - pad = iy, ox*s + j - pad = ix
//                       of w(i, j, c, o) * d_y(b, oy, ox, o), summed over o
//                    a "full" convolution of the output gradient (spread out by the stride) with
//                    the filters flipped in i and j and transposed in c and o: what deep-learning
//                    libraries call the transposed convolution (TensorFlow's Conv2DBackpropInput).
// ConvBackward computes the same sums without flipping anything: it visits each product x * w of
// the forward pass once and adds its share to d_x and d_w.
// ============================================================================================

// in (N, H, W, C), weights (K, K, C, OC), biases (OC) -> (N, OH, OW, OC)
Tensor ConvForward(const Tensor& in, const Tensor& weights, const Tensor& biases, int stride, int pad) {
  const int N = in.dim(0), H = in.dim(1), W = in.dim(2), C = in.dim(3);
  const int K = weights.dim(0), OC = weights.dim(3);
  Expect(weights.dim(1) == K && weights.dim(2) == C && biases.dim(0) == OC);
  const int OH = (H + 2 * pad - K) / stride + 1, OW = (W + 2 * pad - K) / stride + 1;
  Tensor out({N, OH, OW, OC});
  for (int b = 0; b < N; ++b)
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox)
        for (int o = 0; o < OC; ++o) out(b, oy, ox, o) = biases.data[o];
  // The sum, one filter tap (i, j, c) at a time: its OC weights w(i, j, c, 0 .. OC-1), contiguous
  // in HWIO, are added into every output pixel that sees input channel c through that tap. (This
  // order reads the weights, the large array here, once; any order gives the same sums.)
  for (int i = 0; i < K; ++i)
    for (int j = 0; j < K; ++j)
      for (int c = 0; c < C; ++c) {
        const double* w = &weights(i, j, c, 0);
        for (int b = 0; b < N; ++b)
          for (int oy = 0; oy < OH; ++oy)
            for (int ox = 0; ox < OW; ++ox) {
              const int iy = oy * stride + i - pad, ix = ox * stride + j - pad;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;  // zero padding
              const double x = in(b, iy, ix, c);
              if (x == 0) continue;  // adds nothing (half the inputs after a ReLU): only saves time
              double* y = &out(b, oy, ox, 0);  // the OC outputs of this pixel, contiguous in NHWC
              for (int o = 0; o < OC; ++o) y[o] += x * w[o];
            }
      }
  return out;
}

// d_out (N, OH, OW, OC), in (N, H, W, C), weights (K, K, C, OC)
ConvGradients ConvBackward(const Tensor& d_out, const Tensor& in, const Tensor& weights, int stride, int pad) {
  const int N = in.dim(0), H = in.dim(1), W = in.dim(2), C = in.dim(3);
  const int K = weights.dim(0), OC = weights.dim(3);
  const int OH = d_out.dim(1), OW = d_out.dim(2);
  Expect(d_out.dim(0) == N && d_out.dim(3) == OC);
  ConvGradients g{Tensor(in.shape), Tensor(weights.shape), Tensor({OC})};
  for (int b = 0; b < N; ++b)
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox) {
        const double* d_y = &d_out(b, oy, ox, 0);  // the OC output gradients of this pixel
        for (int o = 0; o < OC; ++o) g.d_biases.data[o] += d_y[o];
        for (int i = 0; i < K; ++i)
          for (int j = 0; j < K; ++j) {
            const int iy = oy * stride + i - pad, ix = ox * stride + j - pad;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;  // padding: no input, no gradient
            for (int c = 0; c < C; ++c) {
              const double x = in(b, iy, ix, c);
              const double* w = &weights(i, j, c, 0);
              double* d_w = &g.d_weights(i, j, c, 0);
              double d_x = 0;
              for (int o = 0; o < OC; ++o) {
                d_w[o] += x * d_y[o];  // this product's input times its output gradient
                d_x += w[o] * d_y[o];  // its weight times its output gradient
              }
              g.d_in(b, iy, ix, c) += d_x;  // an input in several windows (stride < K) collects from each
            }
          }
      }
  return g;
}

// ============================================================================================
// ReLU (after conv1-conv5, fc6, fc7)
//
// forward:  y = max(x, 0)
// backward: d_x = d_y * [x > 0]: the gradient passes where the unit was active and stops where
//           it was not (the "mask"). At x = 0 the ReLU has no derivative; like TensorFlow
//           (ReluGrad), this takes 0 there. y > 0 exactly when x > 0, so the mask is read off y.
// ============================================================================================

Tensor ReluForward(const Tensor& x) {
  Tensor y = x;
  for (double& v : y.data) v = std::max(v, 0.0);
  return y;
}

// d_out and y: same shape
Tensor ReluBackward(const Tensor& d_out, const Tensor& y) {
  Expect(SameShape(d_out, y));
  Tensor d_x(y.shape);
  for (size_t i = 0; i < y.size(); ++i) d_x.data[i] = y.data[i] > 0 ? d_out.data[i] : 0.0;
  return d_x;
}

// ============================================================================================
// tanh (the variant of `alexnet experiment relu`)
//
// forward:  y = tanh(x)
// backward: d_x = d_y * (1 - y^2), since tanh'(x) = 1 - tanh(x)^2. It saturates: for |x| of a
//           few units 1 - y^2 is tiny and the gradient fades, which is the paper's case for ReLU.
// ============================================================================================

Tensor TanhForward(const Tensor& x) {
  Tensor y = x;
  for (double& v : y.data) v = std::tanh(v);
  return y;
}

Tensor TanhBackward(const Tensor& d_out, const Tensor& y) {
  Expect(SameShape(d_out, y));
  Tensor d_x(y.shape);
  for (size_t i = 0; i < y.size(); ++i) d_x.data[i] = d_out.data[i] * (1.0 - y.data[i] * y.data[i]);
  return d_x;
}

// ============================================================================================
// Local response normalisation (lrn1, lrn2), across channels at each pixel
//
// forward, TensorFlow's convention:
//   S_c = sum_{j = c-r .. c+r, 0 <= j < C} a_j^2      (r = depth_radius: 2 * 2 + 1 = 5 channels)
//   D_c = bias + alpha * S_c
//   b_c = a_c * D_c^(-beta)
// TensorFlow does not divide alpha by the window size n = 2r + 1, as the paper's formula does not;
// Caffe and PyTorch do (their alpha is the paper's times n). So the paper's alpha = 1e-4 is
// passed unchanged (model/layers.h, LrnParams), and the reference follows TensorFlow's formula.
//
// backward: b_c depends on a_k in two ways: directly when c = k, and through D_c when k is in
// c's window (|k - c| <= r), since dD_c/da_k = 2 alpha a_k. So
//   db_c/da_k = [c = k] D_c^(-beta) - 2 alpha beta a_c a_k D_c^(-beta-1) [|k - c| <= r]
// and
//   d_a_k = d_b_k D_k^(-beta) - 2 alpha beta a_k sum_{c = k-r .. k+r} d_b_c a_c D_c^(-beta-1).
// (TensorFlow's LRNGrad computes the same. TensorFlow 2.21's C++ gradient registration forgets to
// pass r, bias, alpha and beta to it: model/gradient_fixes.h.)
// ============================================================================================

namespace {
// D_c = bias + alpha * S_c for every channel of the pixel (b, y, x).
void LrnDenominators(const Tensor& a, int b, int y, int x, const model::LrnParams& p, std::vector<double>* d) {
  const int C = a.dim(3);
  d->assign(C, 0.0);
  for (int c = 0; c < C; ++c) {
    double sum = 0;
    for (int j = std::max(0, c - p.depth_radius); j <= std::min(C - 1, c + p.depth_radius); ++j)
      sum += a(b, y, x, j) * a(b, y, x, j);
    (*d)[c] = double(p.bias) + double(p.alpha) * sum;
  }
}
}  // namespace

// a (N, H, W, C) -> (N, H, W, C)
Tensor LrnForward(const Tensor& a, const model::LrnParams& p) {
  Tensor out(a.shape);
  std::vector<double> d;
  for (int b = 0; b < a.dim(0); ++b)
    for (int y = 0; y < a.dim(1); ++y)
      for (int x = 0; x < a.dim(2); ++x) {
        LrnDenominators(a, b, y, x, p, &d);
        for (int c = 0; c < a.dim(3); ++c) out(b, y, x, c) = a(b, y, x, c) * std::pow(d[c], -double(p.beta));
      }
  return out;
}

// d_out (N, H, W, C), a (N, H, W, C) -> (N, H, W, C)
Tensor LrnBackward(const Tensor& d_out, const Tensor& a, const model::LrnParams& p) {
  Expect(SameShape(d_out, a));
  const int C = a.dim(3);
  const double alpha = p.alpha, beta = p.beta;
  Tensor d_a(a.shape);
  std::vector<double> d;
  for (int b = 0; b < a.dim(0); ++b)
    for (int y = 0; y < a.dim(1); ++y)
      for (int x = 0; x < a.dim(2); ++x) {
        LrnDenominators(a, b, y, x, p, &d);
        for (int k = 0; k < C; ++k) {
          double through_d = 0;  // sum over the channels c whose window holds k
          for (int c = std::max(0, k - p.depth_radius); c <= std::min(C - 1, k + p.depth_radius); ++c)
            through_d += d_out(b, y, x, c) * a(b, y, x, c) * std::pow(d[c], -beta - 1.0);
          d_a(b, y, x, k) = d_out(b, y, x, k) * std::pow(d[k], -beta) - 2.0 * alpha * beta * a(b, y, x, k) * through_d;
        }
      }
  return d_a;
}

// ============================================================================================
// Max pooling (pool1, pool2, pool5): k x k windows at stride s, VALID (no padding)
//
// forward:  y(b, oy, ox, c) = max_{i, j < k} x(b, oy*s + i, ox*s + j, c)
// backward: the maximum is locally the identity of one input, the window's argmax, and constant
//           in the others. So each window's d_y goes to its argmax alone:
//             d_x(argmax of window) += d_y(window), every other input of the window gets 0.
//   - Overlapping windows (the paper's 3/2: stride < window) share inputs; an input that is the
//     maximum of several windows receives the sum of their gradients (hence +=).
//   - Ties: when several inputs of a window share the maximum, the first one in the window's
//     row-major order (i, then j) gets the gradient, as TensorFlow's CPU kernels pick it. (A tie
//     is a kink of the loss: either choice is a valid subgradient. After a ReLU, windows of zeros
//     tie all the time; whichever zero gets the gradient, it stops at the ReLU below, as LRN in
//     between passes a zero's gradient to that zero alone.)
// Where each window's maximum sits, its "switch" (Zeiler and Fergus's word), is all the backward
// pass needs from the forward pass: MaxPoolSwitches.
// ============================================================================================

// in (N, H, W, C) -> (N, OH, OW, C)
Tensor MaxPoolForward(const Tensor& in, int k, int s) {
  const int N = in.dim(0), H = in.dim(1), W = in.dim(2), C = in.dim(3);
  const int OH = (H - k) / s + 1, OW = (W - k) / s + 1;
  Tensor out({N, OH, OW, C});
  for (int b = 0; b < N; ++b)
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox)
        for (int c = 0; c < C; ++c) {
          double m = in(b, oy * s, ox * s, c);
          for (int i = 0; i < k; ++i)
            for (int j = 0; j < k; ++j) m = std::max(m, in(b, oy * s + i, ox * s + j, c));
          out(b, oy, ox, c) = m;
        }
  return out;
}

// in (N, H, W, C) -> one flat index into in per output (N, OH, OW, C), in NHWC order
std::vector<size_t> MaxPoolSwitches(const Tensor& in, int k, int s) {
  const int N = in.dim(0), H = in.dim(1), W = in.dim(2), C = in.dim(3);
  const int OH = (H - k) / s + 1, OW = (W - k) / s + 1;
  std::vector<size_t> switches;
  switches.reserve(size_t(N) * OH * OW * C);
  for (int b = 0; b < N; ++b)
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox)
        for (int c = 0; c < C; ++c) {
          int best_y = oy * s, best_x = ox * s;  // the first maximum in row-major order
          for (int i = 0; i < k; ++i)
            for (int j = 0; j < k; ++j)
              if (in(b, oy * s + i, ox * s + j, c) > in(b, best_y, best_x, c)) {
                best_y = oy * s + i;
                best_x = ox * s + j;
              }
          switches.push_back(((size_t(b) * H + best_y) * W + best_x) * C + c);
        }
  return switches;
}

// d_out (N, OH, OW, C), in (N, H, W, C) -> (N, H, W, C)
Tensor MaxPoolBackward(const Tensor& d_out, const Tensor& in, int k, int s) {
  const std::vector<size_t> switches = MaxPoolSwitches(in, k, s);
  Expect(switches.size() == d_out.size());
  Tensor d_in(in.shape);
  for (size_t o = 0; o < d_out.size(); ++o) d_in.data[switches[o]] += d_out.data[o];  // overlapping windows add up
  return d_in;
}

// ============================================================================================
// Fully connected (fc6, fc7, fc8)
//
// forward:  y(b, o) = bias(o) + sum_i x(b, i) * w(i, o), or Y = X W + bias in matrix form with
//           X (N, IN). fc6's input is pool5's (N, H, W, C) maps; each image's H * W * C values
//           are taken in memory order, y then x then channel, which is how TensorFlow's Reshape
//           flattens NHWC (and why fc6's weights are not interchangeable with a Caffe model's,
//           which flattens NCHW: channel first).
// backward, in matrix form:
//   d_X    = d_Y W^T         (N, IN):  d_x(b, i) = sum_o w(i, o) d_y(b, o)
//   d_W    = X^T d_Y         (IN, OUT): d_w(i, o) = sum_b x(b, i) d_y(b, o)
//   d_bias = sum_b d_Y       (OUT)
// ============================================================================================

// in (N, H, W, C) or (N, IN), weights (IN, OUT), biases (OUT) -> (N, OUT)
Tensor FcForward(const Tensor& in, const Tensor& weights, const Tensor& biases) {
  const int N = in.dim(0), IN = weights.dim(0), OUT = weights.dim(1);
  Expect(in.size() == size_t(N) * IN && biases.dim(0) == OUT);
  Tensor out({N, OUT});
  for (int b = 0; b < N; ++b)
    for (int o = 0; o < OUT; ++o) out(b, o) = biases.data[o];
  // Row i of W (input i's weights to every output) is read once and added into every image's
  // outputs; image b's input i is in.data[b * IN + i], its values flattened: y, x, channel.
  for (int i = 0; i < IN; ++i) {
    const double* w = &weights(i, 0);  // w(i, o) for o = 0 .. OUT-1
    for (int b = 0; b < N; ++b) {
      const double x = in.data[size_t(b) * IN + i];
      if (x == 0) continue;  // adds nothing (half the inputs after a ReLU): only saves time
      double* y = &out(b, 0);
      for (int o = 0; o < OUT; ++o) y[o] += x * w[o];
    }
  }
  return out;
}

// d_out (N, OUT), in (N, ...) with IN values per image, weights (IN, OUT)
FcGradients FcBackward(const Tensor& d_out, const Tensor& in, const Tensor& weights) {
  const int N = in.dim(0), IN = weights.dim(0), OUT = weights.dim(1);
  Expect(d_out.dim(0) == N && d_out.dim(1) == OUT && in.size() == size_t(N) * IN);
  FcGradients g{Tensor(in.shape), Tensor(weights.shape), Tensor({OUT})};
  for (int b = 0; b < N; ++b) {
    const double* x = &in.data[size_t(b) * IN];
    double* d_x = &g.d_in.data[size_t(b) * IN];  // the same flattening as the forward pass
    const double* d_y = &d_out(b, 0);
    for (int o = 0; o < OUT; ++o) g.d_biases.data[o] += d_y[o];
    for (int i = 0; i < IN; ++i) {
      const double* w = &weights(i, 0);
      double* d_w = &g.d_weights(i, 0);
      double sum = 0;
      for (int o = 0; o < OUT; ++o) {
        d_w[o] += x[i] * d_y[o];  // X^T dY
        sum += w[o] * d_y[o];     // dY W^T
      }
      d_x[i] = sum;
    }
  }
  return g;
}

// ============================================================================================
// Dropout (after fc6's and fc7's ReLU, training only), inverted and with a given mask
//
// forward:  y = x * mask / keep_prob, mask 1 (keep) with probability keep_prob, else 0. Dividing
//           by keep_prob at training time keeps the expected value of y equal to x, so inference
//           uses the layer as the identity (the paper instead halves the outputs at test time).
// backward: y is linear in x for a fixed mask: d_x = d_y * mask / keep_prob. A dropped unit
//           passes no gradient, a kept one passes it scaled by 1 / keep_prob.
// ============================================================================================

Tensor DropoutForward(const Tensor& x, const Tensor& mask, double keep_prob) {
  Expect(SameShape(x, mask) && keep_prob > 0);
  Tensor y(x.shape);
  for (size_t i = 0; i < x.size(); ++i) y.data[i] = x.data[i] * mask.data[i] / keep_prob;
  return y;
}

Tensor DropoutBackward(const Tensor& d_out, const Tensor& mask, double keep_prob) {
  Expect(SameShape(d_out, mask) && keep_prob > 0);
  Tensor d_x(d_out.shape);
  for (size_t i = 0; i < d_out.size(); ++i) d_x.data[i] = d_out.data[i] * mask.data[i] / keep_prob;
  return d_x;
}

// ============================================================================================
// Softmax and cross-entropy (after fc8), the mean over the batch
//
// forward:  p(b, k) = exp(z(b, k) - m_b) / sum_j exp(z(b, j) - m_b), m_b = max_j z(b, j)
//           (subtracting the maximum changes nothing mathematically and keeps exp from
//           overflowing), then L = -1/N sum_b log p(b, label_b). The loss is computed from the
//           logits, -log p(b, y) = log sum_j exp(z(b, j) - m_b) - (z(b, y) - m_b): an untrained
//           network's logits can be hundreds apart, and a p of exp(-700) would have lost its
//           digits (or be 0) before its log is taken.
// backward: for one image, -log p_label = -z_label + log sum_j exp(z_j), whose derivative with
//           respect to z_k is -[k = label] + p_k. With the mean over N images:
//             dL/dz(b, k) = (p(b, k) - [k = label_b]) / N
//           the predicted distribution minus the one-hot target, the simplest gradient of the
//           network and where every backward pass starts.
// ============================================================================================

// logits (N, K) -> (N, K)
Tensor SoftmaxForward(const Tensor& logits) {
  const int N = logits.dim(0), K = logits.dim(1);
  Tensor p({N, K});
  for (int b = 0; b < N; ++b) {
    double m = logits(b, 0);
    for (int k = 1; k < K; ++k) m = std::max(m, logits(b, k));
    double sum = 0;
    for (int k = 0; k < K; ++k) sum += std::exp(logits(b, k) - m);
    for (int k = 0; k < K; ++k) p(b, k) = std::exp(logits(b, k) - m) / sum;
  }
  return p;
}

// logits (N, K), labels (N)
double CrossEntropyForward(const Tensor& logits, const std::vector<int>& labels) {
  const int N = logits.dim(0), K = logits.dim(1);
  Expect(labels.size() == size_t(N));
  double loss = 0;
  for (int b = 0; b < N; ++b) {
    Expect(labels[b] >= 0 && labels[b] < K);
    double m = logits(b, 0);
    for (int k = 1; k < K; ++k) m = std::max(m, logits(b, k));
    double sum = 0;
    for (int k = 0; k < K; ++k) sum += std::exp(logits(b, k) - m);
    loss += std::log(sum) - (logits(b, labels[b]) - m);  // -log p(b, label)
  }
  return loss / N;
}

// probabilities (N, K), labels (N) -> (N, K)
Tensor SoftmaxCrossEntropyBackward(const Tensor& probabilities, const std::vector<int>& labels) {
  const int N = probabilities.dim(0), K = probabilities.dim(1);
  Expect(labels.size() == size_t(N));
  Tensor d_logits({N, K});
  for (int b = 0; b < N; ++b)
    for (int k = 0; k < K; ++k) d_logits(b, k) = (probabilities(b, k) - (k == labels[b] ? 1.0 : 0.0)) / N;
  return d_logits;
}

}  // namespace alexnet::reference
