#include "report/dropout_experiment.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "data/loader.h"
#include "report/epoch_report.h"
#include "report/gnuplot.h"
#include "train/evaluate.h"
#include "train/files.h"
#include "train/trainer.h"

namespace alexnet::report {

namespace fs = std::filesystem;

namespace {

std::string F3(double v) {
  if (!std::isfinite(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

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

std::string Duration(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ldm%02lds", static_cast<long>(s) / 60, static_cast<long>(s) % 60);
  return buf;
}

// After every epoch: conv1 filters and curves (as `alexnet train` does), then the fair training
// accuracy: the training subset through the model with dropout off, centre crop.
class TrainEvalHook {
 public:
  TrainEvalHook(std::string gnuplot, int batch) : reporter_(std::move(gnuplot)), batch_(batch) {}

  void operator()(const train::EpochEnd& e) {
    reporter_(e);
    const std::string run = e.config->run.run_dir;
    if (!train_set_) {
      auto ds = train::OpenDataset(e.config->data, train::Split::kTrain);
      auto stats = data::load_color_stats(run + "/color_stats.json");
      if (!ds.ok() || !stats.ok()) {
        Fail(run, ds.ok() ? stats.status().message() : ds.status().message());
        return;
      }
      train_set_ = ds.value();
      stats_ = std::make_shared<data::ColorStats>(stats.value());
    }
    auto loader = data::Loader::create(train_set_, train::EvalLoaderOptions(*e.config, stats_, false, batch_));
    if (!loader.ok()) {
      Fail(run, loader.status().message());
      return;
    }
    train::EvalResult r;
    if (std::string err = train::Evaluate(e.session, loader.value().get(), e.config->model.num_classes, &r, false);
        !err.empty()) {
      Fail(run, err);
      return;
    }
    const std::string path = run + "/train_eval.csv";
    Status st;
    if (!fs::exists(path)) st = train::AppendLine(path, "epoch,step,train_top1,train_loss,images");
    std::ostringstream line;
    line << e.epoch << ',' << e.step << ',' << std::setprecision(6) << r.top1_accuracy() << ',' << r.mean_loss()
         << ',' << r.images;
    if (st.ok()) st = train::AppendLine(path, line.str());
    if (!st.ok()) {
      Fail(run, st.message());
      return;
    }
    std::cout << "  training subset (" << r.images << " images, centre crop, dropout off): top-1 "
              << F3(r.top1_accuracy()) << ", loss " << F3(r.mean_loss()) << std::endl;
  }

  const std::string& error() const { return error_; }

 private:
  void Fail(const std::string& run, const std::string& msg) {
    if (error_.empty()) error_ = run + ": evaluating the training subset: " + msg;
    std::cerr << "alexnet experiment: " << error_ << "\n";
  }

  EpochReporter reporter_;
  int batch_;
  std::shared_ptr<const data::Dataset> train_set_;
  std::shared_ptr<const data::ColorStats> stats_;
  std::string error_;
};

}  // namespace

std::string DropoutRunName(float rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(rate));
  std::string s = buf;
  if (s.back() == '0') s.pop_back();  // 0.50 -> 0.5, 0.00 -> 0.0, 0.25 stays
  return "dropout-" + s;
}

std::string ReadDropoutRun(const std::string& run_dir, float rate, DropoutRun* run) {
  *run = DropoutRun{};
  run->rate = rate;
  std::vector<MetricsRow> metrics;
  if (std::string err = ReadMetricsCsv(run_dir + "/metrics.csv", &metrics); !err.empty()) return err;
  const std::string eval_path = run_dir + "/train_eval.csv";
  std::ifstream in(eval_path);
  if (!in) return eval_path + ": cannot open (the experiment writes it after every epoch)";
  std::map<int64_t, double> train_top1;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string epoch, step, top1;
    if (!std::getline(ss, epoch, ',') || !std::getline(ss, step, ',') || !std::getline(ss, top1, ',')) continue;
    try {
      train_top1[std::stoll(epoch)] = std::stod(top1);
    } catch (const std::exception&) {
      return eval_path + ": malformed line '" + line + "'";
    }
  }
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
    run->epochs.push_back(e);
    run->train_seconds = m.train_seconds;
  }
  if (run->epochs.empty()) return run_dir + ": no epoch has both metrics.csv and train_eval.csv entries";
  if (Result<std::string> wall_text = train::ReadFile(run_dir + "/wall_seconds.txt"); wall_text.ok()) {
    const std::string& wall = *wall_text;
    try {
      run->wall_seconds = std::stod(wall);
    } catch (const std::exception&) {
      run->wall_seconds = 0;
    }
  }
  return "";
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
  f << "- Training top-1 at the last epoch: " << F3(lo.train_top1) << " (dropout " << b << ") vs "
    << F3(lw.train_top1) << " (dropout " << a << "); validation top-1: " << F3(lo.val_top1) << " vs "
    << F3(lw.val_top1) << " (difference " << Signed3(lw.val_top1 - lo.val_top1) << " for dropout " << a << ").\n";
  const DropoutEpoch& bo = BestVal(without);
  const DropoutEpoch& bw = BestVal(with);
  f << "- Best validation top-1: " << F3(bo.val_top1) << " at epoch " << bo.epoch << " (dropout " << b << ") vs "
    << F3(bw.val_top1) << " at epoch " << bw.epoch << " (dropout " << a << ").\n";
  f << "- Validation loss at the last epoch: " << F3(lo.val_loss) << " (dropout " << b << ") vs " << F3(lw.val_loss)
    << " (dropout " << a << ")";
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

std::string DrawDropoutPlot(const DropoutRun& with, const DropoutRun& without, const std::string& png_path,
                            const std::string& gnuplot) {
  const std::string a = Rate(with.rate), b = Rate(without.rate);
  auto num = [](const DropoutEpoch* e, double (*get)(const DropoutEpoch&)) {
    if (!e) return std::string("NaN");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", get(*e));
    return std::string(buf);
  };
  const std::vector<int64_t> epochs = AllEpochs(with, without);
  if (epochs.empty()) return "no epochs to plot";
  const std::string tmp_png = png_path + ".tmp.png";
  std::ostringstream gp;
  gp << "# The dropout experiment, written by alexnet (report/dropout_experiment.cpp).\n"
     << GnuplotPngTerminal(tmp_png, 1100, 440) << "$d << EOD\n"
     << "# epoch train_" << a << " val_" << a << " gap_" << a << " train_" << b << " val_" << b << " gap_" << b
     << "\n";
  for (int64_t epoch : epochs) {
    gp << epoch;
    for (const DropoutRun* r : {&with, &without}) {
      const DropoutEpoch* e = Find(*r, epoch);
      gp << ' ' << num(e, [](const DropoutEpoch& x) { return x.train_top1; }) << ' '
         << num(e, [](const DropoutEpoch& x) { return x.val_top1; }) << ' '
         << num(e, [](const DropoutEpoch& x) { return x.gap(); });
    }
    gp << '\n';
  }
  gp << "EOD\n"
     << "set multiplot layout 1,2 title 'dropout " << a << " vs " << b
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
  const std::string script = fs::path(png_path).replace_extension(".gp").string();
  if (Status st = train::WriteFileAtomic(script, gp.str()); !st.ok()) return st.message();
  if (std::string err = RunGnuplot(gnuplot, script); !err.empty()) {
    std::error_code ec;
    fs::remove(tmp_png, ec);
    return err;
  }
  std::error_code ec;
  fs::rename(tmp_png, png_path, ec);
  if (ec) return png_path + ": " + ec.message();
  fs::remove(script + ".log", ec);
  return "";
}

int RunDropoutExperiment(const DropoutExperimentOptions& o, std::ostream& out) {
  const float rates[2] = {o.dropout, 0.0f};
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) {
    std::cerr << "alexnet experiment: " << o.out_dir << ": cannot create the folder: " << ec.message() << "\n";
    return 1;
  }
  if (!o.report_only) {
    for (float rate : rates) {
      const std::string dir = o.out_dir + "/" + DropoutRunName(rate);
      if (fs::exists(dir + "/config.json")) {
        std::cerr << "alexnet experiment: " << dir << " already holds a run: remove it, choose another --out, "
                  << "or add --report-only to redo the report from the existing runs\n";
        return 1;
      }
    }
    for (int i = 0; i < 2; ++i) {
      train::TrainConfig c;
      c.data = o.data;
      c.model.dropout_rate = rates[i];
      c.model.init = o.init;
      c.model.standardize_input = o.standardize;
      c.model.seed = o.seed;
      c.recipe.batch = o.batch;
      c.recipe.epochs = o.epochs;
      c.recipe.lr = o.lr;
      c.recipe.schedule = "step";  // a constant learning rate: the plateau schedule would react to
      c.recipe.step_epochs = 1000000;  // validation and make the two runs differ in more than dropout
      c.recipe.random_crop = c.recipe.flip = c.recipe.pca_color = o.augment;
      c.run.run_dir = o.out_dir + "/" + DropoutRunName(rates[i]);
      c.run.workers = o.workers;
      c.run.threads = o.threads;
      c.run.checkpoint_every = 0;
      c.run.keep_checkpoints = 1;
      c.run.log_every_s = 30;
      out << "== run " << i + 1 << " of 2: dropout " << Rate(rates[i]) << " on fc6/fc7 -> " << c.run.run_dir
          << " ==" << std::endl;
      TrainEvalHook hook(o.gnuplot, std::max(o.batch, 100));
      const auto t0 = std::chrono::steady_clock::now();
      const int rc = train::Train(c, false, {}, [&hook](const train::EpochEnd& e) { hook(e); });
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (rc != 0) {
        std::cerr << "alexnet experiment: the run in " << c.run.run_dir << " failed (exit status " << rc << ")\n";
        return rc;
      }
      if (!hook.error().empty()) return 1;
      if (Status st = train::WriteFileAtomic(c.run.run_dir + "/wall_seconds.txt", std::to_string(wall) + "\n");
          !st.ok()) {
        std::cerr << "alexnet experiment: " << st.message() << "\n";
        return 1;
      }
    }
  }

