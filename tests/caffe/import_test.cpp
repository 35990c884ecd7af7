// `alexnet import caffe` end to end, on Caffe files of bvlc_alexnet's size and formats with random
// He-scaled weights (tests/caffe/caffe_fixture.cpp), compared with OpenCV's DNN module running the
// same files (caffe_forward_probe.cpp): predictions, the activations of five layers, the legacy
// V1 format, the refusals of other networks and damaged files, the record, the peak memory. One
// process (one CTest entry): the tests share the files and imports made in SetUpTestSuite.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <numeric>
#include <regex>
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


class CaffeImport : public ::testing::Test {
 protected:
  static fs::path dir_;
  static std::map<std::string, Ran> imports_;  // "bgr", "mean_file", "v1"

  static fs::path Files() { return dir_ / "files"; }
  static fs::path RunDir(const std::string& name) { return dir_ / "runs" / name; }
  static std::string Images() {
    std::string s;
    for (int i = 0; i < kImages; ++i) s += " " + Q(Files() / "images" / ("photo_" + std::to_string(i) + ".png"));
    return s;
  }
  static Ran Import(const std::string& prototxt, const std::string& weights, const std::string& mean,
                    const fs::path& run, const std::string& labels = "synset_words.txt") {
    return Shell(std::string(ALEXNET_BIN) + " import caffe --prototxt " + Q(Files() / prototxt) + " --weights " +
               Q(Files() / weights) + " --labels " + Q(Files() / labels) + " " + mean + " --run " + Q(run));
  }
  static std::string MeanFileFlag() { return "--mean-file " + Q(Files() / "imagenet_mean.binaryproto"); }

  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("alexnet_caffe_import_" + std::to_string(::getpid()));
    fs::create_directories(Files());
    const Ran fixture = Shell(std::string(CAFFE_FIXTURE) + " --out " + Q(Files()) + " --images " +
                            std::to_string(kImages) + " --classes " + std::to_string(kClasses));
    ASSERT_EQ(fixture.exit, 0) << fixture.output;
    imports_["bgr"] = Import("deploy.prototxt", "bvlc_alexnet.caffemodel", "--mean-bgr 104,117,123", RunDir("bgr"));
    imports_["mean_file"] = Import("deploy.prototxt", "bvlc_alexnet.caffemodel", MeanFileFlag(), RunDir("mean_file"));
    imports_["v1"] = Import("deploy_v1.prototxt", "bvlc_alexnet_v1.caffemodel", "--mean-bgr 104,117,123", RunDir("v1"));
    for (const auto& [name, probe_mean] :
         std::map<std::string, std::string>{{"bgr", "--mean-bgr 104,117,123"},
                                            {"mean_file", "--mean-image " + Q(Files() / "mean_bgr_chw.f32")}}) {
      fs::create_directories(dir_ / ("probe_" + name));
      const Ran probe = Shell(std::string(CAFFE_FORWARD_PROBE) + " --prototxt " + Q(Files() / "deploy.prototxt") +
                            " --weights " + Q(Files() / "bvlc_alexnet.caffemodel") + " --out " +
                            Q(dir_ / ("probe_" + name)) + " " + probe_mean + " --" + Images());
      ASSERT_EQ(probe.exit, 0) << probe.output;
    }
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void SetUp() override {
    for (const auto& [name, r] : imports_) ASSERT_EQ(r.exit, 0) << name << ": " << r.output;
  }

  // No run folder and no staging folder left.
  static void ExpectNothingLeft(const fs::path& run) {
    EXPECT_FALSE(fs::exists(run)) << run;
    EXPECT_FALSE(fs::exists(run.string() + ".importing")) << run;
  }
};

fs::path CaffeImport::dir_;
std::map<std::string, Ran> CaffeImport::imports_;

