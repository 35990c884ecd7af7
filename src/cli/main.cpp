// alexnet: AlexNet from TensorFlow's C++ building blocks, fed by an OpenCV pipeline.
//   summary      the seed's table from the built graph: shapes, parameters, MACs
//   train        train on an image folder or Fashion-MNIST (paper recipe), resumable
//   eval         top-1/top-5 error (centre crop, ten-crop), per-class accuracy, confusion
//   predict      top-5 classes of image files or folders
//   export       frozen inference graph (.pb)
//   bench-input  throughput of the input pipeline
//   extract      dataset images as PNG files
//   train-step   SGD steps on one random batch (a smoke test of the training graph)
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <random>
#include <string>

#include <CLI/CLI.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <nlohmann/json.hpp>

#include "cli/report_commands.h"
#include "cli/validators.h"
#include "data/input_benchmark.h"
#include "model/freeze.h"
#include "model/session.h"
#include "model/summary.h"
#include "train/config.h"
#include "train/evaluate.h"
#include "train/files.h"
#include "train/predict.h"
#include "train/trainer.h"

namespace {

using alexnet::cli::kNonNegative;
using alexnet::model::ModelOptions;
namespace train = alexnet::train;

// Quiet TensorFlow's informational logs unless the user configured them. TensorFlow reads
// TF_CPP_MIN_LOG_LEVEL while its libraries load, before main(), so setting it takes one
// re-execution. (The oneDNN notice at load time is printed regardless; TF_ENABLE_ONEDNN_OPTS=0
// silences it but also turns off the faster oneDNN kernels, so it stays.)
void QuietTensorFlow(char** argv) {
  if (getenv("TF_CPP_MIN_LOG_LEVEL") != nullptr) return;
  setenv("TF_CPP_MIN_LOG_LEVEL", "2", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: carry on, just noisier
}

void AddModelOptions(CLI::App* cmd, ModelOptions* o, std::string* init, bool with_shape) {
  if (with_shape) {
    cmd->add_option("--classes", o->num_classes, "number of classes (fc8 units)")
        ->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--input-size", o->input_size, "input height = width in pixels")
        ->check(CLI::PositiveNumber)->capture_default_str();
  }
  cmd->add_option("--dropout", o->dropout_rate, "dropout rate on fc6/fc7 (0 = off)")
      ->check(CLI::Range(0.0f, 0.95f))->capture_default_str();
  cmd->add_flag("--lrn,!--no-lrn", o->lrn, "local response normalisation after conv1/conv2 (default: on)");
  cmd->add_option("--init", *init, "weight initialisation: paper (N(0, 0.01), biases 1/0) or he")
      ->check(CLI::IsMember({"paper", "he"}))->capture_default_str();
  cmd->add_option("--seed", o->seed, "random seed (initialisation, data order, augmentation)")
      ->capture_default_str();
}

int RunSummary(const ModelOptions& opts, bool markdown) {
  alexnet::model::Summary s;
  if (std::string err = alexnet::model::BuildSummary(opts, &s); !err.empty()) {
    std::cerr << "alexnet summary: " << err << "\n";
    return 1;
  }
  if (markdown) {
    alexnet::model::PrintSummaryMarkdown(s, std::cout);
  } else {
    alexnet::model::PrintSummary(s, std::cout);
  }
  return 0;
}

int RunTrainStep(const ModelOptions& opts, int batch, int steps, float lr) {
  alexnet::model::SessionConfig cfg;
  cfg.model = opts;
  cfg.training = true;
  std::unique_ptr<alexnet::model::ModelSession> session;
  auto st = alexnet::model::ModelSession::Create(cfg, &session);
  if (st.ok()) st = session->Initialize();
  if (!st.ok()) {
    std::cerr << "alexnet train-step: " << st.message() << "\n";
    return 1;
  }
  std::mt19937 rng(static_cast<unsigned>(opts.seed));
  std::normal_distribution<float> pixel(0.0f, 50.0f);
  std::uniform_int_distribution<int> label(0, opts.num_classes - 1);
  tensorflow::Tensor images(tensorflow::DT_FLOAT, {batch, opts.input_size, opts.input_size, 3});
  tensorflow::Tensor labels(tensorflow::DT_INT32, {batch});
  for (int64_t i = 0; i < images.NumElements(); ++i) images.flat<float>()(i) = pixel(rng);
  for (int i = 0; i < batch; ++i) labels.flat<int32_t>()(i) = label(rng);
  for (int step = 1; step <= steps; ++step) {
    alexnet::model::StepResult r;
    const auto t0 = std::chrono::steady_clock::now();
    st = session->TrainStep(images, labels, lr, &r);
    if (!st.ok()) {
      std::cerr << "alexnet train-step: " << st.message() << "\n";
      return 1;
    }
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "step " << step << "  loss " << r.loss << "  cross-entropy " << r.cross_entropy
              << "  top-1 " << r.correct_top1 << "/" << r.batch << "  " << sec * 1000 << " ms  "
              << batch / sec << " images/s\n";
  }
  return 0;
}

std::string DefaultRunDir() {
  const auto t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "runs/%Y%m%d-%H%M%S", std::localtime(&t));
  return buf;
}

int RunEval(const std::string& run_dir, const std::string& checkpoint, const std::string& split,
            int64_t limit, bool ten_crop, int batch, int workers, const std::string& out_dir) {
  std::unique_ptr<train::TrainedModel> m;
  if (std::string err = train::TrainedModel::Open(run_dir, checkpoint, 0, &m); !err.empty()) {
    std::cerr << "alexnet eval: " << err << "\n";
    return 1;
  }
  train::TrainConfig cfg = m->config();
  cfg.run.workers = workers;
  if (limit > 0) (split == "val" ? cfg.data.val_limit : cfg.data.test_limit) = limit;
  auto ds = train::OpenDataset(cfg.data, split == "val" ? train::Split::kVal : train::Split::kTest);
  if (!ds.ok()) {
    std::cerr << "alexnet eval: " << ds.status().message() << "\n";
    return 1;
  }
  std::cout << "evaluating " << m->checkpoint_prefix() << "\n  on " << ds.value()->description() << " ("
            << ds.value()->size() << " images)\n";
  nlohmann::json report = {{"checkpoint", m->checkpoint_prefix()}, {"data", ds.value()->description()}};
  const std::string dir = out_dir.empty() ? run_dir + "/eval-" + split : out_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (bool ten : {false, true}) {
    if (ten && !ten_crop) continue;
    auto loader = alexnet::data::Loader::create(ds.value(), train::EvalLoaderOptions(cfg, m->stats(), ten, batch));
    if (!loader.ok()) {
      std::cerr << "alexnet eval: " << loader.status().message() << "\n";
      return 1;
    }
    train::EvalResult r;
    if (std::string err = train::Evaluate(m->session(), loader.value().get(), cfg.model.num_classes, &r, true);
        !err.empty()) {
      std::cerr << "alexnet eval: " << err << "\n";
      return 1;
    }
    const std::string mode = ten ? "ten-crop" : "centre-crop";
    std::cout << std::fixed << std::setprecision(4) << "  " << std::left << std::setw(12) << mode
              << " top-1 error " << 1 - r.top1_accuracy() << "  top-5 error " << 1 - r.top5_accuracy()
              << "  (top-1 accuracy " << r.top1_accuracy() << ", top-5 accuracy " << r.top5_accuracy() << ", "
              << r.images << " images" << (r.skipped ? ", " + std::to_string(r.skipped) + " skipped" : "")
              << ")\n";
    std::cout.unsetf(std::ios::floatfield);
    if (std::string err = train::WriteEvalCsv(r, m->class_names(), dir + "/confusion-" + mode + ".csv",
                                              dir + "/per_class-" + mode + ".csv");
        !err.empty()) {
      std::cerr << "alexnet eval: " << err << "\n";
      return 1;
    }
    report[mode] = {{"images", r.images}, {"top1_accuracy", r.top1_accuracy()},
                    {"top5_accuracy", r.top5_accuracy()}, {"top1_error", 1 - r.top1_accuracy()},
                    {"top5_error", 1 - r.top5_accuracy()}, {"loss", r.mean_loss()}, {"skipped", r.skipped}};
  }
  if (alexnet::Status st = train::WriteFileAtomic(dir + "/eval.json", report.dump(2) + "\n"); !st.ok()) {
    std::cerr << "alexnet eval: " << st.message() << "\n";
    return 1;
  }
  std::cout << "  per-class accuracy and confusion matrix: " << dir << "/\n";
  return 0;
}

int RunPredict(const std::string& run_dir, const std::string& checkpoint, const std::vector<std::string>& inputs,
               bool json, int top, int batch) {
  std::unique_ptr<train::TrainedModel> m;
  if (std::string err = train::TrainedModel::Open(run_dir, checkpoint, 0, &m); !err.empty()) {
    std::cerr << "alexnet predict: " << err << "\n";
    return 1;
  }
  std::vector<train::Prediction> results;
  const std::vector<std::string> files = train::ExpandImageInputs(inputs, &results);
  std::vector<train::Prediction> predicted = train::PredictFiles(m.get(), files, top, batch);
  results.insert(results.end(), predicted.begin(), predicted.end());
  int failed = 0;
  nlohmann::json out = nlohmann::json::array();
  for (const train::Prediction& p : results) {
    if (!p.error.empty()) {
      ++failed;
      std::cerr << "alexnet predict: " << p.path << ": " << p.error << "\n";
      if (json) out.push_back({{"path", p.path}, {"error", p.error}});
      continue;
    }
    if (json) {
      nlohmann::json top_list = nlohmann::json::array();
      for (const auto& [cls, prob] : p.top) {
        top_list.push_back({{"class", m->class_names()[cls]}, {"index", cls}, {"probability", prob}});
      }
      out.push_back({{"path", p.path}, {"top", top_list}});
    } else {
      std::cout << p.path << "\n";
      for (const auto& [cls, prob] : p.top) {
        std::cout << "  " << std::fixed << std::setprecision(4) << prob << "  " << m->class_names()[cls] << "\n";
      }
      std::cout.unsetf(std::ios::floatfield);
    }
  }
  if (json) std::cout << out.dump(2) << "\n";
  if (failed) std::cerr << "alexnet predict: " << failed << " of " << results.size() << " inputs could not be read\n";
  return failed ? 1 : 0;
}

int RunExport(const std::string& run_dir, const std::string& checkpoint, const std::string& output) {
  std::unique_ptr<train::TrainedModel> m;
  if (std::string err = train::TrainedModel::Open(run_dir, checkpoint, 0, &m); !err.empty()) {
    std::cerr << "alexnet export: " << err << "\n";
    return 1;
  }
  std::vector<std::pair<std::string, tensorflow::Tensor>> params;
  tensorflow::GraphDef gd;
  absl::Status st = m->session()->ReadParameters(&params);
  if (st.ok()) st = alexnet::model::FreezeInferenceGraph(m->config().model, params, &gd);
  if (!st.ok()) {
    std::cerr << "alexnet export: " << st.message() << "\n";
    return 1;
  }
  const std::string path = output.empty() ? run_dir + "/alexnet_frozen.pb" : output;
  if (alexnet::Status st = train::WriteFileAtomic(path, gd.SerializeAsString()); !st.ok()) {
    std::cerr << "alexnet export: " << st.message() << "\n";
    return 1;
  }
  std::cout << "frozen inference graph: " << path << "  (input \"input\" [N, " << m->config().data.crop << ", "
            << m->config().data.crop << ", 3] float, mean-subtracted RGB 0..255; output \"probabilities\")\n";
  return 0;
}

int RunBenchInput(const train::DataSpec& spec, int workers, int images, int batch) {
  auto ds = train::OpenDataset(spec, train::Split::kTrain);
  if (!ds.ok()) {
    std::cerr << "alexnet bench-input: " << ds.status().message() << "\n";
    return 1;
  }
  train::TrainConfig cfg;
  cfg.data = spec;
  cfg.run.workers = workers;
  cfg.recipe.batch = batch;
  alexnet::data::InputBenchmarkOptions o;
  o.loader = train::TrainLoaderOptions(cfg, nullptr);
  o.loader.epochs = 0;
  o.images = images;
  auto r = alexnet::data::run_input_benchmark(ds.value(), o);
  if (!r.ok()) {
    std::cerr << "alexnet bench-input: " << r.status().message() << "\n";
    return 1;
  }
  const auto& b = r.value();
  std::cout << ds.value()->description() << "\n"
            << "loader, " << b.workers << " workers: " << std::fixed << std::setprecision(1)
            << b.images_per_second << " images/s (" << b.images << " images, " << b.loader_cores_used
            << " cores busy)\n"
            << "baseline, 1 thread, no prefetch: " << b.baseline_images_per_second << " images/s\n"
            << "ratio loader / baseline: " << std::setprecision(2) << b.speedup << "x\n";
  return 0;
}

// Writes dataset samples as PNG files named <index>_<class>.png (e.g. Fashion-MNIST test
// images to try `predict` on).
int RunExtract(const train::DataSpec& spec, const std::string& split, int first, int count, const std::string& out) {
  auto ds = train::OpenDataset(spec, split == "test" ? train::Split::kTest : train::Split::kTrain);
  if (!ds.ok()) {
    std::cerr << "alexnet extract: " << ds.status().message() << "\n";
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) {
    std::cerr << "alexnet extract: " << out << ": cannot create folder: " << ec.message() << "\n";
    return 1;
  }
  const auto& names = ds.value()->class_names();
  for (int i = first; i < first + count && i < static_cast<int>(ds.value()->size()); ++i) {
    auto img = ds.value()->load(i);
    if (!img.ok()) {
      std::cerr << "alexnet extract: " << img.status().message() << "\n";
      continue;
    }
    std::string label = names[ds.value()->label(i)];
    for (char& ch : label) if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '-';
    const std::string path = out + "/" + std::to_string(i) + "_" + label + ".png";
    cv::Mat bgr;
    cv::cvtColor(img.value(), bgr, cv::COLOR_RGB2BGR);
    if (!cv::imwrite(path, bgr)) {
      std::cerr << "alexnet extract: " << path << ": cannot write\n";
      return 1;
    }
    std::cout << path << "\n";
  }
  return 0;
}

void AddDataOptions(CLI::App* cmd, train::DataSpec* d) {
  cmd->add_option("--data", d->source,
                  "\"fashion-mnist\" (Debian package dataset-fashion-mnist) or an image folder root/<class>/<image>")
      ->capture_default_str();
  cmd->add_option("--list", d->list_file, "a list file of \"path label\" lines instead of class folders");
  cmd->add_option("--fashion-dir", d->fashion_dir, "where the Fashion-MNIST idx files are")->capture_default_str();
  cmd->add_option("--resize", d->resize, "S: shorter side resized to S, central S x S")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--crop", d->crop, "C: the network's input side (random C x C crop in training)")
      ->check(CLI::PositiveNumber)->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  QuietTensorFlow(argv);
  CLI::App app{"AlexNet in C++ from TensorFlow building blocks, step by step"};
  app.require_subcommand(1);
  ModelOptions opts;
  std::string init = "paper";

  auto* summary = app.add_subcommand("summary", "print the layer table from the built graph");
  AddModelOptions(summary, &opts, &init, true);
  bool markdown = false;
  summary->add_flag("--markdown", markdown, "print the table as Markdown");

  // train
  train::TrainConfig tc;
  bool resume = false;
  auto* train_cmd = app.add_subcommand("train", "train AlexNet (paper recipe by default)");
  AddDataOptions(train_cmd, &tc.data);
  AddModelOptions(train_cmd, &tc.model, &init, false);
  alexnet::cli::AddStandardizeFlag(train_cmd, &tc.model.standardize_input);
  train_cmd->add_option("--run", tc.run.run_dir, "run folder (default runs/<date-time>)");
  train_cmd->add_flag("--resume", resume, "continue the run in --run from its newest checkpoint");
  train_cmd->add_option("--val-fraction", tc.data.val_fraction, "validation split of the training data")
      ->check(CLI::Range(0.0, 0.9))->capture_default_str();
  train_cmd->add_option("--train-limit", tc.data.train_limit, "use only this many training images (0 = all)")
      ->check(kNonNegative)->capture_default_str();
  train_cmd->add_option("--val-limit", tc.data.val_limit, "use only this many validation images (0 = all)")
      ->check(kNonNegative)->capture_default_str();
  train_cmd->add_flag("--per-pixel-mean", tc.data.per_pixel_mean, "subtract the paper's mean image");
  train_cmd->add_option("--batch", tc.recipe.batch, "images per step")
      ->check(CLI::PositiveNumber)->capture_default_str();
  auto* epochs_opt = train_cmd->add_option("--epochs", tc.recipe.epochs, "epochs")->check(CLI::PositiveNumber)
                         ->capture_default_str();
  auto* budget_opt = train_cmd->add_option("--time-budget", tc.recipe.time_budget_s,
                                           "stop after this many seconds of training (0 = none)")
                         ->check(kNonNegative)->capture_default_str();
  train_cmd->add_option("--lr", tc.recipe.lr, "initial learning rate")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--lr-schedule", tc.recipe.schedule,
                        "plateau: /10 when validation top-1 stops improving; step: /10 every --lr-step epochs")
      ->check(CLI::IsMember({"plateau", "step"}))->capture_default_str();
  train_cmd->add_option("--lr-step", tc.recipe.step_epochs, "epochs between divisions (step schedule)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--lr-patience", tc.recipe.patience, "epochs without improvement before /10 (plateau)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--momentum", tc.recipe.momentum, "SGD momentum")->capture_default_str();
  train_cmd->add_option("--weight-decay", tc.recipe.weight_decay, "L2 weight decay on weights")->capture_default_str();
  train_cmd->add_flag("--random-crop,!--no-random-crop", tc.recipe.random_crop, "random C x C crops (default: on)");
  train_cmd->add_flag("--flip,!--no-flip", tc.recipe.flip, "random horizontal flips (default: on)");
  train_cmd->add_flag("--pca-color,!--no-pca-color", tc.recipe.pca_color, "PCA colour augmentation (default: on)");
  train_cmd->add_option("--workers", tc.run.workers, "input pipeline threads")
      ->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--threads", tc.run.threads, "TensorFlow threads (0 = all cores)")->capture_default_str();
  train_cmd->add_option("--checkpoint-every", tc.run.checkpoint_every,
                        "steps between checkpoints (and every epoch end)")
      ->capture_default_str();
  train_cmd->add_option("--keep", tc.run.keep_checkpoints, "checkpoints kept besides the best")->capture_default_str();
  train_cmd->add_option("--log-every", tc.run.log_every_s, "seconds between progress lines when not on a terminal")
      ->capture_default_str();
  train_cmd->add_option("--stats-images", tc.data.stats_images, "images sampled for mean/PCA statistics (0 = all)")
      ->capture_default_str();

