// The analytic gradient of the training loss (softmax cross-entropy + weight decay) that
// ModelSession::Gradients returns, against central finite differences of the same loss, for a
// sample of the parameters of fc6, fc7 and fc8 (weights and biases).
//
// The loss at perturbed parameters comes from the real session as well: the parameters are read
// (ReadParameters), one value is changed, the whole set is written as a TensorFlow checkpoint
// with BundleWriter, loaded with ModelSession::Restore, and EvalStep returns the loss (in a
// training session EvalStep's loss is the full loss, weight decay included, with dropout off).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <tensorflow/core/framework/tensor.h>
#include <tensorflow/core/platform/env.h>
#include <tensorflow/core/util/tensor_bundle/tensor_bundle.h>

#include "model/layers.h"
#include "model/session.h"
#include "session_util.h"

namespace alexnet::model {
namespace {

using tensorflow::Tensor;
using Named = std::vector<std::pair<std::string, Tensor>>;

// Writes the parameters, and zero momentum accumulators, as a checkpoint Restore accepts.
void WriteCheckpoint(const std::string& prefix, const Named& params, const Named& zero_momentum) {
  tensorflow::BundleWriter writer(tensorflow::Env::Default(), prefix);
  for (const auto& [name, t] : params) ASSERT_TRUE(writer.Add(name, t).ok()) << name;
  for (const auto& [name, t] : zero_momentum) ASSERT_TRUE(writer.Add(name, t).ok()) << name;
  auto st = writer.Finish();
  ASSERT_TRUE(st.ok()) << st.message();
}

struct RemoveOnExit {
  std::filesystem::path dir;
  ~RemoveOnExit() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

struct Sample {
  std::string tensor;
  int64_t index;
  double analytic, numeric, rel_error;
};

TEST(LossGradient, MatchesCentralDifferencesInFc6Fc7Fc8) {
  // Paper initialisation, N(0, 0.01) weights and bias 1 in fc6 and fc7 (fc7's weights scaled
  // down, below): every fc6/fc7 unit sits near 1, far from the ReLU's kink (checked), so within
  // +-eps the loss is a smooth function of these parameters and central differences are
  // accurate to O(eps^2).
  SessionConfig cfg;
  cfg.training = true;
  cfg.model.num_classes = 5;
  cfg.model.input_size = MinimumInputSize(cfg.model);
  cfg.model.dropout_rate = 0.0f;  // Gradients and EvalStep run without dropout anyway
  std::unique_ptr<ModelSession> m = InitializedSession(cfg);
  ASSERT_NE(m, nullptr);
  Status st;

  const int batch = 2, size = cfg.model.input_size;
  Tensor images(tensorflow::DT_FLOAT, {batch, size, size, 3}), labels(tensorflow::DT_INT32, {batch});
  std::mt19937 rng(11);
  std::normal_distribution<float> px(0.0f, 50.0f);
  for (int64_t i = 0; i < images.NumElements(); ++i) images.flat<float>()(i) = px(rng);
  for (int i = 0; i < batch; ++i) labels.flat<int32_t>()(i) = (3 * i + 1) % cfg.model.num_classes;

  Named params;
  st = m->ReadParameters(&params);
  ASSERT_TRUE(st.ok()) << st.message();
  // About 170 MB per checkpoint (fc7 alone is 16.8 M floats, plus the momentum accumulators),
  // written 38 times: in memory (tmpfs) when the machine has /dev/shm.
  const std::filesystem::path tmp = std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                                               : std::filesystem::temp_directory_path();
  const auto dir = tmp / ("alexnet_fd_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const RemoveOnExit cleanup{dir};
  const std::string prefix = (dir / "perturbed").string();
  Named zero_momentum;
  for (const auto& [name, t] : params) {
    Tensor z(tensorflow::DT_FLOAT, t.shape());
    z.flat<float>().setZero();
    zero_momentum.emplace_back(name + "/Momentum", z);
  }
  auto loss_now = [&]() {
    WriteCheckpoint(prefix, params, zero_momentum);
    auto rs = m->Restore(prefix);
    EXPECT_TRUE(rs.ok()) << rs.message();
    StepResult r;
    rs = m->EvalStep(images, labels, &r);
    EXPECT_TRUE(rs.ok()) << rs.message();
    return r.loss;
  };
  // The test point: the initial parameters with fc7's weights divided by 4. At the paper's
  // initialisation fc7's pre-activations 1 + W x spread with a standard deviation of about 0.65
  // (4,096 inputs near 1 times N(0, 0.01)), so some sit within a perturbation's reach of the
  // ReLU's kink, where a central difference measures neither one-sided slope. A quarter of that
  // spread keeps every fc7 unit well above zero (checked below); the loss and graph are unchanged.
  for (auto& [name, t] : params) {
    if (name != "fc7/weights") continue;
    auto f = t.flat<float>();
    for (int64_t i = 0; i < f.size(); ++i) f(i) *= 0.25f;
  }
  WriteCheckpoint(prefix, params, zero_momentum);
  st = m->Restore(prefix);
  ASSERT_TRUE(st.ok()) << st.message();
  std::vector<Tensor> grads;
  float loss0 = 0;
  st = m->Gradients(images, labels, &grads, &loss0);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(grads.size(), params.size());

  const float eps = 1e-2f;
  // The precondition of the smoothness argument: every fc6/fc7 unit is more than 4 times what one
  // perturbation can move it above the kink. A weight perturbed by eps moves its unit's
  // pre-activation by eps times its input (pool5 for fc6, fc6 for fc7), a bias by eps; fc7 units
  // move much less when an fc6 parameter is perturbed (times fc7 weights of about 0.0025).
  {
    std::vector<std::pair<std::string, Tensor>> stages;
    st = m->Stages(images, &stages);
    ASSERT_TRUE(st.ok()) << st.message();
    float largest_input = 1, fc_min = INFINITY;
    for (const auto& [name, t] : stages) {
      const auto f = t.flat<float>();
      if (name == "pool5" || name == "fc6") {
        largest_input = std::max(largest_input, *std::max_element(f.data(), f.data() + f.size()));
      }
      if (name == "fc6" || name == "fc7") fc_min = std::min(fc_min, *std::min_element(f.data(), f.data() + f.size()));
    }
    const float reach = eps * largest_input;
    std::printf("smallest fc6/fc7 unit %.4f; a perturbation moves one by at most %.4f\n", fc_min, reach);
    ASSERT_GT(fc_min, 4 * reach) << "an fc6/fc7 ReLU is within reach of its kink";
  }

  // The round trip through a checkpoint changes nothing, and EvalStep's loss is Gradients'.
  const float loss_restored = loss_now();
  ASSERT_EQ(loss_restored, loss0) << "EvalStep's loss after restoring the unchanged parameters";

  // Which values to check: in each tensor the one with the largest analytic gradient (where the
  // check has the most signal over float32 noise) and two others chosen at random. Each costs two
  // checkpoint round trips of about 0.2 s.
  std::vector<Sample> samples;
  std::mt19937_64 pick(5);
  for (size_t t = 0; t < params.size(); ++t) {
    const std::string& name = params[t].first;
    if (name.rfind("fc", 0) != 0) continue;
    const auto g = grads[t].flat<float>();
    ASSERT_EQ(g.size(), params[t].second.NumElements()) << name;
    int64_t best = 0;
    for (int64_t i = 1; i < g.size(); ++i)
      if (std::abs(g(i)) > std::abs(g(best))) best = i;
    std::vector<int64_t> chosen = {best};
    std::uniform_int_distribution<int64_t> any(0, g.size() - 1);
    while (chosen.size() < 3) {
      const int64_t i = any(pick);
      if (std::find(chosen.begin(), chosen.end(), i) == chosen.end()) chosen.push_back(i);
    }
    for (int64_t i : chosen) samples.push_back({name, i, g(i), 0, 0});
  }
  ASSERT_EQ(samples.size(), 6u * 3u) << "fc6, fc7, fc8: weights and biases";

  // Float32 noise of a central difference: the loss (about 2) is computed in float32 with an
  // error of a few ulps (2.4e-7 each), about 1e-6, so (L+ - L-) / 2 eps carries about 5e-5 of
  // noise at eps = 1e-2. Relative errors are taken over max(|analytic|, |numeric|, kFloor), with
  // kFloor = 5e-3 where that noise is 1% of the gradient: smaller gradients are checked to an
  // absolute 5e-5. A larger eps would lower the noise, but fc weights are only about 0.01.
  const double kFloor = 5e-3, kTolerance = 1e-2;
  std::printf("%-12s %10s %14s %14s %10s\n", "parameter", "index", "analytic", "numeric", "rel error");
  for (Sample& s : samples) {
    Tensor* value = nullptr;
    for (auto& [name, t] : params)
      if (name == s.tensor) value = &t;
    ASSERT_NE(value, nullptr);
    float& x = value->flat<float>()(s.index);
    const float original = x;
    x = original + eps;
    const float xp = x;
    const double lp = loss_now();
    x = original - eps;
    const float xm = x;
    const double lm = loss_now();
    x = original;
    s.numeric = (lp - lm) / (double(xp) - double(xm));  // the step actually taken in float32
    s.rel_error = std::abs(s.analytic - s.numeric) / std::max({std::abs(s.analytic), std::abs(s.numeric), kFloor});
    std::printf("%-12s %10lld %14.6e %14.6e %10.2e%s\n", s.tensor.c_str(), static_cast<long long>(s.index),
                s.analytic, s.numeric, s.rel_error, s.rel_error < kTolerance ? "" : "  FAIL");
    EXPECT_LT(s.rel_error, kTolerance) << s.tensor << "[" << s.index << "]: analytic " << s.analytic
                                       << ", central difference " << s.numeric << " (eps " << eps << ")";
  }
  // In every layer the largest gradient must be above the floor, or the check would only be
  // absolute there.
  for (const std::string layer : {"fc6/", "fc7/", "fc8/"}) {
    double largest = 0;
    for (const Sample& s : samples)
      if (s.tensor.rfind(layer, 0) == 0) largest = std::max(largest, std::abs(s.analytic));
    EXPECT_GT(largest, kFloor) << layer << "'s largest sampled gradient";
  }
}

// The weight-decay part of the gradient, which the check above cannot isolate (at N(0, 0.01)
// weights wd * w is about 5e-6, far below its noise): two sessions with the same initial values,
// one with weight decay 0.0005 and one with 0, differ in every weight's gradient by exactly
// 0.0005 * w (to float32 rounding of the sum) and not at all in the biases.
TEST(LossGradient, WeightDecayAddsWdTimesTheWeightToWeightsOnly) {
  SessionConfig cfg;
  cfg.training = true;
  cfg.model.num_classes = 5;
  cfg.model.input_size = MinimumInputSize(cfg.model);
  cfg.model.dropout_rate = 0.0f;
  const float wd = 5e-4f;
  std::vector<Tensor> grads[2];
  float loss[2] = {0, 0};
  Named params;
  const int batch = 2, size = cfg.model.input_size;
  Tensor images(tensorflow::DT_FLOAT, {batch, size, size, 3}), labels(tensorflow::DT_INT32, {batch});
  std::mt19937 rng(12);
  std::normal_distribution<float> px(0.0f, 50.0f);
  for (int64_t i = 0; i < images.NumElements(); ++i) images.flat<float>()(i) = px(rng);
  for (int i = 0; i < batch; ++i) labels.flat<int32_t>()(i) = i;
  for (int k = 0; k < 2; ++k) {
    cfg.weight_decay = k == 0 ? wd : 0.0f;
    std::unique_ptr<ModelSession> m = InitializedSession(cfg);  // same seed: same initial values in both
    ASSERT_NE(m, nullptr);
    Status st = m->Gradients(images, labels, &grads[k], &loss[k]);
    ASSERT_TRUE(st.ok()) << st.message();
    if (k == 0) {
      st = m->ReadParameters(&params);
      ASSERT_TRUE(st.ok()) << st.message();
    }
  }
  ASSERT_EQ(grads[0].size(), params.size());
  ASSERT_EQ(grads[1].size(), params.size());
  EXPECT_GT(loss[0], loss[1]) << "the weight-decay term is missing from the loss";
  for (size_t t = 0; t < params.size(); ++t) {
    const std::string& name = params[t].first;
    const bool weight = name.find("/weights") != std::string::npos;
    const auto w = params[t].second.flat<float>();
    const auto with = grads[0][t].flat<float>(), without = grads[1][t].flat<float>();
    ASSERT_EQ(with.size(), w.size()) << name;
    double worst = 0;
    int64_t worst_i = 0;
    for (int64_t i = 0; i < w.size(); ++i) {
      const double expected = weight ? double(wd) * w(i) : 0.0;
      // Float32 rounding, with a factor 2 to spare: the product wd * w is rounded (2^-24 of it,
      // twice: the decay term's gradient is a product of products), and so is its sum with the
      // cross-entropy gradient (2^-24 of the larger).
      const double allowed = 0x1p-23 * std::max(std::abs(double(with(i))), std::abs(double(without(i)))) +
                             0x1p-22 * std::abs(expected);
      const double excess = std::abs((double(with(i)) - without(i)) - expected) - allowed;
      if (excess > worst) {
        worst = excess;
        worst_i = i;
      }
    }
    EXPECT_LE(worst, 0.0) << name << "[" << worst_i << "]: gradient with decay " << with(worst_i) << ", without "
                          << without(worst_i) << ", expected difference " << (weight ? wd * w(worst_i) : 0.0f);
  }
}

}  // namespace
}  // namespace alexnet::model
