#include "cli/commands.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "cli/flags.h"
#include "cli/quiet_start.h"
#include "cli/report_commands.h"
#include "cli/validators.h"
#include "model/summary.h"
#include "model/timing.h"
#include "train/cluster.h"
#include "train/commands.h"
#include "train/launcher.h"
#include "train/trainer.h"

namespace alexnet::cli {

namespace {

std::string DefaultRunDir() {
  const auto t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "runs/%Y%m%d-%H%M%S", std::localtime(&t));
  return buf;
}

// The recipe's flags of `alexnet train` (the paper's values by default).
void AddRecipeOptions(CLI::App* cmd, train::Recipe* r) {
  cmd->add_option("--batch", r->batch, "images per step")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--lr", r->lr, "initial learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  static const std::map<std::string, train::LrSchedule> kSchedules = {{"plateau", train::LrSchedule::kPlateau},
                                                                       {"step", train::LrSchedule::kStep}};
  cmd->add_option("--lr-schedule", r->schedule,
                  "plateau: /10 when validation top-1 stops improving; step: /10 every --lr-step epochs")
      ->transform(CLI::CheckedTransformer(kSchedules).description(""))
      ->type_name("{plateau,step}")
      ->default_str("plateau");
  cmd->add_option("--lr-step", r->step_epochs, "epochs between divisions (step schedule)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--lr-patience", r->patience, "epochs without improvement before /10 (plateau)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--momentum", r->momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--weight-decay", r->weight_decay, "L2 weight decay on weights")->capture_default_str();
  cmd->add_flag("--random-crop,!--no-random-crop", r->random_crop, "random C x C crops (default: on)");
  cmd->add_flag("--flip,!--no-flip", r->flip, "random horizontal flips (default: on)");
  cmd->add_flag("--pca-color,!--no-pca-color", r->pca_color, "PCA colour augmentation (default: on)");
}

// The data split and run-folder flags of `alexnet train`.
void AddTrainRunOptions(CLI::App* cmd, train::TrainConfig* c) {
  cmd->add_option("--run", c->run.run_dir, "run folder (default runs/<date-time>)");
  cmd->add_option("--val-fraction", c->data.val_fraction, "validation split of the training data")
      ->check(CLI::Range(0.0, 0.9))->capture_default_str();
  cmd->add_option("--train-limit", c->data.train_limit, "use only this many training images (0 = all)")
      ->check(kNonNegative)->capture_default_str();
  cmd->add_option("--val-limit", c->data.val_limit, "use only this many validation images (0 = all)")
      ->check(kNonNegative)->capture_default_str();
  cmd->add_flag("--per-pixel-mean", c->data.per_pixel_mean, "subtract the paper's mean image");
  cmd->add_option("--stats-images", c->data.stats_images, "images sampled for mean/PCA statistics (0 = all)")
      ->capture_default_str();
  cmd->add_option("--workers", c->run.workers, "input pipeline threads")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--threads", c->run.threads, "TensorFlow threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--checkpoint-every", c->run.checkpoint_every, "steps between checkpoints (and every epoch end)")
      ->capture_default_str();
  cmd->add_option("--keep", c->run.keep_checkpoints, "checkpoints kept besides the best")->capture_default_str();
  cmd->add_option("--log-every", c->run.log_every_s, "seconds between progress lines when not on a terminal")
      ->capture_default_str();
}

// The data-parallel flags of `alexnet train` (docs/scaling.md).
struct ClusterFlags {
  std::string list;
  int task = 0;
  int local_workers = 0;
  double timeout_s = model::ClusterSpec().collective_timeout_s;
  double startup_timeout_s = model::ClusterSpec().startup_timeout_s;
  CLI::Option* list_option = nullptr;
  CLI::Option* task_option = nullptr;
  CLI::Option* local_option = nullptr;
};

void AddClusterOptions(CLI::App* cmd, ClusterFlags* f) {
  f->list_option = cmd->add_option("--cluster", f->list,
                                   "data-parallel training: HOST:PORT of every worker, comma-separated (task 0 is the "
                                   "chief; TF_CONFIG is read when not given). Trusted networks only: no TLS, no "
                                   "authentication");
  f->task_option = cmd->add_option("--task", f->task, "this process's index in --cluster")->check(kNonNegative);
  f->local_option = cmd->add_option("--local-workers", f->local_workers,
                                    "start N data-parallel workers on this machine (loopback only)")
                        ->check(CLI::Range(1, 64))
                        ->excludes(f->list_option)
                        ->excludes(f->task_option);
  cmd->add_option("--collective-timeout", f->timeout_s,
                  "seconds a worker waits for the others in a step before failing")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--startup-timeout", f->startup_timeout_s,
                  "seconds a worker waits at start for the others (they load data and statistics first)")
      ->check(CLI::PositiveNumber)->capture_default_str();
}

// The cluster of this process: --cluster/--task, else TF_CONFIG, else none.
Result<model::ClusterSpec> ClusterOf(const ClusterFlags& f) {
  model::ClusterSpec c;
  if (f.list_option->count() > 0) {
    ALEXNET_ASSIGN_OR_RETURN(c, train::ParseClusterList(f.list, f.task));
  } else if (const char* tf_config = std::getenv("TF_CONFIG"); tf_config && *tf_config) {
    ALEXNET_ASSIGN_OR_RETURN(c, train::ClusterFromTfConfig(tf_config));
  } else if (f.task_option->count() > 0) {
    return Status::BadInput("", "--task needs --cluster (or TF_CONFIG)");
  }
  c.collective_timeout_s = f.timeout_s;
  c.startup_timeout_s = f.startup_timeout_s;
  return c;
}

// `--local-workers N`: this process only starts the N workers (itself again, with --cluster).
Status RunLocalWorkers(const ClusterFlags& f, const std::string& run_dir) {
  train::LocalWorkers w;
  w.count = f.local_workers;
  std::error_code ec;
  w.program = std::filesystem::read_symlink("/proc/self/exe", ec).string();  // this binary, by its name
  if (ec) w.program = "/proc/self/exe";
  w.run_dir = run_dir;
  w.collective_timeout_s = f.timeout_s;
  ALEXNET_ASSIGN_OR_RETURN(std::vector<std::string> args, train::OwnArguments());
  bool has_run = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--local-workers" && i + 1 < args.size()) {
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      --i;
    } else if (args[i].rfind("--local-workers=", 0) == 0) {
      args.erase(args.begin() + static_cast<long>(i));
      --i;
    } else {
      has_run |= args[i] == "--run" || args[i].rfind("--run=", 0) == 0;
    }
  }
  if (!has_run) args.insert(args.end(), {"--run", run_dir});  // one run folder for all
  w.args = std::move(args);
  StartChildrenQuietly();
  ALEXNET_ASSIGN_OR_RETURN(const int chief, train::RunLocalWorkers(w, std::cout));
  if (chief == 0) return Status::Ok();
  return Status::Unavailable("", "the chief (task 0) exited with status " + std::to_string(chief));
}

}  // namespace

