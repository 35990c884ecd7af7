// Fine-tuning (train/fine_tune.h, `train --init-from RUN --train-layers ...`) on generated images:
// the source is a run folder laid out as an imported model's (checkpoints/best with parameters
// only, no momentum accumulators, state.json at step 0, Caffe's LRN constants); the new run has
// 3 of its 4 classes. Checked: the matching layers start bit for bit from the source and fc8 is
// said to start anew; the source's input convention is kept; frozen layers stay bit-identical in
// every checkpoint while the trained ones change; --resume trains on without the source; a bad
// source, a contradicting flag and data-parallel training are refused.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tensorflow/core/platform/env.h>
#include <tensorflow/core/util/tensor_bundle/tensor_bundle.h>

#include "data/color_stats.h"
#include "model/session.h"
#include "shapes_dataset.h"
#include "train/config.h"
#include "train/trainer.h"
#include "util/files.h"

namespace alexnet::train {
namespace {

namespace fs = std::filesystem;
using tensorflow::Tensor;

const char* const kConvLayers[] = {"conv1", "conv2", "conv3", "conv4", "conv5"};

fs::path Root() { return fs::temp_directory_path() / ("alexnet_fine_tune_" + std::to_string(::getpid())); }
fs::path Source() { return Root() / "imported"; }

// Every tensor of a checkpoint by name, read by TensorFlow's own reader.
std::map<std::string, Tensor> ReadCheckpoint(const fs::path& prefix) {
  std::map<std::string, Tensor> out;
  tensorflow::BundleReader reader(tensorflow::Env::Default(), prefix.string());
  EXPECT_TRUE(reader.status().ok()) << prefix << ": " << reader.status().ToString();
  if (!reader.status().ok()) return out;
  for (reader.Seek(""); reader.Valid(); reader.Next()) {
    const std::string key(reader.key());
    if (key.empty()) continue;  // the bundle's header
    Tensor t;
    EXPECT_TRUE(reader.ReadCurrent(&t).ok()) << key;
    out[key] = t;
  }
  return out;
}

bool BitIdentical(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.tensor_data().data(), b.tensor_data().data(), a.tensor_data().size()) == 0;
}

bool Frozen(const std::string& name, const std::vector<std::string>& trained) {
  return !model::IsTrained(name, trained);
}

// A run folder as `alexnet import` writes one: config.json, classes.txt, color_stats.json and
// checkpoints/best/{model.*, state.json} whose checkpoint holds only the parameters, at step 0.
void WriteImportedRun(const fs::path& dir) {
  TrainConfig c;
  c.data.source = (Root() / "shapes4").string();
  c.data.resize = 72;
  c.data.crop = 67;
  c.model.num_classes = 4;
  c.model.input_size = 67;
  c.model.init = model::Init::kHe;
  c.model.standardize_input = true;
  c.model.input_stddev = 61.5f;
  c.model.lrn_params = {2, 1.0f, 2e-5f, 0.75f};  // Caffe's constants, as the importer writes them
  fs::create_directories(dir / "checkpoints" / "best");
  ASSERT_TRUE(WriteFileAtomic((dir / "config.json").string(), ToJson(c).dump(2)).ok());
  ASSERT_TRUE(WriteFileAtomic((dir / "classes.txt").string(), "cross\ndisc\nsquare\ntriangle\n").ok());
  data::ColorStats stats;
  stats.size = 72;
  stats.images = 1;
  stats.source = "imported";
  stats.mean_rgb = {101.5, 92.25, 83.125};
  stats.covariance = {{{0.02, 0.001, 0.0}, {0.001, 0.03, 0.002}, {0.0, 0.002, 0.025}}};
  data::ComputePrincipalComponents(stats);
  ASSERT_TRUE(data::SaveColorStats(stats, (dir / "color_stats.json").string()).ok());
  model::SessionConfig sc;
  sc.model = c.model;
  sc.threads = 2;
  auto created = model::ModelSession::Create(sc);  // no training ops: parameters only
  ASSERT_TRUE(created.ok()) << created.status().message();
  ASSERT_TRUE(created.value()->Initialize().ok());
  ASSERT_TRUE(created.value()->Save((dir / "checkpoints" / "best" / "model").string()).ok());
  ASSERT_TRUE(WriteFileAtomic((dir / "checkpoints" / "best" / "state.json").string(), ToJson(TrainState{}).dump(2)).ok());
}

class FineTuning : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::remove_all(Root());
    alexnet::testing::WriteShapesDataset(Root() / "shapes4", 12, 5);
    alexnet::testing::WriteShapesDataset(Root() / "shapes3", 12, 7);
    fs::remove_all(Root() / "shapes3" / "triangle");  // another task: 3 classes
    WriteImportedRun(Source());
  }
  static void TearDownTestSuite() { fs::remove_all(Root()); }

  // A fine-tuning run of the 3-class data from the imported source. Resize and crop are left at
  // their defaults (256, 227): the source's 72 and 67 must be taken.
  static TrainConfig Config(const std::string& name, const std::vector<std::string>& train_layers) {
    TrainConfig c;
    c.data.source = (Root() / "shapes3").string();
    c.data.val_fraction = 0.25;
    c.recipe.batch = 9;  // 27 training images: 3 steps per epoch
    c.recipe.epochs = 2;
    c.recipe.lr = 0.002f;
    c.model.dropout_rate = 0;
    c.run.run_dir = (Root() / name).string();
    c.run.threads = 2;
    c.run.checkpoint_every = 2;
    c.run.keep_checkpoints = 10;
    c.run.log_every_s = 60;
    c.fine_tune.init_from = Source().string();
    c.fine_tune.train_layers = train_layers;
    return c;
  }
};