  // eval / predict / export
  std::string run_dir, checkpoint, split = "test", out_dir, output;
  bool ten_crop = false, json = false;
  int eval_batch = 100, eval_workers = 2, top = 5;
  int64_t eval_limit = 0;
  auto* eval_cmd = app.add_subcommand("eval", "top-1/top-5 error, per-class accuracy, confusion matrix");
  eval_cmd->add_option("--run", run_dir, "run folder written by train")->required();
  eval_cmd->add_option("--checkpoint", checkpoint, "checkpoint folder or prefix (default: the run's best)");
  eval_cmd->add_option("--split", split, "test (Fashion-MNIST's 10,000) or val (the run's validation split)")
      ->check(CLI::IsMember({"test", "val"}))->capture_default_str();
  eval_cmd->add_option("--limit", eval_limit,
                       "evaluate only the first N images of the split (0 = all; val: as many as training used)")
      ->check(kNonNegative)->capture_default_str();
  eval_cmd->add_flag("--ten-crop", ten_crop, "also average the softmax over 10 crops (corners, centre, mirrors)");
  eval_cmd->add_option("--batch", eval_batch, "crops per forward pass (ten-crop: batch/10 images x 10 crops)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  eval_cmd->add_option("--workers", eval_workers, "input pipeline threads")
      ->check(CLI::PositiveNumber)->capture_default_str();
  eval_cmd->add_option("--output", out_dir, "folder for the CSV files (default <run>/eval-<split>)");

  std::vector<std::string> inputs;
  auto* predict_cmd = app.add_subcommand("predict", "top classes of image files or folders");
  predict_cmd->add_option("--run", run_dir, "run folder written by train")->required();
  predict_cmd->add_option("--checkpoint", checkpoint, "checkpoint folder or prefix (default: the run's best)");
  predict_cmd->add_option("inputs", inputs, "image files or folders")->required();
  predict_cmd->add_flag("--json", json, "print JSON");
  predict_cmd->add_option("--top", top, "classes to show")->check(CLI::PositiveNumber)->capture_default_str();
  predict_cmd->add_option("--batch", eval_batch, "images per batch")->check(CLI::PositiveNumber)->capture_default_str();

  auto* export_cmd = app.add_subcommand("export", "write a frozen inference graph (.pb)");
  export_cmd->add_option("--run", run_dir, "run folder written by train")->required();
  export_cmd->add_option("--checkpoint", checkpoint, "checkpoint folder or prefix (default: the run's best)");
  export_cmd->add_option("--output", output, "output file (default <run>/alexnet_frozen.pb)");

  train::DataSpec bench_data;
  int bench_workers = 2, bench_images = 3000, bench_batch = 128;
  auto* bench_cmd = app.add_subcommand("bench-input", "images/s of the input pipeline vs a 1-thread baseline");
  AddDataOptions(bench_cmd, &bench_data);
  bench_cmd->add_option("--workers", bench_workers, "loader threads")
      ->check(CLI::PositiveNumber)->capture_default_str();
  bench_cmd->add_option("--images", bench_images, "timed images")->check(CLI::PositiveNumber)->capture_default_str();
  bench_cmd->add_option("--batch", bench_batch, "batch size")->check(CLI::PositiveNumber)->capture_default_str();

  train::DataSpec extract_data;
  std::string extract_split = "test", extract_out = "samples";
  int extract_first = 0, extract_count = 5;
  auto* extract_cmd = app.add_subcommand("extract", "write dataset images as PNG files (to try predict on)");
  AddDataOptions(extract_cmd, &extract_data);
  extract_cmd->add_option("--split", extract_split, "test or train")->check(CLI::IsMember({"test", "train"}))
      ->capture_default_str();
  extract_cmd->add_option("--first", extract_first, "index of the first image")->check(kNonNegative)
      ->capture_default_str();
  extract_cmd->add_option("--count", extract_count, "number of images")
      ->check(CLI::PositiveNumber)->capture_default_str();
  extract_cmd->add_option("--out", extract_out, "output folder")->capture_default_str();

  auto* train_step = app.add_subcommand("train-step", "run SGD steps on one random batch");
  AddModelOptions(train_step, &opts, &init, true);
  int batch = 8, steps = 1;
  float lr = 0.01f;
  train_step->add_option("--batch", batch, "images per batch")->check(CLI::PositiveNumber)->capture_default_str();
  train_step->add_option("--steps", steps, "number of steps")->check(CLI::PositiveNumber)->capture_default_str();
  train_step->add_option("--lr", lr, "learning rate")->check(CLI::PositiveNumber)->capture_default_str();

  const auto report = alexnet::cli::AddReportCommands(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "alexnet: " << e.what() << "\n\n" << app.help();
    return 2;
  }
  const auto init_kind = init == "he" ? alexnet::model::Init::kHe : alexnet::model::Init::kPaper;
  opts.init = init_kind;
  if (*summary) return RunSummary(opts, markdown);
  if (*train_step) return RunTrainStep(opts, batch, steps, lr);
  if (*train_cmd) {
    tc.model.init = init_kind;
    if (tc.run.run_dir.empty()) {
      if (resume) {
        std::cerr << "alexnet train: --resume needs --run <run folder>\n";
        return 2;
      }
      tc.run.run_dir = DefaultRunDir();
    }
    train::TrainOverrides ov;
    ov.epochs = epochs_opt->count() > 0;
    ov.time_budget = budget_opt->count() > 0;
    return train::Train(tc, resume, ov, alexnet::cli::ReportEpochHook());
  }
  if (*eval_cmd) return RunEval(run_dir, checkpoint, split, eval_limit, ten_crop, eval_batch, eval_workers, out_dir);
  if (*predict_cmd) return RunPredict(run_dir, checkpoint, inputs, json, top, eval_batch);
  if (*export_cmd) return RunExport(run_dir, checkpoint, output);
  if (*extract_cmd) {
    extract_data.val_fraction = 0;
    return RunExtract(extract_data, extract_split, extract_first, extract_count, extract_out);
  }
  if (*bench_cmd) return RunBenchInput(bench_data, bench_workers, bench_images, bench_batch);
  if (int status = 2; alexnet::cli::RunReportCommands(*report, &status)) return status;
  return 2;
}