Command AddSummaryCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("summary", "print the layer table from the built graph");
  auto opts = std::make_shared<model::ModelOptions>();
  auto markdown = std::make_shared<bool>(false);
  AddShapeOptions(cmd, opts.get());
  AddModelOptions(cmd, opts.get());
  cmd->add_flag("--markdown", *markdown, "print the table as Markdown");
  return {cmd, [opts, markdown]() -> Status {
            ALEXNET_ASSIGN_OR_RETURN(const model::Summary s, model::BuildSummary(*opts));
            (*markdown ? model::PrintSummaryMarkdown : model::PrintSummary)(s, std::cout);
            return Status::Ok();
          }};
}

Command AddTrainCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("train", "train AlexNet (paper recipe by default)");
  auto c = std::make_shared<train::TrainConfig>();
  auto resume = std::make_shared<bool>(false);
  AddDataOptions(cmd, &c->data);
  AddModelOptions(cmd, &c->model);
  AddStandardizeFlag(cmd, &c->model.standardize_input);
  cmd->add_flag("--resume", *resume, "continue the run in --run from its newest checkpoint");
  cmd->add_option("--epochs", c->recipe.epochs, "epochs")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--time-budget", c->recipe.time_budget_s, "stop after this many seconds of training (0 = none)")
      ->check(kNonNegative)
      ->capture_default_str();
  AddPrecisionOption(cmd, &c->model.precision, "fp32, or bf16 mixed precision (--resume: the run's unless given)");
  AddRecipeOptions(cmd, &c->recipe);
  AddTrainRunOptions(cmd, c.get());
  auto cluster = std::make_shared<ClusterFlags>();
  AddClusterOptions(cmd, cluster.get());
  cmd->callback([c, resume] {
    if (*resume && c->run.run_dir.empty()) throw CLI::ValidationError("--resume", "needs --run <run folder>");
  });
  return {cmd, [cmd, c, resume, cluster]() -> Status {
            if (c->run.run_dir.empty()) c->run.run_dir = DefaultRunDir();
            if (cluster->local_option->count() > 0) return RunLocalWorkers(*cluster, c->run.run_dir);
            ALEXNET_ASSIGN_OR_RETURN(c->cluster, ClusterOf(*cluster));
            if (c->cluster.enabled() && c->recipe.batch < c->cluster.size()) {
              return Status::BadInput("", "--batch " + std::to_string(c->recipe.batch) + " is smaller than the " +
                                           std::to_string(c->cluster.size()) + " workers that share it");
            }
            train::TrainOverrides overrides;
            auto given = [cmd](const char* name) { return cmd->get_option(name)->count() > 0; };
            overrides.epochs = given("--epochs");
            overrides.time_budget = given("--time-budget");
            overrides.precision = given("--precision");
            overrides.checkpoint_every = given("--checkpoint-every");
            overrides.keep_checkpoints = given("--keep");
            overrides.log_every = given("--log-every");
            overrides.fixed = TrainOptionsFixedOnResume(*cmd);
            return train::Train(*c, *resume, overrides, ReportEpochHook(), std::cout);
          }};
}

