// train: the recipe, the run folder, resuming, and data-parallel training (--cluster, --task,
// --local-workers: docs/scaling.md).
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/quiet_start.h"
#include "cli/validators.h"
#include "report/epoch_report.h"
#include "train/cluster.h"
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

void AddStandardizeFlag(CLI::App* cmd, bool* standardize) {
  cmd->add_flag("--standardize", *standardize,
                "divide the mean-subtracted input by the pixels' standard deviation (default: off, as in the "
                "paper; recommended with --init he, which then allows the paper's learning rates)");
}

// The recipe's flags (the paper's values by default).
void AddRecipeOptions(CLI::App* cmd, train::Recipe* r) {
  cmd->add_option("--batch", r->batch, "images per step")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--lr", r->lr, "initial learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  AddLrScheduleOption(cmd, &r->schedule);
  cmd->add_option("--lr-step", r->step_epochs, "epochs between divisions (step schedule)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--lr-patience", r->patience, "epochs without improvement before /10 (plateau)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--warmup-steps", r->warmup_steps,
                  "linear warm-up: step s < N trains at (s+1)/N of the schedule's rate (any schedule; onecycle: "
                  "the length of its rise instead of 30% of the steps); 0 = none, as in the paper")
      ->check(kNonNegative)->capture_default_str();
  cmd->add_option("--label-smoothing", r->label_smoothing,
                  "train against (1-EPS) x one-hot + EPS/classes; the training loss shown is against these "
                  "targets, validation's against the labels; 0 = off, as in the paper")
      ->type_name("EPS")->check(kFraction)->capture_default_str();
  cmd->add_option("--momentum", r->momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--weight-decay", r->weight_decay, "L2 weight decay on weights")->capture_default_str();
  cmd->add_flag("--random-crop,!--no-random-crop", r->random_crop, "random C x C crops (default: on)");
  cmd->add_flag("--flip,!--no-flip", r->flip, "random horizontal flips (default: on)");
  cmd->add_flag("--pca-color,!--no-pca-color", r->pca_color, "PCA colour augmentation (default: on)");
}

// The data split and run-folder flags.
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

// Fine-tuning (train/fine_tune.h).
void AddFineTuneOptions(CLI::App* cmd, train::FineTune* f) {
  cmd->add_option("--init-from", f->init_from,
                  "fine-tune: start from this run's best (else newest) checkpoint; every layer whose shapes match "
                  "is copied, the others (fc8 for another class count) start anew. The run keeps the source's "
                  "input convention (resize, crop, mean, --standardize, LRN, activation, pooling); a flag "
                  "contradicting it is an error")
      ->type_name("RUN");
  AddTrainLayersOption(cmd, &f->train_layers,
                       "train only these layers (of conv1-conv5, fc6, fc7, fc8); the others are frozen: no update, "
                       "no weight decay, no backward pass below the lowest one. Also without --init-from (frozen "
                       "random layers)");
}

// The data-parallel flags (docs/scaling.md).
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

// `--local-workers N`: this process only starts the N workers (this program again, with the
// same arguments and --cluster: train/launcher.h).
Status RunLocalWorkers(const ClusterFlags& f, const std::string& run_dir, const CommandLine& line) {
  train::LocalWorkers w;
  w.count = f.local_workers;
  w.program = train::ThisProgram();
  w.run_dir = run_dir;
  w.collective_timeout_s = f.timeout_s;
  w.args = train::LocalWorkerArguments({line.argv.begin() + 1, line.argv.end()}, run_dir);
  StartChildrenQuietly();
  ALEXNET_ASSIGN_OR_RETURN(const int chief, train::RunLocalWorkers(w, std::cout));
  if (chief == 0) return Status::Ok();
  return Status::Unavailable("", "the chief (task 0) exited with status " + std::to_string(chief));
}

}  // namespace