  DropoutRun with, without;
  for (auto [rate, run] : {std::pair{rates[0], &with}, std::pair{rates[1], &without}}) {
    if (std::string err = ReadDropoutRun(o.out_dir + "/" + DropoutRunName(rate), rate, run); !err.empty()) {
      std::cerr << "alexnet experiment: " << err << "\n";
      return 1;
    }
  }
  const Result<train::TrainConfig> loaded = train::LoadTrainConfig(o.out_dir + "/" + DropoutRunName(rates[0]));
  const bool have_config = loaded.ok();
  const train::TrainConfig used = have_config ? *loaded : train::TrainConfig{};
  std::ostringstream md;
  md << "# Dropout experiment: dropout " << Rate(with.rate) << " vs " << Rate(without.rate) << " on fc6/fc7\n\n";
  if (!o.command.empty()) md << "Made by:\n\n```\n" << o.command << "\n```\n\n";
  if (have_config) {
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
  }
  md << "What the columns are: *train top-1* is the accuracy of the model at the end of the epoch on the same "
        "training subset it was trained on, measured like validation (centre crop, dropout off) - not the running "
        "accuracy during the epoch, which has dropout active. *val top-1* is the validation split (centre crop). "
        "*gap* = train top-1 - val top-1: how much better the model does on images it has seen.\n\n"
     << DropoutTable(with, without) << "\n## Findings (computed from the table)\n\n"
     << DropoutFindings(with, without) << "\n";
  md << "Running training top-1 during each epoch (metrics.csv; dropout active while training):\n\n"
     << "| epoch | dropout " << Rate(with.rate) << " | dropout " << Rate(without.rate) << " |\n|---:|---:|---:|\n";
  for (int64_t epoch : AllEpochs(with, without)) {
    const DropoutEpoch* w = Find(with, epoch);
    const DropoutEpoch* n = Find(without, epoch);
    md << "| " << epoch << " | " << (w ? F3(w->train_top1_running) : "-") << " | "
       << (n ? F3(n->train_top1_running) : "-") << " |\n";
  }
  md << "\nTime: dropout " << Rate(with.rate) << " " << Duration(with.train_seconds) << " of training";
  if (with.wall_seconds > 0) md << " (" << Duration(with.wall_seconds) << " in all)";
  md << ", dropout " << Rate(without.rate) << " " << Duration(without.train_seconds) << " of training";
  if (without.wall_seconds > 0) md << " (" << Duration(without.wall_seconds) << " in all)";
  md << ".\n\n![dropout experiment](dropout.png)\n";

  const std::string md_path = o.out_dir + "/dropout.md";
  if (Status st = train::WriteFileAtomic(md_path, md.str()); !st.ok()) {
    std::cerr << "alexnet experiment: " << st.message() << "\n";
    return 1;
  }
  out << "\n" << DropoutTable(with, without) << "\n" << DropoutFindings(with, without) << "\nreport: " << md_path
      << "\n";
  if (std::string err = DrawDropoutPlot(with, without, o.out_dir + "/dropout.png", o.gnuplot); !err.empty()) {
    std::cerr << "alexnet experiment: plot not drawn: " << err << "\n";
    return 1;
  }
  out << "plot: " << o.out_dir << "/dropout.png\n";
  return 0;
}

}  // namespace alexnet::report
