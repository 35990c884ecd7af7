#include "report/dropout_experiment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "report/gnuplot.h"
#include "report/train_eval.h"
#include "util/format.h"

namespace alexnet::report {

namespace fs = std::filesystem;

namespace {

std::string F3(double v) { return std::isfinite(v) ? FormatFixed(v, 3) : "-"; }

std::string Signed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.3f", v);
  return buf;
}

std::string Rate(float r) { return DropoutRate(r); }

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
  md << "\nTime: dropout " << Rate(with.rate) << " " << FormatDuration(with.train_seconds) << " of training";
  if (with.wall_seconds > 0) md << " (" << FormatDuration(with.wall_seconds) << " in all)";
  md << ", dropout " << Rate(without.rate) << " " << FormatDuration(without.train_seconds) << " of training";
  if (without.wall_seconds > 0) md << " (" << FormatDuration(without.wall_seconds) << " in all)";
  md << ".\n\n";
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

}  // namespace

std::string DropoutRate(float rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(rate));
  std::string s = buf;
  if (s.back() == '0') s.pop_back();  // 0.50 -> 0.5, 0.00 -> 0.0, 0.25 stays
  return s;
}

std::string DropoutRunName(float rate) { return "dropout-" + DropoutRate(rate); }

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
    return Status::BadInput(run_dir, "no epoch has both metrics.csv and train_eval.csv entries");
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
  if (epochs.empty()) return Status::BadInput("", "no epochs to plot");
  const std::string tmp_png = png_path + ".tmp.png";
  const std::string script = "# The dropout experiment, written by alexnet (report/dropout_experiment.cpp).\n" +
                             GnuplotPngTerminal(tmp_png, 1100, 440) + PlotData(with, without, epochs) +
                             PlotPanels(Rate(with.rate), Rate(without.rate), epochs);
  const std::string script_path = fs::path(png_path).replace_extension(".gp").string();
  return RenderGnuplot(gnuplot, script, script_path, tmp_png, png_path);
}

DropoutRun MeanDropoutRun(const std::vector<DropoutRun>& runs) {
  DropoutRun mean;
  if (runs.empty()) return mean;
  mean.rate = runs.front().rate;
  for (const DropoutEpoch& first : runs.front().epochs) {
    DropoutEpoch m;
    m.epoch = first.epoch;
    size_t found = 0;
    for (const DropoutRun& r : runs) {
      const DropoutEpoch* e = Find(r, first.epoch);
      if (!e) break;
      ++found;
      m.train_top1 += e->train_top1, m.train_top1_running += e->train_top1_running, m.train_loss += e->train_loss;
      m.val_top1 += e->val_top1, m.val_loss += e->val_loss;
    }
    if (found < runs.size()) continue;
    const double n = static_cast<double>(runs.size());
    m.train_top1 /= n, m.train_top1_running /= n, m.train_loss /= n, m.val_top1 /= n, m.val_loss /= n;
    mean.epochs.push_back(m);
  }
  for (const DropoutRun& r : runs) mean.train_seconds += r.train_seconds, mean.wall_seconds += r.wall_seconds;
  return mean;
}

std::string DropoutSections(const DropoutRun& with, const DropoutRun& without) {
  std::ostringstream md;
  md << "What the columns are: *train top-1* is the accuracy of the model at the end of the epoch on the same "
        "training subset it was trained on, measured like validation (centre crop, dropout off) - not the running "
        "accuracy during the epoch, which has dropout active. *val top-1* is the validation split (centre crop). "
        "*gap* = train top-1 - val top-1: how much better the model does on images it has seen.\n\n"
     << DropoutTable(with, without) << "\nFindings (computed from the table):\n\n"
     << DropoutFindings(with, without) << "\n"
     << RunningTable(with, without) << TimeLine(with, without);
  return md.str();
}

}  // namespace alexnet::report
