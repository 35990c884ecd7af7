// summary, train-step, time, gradcheck: the network without data.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/validators.h"
#include "model/gradcheck.h"
#include "model/precision.h"
#include "model/summary.h"
#include "model/timing.h"
#include "train/commands.h"

namespace alexnet::cli {

Command AddSummaryCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("summary", "print the layer table from the built graph");
  auto opts = std::make_shared<model::ModelOptions>();
  auto markdown = std::make_shared<bool>(false);
  auto run = std::make_shared<std::string>();
  AddShapeOptions(cmd, opts.get());
  AddModelOptions(cmd, opts.get());
  AddModelFromRunOption(cmd, run.get());
  cmd->add_flag("--markdown", *markdown, "print the table as Markdown");
  return {cmd,
          [opts, markdown, run](const CommandLine&) -> Status {
            ALEXNET_RETURN_IF_ERROR(UseRunModel(*run, opts.get()));
            ALEXNET_ASSIGN_OR_RETURN(const model::Summary s, model::BuildSummary(*opts));
            (*markdown ? model::PrintSummaryMarkdown : model::PrintSummary)(s, std::cout);
            return Status::Ok();
          },
          "", [cmd] { return ModelFromRunConflict(*cmd); }};
}

Command AddTrainStepCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("train-step", "run SGD steps on one random batch");
  auto opts = std::make_shared<model::ModelOptions>();
  auto batch = std::make_shared<int>(8), steps = std::make_shared<int>(1);
  auto lr = std::make_shared<float>(0.01f);
  AddShapeOptions(cmd, opts.get());
  AddModelOptions(cmd, opts.get());
  AddPrecisionOption(cmd, &opts->precision, "fp32 or bf16 mixed precision");
  AddLrnKernelOption(cmd, &opts->lrn_kernel);
  cmd->add_option("--batch", *batch, "images per batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--steps", *steps, "number of steps")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--lr", *lr, "learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  return {cmd, [=](const CommandLine&) { return train::RunTrainSteps(*opts, *batch, *steps, *lr, std::cout); }};
}

Command AddTimeCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("time", "forward and backward milliseconds per layer (as `caffe time`)");
  auto o = std::make_shared<model::TimingOptions>();
  auto run = std::make_shared<std::string>();
  AddShapeOptions(cmd, &o->model);
  AddModelOptions(cmd, &o->model);
  AddModelFromRunOption(cmd, run.get());
  AddPrecisionOption(cmd, &o->model.precision, "fp32 or bf16 mixed precision");
  AddLrnKernelOption(cmd, &o->model.lrn_kernel);
  cmd->add_option("--batch", o->batch, "images per batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--iterations", o->iterations, "timed training steps and inference batches")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--traced", o->traced, "traced steps for the per-layer table (0: speeds only)")
      ->check(kNonNegative)->capture_default_str();
  cmd->add_option("--threads", o->threads, "TensorFlow threads (0 = all cores)")->capture_default_str();
  AddTrainLayersOption(cmd, &o->train_layers,
                       "time fine-tuning's step: only these layers trained, the others frozen (as train's)");
  return {cmd, [o, run](const CommandLine&) -> Status {
            ALEXNET_RETURN_IF_ERROR(UseRunModel(*run, &o->model));
            ALEXNET_ASSIGN_OR_RETURN(const model::TimingReport t, model::TimeLayers(*o));
            std::string trained;
            for (const std::string& l : o->train_layers) trained += (trained.empty() ? "" : ",") + l;
            std::cout << "alexnet time: batch " << t.batch << ", input " << t.input_size << " x " << t.input_size
                      << ", " << model::PrecisionName(t.precision) << " on " << model::TensorFlowKernels()
                      << " kernels, LRN kernel "
                      << model::LrnKernelName(o->model.lrn_kernel)
                      << (trained.empty() ? "" : ", training " + trained + " only") << ", " << o->iterations
                      << " timed steps after 1 warm-up, " << o->traced << " traced\n"
                      << model::FormatTiming(t);
            return Status::Ok();
          },
          "", [cmd] { return ModelFromRunConflict(*cmd); }};
}

Command AddGradCheckCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand(
      "gradcheck", "TensorFlow's gradients vs the hand-written backward pass and finite differences, per tensor");
  auto o = std::make_shared<model::GradCheckOptions>();
  o->model.input_size = 67;  // the smallest input the table takes: seconds, not minutes
  o->model.num_classes = 5;
  o->model.init = model::Init::kHe;  // activations in the tens: LRN's denominator matters
  AddShapeOptions(cmd, &o->model);
  AddModelOptions(cmd, &o->model);
  AddLrnKernelOption(cmd, &o->model.lrn_kernel);
  cmd->add_option("--batch", o->batch, "images in the random batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--samples", o->samples, "values per tensor compared with finite differences")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--layer", o->layer, "only this layer's gradients: conv1, lrn1, pool1, ..., fc8, or loss");
  cmd->add_flag("--unrepaired-lrn-gradient", o->unrepaired_lrn_gradient,
                "build the graph without FixLrnGradientAttributes, to see TensorFlow 2.21's wrong C++ LRN gradient");
  auto usage = [o]() -> std::string {
    if (o->layer.empty()) return "";
    const std::vector<std::string> names = model::GradCheckLayerNames(o->model);
    std::string list;
    for (const std::string& n : names) {
      if (n == o->layer) return "";
      list += (list.empty() ? "" : ", ") + n;
    }
    return "--layer " + o->layer + ": no such layer; the layers are " + list;
  };
  return {cmd,
          [o](const CommandLine&) -> Status {
            ALEXNET_ASSIGN_OR_RETURN(const model::GradCheckReport report, model::RunGradCheck(*o));
            std::cout << model::FormatGradCheck(report);
            return model::GradCheckVerdict(report);
          },
          "", usage};
}

}  // namespace alexnet::cli
