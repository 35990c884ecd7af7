// config.json and state.json written by earlier versions still load, field by field, and what
// we write now reads back the same. The v1 fixtures were written by the code before the switch
// to nlohmann's NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT (see testdata/v1/README.md).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#ifdef ALEXNET_TEST_HAVE_CHECKPOINTS  // the TensorFlow build (tests/train/CMakeLists.txt)
#include "train/checkpoint.h"
#endif
#include "train/config.h"
#include "util/files.h"
#include "train/train_state.h"

namespace alexnet::train {
namespace {

namespace fs = std::filesystem;

const std::string kV1 = std::string(ALEXNET_TESTDATA) + "/v1";

nlohmann::json ReadJson(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.status().message();
  return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json();
}

void ExpectV1Config(const TrainConfig& c) {
  EXPECT_EQ(c.data.source, "/data/flowers");
  EXPECT_EQ(c.data.list_file, "/data/flowers/list.txt");
  EXPECT_EQ(c.data.fashion_dir, "/opt/fashion");
  EXPECT_DOUBLE_EQ(c.data.val_fraction, 0.25);
  EXPECT_EQ(c.data.train_limit, 1000);
  EXPECT_EQ(c.data.val_limit, 200);
  EXPECT_EQ(c.data.test_limit, 0);  // not saved
  EXPECT_EQ(c.data.split_seed, 42u);
  EXPECT_EQ(c.data.resize, 128);
  EXPECT_EQ(c.data.crop, 112);
  EXPECT_TRUE(c.data.per_pixel_mean);
  EXPECT_EQ(c.data.stats_images, 300);
  EXPECT_EQ(c.data.max_pixels, 20000000);
  EXPECT_FALSE(c.data.strict_decode);  // not in v1 files: the default
  EXPECT_EQ(c.model.num_classes, 17);
  EXPECT_EQ(c.model.input_size, 112);
  EXPECT_FALSE(c.model.lrn);
  EXPECT_FLOAT_EQ(c.model.dropout_rate, 0.3f);
  EXPECT_EQ(c.model.init, model::Init::kHe);
  EXPECT_FLOAT_EQ(c.model.init_stddev, 0.02f);
  EXPECT_FLOAT_EQ(c.model.input_stddev, 63.5f);
  EXPECT_TRUE(c.model.standardize_input);
  EXPECT_EQ(c.model.seed, 7);
  EXPECT_EQ(c.model.lrn_params.depth_radius, 3);
  EXPECT_FLOAT_EQ(c.model.lrn_params.bias, 1.5f);
  EXPECT_FLOAT_EQ(c.model.lrn_params.alpha, 2e-4f);
  EXPECT_FLOAT_EQ(c.model.lrn_params.beta, 0.5f);
  // Not in v1 files (they came with the design-claim experiments): the paper's ReLU and 3/2.
  EXPECT_EQ(c.model.activation, model::Activation::kRelu);
  EXPECT_EQ(c.model.pool_kernel, 3);
  EXPECT_EQ(c.model.pool_stride, 2);
  EXPECT_EQ(c.recipe.batch, 64);
  EXPECT_EQ(c.recipe.epochs, 12);
  EXPECT_DOUBLE_EQ(c.recipe.time_budget_s, 3600.5);
  EXPECT_FLOAT_EQ(c.recipe.lr, 0.005f);
  EXPECT_EQ(c.recipe.schedule, LrSchedule::kStep);
  EXPECT_EQ(c.recipe.patience, 2);
  EXPECT_EQ(c.recipe.max_lr_drops, 4);
  EXPECT_EQ(c.recipe.step_epochs, 5);
  EXPECT_FLOAT_EQ(c.recipe.momentum, 0.8f);
  EXPECT_FLOAT_EQ(c.recipe.weight_decay, 1e-3f);
  EXPECT_FALSE(c.recipe.random_crop);
  EXPECT_FALSE(c.recipe.flip);
  EXPECT_FALSE(c.recipe.pca_color);
  EXPECT_EQ(c.run.workers, 3);
  EXPECT_EQ(c.run.threads, 4);
  EXPECT_EQ(c.run.checkpoint_every, 250);
  EXPECT_EQ(c.run.keep_checkpoints, 5);
  EXPECT_DOUBLE_EQ(c.run.log_every_s, 2.5);
}

void ExpectV1State(const TrainState& s) {
  EXPECT_EQ(s.step, 12345);
  EXPECT_EQ(s.epoch, 6);
  EXPECT_EQ(s.batch_in_epoch, 78);
  EXPECT_FLOAT_EQ(s.learning_rate, 0.0005f);
  EXPECT_EQ(s.lr_drops, 2);
  EXPECT_EQ(s.epochs_without_improvement, 1);
  EXPECT_DOUBLE_EQ(s.best_val_top1, 0.8125);
  EXPECT_EQ(s.images_seen, 790080);
  EXPECT_DOUBLE_EQ(s.train_seconds, 5432.25);
  EXPECT_FLOAT_EQ(s.last_loss, 0.375f);
}

TEST(ConfigJson, LoadsAConfigWrittenByTheEarlierCode) {
  const Result<TrainConfig> c = LoadTrainConfig(kV1);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->run.run_dir, kV1);
  ExpectV1Config(*c);
}

// Every key of v1 is written again with its value; the only additions are the keys that came
// later, at the values a v1 run had: the precision (fp32), the model variants (the paper's), no
// warm-up and no label smoothing.
TEST(ConfigJson, WritesTheSameKeysAndValuesAsTheEarlierCode) {
  const nlohmann::json v1 = ReadJson(kV1 + "/config.json");
  const Result<TrainConfig> c = TrainConfigFromJson(v1);
  ASSERT_TRUE(c.ok()) << c.status().message();
  nlohmann::json expected = v1;
  expected["model"]["precision"] = "fp32";
  expected["model"]["activation"] = "relu";
  expected["model"]["pool_kernel"] = 3;
  expected["model"]["pool_stride"] = 2;
  expected["model"]["architecture"] = "alexnet";  // a run from before the second table: the seed's
  expected["recipe"]["warmup_steps"] = 0;
  expected["recipe"]["label_smoothing"] = 0.0;
  EXPECT_EQ(ToJson(*c), expected) << ToJson(*c).dump(2);
}

TEST(ConfigJson, ModelVariantsAreSavedAndReadBack) {
  TrainConfig c;
  c.model.activation = model::Activation::kTanh;
  c.model.pool_kernel = 2;
  c.model.pool_stride = 2;
  c.model.architecture = model::Architecture::kTorchvision;
  const nlohmann::json j = ToJson(c);
  EXPECT_EQ(j["model"]["architecture"], "torchvision");
  EXPECT_EQ(j["model"]["activation"], "tanh");
  EXPECT_EQ(j["model"]["pool_kernel"], 2);
  const Result<TrainConfig> back = TrainConfigFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->model.activation, model::Activation::kTanh);
  EXPECT_EQ(back->model.pool_kernel, 2);
  EXPECT_EQ(back->model.pool_stride, 2);
  EXPECT_EQ(back->model.architecture, model::Architecture::kTorchvision);
}

