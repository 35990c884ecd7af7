#include "report/experiment_runs.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "report/epoch_report.h"
#include "report/train_eval.h"
#include "util/csv.h"
#include "util/files.h"
#include "util/format.h"
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

// ---- numbers over seeds

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

std::vector<VariantResult> Tabulate(const std::vector<Variant>& variants, const std::vector<RunRecord>& runs,
                                    const std::vector<Measure>& measures) {
  std::vector<VariantResult> results;
  for (const Variant& v : variants) {
    VariantResult vr{v, {}, {}};
    for (const RunRecord& r : runs) {
      if (r.variant == v.name) vr.runs.push_back(r);
    }
    for (const Measure& m : measures) {
      std::vector<double> values;
      for (const RunRecord& r : vr.runs) values.push_back(m.of(r));
      vr.stats.push_back(Summarize(values));
    }
    results.push_back(std::move(vr));
  }
  return results;
}

namespace {
std::string TableHeader(const std::vector<std::string>& first, const std::vector<Measure>& measures) {
  std::string head = "|", rule = "|";
  for (const std::string& f : first) head += " " + f + " |", rule += "---|";
  for (const Measure& m : measures) head += " " + m.column + " |", rule += "---:|";
  return head + "\n" + rule + "\n";
}
}  // namespace

std::string ResultsTable(const std::vector<VariantResult>& results, const std::vector<Measure>& measures) {
  std::string t = TableHeader({"variant"}, measures);
  for (const VariantResult& vr : results) {
    t += "| " + vr.variant.label;
    for (size_t i = 0; i < measures.size(); ++i) t += " | " + MeanSd(vr.stats[i], measures[i].decimals);
    t += " |\n";
  }
  return t;
}

std::string PerSeedTable(const std::vector<VariantResult>& results, const std::vector<Measure>& measures) {
  std::string t = TableHeader({"variant", "seed"}, measures);
  for (const VariantResult& vr : results) {
    for (size_t k = 0; k < vr.runs.size(); ++k) {
      t += "| " + vr.variant.label + " | " + std::to_string(vr.runs[k].seed);
      for (size_t i = 0; i < measures.size(); ++i) {
        const double v = vr.stats[i].values[k];
        t += " | " + (std::isfinite(v) ? FormatFixed(v, measures[i].decimals) : std::string("-"));
      }
      t += " |\n";
    }
  }
  return t;
}

// ---- per-run measurements

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

// ---- the figure

namespace {

const char* const kColours[] = {"#1f60c0", "#d03020", "#20a040", "#a040c0", "#e0a000"};

// Per variant: the y values of every run at each x.
using PanelPoints = std::vector<std::map<double, std::vector<double>>>;

PanelPoints PointsOf(const std::vector<VariantResult>& results, const Panel& panel) {
  PanelPoints points(results.size());
  for (size_t v = 0; v < results.size(); ++v) {
    for (const RunRecord& r : results[v].runs) {
      for (const auto& [x, y] : panel.points(r)) {
        if (std::isfinite(y)) points[v][x].push_back(y);
      }
    }
  }
  return points;
}

// One data block per variant: x, mean over seeds, standard deviation ("$p<panel>v<variant>").
std::string PanelData(const PanelPoints& points, size_t index) {
  std::ostringstream d;
  for (size_t v = 0; v < points.size(); ++v) {
    d << "$p" << index << "v" << v << " << EOD\n";
    for (const auto& [x, ys] : points[v]) {
      const Stat s = Summarize(ys);
      d << GnuplotNumber(x) << ' ' << GnuplotNumber(s.mean) << ' ' << GnuplotNumber(s.sd) << '\n';
    }
    d << "EOD\n";
  }
  return d.str();
}

// A curve per variant that has points (a variant whose every run diverged at once has none).
std::string PanelPlot(const std::vector<VariantResult>& results, const PanelPoints& points, const Panel& panel,
                      size_t index) {
  std::ostringstream gp;
  gp << "set title " << GnuplotQuote(panel.title) << "\nset xlabel " << GnuplotQuote(panel.xlabel)
     << "\nset ylabel " << GnuplotQuote(panel.ylabel) << "\n"
     << (panel.error_bars ? "set xtics 1\nset offsets 0.3, 0.3, 0, 0\n"
                          : "set xtics autofreq\nset offsets 0, 0, 0, 0\n")
     << "plot ";
  std::string curves;
  for (size_t v = 0; v < results.size(); ++v) {
    if (points[v].empty()) continue;
    const std::string colour = kColours[v % (sizeof kColours / sizeof kColours[0])];
    curves += (curves.empty() ? "" : ", \\\n     ") + ("$p" + std::to_string(index) + "v" + std::to_string(v)) +
              (panel.error_bars ? " using 1:2:3 with yerrorlines lw 2 pt 7" : " using 1:2 with lines lw 2") +
              " lc rgb '" + colour + "' title " + GnuplotQuote(results[v].variant.label);
  }
  if (curves.empty()) curves = "0 lc rgb '#ffffff' title 'no data: every run diverged'";
  gp << curves;
  if (std::isfinite(panel.hline)) {
    gp << ", \\\n     " << GnuplotNumber(panel.hline) << " with lines dt 2 lc rgb '#888888' notitle";
  }
  return gp.str() + "\n";
}

}  // namespace

