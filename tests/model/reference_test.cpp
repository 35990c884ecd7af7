// Every stage of our AlexNet graph (conv, ReLU, LRN, max pooling, FC, dropout, softmax), checked
// against the hand-written reference's forward passes (src/reference/layers.h: plain loops in
// double); and a gradient checked by finite differences. backward_test.cpp compares the backward
// passes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include <tensorflow/cc/framework/gradients.h>
#include <tensorflow/cc/ops/standard_ops.h>
#include <tensorflow/core/framework/tensor_util.h>
#include <tensorflow/core/public/session.h>

#include "model/gradient_fixes.h"
#include "model/layers.h"
#include "model/lrn_kernel.h"
#include "model/reference_tensors.h"
#include "model/session.h"
#include "reference/layers.h"
#include "session_util.h"
#include "small_input.h"

namespace alexnet::model {
namespace {

using tensorflow::Tensor;

// Every stage of the layer table (conv, ReLU, LRN, max pooling, fully connected, dropout,
// softmax) from the real session, against the reference's loops written from the formulas. Each
// stage's reference is fed the session's output of the previous stage, so errors do not compound
// and a wrong stage is named. Like llm.c's test_gpt2, the differences are printed for every stage.
void ExpectEveryStageMatchesNaiveLoops(const ModelOptions& variant) {
  SessionConfig cfg;
  cfg.model = variant;
  cfg.model.num_classes = 7;
  cfg.model.init = Init::kHe;  // larger weights than N(0, 0.01): LRN's denominator matters
  cfg.model.dropout_rate = 0.5f;  // dropout is in the graph; Stages runs it at keep_prob 1
  cfg.model.input_size = SmallInputSizeWithSpatialPool5(cfg.model);
  ASSERT_GT(cfg.model.input_size, 0);
  const Result<std::vector<LayerShape>> computed = ComputeLayerShapes(cfg.model);
  ASSERT_TRUE(computed.ok()) << computed.status().message();
  const std::vector<LayerShape>& shapes = computed.value();

  std::unique_ptr<ModelSession> m = InitializedSession(cfg);
  ASSERT_NE(m, nullptr);
  Status st;

  const int batch = 2, size = cfg.model.input_size;
  Tensor images(tensorflow::DT_FLOAT, {batch, size, size, 3});
  std::mt19937 rng(7);
  std::normal_distribution<float> px(0.0f, 60.0f);
  for (int64_t i = 0; i < images.NumElements(); ++i) images.flat<float>()(i) = px(rng);

  std::vector<std::pair<std::string, Tensor>> stages, params;
  st = m->Stages(images, &stages);
  ASSERT_TRUE(st.ok()) << st.message();
  st = m->ReadParameters(&params);
  ASSERT_TRUE(st.ok()) << st.message();
  auto param = [&](const std::string& n) {
    for (auto& p : params)
      if (p.first == n) return ToReference(p.second);
    ADD_FAILURE() << "no parameter " << n;
    return reference::Tensor({0, 0, 0, 0});
  };
  // The table's stages in order, then the softmax of the logits.
  ASSERT_EQ(stages.size(), shapes.size() + 1);
  ASSERT_EQ(stages.back().first, "softmax");

  std::printf("input %d x %d x 3, batch %d, %d classes\n", size, size, batch, cfg.model.num_classes);
  std::printf("%-8s %-14s %12s %12s %12s\n", "stage", "shape", "max|ref|", "max abs diff", "max rel diff");
  reference::Tensor previous = ToReference(images);
  for (size_t i = 0; i <= shapes.size(); ++i) {
    const bool softmax = i == shapes.size();
    const std::string name = stages[i].first;
    reference::Tensor expected;
    // Tolerance on the largest difference relative to the stage's largest value. Convolutions
    // and FC layers sum up to 3,456 (conv4) or 4,096 (fc7) float32 products in an order of
    // TensorFlow's (oneDNN's) choosing: about sqrt(terms) * 6e-8 of the sum's scale, 2e-6 at
    // most here; 2e-5 leaves room for other kernels, while a wrong stride, padding, bias or
    // flattening order is off by far more.
    double tolerance = 2e-5;
    if (softmax) {
      expected = reference::SoftmaxForward(previous);
      tolerance = 1e-6;  // exp and a sum of few terms: float32 rounding
    } else {
      const LayerSpec& spec = shapes[i].spec;
      ASSERT_EQ(name, spec.name) << "stage " << i << " of the session is not the table's";
      switch (spec.kind) {
        case LayerKind::kConv:
          expected = reference::ConvForward(previous, param(name + "/weights"), param(name + "/biases"), spec.stride,
                                            spec.pad);
          break;
        case LayerKind::kLrn:
          expected = reference::LrnForward(previous, cfg.model.lrn_params);
          tolerance = 1e-6;  // a pow of five squares: float32 rounding
          break;
        case LayerKind::kMaxPool:
          expected = reference::MaxPoolForward(previous, spec.kernel, spec.stride);
          tolerance = 0;  // a maximum picks one of its inputs exactly
          break;
        case LayerKind::kFullyConnected:
          expected = reference::FcForward(previous, param(name + "/weights"), param(name + "/biases"));
          break;
      }
      if (spec.activation == Activation::kRelu) expected = reference::ReluForward(expected);
      if (spec.activation == Activation::kTanh) {
        expected = reference::TanhForward(expected);
        // TensorFlow's float tanh (Eigen's) is a rational approximation, not std::tanh: about
        // 5e-5 apart at worst here. A wrong stride, padding or bias is off by far more.
        tolerance = 2e-4;
      }
      // spec.dropout: inverted dropout is the identity at inference (keep_prob 1), which is what
      // Stages runs; dropout_test.cpp checks it at keep_prob < 1, backward_test.cpp with a mask.
    }
    const reference::Tensor actual = ToReference(stages[i].second);
    const reference::Difference d = reference::Compare(actual, expected);
    std::printf("%-8s %-14s %12.4e %12.4e %12.4e%s\n", name.c_str(), reference::ShapeString(actual).c_str(), d.scale,
                d.max_abs, d.normalised, d.normalised <= tolerance ? "" : "  FAIL");
    ASSERT_TRUE(d.shape_ok) << name << ": session " << reference::ShapeString(actual) << ", reference "
                            << reference::ShapeString(expected);
    EXPECT_LE(d.normalised, tolerance) << name << ": max abs diff " << d.max_abs << ", max rel diff " << d.normalised
                                       << " (tolerance " << tolerance << "); worst element " << d.worst
                                       << ": expected " << expected.data[d.worst] << ", session "
                                       << actual.data[d.worst];
    // A stage that changes nothing proves little: LRN must actually have divided by something.
    if (!softmax && shapes[i].spec.kind == LayerKind::kLrn) {
      EXPECT_GT(reference::Compare(actual, previous).normalised, 1e-3) << name << " is (nearly) the identity here";
    }
    previous = actual;
  }
}

TEST(Reference, EveryStageOfTheLayerTableMatchesNaiveLoops) { ExpectEveryStageMatchesNaiveLoops(ModelOptions{}); }

// The variants of the paper's design-claim experiments (`alexnet experiment relu|pooling|lrn`):
// tanh after every conv/fc layer but fc8, 2 x 2 pooling at stride 2, no LRN, each checked stage
// by stage against the same naive loops.
TEST(Reference, TheVariantsOfTheLayerTableMatchNaiveLoops) {
  ModelOptions variant;
  variant.activation = Activation::kTanh;
  variant.pool_kernel = 2;
  variant.pool_stride = 2;
  variant.lrn = false;
  ExpectEveryStageMatchesNaiveLoops(variant);
}

// Gradient of one small conv -> ReLU -> LRN -> max-pool block w.r.t. its filters, from
// AddSymbolicGradients, against central finite differences. Returns the max relative error.
// `kernel`: the LRN ops' CPU kernel (lrn_kernel.h).
double GradientError(bool fix_lrn_gradient, LrnKernel kernel = LrnKernel::kTensorFlow) {
  namespace ops = tensorflow::ops;
  tensorflow::Scope s = tensorflow::Scope::NewRootScope();
  auto x = ops::Placeholder(s.WithOpName("x"), tensorflow::DT_FLOAT);
  auto w = ops::Placeholder(s.WithOpName("w"), tensorflow::DT_FLOAT);
  auto coeff = ops::Placeholder(s.WithOpName("coeff"), tensorflow::DT_FLOAT);
  auto conv = ops::Conv2D(s, x, w, {1, 2, 2, 1}, "VALID");
  const tensorflow::Scope lrn_scope = kernel == LrnKernel::kOwn ? s.WithKernelLabel(OwnLrnKernelLabel()) : s;
  auto lrn = ops::LRN(lrn_scope, ops::Relu(s, conv), ops::LRN::DepthRadius(2).Bias(2.0f).Alpha(1e-2f).Beta(0.75f));
  auto pool = ops::MaxPool(s, lrn, {1, 3, 3, 1}, {1, 2, 2, 1}, "VALID");
  auto loss = ops::Sum(s.WithOpName("loss"), ops::Mul(s, pool, coeff), {0, 1, 2, 3});
  std::vector<tensorflow::Output> grads;
  EXPECT_TRUE(s.status().ok());
  EXPECT_TRUE(tensorflow::AddSymbolicGradients(s, {loss}, {w}, &grads).ok());
  tensorflow::GraphDef gd;
  EXPECT_TRUE(s.ToGraphDef(&gd).ok());
  if (fix_lrn_gradient) {
    EXPECT_EQ(FixLrnGradientAttributes(&gd), 1);
  }
  std::unique_ptr<tensorflow::Session> sess(tensorflow::NewSession(tensorflow::SessionOptions()));
  EXPECT_TRUE(sess->Create(gd).ok());

  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 1.0f);
  Tensor tx(tensorflow::DT_FLOAT, {2, 11, 11, 3}), tw(tensorflow::DT_FLOAT, {3, 3, 3, 6});
  for (int64_t i = 0; i < tx.NumElements(); ++i) tx.flat<float>()(i) = n(rng);
  for (int64_t i = 0; i < tw.NumElements(); ++i) tw.flat<float>()(i) = n(rng);
  // conv: 5x5x6, pool: 2x2x6
  Tensor tc(tensorflow::DT_FLOAT, {2, 2, 2, 6});
  for (int64_t i = 0; i < tc.NumElements(); ++i) tc.flat<float>()(i) = n(rng);

