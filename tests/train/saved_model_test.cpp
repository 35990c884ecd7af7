// `alexnet export --format saved_model` checked by TensorFlow itself: the venv's Python loads the
// SavedModel with tf.saved_model.load and runs its serving_default signature on the same crops
// `predict --run` classifies; saved_model_cli lists the signature; `predict --model` and
// `eval --model` (tensorflow::LoadSavedModel) give the run's results; bad folders and an
// existing --output are refused. Runs on the TrainedRun suite's trained network (trained_run.h).
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <tensorflow/core/protobuf/saved_model.pb.h>

#include "data/color_stats.h"
#include "data/decode.h"
#include "data/preprocess.h"
#include "trained_run.h"
#include "train/commands.h"
#include "train/saved_model.h"
#include "train/trained_model.h"
#include "util/files.h"

namespace alexnet::train {
namespace {

namespace fs = std::filesystem;

using alexnet::testing::RunCommand;
using alexnet::testing::RunPython;
using alexnet::testing::TrainedRun;

// The run exported into <root>/<name> (replacing an earlier export there).
fs::path Export(const fs::path& root, const fs::path& run_dir, const std::string& name) {
  const fs::path out = root / name;
  std::ostringstream said;
  const Result<std::string> written = ExportSavedModel(run_dir.string(), "", out.string(), true, said);
  EXPECT_TRUE(written.ok()) << written.status().message();
  return out;
}

std::vector<std::string> ShapeFiles(const fs::path& root) {
  std::vector<std::string> files;
  for (const char* cls : {"cross", "disc", "square", "triangle"}) {
    for (const char* i : {"1.png", "7.png"}) files.push_back((root / "shapes" / cls / i).string());
  }
  return files;
}

// A copy of the run that subtracts a per-pixel mean image instead (same weights; the image a
// pattern that differs at every pixel): the export must crop it as the run's preprocessing does.
fs::path PerPixelRun(const fs::path& root, const fs::path& run) {
  const fs::path copy = root / "run-per-pixel";
  if (fs::exists(copy)) return copy;
  fs::copy(run, copy, fs::copy_options::recursive);
  nlohmann::json cfg = nlohmann::json::parse(ReadFile((copy / "config.json").string()).value());
  cfg["data"]["per_pixel_mean"] = true;
  EXPECT_TRUE(WriteFileAtomic((copy / "config.json").string(), cfg.dump(2)).ok());
  Result<data::ColorStats> stats = data::LoadColorStats((copy / "color_stats.json").string());
  EXPECT_TRUE(stats.ok()) << stats.status().message();
  const int s = stats->size;
  stats->mean_image.resize(static_cast<size_t>(s) * s * 3);
  for (int y = 0; y < s; ++y) {
    for (int x = 0; x < s; ++x) {
      for (int ch = 0; ch < 3; ++ch) stats->mean_image[(y * s + x) * 3 + ch] = float((7 * x + 3 * y + 50 * ch) % 160);
    }
  }
  EXPECT_TRUE(data::SaveColorStats(stats.value(), (copy / "color_stats.json").string()).ok());
  return copy;
}

std::string Alexnet(const std::string& args, int* status) {
  return RunCommand(std::string(ALEXNET_BIN) + " " + args + " 2>&1", status);
}

// tf.saved_model.load(dir).signatures["serving_default"] on the raw 0..255 centre crops gives
// the probabilities the run gives on the same images, and top_class is their argmax; the assets
// hold the run's classes and preprocessing.
TEST_F(TrainedRun, SavedModelPythonTensorFlowLoadsItToTheRunsProbabilities) {
  ASSERT_EQ(status_, 0);
  for (const fs::path& run_dir : {run(), PerPixelRun(root_, run())}) {
    SCOPED_TRACE(run_dir.string());
    const fs::path dir = Export(root_, run_dir, "saved-" + run_dir.filename().string());
    auto opened = TrainedModel::Open(run_dir.string(), "");
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    std::unique_ptr<TrainedModel> m = std::move(opened).value();
    const int classes = m->config().model.num_classes, c = m->config().data.crop;
    const std::vector<std::string> files = ShapeFiles(root_);
    const std::vector<Prediction> ours = PredictFiles(m.get(), files, classes, 8);

    // The crops as the signature takes them: no mean subtracted.
    std::vector<float> crops(files.size() * c * c * 3);
    data::PreprocessOptions raw = m->preprocess();
    raw.mean = data::MeanMode::kNone;
    for (size_t i = 0; i < files.size(); ++i) {
      cv::Mat rgb;
      ASSERT_TRUE(data::DecodeImageFile(files[i], {}, rgb).ok());
      ASSERT_TRUE(data::PreprocessEval(rgb, raw, {}, crops.data() + i * c * c * 3).ok());
    }
    const fs::path bin = root_ / "crops.f32";
    {
      std::ofstream f(bin, std::ios::binary);
      f.write(reinterpret_cast<const char*>(crops.data()), static_cast<std::streamsize>(crops.size() * sizeof(float)));
    }
    const std::string script =
        "import os, sys; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'\n"
        "import numpy as np, tensorflow as tf\n"
        "d, b, c = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
        "f = tf.saved_model.load(d).signatures['serving_default']\n"
        "x = np.fromfile(b, dtype=np.float32).reshape(-1, c, c, 3)\n"
        "out = f(images=tf.constant(x))\n"
        "for p, t in zip(out['probabilities'].numpy(), out['top_class'].numpy()):\n"
        "    print(int(t), ' '.join('%.9g' % v for v in p))\n";
    int status = 0;
    const std::string out = RunPython(root_, "load_saved_model.py", script,
                                      dir.string() + " " + bin.string() + " " + std::to_string(c), &status);
    ASSERT_EQ(status, 0) << out;
    std::istringstream lines(out);
    for (const Prediction& p : ours) {
      ASSERT_TRUE(p.error.empty()) << p.error;
      long top_class = -1;
      std::vector<double> theirs(classes);
      lines >> top_class;
      for (double& v : theirs) lines >> v;
      ASSERT_TRUE(lines) << out;
      EXPECT_EQ(top_class, p.top[0].first) << p.path;
      for (const auto& [k, prob] : p.top) EXPECT_NEAR(theirs[k], prob, 1e-5) << p.path << " class " << k;
    }

    Result<std::string> names = ReadFile((dir / "assets" / "classes.txt").string());
    ASSERT_TRUE(names.ok());
    std::string expected;
    for (const std::string& n : m->class_names()) expected += n + "\n";
    EXPECT_EQ(*names, expected);
    const nlohmann::json record =
        nlohmann::json::parse(ReadFile((dir / "assets" / "preprocessing.json").string()).value());
    EXPECT_EQ(record.at("resize"), m->config().data.resize);
    EXPECT_EQ(record.at("crop"), c);
    EXPECT_EQ(record.at("mean").at("mode"), m->config().data.per_pixel_mean ? "per-pixel" : "per-channel");
    EXPECT_FLOAT_EQ(record.at("input_scale").get<float>(), 1.0f / m->config().model.input_stddev);
  }
}

// saved_model_cli, TensorFlow's own inspector, lists the signature as documented.
TEST_F(TrainedRun, SavedModelCliShowsTheSignature) {
  ASSERT_EQ(status_, 0);
  const fs::path dir = Export(root_, run(), "saved-cli");
  const std::string cli = fs::path(ALEXNET_PYTHON).parent_path() / "saved_model_cli";
  int status = 0;
  const std::string out = RunCommand("TF_CPP_MIN_LOG_LEVEL=3 " + cli + " show --dir " + dir.string() + " --all 2>/dev/null", &status);
  ASSERT_EQ(status, 0) << out;
  for (const char* want : {"MetaGraphDef with tag-set: 'serve'", "signature_def['serving_default']",
                           "inputs['images'] tensor_info:", "dtype: DT_FLOAT", "shape: (-1, 67, 67, 3)",
                           "outputs['probabilities'] tensor_info:", "shape: (-1, 4)", "outputs['top_class'] tensor_info:",
                           "dtype: DT_INT64", "Method name is: tensorflow/serving/predict"}) {
    EXPECT_NE(out.find(want), std::string::npos) << "missing: " << want << "\n" << out;
  }
}

// `alexnet predict --model` and `eval --model` on the SavedModel say what --run says.
TEST_F(TrainedRun, SavedModelPredictAndEvalWithModelMatchTheRun) {
  ASSERT_EQ(status_, 0);
  const fs::path dir = Export(root_, run(), "saved-predict");
  const std::string images = (root_ / "shapes" / "square").string() + " " + (root_ / "shapes" / "cross").string();
  int status = 0;
  const std::string from_run = RunCommand(std::string(ALEXNET_BIN) + " predict --json --top 4 --run " +
                                              run().string() + " " + images, &status);
  ASSERT_EQ(status, 0) << from_run;
  const std::string from_model = RunCommand(std::string(ALEXNET_BIN) + " predict --json --top 4 --model " +
                                                dir.string() + " " + images, &status);
  ASSERT_EQ(status, 0) << from_model;
  const nlohmann::json a = nlohmann::json::parse(from_run), b = nlohmann::json::parse(from_model);
  ASSERT_EQ(a.size(), 80u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].at("path"), b[i].at("path"));
    for (size_t k = 0; k < 4; ++k) {
      EXPECT_EQ(a[i]["top"][k]["class"], b[i]["top"][k]["class"]) << a[i]["path"];
      EXPECT_NEAR(a[i]["top"][k]["probability"].get<double>(), b[i]["top"][k]["probability"].get<double>(), 1e-5);
    }
  }

