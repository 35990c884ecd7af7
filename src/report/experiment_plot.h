// An experiment's figure, drawn with gnuplot: panels side by side, each with a curve per variant
// (the mean over seeds) and the spread over seeds.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"
#include "report/experiment_runs.h"
#include "report/experiment_tables.h"

namespace alexnet::report {

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

}  // namespace alexnet::report
