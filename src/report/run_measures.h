// What one run measured, computed from its RunRecord (experiment_runs.h): the numbers several
// experiments put in their tables, and the per-epoch curves their figures draw.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "report/experiment_runs.h"

namespace alexnet::report {

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

// Per epoch, from the run's records.
std::vector<std::pair<double, double>> ValErrorCurve(const RunRecord& r);
std::vector<std::pair<double, double>> GapCurve(const RunRecord& r);

}  // namespace alexnet::report