Status DrawExperimentPlot(const std::string& title, const std::vector<VariantResult>& results,
                          const std::vector<Panel>& panels, const std::string& png_path, const std::string& gnuplot) {
  if (results.empty() || panels.empty()) return Status::BadInput(png_path, "nothing to plot");
  const std::string tmp_png = png_path + ".tmp.png";
  std::ostringstream gp;
  gp << "# Written by alexnet (report/experiment_runs.cpp): mean over seeds, bars = standard deviation.\n"
     << GnuplotPngTerminal(tmp_png, 560 * static_cast<int>(panels.size()), 440);
  std::vector<PanelPoints> points;
  for (size_t i = 0; i < panels.size(); ++i) {
    points.push_back(PointsOf(results, panels[i]));
    gp << PanelData(points.back(), i);
  }
  gp << "set multiplot layout 1," << panels.size() << " title " << GnuplotQuote(title)
     << "\nset grid\nset key top right box opaque\n";
  for (size_t i = 0; i < panels.size(); ++i) gp << PanelPlot(results, points[i], panels[i], i);
  gp << "unset multiplot\nset output\n";
  const std::string script_path = fs::path(png_path).replace_extension(".gp").string();
  return RenderGnuplot(gnuplot, gp.str(), script_path, tmp_png, png_path);
}

// ---- the comparison with the paper

Difference Compare(const Stat& paper_worse, const Stat& paper_better) {
  Difference d;
  d.n = std::min(paper_worse.n, paper_better.n);
  if (d.n == 0) return {std::nan(""), std::nan(""), 0};
  d.points = paper_worse.mean - paper_better.mean;
  const double a = paper_worse.sd * paper_worse.sd / paper_worse.n;
  const double b = paper_better.sd * paper_better.sd / paper_better.n;
  d.se = std::sqrt(a + b);
  return d;
}

const char* AgreementText(Agreement a) {
  switch (a) {
    case Agreement::kAgrees: return "agrees";
    case Agreement::kDisagrees: return "disagrees";
    case Agreement::kWithinNoise: return "within noise";
  }
  return "?";
}

// Within noise: fewer than 2 seeds, or less than two standard errors from 0.
Agreement Judge(const Difference& d) {
  if (d.n < 2 || !std::isfinite(d.points) || std::fabs(d.points) <= 2 * d.se) return Agreement::kWithinNoise;
  return d.points > 0 ? Agreement::kAgrees : Agreement::kDisagrees;
}

std::string Verdict(const Difference& d, double paper_points, const std::string& what, const std::string& unit) {
  if (d.n == 0 || !std::isfinite(d.points)) return "There is nothing to compare: no run of one side gave a value.";
  const bool has_number = std::isfinite(paper_points);
  const std::string paper = has_number ? "the paper's " + FormatFixed(paper_points, 1) : "the paper's claim";
  const std::string size = FormatFixed(std::fabs(d.points), 2) + " " + unit;
  const std::string noise = " (two standard errors: " + FormatFixed(2 * d.se, 2) + ")";
  std::ostringstream s;
  switch (Judge(d)) {
    case Agreement::kWithinNoise:
      s << "The measured difference (with " << what << " it was " << (d.points >= 0 ? "better" : "worse") << " by "
        << size << ") is within the seed-to-seed noise" << noise << ", so this measurement neither confirms nor "
        << "contradicts " << paper << ".";
      break;
    case Agreement::kAgrees:
      s << "This agrees with the paper in direction: with " << what << " it was better by " << size << noise;
      if (has_number) {
        s << ", " << (d.points >= 0.5 * paper_points && d.points <= 2 * paper_points ? "of the same order as"
                      : d.points < paper_points                                     ? "less than"
                                                                                     : "more than")
          << " " << paper;
      }
      s << ".";
      break;
    case Agreement::kDisagrees:
      s << "This disagrees with the paper: with " << what << " it was worse by " << size << noise
        << ", where the paper found it better" << (has_number ? " by " + FormatFixed(paper_points, 1) : "")
        << ".";
      break;
  }
  return s.str();
}

}  // namespace alexnet::report
