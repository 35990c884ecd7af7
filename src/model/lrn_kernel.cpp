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

// The rows of channels an LRN or LRNGrad node works on: its `inputs` must be 4-D (NHWC) and of
// one shape, and its output is allocated in that shape. Returns the output, or nullptr when there
// is nothing to compute (no elements) or after setting the op's error.
float* OutputLikeInputs(OpKernelContext* ctx, std::initializer_list<int> inputs, int64_t* rows, int64_t* depth) {
  const std::string& op = ctx->op_kernel().type_string();
  const Tensor& first = ctx->input(*inputs.begin());
  if (first.dims() != 4) {
    ctx->CtxFailure(absl::InvalidArgumentError(op + ": input must be 4-D, got " + first.shape().DebugString()));
    return nullptr;
  }
  for (int i : inputs) {
    if (ctx->input(i).shape() != first.shape()) {
      ctx->CtxFailure(absl::InvalidArgumentError(op + ": inputs of different shapes, " + first.shape().DebugString() +
                                                 " and " + ctx->input(i).shape().DebugString()));
      return nullptr;
    }
  }
  Tensor* out = nullptr;
  if (const absl::Status st = ctx->allocate_output(0, first.shape(), &out); !st.ok()) {
    ctx->CtxFailure(st);
    return nullptr;
  }
  if (first.NumElements() == 0) return nullptr;
  *depth = first.dim_size(3);
  *rows = first.NumElements() / *depth;
  return out->flat<float>().data();
}

class LrnOp : public OpKernel {
 public:
  explicit LrnOp(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ReadAttributes(ctx, &p_)); }

  void Compute(OpKernelContext* ctx) override {
    int64_t rows = 0, depth = 0;
    float* y = OutputLikeInputs(ctx, {0}, &rows, &depth);
    if (y == nullptr) return;
    const float* x = ctx->input(0).flat<float>().data();
    ForEachShard(ctx, rows, depth, p_.depth_radius, [&](int64_t begin, int64_t end) {
      const int64_t at = begin * depth;
      LrnForwardRows(x + at, y + at, end - begin, static_cast<int>(depth), p_);
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
    int64_t rows = 0, depth = 0;
    float* dx = OutputLikeInputs(ctx, {0, 1, 2}, &rows, &depth);
    if (dx == nullptr) return;
    const float* g = ctx->input(0).flat<float>().data();
    const float* x = ctx->input(1).flat<float>().data();
    const float* y = ctx->input(2).flat<float>().data();
    ForEachShard(ctx, rows, depth, p_.depth_radius, [&](int64_t begin, int64_t end) {
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
