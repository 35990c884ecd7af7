// `alexnet experiment dropout` (experiment.h): runs identical except for the dropout rate on
// fc6/fc7 (0.5, the paper's, and 0.0), on a training subset small enough to overfit quickly.
// After every epoch each model is evaluated on that same training subset with dropout off and
// the centre crop (train_eval.h: the running training accuracy of metrics.csv has dropout on,
// which would flatter the model without dropout), so "gap" = training top-1 - validation top-1,
// measured the same way on both sides. This file is its per-epoch report: the table, the
// findings and the figure, of one seed's runs or of their mean over seeds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace alexnet::report {

struct DropoutEpoch {
  int64_t epoch = 0;
  double train_top1 = 0;          // training subset, centre crop, dropout off (train_eval.csv)
  double train_top1_running = 0;  // metrics.csv: running mean during the epoch, dropout on
  double train_loss = 0;          // metrics.csv: running cross-entropy during the epoch
  double val_top1 = 0;            // metrics.csv: validation split, centre crop
  double val_loss = 0;
  double gap() const { return train_top1 - val_top1; }
};

struct DropoutRun {
  float rate = 0;                  // dropout rate on fc6/fc7
  std::vector<DropoutEpoch> epochs;
  double train_seconds = 0;        // training time recorded in metrics.csv (last epoch)
  double wall_seconds = 0;         // whole run incl. statistics and evaluations (0 = unknown)
};

// Reads <run>/metrics.csv and <run>/train_eval.csv (epochs present in both).
Result<DropoutRun> ReadDropoutRun(const std::string& run_dir, float rate);

// The runs of several seeds as one: every number the mean over the runs, per epoch (epochs
// that all runs have); the times are the sums.
DropoutRun MeanDropoutRun(const std::vector<DropoutRun>& runs);

// The per-epoch table (Markdown): training top-1, validation top-1 and their gap for both runs.
std::string DropoutTable(const DropoutRun& with, const DropoutRun& without);

// What was measured, in sentences computed from the numbers (whichever way they came out).
std::string DropoutFindings(const DropoutRun& with, const DropoutRun& without);

// What the report has said since the experiment's first version: the columns explained, the
// table, the findings, the running training accuracy and the time.
std::string DropoutSections(const DropoutRun& with, const DropoutRun& without);

// <png> with gnuplot: top-1 (train and validation, both runs) and the gap per epoch.
Status DrawDropoutPlot(const DropoutRun& with, const DropoutRun& without, const std::string& png_path,
                       const std::string& gnuplot = "gnuplot");

// "dropout-0.5", "dropout-0.0" (the variants' names; run folders add "-seed<n>").
std::string DropoutRunName(float rate);
// "0.5", "0.0", "0.25".
std::string DropoutRate(float rate);

}  // namespace alexnet::report
