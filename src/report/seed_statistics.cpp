#include "report/seed_statistics.h"

#include <cmath>

#include "util/format.h"

namespace alexnet::report {

Stat Summarize(const std::vector<double>& values) {
  Stat s;
  s.values = values;
  double sum = 0;
  for (double v : values) {
    if (std::isfinite(v)) sum += v, ++s.n;
  }
  if (s.n == 0) return s;
  s.mean = sum / s.n;
  double ss = 0;
  for (double v : values) {
    if (std::isfinite(v)) ss += (v - s.mean) * (v - s.mean);
  }
  s.sd = s.n > 1 ? std::sqrt(ss / (s.n - 1)) : 0;
  return s;
}

std::string MeanSd(const Stat& s, int decimals) {
  if (s.n == 0) return "-";
  std::string text = FormatFixed(s.mean, decimals) + " ± " + FormatFixed(s.sd, decimals);
  if (s.n < static_cast<int>(s.values.size())) {
    text += " (" + std::to_string(s.n) + " of " + std::to_string(s.values.size()) + ")";
  }
  return text;
}

}  // namespace alexnet::report
