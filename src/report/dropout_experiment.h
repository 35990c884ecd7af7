// `alexnet experiment dropout`: two training runs identical except for the dropout rate on
// fc6/fc7 (0.5, the paper's, and 0.0), on a training subset small enough to overfit quickly.
// After every epoch both models are evaluated on that same training subset with dropout off and
// the centre crop (the running training accuracy of metrics.csv has dropout on, which would
// flatter the model without dropout), so "gap" = training top-1 - validation top-1, measured
// the same way on both sides.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "data/status.h"
#include "model/layers.h"
#include "train/config.h"

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

// The per-epoch table (Markdown): training top-1, validation top-1 and their gap for both runs.
std::string DropoutTable(const DropoutRun& with, const DropoutRun& without);

// What was measured, in sentences computed from the numbers (whichever way they came out).
std::string DropoutFindings(const DropoutRun& with, const DropoutRun& without);

// <png> with gnuplot: top-1 (train and validation, both runs) and the gap per epoch.
Status DrawDropoutPlot(const DropoutRun& with, const DropoutRun& without, const std::string& png_path,
                       const std::string& gnuplot = "gnuplot");

struct DropoutExperimentOptions {
  train::DataSpec data;           // source, limits, resize/crop
  int64_t epochs = 20;
  int batch = 64;
  float lr = 2e-4f;
  model::Init init = model::Init::kHe;
  bool standardize = false;       // divide the input by the pixels' standard deviation (train --standardize)
  int64_t seed = 1;
  bool augment = false;           // random crops, flips, PCA colour (off: dropout is the only regulariser
                                  // besides weight decay, so overfitting shows sooner)
  float dropout = 0.5f;           // the rate compared with 0
  int workers = 2;
  int threads = 0;
  std::string out_dir = "runs/dropout-experiment";
  bool report_only = false;       // redo the table and plot from existing run folders
  std::string gnuplot = "gnuplot";
  std::string command;            // the command line as typed, recorded in dropout.md ("": none)
};

// Runs both trainings (train::Train, run folders <out>/dropout-<rate>), then writes
// <out>/dropout.md and <out>/dropout.png and prints the table. Progress (and problems that do
// not stop a run, such as curves not drawn) goes to `out`.
Status RunDropoutExperiment(const DropoutExperimentOptions& options, std::ostream& out);

// Only the report: dropout.md and dropout.png from the run folders in options.out_dir.
Status WriteDropoutReport(const DropoutExperimentOptions& options, std::ostream& out);

// "dropout-0.5", "dropout-0.0".
std::string DropoutRunName(float rate);

}  // namespace alexnet::report
