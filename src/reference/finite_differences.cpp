#include "reference/finite_differences.h"

#include <algorithm>
#include <cmath>

namespace alexnet::reference {

double CentralDifference(double& x, double h, const std::function<double()>& loss) {
  const double original = x;
  x = original + h;
  const double plus_x = x, plus = loss();
  x = original - h;
  const double minus_x = x, minus = loss();
  x = original;
  return (plus - minus) / (plus_x - minus_x);
}

double FiniteDifferenceStep(const Tensor& t) {
  double sum = 0;
  for (double v : t.data) sum += v * v;
  const double rms = t.size() ? std::sqrt(sum / double(t.size())) : 0.0;
  return 1e-5 * std::max(1.0, rms);
}

}  // namespace alexnet::reference
