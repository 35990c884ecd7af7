// The paper's design claims as experiments: for each, what it claims, the variants, what is
// measured per run, the figure's panels and the findings computed from the measurements.
// experiment.cpp runs and reports them; this file only says what each one is.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "report/experiment.h"
#include "report/experiment_plot.h"
#include "report/experiment_runs.h"
#include "report/experiment_tables.h"
#include "report/verdict.h"

namespace alexnet::report {

// What the findings say, computed from the measured numbers.
struct Findings {
  std::string measured;   // one line for the summary of `experiment all`
  Agreement agreement = Agreement::kWithinNoise;
  std::string paragraph;  // the plain paragraph of the report
};

struct Definition {
  ExperimentKind kind;
  std::string title;   // "ReLU vs tanh"
  std::string claim;   // the paper's claim in a sentence, with its section
  std::vector<Variant> variants;
  bool train_eval = false;  // measure the training subset after every epoch (the train/val gap)
  std::vector<Measure> measures;
  std::vector<Panel> panels;
  std::function<Findings(const std::vector<VariantResult>&, const ExperimentOptions&)> findings;
};

Definition Define(ExperimentKind kind, const ExperimentOptions& o);

// What differs from the paper's setting and may explain a different result: the dataset, the
// scale and the duration of `used` (a run's configuration), and the number of seeds.
std::string SettingDifferences(const train::TrainConfig& used, int64_t steps, size_t seeds);

}  // namespace alexnet::report
