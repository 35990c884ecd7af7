// Inputs the fuzz targets (fuzz/) found a bug with in the run folder's files, kept in
// tests/train/regressions/ and fed to the same entry points. No TensorFlow: built also with
// ALEXNET_TF=OFF. See docs/reliability.md.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "train/config.h"
#include "util/files.h"
#include "train/train_state.h"

namespace alexnet::train {
namespace {

const std::string kRegressions = ALEXNET_REGRESSIONS_DIR;

// fuzz_state: "step": 1e190 reached nlohmann's static_cast<int64_t>(double), undefined
// behaviour (UBSan: "1e+190 is outside the range of representable values of type 'long'").
// A float where state.json has an integer is now an error naming the key.
TEST(FuzzRegression, StateWithAFloatStep) {
  const Result<std::string> text = ReadFile(kRegressions + "/state_step_1e190.json");
  ASSERT_TRUE(text.ok()) << text.status().message();
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded());
  const Result<TrainState> s = TrainStateFromJson(j);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "\"step\" must be an integer, not 1e+190");
}

// The same cast in config.json (the v1 fixture with "resize": 1e300), through LoadTrainConfig.
TEST(FuzzRegression, ConfigWithAFloatResize) {
  const std::string dir = kRegressions + "/config_resize_1e300";
  const Result<TrainConfig> c = LoadTrainConfig(dir);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().path(), dir + "/config.json");
  EXPECT_EQ(c.status().reason(), "not a valid run configuration: \"data.resize\" must be an integer, not 1e+300");
}

// The check lets through every file the program writes, and the files of earlier versions.
TEST(FuzzRegression, IntegerCheckAcceptsWrittenFiles) {
  EXPECT_TRUE(TrainConfigFromJson(ToJson(TrainConfig{})).ok());
  EXPECT_TRUE(TrainStateFromJson(ToJson(TrainState{})).ok());
  const Result<TrainConfig> v1 = LoadTrainConfig(std::string(ALEXNET_TESTDATA) + "/v1");
  EXPECT_TRUE(v1.ok()) << v1.status().message();
  const Result<std::string> state = ReadFile(std::string(ALEXNET_TESTDATA) + "/v1/state.json");
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(TrainStateFromJson(nlohmann::json::parse(*state)).ok());
}

// An integer too large for its field wraps in nlohmann's conversion ({"batch": 2^32 + 128} read
// as 128); it is refused, naming the key, in config.json and state.json.
TEST(FuzzRegression, IntegersThatDoNotFitTheirFieldAreRefused) {
  nlohmann::json config = ToJson(TrainConfig{});
  config["recipe"]["batch"] = (int64_t(1) << 32) + 128;
  const Result<TrainConfig> c = TrainConfigFromJson(config);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().reason(), "\"recipe.batch\" is out of range: 4294967424");

  nlohmann::json state = ToJson(TrainState{});
  state["epoch"] = uint64_t(1) << 63;  // the step counters are 64-bit: this one does not fit either
  const Result<TrainState> s = TrainStateFromJson(state);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "\"epoch\" is out of range: 9223372036854775808");
  state["epoch"] = int64_t(1) << 40;  // a 64-bit field takes it
  EXPECT_TRUE(TrainStateFromJson(state).ok());
}

}  // namespace
}  // namespace alexnet::train
