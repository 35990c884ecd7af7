#include "report/dropout_experiment.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "data/loader.h"
#include "report/epoch_report.h"
#include "report/gnuplot.h"
#include "train/csv.h"
#include "train/evaluate.h"
#include "train/files.h"
#include "train/format.h"
#include "train/trainer.h"

namespace alexnet::report {

namespace fs = std::filesystem;

namespace {

std::string F3(double v) { return std::isfinite(v) ? train::FormatFixed(v, 3) : "-"; }

std::string Signed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.3f", v);
  return buf;
}

std::string Rate(float r) {
  std::string s = DropoutRunName(r);
  return s.substr(std::string("dropout-").size());
}

const DropoutEpoch* Find(const DropoutRun& r, int64_t epoch) {
  for (const DropoutEpoch& e : r.epochs) {
    if (e.epoch == epoch) return &e;
  }
  return nullptr;
}

std::vector<int64_t> AllEpochs(const DropoutRun& a, const DropoutRun& b) {
  std::vector<int64_t> epochs;
  for (const auto* r : {&a, &b}) {
    for (const DropoutEpoch& e : r->epochs) epochs.push_back(e.epoch);
  }
  std::sort(epochs.begin(), epochs.end());
  epochs.erase(std::unique(epochs.begin(), epochs.end()), epochs.end());
  return epochs;
}

double MeanGapOfLast(const DropoutRun& r, size_t k) {
  if (r.epochs.empty()) return std::nan("");
  k = std::min(k, r.epochs.size());
  double s = 0;
  for (size_t i = r.epochs.size() - k; i < r.epochs.size(); ++i) s += r.epochs[i].gap();
  return s / static_cast<double>(k);
}

const DropoutEpoch& BestVal(const DropoutRun& r) {
  const DropoutEpoch* best = &r.epochs.front();
  for (const DropoutEpoch& e : r.epochs) {
    if (e.val_top1 > best->val_top1) best = &e;
  }
  return *best;
}

// After every epoch: conv1 filters and curves (as `alexnet train` does), then the fair training
// accuracy: the training subset through the model with dropout off, centre crop, appended to
// <run>/train_eval.csv. A hook cannot stop training: the first failure is kept for the caller.
class TrainEvalHook {
 public:
  TrainEvalHook(std::ostream& out, std::string gnuplot, int batch)
      : out_(&out), reporter_(out, std::move(gnuplot)), batch_(batch) {}

  void operator()(const train::EpochEnd& e) {
    reporter_(e);
    const Status st = EvaluateTrainingSubset(e);
    if (st.ok() || !status_.ok()) return;
    status_ = Status::Error(e.config->run.run_dir, "evaluating the training subset: " + st.message());
    *out_ << "  training subset not evaluated: " << status_.message() << std::endl;
  }

  const Status& status() const { return status_; }

 private:
  Status EvaluateTrainingSubset(const train::EpochEnd& e) {
    ALEXNET_RETURN_IF_ERROR(OpenTrainingSubset(*e.config));
    const data::LoaderOptions options = train::EvalLoaderOptions(*e.config, stats_, false, batch_);
    ALEXNET_ASSIGN_OR_RETURN(const std::unique_ptr<data::Loader> loader, data::Loader::create(train_set_, options));
    ALEXNET_ASSIGN_OR_RETURN(const train::EvalResult r,
                             train::Evaluate(e.session, loader.get(), e.config->model.num_classes, false));
    ALEXNET_RETURN_IF_ERROR(AppendTrainEval(e.config->run.run_dir + "/train_eval.csv", e, r));
    *out_ << "  training subset (" << r.images << " images, centre crop, dropout off): top-1 "
          << F3(r.top1_accuracy()) << ", loss " << F3(r.mean_loss()) << std::endl;
    return Status::Ok();
  }

