#include "report/verdict.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "util/format.h"

namespace alexnet::report {

Difference Compare(const Stat& paper_worse, const Stat& paper_better) {
  Difference d;
  d.n = std::min(paper_worse.n, paper_better.n);
  if (d.n == 0) return {std::nan(""), std::nan(""), 0};
  d.points = paper_worse.mean - paper_better.mean;
  const double a = paper_worse.sd * paper_worse.sd / paper_worse.n;
  const double b = paper_better.sd * paper_better.sd / paper_better.n;
  d.se = std::sqrt(a + b);
  return d;
}

const char* AgreementText(Agreement a) {
  switch (a) {
    case Agreement::kAgrees: return "agrees";
    case Agreement::kDisagrees: return "disagrees";
    case Agreement::kWithinNoise: return "within noise";
  }
  return "?";
}

// Within noise: fewer than 2 seeds, or less than two standard errors from 0.
Agreement Judge(const Difference& d) {
  if (d.n < 2 || !std::isfinite(d.points) || std::fabs(d.points) <= 2 * d.se) return Agreement::kWithinNoise;
  return d.points > 0 ? Agreement::kAgrees : Agreement::kDisagrees;
}

std::string Verdict(const Difference& d, double paper_points, const std::string& what, const std::string& unit) {
  if (d.n == 0 || !std::isfinite(d.points)) return "There is nothing to compare: no run of one side gave a value.";
  const bool has_number = std::isfinite(paper_points);
  const std::string paper = has_number ? "the paper's " + FormatFixed(paper_points, 1) : "the paper's claim";
  const std::string size = FormatFixed(std::fabs(d.points), 2) + " " + unit;
  const std::string noise = " (two standard errors: " + FormatFixed(2 * d.se, 2) + ")";
  std::ostringstream s;
  switch (Judge(d)) {
    case Agreement::kWithinNoise:
      s << "The measured difference (with " << what << " it was " << (d.points >= 0 ? "better" : "worse") << " by "
        << size << ") is within the seed-to-seed noise" << noise << ", so this measurement neither confirms nor "
        << "contradicts " << paper << ".";
      break;
    case Agreement::kAgrees:
      s << "This agrees with the paper in direction: with " << what << " it was better by " << size << noise;
      if (has_number) {
        s << ", " << (d.points >= 0.5 * paper_points && d.points <= 2 * paper_points ? "of the same order as"
                      : d.points < paper_points                                     ? "less than"
                                                                                     : "more than")
          << " " << paper;
      }
      s << ".";
      break;
    case Agreement::kDisagrees:
      s << "This disagrees with the paper: with " << what << " it was worse by " << size << noise
        << ", where the paper found it better" << (has_number ? " by " + FormatFixed(paper_points, 1) : "")
        << ".";
      break;
  }
  return s.str();
}

}  // namespace alexnet::report