Command AddEvalCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("eval", "top-1/top-5 error, per-class accuracy, confusion matrix");
  auto r = std::make_shared<train::EvalRequest>();
  AddRunOptions(cmd, &r->run_dir, &r->checkpoint);
  AddSplitOption(cmd, &r->split, {train::Split::kTest, train::Split::kVal},
                 "test (Fashion-MNIST's 10,000) or val (the run's validation split)");
  cmd->add_option("--limit", r->limit,
                  "evaluate only the first N images of the split (0 = all; val: as many as training used)")
      ->check(kNonNegative)->capture_default_str();
  cmd->add_flag("--ten-crop", r->ten_crop, "also average the softmax over 10 crops (corners, centre, mirrors)");
  cmd->add_option("--batch", r->batch, "crops per forward pass (ten-crop: batch/10 images x 10 crops)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--workers", r->workers, "input pipeline threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--output", r->out_dir, "folder for the CSV files (default <run>/eval-<split>)");
  auto precision = std::make_shared<model::Precision>();
  auto* given = AddPrecisionOption(cmd, precision.get(), "fp32 or bf16 (default: the run's)");
  return {cmd, [r, precision, given]() {
            if (given->count() > 0) r->session.precision = *precision;
            return train::EvaluateRun(*r, std::cout).status();
          }};
}

Command AddPredictCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("predict", "top classes of image files or folders");
  auto r = std::make_shared<train::PredictRequest>();
  auto json = std::make_shared<bool>(false);
  AddRunOptions(cmd, &r->run_dir, &r->checkpoint);
  cmd->add_option("inputs", r->inputs, "image files or folders")->required();
  cmd->add_flag("--json", *json, "print JSON");
  cmd->add_option("--top", r->top, "classes to show")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--batch", r->batch, "images per batch")->check(CLI::PositiveNumber)->capture_default_str();
  auto precision = std::make_shared<model::Precision>();
  auto* given = AddPrecisionOption(cmd, precision.get(), "fp32 or bf16 (default: the run's)");
  return {cmd, [r, json, precision, given]() -> Status {
            if (given->count() > 0) r->session.precision = *precision;
            ALEXNET_ASSIGN_OR_RETURN(const train::PredictOutcome o, train::PredictRun(*r));
            for (const train::Prediction& p : o.results) {
              if (!p.error.empty()) std::cerr << "alexnet predict: " << p.path << ": " << p.error << "\n";
            }
            std::cout << (*json ? train::PredictionsJson(o).dump(2) + "\n" : train::PredictionsText(o));
            if (o.failed() == 0) return Status::Ok();
            return Status::BadInput("", std::to_string(o.failed()) + " of " + std::to_string(o.results.size()) +
                                         " inputs could not be read");
          }};
}