  // The training split and the run's colour statistics, once.
  Status OpenTrainingSubset(const train::TrainConfig& config) {
    if (train_set_) return Status::Ok();
    ALEXNET_ASSIGN_OR_RETURN(train_set_, train::OpenDataset(config.data, train::Split::kTrain));
    ALEXNET_ASSIGN_OR_RETURN(const data::ColorStats stats,
                             data::load_color_stats(config.run.run_dir + "/color_stats.json"));
    stats_ = std::make_shared<data::ColorStats>(stats);
    return Status::Ok();
  }

  static Status AppendTrainEval(const std::string& path, const train::EpochEnd& e, const train::EvalResult& r) {
    if (!std::filesystem::exists(path)) {
      ALEXNET_RETURN_IF_ERROR(
          train::AppendLine(path, train::CsvRow({"epoch", "step", "train_top1", "train_loss", "images"})));
    }
    const std::string line = train::CsvRow({std::to_string(e.epoch), std::to_string(e.step),
                                            train::CsvNumber(r.top1_accuracy()), train::CsvNumber(r.mean_loss()),
                                            std::to_string(r.images)});
    return train::AppendLine(path, line);
  }

  std::ostream* out_;
  EpochReporter reporter_;
  int batch_;
  std::shared_ptr<const data::Dataset> train_set_;
  std::shared_ptr<const data::ColorStats> stats_;
  Status status_;
};

// ---- reading a run

// <run>/train_eval.csv: the training top-1 of every evaluated epoch.
Result<std::map<int64_t, double>> ReadTrainEval(const std::string& eval_path) {
  if (!fs::exists(eval_path)) {
    return Status::Error(eval_path, "cannot open (the experiment writes it after every epoch)");
  }
  ALEXNET_ASSIGN_OR_RETURN(const train::CsvTable t, train::ReadCsv(eval_path));
  const int epoch = t.Column("epoch"), top1 = t.Column("train_top1");
  if (epoch < 0 || top1 < 0) return Status::Error(eval_path, "no column 'epoch' or 'train_top1' in the header");
  std::map<int64_t, double> train_top1;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    if (t.rows[i].size() < 3) continue;
    try {
      train_top1[std::stoll(t.Field(i, epoch))] = std::stod(t.Field(i, top1));
    } catch (const std::exception&) {
      return Status::Error(eval_path, "malformed line '" + train::CsvRow(t.rows[i]) + "' (line " +
                                          std::to_string(t.row_lines[i]) + ")");
    }
  }
  return train_top1;
}

// <run>/wall_seconds.txt, written after the run; 0 when absent or unreadable.
double ReadWallSeconds(const std::string& run_dir) {
  std::ifstream in(run_dir + "/wall_seconds.txt");
  double wall = 0;
  return in >> wall ? wall : 0;
}

// ---- the report

std::string PlotData(const DropoutRun& with, const DropoutRun& without, const std::vector<int64_t>& epochs) {
  const std::string a = Rate(with.rate), b = Rate(without.rate);
  auto num = [](const DropoutEpoch* e, double v) { return e ? GnuplotNumber(v) : std::string("NaN"); };
  std::ostringstream d;
  d << "$d << EOD\n"
    << "# epoch train_" << a << " val_" << a << " gap_" << a << " train_" << b << " val_" << b << " gap_" << b
    << "\n";
  for (int64_t epoch : epochs) {
    d << epoch;
    for (const DropoutRun* r : {&with, &without}) {
      const DropoutEpoch* e = Find(*r, epoch);
      d << ' ' << num(e, e ? e->train_top1 : 0) << ' ' << num(e, e ? e->val_top1 : 0) << ' '
        << num(e, e ? e->gap() : 0);
    }
    d << '\n';
  }
  return d.str() + "EOD\n";
}