TEST_F(FineTuning, MatchingLayersStartBitForBitFromTheSourceAndFc8IsSaidToBeNew) {
  std::ostringstream out;
  auto opened = TrainingRun::Open(Config("copy", {}), false, {}, nullptr, out);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<TrainingRun> run = std::move(opened).value();
  std::vector<std::pair<std::string, Tensor>> params;
  ASSERT_TRUE(run->session()->ReadParameters(&params).ok());
  const std::map<std::string, Tensor> source = ReadCheckpoint(Source() / "checkpoints" / "best" / "model");
  ASSERT_EQ(source.size(), 16u);  // weights and biases of 8 layers, no momentum
  for (const auto& [name, value] : params) {
    ASSERT_EQ(source.count(name), 1u) << name;
    if (name.rfind("fc8/", 0) == 0) {
      EXPECT_NE(value.shape(), source.at(name).shape()) << name;  // 3 classes here, 4 there
    } else {
      EXPECT_TRUE(BitIdentical(value, source.at(name))) << name << " not copied bit for bit";
    }
  }
  // Momentum accumulators start at zero (the source has none).
  const fs::path saved_prefix = Root() / "copy_saved" / "model";
  fs::create_directories(saved_prefix.parent_path());
  ASSERT_TRUE(run->session()->Save(saved_prefix.string()).ok());
  int accumulators = 0;
  for (const auto& [name, value] : ReadCheckpoint(saved_prefix)) {
    if (name.find("/Momentum") == std::string::npos) continue;
    ++accumulators;
    const auto v = value.flat<float>();
    for (int64_t i = 0; i < v.size(); ++i) ASSERT_EQ(v(i), 0.0f) << name;
  }
  EXPECT_EQ(accumulators, 16);
  const std::string said = out.str();
  EXPECT_NE(said.find("fc8: new weights (3 classes here, 4 in " + Source().string() + ")\n"), std::string::npos)
      << said;
  EXPECT_NE(said.find("): conv1, conv2, conv3, conv4, conv5, fc6, fc7\n"), std::string::npos) << said;
  // The source's input convention, and the source recorded.
  const TrainConfig& c = run->config();
  EXPECT_EQ(c.data.resize, 72);
  EXPECT_EQ(c.data.crop, 67);
  EXPECT_EQ(c.model.input_size, 67);
  EXPECT_TRUE(c.model.standardize_input);
  EXPECT_EQ(c.model.input_stddev, 61.5f);
  EXPECT_EQ(c.model.lrn_params.bias, 1.0f);
  EXPECT_EQ(c.model.lrn_params.alpha, 2e-5f);
  EXPECT_EQ(c.model.init, model::Init::kHe);
  Result<TrainConfig> saved = LoadTrainConfig(c.run.run_dir);
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  EXPECT_EQ(saved->fine_tune.init_from, Source().string());
  EXPECT_EQ(saved->fine_tune.init_checkpoint, (Source() / "checkpoints" / "best" / "model").string());
  EXPECT_EQ(saved->fine_tune.init_step, 0);
  EXPECT_EQ(saved->model.input_stddev, 61.5f);
  EXPECT_EQ(saved->model.lrn_params.alpha, 2e-5f);
  Result<data::ColorStats> stats = data::LoadColorStats(c.run.run_dir + "/color_stats.json");
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->mean_rgb, (std::array<double, 3>{101.5, 92.25, 83.125}));  // the source's mean
  EXPECT_NE(stats->covariance[0][1], 0.001);  // the new data's own colour covariance
}