// nlohmann reads an unknown enum string as the first entry; a run must not silently train ReLUs
// when its file asks for something else.
TEST(ConfigJson, AnUnknownActivationOrAFloatPoolIsRefused) {
  nlohmann::json j = ToJson(TrainConfig{});
  j["model"]["activation"] = "sigmoid";
  Result<TrainConfig> c = TrainConfigFromJson(j);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().reason().find("sigmoid"), std::string::npos) << c.status().reason();
  j = ToJson(TrainConfig{});
  j["model"]["architecture"] = "vgg";
  c = TrainConfigFromJson(j);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().reason().find("vgg"), std::string::npos) << c.status().reason();
  j = ToJson(TrainConfig{});
  j["model"]["pool_kernel"] = 1e300;
  c = TrainConfigFromJson(j);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().reason().find("pool_kernel"), std::string::npos) << c.status().reason();
}

TEST(ConfigJson, MissingKeysTakeTheDefaults) {
  // The oldest layout: no "run" section and only the keys every version wrote.
  const auto j = nlohmann::json::parse(R"({
    "data": {"source": "fashion-mnist", "val_fraction": 0.2, "resize": 64, "crop": 56},
    "model": {"num_classes": 10, "input_size": 56, "lrn": true, "dropout_rate": 0.5},
    "recipe": {"batch": 32, "epochs": 3, "lr": 0.01}})");
  const Result<TrainConfig> c = TrainConfigFromJson(j);
  ASSERT_TRUE(c.ok()) << c.status().message();
  const TrainConfig d;
  EXPECT_DOUBLE_EQ(c->data.val_fraction, 0.2);
  EXPECT_EQ(c->data.crop, 56);
  EXPECT_EQ(c->data.fashion_dir, d.data.fashion_dir);
  EXPECT_EQ(c->data.stats_images, d.data.stats_images);
  EXPECT_EQ(c->model.init, model::Init::kPaper);
  EXPECT_FALSE(c->model.standardize_input);
  EXPECT_EQ(c->model.lrn_params.depth_radius, d.model.lrn_params.depth_radius);
  EXPECT_FLOAT_EQ(c->model.lrn_params.beta, d.model.lrn_params.beta);
  EXPECT_EQ(c->recipe.schedule, LrSchedule::kPlateau);
  EXPECT_EQ(c->recipe.patience, d.recipe.patience);
  EXPECT_EQ(c->recipe.warmup_steps, 0);
  EXPECT_EQ(c->recipe.label_smoothing, 0.0f);
  EXPECT_EQ(c->run.workers, d.run.workers);
  EXPECT_EQ(c->run.checkpoint_every, d.run.checkpoint_every);
}