// Top-1 (train and validation, both runs) and the gap, side by side.
std::string PlotPanels(const std::string& a, const std::string& b, const std::vector<int64_t>& epochs) {
  std::ostringstream gp;
  gp << "set multiplot layout 1,2 title 'dropout " << a << " vs " << b
     << " on fc6/fc7 (training top-1: training subset, centre crop, dropout off)'\n"
     << "set grid\nset xlabel 'epoch'\nset xrange [" << epochs.front() - 0.5 << ":" << epochs.back() + 0.5 << "]\n"
     << (epochs.back() - epochs.front() < 20 ? "set xtics 1\n" : "")
     << "set title 'top-1 accuracy'\nset ylabel 'top-1'\nset key bottom right\n"
     << "plot $d using 1:2 with linespoints lw 2 pt 7 lc rgb '#1f60c0' title 'train, dropout " << a << "', \\\n"
     << "     $d using 1:3 with linespoints lw 2 pt 5 dt 2 lc rgb '#1f60c0' title 'validation, dropout " << a
     << "', \\\n"
     << "     $d using 1:5 with linespoints lw 2 pt 7 lc rgb '#d03020' title 'train, dropout " << b << "', \\\n"
     << "     $d using 1:6 with linespoints lw 2 pt 5 dt 2 lc rgb '#d03020' title 'validation, dropout " << b
     << "'\n"
     << "set title 'gap = train top-1 - validation top-1'\nset ylabel 'gap'\nset key top left\n"
     << "plot $d using 1:4 with linespoints lw 2 pt 7 lc rgb '#1f60c0' title 'dropout " << a << "', \\\n"
     << "     $d using 1:7 with linespoints lw 2 pt 7 lc rgb '#d03020' title 'dropout " << b << "', \\\n"
     << "     0 with lines lc rgb '#888888' notitle\n"
     << "unset multiplot\nset output\n";
  return gp.str();
}

// "Setup (identical for both runs except the dropout rate): ..." from the first run's config.json.
std::string SetupParagraph(const train::TrainConfig& used) {
  std::ostringstream md;
  md << "Setup (identical for both runs except the dropout rate): data " << used.data.source
     << (used.data.train_limit ? ", training subset of " + std::to_string(used.data.train_limit) + " images" : "")
     << (used.data.val_limit ? ", " + std::to_string(used.data.val_limit) + " validation images" : "")
     << ", images resized to " << used.data.resize << " and cropped to " << used.data.crop << " x "
     << used.data.crop << ", " << (used.model.init == model::Init::kHe ? "He" : "paper")
     << " initialisation" << (used.model.standardize_input ? ", standardised input" : "") << ", seed "
     << used.model.seed << ", batch " << used.recipe.batch << ", constant learning rate "
     << used.recipe.lr << ", momentum " << used.recipe.momentum << ", weight decay " << used.recipe.weight_decay
     << ", augmentation " << (used.recipe.random_crop || used.recipe.flip || used.recipe.pca_color ? "on" : "off")
     << ", " << used.recipe.epochs << " epochs.\n\n";
  return md.str();
}

// Running training top-1 during each epoch, from metrics.csv.
std::string RunningTable(const DropoutRun& with, const DropoutRun& without) {
  std::ostringstream md;
  md << "Running training top-1 during each epoch (metrics.csv; dropout active while training):\n\n"
     << "| epoch | dropout " << Rate(with.rate) << " | dropout " << Rate(without.rate) << " |\n|---:|---:|---:|\n";
  for (int64_t epoch : AllEpochs(with, without)) {
    const DropoutEpoch* w = Find(with, epoch);
    const DropoutEpoch* n = Find(without, epoch);
    md << "| " << epoch << " | " << (w ? F3(w->train_top1_running) : "-") << " | "
       << (n ? F3(n->train_top1_running) : "-") << " |\n";
  }
  return md.str();
}

std::string TimeLine(const DropoutRun& with, const DropoutRun& without) {
  std::ostringstream md;
  md << "\nTime: dropout " << Rate(with.rate) << " " << train::FormatDuration(with.train_seconds) << " of training";
  if (with.wall_seconds > 0) md << " (" << train::FormatDuration(with.wall_seconds) << " in all)";
  md << ", dropout " << Rate(without.rate) << " " << train::FormatDuration(without.train_seconds) << " of training";
  if (without.wall_seconds > 0) md << " (" << train::FormatDuration(without.wall_seconds) << " in all)";
  md << ".\n\n";
  return md.str();
}

