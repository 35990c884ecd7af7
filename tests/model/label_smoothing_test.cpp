// Label smoothing (`train --label-smoothing EPS`, train_step.h: SmoothedCrossEntropy): the loss
// of known logits against a naive double-precision computation of
//   -sum_k t_k log softmax(z)_k,  t = (1 - EPS) * one-hot(label) + EPS / classes;
// EPS 0 gives the loss as it was computed before the option, bit for bit; and a training session
// with the option reports that loss as its cross-entropy, weight decay beside it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include <tensorflow/cc/framework/scope.h>
#include <tensorflow/cc/ops/standard_ops.h>
#include <tensorflow/core/framework/tensor.h>
#include <tensorflow/core/public/session.h>

#include "model/layers.h"
#include "model/session.h"
#include "model/train_step.h"
#include "session_util.h"

namespace alexnet::model {
namespace {

namespace ops = tensorflow::ops;
using tensorflow::Tensor;

// The naive loss of one row of logits: its smoothed target against the log-softmax, in double.
double NaiveSmoothedCrossEntropy(const std::vector<double>& z, int label, double eps) {
  const int classes = static_cast<int>(z.size());
  double max = z[0];
  for (double v : z) max = std::max(max, v);
  double sum = 0;
  for (double v : z) sum += std::exp(v - max);
  const double log_sum = max + std::log(sum);
  double loss = 0;
  for (int k = 0; k < classes; ++k) {
    const double target = eps / classes + (k == label ? 1.0 - eps : 0.0);
    loss -= target * (z[k] - log_sum);
  }
  return loss;
}

// Runs `fetches` of the graph in `root` (no feeds).
std::vector<Tensor> RunGraph(const tensorflow::Scope& root, const std::vector<tensorflow::Output>& fetches) {
  tensorflow::GraphDef gd;
  EXPECT_TRUE(root.status().ok()) << root.status().ToString();
  EXPECT_TRUE(root.ToGraphDef(&gd).ok());
  std::unique_ptr<tensorflow::Session> session(tensorflow::NewSession(tensorflow::SessionOptions()));
  EXPECT_TRUE(session->Create(gd).ok());
  std::vector<std::string> names;
  for (const tensorflow::Output& f : fetches) names.push_back(f.name());
  std::vector<Tensor> out;
  const auto st = session->Run({}, names, {}, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

TEST(SmoothedLoss, MatchesANaiveComputationForKnownLogits) {
  // Three images, four classes: a confident right answer, a confident wrong one, a flat row.
  const std::vector<std::vector<double>> logits = {{1.0, -2.0, 4.0, 0.5}, {3.0, 0.0, -1.0, 2.5}, {0, 0, 0, 0}};
  const std::vector<int> labels = {2, 1, 3};
  for (double eps : {0.0, 0.1, 0.5}) {
    const tensorflow::Scope root = tensorflow::Scope::NewRootScope();
    Tensor z(tensorflow::DT_FLOAT, {3, 4});
    for (int i = 0; i < 3; ++i) {
      for (int k = 0; k < 4; ++k) z.matrix<float>()(i, k) = static_cast<float>(logits[i][k]);
    }
    Tensor y(tensorflow::DT_INT32, {3});
    for (int i = 0; i < 3; ++i) y.flat<int32_t>()(i) = labels[i];
    const auto per_image =
        SmoothedCrossEntropy(root, ops::Const(root, z), ops::Const(root, y), 4, static_cast<float>(eps));
    const std::vector<Tensor> out = RunGraph(root, {per_image});
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].NumElements(), 3);
    for (int i = 0; i < 3; ++i) {
      const double expected = NaiveSmoothedCrossEntropy(logits[i], labels[i], eps);
      EXPECT_NEAR(out[0].flat<float>()(i), expected, 1e-6 * (1 + expected)) << "eps " << eps << ", image " << i;
    }
  }
  // The flat row's loss is log 4 whatever the smoothing (every target sums to 1); the confident
  // right answer's grows with it (its target now wants probability on the other classes).
  EXPECT_NEAR(NaiveSmoothedCrossEntropy(logits[2], 3, 0.3), std::log(4.0), 1e-12);
  EXPECT_GT(NaiveSmoothedCrossEntropy(logits[0], 2, 0.1), NaiveSmoothedCrossEntropy(logits[0], 2, 0.0));
}

// The loss before --label-smoothing: one-hot (on 1, off 0), then the dense softmax cross-entropy.
TEST(SmoothedLoss, ZeroSmoothingIsTheEarlierLossBitForBit) {
  const int n = 16, classes = 10;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  Tensor z(tensorflow::DT_FLOAT, {n, classes});
  for (int64_t i = 0; i < z.NumElements(); ++i) z.flat<float>()(i) = normal(rng);
  Tensor y(tensorflow::DT_INT32, {n});
  for (int i = 0; i < n; ++i) y.flat<int32_t>()(i) = (7 * i + 3) % classes;
  const tensorflow::Scope root = tensorflow::Scope::NewRootScope();
  const auto logits = ops::Const(root, z);
  const auto labels = ops::Const(root, y);
  const auto earlier =
      ops::SoftmaxCrossEntropyWithLogits(root, logits, ops::OneHot(root, labels, classes, 1.0f, 0.0f)).loss;
  const auto now = SmoothedCrossEntropy(root, logits, labels, classes, 0.0f);
  const std::vector<Tensor> out = RunGraph(root, {earlier, now});
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[0].NumElements(), n);
  EXPECT_EQ(std::memcmp(out[0].tensor_data().data(), out[1].tensor_data().data(), out[0].tensor_data().size()), 0);
  for (int i = 0; i < n; ++i) EXPECT_EQ(out[0].flat<float>()(i), out[1].flat<float>()(i)) << i;
}

// A training session takes the smoothing from its config: its cross-entropy (EvalStep: the
// training loss, without dropout) is the smoothed loss of its own probabilities, and the loss
// adds the weight decay to it, as without smoothing.
TEST(SmoothedLoss, ATrainingSessionReportsTheSmoothedCrossEntropy) {
  const int n = 4;
  SessionConfig cfg;
  cfg.training = true;
  cfg.model.num_classes = 5;
  cfg.model.input_size = MinimumInputSize(cfg.model);
  cfg.model.dropout_rate = 0.0f;
  cfg.model.init = Init::kHe;  // with standardised input: logits of a few units, spread enough
  cfg.model.standardize_input = true;
  cfg.model.input_stddev = 50.0f;  // the pixels' below
  const int size = cfg.model.input_size;
  Tensor images(tensorflow::DT_FLOAT, {n, size, size, 3}), labels(tensorflow::DT_INT32, {n});
  std::mt19937 rng(9);
  std::normal_distribution<float> px(0.0f, 50.0f);
  for (int64_t i = 0; i < images.NumElements(); ++i) images.flat<float>()(i) = px(rng);
  for (int i = 0; i < n; ++i) labels.flat<int32_t>()(i) = (2 * i + 1) % cfg.model.num_classes;

  const double kTolerance = 1e-4;  // relative: float probabilities against the op's log-softmax
  double plain = 0, smoothed = 0;  // naive, from each session's probabilities
  for (float eps : {0.0f, 0.3f}) {
    cfg.label_smoothing = eps;
    std::unique_ptr<ModelSession> m = InitializedSession(cfg);  // the same seed: the same weights
    ASSERT_NE(m, nullptr);
    StepResult r;
    Tensor probabilities;
    const Status st = m->EvalStep(images, labels, &r, &probabilities);
    ASSERT_TRUE(st.ok()) << st.message();
    double expected = 0;
    for (int i = 0; i < n; ++i) {
      std::vector<double> log_p;
      for (int k = 0; k < cfg.model.num_classes; ++k) log_p.push_back(std::log(probabilities.matrix<float>()(i, k)));
      // log-probabilities are logits up to a constant per row, which the loss does not see
      expected += NaiveSmoothedCrossEntropy(log_p, labels.flat<int32_t>()(i), eps) / n;
    }
    (eps == 0.0f ? plain : smoothed) = expected;
    EXPECT_NEAR(r.cross_entropy, expected, kTolerance * expected) << "eps " << eps;
    EXPECT_GT(r.loss, r.cross_entropy);  // + weight decay
  }
  // The check tells them apart: they differ by far more than its tolerance.
  EXPECT_GT(std::abs(smoothed - plain), 20 * kTolerance * plain) << "plain " << plain << ", smoothed " << smoothed;
}

}  // namespace
}  // namespace alexnet::model
