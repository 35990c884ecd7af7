#include "model/lrn_kernel.h"

#include <cmath>
#include <string>
#include <vector>

#include <tensorflow/core/framework/op_kernel.h>
#include <tensorflow/core/util/work_sharder.h>

namespace alexnet::model {

namespace {
constexpr char kLabel[] = "alexnet";
}  // namespace

const char* OwnLrnKernelLabel() { return kLabel; }

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

namespace {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;

// The op's attributes, with a radius the scratch rows can hold.
absl::Status ReadAttributes(OpKernelConstruction* ctx, LrnParams* p) {
  int64_t radius = 0;
  TF_RETURN_IF_ERROR(ctx->GetAttr("depth_radius", &radius));
  if (radius < 0 || radius > (1 << 20)) {
    return absl::InvalidArgumentError("LRN: depth_radius " + std::to_string(radius) + " out of range");
  }
  p->depth_radius = static_cast<int>(radius);
  TF_RETURN_IF_ERROR(ctx->GetAttr("bias", &p->bias));
  TF_RETURN_IF_ERROR(ctx->GetAttr("alpha", &p->alpha));
  return ctx->GetAttr("beta", &p->beta);
}

// Splits `rows` pixels over the op's intra-op threads, `depth` channels each.
template <typename F>
void ForEachShard(OpKernelContext* ctx, int64_t rows, int64_t depth, int radius, F&& f) {
  const auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
  const int64_t cost_per_row = depth * (2 * radius + 30);  // about the cycles of one pixel
  tensorflow::Shard(workers->num_threads, workers->workers, rows, cost_per_row, f);
}

// Inputs must be 4-D (NHWC) and of one shape; returns false after setting the op's error.
bool CheckInputs(OpKernelContext* ctx, std::initializer_list<int> inputs) {
  const Tensor& first = ctx->input(*inputs.begin());
  if (first.dims() != 4) {
    ctx->CtxFailure(absl::InvalidArgumentError("LRN: input must be 4-D, got " + first.shape().DebugString()));
    return false;
  }
  for (int i : inputs) {
    if (ctx->input(i).shape() != first.shape()) {
      ctx->CtxFailure(absl::InvalidArgumentError("LRNGrad: inputs of different shapes, " +
                                                 first.shape().DebugString() + " and " +
                                                 ctx->input(i).shape().DebugString()));
      return false;
    }
  }
  return true;
}

class LrnOp : public OpKernel {
 public:
  explicit LrnOp(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ReadAttributes(ctx, &p_)); }

  void Compute(OpKernelContext* ctx) override {
    if (!CheckInputs(ctx, {0})) return;
    const Tensor& in = ctx->input(0);
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, in.shape(), &out));
    const int64_t depth = in.dim_size(3);
    if (in.NumElements() == 0) return;
    const float* x = in.flat<float>().data();
    float* y = out->flat<float>().data();
    ForEachShard(ctx, in.NumElements() / depth, depth, p_.depth_radius, [&](int64_t begin, int64_t end) {
      LrnForwardRows(x + begin * depth, y + begin * depth, end - begin, static_cast<int>(depth), p_);
    });
  }

 private:
  LrnParams p_;
};

// Inputs: input_grads (of LRN's output), input_image (LRN's input), output_image (LRN's output).
class LrnGradOp : public OpKernel {
 public:
  explicit LrnGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ReadAttributes(ctx, &p_)); }

  void Compute(OpKernelContext* ctx) override {
    if (!CheckInputs(ctx, {0, 1, 2})) return;
    const Tensor& grads = ctx->input(0);
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, grads.shape(), &out));
    const int64_t depth = grads.dim_size(3);
    if (grads.NumElements() == 0) return;
    const float* g = grads.flat<float>().data();
    const float* x = ctx->input(1).flat<float>().data();
    const float* y = ctx->input(2).flat<float>().data();
    float* dx = out->flat<float>().data();
    ForEachShard(ctx, grads.NumElements() / depth, depth, p_.depth_radius, [&](int64_t begin, int64_t end) {
      const int64_t at = begin * depth;
      LrnBackwardRows(g + at, x + at, y + at, dx + at, end - begin, static_cast<int>(depth), p_);
    });
  }

 private:
  LrnParams p_;
};

REGISTER_KERNEL_BUILDER(
    Name("LRN").Device(tensorflow::DEVICE_CPU).TypeConstraint<float>("T").Label(kLabel), LrnOp);
REGISTER_KERNEL_BUILDER(
    Name("LRNGrad").Device(tensorflow::DEVICE_CPU).TypeConstraint<float>("T").Label(kLabel), LrnGradOp);

}  // namespace

}  // namespace alexnet::model
