// One number over the seeds of an experiment: its mean and spread, and how they are printed.
#pragma once

#include <string>
#include <vector>

namespace alexnet::report {

struct Stat {
  std::vector<double> values;  // one per seed, NaN where the run did not get there
  int n = 0;                   // finite values
  double mean = 0, sd = 0;     // of the finite values; sd: sample standard deviation (0 for n < 2)
};
Stat Summarize(const std::vector<double>& values);

// "12.3 ± 0.4" (decimals as given); "-" with no finite value; "(2 of 3)" appended when some
// seeds gave no value.
std::string MeanSd(const Stat& s, int decimals);

}  // namespace alexnet::report
