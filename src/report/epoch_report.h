// What `alexnet train` shows the learner at every epoch end: <run>/curves.png redrawn from
// <run>/metrics.csv (gnuplot), and conv1's kernels as an image in TensorBoard ("conv1/filters").
// Nothing here can stop training: a problem is printed once and the run goes on.
#pragma once

#include <string>

#include "train/trainer.h"

namespace alexnet::report {

class EpochReporter {
 public:
  explicit EpochReporter(std::string gnuplot = "gnuplot") : gnuplot_(std::move(gnuplot)) {}
  void operator()(const train::EpochEnd& e);

  // Problems printed so far (each kind once); for tests.
  int problems_reported() const { return problems_; }

 private:
  std::string gnuplot_;
  bool curves_problem_reported_ = false;
  bool filters_problem_reported_ = false;
  int problems_ = 0;
};

// An EpochHook around one EpochReporter (shared by the copies std::function makes).
train::EpochHook MakeEpochReportHook(const std::string& gnuplot = "gnuplot");

}  // namespace alexnet::report