TEST_F(FineTuning, FrozenLayersStayBitIdenticalInEveryCheckpointAndTrainedOnesChange) {
  const std::vector<std::string> trained = {"fc6", "fc7", "fc8"};
  const TrainConfig c = Config("frozen", trained);
  std::ostringstream out;
  const Status st = Train(c, false, {}, nullptr, out);
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << out.str();
  EXPECT_NE(out.str().find("training fc6, fc7, fc8; frozen conv1, conv2, conv3, conv4, conv5"), std::string::npos)
      << out.str();
  const std::map<std::string, Tensor> source = ReadCheckpoint(Source() / "checkpoints" / "best" / "model");
  std::vector<fs::path> folders;
  for (const auto& e : fs::directory_iterator(fs::path(c.run.run_dir) / "checkpoints")) {
    if (fs::exists(e.path() / "model.index")) folders.push_back(e.path());
  }
  ASSERT_GE(folders.size(), 4u);  // ckpt-2, ckpt-3, ckpt-4, ckpt-6 and best
  for (const fs::path& folder : folders) {
    const std::map<std::string, Tensor> ckpt = ReadCheckpoint(folder / "model");
    for (const auto& [name, value] : source) {
      ASSERT_EQ(ckpt.count(name), 1u) << folder << " " << name;
      if (Frozen(name, trained)) {
        EXPECT_TRUE(BitIdentical(ckpt.at(name), value)) << folder << ": frozen " << name << " changed";
        EXPECT_EQ(ckpt.count(name + "/Momentum"), 0u) << folder << ": frozen " << name << " has momentum";
      } else {
        EXPECT_EQ(ckpt.count(name + "/Momentum"), 1u) << folder << " " << name;
      }
    }
    for (const char* name : {"fc6/weights", "fc6/biases", "fc7/weights"}) {
      EXPECT_FALSE(BitIdentical(ckpt.at(name), source.at(name))) << folder << ": trained " << name << " unchanged";
    }
  }
  Result<TrainConfig> saved = LoadTrainConfig(c.run.run_dir);
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  EXPECT_EQ(saved->fine_tune.train_layers, trained);

  // A trained run (momentum in its checkpoints, frozen layers) is a source too; with the same
  // classes every layer is copied, fc8 included, and no layer is said to be new.
  TrainConfig again = Config("from_trained", {});
  again.fine_tune.init_from = c.run.run_dir;
  std::ostringstream out2;
  auto opened = TrainingRun::Open(again, false, {}, nullptr, out2);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::vector<std::pair<std::string, Tensor>> params;
  ASSERT_TRUE(opened.value()->session()->ReadParameters(&params).ok());
  const std::map<std::string, Tensor> best = ReadCheckpoint(fs::path(c.run.run_dir) / "checkpoints" / "best" / "model");
  for (const auto& [name, value] : params) EXPECT_TRUE(BitIdentical(value, best.at(name))) << name;
  EXPECT_EQ(out2.str().find("new weights"), std::string::npos) << out2.str();
  EXPECT_NE(out2.str().find("fc6, fc7, fc8\n"), std::string::npos) << out2.str();
}