Command AddExportCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("export", "write a frozen inference graph (.pb)");
  auto run_dir = std::make_shared<std::string>(), checkpoint = std::make_shared<std::string>(),
       output = std::make_shared<std::string>();
  AddRunOptions(cmd, run_dir.get(), checkpoint.get());
  cmd->add_option("--output", *output, "output file (default <run>/alexnet_frozen.pb)");
  return {cmd, [=]() { return train::ExportFrozenGraph(*run_dir, *checkpoint, *output, std::cout).status(); }};
}

Command AddBenchInputCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("bench-input", "images/s of the input pipeline vs a 1-thread baseline");
  auto spec = std::make_shared<train::DataSpec>();
  auto n = std::make_shared<std::array<int, 3>>(std::array<int, 3>{2, 3000, 128});  // workers, images, batch
  AddDataOptions(cmd, spec.get());
  cmd->add_option("--workers", (*n)[0], "loader threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--images", (*n)[1], "timed images")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--batch", (*n)[2], "batch size")->check(CLI::PositiveNumber)->capture_default_str();
  return {cmd, [spec, n]() { return train::BenchInput(*spec, (*n)[0], (*n)[1], (*n)[2], std::cout); }};
}

Command AddExtractCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("extract", "write dataset images as PNG files (to try predict on)");
  auto spec = std::make_shared<train::DataSpec>();
  auto split = std::make_shared<train::Split>(train::Split::kTest);
  auto out = std::make_shared<std::string>("samples");
  auto first = std::make_shared<int>(0), count = std::make_shared<int>(5);
  AddDataOptions(cmd, spec.get());
  AddSplitOption(cmd, split.get(), {train::Split::kTest, train::Split::kTrain}, "test or train");
  cmd->add_option("--first", *first, "index of the first image")->check(kNonNegative)->capture_default_str();
  cmd->add_option("--count", *count, "number of images")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--out", *out, "output folder")->capture_default_str();
  return {cmd, [=]() {
            spec->val_fraction = 0;
            return train::ExtractImages(*spec, *split, *first, *count, *out, std::cout, std::cerr);
          }};
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
  return {cmd, [=]() { return train::RunTrainSteps(*opts, *batch, *steps, *lr, std::cout); }};
}

Command AddTimeCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("time", "forward and backward milliseconds per layer (as `caffe time`)");
  auto o = std::make_shared<model::TimingOptions>();
  AddShapeOptions(cmd, &o->model);
  AddModelOptions(cmd, &o->model);
  AddPrecisionOption(cmd, &o->model.precision, "fp32 or bf16 mixed precision");
  AddLrnKernelOption(cmd, &o->model.lrn_kernel);
  cmd->add_option("--batch", o->batch, "images per batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--iterations", o->iterations, "timed training steps and inference batches")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--traced", o->traced, "traced steps for the per-layer table (0: speeds only)")
      ->check(kNonNegative)->capture_default_str();
  cmd->add_option("--threads", o->threads, "TensorFlow threads (0 = all cores)")->capture_default_str();
  return {cmd, [o]() -> Status {
            ALEXNET_ASSIGN_OR_RETURN(const model::TimingReport t, model::TimeLayers(*o));
            std::cout << "alexnet time: batch " << t.batch << ", input " << t.input_size << " x " << t.input_size
                      << ", " << model::PrecisionName(t.precision) << ", LRN kernel "
                      << model::LrnKernelName(o->model.lrn_kernel) << ", " << o->iterations
                      << " timed steps after 1 warm-up, " << o->traced << " traced\n"
                      << model::FormatTiming(t);
            return Status::Ok();
          }};
}

}  // namespace alexnet::cli