  auto eval = [&](const Tensor& weights, bool with_grad, Tensor* g) {
    std::vector<Tensor> out;
    std::vector<std::string> fetch = {"loss"};
    if (with_grad) fetch.push_back(grads[0].name());
    EXPECT_TRUE(sess->Run({{"x", tx}, {"w", weights}, {"coeff", tc}}, fetch, {}, &out).ok());
    if (with_grad) *g = out[1];
    return double(out[0].scalar<float>()());
  };
  Tensor analytic;
  eval(tw, true, &analytic);
  const float eps = 1e-2f;
  double worst = 0;
  for (int64_t i = 0; i < tw.NumElements(); ++i) {
    Tensor plus = tensorflow::tensor::DeepCopy(tw), minus = tensorflow::tensor::DeepCopy(tw);
    plus.flat<float>()(i) += eps;
    minus.flat<float>()(i) -= eps;
    const double fd = (eval(plus, false, nullptr) - eval(minus, false, nullptr)) / (2.0 * eps);
    const double g = analytic.flat<float>()(i);
    worst = std::max(worst, std::abs(g - fd) / std::max({std::abs(g), std::abs(fd), 1e-1}));
  }
  std::printf("gradient vs finite differences (%s, LRN kernel %s): max relative error %.2e over %lld weights\n",
              fix_lrn_gradient ? "LRN gradient repaired" : "TensorFlow's C++ LRN gradient as is",
              LrnKernelName(kernel), worst, static_cast<long long>(tw.NumElements()));
  return worst;
}

TEST(Reference, ConvLrnPoolGradientMatchesFiniteDifferences) {
  EXPECT_LT(GradientError(/*fix_lrn_gradient=*/true), 2e-2);
  EXPECT_LT(GradientError(/*fix_lrn_gradient=*/true, LrnKernel::kOwn), 2e-2);
}

// Documents why FixLrnGradientAttributes exists: without it the gradient is wrong. When a
// TensorFlow upgrade fixes LRNGradHelper this test fails, and the repair can go.
TEST(Reference, UnrepairedLrnGradientIsWrong) {
  EXPECT_GT(GradientError(/*fix_lrn_gradient=*/false), 0.1);
}

}  // namespace
}  // namespace alexnet::model