  nlohmann::json by_run;
  ASSERT_EQ(RunEval("--split val", "eval-saved-run", &by_run), "");
  const fs::path out_dir = root_ / "eval-saved-model";
  const std::string said = Alexnet("eval --model " + dir.string() + " --split val --output " + out_dir.string(), &status);
  ASSERT_EQ(status, 0) << said;
  const nlohmann::json by_model = nlohmann::json::parse(ReadFile((out_dir / "eval.json").string()).value());
  EXPECT_EQ(by_model.at("centre-crop").at("images"), by_run.at("centre-crop").at("images"));
  EXPECT_EQ(by_model.at("centre-crop").at("top1_accuracy"), by_run.at("centre-crop").at("top1_accuracy"));
  EXPECT_NEAR(by_model.at("centre-crop").at("loss").get<double>(), by_run.at("centre-crop").at("loss").get<double>(),
              1e-5);
  EXPECT_EQ(by_model.at("saved_model"), dir.string());
}

// --output: a non-empty folder is kept unless --overwrite; a staging folder a killed export left
// is cleaned up; a SIGKILL during the export leaves either nothing or a whole SavedModel.
TEST_F(TrainedRun, SavedModelOutputIsReplacedOnlyWhenAskedAndNeverLeftHalfWritten) {
  ASSERT_EQ(status_, 0);
  const fs::path out = root_ / "models" / "alexnet" / "1";
  fs::create_directories(out);
  ASSERT_TRUE(WriteFileAtomic((out / "mine.txt").string(), "keep me").ok());
  int status = 0;
  const std::string base = "export --run " + run().string() + " --format saved_model --output " + out.string();
  std::string said = Alexnet(base, &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(said.find("is not empty; give --overwrite"), std::string::npos) << said;
  EXPECT_TRUE(fs::exists(out / "mine.txt"));
  EXPECT_FALSE(fs::exists(out / "saved_model.pb"));

  fs::create_directories(out.string() + ".exporting");  // as a killed export leaves it
  said = Alexnet(base + " --overwrite", &status);
  ASSERT_EQ(status, 0) << said;
  EXPECT_FALSE(fs::exists(out / "mine.txt"));
  EXPECT_TRUE(fs::exists(out / "saved_model.pb"));
  EXPECT_FALSE(fs::exists(out.string() + ".exporting"));
  EXPECT_FALSE(fs::exists(out.string() + ".replaced"));
  auto loaded = SavedModelClassifier::Open(out.string());
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();

  // Killed at different moments: the folder is the old SavedModel or absent, never a part.
  const fs::path fresh = root_ / "models" / "killed" / "1";
  for (int ms : {200, 500, 900}) {
    fs::remove_all(fresh.parent_path());
    const std::string cmd = std::string(ALEXNET_BIN) + " export --run " + run().string() +
                            " --format saved_model --output " + fresh.string() + " >/dev/null 2>&1 & pid=$!; sleep " +
                            std::to_string(ms / 1000.0) + "; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; true";
    RunCommand(cmd, &status);
    if (fs::exists(fresh)) {
      EXPECT_TRUE(fs::exists(fresh / "saved_model.pb")) << ms << " ms";
      EXPECT_TRUE(fs::exists(fresh / "assets" / "preprocessing.json")) << ms << " ms";
      EXPECT_TRUE(SavedModelClassifier::Open(fresh.string()).ok()) << ms << " ms";
    }
  }
}

// Folders that are not our SavedModel: each error names what is missing.
TEST_F(TrainedRun, SavedModelModelThatIsNotOursIsRefusedNamingWhatIsMissing) {
  ASSERT_EQ(status_, 0);
  const fs::path dir = Export(root_, run(), "saved-refused");
  const auto refused = [](const fs::path& d) {
    auto m = SavedModelClassifier::Open(d.string());
    return m.ok() ? std::string("opened") : m.status().message();
  };
  EXPECT_NE(refused(root_ / "nowhere").find("no such folder"), std::string::npos);
  EXPECT_NE(refused(root_ / "shapes").find("not a SavedModel (no saved_model.pb)"), std::string::npos);

  const fs::path no_assets = root_ / "saved-no-assets";
  fs::copy(dir, no_assets, fs::copy_options::recursive);
  fs::remove(no_assets / "assets" / "preprocessing.json");
  EXPECT_NE(refused(no_assets).find("has no assets/preprocessing.json"), std::string::npos) << refused(no_assets);

  // The signature renamed, then its input renamed: the graph loads, the signature is not ours.
  tensorflow::SavedModel proto;
  ASSERT_TRUE(proto.ParseFromString(ReadFile((dir / "saved_model.pb").string()).value()));
  auto* sigs = proto.mutable_meta_graphs(0)->mutable_signature_def();
  const tensorflow::SignatureDef ours = sigs->at("serving_default");
  sigs->erase("serving_default");
  (*sigs)["predict"] = ours;
  const fs::path renamed = root_ / "saved-renamed";
  fs::copy(dir, renamed, fs::copy_options::recursive);
  ASSERT_TRUE(WriteFileAtomic((renamed / "saved_model.pb").string(), proto.SerializeAsString()).ok());
  EXPECT_NE(refused(renamed).find("no signature \"serving_default\" (it has: predict)"), std::string::npos)
      << refused(renamed);

  tensorflow::SignatureDef other = ours;
  (*other.mutable_inputs())["x"] = other.inputs().at("images");
  other.mutable_inputs()->erase("images");
  sigs->erase("predict");
  (*sigs)["serving_default"] = other;
  ASSERT_TRUE(WriteFileAtomic((renamed / "saved_model.pb").string(), proto.SerializeAsString()).ok());
  EXPECT_NE(refused(renamed).find("has no input \"images\" float [N, 67, 67, 3]"), std::string::npos)
      << refused(renamed);

  int status = 0;
  const std::string said = Alexnet("predict --model " + renamed.string() + " " + ShapeFiles(root_)[0], &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(said.find(renamed.string() + ": signature serving_default has no input"), std::string::npos) << said;
}

}  // namespace
}  // namespace alexnet::train