// predict --json on the imported run against OpenCV's softmax of the same files: the same top 5
// in the same order, every probability within 1e-4.
void ExpectPredictionsLikeOpenCV(const fs::path& run, const fs::path& probe, const std::string& images) {
  const Ran predicted = Shell(std::string(ALEXNET_BIN) + " predict --json --top 5 --run " + Q(run) + images);
  ASSERT_EQ(predicted.exit, 0) << predicted.output;
  const nlohmann::json ours = nlohmann::json::parse(predicted.output, nullptr, false);
  ASSERT_FALSE(ours.is_discarded()) << predicted.output;
  const std::vector<float> prob = ReadFloats(probe / "prob.f32");
  ASSERT_EQ(prob.size(), std::size_t(kImages) * kClasses);
  ASSERT_EQ(ours.size(), std::size_t(kImages));
  double worst = 0, top1 = 0;
  for (int i = 0; i < kImages; ++i) {
    const float* p = &prob[static_cast<std::size_t>(i) * kClasses];
    std::vector<int> order(kClasses);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + 5, order.end(), [&](int a, int b) { return p[a] > p[b]; });
    top1 = std::max(top1, double(p[order[0]]));
    for (int k = 0; k < 5; ++k) {
      const nlohmann::json& t = ours[static_cast<std::size_t>(i)]["top"][static_cast<std::size_t>(k)];
      EXPECT_EQ(t["index"].get<int>(), order[static_cast<std::size_t>(k)]) << "image " << i << ", rank " << k + 1;
      const double d = std::abs(t["probability"].get<double>() - p[order[static_cast<std::size_t>(k)]]);
      worst = std::max(worst, d);
      EXPECT_LT(d, 1e-4) << "image " << i << ", rank " << k + 1;
    }
  }
  std::cout << "  " << run.filename().string() << ": top-5 as OpenCV's for " << kImages
            << " images; largest probability difference " << worst << " (highest top-1 " << top1 << ")\n";
}

TEST_F(CaffeImport, PredictGivesOpenCVsTop5AndProbabilities) {
  ExpectPredictionsLikeOpenCV(RunDir("bgr"), dir_ / "probe_bgr", Images());
}

TEST_F(CaffeImport, MeanImageRunGivesOpenCVsTop5AndProbabilities) {
  ExpectPredictionsLikeOpenCV(RunDir("mean_file"), dir_ / "probe_mean_file", Images());
}

// Our stages (N x H x W x C) against OpenCV's layer outputs (N x C x H x W): the largest
// difference relative to the layer's largest value.
TEST_F(CaffeImport, ActivationsMatchOpenCVsLayers) {
  auto model = train::TrainedModel::Open(RunDir("bgr").string(), "");
  ASSERT_TRUE(model.ok()) << model.status().message();
  train::TrainedModel& m = **model;
  const int C = m.config().data.crop;
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
  // Ours, OpenCV's (Caffe's ReLUs work in place: relu1's output is what Caffe calls conv1), and
  // the tolerance relative to the layer's largest value.
  const std::vector<std::tuple<std::string, std::string, double>> pairs = {
      {"conv1", "relu1", 1e-5}, {"lrn1", "norm1", 1e-5}, {"pool2", "pool2", 1e-5}, {"conv5", "relu5", 1e-5}, {"fc7", "relu7", 1e-5}};
  for (const auto& [ours, theirs, tolerance] : pairs) {
    const auto it = std::find_if(stages.begin(), stages.end(), [&](const auto& s) { return s.first == ours; });
    ASSERT_NE(it, stages.end()) << ours;
    const tensorflow::Tensor& t = it->second;
    const std::vector<float> cv = ReadFloats(dir_ / "probe_bgr" / (theirs + ".f32"));
    ASSERT_EQ(static_cast<int64_t>(cv.size()), t.NumElements()) << ours;
    const bool maps = t.dims() == 4;
    const int64_t H = maps ? t.dim_size(1) : 1, W = maps ? t.dim_size(2) : 1, Ch = t.dim_size(t.dims() - 1);
    const float* o = t.flat<float>().data();
    double largest = 0, worst = 0;
    for (float v : cv) largest = std::max(largest, double(std::abs(v)));
    for (int64_t n = 0; n < kImages; ++n)
      for (int64_t c = 0; c < Ch; ++c)
        for (int64_t y = 0; y < H; ++y)
          for (int64_t xx = 0; xx < W; ++xx) {
            const double a = o[((n * H + y) * W + xx) * Ch + c], b = cv[static_cast<std::size_t>(((n * Ch + c) * H + y) * W + xx)];
            worst = std::max(worst, std::abs(a - b));
          }
    std::cout << "  " << ours << " vs OpenCV's " << theirs << ": largest difference " << worst << " of values up to "
              << largest << " (relative " << worst / largest << ", tolerance " << tolerance << ")\n";
    EXPECT_GT(largest, 1.0) << ours << ": the comparison needs activations of some size";
    EXPECT_LT(worst / largest, tolerance) << ours;
  }
}

