#include "report/epoch_report.h"

#include <iostream>
#include <memory>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "report/gnuplot.h"
#include "report/inspect.h"

namespace alexnet::report {

void EpochReporter::operator()(const train::EpochEnd& e) {
  const std::string run = e.config->run.run_dir;
  if (std::string err = DrawTrainingCurves(run + "/metrics.csv", run + "/curves.png", gnuplot_);
      !err.empty() && !curves_problem_reported_) {
    curves_problem_reported_ = true;
    ++problems_;
    std::cerr << "alexnet train: training curves not drawn: " << err
              << " (training goes on; this is reported once)\n";
  }
  cv::Mat grid;
  std::string err = Conv1FilterImage(e.session, &grid);
  if (err.empty()) {
    std::vector<uint8_t> png;
    if (cv::imencode(".png", grid, png)) {
      e.events->Image("conv1/filters", e.step, std::string(png.begin(), png.end()), grid.rows, grid.cols);
      if (const Status flushed = e.events->Flush(); !flushed.ok()) err = flushed.message();
    } else {
      err = "PNG encoding failed";
    }
  }
  if (!err.empty() && !filters_problem_reported_) {
    filters_problem_reported_ = true;
    ++problems_;
    std::cerr << "alexnet train: conv1 filter image not written to TensorBoard: " << err
              << " (training goes on; this is reported once)\n";
  }
}

train::EpochHook MakeEpochReportHook(const std::string& gnuplot) {
  auto reporter = std::make_shared<EpochReporter>(gnuplot);
  return [reporter](const train::EpochEnd& e) { (*reporter)(e); };
}

}  // namespace alexnet::report
