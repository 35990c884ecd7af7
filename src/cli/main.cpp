// alexnet: AlexNet from TensorFlow's C++ building blocks. Subcommands:
//   summary     the seed's table from the built graph: shapes, parameters, MACs
//   train-step  one SGD step on a random batch (a smoke test of the training graph)
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

#include <CLI/CLI.hpp>

#include "model/session.h"
#include "model/summary.h"

namespace {

using alexnet::model::ModelOptions;

// Quiet TensorFlow's informational logs (session start-up) unless the user configured them.
// (The oneDNN notice is printed while the library loads, before main(); TF_ENABLE_ONEDNN_OPTS=0
// silences it but also turns off the faster oneDNN kernels, so it stays.)
void QuietTensorFlow() { setenv("TF_CPP_MIN_LOG_LEVEL", "2", /*overwrite=*/0); }

void AddModelOptions(CLI::App* cmd, ModelOptions* o, std::string* init) {
  cmd->add_option("--classes", o->num_classes, "number of classes (fc8 units)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--input-size", o->input_size, "input height = width in pixels")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--dropout", o->dropout_rate, "dropout rate on fc6/fc7 (0 = off)")
      ->check(CLI::Range(0.0f, 0.95f))->capture_default_str();
  cmd->add_flag("--lrn,!--no-lrn", o->lrn, "local response normalisation after conv1/conv2")
      ->capture_default_str();
  cmd->add_option("--init", *init, "weight initialisation: paper (N(0, 0.01)) or he")
      ->check(CLI::IsMember({"paper", "he"}))->capture_default_str();
  cmd->add_option("--seed", o->seed, "random seed")->capture_default_str();
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

}  // namespace

int main(int argc, char** argv) {
  QuietTensorFlow();
  CLI::App app{"AlexNet in C++ from TensorFlow building blocks, step by step"};
  app.require_subcommand(1);
  ModelOptions opts;
  std::string init = "paper";

  auto* summary = app.add_subcommand("summary", "print the layer table from the built graph");
  AddModelOptions(summary, &opts, &init);
  bool markdown = false;
  summary->add_flag("--markdown", markdown, "print the table as Markdown");

  auto* train_step = app.add_subcommand("train-step", "run SGD steps on one random batch");
  AddModelOptions(train_step, &opts, &init);
  int batch = 8, steps = 1;
  float lr = 0.01f;
  train_step->add_option("--lr", lr, "learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  train_step->add_option("--batch", batch, "images per batch")->check(CLI::PositiveNumber)->capture_default_str();
  train_step->add_option("--steps", steps, "number of steps")->check(CLI::PositiveNumber)->capture_default_str();

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
  opts.init = init == "he" ? alexnet::model::Init::kHe : alexnet::model::Init::kPaper;
  if (*summary) return RunSummary(opts, markdown);
  if (*train_step) return RunTrainStep(opts, batch, steps, lr);
  return 2;
}
