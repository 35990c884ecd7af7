// LRN's arithmetic (model/lrn_rows.h), the heart of our kernel for TensorFlow's LRN ops, against
// naive loops in double precision written from the formulas: the forward pass as the paper writes
// it, the gradient as TensorFlow's LRNGrad accumulates it (output channel by output channel, into
// each input channel of its window), a different order from ours. No TensorFlow, so the sanitizer
// builds run it (scripts/sanitize.sh): the padded scratch rows are where an index could slip.
#include "model/lrn_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace alexnet::model {
namespace {

// t_c = bias + alpha * sum of x_d^2 over the window of c, for one row.
std::vector<double> Denominators(const float* x, int depth, const LrnParams& p) {
  std::vector<double> t(depth);
  for (int c = 0; c < depth; ++c) {
    double sum = 0;
    for (int d = std::max(0, c - p.depth_radius); d <= std::min(depth - 1, c + p.depth_radius); ++d)
      sum += double(x[d]) * x[d];
    t[c] = double(p.bias) + double(p.alpha) * sum;
  }
  return t;
}

std::vector<double> NaiveForward(const std::vector<float>& x, int depth, const LrnParams& p) {
  std::vector<double> y(x.size());
  for (size_t row = 0; row < x.size() / depth; ++row) {
    const float* xr = x.data() + row * depth;
    const std::vector<double> t = Denominators(xr, depth, p);
    for (int c = 0; c < depth; ++c) y[row * depth + c] = xr[c] / std::pow(t[c], double(p.beta));
  }
  return y;
}

// dy_j/dx_k = [k == j] t_j^-beta - 2 alpha beta x_k x_j t_j^(-beta-1), summed with g_j.
std::vector<double> NaiveGradient(const std::vector<float>& g, const std::vector<float>& x, int depth,
                                  const LrnParams& p) {
  std::vector<double> dx(x.size(), 0.0);
  for (size_t row = 0; row < x.size() / depth; ++row) {
    const float* xr = x.data() + row * depth;
    const std::vector<double> t = Denominators(xr, depth, p);
    for (int j = 0; j < depth; ++j) {
      const double gj = g[row * depth + j];
      for (int k = std::max(0, j - p.depth_radius); k <= std::min(depth - 1, j + p.depth_radius); ++k) {
        double d = -2.0 * p.alpha * p.beta * double(xr[k]) * xr[j] * std::pow(t[j], -double(p.beta) - 1.0);
        if (k == j) d += std::pow(t[j], -double(p.beta));
        dx[row * depth + k] += gj * d;
      }
    }
  }
  return dx;
}

// max |a - b| / max(|b|, 1e-3 * max |b|).
double MaxRelativeError(const std::vector<float>& a, const std::vector<double>& b) {
  double scale = 0, worst = 0;
  for (double v : b) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < b.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(std::abs(b[i]), 1e-3 * scale));
  return worst;
}

TEST(LrnRows, ForwardAndGradientMatchNaiveLoopsInDouble) {
  struct Case {
    int depth;
    LrnParams p;
    float stddev;
  };
  const Case cases[] = {
      {96, {2, 2.0f, 1e-4f, 0.75f}, 60.0f},  // lrn1 of the paper
      {256, {2, 2.0f, 1e-4f, 0.75f}, 60.0f},
      {1, {2, 2.0f, 1e-2f, 0.75f}, 5.0f},  // one channel: the whole window is padding but c itself
      {4, {7, 1.0f, 1e-2f, 0.5f}, 5.0f},   // the window wider than the channels on both sides
      {9, {0, 1.0f, 0.1f, 1.0f}, 3.0f},
      {17, {3, 1.5f, 5e-2f, 0.6f}, 3.0f},  // odd depth (vector remainders), general beta
  };
  const int rows = 37;
  unsigned seed = 1;
  for (const Case& c : cases) {
    std::mt19937 rng(seed++);
    std::normal_distribution<float> n(0.0f, 1.0f);
    std::vector<float> x(size_t(rows) * c.depth), g(x.size()), y(x.size()), dx(x.size());
    for (float& v : x) v = c.stddev * n(rng);
    for (float& v : g) v = n(rng);
    LrnForwardRows(x.data(), y.data(), rows, c.depth, c.p);
    LrnBackwardRows(g.data(), x.data(), y.data(), dx.data(), rows, c.depth, c.p);
    const double fwd = MaxRelativeError(y, NaiveForward(x, c.depth, c.p));
    const double bwd = MaxRelativeError(dx, NaiveGradient(g, x, c.depth, c.p));
    std::printf("depth %3d radius %d beta %.2f: forward max relative error %.1e, gradient %.1e\n", c.depth,
                c.p.depth_radius, c.p.beta, fwd, bwd);
    EXPECT_LT(fwd, 1e-5) << "depth " << c.depth;
    EXPECT_LT(bwd, 2e-4) << "depth " << c.depth;
  }
}

}  // namespace
}  // namespace alexnet::model
