// Inverted dropout exactly as the network builds it (after the ReLU of fc6 and fc7), checked the
// way Caffe's test_neuron_layer.cpp checks its DropoutLayer: on a large tensor of known values,
// every kept value is x / (1 - p), the dropped fraction is p within 1.96 sigma, and keep_prob 1
// is the identity.
//
// No re-implementation: the test runs the model's own graph (ModelSession::graph_def()), feeding
// known values in place of the layer's ReLU output ("<layer>/Relu", what the dropout consumes) and
// fetching the stage's output; keep_prob is fed as training does (1 - dropout rate).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <tensorflow/core/framework/graph.pb.h>
#include <tensorflow/core/framework/tensor.h>
#include <tensorflow/core/public/session.h>

#include "model/layers.h"
#include "model/session.h"

namespace alexnet::model {
namespace {

using tensorflow::Tensor;

constexpr int kRows = 25;    // 25 x 4096 = 102,400 values per dropout layer
constexpr int kWidth = 4096; // fc6 / fc7 units in the table

struct DropoutLayer {
  std::string name;    // fc6, fc7
  std::string input;   // the tensor dropout is applied to: the layer's ReLU output
  std::string output;  // the stage's output in the network
};

// The model's graph in a plain TensorFlow session (ModelSession keeps its own session private),
// with the dropout layers the table asks for.
struct Graph {
  std::unique_ptr<ModelSession> model;
  std::unique_ptr<tensorflow::Session> session;
  std::vector<DropoutLayer> layers;
};

Graph BuildGraph(float dropout_rate) {
  Graph g;
  SessionConfig cfg;
  cfg.model.num_classes = 10;
  cfg.model.input_size = MinimumInputSize(cfg.model);
  cfg.model.dropout_rate = dropout_rate;
  auto created = ModelSession::Create(cfg);
  EXPECT_TRUE(created.ok()) << created.status().message();
  if (!created.ok()) return g;
  g.model = std::move(created).value();
  g.session.reset(tensorflow::NewSession(tensorflow::SessionOptions()));
  const absl::Status st = g.session->Create(g.model->graph_def());
  EXPECT_TRUE(st.ok()) << st.message();
  const Network& net = g.model->network();
  for (const LayerSpec& spec : AlexNetLayers()) {
    if (!spec.dropout) continue;
    for (const auto& [name, out] : net.stages) {
      if (name == spec.name) g.layers.push_back({name, name + "/Relu:0", out.name()});
    }
  }
  return g;
}

// Known, distinct, strictly positive values (a dropped unit is then exactly the zeros).
Tensor KnownValues() {
  Tensor x(tensorflow::DT_FLOAT, {kRows, kWidth});
  auto f = x.flat<float>();
  for (int64_t i = 0; i < f.size(); ++i) f(i) = 0.5f + float(i % 1000) / 128.0f + float(i / 1000) / 4096.0f;
  return x;
}

Tensor Scalar(float v) {
  Tensor t(tensorflow::DT_FLOAT, {});
  t.scalar<float>()() = v;
  return t;
}

// Runs one dropout layer of the graph on x; keep_prob < 0 leaves it unfed (its default).
Tensor RunDropout(Graph& g, const DropoutLayer& layer, const Tensor& x, float keep_prob) {
  std::vector<std::pair<std::string, Tensor>> feed = {{layer.input, x}};
  if (keep_prob >= 0) feed.emplace_back(g.model->network().keep_prob.name(), Scalar(keep_prob));
  std::vector<Tensor> out;
  auto st = g.session->Run(feed, {layer.output}, {}, &out);
  EXPECT_TRUE(st.ok()) << layer.name << ": " << st.message();
  if (!st.ok() || out.empty()) return Tensor(tensorflow::DT_FLOAT, {0});
  return out[0];
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

class Dropout : public ::testing::TestWithParam<double> {};

TEST_P(Dropout, KeptValuesAreScaledAndTheDroppedFractionIsP) {
  const double p = GetParam();
  Graph g = BuildGraph(float(p));
  ASSERT_EQ(g.layers.size(), 2u) << "the table puts dropout after fc6 and fc7";
  const Tensor x = KnownValues();
  const float keep = float(1.0 - p);  // what the trainer feeds: 1 - dropout rate
  const auto in = x.flat<float>();
  const int64_t n = in.size();
  std::vector<Tensor> outputs;
  for (const DropoutLayer& layer : g.layers) {
    const Tensor y = RunDropout(g, layer, x, keep);
    ASSERT_EQ(y.NumElements(), n) << layer.name;
    const auto out = y.flat<float>();
    int64_t dropped = 0, not_bitwise = 0, reported = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (out(i) == 0.0f) {
        ++dropped;
        continue;
      }
      // Kept: x / keep_prob. Bitwise the float32 division by the fed keep_prob; and within one
      // float32 rounding (2^-23 relative, which also covers keep_prob's own rounding) of the
      // exact x / (1 - p).
      const float bitwise = in(i) / keep;
      const double exact = double(in(i)) / (1.0 - p);
      not_bitwise += Bits(out(i)) != Bits(bitwise);
      if (std::abs(out(i) - exact) > exact * 0x1p-23 && reported++ < 5) {
        ADD_FAILURE() << layer.name << " element " << i << ": x " << in(i) << ", expected x/(1-p) " << exact
                      << ", got " << out(i);
      }
    }
    EXPECT_EQ(not_bitwise, 0) << layer.name << ": kept values differing from float32 x / " << keep;
    const double fraction = double(dropped) / double(n);
    const double sigma = std::sqrt(p * (1 - p) / double(n));
    std::printf("%s, p = %.2f: dropped %lld of %lld = %.5f (|diff| %.2f sigma, sigma %.5f); kept values "
                "x/(1-p) bitwise: %lld of %lld\n",
                layer.name.c_str(), p, static_cast<long long>(dropped), static_cast<long long>(n), fraction,
                std::abs(fraction - p) / sigma, sigma, static_cast<long long>(n - dropped - not_bitwise),
                static_cast<long long>(n - dropped));
    EXPECT_LE(std::abs(fraction - p), 1.96 * sigma)
        << layer.name << ": dropped fraction " << fraction << ", expected " << p << " +- " << 1.96 * sigma;
    outputs.push_back(y);
  }
  // fc6 and fc7 draw their own masks (different seeds), and every run draws a fresh one.
  auto same_mask = [&](const Tensor& a, const Tensor& b) {
    int64_t same = 0;
    for (int64_t i = 0; i < n; ++i) same += (a.flat<float>()(i) == 0.0f) == (b.flat<float>()(i) == 0.0f);
    return same;
  };
  EXPECT_LT(same_mask(outputs[0], outputs[1]), n) << "fc6 and fc7 dropped exactly the same units";
  const Tensor again = RunDropout(g, g.layers[0], x, keep);
  ASSERT_EQ(again.NumElements(), n);
  EXPECT_LT(same_mask(outputs[0], again), n) << "two steps dropped exactly the same units of fc6";
}

INSTANTIATE_TEST_SUITE_P(Rates, Dropout, ::testing::Values(0.5, 0.3));

// keep_prob 1 (the default: inference, evaluation, Stages) passes every value through bitwise.
TEST(DropoutIdentity, KeepProbOneIsTheIdentity) {
  Graph g = BuildGraph(0.5f);
  ASSERT_EQ(g.layers.size(), 2u);
  const Tensor x = KnownValues();
  for (const DropoutLayer& layer : g.layers) {
    for (float keep : {1.0f, -1.0f}) {  // fed 1, and left at its default
      const Tensor y = RunDropout(g, layer, x, keep);
      ASSERT_EQ(y.NumElements(), x.NumElements()) << layer.name;
      int64_t differ = 0;
      for (int64_t i = 0; i < x.NumElements(); ++i) {
        if (Bits(y.flat<float>()(i)) != Bits(x.flat<float>()(i)) && differ++ < 5) {
          ADD_FAILURE() << layer.name << (keep < 0 ? " (keep_prob unfed)" : " (keep_prob 1)") << " element " << i
                        << ": expected " << x.flat<float>()(i) << ", got " << y.flat<float>()(i);
        }
      }
      EXPECT_EQ(differ, 0) << layer.name;
    }
  }
}

// Dropout rate 0 leaves dropout out of the graph: no random numbers are drawn at all, and the
// stage's output is the ReLU itself.
TEST(DropoutIdentity, RateZeroBuildsNoDropout) {
  Graph g = BuildGraph(0.0f);
  ASSERT_EQ(g.layers.size(), 2u);
  for (const tensorflow::NodeDef& node : g.model->graph_def().node()) {
    EXPECT_NE(node.op(), "RandomUniform") << node.name();
  }
  for (const DropoutLayer& layer : g.layers) EXPECT_EQ(layer.output, layer.input);
}

}  // namespace
}  // namespace alexnet::model