std::string DropoutMarkdown(const DropoutExperimentOptions& o, const DropoutRun& with, const DropoutRun& without) {
  std::ostringstream md;
  md << "# Dropout experiment: dropout " << Rate(with.rate) << " vs " << Rate(without.rate) << " on fc6/fc7\n\n";
  if (!o.command.empty()) md << "Made by:\n\n```\n" << o.command << "\n```\n\n";
  if (auto used = train::LoadTrainConfig(o.out_dir + "/" + DropoutRunName(with.rate)); used.ok()) {
    md << SetupParagraph(used.value());
  }
  md << "What the columns are: *train top-1* is the accuracy of the model at the end of the epoch on the same "
        "training subset it was trained on, measured like validation (centre crop, dropout off) - not the running "
        "accuracy during the epoch, which has dropout active. *val top-1* is the validation split (centre crop). "
        "*gap* = train top-1 - val top-1: how much better the model does on images it has seen.\n\n"
     << DropoutTable(with, without) << "\n## Findings (computed from the table)\n\n"
     << DropoutFindings(with, without) << "\n"
     << RunningTable(with, without) << TimeLine(with, without) << "![dropout experiment](dropout.png)\n";
  return md.str();
}

// ---- the findings, a few sentences each

std::string GapFindings(const DropoutRun& with, const DropoutRun& without) {
  const DropoutEpoch& lw = with.epochs.back();
  const DropoutEpoch& lo = without.epochs.back();
  const std::string a = Rate(with.rate), b = Rate(without.rate);
  std::ostringstream f;
  f << "- Gap (training top-1 minus validation top-1) at the last epoch: " << F3(lo.gap()) << " with dropout " << b
    << " (epoch " << lo.epoch << ") vs " << F3(lw.gap()) << " with dropout " << a << " (epoch " << lw.epoch
    << ").\n";
  const double diff = lw.gap() - lo.gap();
  f << "- Dropout " << a << " ";
  if (diff < -0.01) {
    f << "made the gap smaller by " << F3(-diff) << ".\n";
  } else if (diff > 0.01) {
    f << "made the gap larger by " << F3(diff) << " (the opposite of what dropout is for).\n";
  } else {
    f << "left the gap about the same (difference " << Signed3(diff) << ", within 0.01).\n";
  }
  const size_t k = std::min<size_t>(3, std::min(with.epochs.size(), without.epochs.size()));
  f << "- Mean gap over the last " << k << " epoch" << (k == 1 ? "" : "s") << ": " << F3(MeanGapOfLast(without, k))
    << " (dropout " << b << ") vs " << F3(MeanGapOfLast(with, k)) << " (dropout " << a << ").\n";
  return f.str();
}

std::string AccuracyFindings(const DropoutRun& with, const DropoutRun& without) {
  const DropoutEpoch& lw = with.epochs.back();
  const DropoutEpoch& lo = without.epochs.back();
  const std::string a = Rate(with.rate), b = Rate(without.rate);
  std::ostringstream f;
  f << "- Training top-1 at the last epoch: " << F3(lo.train_top1) << " (dropout " << b << ") vs "
    << F3(lw.train_top1) << " (dropout " << a << "); validation top-1: " << F3(lo.val_top1) << " vs "
    << F3(lw.val_top1) << " (difference " << Signed3(lw.val_top1 - lo.val_top1) << " for dropout " << a << ").\n";
  const DropoutEpoch& bo = BestVal(without);
  const DropoutEpoch& bw = BestVal(with);
  f << "- Best validation top-1: " << F3(bo.val_top1) << " at epoch " << bo.epoch << " (dropout " << b << ") vs "
    << F3(bw.val_top1) << " at epoch " << bw.epoch << " (dropout " << a << ").\n";
  return f.str();
}

