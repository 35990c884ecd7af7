// The summary derived from the built graph reproduces the seed's table and the paper's counts.
#include <gtest/gtest.h>

#include "model/layers.h"
#include "model/summary.h"

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

TEST(Summary, FormatCount) {
  EXPECT_EQ(FormatCount(62378344), "62,378,344");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1000), "1,000");
}

}  // namespace
}  // namespace alexnet::model
