#include "report/epoch_report.h"

#include <memory>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "report/gnuplot.h"
#include "report/inspect.h"

namespace alexnet::report {

Status LogConv1Filters(const train::EpochEnd& e) {
  ALEXNET_ASSIGN_OR_RETURN(const FilterImage filters, Conv1FilterImage(e.session));
  std::vector<uint8_t> png;
  if (!cv::imencode(".png", filters.image, png)) return Status::Internal("PNG encoding failed");
  e.events->Image("conv1/filters", e.step, std::string(png.begin(), png.end()), filters.image.rows,
                  filters.image.cols);
  return e.events->Flush();
}

void EpochReporter::ReportOnce(bool* reported, const std::string& what, const Status& status) {
  if (status.ok() || *reported) return;
  *reported = true;
  ++problems_;
  *notices_ << "alexnet train: " << what << ": " << status.message()
            << " (training goes on; this is reported once)\n";
}

void EpochReporter::operator()(const train::EpochEnd& e) {
  const std::string run = e.config->run.run_dir;
  ReportOnce(&curves_problem_reported_, "training curves not drawn",
             DrawTrainingCurves(run + "/metrics.csv", run + "/curves.png", gnuplot_));
  ReportOnce(&filters_problem_reported_, "conv1 filter image not written to TensorBoard", LogConv1Filters(e));
}

train::EpochHook MakeEpochReportHook(std::ostream& notices, const std::string& gnuplot) {
  auto reporter = std::make_shared<EpochReporter>(notices, gnuplot);
  return [reporter](const train::EpochEnd& e) { (*reporter)(e); };
}

}  // namespace alexnet::report