std::string LossFindings(const DropoutRun& with, const DropoutRun& without) {
  const DropoutEpoch& lw = with.epochs.back();
  const DropoutEpoch& lo = without.epochs.back();
  std::ostringstream f;
  f << "- Validation loss at the last epoch: " << F3(lo.val_loss) << " (dropout " << Rate(without.rate) << ") vs "
    << F3(lw.val_loss) << " (dropout " << Rate(with.rate) << ")";
  const double min_lo = std::min_element(without.epochs.begin(), without.epochs.end(),
                                         [](const DropoutEpoch& x, const DropoutEpoch& y) {
                                           return x.val_loss < y.val_loss;
                                         })->val_loss;
  if (lo.val_loss > min_lo + 1e-9) {
    f << "; without dropout it rose from its minimum " << F3(min_lo) << " (a sign of overfitting)";
  }
  f << ".\n";
  return f.str();
}

// ---- the two trainings

train::TrainConfig RunConfig(const DropoutExperimentOptions& o, float rate) {
  train::TrainConfig c;
  c.data = o.data;
  c.model.dropout_rate = rate;
  c.model.init = o.init;
  c.model.standardize_input = o.standardize;
  c.model.seed = o.seed;
  c.recipe.batch = o.batch;
  c.recipe.epochs = o.epochs;
  c.recipe.lr = o.lr;
  c.recipe.schedule = train::LrSchedule::kStep;      // a constant learning rate: the plateau schedule would react to
  c.recipe.step_epochs = 1000000;  // validation and make the two runs differ in more than dropout
  c.recipe.random_crop = c.recipe.flip = c.recipe.pca_color = o.augment;
  c.run.run_dir = o.out_dir + "/" + DropoutRunName(rate);
  c.run.workers = o.workers;
  c.run.threads = o.threads;
  c.run.checkpoint_every = 0;
  c.run.keep_checkpoints = 1;
  c.run.log_every_s = 30;
  return c;
}

Status CheckNoRunsYet(const DropoutExperimentOptions& o, const float (&rates)[2]) {
  for (float rate : rates) {
    const std::string dir = o.out_dir + "/" + DropoutRunName(rate);
    if (fs::exists(dir + "/config.json")) {
      return Status::Error(dir, "already holds a run: remove it, choose another --out, "
                                "or add --report-only to redo the report from the existing runs");
    }
  }
  return Status::Ok();
}

// One training run with the training-subset evaluation after every epoch; its wall time is kept
// in <run>/wall_seconds.txt.
Status TrainOneRun(const DropoutExperimentOptions& o, float rate, int index, std::ostream& out) {
  const train::TrainConfig c = RunConfig(o, rate);
  out << "== run " << index + 1 << " of 2: dropout " << Rate(rate) << " on fc6/fc7 -> " << c.run.run_dir << " =="
      << std::endl;
  TrainEvalHook hook(out, o.gnuplot, std::max(o.batch, 100));
  const auto t0 = std::chrono::steady_clock::now();
  const Status trained = train::Train(c, false, {}, [&hook](const train::EpochEnd& e) { hook(e); }, out);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ALEXNET_RETURN_IF_ERROR(trained.With("the run in " + c.run.run_dir + " failed"));
  ALEXNET_RETURN_IF_ERROR(hook.status());
  return train::WriteFileAtomic(c.run.run_dir + "/wall_seconds.txt", std::to_string(wall) + "\n");
}

}  // namespace

std::string DropoutRunName(float rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(rate));
  std::string s = buf;
  if (s.back() == '0') s.pop_back();  // 0.50 -> 0.5, 0.00 -> 0.0, 0.25 stays
  return "dropout-" + s;
}

Result<DropoutRun> ReadDropoutRun(const std::string& run_dir, float rate) {
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<MetricsRow> metrics, ReadMetricsCsv(run_dir + "/metrics.csv"));
  ALEXNET_ASSIGN_OR_RETURN(const auto train_top1, ReadTrainEval(run_dir + "/train_eval.csv"));
  DropoutRun run;
  run.rate = rate;
  for (const MetricsRow& m : metrics) {
    auto it = train_top1.find(m.epoch);
    if (it == train_top1.end()) continue;
    DropoutEpoch e;
    e.epoch = m.epoch;
    e.train_top1 = it->second;
    e.train_top1_running = m.train_top1;
    e.train_loss = m.train_loss;
    e.val_top1 = m.val_top1;
    e.val_loss = m.val_loss;
    run.epochs.push_back(e);
    run.train_seconds = m.train_seconds;
  }
  if (run.epochs.empty()) {
    return Status::Error(run_dir, "no epoch has both metrics.csv and train_eval.csv entries");
  }
  run.wall_seconds = ReadWallSeconds(run_dir);
  return run;
}