TEST_F(CaffeImport, LegacyV1FormatGivesTheSameRun) {
  auto a = train::TrainedModel::Open(RunDir("bgr").string(), ""), b = train::TrainedModel::Open(RunDir("v1").string(), "");
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<std::pair<std::string, tensorflow::Tensor>> pa, pb;
  ASSERT_TRUE((*a)->session()->ReadParameters(&pa).ok());
  ASSERT_TRUE((*b)->session()->ReadParameters(&pb).ok());
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].first, pb[i].first);
    EXPECT_EQ(pa[i].second.tensor_data(), pb[i].second.tensor_data()) << pa[i].first;
  }
}

TEST_F(CaffeImport, RunFolderRecordsTheSourceAndCaffesConventions) {
  std::ifstream in(RunDir("bgr") / "config.json");
  const nlohmann::json c = nlohmann::json::parse(in);
  const nlohmann::json& w = c["imported"]["weights"];
  EXPECT_EQ(w["file"], "bvlc_alexnet.caffemodel");
  EXPECT_EQ(w["bytes"].get<uint64_t>(), fs::file_size(Files() / "bvlc_alexnet.caffemodel"));
  int status = 0;
  const std::string sha = RunCommand("sha256sum " + Q(Files() / "bvlc_alexnet.caffemodel"), &status);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(w["sha256"].get<std::string>(), sha.substr(0, 64));
  EXPECT_EQ(c["imported"]["groups"], nlohmann::json({1, 2, 1, 2, 2}));
  // Caffe's LRN (k = 1, alpha 1e-4 over local_size 5) in TensorFlow's terms; input 227, 0..255.
  EXPECT_EQ(c["model"]["lrn_depth_radius"], 2);
  EXPECT_FLOAT_EQ(c["model"]["lrn_bias"].get<float>(), 1.0f);
  EXPECT_FLOAT_EQ(c["model"]["lrn_alpha"].get<float>(), 2e-5f);
  EXPECT_FLOAT_EQ(c["model"]["lrn_beta"].get<float>(), 0.75f);
  EXPECT_EQ(c["model"]["num_classes"], kClasses);
  EXPECT_EQ(c["model"]["standardize_input"], false);
  std::ifstream names(RunDir("bgr") / "classes.txt");
  std::string first;
  std::getline(names, first);
  EXPECT_EQ(first, "class 0, number 0");  // "n10000000 class 0, number 0" without its WordNet id
  std::ifstream stats_in(RunDir("bgr") / "color_stats.json");
  const nlohmann::json stats = nlohmann::json::parse(stats_in);
  EXPECT_EQ(stats["mean_rgb"], nlohmann::json({123.0, 117.0, 104.0}));
  std::ifstream mean_cfg(RunDir("mean_file") / "config.json");
  EXPECT_TRUE(nlohmann::json::parse(mean_cfg)["data"]["per_pixel_mean"].get<bool>());
}

// OpenCV 4.6 reads Caffe's LRN k as 1 whatever the prototxt says; the import reads it itself.
TEST_F(CaffeImport, LrnKIsReadFromThePrototxt) {
  std::ifstream in(Files() / "deploy.prototxt");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string beta = "    beta: 0.75\n";
  for (std::size_t at = text.find(beta); at != std::string::npos; at = text.find(beta, at + beta.size())) {
    text.insert(at + beta.size(), "    k: 2\n");
  }
  std::ofstream(Files() / "deploy_k2.prototxt") << text;
  const fs::path run = dir_ / "runs" / "k2";
  const Ran r = Import("deploy_k2.prototxt", "bvlc_alexnet.caffemodel", "--mean-bgr 104,117,123", run);
  ASSERT_EQ(r.exit, 0) << r.output;
  std::ifstream config(run / "config.json");
  const nlohmann::json c = nlohmann::json::parse(config);
  EXPECT_FLOAT_EQ(c["model"]["lrn_bias"].get<float>(), 2.0f);
  EXPECT_FLOAT_EQ(c["model"]["lrn_alpha"].get<float>(), 2e-5f);
  EXPECT_EQ(r.output.find("libprotobuf"), std::string::npos) << r.output;  // no parser noise
}

TEST_F(CaffeImport, PeakMemoryStaysBelowThreeTimesTheCaffemodel) {
  const std::smatch m = [&] {
    std::smatch found;
    static const std::regex kLine("peak memory: reader ([0-9]+) MiB, writer ([0-9]+) MiB");
    std::regex_search(imports_["bgr"].output, found, kLine);
    return found;
  }();
  ASSERT_EQ(m.size(), 3u) << imports_["bgr"].output;
  const double model_mib = double(fs::file_size(Files() / "bvlc_alexnet.caffemodel")) / (1 << 20);
  const double reader = std::stod(m[1]), writer = std::stod(m[2]);
  std::cout << "  peak memory: reader " << reader << " MiB, writer " << writer << " MiB, caffemodel " << model_mib
            << " MiB (" << reader / model_mib << "x, " << writer / model_mib << "x)\n";
  EXPECT_LT(reader, 3 * model_mib);
  EXPECT_LT(writer, 3 * model_mib);
}

