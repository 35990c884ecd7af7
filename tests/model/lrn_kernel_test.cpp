// Our CPU kernel for LRN and LRNGrad (model/lrn_kernel.h) against TensorFlow's own kernels for
// the same ops, in one graph: the forward output and the gradient, over depths, window radii and
// the exponents that have their own code path. And proof that the node label really selects ours.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

#include <tensorflow/cc/ops/nn_ops_internal.h>
#include <tensorflow/cc/ops/standard_ops.h>
#include <tensorflow/core/public/session.h>

#include "model/layers.h"
#include "model/lrn_kernel.h"

namespace alexnet::model {
namespace {

namespace ops = tensorflow::ops;
using tensorflow::Tensor;

struct Case {
  int depth;
  LrnParams p;
  float stddev;  // of the inputs: large enough that the window's sum moves the denominator
  int batch = 2;  // images of 5 x 3 pixels
};

// max |a - b| / max(|b|, 1e-3 * max |b|) over all elements.
double MaxRelativeError(const Tensor& a, const Tensor& b) {
  const auto fa = a.flat<float>(), fb = b.flat<float>();
  double scale = 0;
  for (int64_t i = 0; i < fb.size(); ++i) scale = std::max(scale, std::abs(double(fb(i))));
  double worst = 0;
  for (int64_t i = 0; i < fb.size(); ++i) {
    const double ref = fb(i);
    worst = std::max(worst, std::abs(fa(i) - ref) / std::max(std::abs(ref), 1e-3 * scale));
  }
  return worst;
}

Tensor Random(tensorflow::TensorShape shape, float stddev, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, stddev);
  Tensor t(tensorflow::DT_FLOAT, shape);
  for (int64_t i = 0; i < t.NumElements(); ++i) t.flat<float>()(i) = n(rng);
  return t;
}

// LRN and LRNGrad on TensorFlow's kernels and, labelled, on ours: outputs in the order
// {ours forward, TF forward, ours gradient, TF gradient}.
std::vector<Tensor> RunBoth(const Case& c, const Tensor& x, const Tensor& g) {
  tensorflow::Scope s = tensorflow::Scope::NewRootScope();
  auto in = ops::Placeholder(s.WithOpName("x"), tensorflow::DT_FLOAT);
  auto grad = ops::Placeholder(s.WithOpName("g"), tensorflow::DT_FLOAT);
  const auto attrs = ops::LRN::DepthRadius(c.p.depth_radius).Bias(c.p.bias).Alpha(c.p.alpha).Beta(c.p.beta);
  const auto grad_attrs =
      ops::internal::LRNGrad::DepthRadius(c.p.depth_radius).Bias(c.p.bias).Alpha(c.p.alpha).Beta(c.p.beta);
  const tensorflow::Scope ours = s.WithKernelLabel(OwnLrnKernelLabel());
  auto y_ours = ops::LRN(ours.WithOpName("y_ours"), in, attrs);
  auto y_tf = ops::LRN(s.WithOpName("y_tf"), in, attrs);
  ops::internal::LRNGrad(ours.WithOpName("dx_ours"), grad, in, y_ours, grad_attrs);
  ops::internal::LRNGrad(s.WithOpName("dx_tf"), grad, in, y_tf, grad_attrs);
  tensorflow::GraphDef gd;
  EXPECT_TRUE(s.ToGraphDef(&gd).ok());
  std::unique_ptr<tensorflow::Session> sess(tensorflow::NewSession(tensorflow::SessionOptions()));
  EXPECT_TRUE(sess->Create(gd).ok());
  std::vector<Tensor> out;
  const auto st = sess->Run({{"x", x}, {"g", g}}, {"y_ours", "y_tf", "dx_ours", "dx_tf"}, {}, &out);
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

TEST(LrnKernel, ForwardAndGradientMatchTensorFlowsKernels) {
  const Case cases[] = {
      {96, {2, 2.0f, 1e-4f, 0.75f}, 60.0f},   // lrn1 of the paper, pre-ReLU-sized activations
      {256, {2, 2.0f, 1e-4f, 0.75f}, 60.0f},  // lrn2
      {3, {2, 2.0f, 1e-2f, 0.75f}, 5.0f},     // the window wider than the channels
      {7, {5, 1.0f, 1e-2f, 0.5f}, 5.0f},      // beta 1/2: rsqrt path
      {5, {0, 1.0f, 0.1f, 1.0f}, 3.0f},       // radius 0, beta 1: reciprocal path
      {16, {3, 1.5f, 5e-2f, 0.6f}, 3.0f},     // any other beta: pow
      {96, {2, 2.0f, 1e-4f, 0.75f}, 60.0f, 200},  // 3,000 pixels: shared out over the threads
  };
  unsigned seed = 1;
  for (const Case& c : cases) {
    const tensorflow::TensorShape shape({c.batch, 5, 3, c.depth});
    const Tensor x = Random(shape, c.stddev, seed++), g = Random(shape, 1.0f, seed++);
    const std::vector<Tensor> out = RunBoth(c, x, g);
    ASSERT_EQ(out.size(), 4u);
    const double fwd = MaxRelativeError(out[0], out[1]), bwd = MaxRelativeError(out[2], out[3]);
    std::printf("%3d x 5 x 3 x %3d, radius %d, beta %.2f: forward max relative error %.1e, gradient %.1e\n", c.batch,
                c.depth, c.p.depth_radius, c.p.beta, fwd, bwd);
    EXPECT_LT(fwd, 1e-5) << "depth " << c.depth << " beta " << c.p.beta;
    EXPECT_LT(bwd, 2e-4) << "depth " << c.depth << " beta " << c.p.beta;
    // The normalisation did something: a test of the identity would prove little.
    EXPECT_GT(MaxRelativeError(out[1], x), 0.05) << "depth " << c.depth;
  }
}

// Each kernel names itself in its own error for a 3-D input: the label picks ours, no label
// TensorFlow's. (Without this, the comparison above could be TensorFlow's kernel against itself.)
TEST(LrnKernel, TheLabelSelectsOurKernelAndNoLabelTensorFlows) {
  for (const bool ours : {true, false}) {
    tensorflow::Scope s = tensorflow::Scope::NewRootScope();
    auto in = ops::Placeholder(s.WithOpName("x"), tensorflow::DT_FLOAT);  // rank unknown until run
    ops::LRN(ours ? s.WithOpName("y").WithKernelLabel(OwnLrnKernelLabel()) : s.WithOpName("y"), in);
    tensorflow::GraphDef gd;
    ASSERT_TRUE(s.ToGraphDef(&gd).ok());
    std::unique_ptr<tensorflow::Session> sess(tensorflow::NewSession(tensorflow::SessionOptions()));
    ASSERT_TRUE(sess->Create(gd).ok());
    std::vector<Tensor> out;
    const auto st = sess->Run({{"x", Tensor(tensorflow::DT_FLOAT, {2, 3, 4})}}, {"y"}, {}, &out);
    ASSERT_FALSE(st.ok());
    const bool ours_said_it = std::string(st.message()).find("LRN: input must be 4-D") != std::string::npos;
    EXPECT_EQ(ours_said_it, ours) << st.message();
  }
}

}  // namespace
}  // namespace alexnet::model
