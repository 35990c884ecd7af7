// Fine-tuning's training step (SessionConfig::train_layers): frozen layers get no backward ops
// below the lowest trained layer, no update, no weight decay term and no momentum accumulator;
// AssignParameters sets parameters bit for bit; `--train-layers` names are checked.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <tensorflow/core/framework/graph.pb.h>
#include <tensorflow/core/framework/node_def.pb.h>

#include "model/layers.h"
#include "model/session.h"
#include "session_util.h"

namespace alexnet::model {
namespace {

using tensorflow::Tensor;

const std::set<std::string> kBelowFc6 = {"Conv2DBackpropFilter", "Conv2DBackpropInput", "LRNGrad", "MaxPoolGrad"};

SessionConfig SmallTraining(const std::vector<std::string>& train_layers) {
  SessionConfig sc;
  sc.model.num_classes = 3;
  sc.model.input_size = 67;  // the smallest the table takes: seconds per session
  sc.model.init = Init::kHe;
  sc.model.dropout_rate = 0;
  sc.training = true;
  sc.threads = 2;
  sc.train_layers = train_layers;
  return sc;
}

// The op types of the graph and how many nodes each has.
std::multiset<std::string> OpTypes(const tensorflow::GraphDef& g) {
  std::multiset<std::string> types;
  for (const auto& n : g.node()) types.insert(n.op());
  return types;
}

bool BitIdentical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.tensor_data().data(), b.tensor_data().data(), a.tensor_data().size()) == 0;
}

struct Batch {
  Tensor images{tensorflow::DT_FLOAT, {4, 67, 67, 3}};
  Tensor labels{tensorflow::DT_INT32, {4}};
  Batch() {
    std::mt19937 rng(3);
    std::normal_distribution<float> pixel(0.0f, 1.0f);
    for (int64_t i = 0; i < images.NumElements(); ++i) images.flat<float>()(i) = pixel(rng);
    for (int i = 0; i < 4; ++i) labels.flat<int32_t>()(i) = i % 3;
  }
};

TEST(FrozenLayers, NoBackwardOpBelowTheLowestTrainedLayer) {
  // Every layer trained: the graph has them all (so that the check below can fail).
  auto all = ModelSession::Create(SmallTraining({}));
  ASSERT_TRUE(all.ok()) << all.status().message();
  const std::multiset<std::string> all_types = OpTypes(all.value()->graph_def());
  for (const std::string& op : kBelowFc6) EXPECT_GT(all_types.count(op), 0u) << op << " missing with every layer trained";

  auto head = ModelSession::Create(SmallTraining({"fc6", "fc7", "fc8"}));
  ASSERT_TRUE(head.ok()) << head.status().message();
  const std::multiset<std::string> head_types = OpTypes(head.value()->graph_def());
  for (const std::string& op : kBelowFc6) EXPECT_EQ(head_types.count(op), 0u) << op << " with fc6, fc7, fc8 trained";
  EXPECT_EQ(head_types.count("ApplyMomentum"), 6u);  // weights and biases of fc6, fc7, fc8
  EXPECT_EQ(head_types.count("L2Loss"), 3u);         // weight decay on their weights only

  // conv3 and fc8: nothing below conv3 (LRN, pool2) is differentiated; fc6/fc7 pass the error down.
  auto gap = ModelSession::Create(SmallTraining({"conv3", "fc8"}));
  ASSERT_TRUE(gap.ok()) << gap.status().message();
  const std::multiset<std::string> gap_types = OpTypes(gap.value()->graph_def());
  EXPECT_EQ(gap_types.count("LRNGrad"), 0u);
  EXPECT_EQ(gap_types.count("MaxPoolGrad"), 1u);  // pool5's, above conv3
  EXPECT_EQ(gap_types.count("ApplyMomentum"), 4u);
}

TEST(FrozenLayers, AStepUpdatesOnlyTheTrainedLayersAndDecaysOnlyTheirWeights) {
  auto m = InitializedSession(SmallTraining({"fc7", "fc8"}));
  ASSERT_NE(m, nullptr);
  std::vector<std::pair<std::string, Tensor>> before, after;
  ASSERT_TRUE(m->ReadParameters(&before).ok());
  const Batch batch;
  StepResult r;
  const Status st = m->TrainStep(batch.images, batch.labels, 0.01f, &r);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_TRUE(m->ReadParameters(&after).ok());
  double decay = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    const std::string& name = before[i].first;
    const bool trained = name.rfind("fc7/", 0) == 0 || name.rfind("fc8/", 0) == 0;
    EXPECT_EQ(!BitIdentical(before[i].second, after[i].second), trained) << name;
    if (trained && name.find("weights") != std::string::npos) {
      const auto w = before[i].second.flat<float>();
      for (int64_t k = 0; k < w.size(); ++k) decay += 0.5 * double(w(k)) * w(k);
    }
  }
  // loss - cross-entropy is the weight decay term: 0.0005 * sum w^2 / 2 over fc7's and fc8's weights.
  EXPECT_NEAR(r.loss - r.cross_entropy, 5e-4 * decay, 1e-3 * 5e-4 * decay + 1e-6);
  std::vector<Tensor> grads;
  float loss = 0;
  ASSERT_TRUE(m->Gradients(batch.images, batch.labels, &grads, &loss).ok());
  EXPECT_EQ(grads.size(), 4u);  // fc7 and fc8, weights and biases
}

TEST(FrozenLayers, AssignParametersSetsValuesBitForBit) {
  auto m = InitializedSession(SmallTraining({}));
  ASSERT_NE(m, nullptr);
  std::vector<std::pair<std::string, Tensor>> params;
  ASSERT_TRUE(m->ReadParameters(&params).ok());
  Tensor fc7 = params[12].second;  // conv1..conv5, fc6: 12 tensors before fc7/weights
  ASSERT_EQ(params[12].first, "fc7/weights");
  Tensor changed(tensorflow::DT_FLOAT, fc7.shape());
  for (int64_t i = 0; i < changed.NumElements(); ++i) changed.flat<float>()(i) = std::nextafter(fc7.flat<float>()(i), 1.0f);
  ASSERT_TRUE(m->AssignParameters({{"fc7/weights", changed}}).ok());
  std::vector<std::pair<std::string, Tensor>> now;
  ASSERT_TRUE(m->ReadParameters(&now).ok());
  EXPECT_TRUE(BitIdentical(now[12].second, changed));
  EXPECT_FALSE(BitIdentical(now[12].second, fc7));
  EXPECT_TRUE(BitIdentical(now[13].second, params[13].second));  // fc7/biases untouched
  Tensor wrong(tensorflow::DT_FLOAT, {2, 2});
  EXPECT_FALSE(m->AssignParameters({{"fc7/weights", wrong}}).ok());
}

TEST(TrainLayers, NamesAreCheckedAndPutInTheTablesOrder) {
  const Result<std::vector<std::string>> ok = ParseTrainLayers("fc8,fc6,fc7,fc6");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok.value(), (std::vector<std::string>{"fc6", "fc7", "fc8"}));
  for (const char* bad : {"fc9", "", "fc6,", "pool1", "fc6,lrn1"}) {
    const Result<std::vector<std::string>> r = ParseTrainLayers(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().reason().find("conv1, conv2, conv3, conv4, conv5, fc6, fc7, fc8"), std::string::npos)
        << r.status().reason();
  }
  EXPECT_NE(ParseTrainLayers("fc6,pool1").status().reason().find("'pool1'"), std::string::npos);
}

}  // namespace
}  // namespace alexnet::model
