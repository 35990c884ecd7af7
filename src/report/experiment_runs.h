// The parts every design-claim experiment (experiment.h) is made of: training one variant with
// one seed and reading back what it recorded, the mean and spread over seeds, the Markdown
// tables, the gnuplot figure, and the comparison of a measured difference with the paper's.
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

// ---- numbers over seeds

struct Stat {
  std::vector<double> values;  // one per seed, NaN where the run did not get there
  int n = 0;                   // finite values
  double mean = 0, sd = 0;     // of the finite values; sd: sample standard deviation (0 for n < 2)
};
Stat Summarize(const std::vector<double>& values);

// "12.3 ± 0.4" (decimals as given); "-" with no finite value; "(2 of 3)" appended when some
// seeds gave no value.
std::string MeanSd(const Stat& s, int decimals);

// A column of the results table: one number per run.
struct Measure {
  std::string column;  // "val top-1 error (%)"
  int decimals;
  std::function<double(const RunRecord&)> of;
};

// The measures of every run, per variant in the variants' order.
struct VariantResult {
  Variant variant;
  std::vector<RunRecord> runs;  // one per seed
  std::vector<Stat> stats;      // one per measure
};
std::vector<VariantResult> Tabulate(const std::vector<Variant>& variants, const std::vector<RunRecord>& runs,
                                    const std::vector<Measure>& measures);

// | variant | measure 1 | ... | with mean ± sd over seeds.
std::string ResultsTable(const std::vector<VariantResult>& results, const std::vector<Measure>& measures);
// | variant | seed | measure 1 | ...: every run's own numbers.
std::string PerSeedTable(const std::vector<VariantResult>& results, const std::vector<Measure>& measures);

// ---- per-run measurements shared by several experiments

double LastValError(const RunRecord& r);    // percent, validation top-1 error at the last epoch
double BestValError(const RunRecord& r);    // percent, the lowest over the epochs
double LastTrainError(const RunRecord& r);  // percent, train_eval.csv at the last epoch (NaN: none)
double LastGap(const RunRecord& r);         // points: validation error - training error, last epoch
double MedianStepMs(const RunRecord& r);    // milliseconds per SGD step (median: robust to a busy machine)
// The training error (percent) of each step, as the mean over the last `window` steps' images.
std::vector<std::pair<int64_t, double>> SmoothedTrainError(const RunRecord& r, int window);
// The first step at which SmoothedTrainError reaches `target_percent`, and the SGD seconds
// (sum of step_seconds) up to it; NaN when it never does.
std::pair<double, double> StepsAndSecondsTo(const RunRecord& r, double target_percent, int window);

// ---- the comparison with the paper

// How a measurement relates to the paper's claim.
enum class Agreement { kAgrees, kDisagrees, kWithinNoise };
const char* AgreementText(Agreement a);  // "agrees", "disagrees", "within noise"

// A difference between two variants, error of `worse` minus error of `better` (the variant the
// paper found better), with its standard error over seeds.
struct Difference {
  double points = 0;  // mean difference (percentage points, or whatever the measure's unit is)
  double se = 0;      // sqrt(sd_a^2 / n_a + sd_b^2 / n_b)
  int n = 0;          // the smaller number of seeds
};
Difference Compare(const Stat& paper_worse, const Stat& paper_better);

// One sentence: does the measured difference agree with the paper's (`paper_points`, the
// improvement the paper reports for its choice), disagree, or is it within the noise (less than
// two standard errors from 0)? `what`: "LRN", `unit`: "points of top-1 error".
Agreement Judge(const Difference& d);
std::string Verdict(const Difference& d, double paper_points, const std::string& what, const std::string& unit);

// ---- the figure

// One panel: a curve per variant, the mean over seeds with the spread as error bars (per epoch)
// or as a plain line (per step).
struct Panel {
  std::string title, xlabel, ylabel;
  std::function<std::vector<std::pair<double, double>>(const RunRecord&)> points;  // x, y of one run
  bool error_bars = true;
  double hline = std::nan("");  // a horizontal reference line (e.g. the target error), NaN: none
};
Status DrawExperimentPlot(const std::string& title, const std::vector<VariantResult>& results,
                          const std::vector<Panel>& panels, const std::string& png_path, const std::string& gnuplot);

// Per epoch, from the run's records.
std::vector<std::pair<double, double>> ValErrorCurve(const RunRecord& r);
std::vector<std::pair<double, double>> GapCurve(const RunRecord& r);

}  // namespace alexnet::report
