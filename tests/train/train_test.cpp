// The tool on real (generated) images: training reaches high validation accuracy, eval of the
// saved checkpoint reproduces the numbers recorded during training, Python TensorFlow reads
// the checkpoint, OpenCV's DNN module runs the exported graph to the same probabilities, and
// predict handles bad files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/loader.h"
#include "data/preprocess.h"
#include "data/ten_crop.h"
#include "model/freeze.h"
#include "model/precision.h"
#include "trained_run.h"
#include "train/checkpoint.h"
#include "train/commands.h"
#include "train/evaluate.h"
#include "train/loader_options.h"
#include "train/open_dataset.h"
#include "util/files.h"
#include "train/predict.h"
#include "train/trained_model.h"
#include "train/schedule.h"
#include "train/trainer.h"

namespace alexnet::train {
namespace {

namespace fs = std::filesystem;

using alexnet::testing::RunCommand;
using alexnet::testing::RunPython;
using alexnet::testing::SmallConfig;
using alexnet::testing::TrainedRun;


TEST_F(TrainedRun, ReachesNinetyPercentValidationAccuracy) {
  ASSERT_EQ(status_, 0);
  for (const char* f : {"config.json", "classes.txt", "color_stats.json", "metrics.csv"}) {
    EXPECT_TRUE(fs::exists(run() / f)) << f;
  }
  Result<std::string> best = ReadFile((run() / "checkpoints/best/state.json").string());
  ASSERT_TRUE(best.ok()) << best.status().message();
  const TrainState s = *TrainStateFromJson(nlohmann::json::parse(*best));
  std::printf("best validation top-1: %.3f at step %lld\n", s.best_val_top1, static_cast<long long>(s.step));
  EXPECT_GE(s.best_val_top1, 0.90);
}

TEST_F(TrainedRun, EvalOfTheBestCheckpointReproducesTrainingValidation) {
  ASSERT_EQ(status_, 0);
  Result<std::string> text = ReadFile((run() / "checkpoints/best/state.json").string());
  ASSERT_TRUE(text.ok()) << text.status().message();
  const TrainState s = *TrainStateFromJson(nlohmann::json::parse(*text));
  auto opened = TrainedModel::Open(run().string(), "");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<TrainedModel> m = std::move(opened).value();
  EXPECT_NE(m->checkpoint_prefix().find("best"), std::string::npos);
  auto ds = OpenDataset(m->config().data, Split::kVal);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  auto loader = data::Loader::Create(ds.value(), EvalLoaderOptions(m->config(), m->stats(), false, 32));
  ASSERT_TRUE(loader.ok());
  const Result<EvalResult> evaluated = Evaluate(m->session(), loader.value().get(), 4, EvalProgress::kNone);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status().message();
  const EvalResult& r = evaluated.value();
  EXPECT_EQ(r.images, 40);  // 25 % of 160
  EXPECT_DOUBLE_EQ(r.top1_accuracy(), s.best_val_top1);
  // The metrics CSV recorded the same number for that step.
  std::ifstream csv(run() / "metrics.csv");
  std::string line;
  bool found = false;
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    if (f.size() > 5 && f[1] == std::to_string(s.step)) {
      EXPECT_NEAR(std::stod(f[5]), r.top1_accuracy(), 1e-6);
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

// The fp32-trained model evaluated in bf16 classifies the validation images as in fp32, but for
// an image or two near a decision boundary (bf16 rounds each product to 8 bits of mantissa).
TEST_F(TrainedRun, EvalInBf16AgreesWithFp32) {
  ASSERT_EQ(status_, 0);
  if (!model::CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 arithmetic";
  auto top1 = [](std::optional<model::Precision> precision) -> double {
    auto opened = TrainedModel::Open(run().string(), "", SessionChoice{0, precision});
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    if (!opened.ok()) return -1;
    std::unique_ptr<TrainedModel> m = std::move(opened).value();
    EXPECT_EQ(m->session()->config().model.precision, precision.value_or(model::Precision::kFp32));
    auto ds = OpenDataset(m->config().data, Split::kVal);
    auto loader = data::Loader::Create(ds.value(), EvalLoaderOptions(m->config(), m->stats(), false, 20));
    const Result<EvalResult> r = Evaluate(m->session(), loader.value().get(), m->config().model.num_classes,
                                          EvalProgress::kNone);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->top1_accuracy() : -1;
  };
  const double fp32 = top1(std::nullopt), bf16 = top1(model::Precision::kBf16);
  EXPECT_GT(fp32, 0.5);
  EXPECT_NEAR(bf16, fp32, 2.0 / 40 + 1e-9);  // at most 2 of the 40 validation images differ
}

// `alexnet eval --ten-crop` against the ten crops predicted one image at a time here and
// averaged by hand; --batch 20 makes its passes 2 images of 10 crops.
TEST_F(TrainedRun, TenCropEvalAveragesTheTenCropsOfEachImage) {
  ASSERT_EQ(status_, 0);
  nlohmann::json report;
  ASSERT_EQ(RunEval("--split val --ten-crop --batch 20", "eval-ten", &report), "");
  const nlohmann::json ten = report.at("ten-crop");

  auto opened = TrainedModel::Open(run().string(), "");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<TrainedModel> m = std::move(opened).value();
  auto ds = OpenDataset(m->config().data, Split::kVal);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  const data::LoaderOptions o = EvalLoaderOptions(m->config(), m->stats(), true, 20);
  EXPECT_EQ(o.batch_size, 2);
  auto norm = data::MakeNormalization(m->stats().get(), o.preprocess);
  ASSERT_TRUE(norm.ok());
  const int crop = m->config().data.crop, classes = m->config().model.num_classes;
  double loss = 0;
  int correct = 0;
  for (std::size_t i = 0; i < ds.value()->size(); ++i) {
    tensorflow::Tensor crops(tensorflow::DT_FLOAT, {data::kTenCrops, crop, crop, 3});
    auto img = ds.value()->Load(i);
    ASSERT_TRUE(img.ok());
    ASSERT_TRUE(data::PreprocessTenCrops(*img, o.preprocess, *norm, crops.flat<float>().data()).ok());
    tensorflow::Tensor probs;
    ASSERT_TRUE(m->session()->Predict(crops, &probs).ok());
    std::vector<double> mean(static_cast<std::size_t>(classes), 0.0);
    for (int v = 0; v < data::kTenCrops; ++v) {
      for (int c = 0; c < classes; ++c) mean[c] += probs.matrix<float>()(v, c) / data::kTenCrops;
    }
    const int label = ds.value()->label(i);
    correct += std::max_element(mean.begin(), mean.end()) - mean.begin() == label;
    loss += -std::log(mean[label]);
  }
  const double n = static_cast<double>(ds.value()->size());
  EXPECT_EQ(ten.at("images").get<int>(), 40);
  EXPECT_DOUBLE_EQ(ten.at("top1_accuracy").get<double>(), correct / n);
  EXPECT_NEAR(ten.at("loss").get<double>(), loss / n, 1e-4);
}

// `alexnet eval --split train` measures the images the run trained on the way validation is
// measured (centre crop, no dropout): with --limit the first N of them, never more than training
// used.
TEST_F(TrainedRun, EvalTrainSplitIsTheRunsTrainingImages) {
  ASSERT_EQ(status_, 0);
  auto opened = TrainedModel::Open(run().string(), "");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  auto ds = OpenDataset(opened.value()->config().data, Split::kTrain);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  const int64_t n = static_cast<int64_t>(ds.value()->size());
  ASSERT_GT(n, 3);
  for (const int64_t limit : {int64_t{3}, n + 100}) {
    EvalRequest request;
    request.run_dir = run().string();
    request.split = Split::kTrain;
    request.limit = limit;
    request.out_dir = (root_ / ("eval-train-" + std::to_string(limit))).string();
    std::ostringstream log;
    const Result<nlohmann::json> evaluated = EvaluateRun(request, log);
    ASSERT_TRUE(evaluated.ok()) << evaluated.status().message();
    EXPECT_EQ(evaluated.value().at("centre-crop").at("images").get<int64_t>(), std::min(limit, n)) << log.str();
    EXPECT_NE(log.str().find("train"), std::string::npos) << log.str();
  }
}

// Evaluation with a limit (`alexnet eval --limit 7`, called here as the library function it
// runs) takes the first 7 images of the split: its top-1 against those images' centre crops
// predicted one at a time here. The eval.json it writes holds the same report.
TEST_F(TrainedRun, EvalLimitTakesTheFirstImagesOfTheSplit) {
  ASSERT_EQ(status_, 0);
  EvalRequest request;
  request.run_dir = run().string();
  request.split = Split::kVal;
  request.limit = 7;
  request.out_dir = (root_ / "eval-limit").string();
  std::ostringstream log;
  const Result<nlohmann::json> evaluated = EvaluateRun(request, log);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status().message();
  const nlohmann::json& report = evaluated.value();
  const Result<std::string> written = ReadFile(request.out_dir + "/eval.json");
  ASSERT_TRUE(written.ok()) << written.status().message();
  EXPECT_EQ(nlohmann::json::parse(*written), report);
  EXPECT_NE(log.str().find("centre-crop"), std::string::npos) << log.str();
  const nlohmann::json centre = report.at("centre-crop");

  auto opened = TrainedModel::Open(run().string(), "");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<TrainedModel> m = std::move(opened).value();
  auto ds = OpenDataset(m->config().data, Split::kVal);  // the whole split (40 images)
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  ASSERT_GT(ds.value()->size(), 7u);
  const data::LoaderOptions o = EvalLoaderOptions(m->config(), m->stats(), false, 1);
  auto norm = data::MakeNormalization(m->stats().get(), o.preprocess);
  ASSERT_TRUE(norm.ok());
  const int crop = m->config().data.crop;
  int correct = 0;
  for (std::size_t i = 0; i < 7; ++i) {
    tensorflow::Tensor x(tensorflow::DT_FLOAT, {1, crop, crop, 3});
    auto img = ds.value()->Load(i);
    ASSERT_TRUE(img.ok());
    ASSERT_TRUE(data::PreprocessEval(*img, o.preprocess, *norm, x.flat<float>().data()).ok());
    tensorflow::Tensor probs;
    ASSERT_TRUE(m->session()->Predict(x, &probs).ok());
    const auto row = probs.matrix<float>();
    int best = 0;
    for (int c = 1; c < m->config().model.num_classes; ++c) best = row(0, c) > row(0, best) ? c : best;
    correct += best == ds.value()->label(i);
  }
  EXPECT_EQ(centre.at("images").get<int>(), 7);
  EXPECT_DOUBLE_EQ(centre.at("top1_accuracy").get<double>(), correct / 7.0);
}

// A bit flipped in the middle of best/'s parameters (TensorFlow's CRC32C catches it) and a bit
// flipped in a newer state.json (it no longer parses): opening the run for eval/predict/export
// names and skips each and uses the newest checkpoint that restores; the files stay as they were.
TEST_F(TrainedRun, OpeningARunSkipsBitFlippedCheckpoints) {
  ASSERT_EQ(status_, 0);
  const fs::path copy = root_ / "bitflip-run";
  fs::remove_all(copy);
  fs::copy(run(), copy, fs::copy_options::recursive);
  auto flip = [](const fs::path& file, double where, unsigned char bit) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const std::streamoff at = static_cast<std::streamoff>(static_cast<double>(f.tellg()) * where);
    f.seekg(at);
    char c = 0;
    f.get(c);
    f.seekp(at);
    f.put(static_cast<char>(c ^ bit));
  };
  // The data file holds the parameters, then the momentum: a quarter in is a weight.
  flip(copy / "checkpoints/best/model.data-00000-of-00001", 0.25, 0x10);
  std::vector<long> steps;
  for (const auto& e : fs::directory_iterator(copy / "checkpoints")) {
    const std::string n = e.path().filename().string();
    if (n.rfind("ckpt-", 0) == 0) steps.push_back(std::stol(n.substr(5)));
  }
  std::sort(steps.begin(), steps.end());
  ASSERT_GE(steps.size(), 2u);
  const fs::path newest = copy / "checkpoints" / ("ckpt-" + std::to_string(steps.back()));
  flip(newest / "state.json", 0.0, 0x01);  // '{' (0x7b) becomes 'z' (0x7a)
  const std::uintmax_t size_before = fs::file_size(newest / "state.json");

  auto opened = TrainedModel::Open(copy.string(), "");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  const std::string used = opened.value()->checkpoint_prefix();
  EXPECT_EQ(used, (copy / "checkpoints" / ("ckpt-" + std::to_string(steps[steps.size() - 2])) / "model").string());
  EXPECT_EQ(fs::file_size(newest / "state.json"), size_before);  // left in place, as it was
  EXPECT_TRUE(fs::exists(copy / "checkpoints/best/model.index"));
}

TEST_F(TrainedRun, PythonTensorFlowReadsTheCheckpoint) {
  ASSERT_EQ(status_, 0);
  const Result<std::string> resolved = CheckpointManager::ResolvePrefix(run().string());
  ASSERT_TRUE(resolved.ok()) << resolved.status().message();
  const std::string prefix = *resolved;
  const std::string script =
      "import os, sys, json; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'\n"
      "import tensorflow as tf\n"
      "r = tf.train.load_checkpoint(sys.argv[1])\n"
      "m = r.get_variable_to_shape_map()\n"
      "print(json.dumps({k: [list(m[k]), float(r.get_tensor(k).astype('float64').sum())] for k in m}))\n";
  int status = 0;
  const std::string out = RunPython(root_, "read_ckpt.py", script, prefix, &status);
  ASSERT_EQ(status, 0) << out;
  const auto j = nlohmann::json::parse(out);
  auto opened = TrainedModel::Open(run().string(), prefix);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<TrainedModel> m = std::move(opened).value();
  std::vector<std::pair<std::string, tensorflow::Tensor>> params;
  ASSERT_TRUE(m->session()->ReadParameters(&params).ok());
  ASSERT_EQ(params.size(), 16u);  // weights and biases of 8 layers
  for (const auto& [name, t] : params) {
    ASSERT_TRUE(j.contains(name)) << name;
    ASSERT_TRUE(j.contains(name + "/Momentum")) << name;
    std::vector<int64_t> shape;
    for (int d = 0; d < t.dims(); ++d) shape.push_back(t.dim_size(d));
    EXPECT_EQ(j[name][0].get<std::vector<int64_t>>(), shape) << name;
    double sum = 0;
    for (int64_t i = 0; i < t.NumElements(); ++i) sum += t.flat<float>()(i);
    EXPECT_NEAR(j[name][1].get<double>(), sum, 1e-6 * (1 + std::abs(sum))) << name;
  }
}

TEST_F(TrainedRun, OpenCvDnnRunsTheExportedGraphToTheSameProbabilities) {
  ASSERT_EQ(status_, 0);
  auto opened = TrainedModel::Open(run().string(), "");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<TrainedModel> m = std::move(opened).value();
  std::vector<std::pair<std::string, tensorflow::Tensor>> params;
  ASSERT_TRUE(m->session()->ReadParameters(&params).ok());
  const Result<tensorflow::GraphDef> frozen = model::FreezeInferenceGraph(m->config().model, params);
  ASSERT_TRUE(frozen.ok()) << frozen.status().message();
  const tensorflow::GraphDef& gd = frozen.value();
  const fs::path pb = root_ / "frozen.pb";
  ASSERT_TRUE(WriteFileAtomic(pb.string(), gd.SerializeAsString()).ok());

  std::string cmd = std::string(OPENCV_DNN_PROBE) + " " + pb.string() + " " + (run() / "color_stats.json").string() +
                    " " + std::to_string(m->config().data.resize) + " " + std::to_string(m->config().data.crop);
  std::vector<std::string> files;
  for (const char* cls : {"cross", "disc", "square", "triangle"}) {
    files.push_back((root_ / "shapes" / cls / "3.png").string());
    cmd += " " + files.back();
  }
  int status = 0;
  const std::string out = RunCommand(cmd, &status);
  ASSERT_EQ(status, 0) << out;
  std::stringstream lines(out);
  const std::vector<Prediction> ours = PredictFiles(m.get(), files, 4, 4);
  int checked = 0;
  for (const Prediction& p : ours) {
    ASSERT_TRUE(p.error.empty()) << p.error;
    std::vector<double> theirs(4);
    for (double& v : theirs) lines >> v;
    ASSERT_TRUE(lines) << out;
    for (const auto& [k, prob] : p.top) EXPECT_NEAR(theirs[k], prob, 1e-4) << p.path << " class " << k;
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST_F(TrainedRun, PredictReportsBadFilesAndPredictsTheRest) {
  ASSERT_EQ(status_, 0);
  auto opened = TrainedModel::Open(run().string(), "");
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<TrainedModel> m = std::move(opened).value();
  const fs::path bad = root_ / "not_an_image.jpg";
  ASSERT_TRUE(WriteFileAtomic(bad.string(), "this is text, not a JPEG").ok());
  std::vector<Prediction> missing;
  const std::vector<std::string> files = ExpandImageInputs(
      {(root_ / "shapes" / "disc").string(), bad.string(), (root_ / "nope.png").string()}, &missing);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0].error.find("no such file"), std::string::npos);
  std::vector<Prediction> preds = PredictFiles(m.get(), files, 3, 7);
  ASSERT_EQ(preds.size(), 41u);  // 40 discs and the bad file
  int correct = 0, failed = 0;
  for (const Prediction& p : preds) {
    if (!p.error.empty()) {
      ++failed;
      EXPECT_EQ(p.path, bad.string());
      continue;
    }
    ASSERT_EQ(p.top.size(), 3u);
    EXPECT_GE(p.top[0].second, p.top[1].second);
    correct += m->class_names()[p.top[0].first] == "disc";
  }
  EXPECT_EQ(failed, 1);
  EXPECT_GE(correct, 36);
}

// `alexnet predict --json` as the library runs it: a missing input and an unreadable file are
// results with their error, the readable images get their top classes, most probable first.
TEST_F(TrainedRun, PredictRunReportsEachInputInJson) {
  ASSERT_EQ(status_, 0);
  const fs::path bad = root_ / "not_an_image_either.png";
  ASSERT_TRUE(WriteFileAtomic(bad.string(), "not a PNG").ok());
  PredictRequest request;
  request.run_dir = run().string();
  request.inputs = {(root_ / "shapes" / "disc").string(), bad.string(), (root_ / "missing.png").string()};
  request.top = 2;
  const Result<PredictOutcome> outcome = PredictRun(request);
  ASSERT_TRUE(outcome.ok()) << outcome.status().message();
  EXPECT_EQ(outcome->failed(), 2);
  const nlohmann::json j = PredictionsJson(outcome.value());
  ASSERT_EQ(j.size(), 42u);  // the missing input, 40 discs, the bad file
  int errors = 0, discs = 0;
  for (const nlohmann::json& p : j) {
    if (p.contains("error")) {
      ++errors;
      EXPECT_TRUE(p.at("path") == bad.string() || p.at("path") == (root_ / "missing.png").string()) << p;
      continue;
    }
    ASSERT_EQ(p.at("top").size(), 2u) << p;
    EXPECT_GE(p.at("top")[0].at("probability").get<double>(), p.at("top")[1].at("probability").get<double>());
    discs += p.at("top")[0].at("class") == "disc";
  }
  EXPECT_EQ(errors, 2);
  EXPECT_GE(discs, 36);
  const std::string text = PredictionsText(outcome.value());
  EXPECT_NE(text.find("disc"), std::string::npos);
  EXPECT_EQ(text.find(bad.string()), std::string::npos);  // errors are not in the text output
}

TEST_F(TrainedRun, TensorBoardEventFileHoldsTheScalars) {
  ASSERT_EQ(status_, 0);
  const std::string script =
      "import os, sys, glob; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'\n"
      "import tensorflow as tf\n"
      "tags = set()\n"
      "for f in glob.glob(sys.argv[1] + '/events.out.tfevents.*'):\n"
      "  for e in tf.compat.v1.train.summary_iterator(f):\n"
      "    for v in e.summary.value: tags.add(v.tag)\n"
      "print(' '.join(sorted(tags)))\n";
  int status = 0;
  const std::string out = RunPython(root_, "read_events.py", script, run().string(), &status);
  ASSERT_EQ(status, 0) << out;
  for (const char* tag : {"train/loss", "train/learning_rate", "train/images_per_s", "epoch/val_top1",
                          "epoch/val_top5"}) {
    EXPECT_NE(out.find(tag), std::string::npos) << tag << " not in: " << out;
  }
}


// --precision is recorded in config.json; --resume keeps the run's unless it is given again.
TEST(RunPrecision, RecordedInConfigAndKeptOnResumeUnlessGiven) {
  if (!model::CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 arithmetic";
  const fs::path root = fs::temp_directory_path() / ("alexnet_precision_test_" + std::to_string(::getpid()));
  fs::remove_all(root);
  alexnet::testing::WriteShapesDataset(root / "shapes", 8, 5);
  TrainConfig c = SmallConfig(root / "shapes", root / "run");
  c.recipe.epochs = 1;
  c.model.precision = model::Precision::kBf16;
  auto precision_in_config = [&] {
    auto loaded = LoadTrainConfig((root / "run").string());
    EXPECT_TRUE(loaded.ok()) << loaded.status().message();
    return loaded.ok() ? model::PrecisionName(loaded->model.precision) : "?";
  };
  std::ostringstream out1, out2, out3;
  ASSERT_TRUE(Train(c, false, {}, nullptr, out1).ok()) << out1.str();
  EXPECT_STREQ(precision_in_config(), "bf16");
  EXPECT_NE(out1.str().find(", bf16 on "), std::string::npos) << out1.str();
  c.model.precision = model::Precision::kFp32;  // the default of the command line, not given
  c.recipe.epochs = 2;
  TrainOverrides epochs_given;
  epochs_given.given = {"--epochs"};
  ASSERT_TRUE(Train(c, true, epochs_given, nullptr, out2).ok()) << out2.str();
  EXPECT_STREQ(precision_in_config(), "bf16");
  EXPECT_NE(out2.str().find(", bf16 on "), std::string::npos) << out2.str();
  c.recipe.epochs = 3;
  TrainOverrides precision_given = epochs_given;
  precision_given.given.push_back("--precision");
  ASSERT_TRUE(Train(c, true, precision_given, nullptr, out3).ok()) << out3.str();
  EXPECT_STREQ(precision_in_config(), "fp32");
  EXPECT_NE(out3.str().find(", fp32 on "), std::string::npos) << out3.str();
  fs::remove_all(root);
}

// A loss that becomes NaN or infinite stops the run with StatusCode::kNonFiniteLoss (which the
// design-claim experiments record as a diverged run), whatever context is put in front.
TEST(RunDivergence, ANonFiniteLossHasItsCode) {
  const fs::path root = fs::temp_directory_path() / ("alexnet_divergence_test_" + std::to_string(::getpid()));
  fs::remove_all(root);
  alexnet::testing::WriteShapesDataset(root / "shapes", 8, 3);
  TrainConfig c = SmallConfig(root / "shapes", root / "run");
  c.recipe.epochs = 4;
  c.recipe.lr = 1e4f;  // blows up within a few steps (two per epoch here)
  std::ostringstream out;
  const Status trained = Train(c, false, {}, nullptr, out);
  ASSERT_FALSE(trained.ok()) << out.str();
  EXPECT_EQ(trained.code(), StatusCode::kNonFiniteLoss) << trained.message();
  EXPECT_EQ(trained.reason().rfind("the loss became ", 0), 0u) << trained.message();
  EXPECT_EQ(trained.With("the run failed").code(), StatusCode::kNonFiniteLoss);
  fs::remove_all(root);
}

// --epochs (and the other options --resume may change) given on --resume are recorded in
// config.json, so that the next --resume keeps them; an option it cannot change is named as not
// used; resuming a run that has trained all its epochs says how to train it further.
TEST(RunEpochs, ANewTargetIsRecordedARecipeChangeNamedAndAFinishedRunSaysHowToGoOn) {
  const fs::path root = fs::temp_directory_path() / ("alexnet_epochs_test_" + std::to_string(::getpid()));
  fs::remove_all(root);
  alexnet::testing::WriteShapesDataset(root / "shapes", 8, 5);
  TrainConfig c = SmallConfig(root / "shapes", root / "run");
  c.recipe.epochs = 1;
  auto epochs_in_config = [&] {
    auto loaded = LoadTrainConfig((root / "run").string());
    EXPECT_TRUE(loaded.ok()) << loaded.status().message();
    return loaded.ok() ? loaded->recipe.epochs : -1;
  };
  std::ostringstream out1, out2, out3, noted;
  ASSERT_TRUE(Train(c, false, {}, nullptr, out1).ok()) << out1.str();
  EXPECT_EQ(epochs_in_config(), 1);
  // An option of the recipe given again is named as not used, not silently replaced by config.json's.
  TrainOverrides lr_given;
  lr_given.given = {"--lr"};
  const float lr = c.recipe.lr;
  c.recipe.lr = lr * 10;
  ASSERT_TRUE(Train(c, true, lr_given, nullptr, noted).ok()) << noted.str();
  EXPECT_NE(noted.str().find("note: --lr not used"), std::string::npos) << noted.str();
  EXPECT_NE(noted.str().find("config.json"), std::string::npos) << noted.str();
  EXPECT_FLOAT_EQ(LoadTrainConfig((root / "run").string())->recipe.lr, lr);
  c.recipe.lr = lr;
  c.recipe.epochs = 2;
  c.run.keep_checkpoints = 7;  // the run section may change, and is recorded too
  TrainOverrides more;
  more.given = {"--epochs", "--keep"};
  ASSERT_TRUE(Train(c, true, more, nullptr, out2).ok()) << out2.str();
  EXPECT_EQ(epochs_in_config(), 2);
  EXPECT_EQ(LoadTrainConfig((root / "run").string())->run.keep_checkpoints, 7);
  EXPECT_EQ(out2.str().find("already trained"), std::string::npos) << out2.str();
  c.recipe.epochs = 1;  // the command line's default, not given
  ASSERT_TRUE(Train(c, true, {}, nullptr, out3).ok()) << out3.str();
  EXPECT_EQ(epochs_in_config(), 2);
  EXPECT_NE(out3.str().find("already trained its 2 epochs"), std::string::npos) << out3.str();
  EXPECT_NE(out3.str().find("--resume --epochs"), std::string::npos) << out3.str();
  fs::remove_all(root);
}

// --lr-schedule onecycle over a --time-budget without --epochs: the first steps are timed, the
// schedule's length is then fixed and recorded in state.json, every step trains at the rate of
// that curve, and the run ends at its last step (or at the budget, if later steps were much
// slower); resuming the finished run says so. The length itself depends on this machine's speed.
TEST(RunScheduleOverBudget, FixesTheLengthFromTheFirstStepsAndEndsOnTheCurve) {
  const fs::path root = fs::temp_directory_path() / ("alexnet_over_budget_test_" + std::to_string(::getpid()));
  fs::remove_all(root);
  alexnet::testing::WriteShapesDataset(root / "shapes", 8, 5);
  TrainConfig c = SmallConfig(root / "shapes", root / "run");
  c.recipe.epochs = 100000;  // not what the schedule spans
  c.recipe.schedule = LrSchedule::kOneCycle;
  c.recipe.time_budget_s = 8;
  c.recipe.schedule_over_budget = true;
  std::ostringstream out;
  ASSERT_TRUE(Train(c, false, {}, nullptr, out).ok()) << out.str();
  EXPECT_NE(out.str().find("one-cycle over the time budget"), std::string::npos) << out.str();  // the header
  EXPECT_NE(out.str().find("schedule: onecycle over "), std::string::npos) << out.str();
  // The newest checkpoint's state and the last row of metrics.csv.
  int64_t newest = -1;
  for (const auto& e : fs::directory_iterator(root / "run" / "checkpoints")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ckpt-", 0) == 0) newest = std::max<int64_t>(newest, std::stoll(name.substr(5)));
  }
  ASSERT_GT(newest, 0);
  std::ifstream state_file(root / "run" / "checkpoints" / ("ckpt-" + std::to_string(newest)) / "state.json");
  const nlohmann::json state = nlohmann::json::parse(state_file);
  const int64_t length = state.value("schedule_steps", int64_t(0));
  EXPECT_GT(length, 1 + kScheduleTimingSteps) << state.dump();
  // Re-timed once (schedule.h) when the pace changed: the new length is the recorded one.
  const std::size_t retimed = out.str().find(" steps instead of ");
  if (retimed != std::string::npos) {
    const std::size_t line = out.str().rfind("schedule: ", retimed);
    ASSERT_NE(line, std::string::npos) << out.str();
    EXPECT_EQ(out.str().substr(line + 10, retimed - line - 10), std::to_string(length)) << out.str();
  }
  std::ifstream metrics(root / "run" / "metrics.csv");
  std::string line, last;
  while (std::getline(metrics, line)) last = line;
  std::vector<std::string> fields;
  for (size_t start = 0, comma = 0; comma != std::string::npos; start = comma + 1) {
    comma = last.find(',', start);
    fields.push_back(last.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
  }
  ASSERT_EQ(fields.size(), 10u) << last;
  const int64_t step = std::stoll(fields[1]);
  EXPECT_EQ(step, newest);
  // The last step (number step - 1, counted from 0) trained at the rate of the recorded curve;
  // metrics.csv prints 6 significant digits (at most 5e-6 of the value off), so compared to 1e-5
  // of it: float equality failed whenever the rounding was more than 4 ulps.
  const double expected_lr = LearningRateAt(c.recipe, step - 1, length);
  EXPECT_NEAR(std::stod(fields[7]), expected_lr, 1e-5 * expected_lr) << last;
  if (out.str().find("the schedule's last step") != std::string::npos) {
    EXPECT_EQ(step, length);
    std::ostringstream again;
    ASSERT_TRUE(Train(c, true, {}, nullptr, again).ok()) << again.str();
    EXPECT_NE(again.str().find("already trained the " + std::to_string(length) + " steps of its schedule"),
              std::string::npos)
        << again.str();
  } else {  // a machine that slowed down after the timed steps
    EXPECT_NE(out.str().find("reached at step " + std::to_string(step) + " of the schedule's " + std::to_string(length)),
              std::string::npos)
        << out.str();
  }
  fs::remove_all(root);
}

// Accumulate counts a batch against its labels, and refuses (instead of reading past its
// arrays) probabilities of the wrong shape or a label that is not one of the classes.
TEST(Accumulate, CountsABatchAndRefusesLabelsOrShapesThatDoNotFit) {
  data::Batch batch;
  batch.size = 2;
  batch.labels = {1, 0};
  tensorflow::Tensor probs(tensorflow::DT_FLOAT, {2, 3});
  auto p = probs.matrix<float>();
  p(0, 0) = 0.1f, p(0, 1) = 0.7f, p(0, 2) = 0.2f;  // label 1: right
  p(1, 0) = 0.2f, p(1, 1) = 0.5f, p(1, 2) = 0.3f;  // label 0: ranked third
  EvalResult r;
  ASSERT_TRUE(Accumulate(probs, batch, 3, &r).ok());
  EXPECT_EQ(r.images, 2);
  EXPECT_EQ(r.top1, 1);
  EXPECT_EQ(r.confusion[0][1], 1);

  EvalResult wrong_classes;
  const Status st = Accumulate(probs, batch, 4, &wrong_classes);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("4 classes"), std::string::npos) << st.message();
  EXPECT_EQ(wrong_classes.images, 0);

  batch.labels = {1, 3};
  EvalResult bad_label;
  const Status st2 = Accumulate(probs, batch, 3, &bad_label);
  EXPECT_FALSE(st2.ok());
  EXPECT_NE(st2.message().find("label 3"), std::string::npos) << st2.message();
  EXPECT_EQ(bad_label.images, 0);
}

// A log (not a terminal) gets one evaluation progress line per tenth of the batches: ten lines for
// any count of ten or more, the last one at the last batch, none for fewer than ten batches.
TEST(EvalProgress, ALogGetsTenLinesWhateverTheBatchCount) {
  for (long long total = 1; total <= 300; ++total) {
    int lines = 0;
    for (long long done = 1; done <= total; ++done) lines += EvalProgressLineDue(done, total) ? 1 : 0;
    EXPECT_EQ(lines, total >= 10 ? 10 : 0) << total << " batches";
    if (total >= 10) {
      EXPECT_TRUE(EvalProgressLineDue(total, total)) << total << " batches";
    }
  }
}

}  // namespace
}  // namespace alexnet::train