// The fast-training options (--lr-schedule cosine|onecycle, --warmup-steps, --label-smoothing)
// are saved and read back; a file asking for a schedule this version lacks, a negative warm-up or
// a smoothing outside [0, 1) is refused rather than read as another recipe.
TEST(ConfigJson, PerStepSchedulesWarmUpAndLabelSmoothingAreSavedAndReadBack) {
  for (LrSchedule schedule : {LrSchedule::kCosine, LrSchedule::kOneCycle}) {
    TrainConfig c;
    c.recipe.schedule = schedule;
    c.recipe.warmup_steps = 500;
    c.recipe.label_smoothing = 0.1f;
    const nlohmann::json j = ToJson(c);
    EXPECT_EQ(j["recipe"]["schedule"], NameIn(kLrScheduleNames, schedule));
    EXPECT_EQ(j["recipe"]["warmup_steps"], 500);
    const Result<TrainConfig> back = TrainConfigFromJson(j);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->recipe.schedule, schedule);
    EXPECT_EQ(back->recipe.warmup_steps, 500);
    EXPECT_EQ(back->recipe.label_smoothing, 0.1f);
  }
  const std::pair<const char*, nlohmann::json> refused[] = {
      {"schedule", "linear"}, {"schedule", 2}, {"warmup_steps", -1}, {"warmup_steps", 1.5},
      {"label_smoothing", 1.0}, {"label_smoothing", -0.1}};
  for (const auto& [key, value] : refused) {
    nlohmann::json j = ToJson(TrainConfig{});
    j["recipe"][key] = value;
    const Result<TrainConfig> c = TrainConfigFromJson(j);
    ASSERT_FALSE(c.ok()) << key << " " << value.dump();
    EXPECT_NE(c.status().reason().find(key), std::string::npos) << c.status().reason();
  }
}

// --strict-decode is saved only when set, so a run without it writes what earlier versions did.
TEST(ConfigJson, StrictDecodeIsSavedOnlyWhenSet) {
  TrainConfig c;
  EXPECT_FALSE(ToJson(c)["data"].contains("strict_decode"));
  c.data.strict_decode = true;
  const nlohmann::json j = ToJson(c);
  EXPECT_EQ(j["data"]["strict_decode"], true);
  const Result<TrainConfig> back = TrainConfigFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->data.strict_decode);
}

TEST(ConfigJson, MalformedFilesAreErrorsNotExceptions) {
  EXPECT_FALSE(TrainConfigFromJson(nlohmann::json::array()).ok());
  nlohmann::json j = ReadJson(kV1 + "/config.json");
  j["data"].erase("crop");
  Result<TrainConfig> c = TrainConfigFromJson(j);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().reason().find("data.crop"), std::string::npos) << c.status().reason();
  j = ReadJson(kV1 + "/config.json");
  j["recipe"]["batch"] = "many";
  EXPECT_FALSE(TrainConfigFromJson(j).ok());

  const fs::path dir = fs::temp_directory_path() / ("config_json_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ASSERT_TRUE(WriteFileAtomic((dir / "config.json").string(), "{ not json").ok());
  c = LoadTrainConfig(dir.string());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().path(), (dir / "config.json").string());
  EXPECT_NE(c.status().reason().find("not a valid run configuration"), std::string::npos);
  fs::remove_all(dir);
  c = LoadTrainConfig(dir.string());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().reason().find("cannot open"), std::string::npos) << c.status().message();
}

