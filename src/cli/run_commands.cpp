// eval, predict, export: what reads a trained run.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/validators.h"
#include "train/commands.h"
#include "train/saved_model.h"

namespace alexnet::cli {

Command AddEvalCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("eval", "top-1/top-5 error, per-class accuracy, confusion matrix");
  auto r = std::make_shared<train::EvalRequest>();
  auto usage = AddRunOrModelOptions(cmd, &r->run_dir, &r->checkpoint, &r->model_dir);
  AddSplitOption(cmd, &r->split, {train::Split::kTest, train::Split::kVal, train::Split::kTrain},
                 "test (Fashion-MNIST's 10,000), val (the run's validation split) or train (the images the "
                 "run trained on, measured like validation: is it overfitting?)");
  cmd->add_option("--limit", r->limit,
                  "evaluate only the first N images of the split (0 = all; val and train: as many as training "
                  "used)")
      ->check(kNonNegative)->capture_default_str();
  cmd->add_flag("--ten-crop", r->ten_crop, "also average the softmax over 10 crops (corners, centre, mirrors)");
  cmd->add_option("--batch", r->batch, "crops per forward pass (ten-crop: batch/10 images x 10 crops)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--workers", r->workers, "input pipeline threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--output", r->out_dir,
                  "folder for the CSV files (default <run>/eval-<split>, <run>/eval-images; with --model ./eval-*)");
  auto* data = cmd->add_option("--data", r->data,
                               "evaluate every image of this folder root/<class>/<image> instead of a split "
                               "(classes: the run's; an imported run has no split of its own)");
  cmd->add_option("--list", r->list_file,
                  "evaluate every image of a list file of \"path label\" lines (label: class index or name), e.g. "
                  "ILSVRC-2012's val.txt")
      ->excludes(data);
  auto precision = std::make_shared<model::Precision>();
  auto* given = AddPrecisionOption(cmd, precision.get(), "fp32 or bf16 (default: the run's)");
  return {cmd,
          [r, precision, given](const CommandLine&) {
            if (given->count() > 0) r->session.precision = *precision;
            return train::EvaluateRun(*r, std::cout).status();
          },
          "", usage};
}

Command AddPredictCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("predict", "top classes of image files or folders");
  auto r = std::make_shared<train::PredictRequest>();
  auto json = std::make_shared<bool>(false);
  auto usage = AddRunOrModelOptions(cmd, &r->run_dir, &r->checkpoint, &r->model_dir);
  cmd->add_option("inputs", r->inputs, "image files or folders")->required();
  cmd->add_flag("--json", *json, "print JSON");
  cmd->add_option("--top", r->top, "classes to show")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--batch", r->batch, "images per batch")->check(CLI::PositiveNumber)->capture_default_str();
  auto precision = std::make_shared<model::Precision>();
  auto* given = AddPrecisionOption(cmd, precision.get(), "fp32 or bf16 (default: the run's)");
  return {cmd, [r, json, precision, given](const CommandLine&) -> Status {
            if (given->count() > 0) r->session.precision = *precision;
            ALEXNET_ASSIGN_OR_RETURN(const train::PredictOutcome o, train::PredictRun(*r));
            for (const train::Prediction& p : o.results) {
              if (!p.error.empty()) std::cerr << "alexnet predict: " << p.path << ": " << p.error << "\n";
            }
            std::cout << (*json ? train::PredictionsJson(o).dump(2) + "\n" : train::PredictionsText(o));
            if (o.failed() == 0) return Status::Ok();
            return Status::BadInput("", std::to_string(o.failed()) + " of " + std::to_string(o.results.size()) +
                                         " inputs could not be read");
          },
          "", usage};
}

Command AddExportCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("export", "write a frozen inference graph (.pb) or a SavedModel");
  auto run_dir = std::make_shared<std::string>(), checkpoint = std::make_shared<std::string>(),
       output = std::make_shared<std::string>(), format = std::make_shared<std::string>("frozen");
  auto overwrite = std::make_shared<bool>(false);
  AddRunOptions(cmd, run_dir.get(), checkpoint.get());
  cmd->add_option("--format", *format,
                  "frozen: one GraphDef of constants (OpenCV's DNN module, TensorFlow 1 code); saved_model: "
                  "TensorFlow's deployment folder (Serving, tf.saved_model.load), preprocessing and classes inside")
      ->check(CLI::IsMember({"frozen", "saved_model"}))
      ->capture_default_str();
  cmd->add_option("--output", *output,
                  "output file or folder (default <run>/alexnet_frozen.pb, <run>/saved_model/1)");
  cmd->add_flag("--overwrite", *overwrite, "saved_model: replace a non-empty --output folder");
  return {cmd, [=](const CommandLine&) {
            if (*format == "saved_model") {
              return train::ExportSavedModel(*run_dir, *checkpoint, *output, *overwrite, std::cout).status();
            }
            return train::ExportFrozenGraph(*run_dir, *checkpoint, *output, std::cout).status();
          }};
}

}  // namespace alexnet::cli
