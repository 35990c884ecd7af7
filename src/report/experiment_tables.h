// An experiment's results as Markdown tables: the measures of every run grouped by variant, as
// mean ± sd over seeds and run by run.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "report/experiment_runs.h"
#include "report/seed_statistics.h"

namespace alexnet::report {

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

}  // namespace alexnet::report
