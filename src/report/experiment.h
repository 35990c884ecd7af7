// `alexnet experiment relu|lrn|pooling|augmentation|dropout|all`: the paper's design claims, one
// controlled experiment each. An experiment trains every variant (ReLU vs tanh, LRN vs none, ...)
// once per seed, each run in its own folder <out>/<variant>-seed<n> (train::TrainingRun, so
// every run is an ordinary run folder that eval, inspect and filters can read), then writes
// <out>/<name>.md (the table of mean and spread over seeds, the setup and its reductions, the
// command that reproduces it, and a paragraph comparing the measurement with the paper's claim)
// and <out>/<name>.png (gnuplot).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"
#include "model/layers.h"
#include "train/config.h"

namespace alexnet::report {

enum class ExperimentKind { kRelu, kLrn, kPooling, kAugmentation, kDropout };
// Each experiment's name (its subcommand and folder), in the order `experiment all` runs them.
inline constexpr EnumNames<ExperimentKind, 5> kExperimentNames = {{{ExperimentKind::kRelu, "relu"},
                                                                   {ExperimentKind::kLrn, "lrn"},
                                                                   {ExperimentKind::kPooling, "pooling"},
                                                                   {ExperimentKind::kAugmentation, "augmentation"},
                                                                   {ExperimentKind::kDropout, "dropout"}}};

// In the order `experiment all` runs them.
const std::vector<ExperimentKind>& AllExperimentKinds();
const char* ExperimentName(ExperimentKind kind);  // "relu", "lrn", "pooling", "augmentation", "dropout"

// What every run of an experiment shares; the variant changes one thing on top of it.
struct ExperimentOptions {
  train::DataSpec data;            // source, limits, resize/crop
  int64_t epochs = 6;
  int batch = 64;
  float lr = 0.005f;               // constant: no schedule reacting to validation
  model::Init init = model::Init::kHe;
  bool standardize = true;         // divide the input by the pixels' standard deviation (train --standardize)
  float dropout = 0.5f;            // on fc6/fc7 (dropout: the rate compared with 0; relu: not used, 0)
  bool augment = false;            // random crops, flips, PCA colour (augmentation: set by its variants)
  model::Precision precision = model::Precision::kFp32;  // bf16: faster where the CPU has it
  std::vector<int64_t> seeds = {1, 2, 3};  // initialisation, data order, augmentation, dropout
  double target_error = 0.25;      // relu: the training error to reach (the paper's Figure 1: 25 %)
  int smooth_steps = 10;           // relu: training error = the mean over the last this many steps
  int workers = 2;
  int threads = 0;
  std::string out_dir;
  bool report_only = false;        // redo the report from the run folders in out_dir
  bool resume = false;             // keep the finished runs in out_dir and train the others (an
                                   // unfinished run starts again); the same experiment only
  std::string gnuplot = "gnuplot";
  std::string command;             // the command line as typed, recorded in the report ("": none)
};

// Defaults that run in about 5 to 15 minutes on 2 cores (docs/learn/7-training.md has the measured
// times), out_dir "runs/experiment-<name>".
ExperimentOptions DefaultExperimentOptions(ExperimentKind kind);

// The `alexnet experiment <name> ...` line that runs exactly `o` (every setting spelled out).
std::string ExperimentCommand(ExperimentKind kind, const ExperimentOptions& o);

// Trains every variant with every seed (unless o.report_only), then writes the report. Progress
// goes to `out`. Refuses to overwrite a run folder that already holds a run, unless o.resume:
// then a run that finished (wall_seconds.txt, written last) is kept, an unfinished one is
// trained again from its start, and settings other than the saved command's are refused.
Status RunExperiment(ExperimentKind kind, const ExperimentOptions& o, std::ostream& out);

// The report section of one experiment from its run folders (also drawing <out>/<name>.png):
// `heading` is "#" for the experiment's own page and "##" inside `experiment all`'s report;
// images are referenced as image_prefix + "<name>.png".
Result<std::string> ExperimentReport(ExperimentKind kind, const ExperimentOptions& o, const std::string& heading,
                                     const std::string& image_prefix, std::ostream& out);

// `experiment all`: each experiment (with its options; out_dir inside `out_dir`) in turn, then
// <out_dir>/report.md with every experiment's section and plot. `command` is recorded at its top.
Status RunAllExperiments(const std::vector<std::pair<ExperimentKind, ExperimentOptions>>& experiments,
                         const std::string& out_dir, const std::string& command, std::ostream& out);

}  // namespace alexnet::report
