// `alexnet import torchvision` end to end, against PyTorch itself: torchvision's AlexNet with
// random He-scaled weights saved by Debian's PyTorch in both torch.save formats and as
// .safetensors (torchvision_probe.py make), imported, and compared with PyTorch's forward pass in
// eval mode on the same photos (torchvision_probe.py forward: centre 224 crop at offset 16,
// torchvision's normalisation). One process (one CTest entry): the files and imports are shared.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "data/decode.h"
#include "data/preprocess.h"
#include "train/trained_model.h"
#include "../train/run_command.h"

namespace alexnet {
namespace {

namespace fs = std::filesystem;
using testing::Q;
using testing::ReadFloats;
using testing::Ran;
using testing::RunCommand;
using testing::Shell;

constexpr int kImages = 6;
constexpr int kClasses = 1000;


const char* const kFormats[] = {"alexnet.pth", "alexnet_legacy.pth", "alexnet.safetensors"};

class TorchvisionImport : public ::testing::Test {
 protected:
  static fs::path dir_;
  static std::vector<Ran> imports_;

  static fs::path Files() { return dir_ / "files"; }
  static fs::path RunDir(const std::string& file) { return dir_ / "runs" / fs::path(file).stem().concat(fs::path(file).extension().string().substr(1)); }
  static std::string Images() {
    std::string s;
    for (int i = 0; i < kImages; ++i) s += " " + Q(Files() / "images" / ("photo_" + std::to_string(i) + ".png"));
    return s;
  }
  static std::string Probe() { return std::string("/usr/bin/python3 ") + TORCHVISION_PROBE; }
  static Ran Import(const fs::path& weights, const fs::path& run) {
    return Shell(std::string(ALEXNET_BIN) + " import torchvision --weights " + Q(weights) + " --labels " +
                 Q(Files() / "imagenet_classes.txt") + " --run " + Q(run));
  }

  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("alexnet_torchvision_import_" + std::to_string(::getpid()));
    fs::create_directories(Files());
    const Ran made = Shell(Probe() + " make " + Q(Files()) + " --images " + std::to_string(kImages));
    ASSERT_EQ(made.exit, 0) << "python3-torch and python3-torchvision (scripts/setup.sh) are needed:\n" << made.output;
    for (const char* f : kFormats) imports_.push_back(Import(Files() / f, RunDir(f)));
    const Ran forward = Shell(Probe() + " forward " + Q(Files() / "alexnet.pth") + " " + Q(dir_ / "torch") + Images());
    ASSERT_EQ(forward.exit, 0) << forward.output;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void SetUp() override {
    for (const Ran& r : imports_) ASSERT_EQ(r.exit, 0) << r.output;
  }
  static void ExpectNothingLeft(const fs::path& run) {
    EXPECT_FALSE(fs::exists(run)) << run;
    EXPECT_FALSE(fs::exists(run.string() + ".importing")) << run;
  }
};

fs::path TorchvisionImport::dir_;
std::vector<Ran> TorchvisionImport::imports_;

// predict --json against PyTorch's softmax: the same top 5 in the same order, each probability
// within 1e-4; for each file format, and for the import exported as a SavedModel (224 x 224, 1000
// classes, torchvision's normalisation folded into conv1) run with --model.
TEST_F(TorchvisionImport, PredictGivesPyTorchsTop5AndProbabilities) {
  const std::vector<float> prob = ReadFloats(dir_ / "torch" / "prob.f32");
  ASSERT_EQ(prob.size(), std::size_t(kImages) * kClasses);
  std::vector<std::pair<std::string, std::string>> models;  // (what, predict's model option)
  for (const char* f : kFormats) models.emplace_back(f, "--run " + Q(RunDir(f)));
  const fs::path saved = dir_ / "models" / "torchvision" / "1";
  const Ran exported = Shell(std::string(ALEXNET_BIN) + " export --format saved_model --run " +
                             Q(RunDir(kFormats[0])) + " --output " + Q(saved));
  ASSERT_EQ(exported.exit, 0) << exported.output;
  models.emplace_back("SavedModel of the alexnet.pth import", "--model " + Q(saved));
  for (const auto& [f, option] : models) {
    const Ran predicted = Shell(std::string(ALEXNET_BIN) + " predict --json --top 5 " + option + Images());
    ASSERT_EQ(predicted.exit, 0) << predicted.output;
    const nlohmann::json ours = nlohmann::json::parse(predicted.output, nullptr, false);
    ASSERT_FALSE(ours.is_discarded()) << predicted.output;
    double worst = 0;
    for (int i = 0; i < kImages; ++i) {
      const float* p = &prob[static_cast<std::size_t>(i) * kClasses];
      std::vector<int> order(kClasses);
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + 5, order.end(), [&](int a, int b) { return p[a] > p[b]; });
      for (std::size_t k = 0; k < 5; ++k) {
        const nlohmann::json& t = ours[static_cast<std::size_t>(i)]["top"][k];
        EXPECT_EQ(t["index"].get<int>(), order[k]) << f << ", image " << i << ", rank " << k + 1;
        const double d = std::abs(t["probability"].get<double>() - p[order[k]]);
        worst = std::max(worst, d);
        EXPECT_LT(d, 1e-4) << f << ", image " << i << ", rank " << k + 1;
      }
    }
    std::cout << "  " << f << ": top-5 as PyTorch's for " << kImages << " images; largest probability difference "
              << worst << "\n";
  }
}

// pool5 against model.features (N x 256 x 6 x 6) and fc7 against classifier[5], relative to the
// layer's largest value.
TEST_F(TorchvisionImport, ActivationsMatchPyTorchs) {
  auto model = train::TrainedModel::Open(RunDir(kFormats[0]).string(), "");
  ASSERT_TRUE(model.ok()) << model.status().message();
  train::TrainedModel& m = **model;
  const int C = m.config().data.crop;
  ASSERT_EQ(C, 224);
  tensorflow::Tensor x(tensorflow::DT_FLOAT, tensorflow::TensorShape({kImages, C, C, 3}));
  for (int i = 0; i < kImages; ++i) {
    auto rgb = data::DecodeImageFile((Files() / "images" / ("photo_" + std::to_string(i) + ".png")).string());
    ASSERT_TRUE(rgb.ok());
    ASSERT_TRUE(data::PreprocessEval(*rgb, m.preprocess(), m.normalization(),
                                     x.flat<float>().data() + static_cast<std::ptrdiff_t>(i) * C * C * 3)
                    .ok());
  }
  std::vector<std::pair<std::string, tensorflow::Tensor>> stages;
  ASSERT_TRUE(m.session()->Stages(x, &stages).ok());
  for (const auto& [ours, theirs] : std::vector<std::pair<std::string, std::string>>{{"pool5", "features"}, {"fc7", "fc7"}}) {
    const auto it = std::find_if(stages.begin(), stages.end(), [&](const auto& s) { return s.first == ours; });
    ASSERT_NE(it, stages.end());
    const tensorflow::Tensor& t = it->second;
    const std::vector<float> pt = ReadFloats(dir_ / "torch" / (theirs + ".f32"));
    ASSERT_EQ(static_cast<int64_t>(pt.size()), t.NumElements()) << ours;
    const bool maps = t.dims() == 4;
    const int64_t H = maps ? t.dim_size(1) : 1, W = maps ? t.dim_size(2) : 1, Ch = t.dim_size(t.dims() - 1);
    const float* o = t.flat<float>().data();
    double largest = 0, worst = 0;
    for (float v : pt) largest = std::max(largest, double(std::abs(v)));
    for (int64_t n = 0; n < kImages; ++n)
      for (int64_t c = 0; c < Ch; ++c)
        for (int64_t y = 0; y < H; ++y)
          for (int64_t xx = 0; xx < W; ++xx) {
            worst = std::max(worst, std::abs(double(o[((n * H + y) * W + xx) * Ch + c]) -
                                             pt[static_cast<std::size_t>(((n * Ch + c) * H + y) * W + xx)]));
          }
    std::cout << "  " << ours << " vs PyTorch's " << theirs << ": largest difference " << worst << " of values up to "
              << largest << " (relative " << worst / largest << ", tolerance 1e-5)\n";
    EXPECT_GT(largest, 0.1);
    EXPECT_LT(worst / largest, 1e-5) << ours;
  }
}

TEST_F(TorchvisionImport, EveryFileFormatGivesTheSameRun) {
  std::vector<std::vector<std::pair<std::string, tensorflow::Tensor>>> params;
  for (const char* f : kFormats) {
    auto m = train::TrainedModel::Open(RunDir(f).string(), "");
    ASSERT_TRUE(m.ok()) << m.status().message();
    params.emplace_back();
    ASSERT_TRUE((*m)->session()->ReadParameters(&params.back()).ok());
  }
  for (std::size_t k = 1; k < params.size(); ++k) {
    ASSERT_EQ(params[k].size(), params[0].size());
    for (std::size_t i = 0; i < params[0].size(); ++i) {
      EXPECT_EQ(params[k][i].second.tensor_data(), params[0][i].second.tensor_data()) << kFormats[k] << " " << params[0][i].first;
    }
  }
  std::ifstream in(RunDir(kFormats[0]) / "config.json");
  const nlohmann::json c = nlohmann::json::parse(in);
  EXPECT_EQ(c["model"]["architecture"], "torchvision");
  EXPECT_EQ(c["model"]["input_size"], 224);
  EXPECT_EQ(c["imported"]["format"], "torchvision");
  const Ran summary = Shell(std::string(ALEXNET_BIN) + " summary --run " + Q(RunDir(kFormats[0])));
  EXPECT_NE(summary.output.find("61,100,840"), std::string::npos) << summary.output;
}

// Fine-tuning from the import keeps torchvision's table and its 224 input.
TEST_F(TorchvisionImport, FineTuningKeepsTheTorchvisionTable) {
  for (int c = 0; c < 2; ++c) {
    fs::create_directories(dir_ / "mine" / ("class" + std::to_string(c)));
    for (int i = 0; i < 4; ++i) {
      fs::copy_file(Files() / "images" / ("photo_" + std::to_string(c) + ".png"),
                    dir_ / "mine" / ("class" + std::to_string(c)) / ("p" + std::to_string(i) + ".png"));
    }
  }
  const Ran tuned = Shell(std::string(ALEXNET_BIN) + " train --data " + Q(dir_ / "mine") + " --init-from " +
                          Q(RunDir(kFormats[0])) + " --train-layers fc8 --epochs 1 --batch 4 --val-fraction 0.25 --run " +
                          Q(dir_ / "runs" / "mine"));
  ASSERT_EQ(tuned.exit, 0) << tuned.output;
  EXPECT_NE(tuned.output.find("input 224 x 224"), std::string::npos) << tuned.output;
  // 61,100,840 - fc8's 4,097,000 + 4,096 x 2 + 2
  EXPECT_NE(tuned.output.find("57,012,034 parameters"), std::string::npos) << tuned.output;
  const Ran other = Shell(std::string(ALEXNET_BIN) + " train --data " + Q(dir_ / "mine") + " --init-from " +
                          Q(RunDir(kFormats[0])) + " --architecture alexnet --epochs 1 --run " + Q(dir_ / "runs" / "other_table"));
  EXPECT_EQ(other.exit, 1) << other.output;
  EXPECT_NE(other.output.find("torchvision table"), std::string::npos) << other.output;
}

TEST_F(TorchvisionImport, RefusesOtherNetworksAndDamagedFiles) {
  // A state_dict of another network: a name torchvision's AlexNet has not, and a shape it has not.
  const fs::path other = dir_ / "other.pth", wide = dir_ / "wide.pth";
  const Ran made = Shell("/usr/bin/python3 -c \"import torch, torchvision; "
                         "torch.save({'features.0.weight': torch.zeros(64, 3, 11, 11), 'head.weight': torch.zeros(2)}, '" +
                         other.string() + "'); sd = torchvision.models.alexnet().state_dict(); "
                         "sd['features.0.weight'] = torch.zeros(96, 3, 11, 11); torch.save(sd, '" + wide.string() + "')\"");
  ASSERT_EQ(made.exit, 0) << made.output;
  const Ran r1 = Import(other, dir_ / "runs" / "other");
  EXPECT_EQ(r1.exit, 1) << r1.output;
  EXPECT_NE(r1.output.find("head.weight"), std::string::npos) << r1.output;
  ExpectNothingLeft(dir_ / "runs" / "other");
  const Ran r2 = Import(wide, dir_ / "runs" / "wide");
  EXPECT_EQ(r2.exit, 1) << r2.output;
  EXPECT_NE(r2.output.find("features.0.weight has shape 96 x 3 x 11 x 11"), std::string::npos) << r2.output;
  ExpectNothingLeft(dir_ / "runs" / "wide");
  // Cut files of each format.
  for (const char* f : kFormats) {
    const fs::path cut = dir_ / (std::string("cut_") + f);
    fs::copy_file(Files() / f, cut);
    fs::resize_file(cut, fs::file_size(cut) / 2);
    const fs::path run = dir_ / "runs" / ("cut_" + std::string(f));
    const Ran r = Import(cut, run);
    EXPECT_EQ(r.exit, 1) << f << "\n" << r.output;
    EXPECT_NE(r.output.find(cut.string()), std::string::npos) << r.output;
    ExpectNothingLeft(run);
    fs::remove(cut);
  }
}

}  // namespace
}  // namespace alexnet
