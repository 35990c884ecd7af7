// What `alexnet train` shows the learner at every epoch end: <run>/curves.png redrawn from
// <run>/metrics.csv (gnuplot), and conv1's kernels as an image in TensorBoard ("conv1/filters").
// Nothing here can stop training: a problem is written once to the notices stream and the run
// goes on.
#pragma once

#include <ostream>
#include <string>

#include "util/status.h"
#include "train/trainer.h"

namespace alexnet::report {

class EpochReporter {
 public:
  // notices: where a problem is reported (once per kind); the tool passes std::cerr.
  explicit EpochReporter(std::ostream& notices, std::string gnuplot = "gnuplot")
      : notices_(&notices), gnuplot_(std::move(gnuplot)) {}
  void operator()(const train::EpochEnd& e);

  // Problems reported so far (each kind once); for tests.
  int problems_reported() const { return problems_; }

 private:
  void ReportOnce(bool* reported, const std::string& what, const Status& status);

  std::ostream* notices_;
  std::string gnuplot_;
  bool curves_problem_reported_ = false;
  bool filters_problem_reported_ = false;
  int problems_ = 0;
};

// conv1's kernels as a PNG image in the run's TensorBoard events ("conv1/filters").
Status LogConv1Filters(const train::EpochEnd& e);

// An EpochHook around one EpochReporter (shared by the copies std::function makes).
train::EpochHook MakeEpochReportHook(std::ostream& notices, const std::string& gnuplot = "gnuplot");

}  // namespace alexnet::report