TEST(StateJson, LoadsAStateWrittenByTheEarlierCode) {
  const nlohmann::json v1 = ReadJson(kV1 + "/state.json");
  const Result<TrainState> s = TrainStateFromJson(v1);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ExpectV1State(*s);
  EXPECT_EQ(ToJson(*s), v1) << ToJson(*s).dump(2);
}

// A schedule over a time budget: the flag in config.json's recipe and the fixed length in
// state.json, each written only when set (earlier files read as without them).
TEST(ConfigJson, ScheduleOverBudgetAndItsLengthAreSavedOnlyWhenSet) {
  TrainConfig c;
  EXPECT_FALSE(ToJson(c)["recipe"].contains("schedule_over_budget"));
  c.recipe.schedule = LrSchedule::kOneCycle;
  c.recipe.schedule_over_budget = true;
  const Result<TrainConfig> back = TrainConfigFromJson(ToJson(c));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->recipe.schedule_over_budget);
  nlohmann::json wrong = ToJson(c);
  wrong["recipe"]["schedule_over_budget"] = "yes";
  EXPECT_FALSE(TrainConfigFromJson(wrong).ok());
  TrainState s;
  EXPECT_FALSE(ToJson(s).contains("schedule_over_budget"));
  EXPECT_FALSE(ToJson(s).contains("schedule_steps"));
  s.schedule_steps = 77;
  const Result<TrainState> state = TrainStateFromJson(ToJson(s));
  ASSERT_TRUE(state.ok()) << state.status().message();
  EXPECT_EQ(state->schedule_steps, 77);
  nlohmann::json huge = ToJson(s);
  huge["schedule_steps"] = 1e300;
  EXPECT_FALSE(TrainStateFromJson(huge).ok());
}

TEST(StateJson, MissingKeysTakeTheDefaultsAndTheCoreKeysAreRequired) {
  const Result<TrainState> s = TrainStateFromJson(
      nlohmann::json::parse(R"({"step": 5, "epoch": 1, "batch_in_epoch": 2, "learning_rate": 0.1})"));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->step, 5);
  EXPECT_FLOAT_EQ(s->learning_rate, 0.1f);
  EXPECT_EQ(s->lr_drops, 0);
  EXPECT_DOUBLE_EQ(s->best_val_top1, -1.0);
  EXPECT_FALSE(TrainStateFromJson(nlohmann::json::parse(R"({"epoch": 1})")).ok());
  EXPECT_FALSE(TrainStateFromJson(nlohmann::json::parse(R"({"step": "x", "epoch": 1, "batch_in_epoch": 2,
                                                             "learning_rate": 0.1})")).ok());
}

#ifdef ALEXNET_TEST_HAVE_CHECKPOINTS
// CheckpointManager is part of alexnet_train (TensorFlow): not in the TensorFlow-free build.
TEST(StateJson, LatestReadsTheNewestCompleteCheckpoint) {
  const fs::path run = fs::temp_directory_path() / ("state_json_test_" + std::to_string(::getpid()));
  fs::remove_all(run);
  CheckpointManager ckpt(run.string(), 3);
  Result<CheckpointInfo> none = ckpt.Latest();
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().reason().find("no complete checkpoint"), std::string::npos);
  // ckpt-12345 as an earlier version left it (the variables' files are not read here).
  const fs::path dir = run / "checkpoints" / "ckpt-12345";
  fs::create_directories(dir);
  fs::copy_file(kV1 + "/state.json", dir / "state.json");
  ASSERT_TRUE(WriteFileAtomic((dir / "model.index").string(), "").ok());
  const Result<CheckpointInfo> latest = ckpt.Latest();
  ASSERT_TRUE(latest.ok()) << latest.status().message();
  EXPECT_EQ(latest->prefix, (dir / "model").string());
  ExpectV1State(latest->state);
  const Result<std::string> prefix = CheckpointManager::ResolvePrefix(run.string());
  ASSERT_TRUE(prefix.ok()) << prefix.status().message();
  EXPECT_EQ(*prefix, (dir / "model").string());
  EXPECT_FALSE(CheckpointManager::ResolvePrefix((run / "nothing").string()).ok());
  fs::remove_all(run);
}
#endif  // ALEXNET_TEST_HAVE_CHECKPOINTS

}  // namespace
}  // namespace alexnet::train
