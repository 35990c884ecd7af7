#include "report/run_measures.h"

#include <algorithm>
#include <cmath>

namespace alexnet::report {

double LastValError(const RunRecord& r) {
  return r.epochs.empty() ? std::nan("") : 100.0 * (1.0 - r.epochs.back().val_top1);
}

double BestValError(const RunRecord& r) {
  double best = std::nan("");
  for (const MetricsRow& m : r.epochs) {
    const double e = 100.0 * (1.0 - m.val_top1);
    if (std::isfinite(e) && !(e >= best)) best = e;
  }
  return best;
}

double LastTrainError(const RunRecord& r) {
  if (r.epochs.empty()) return std::nan("");
  const auto it = r.train_top1.find(r.epochs.back().epoch);
  return it == r.train_top1.end() ? std::nan("") : 100.0 * (1.0 - it->second);
}

double LastGap(const RunRecord& r) { return LastValError(r) - LastTrainError(r); }

double MedianStepMs(const RunRecord& r) {
  std::vector<double> ms;
  for (const StepRow& s : r.steps) {
    if (std::isfinite(s.step_seconds)) ms.push_back(1000.0 * s.step_seconds);
  }
  if (ms.empty()) return std::nan("");
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

std::vector<std::pair<int64_t, double>> SmoothedTrainError(const RunRecord& r, int window) {
  std::vector<std::pair<int64_t, double>> out;
  int64_t images = 0, correct = 0;
  for (size_t i = 0; i < r.steps.size(); ++i) {
    images += r.steps[i].batch;
    correct += r.steps[i].correct;
    if (i >= static_cast<size_t>(window)) {
      images -= r.steps[i - window].batch;
      correct -= r.steps[i - window].correct;
    }
    if (i + 1 >= static_cast<size_t>(window) && images > 0) {
      out.emplace_back(r.steps[i].step, 100.0 * (1.0 - double(correct) / double(images)));
    }
  }
  return out;
}

std::pair<double, double> StepsAndSecondsTo(const RunRecord& r, double target_percent, int window) {
  const auto curve = SmoothedTrainError(r, window);
  for (const auto& [step, error] : curve) {
    if (error > target_percent + 1e-9) continue;  // 100 * (1 - 0.7) is 30.000000000000004
    double seconds = 0;
    for (const StepRow& s : r.steps) {
      if (s.step <= step) seconds += s.step_seconds;
    }
    return {static_cast<double>(step), seconds};
  }
  return {std::nan(""), std::nan("")};
}

std::vector<std::pair<double, double>> ValErrorCurve(const RunRecord& r) {
  std::vector<std::pair<double, double>> p;
  for (const MetricsRow& m : r.epochs) p.emplace_back(m.epoch, 100.0 * (1.0 - m.val_top1));
  return p;
}

std::vector<std::pair<double, double>> GapCurve(const RunRecord& r) {
  std::vector<std::pair<double, double>> p;
  for (const MetricsRow& m : r.epochs) {
    const auto it = r.train_top1.find(m.epoch);
    if (it != r.train_top1.end()) p.emplace_back(m.epoch, 100.0 * (it->second - m.val_top1));
  }
  return p;
}

}  // namespace alexnet::report
