// The summary derived from the built graph reproduces the seed's table and the paper's counts.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <vector>

#include <tensorflow/cc/framework/scope.h>

#include "model/graph.h"
#include "model/layers.h"
#include "model/summary.h"
#include "util/format.h"

namespace alexnet::model {
namespace {

Summary Build(const ModelOptions& o) {
  Result<Summary> s = BuildSummary(o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? s.value() : Summary{};
}

TEST(Summary, DefaultModelMatchesTheSeedTable) {
  const Summary s = Build(ModelOptions{});
  // The seed's table (docs/network.md), typed here independently.
  const std::vector<std::pair<std::string, std::vector<int64_t>>> seed = {
      {"conv1", {55, 55, 96}},  {"lrn1", {55, 55, 96}},   {"pool1", {27, 27, 96}},
      {"conv2", {27, 27, 256}}, {"lrn2", {27, 27, 256}},  {"pool2", {13, 13, 256}},
      {"conv3", {13, 13, 384}}, {"conv4", {13, 13, 384}}, {"conv5", {13, 13, 256}},
      {"pool5", {6, 6, 256}},   {"fc6", {4096}},          {"fc7", {4096}},
      {"fc8", {1000}}};
  ASSERT_EQ(s.rows.size(), seed.size());
  for (size_t i = 0; i < seed.size(); ++i) {
    EXPECT_EQ(s.rows[i].name, seed[i].first);
    EXPECT_EQ(s.rows[i].out_shape, seed[i].second) << s.rows[i].name;
  }
}

TEST(Summary, ParameterCountsMatchThePaper) {
  const Summary s = Build(ModelOptions{});
  // The parameter counts of docs/network.md (single tower, as docs/paper.md explains).
  const std::vector<std::pair<std::string, int64_t>> paper = {
      {"conv1", 34944},    {"conv2", 614656},   {"conv3", 885120},  {"conv4", 1327488},
      {"conv5", 884992},   {"fc6", 37752832},   {"fc7", 16781312},  {"fc8", 4097000}};
  for (const auto& [name, count] : paper) {
    bool found = false;
    for (const SummaryRow& r : s.rows) {
      if (r.name == name) {
        EXPECT_EQ(r.params, count) << name;
        found = true;
      }
    }
    EXPECT_TRUE(found) << name;
  }
  EXPECT_EQ(s.total_params, 62378344);
  // Paper: about 1.135 G multiply-accumulates forward.
  EXPECT_NEAR(static_cast<double>(s.total_macs) / 1e9, 1.135, 0.001);
}

// The derived columns (layers_test.cpp checks the recurrence itself) reach the summary and both
// printouts.
TEST(Summary, ReceptiveFieldJumpAndActivationMemory) {
  const Summary s = Build(ModelOptions{});
  ASSERT_EQ(s.rows.size(), 13u);
  EXPECT_EQ(s.rows[0].field.size, 11);
  EXPECT_EQ(s.rows[0].field.jump, 4);
  EXPECT_EQ(s.rows[9].name, "pool5");
  EXPECT_EQ(s.rows[9].field.size, 195);
  EXPECT_EQ(s.rows[9].field.jump, 32);
  EXPECT_TRUE(s.rows[10].field.whole_input);
  EXPECT_EQ(s.rows[0].activation_bytes, 55 * 55 * 96 * 4);
  // Input and every output, values per image: 154,587 + 1,258,760.
  EXPECT_EQ(s.input_bytes, 227 * 227 * 3 * 4);
  EXPECT_EQ(s.total_activation_bytes, (154587 + 1258760) * 4);
  std::ostringstream text, markdown;
  PrintSummary(s, text);
  PrintSummaryMarkdown(s, markdown);
  EXPECT_NE(text.str().find("RF  jump  act. KiB"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("RF (receptive field):"), std::string::npos) << text.str();
  EXPECT_NE(markdown.str().find("| conv1 | conv | 11x11 /4 pad 0 | 55 x 55 x 96 | 34,944 | 105,415,200 | 11 | 4 "
                                "| 1,134 | ReLU |"),
            std::string::npos)
      << markdown.str();
  EXPECT_NE(markdown.str().find("| fc6 | fc |  | 4096 | 37,752,832 | 37,748,736 | all |  | 16.0 |"), std::string::npos)
      << markdown.str();
  EXPECT_NE(markdown.str().find("| total | | | | 62,378,344 | 1,135,256,096 | | | 5,521 | |"), std::string::npos)
      << markdown.str();
  EXPECT_NE(markdown.str().find("\n- receptive field: "), std::string::npos) << markdown.str();
}

TEST(Summary, TenClassesChangesOnlyTheHead) {
  ModelOptions o;
  o.num_classes = 10;
  const Summary s = Build(o);
  EXPECT_EQ(s.rows.back().out_shape, std::vector<int64_t>{10});
  EXPECT_EQ(s.rows.back().params, 4096 * 10 + 10);
  EXPECT_EQ(s.total_params, 62378344 - 4097000 + 40970);
}

TEST(Summary, OtherInputSizesAndNoLrn) {
  ModelOptions o;
  o.input_size = 67;
  o.lrn = false;
  const Summary s = Build(o);
  ASSERT_EQ(s.rows.size(), 11u);  // lrn1 and lrn2 gone
  EXPECT_EQ(s.rows[0].out_shape, (std::vector<int64_t>{15, 15, 96}));
  EXPECT_EQ(s.rows[7].name, "pool5");
  EXPECT_EQ(s.rows[7].out_shape, (std::vector<int64_t>{1, 1, 256}));
}

TEST(Summary, TooSmallInputIsRefusedWithTheMinimum) {
  ModelOptions o;
  o.input_size = 66;
  const Result<Summary> s = BuildSummary(o);
  ASSERT_FALSE(s.ok());
  const std::string err = s.status().message();
  EXPECT_NE(err.find("too small"), std::string::npos) << err;
  EXPECT_NE(err.find("67"), std::string::npos) << err;
  EXPECT_EQ(MinimumInputSize(o), 67);
}

// The ops of the built training graph by type, and the MaxPool windows and strides.
struct GraphOps {
  std::map<std::string, int> count;  // op type -> nodes
  std::vector<std::vector<int64_t>> pool_ksize, pool_strides;
};

GraphOps OpsOf(const ModelOptions& o) {
  tensorflow::Scope root = tensorflow::Scope::NewRootScope();
  Network net;
  const Status st = BuildAlexNet(root, o, /*with_dropout=*/true, MakeVariable, &net);
  EXPECT_TRUE(st.ok()) << st.message();
  tensorflow::GraphDef gd;
  EXPECT_TRUE(root.ToGraphDef(&gd).ok());
  GraphOps ops;
  for (const tensorflow::NodeDef& n : gd.node()) {
    ++ops.count[n.op()];
    if (n.op() != "MaxPool") continue;
    const auto& k = n.attr().at("ksize").list().i();
    const auto& s = n.attr().at("strides").list().i();
    ops.pool_ksize.emplace_back(k.begin(), k.end());
    ops.pool_strides.emplace_back(s.begin(), s.end());
  }
  return ops;
}

TEST(Variants, ThePapersChoicesAreTheDefaultGraph) {
  ModelOptions o;
  o.num_classes = 10;
  o.input_size = 67;
  GraphOps ops = OpsOf(o);
  EXPECT_EQ(ops.count["Relu"], 7);  // conv1-conv5, fc6, fc7
  EXPECT_EQ(ops.count["Tanh"], 0);
  EXPECT_EQ(ops.count["LRN"], 2);
  ASSERT_EQ(ops.pool_ksize.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ops.pool_ksize[i], (std::vector<int64_t>{1, 3, 3, 1}));
    EXPECT_EQ(ops.pool_strides[i], (std::vector<int64_t>{1, 2, 2, 1}));
  }
}

TEST(Variants, TanhTwoByTwoPoolingAndNoLrnReallyChangeTheGraph) {
  ModelOptions o;
  o.num_classes = 10;
  o.input_size = 67;
  o.activation = Activation::kTanh;
  o.pool_kernel = 2;
  o.pool_stride = 2;
  o.lrn = false;
  GraphOps ops = OpsOf(o);
  EXPECT_EQ(ops.count["Tanh"], 7);
  EXPECT_EQ(ops.count["Relu"], 0);
  EXPECT_EQ(ops.count["LRN"], 0);
  ASSERT_EQ(ops.pool_ksize.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ops.pool_ksize[i], (std::vector<int64_t>{1, 2, 2, 1}));
    EXPECT_EQ(ops.pool_strides[i], (std::vector<int64_t>{1, 2, 2, 1}));
  }
}

TEST(Variants, TheSummaryShowsThem) {
  ModelOptions o;
  o.activation = Activation::kTanh;
  o.pool_kernel = 2;
  o.pool_stride = 2;
  const Summary s = Build(o);
  // 2/2 gives the same sizes as 3/2 at 227 (55 -> 27 -> 13 -> 6): the paper chose it for that.
  ASSERT_EQ(s.rows.size(), 13u);
  EXPECT_EQ(s.rows[2].geometry, "2x2 /2");
  EXPECT_EQ(s.rows[2].out_shape, (std::vector<int64_t>{27, 27, 96}));
  EXPECT_EQ(s.rows[9].out_shape, (std::vector<int64_t>{6, 6, 256}));
  EXPECT_EQ(s.total_params, 62378344);
  EXPECT_EQ(s.rows[0].activation, Activation::kTanh);
  EXPECT_EQ(s.rows[12].activation, Activation::kNone);  // fc8: softmax follows
  std::ostringstream text;
  PrintSummary(s, text);
  EXPECT_NE(text.str().find("tanh, LRN on, max pooling 2/2"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("tanh + dropout"), std::string::npos) << text.str();
  EXPECT_EQ(text.str().find("ReLU"), std::string::npos) << text.str();
}

TEST(Variants, PoolingChangesTheSmallestInput) {
  ModelOptions o;
  o.pool_kernel = 2;
  o.pool_stride = 2;
  // pool2 needs 4 x 4 in (2 x 2 out, for pool5's 2 x 2 window), so pool1 8 x 8 in, so conv1's
  // (s - 11) / 4 + 1 >= 8: s >= 39.
  EXPECT_EQ(MinimumInputSize(o), 39);
  o.pool_stride = 0;
  EXPECT_FALSE(ComputeLayerShapes(o).ok());
}

TEST(Summary, FormatCount) {
  EXPECT_EQ(FormatCount(62378344), "62,378,344");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1000), "1,000");
}

}  // namespace
}  // namespace alexnet::model