std::string DropoutTable(const DropoutRun& with, const DropoutRun& without) {
  const std::string a = Rate(with.rate), b = Rate(without.rate);
  std::ostringstream t;
  t << "| epoch | train top-1 (dropout " << a << ") | val top-1 (" << a << ") | gap (" << a
    << ") | train top-1 (dropout " << b << ") | val top-1 (" << b << ") | gap (" << b << ") |\n"
    << "|---:|---:|---:|---:|---:|---:|---:|\n";
  for (int64_t epoch : AllEpochs(with, without)) {
    t << "| " << epoch;
    for (const DropoutRun* r : {&with, &without}) {
      const DropoutEpoch* e = Find(*r, epoch);
      if (e) {
        t << " | " << F3(e->train_top1) << " | " << F3(e->val_top1) << " | " << F3(e->gap());
      } else {
        t << " | - | - | -";
      }
    }
    t << " |\n";
  }
  return t.str();
}

std::string DropoutFindings(const DropoutRun& with, const DropoutRun& without) {
  if (with.epochs.empty() || without.epochs.empty()) return "No epochs to compare.\n";
  return GapFindings(with, without) + AccuracyFindings(with, without) + LossFindings(with, without);
}

Status DrawDropoutPlot(const DropoutRun& with, const DropoutRun& without, const std::string& png_path,
                       const std::string& gnuplot) {
  const std::vector<int64_t> epochs = AllEpochs(with, without);
  if (epochs.empty()) return Status::Error("", "no epochs to plot");
  const std::string tmp_png = png_path + ".tmp.png";
  const std::string script = "# The dropout experiment, written by alexnet (report/dropout_experiment.cpp).\n" +
                             GnuplotPngTerminal(tmp_png, 1100, 440) + PlotData(with, without, epochs) +
                             PlotPanels(Rate(with.rate), Rate(without.rate), epochs);
  const std::string script_path = fs::path(png_path).replace_extension(".gp").string();
  return RenderGnuplot(gnuplot, script, script_path, tmp_png, png_path);
}

Status WriteDropoutReport(const DropoutExperimentOptions& o, std::ostream& out) {
  auto run_dir = [&](float rate) { return o.out_dir + "/" + DropoutRunName(rate); };
  ALEXNET_ASSIGN_OR_RETURN(const DropoutRun with, ReadDropoutRun(run_dir(o.dropout), o.dropout));
  ALEXNET_ASSIGN_OR_RETURN(const DropoutRun without, ReadDropoutRun(run_dir(0.0f), 0.0f));
  const std::string md_path = o.out_dir + "/dropout.md";
  ALEXNET_RETURN_IF_ERROR(train::WriteFileAtomic(md_path, DropoutMarkdown(o, with, without)));
  out << "\n" << DropoutTable(with, without) << "\n" << DropoutFindings(with, without) << "\nreport: " << md_path
      << "\n";
  if (Status st = DrawDropoutPlot(with, without, o.out_dir + "/dropout.png", o.gnuplot); !st.ok()) {
    return Status::Error("", "plot not drawn: " + st.message());
  }
  out << "plot: " << o.out_dir << "/dropout.png\n";
  return Status::Ok();
}

Status RunDropoutExperiment(const DropoutExperimentOptions& o, std::ostream& out) {
  ALEXNET_RETURN_IF_ERROR(train::MakeFolder(o.out_dir));
  if (!o.report_only) {
    const float rates[2] = {o.dropout, 0.0f};
    ALEXNET_RETURN_IF_ERROR(CheckNoRunsYet(o, rates));
    for (int i = 0; i < 2; ++i) ALEXNET_RETURN_IF_ERROR(TrainOneRun(o, rates[i], i, out));
  }
  return WriteDropoutReport(o, out);
}

}  // namespace alexnet::report
