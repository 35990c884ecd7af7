#include "report/train_eval.h"

#include <filesystem>

#include "data/loader.h"
#include "util/csv.h"
#include "train/evaluate.h"
#include "train/loader_options.h"
#include "train/open_dataset.h"
#include "util/files.h"
#include "util/format.h"

namespace alexnet::report {

namespace fs = std::filesystem;

namespace {

Status AppendTrainEval(const std::string& path, const train::EpochEnd& e, const train::EvalResult& r) {
  if (!fs::exists(path)) {
    ALEXNET_RETURN_IF_ERROR(
        AppendLine(path, CsvRow({"epoch", "step", "train_top1", "train_loss", "images"})));
  }
  const std::string line = CsvRow({std::to_string(e.epoch), std::to_string(e.step),
                                          CsvNumber(r.top1_accuracy()), CsvNumber(r.mean_loss()),
                                          std::to_string(r.images)});
  return AppendLine(path, line);
}

}  // namespace

void TrainEvalHook::operator()(const train::EpochEnd& e) {
  const Status st = EvaluateTrainingSubset(e);
  if (st.ok() || !status_.ok()) return;
  status_ = Status::Error(st.code(), e.config->run.run_dir, "evaluating the training subset: " + st.message());
  *out_ << "  training subset not evaluated: " << status_.message() << std::endl;
}

Status TrainEvalHook::EvaluateTrainingSubset(const train::EpochEnd& e) {
  ALEXNET_RETURN_IF_ERROR(OpenTrainingSubset(*e.config));
  const data::LoaderOptions options = train::EvalLoaderOptions(*e.config, stats_, false, batch_);
  ALEXNET_ASSIGN_OR_RETURN(const std::unique_ptr<data::Loader> loader, data::Loader::Create(train_set_, options));
  ALEXNET_ASSIGN_OR_RETURN(
      const train::EvalResult r,
      train::Evaluate(e.session, loader.get(), e.config->model.num_classes, train::EvalProgress::kNone));
  ALEXNET_RETURN_IF_ERROR(AppendTrainEval(e.config->run.run_dir + "/train_eval.csv", e, r));
  *out_ << "  training subset (" << r.images << " images, centre crop, dropout off): top-1 "
        << FormatFixed(r.top1_accuracy(), 3) << ", loss " << FormatFixed(r.mean_loss(), 3)
        << std::endl;
  return Status::Ok();
}

// The training split and the run's colour statistics, once.
Status TrainEvalHook::OpenTrainingSubset(const train::TrainConfig& config) {
  if (train_set_) return Status::Ok();
  ALEXNET_ASSIGN_OR_RETURN(train_set_, train::OpenDataset(config.data, train::Split::kTrain));
  ALEXNET_ASSIGN_OR_RETURN(const data::ColorStats stats,
                           data::LoadColorStats(config.run.run_dir + "/color_stats.json"));
  stats_ = std::make_shared<data::ColorStats>(stats);
  return Status::Ok();
}

Result<std::map<int64_t, double>> ReadTrainEval(const std::string& eval_path) {
  if (!fs::exists(eval_path)) {
    return Status::NotFound(eval_path, "cannot open (the experiment writes it after every epoch)");
  }
  ALEXNET_ASSIGN_OR_RETURN(const CsvTable t, ReadCsv(eval_path));
  const int epoch = t.Column("epoch"), top1 = t.Column("train_top1");
  if (epoch < 0 || top1 < 0) return Status::BadInput(eval_path, "no column 'epoch' or 'train_top1' in the header");
  std::map<int64_t, double> train_top1;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    if (t.rows[i].size() < 3) continue;
    try {
      train_top1[std::stoll(t.Field(i, epoch))] = std::stod(t.Field(i, top1));
    } catch (const std::exception&) {
      return Status::BadInput(eval_path, "malformed line '" + CsvRow(t.rows[i]) + "' (line " +
                                          std::to_string(t.row_lines[i]) + ")");
    }
  }
  return train_top1;
}

}  // namespace alexnet::report