TEST_F(CaffeImport, OtherCommandsReadTheImportedRun) {
  const std::string run = " --run " + Q(RunDir("bgr"));
  for (const std::string& cmd : {"summary" + run, "time --batch 2 --iterations 1 --traced 0" + run,
                                 "inspect --text" + run + " " + Q(Files() / "images" / "photo_0.png"),
                                 "filters --out " + Q(dir_ / "conv1.png") + run, "export" + run}) {
    const Ran r = Shell(std::string(ALEXNET_BIN) + " " + cmd);
    EXPECT_EQ(r.exit, 0) << cmd << "\n" << r.output;
  }
  // eval on a list file of "path label" lines, as ILSVRC-2012's val.txt; labels here are the
  // classes OpenCV ranks first, so top-1 is 1.
  const std::vector<float> prob = ReadFloats(dir_ / "probe_bgr" / "prob.f32");
  std::ofstream list(dir_ / "val.txt");
  for (int i = 0; i < kImages; ++i) {
    const float* p = &prob[static_cast<std::size_t>(i) * kClasses];
    list << (Files() / "images" / ("photo_" + std::to_string(i) + ".png")).string() << " "
         << std::max_element(p, p + kClasses) - p << "\n";
  }
  list.close();
  const Ran eval = Shell(std::string(ALEXNET_BIN) + " eval --ten-crop --list " + Q(dir_ / "val.txt") + run);
  ASSERT_EQ(eval.exit, 0) << eval.output;
  EXPECT_NE(eval.output.find("centre-crop  top-1 error 0.0000"), std::string::npos) << eval.output;
  const Ran no_data = Shell(std::string(ALEXNET_BIN) + " eval" + run);
  EXPECT_EQ(no_data.exit, 1);
  EXPECT_NE(no_data.output.find("--list"), std::string::npos) << no_data.output;
  // Fine-tuning from it: two classes of photos, fc8 anew, only fc7 and fc8 trained.
  for (int c = 0; c < 2; ++c) {
    fs::create_directories(dir_ / "mine" / ("class" + std::to_string(c)));
    for (int i = 0; i < 4; ++i) {
      fs::copy_file(Files() / "images" / ("photo_" + std::to_string(c) + ".png"),
                    dir_ / "mine" / ("class" + std::to_string(c)) / ("p" + std::to_string(i) + ".png"));
    }
  }
  const Ran tuned = Shell(std::string(ALEXNET_BIN) + " train --data " + Q(dir_ / "mine") + " --init-from " +
                          Q(RunDir("bgr")) + " --train-layers fc7,fc8 --epochs 1 --batch 4 --val-fraction 0.25 --run " +
                          Q(dir_ / "runs" / "mine"));
  ASSERT_EQ(tuned.exit, 0) << tuned.output;
  EXPECT_NE(tuned.output.find("fc8: new weights (2 classes here, 1000 in"), std::string::npos) << tuned.output;
  EXPECT_NE(tuned.output.find("frozen conv1, conv2, conv3, conv4, conv5, fc6"), std::string::npos) << tuned.output;
}

