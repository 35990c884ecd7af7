// The comparison with the paper: the difference two variants made, with its standard error over
// seeds, judged against the paper's claim and said in one sentence.
#pragma once

#include <string>

#include "report/seed_statistics.h"

namespace alexnet::report {

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

}  // namespace alexnet::report
