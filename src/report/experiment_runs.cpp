#include "report/experiment_runs.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "report/epoch_report.h"
#include "report/train_eval.h"
#include "util/csv.h"
#include "util/files.h"
#include "train/trainer.h"

namespace alexnet::report {

namespace fs = std::filesystem;

namespace {

// Collects train::StepEnd rows and appends them to <run>/steps.csv at every epoch end and when
// the run ends (one write per epoch rather than one per step).
class StepRecorder {
 public:
  explicit StepRecorder(std::string path) : path_(std::move(path)) {}

  void Add(const train::StepEnd& s) {
    pending_.push_back(CsvRow({std::to_string(s.step), std::to_string(s.epoch), std::to_string(s.batch),
                                      std::to_string(s.correct_top1), CsvNumber(s.cross_entropy),
                                      CsvNumber(s.step_seconds), CsvNumber(s.train_seconds)}));
  }

  Status Flush() {
    if (!fs::exists(path_)) {
      ALEXNET_RETURN_IF_ERROR(AppendLine(
          path_, "step,epoch,batch,correct_top1,cross_entropy,step_seconds,train_seconds"));
    }
    std::string lines;
    for (const std::string& row : pending_) lines += (lines.empty() ? "" : "\n") + row;
    pending_.clear();
    return lines.empty() ? Status::Ok() : AppendLine(path_, lines);
  }

 private:
  std::string path_;
  std::vector<std::string> pending_;
};

double Field(const CsvTable& t, size_t row, const char* column) {
  const std::string& f = t.Field(row, t.Column(column));
  char* end = nullptr;
  const double v = std::strtod(f.c_str(), &end);
  return end == f.c_str() ? std::nan("") : v;
}

Result<std::vector<StepRow>> ReadSteps(const std::string& path) {
  ALEXNET_ASSIGN_OR_RETURN(const CsvTable t, ReadCsv(path));
  for (const char* need : {"step", "epoch", "batch", "correct_top1", "cross_entropy", "step_seconds"}) {
    if (t.Column(need) < 0) return Status::BadInput(path, std::string("no column '") + need + "' in the header");
  }
  std::vector<StepRow> steps;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    StepRow s;
    s.step = static_cast<int64_t>(Field(t, i, "step"));
    s.epoch = static_cast<int64_t>(Field(t, i, "epoch"));
    s.batch = static_cast<int>(Field(t, i, "batch"));
    s.correct = static_cast<int>(Field(t, i, "correct_top1"));
    s.loss = Field(t, i, "cross_entropy");
    s.step_seconds = Field(t, i, "step_seconds");
    s.train_seconds = Field(t, i, "train_seconds");
    steps.push_back(s);
  }
  return steps;
}

double ReadWallSeconds(const std::string& run_dir) {
  std::ifstream in(run_dir + "/wall_seconds.txt");
  double wall = 0;
  return in >> wall ? wall : 0;
}

}  // namespace

std::string RunFolderName(const std::string& variant, int64_t seed) {
  return variant + "-seed" + std::to_string(seed);
}

train::TrainConfig VariantConfig(const ExperimentOptions& o, const Variant& v, int64_t seed) {
  train::TrainConfig c;
  c.data = o.data;
  c.model.dropout_rate = o.dropout;
  c.model.init = o.init;
  c.model.standardize_input = o.standardize;
  c.model.seed = seed;
  c.model.precision = o.precision;
  c.recipe.batch = o.batch;
  c.recipe.epochs = o.epochs;
  c.recipe.lr = o.lr;
  // A constant learning rate: the plateau schedule reacts to validation, and would make the
  // variants differ in more than the one thing each experiment changes.
  c.recipe.schedule = train::LrSchedule::kStep;
  c.recipe.step_epochs = 1000000;
  c.recipe.random_crop = c.recipe.flip = c.recipe.pca_color = o.augment;
  c.run.run_dir = o.out_dir + "/" + RunFolderName(v.name, seed);
  c.run.workers = o.workers;
  c.run.threads = o.threads;
  c.run.checkpoint_every = 0;  // only at epoch ends: the runs are short
  c.run.keep_checkpoints = 1;
  c.run.log_every_s = 30;
  if (v.apply) v.apply(&c);
  return c;
}

Status TrainVariant(const ExperimentOptions& o, const Variant& v, int64_t seed, bool train_eval, std::ostream& out) {
  const train::TrainConfig c = VariantConfig(o, v, seed);
  auto recorder = std::make_shared<StepRecorder>(c.run.run_dir + "/steps.csv");
  auto reporter = std::make_shared<EpochReporter>(out, o.gnuplot);
  auto evaluator = std::make_shared<TrainEvalHook>(out, std::max(o.batch, 100));
  auto hook = [&, recorder, reporter, evaluator](const train::EpochEnd& e) {
    (*reporter)(e);
    if (train_eval) (*evaluator)(e);
    if (Status st = recorder->Flush(); !st.ok()) out << "  steps.csv not written: " << st.message() << std::endl;
  };
  const auto t0 = std::chrono::steady_clock::now();
  ALEXNET_ASSIGN_OR_RETURN(auto run, train::TrainingRun::Open(c, false, {}, hook, out));
  run->set_step_hook([recorder](const train::StepEnd& s) { recorder->Add(s); });
  const Status trained = run->Run();
  run.reset();  // releases the run folder's lock
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (trained.code() == StatusCode::kNonFiniteLoss) {
    out << "  diverged: " << trained.reason() << std::endl;
    ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(c.run.run_dir + "/diverged.txt", trained.reason() + "\n"));
  } else {
    ALEXNET_RETURN_IF_ERROR(trained.With("the run in " + c.run.run_dir + " failed"));
    ALEXNET_RETURN_IF_ERROR(evaluator->status());
  }
  ALEXNET_RETURN_IF_ERROR(recorder->Flush());
  return WriteFileAtomic(c.run.run_dir + "/wall_seconds.txt", std::to_string(wall) + "\n");
}

Result<RunRecord> ReadRunRecord(const std::string& run_dir) {
  RunRecord r;
  if (Result<std::string> why = ReadFile(run_dir + "/diverged.txt"); why.ok()) {
    r.diverged = why->substr(0, why->find('\n'));
  }
  ALEXNET_ASSIGN_OR_RETURN(r.epochs, ReadMetricsCsv(run_dir + "/metrics.csv"));
  if (r.epochs.empty() && r.diverged.empty()) return Status::BadInput(run_dir + "/metrics.csv", "no epochs recorded");
  ALEXNET_ASSIGN_OR_RETURN(r.steps, ReadSteps(run_dir + "/steps.csv"));
  if (fs::exists(run_dir + "/train_eval.csv")) {
    ALEXNET_ASSIGN_OR_RETURN(r.train_top1, ReadTrainEval(run_dir + "/train_eval.csv"));
  }
  r.wall_seconds = ReadWallSeconds(run_dir);
  return r;
}

}  // namespace alexnet::report
