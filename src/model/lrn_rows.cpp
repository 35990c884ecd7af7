#include "model/lrn_rows.h"

#include <cmath>
#include <vector>

namespace alexnet::model {

namespace {

// One pixel's channels at a time; every inner loop runs over the channels, so the compiler
// vectorises it. The scratch rows live as long as a call (one shard of the rows). Always
// inlined, so that the loops are compiled for the instruction set of the caller's clone.
class Rows {
 public:
  Rows(int depth, const LrnParams& p)
      : depth_(depth), r_(p.depth_radius), p_(p), squares_(depth + 2 * r_, 0.0f), t_(depth), inv_pow_(depth) {}

  // t_ and inv_pow_ (t^-beta) of one pixel.
  [[gnu::always_inline]] void Normalisers(const float* x) {
    float* sq = squares_.data() + r_;  // r_ zeros on either side: the window stops at the edges
    for (int c = 0; c < depth_; ++c) sq[c] = x[c] * x[c];
    WindowSums(squares_.data(), t_.data());
    for (int c = 0; c < depth_; ++c) t_[c] = p_.bias + p_.alpha * t_[c];
    InversePower();
  }

  // sums[c] = padded[c] + ... + padded[c + 2r]: the 2r + 1 channels around c.
  [[gnu::always_inline]] void WindowSums(const float* padded, float* sums) const {
    for (int c = 0; c < depth_; ++c) sums[c] = padded[c];
    for (int d = 1; d <= 2 * r_; ++d) {
      for (int c = 0; c < depth_; ++c) sums[c] += padded[c + d];
    }
  }

  float* scratch() { return squares_.data(); }  // padded like the squares, for the gradient
  const float* t() const { return t_.data(); }
  const float* inv_pow() const { return inv_pow_.data(); }

 private:
  // t^-beta; AlexNet's beta = 3/4 as t^-1/2 * t^-1/4 with two square roots, which vectorise,
  // where a general pow does not.
  [[gnu::always_inline]] void InversePower() {
    const float* t = t_.data();
    float* out = inv_pow_.data();
    if (p_.beta == 0.75f) {
      for (int c = 0; c < depth_; ++c) {
        const float root = std::sqrt(t[c]);
        out[c] = 1.0f / (root * std::sqrt(root));
      }
    } else if (p_.beta == 0.5f) {
      for (int c = 0; c < depth_; ++c) out[c] = 1.0f / std::sqrt(t[c]);
    } else if (p_.beta == 1.0f) {
      for (int c = 0; c < depth_; ++c) out[c] = 1.0f / t[c];
    } else {
      for (int c = 0; c < depth_; ++c) out[c] = std::pow(t[c], -p_.beta);
    }
  }

  int depth_, r_;
  LrnParams p_;
  std::vector<float> squares_, t_, inv_pow_;
};

}  // namespace

// AVX2 where the CPU has it, else the x86-64 baseline (SSE2); chosen once at load time.
__attribute__((target_clones("avx2", "default"))) void LrnForwardRows(const float* x, float* y, int64_t rows,
                                                                     int depth, const LrnParams& p) {
  Rows n(depth, p);
  for (int64_t i = 0; i < rows; ++i, x += depth, y += depth) {
    n.Normalisers(x);
    const float* inv_pow = n.inv_pow();
    for (int c = 0; c < depth; ++c) y[c] = x[c] * inv_pow[c];
  }
}

__attribute__((target_clones("avx2", "default"))) void LrnBackwardRows(const float* g, const float* x,
                                                                      const float* y, float* dx, int64_t rows,
                                                                      int depth, const LrnParams& p) {
  Rows n(depth, p);
  std::vector<float> sums(depth);
  const float scale = -2.0f * p.alpha * p.beta;
  for (int64_t i = 0; i < rows; ++i, g += depth, x += depth, y += depth, dx += depth) {
    n.Normalisers(x);
    // The squares are no longer needed: their padded row now holds g_d * y_d / t_d.
    float* u = n.scratch() + p.depth_radius;
    const float* t = n.t();
    for (int c = 0; c < depth; ++c) u[c] = g[c] * y[c] / t[c];
    n.WindowSums(n.scratch(), sums.data());
    const float* inv_pow = n.inv_pow();
    for (int c = 0; c < depth; ++c) dx[c] = g[c] * inv_pow[c] + scale * x[c] * sums[c];
  }
}

}  // namespace alexnet::model