TEST_F(FineTuning, ResumeTrainsOnFromItsOwnCheckpointWithoutReadingTheSource) {
  const std::vector<std::string> trained = {"fc7", "fc8"};
  TrainConfig c = Config("resumed", trained);
  c.recipe.epochs = 1;
  std::ostringstream out;
  Status st = Train(c, false, {}, nullptr, out);
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << out.str();
  const std::map<std::string, Tensor> source = ReadCheckpoint(Source() / "checkpoints" / "best" / "model");
  // The source is gone: a resumed run must not need it.
  const fs::path moved = Root() / "moved_away";
  fs::rename(Source(), moved);
  TrainConfig given;
  given.run.run_dir = c.run.run_dir;
  given.recipe.epochs = 2;
  given.fine_tune.train_layers = {"fc8"};  // given again: said not to be used
  TrainOverrides overrides;
  overrides.given = {"--run", "--resume", "--epochs", "--train-layers"};
  std::ostringstream out2;
  st = Train(given, true, overrides, nullptr, out2);
  fs::rename(moved, Source());
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << out2.str();
  EXPECT_NE(out2.str().find("resumed from"), std::string::npos) << out2.str();
  EXPECT_NE(out2.str().find("--train-layers not used"), std::string::npos) << out2.str();
  EXPECT_NE(out2.str().find("training fc7, fc8; frozen conv1"), std::string::npos) << out2.str();
  const fs::path newest = fs::path(c.run.run_dir) / "checkpoints" / "ckpt-6";
  ASSERT_TRUE(fs::exists(newest / "model.index")) << "no step 6 after the second epoch";
  const std::map<std::string, Tensor> ckpt = ReadCheckpoint(newest / "model");
  for (const auto& [name, value] : source) {
    if (Frozen(name, trained)) {
      EXPECT_TRUE(BitIdentical(ckpt.at(name), value)) << "frozen " << name << " changed";
    }
  }
  EXPECT_FALSE(BitIdentical(ckpt.at("fc7/weights"), source.at("fc7/weights")));
  Result<TrainConfig> saved = LoadTrainConfig(c.run.run_dir);
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  EXPECT_EQ(saved->fine_tune.train_layers, trained);
  EXPECT_EQ(saved->recipe.epochs, 2);
}

TEST_F(FineTuning, ABadSourceIsRefusedNamingItsPathAndLeavesNoRunFolder) {
  fs::create_directories(Root() / "not_a_run");
  const fs::path damaged = Root() / "damaged";
  fs::copy(Source(), damaged, fs::copy_options::recursive);
  fs::resize_file(damaged / "checkpoints" / "best" / "model.data-00000-of-00001", 100);
  for (const fs::path& bad : {Root() / "no_such_folder", Root() / "not_a_run", damaged}) {
    TrainConfig c = Config("refused", {});
    c.fine_tune.init_from = bad.string();
    std::ostringstream out;
    const Status st = Train(c, false, {}, nullptr, out);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find(bad.string()), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("--init-from"), std::string::npos) << st.message();
    EXPECT_FALSE(fs::exists(c.run.run_dir)) << "a run folder was made for " << bad;
  }
}

TEST_F(FineTuning, AFlagThatContradictsTheSourceIsRefused) {
  struct Case {
    const char* flag;
    void (*set)(TrainConfig&);
    const char* expected;
  };
  const Case cases[] = {
      {"--crop", [](TrainConfig& c) { c.data.crop = 99; }, "--crop asks for input (crop) 99, but --init-from "},
      {"--per-pixel-mean", [](TrainConfig& c) { c.data.per_pixel_mean = true; }, "has the per-channel mean"},
      {"--lrn", [](TrainConfig& c) { c.model.lrn = false; }, "--lrn/--no-lrn asks for LRN off"},
  };
  for (const Case& k : cases) {
    TrainConfig c = Config("contradicted", {});
    k.set(c);
    TrainOverrides overrides;
    overrides.given = {"--data", k.flag};
    std::ostringstream out;
    const Status st = Train(c, false, overrides, nullptr, out);
    ASSERT_FALSE(st.ok()) << k.flag;
    EXPECT_EQ(st.code(), StatusCode::kBadInput);
    EXPECT_NE(st.message().find(k.expected), std::string::npos) << st.message();
    EXPECT_FALSE(fs::exists(c.run.run_dir));
  }
  // The same value as the source's is no contradiction.
  TrainConfig same = Config("same_crop", {});
  same.data.crop = 67;
  TrainOverrides overrides;
  overrides.given = {"--crop"};
  std::ostringstream out;
  EXPECT_TRUE(TrainingRun::Open(same, false, overrides, nullptr, out).ok());
}

TEST_F(FineTuning, DataParallelFineTuningIsRefused) {
  TrainConfig c = Config("cluster", {"fc8"});
  c.fine_tune.init_from.clear();  // --train-layers alone is refused too
  c.cluster.workers = {"127.0.0.1:1", "127.0.0.1:2"};
  std::ostringstream out;
  const Status st = Train(c, false, {}, nullptr, out);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not supported with data-parallel training"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace alexnet::train
