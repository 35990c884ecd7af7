#include "model/lrn_kernel.h"

#include <string>

#include <tensorflow/core/framework/op_kernel.h>
#include <tensorflow/core/util/work_sharder.h>

namespace alexnet::model {

namespace {
constexpr char kLabel[] = "alexnet";
}  // namespace

const char* OwnLrnKernelLabel() { return kLabel; }

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
