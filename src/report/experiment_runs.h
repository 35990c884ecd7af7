// One run of a design-claim experiment (experiment.h): a variant of the shared settings trained
// with one seed, and what the run recorded, read back from its folder.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "util/status.h"
#include "report/experiment.h"
#include "report/gnuplot.h"
#include "train/config.h"

namespace alexnet::report {

// One thing changed on top of the experiment's shared settings.
struct Variant {
  std::string name;   // in folder names: "relu", "tanh", "lrn", "no-lrn", "pool-3-2", ...
  std::string label;  // in tables and plots: "ReLU", "tanh", "LRN", "no LRN", "3/2 (overlapping)", ...
  std::function<void(train::TrainConfig*)> apply;
};

// One line of <run>/steps.csv: a training step as train::StepEnd reports it.
struct StepRow {
  int64_t step = 0, epoch = 0;
  int batch = 0, correct = 0;
  double loss = 0, step_seconds = 0, train_seconds = 0;
};

// What one training run recorded, read back from its folder.
struct RunRecord {
  std::string variant;
  int64_t seed = 0;
  std::vector<MetricsRow> epochs;       // metrics.csv
  std::map<int64_t, double> train_top1; // train_eval.csv: the training subset after each epoch, centre crop,
                                        // dropout off (only experiments that measure the gap record it)
  std::vector<StepRow> steps;           // steps.csv
  double wall_seconds = 0;              // wall_seconds.txt: the whole run (0 = unknown)
  std::string diverged;                 // diverged.txt: why the run stopped (the loss became NaN ...), or ""
};

// "<variant>-seed<n>".
std::string RunFolderName(const std::string& variant, int64_t seed);

// The run's configuration: the shared settings, then the variant's change.
train::TrainConfig VariantConfig(const ExperimentOptions& o, const Variant& v, int64_t seed);

// Trains one run into o.out_dir/RunFolderName(...) with the per-epoch curves, steps.csv and,
// with train_eval, train_eval.csv; then writes wall_seconds.txt. A run whose loss becomes NaN
// or infinite is a result, not an error: it is recorded in diverged.txt and the
// experiment goes on (its measures are then missing, "-", and the report names it).
Status TrainVariant(const ExperimentOptions& o, const Variant& v, int64_t seed, bool train_eval, std::ostream& out);

Result<RunRecord> ReadRunRecord(const std::string& run_dir);

}  // namespace alexnet::report