Command AddTrainCommand(CLI::App* app) {
  auto* cmd = app->add_subcommand("train", "train AlexNet (paper recipe by default)");
  auto c = std::make_shared<train::TrainConfig>();
  auto resume = std::make_shared<bool>(false);
  AddDataOptions(cmd, &c->data);
  AddModelOptions(cmd, &c->model);
  AddStandardizeFlag(cmd, &c->model.standardize_input);
  cmd->add_flag("--resume", *resume, "continue the run in --run from its newest checkpoint");
  cmd->add_option("--epochs", c->recipe.epochs, "epochs")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--time-budget", c->recipe.time_budget_s, "stop after this many seconds of training (0 = none); cosine and onecycle span it without --epochs")
      ->check(kNonNegative)
      ->capture_default_str();
  AddPrecisionOption(cmd, &c->model.precision, "fp32, or bf16 mixed precision (--resume: the run's unless given)");
  AddRecipeOptions(cmd, &c->recipe);
  AddTrainRunOptions(cmd, c.get());
  AddFineTuneOptions(cmd, &c->fine_tune);
  auto cluster = std::make_shared<ClusterFlags>();
  AddClusterOptions(cmd, cluster.get());
  cmd->callback([cmd, c, resume] {
    if (*resume && c->run.run_dir.empty()) throw CLI::ValidationError("--resume", "needs --run <run folder>");
    // cosine and onecycle must know where their last step is: with --epochs, at the end of the
    // run's epochs (a time budget may cut it); with a time budget alone, where the budget ends
    // (the length is fixed once the first steps are timed: schedule.h, StepsInBudget).
    if (!*resume && train::PerStepSchedule(c->recipe.schedule) && cmd->get_option("--epochs")->count() == 0) {
      if (c->recipe.time_budget_s > 0) {
        c->recipe.schedule_over_budget = true;
      } else if (cmd->get_option("--time-budget")->count() > 0) {
        throw CLI::ValidationError("--lr-schedule", std::string(NameIn(train::kLrScheduleNames, c->recipe.schedule)) +
                                                        " needs --epochs or a --time-budget above 0: the length "
                                                        "the schedule spans");
      }
    }
  });
  return {cmd, [cmd, c, resume, cluster](const CommandLine& line) -> Status {
            if (c->run.run_dir.empty()) c->run.run_dir = DefaultRunDir();
            // The table's own input unless --crop says otherwise (torchvision's: 224).
            if (cmd->get_option("--crop")->count() == 0) c->data.crop = model::DefaultInputSize(c->model.architecture);
            // Each process would time its own steps and train on a curve of its own length.
            const Status one_process =
                c->recipe.schedule_over_budget
                    ? Status::BadInput("", "--lr-schedule " + std::string(NameIn(train::kLrScheduleNames, c->recipe.schedule)) +
                                               " over a --time-budget without --epochs is for one process; give --epochs "
                                               "with --local-workers or a cluster")
                    : Status::Ok();
            if (cluster->local_option->count() > 0) {
              ALEXNET_RETURN_IF_ERROR(one_process);
              if (c->fine_tune.used()) {
                return Status::BadInput("", "--init-from and --train-layers are not supported with --local-workers "
                                            "yet; fine-tune in one process");
              }
              return RunLocalWorkers(*cluster, c->run.run_dir, line);
            }
            ALEXNET_ASSIGN_OR_RETURN(c->cluster, ClusterOf(*cluster));
            if (c->cluster.enabled()) ALEXNET_RETURN_IF_ERROR(one_process);
            if (c->cluster.enabled() && c->recipe.batch < c->cluster.size()) {
              return Status::BadInput("", "--batch " + std::to_string(c->recipe.batch) + " is smaller than the " +
                                           std::to_string(c->cluster.size()) + " workers that share it");
            }
            train::TrainOverrides overrides;
            overrides.given = GivenOptions(*cmd);
            // Each epoch end, for the learner: curves and conv1 filters (problems said on stderr).
            return train::Train(*c, *resume, overrides, report::MakeEpochReportHook(std::cerr), std::cout);
          }};
}

}  // namespace alexnet::cli