// Another network: refused, naming the layer (and, with it, Caffe's and the table's shapes).
TEST_F(CaffeImport, RefusesNetworksThatAreNotTheSeedTables) {
  const std::map<std::string, std::string> layer = {{"conv2_kernel3", "conv2"}, {"no_norm2", "pool2"},
                                                    {"extra_conv6", "conv6"}, {"conv1_64", "conv1"},
                                                    {"caffenet", "pool1"}};
  for (const auto& [variant, named] : layer) {
    const Ran fixture = Shell(std::string(CAFFE_FIXTURE) + " --out " + Q(Files()) + " --variant " + variant + " --classes 10");
    ASSERT_EQ(fixture.exit, 0) << fixture.output;
    const fs::path run = dir_ / "runs" / ("refused_" + variant);
    const Ran r = Import("deploy_" + variant + ".prototxt", variant + ".caffemodel", "--mean-bgr 104,117,123", run);
    EXPECT_EQ(r.exit, 1) << variant << "\n" << r.output;
    EXPECT_NE(r.output.find("layer " + named + " ("), std::string::npos) << variant << "\n" << r.output;
    EXPECT_NE(r.output.find("deploy_" + variant + ".prototxt"), std::string::npos) << r.output;
    std::cout << "  " << variant << ": " << r.output;
    ExpectNothingLeft(run);
    fs::remove(Files() / (variant + ".caffemodel"));
  }
  // A mismatch of shapes prints both.
  const fs::path run = dir_ / "runs" / "refused_kernel";
  Shell(std::string(CAFFE_FIXTURE) + " --out " + Q(Files()) + " --variant conv2_kernel3 --classes 10");
  const Ran r = Import("deploy_conv2_kernel3.prototxt", "conv2_kernel3.caffemodel", "--mean-bgr 1,2,3", run);
  EXPECT_NE(r.output.find("3 x 3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("5 x 5"), std::string::npos) << r.output;
}

// Values OpenCV 4.6 divides by (a group or a stride of 0: SIGFPE inside OpenCV, found by
// fuzz_caffe_prototxt) and layer types the table does not have are refused, naming the file and
// the layer, before OpenCV builds a layer from them; with the full-size weights, so that every
// layer up to the bad one has its weights and OpenCV would reach it. And weights of another
// class count than the prototxt's: OpenCV's check, with the file and what to look at.
TEST_F(CaffeImport, RefusesGeometryOpenCVWouldDivideBy) {
  auto edited = [](const std::string& from, const std::string& name, const std::string& after,
                   const std::string& old_text, const std::string& new_text) {
    std::ifstream in(Files() / from);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t layer = text.find("name: \"" + after + "\"");
    const std::size_t at = text.find(old_text, layer);
    EXPECT_NE(layer, std::string::npos) << after;
    EXPECT_NE(at, std::string::npos) << old_text;
    if (at != std::string::npos) text.replace(at, old_text.size(), new_text);
    std::ofstream(Files() / name) << text;
    return name;
  };
  struct Case {
    std::string prototxt, weights, expected;
  };
  const std::vector<Case> cases = {
      {edited("deploy.prototxt", "group0.prototxt", "conv2", "group: 2", "group: 0"), "bvlc_alexnet.caffemodel",
       "layer conv2 (Convolution): group 0"},
      {edited("deploy.prototxt", "pool_stride0.prototxt", "pool2", "stride: 2", "stride: 0"),
       "bvlc_alexnet.caffemodel", "layer pool2 (Pooling): stride 0"},
      {edited("deploy_v1.prototxt", "v1_stride0.prototxt", "conv1", "stride: 4", "stride: 0"),
       "bvlc_alexnet_v1.caffemodel", "layer conv1 (Convolution): stride 0"},
      {edited("deploy.prototxt", "deconv.prototxt", "conv3", "type: \"Convolution\"", "type: \"Deconvolution\""),
       "bvlc_alexnet.caffemodel", "layer conv3 (Deconvolution): the seed table's AlexNet has no layer of this type"},
  };
  for (const Case& c : cases) {
    const fs::path run = dir_ / "runs" / ("refused_" + c.prototxt);
    const Ran r = Import(c.prototxt, c.weights, "--mean-bgr 104,117,123", run);
    EXPECT_EQ(r.exit, 1) << c.prototxt << "\n" << r.output;
    EXPECT_NE(r.output.find((Files() / c.prototxt).string() + ": " + c.expected), std::string::npos)
        << c.prototxt << "\n" << r.output;
    std::cout << "  " << c.prototxt << ": " << r.output;
    ExpectNothingLeft(run);
  }
  // Weights of another class count than the prototxt's fc8: OpenCV's own check, with our question.
  fs::create_directories(Files() / "ten");
  const Ran ten = Shell(std::string(CAFFE_FIXTURE) + " --out " + Q(Files() / "ten") + " --classes 10");
  ASSERT_EQ(ten.exit, 0) << ten.output;
  const fs::path run = dir_ / "runs" / "refused_ten";
  const Ran r = Import("deploy.prototxt", "ten/bvlc_alexnet.caffemodel", "--mean-bgr 104,117,123", run);
  EXPECT_EQ(r.exit, 1) << r.output;
  EXPECT_NE(r.output.find((Files() / "ten" / "bvlc_alexnet.caffemodel").string() +
                          ": OpenCV's DNN module failed on it (do its weights have the shapes " +
                          (Files() / "deploy.prototxt").string() + " gives its layers?)"),
            std::string::npos)
      << r.output;
  ExpectNothingLeft(run);
  fs::remove_all(Files() / "ten");
}

TEST_F(CaffeImport, DamagedFilesAreErrorsNamingTheFile) {
  const fs::path model = Files() / "bvlc_alexnet.caffemodel";
  const auto size = fs::file_size(model);
  // Truncated in the middle of fc6's weights, cut after 1 KiB, and bytes that are not protobuf.
  const std::vector<std::pair<std::string, std::uintmax_t>> cuts = {{"half", size / 2}, {"head", 1024}};
  for (const auto& [name, keep] : cuts) {
    const fs::path damaged = Files() / (name + ".caffemodel");
    fs::copy_file(model, damaged, fs::copy_options::overwrite_existing);
    fs::resize_file(damaged, keep);
    const fs::path run = dir_ / "runs" / ("damaged_" + name);
    const Ran r = Import("deploy.prototxt", damaged.filename().string(), "--mean-bgr 104,117,123", run);
    EXPECT_EQ(r.exit, 1) << name << "\n" << r.output;
    EXPECT_NE(r.output.find(damaged.string()), std::string::npos) << name << "\n" << r.output;
    ExpectNothingLeft(run);
    fs::remove(damaged);
  }
  {
    std::ofstream junk(Files() / "junk.caffemodel", std::ios::binary);
    for (int i = 0; i < 4096; ++i) junk.put(static_cast<char>((i * 7919) & 0xff));
  }
  const fs::path run = dir_ / "runs" / "junk";
  const Ran junk = Import("deploy.prototxt", "junk.caffemodel", "--mean-bgr 104,117,123", run);
  EXPECT_EQ(junk.exit, 1) << junk.output;
  EXPECT_NE(junk.output.find("junk.caffemodel"), std::string::npos) << junk.output;
  ExpectNothingLeft(run);
  // A mean image of the wrong size, a labels file of the wrong length.
  const fs::path small_mean_run = dir_ / "runs" / "small_mean";
  const Ran small_mean = Import("deploy.prototxt", "bvlc_alexnet.caffemodel",
                                "--mean-file " + Q(Files() / "imagenet_mean_100.binaryproto"), small_mean_run);
  EXPECT_EQ(small_mean.exit, 1) << small_mean.output;
  EXPECT_NE(small_mean.output.find("imagenet_mean_100.binaryproto"), std::string::npos) << small_mean.output;
  ExpectNothingLeft(small_mean_run);
  {
    std::ifstream in(Files() / "synset_words.txt");
    std::ofstream out(Files() / "short_words.txt");
    std::string line;
    for (int i = 0; i < kClasses - 1 && std::getline(in, line); ++i) out << line << "\n";
  }
  const fs::path labels_run = dir_ / "runs" / "short_labels";
  const Ran labels = Import("deploy.prototxt", "bvlc_alexnet.caffemodel", "--mean-bgr 104,117,123", labels_run, "short_words.txt");
  EXPECT_EQ(labels.exit, 1) << labels.output;
  EXPECT_NE(labels.output.find("short_words.txt: 999 class names"), std::string::npos) << labels.output;
  ExpectNothingLeft(labels_run);
  // An existing run is never overwritten.
  const Ran again = Import("deploy.prototxt", "bvlc_alexnet.caffemodel", "--mean-bgr 104,117,123", RunDir("bgr"));
  EXPECT_EQ(again.exit, 1);
  EXPECT_NE(again.output.find("exists already"), std::string::npos) << again.output;
  EXPECT_TRUE(fs::exists(RunDir("bgr") / "checkpoints" / "best" / "model.index"));
}

TEST_F(CaffeImport, UsageErrors) {
  const std::string base = std::string(ALEXNET_BIN) + " import caffe --prototxt " + Q(Files() / "deploy.prototxt") +
                           " --weights " + Q(Files() / "bvlc_alexnet.caffemodel") + " --labels " +
                           Q(Files() / "synset_words.txt") + " --run " + Q(dir_ / "runs" / "usage");
  EXPECT_EQ(Shell(base).exit, 2);  // no mean
  EXPECT_EQ(Shell(base + " --mean-bgr 104,117,123 " + MeanFileFlag()).exit, 2);
  EXPECT_EQ(Shell(base + " --mean-bgr 104,117").exit, 2);
  ExpectNothingLeft(dir_ / "runs" / "usage");
}

}  // namespace
}  // namespace alexnet
