#include "report/gnuplot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "train/files.h"

extern char** environ;

namespace alexnet::report {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
  if (!line.empty() && line.back() == ',') f.emplace_back();
  return f;
}

double Field(const std::vector<std::string>& f, int i) {
  if (i < 0 || i >= static_cast<int>(f.size()) || f[i].empty()) return std::nan("");
  char* end = nullptr;
  const double v = std::strtod(f[i].c_str(), &end);
  return end == f[i].c_str() ? std::nan("") : v;
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

bool AnyFinite(const std::vector<MetricsRow>& rows, double MetricsRow::*field) {
  for (const MetricsRow& r : rows) {
    if (std::isfinite(r.*field)) return true;
  }
  return false;
}

}  // namespace

std::string ReadMetricsCsv(const std::string& path, std::vector<MetricsRow>* rows) {
  std::ifstream in(path);
  if (!in) return path + ": cannot open (" + std::strerror(errno) + ")";
  std::string line;
  if (!std::getline(in, line)) return path + ": empty file (expected a header line)";
  std::map<std::string, int> col;
  const std::vector<std::string> header = SplitCsv(line);
  for (size_t i = 0; i < header.size(); ++i) col[header[i]] = static_cast<int>(i);
  for (const char* need : {"epoch", "train_loss", "train_top1", "val_loss", "val_top1"}) {
    if (!col.count(need)) return path + ": no column '" + need + "' in the header";
  }
  auto idx = [&](const char* name) { return col.count(name) ? col[name] : -1; };
  std::map<int64_t, MetricsRow> by_epoch;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const std::vector<std::string> f = SplitCsv(line);
    MetricsRow r;
    const double epoch = Field(f, idx("epoch"));
    if (!std::isfinite(epoch)) return path + ":" + std::to_string(line_no) + ": no epoch number";
    r.epoch = static_cast<int64_t>(epoch);
    const double step = Field(f, idx("step"));
    r.step = std::isfinite(step) ? static_cast<int64_t>(step) : 0;
    r.train_loss = Field(f, idx("train_loss"));
    r.train_top1 = Field(f, idx("train_top1"));
    r.val_loss = Field(f, idx("val_loss"));
    r.val_top1 = Field(f, idx("val_top1"));
    r.val_top5 = Field(f, idx("val_top5"));
    r.lr = Field(f, idx("lr"));
    r.images_per_s = Field(f, idx("images_per_s"));
    r.train_seconds = Field(f, idx("train_seconds"));
    by_epoch[r.epoch] = r;
  }
  rows->clear();
  for (const auto& [e, r] : by_epoch) rows->push_back(r);
  return "";
}

std::string RunGnuplot(const std::string& gnuplot, const std::string& script_path, bool* not_found) {
  if (not_found) *not_found = false;
  const std::string log_path = script_path + ".log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> argv = {const_cast<char*>(gnuplot.c_str()), const_cast<char*>(script_path.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, gnuplot.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    if (not_found) *not_found = rc == ENOENT;
    return "cannot run " + gnuplot + ": " + std::strerror(rc) +
           (rc == ENOENT ? " (install gnuplot: apt-get install gnuplot-nox, or bash scripts/setup.sh)" : "");
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return "waiting for " + gnuplot + ": " + std::strerror(errno);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  // glibc's posix_spawnp reports a missing program as exit status 127 of the child.
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    if (not_found) *not_found = true;
    return "cannot run " + gnuplot +
           ": not found (install gnuplot: apt-get install gnuplot-nox, or bash scripts/setup.sh)";
  }
  const Result<std::string> log_text = train::ReadFile(log_path);
  std::string log = log_text.ok() ? *log_text : "";
  if (log.size() > 2000) log = log.substr(log.size() - 2000);
  return gnuplot + " " + script_path + " failed (" +
         (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                            : "signal " + std::to_string(WTERMSIG(status))) +
         "): " + log;
}

std::string GnuplotQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "''";
    else if (c != '\n') q += c;
  }
  return q + "'";
}

std::string GnuplotPngTerminal(const std::string& png_path, int width, int height) {
  const std::string size = std::to_string(width) + "," + std::to_string(height);
  return "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
         "  set terminal pngcairo size " + size + " font 'sans,10'\n"
         "} else {\n"
         "  set terminal png size " + size + "\n"
         "}\n"
         "set output " + GnuplotQuote(png_path) + "\n";
}

std::string DrawTrainingCurves(const std::string& metrics_csv, const std::string& png_path,
                               const std::string& gnuplot, bool* gnuplot_missing) {
  if (gnuplot_missing) *gnuplot_missing = false;
  std::vector<MetricsRow> rows;
  if (std::string err = ReadMetricsCsv(metrics_csv, &rows); !err.empty()) return err;
  if (rows.empty()) return metrics_csv + ": no epochs recorded yet";
  const bool has_val = AnyFinite(rows, &MetricsRow::val_top1);
  const fs::path png(png_path);
  const std::string tmp_png = png_path + ".tmp.png";
  std::ostringstream gp;
  gp << "# Training curves of " << metrics_csv << ", written by alexnet (report/gnuplot.cpp).\n"
     << "# gnuplot writes " << tmp_png << ", which alexnet then renames to " << png_path << ".\n"
     << GnuplotPngTerminal(tmp_png, 1000, 420) << "$metrics << EOD\n"
     << "# epoch train_loss val_loss train_top1 val_top1\n";
  for (const MetricsRow& r : rows) {
    gp << r.epoch << ' ' << Num(r.train_loss) << ' ' << Num(r.val_loss) << ' ' << Num(r.train_top1) << ' '
       << Num(r.val_top1) << '\n';
  }
  gp << "EOD\n"
     << "set multiplot layout 1,2 title " << GnuplotQuote("run " + fs::path(metrics_csv).parent_path().string())
     << "\n"
     << "set grid\nset xlabel 'epoch'\n"
     << "set xrange [" << rows.front().epoch - 0.5 << ":" << rows.back().epoch + 0.5 << "]\n"
     << (rows.back().epoch - rows.front().epoch < 20 ? "set xtics 1\n" : "")
     // Log scale: the first epoch's loss can be ten times the later ones.
     << "set title 'loss'\nset ylabel 'cross-entropy (log scale)'\nset logscale y\nset key top right\n"
     << "plot $metrics using 1:2 with linespoints lw 2 pt 7 title 'train (running mean over the epoch)'"
     << (has_val ? ", $metrics using 1:3 with linespoints lw 2 pt 5 title 'validation'" : "") << "\n"
     << "set title 'top-1 accuracy'\nset ylabel 'top-1'\nunset logscale y\nset yrange [0:1]\nset key bottom right\n"
     << "plot $metrics using 1:4 with linespoints lw 2 pt 7 title 'train (running mean over the epoch)'"
     << (has_val ? ", $metrics using 1:5 with linespoints lw 2 pt 5 title 'validation (centre crop)'" : "")
     << "\n"
     << "unset multiplot\nset output\n";
  const std::string script = fs::path(png).replace_extension(".gp").string();
  if (Status st = train::WriteFileAtomic(script, gp.str()); !st.ok()) return st.message();
  if (std::string err = RunGnuplot(gnuplot, script, gnuplot_missing); !err.empty()) {
    std::error_code ec;
    fs::remove(tmp_png, ec);
    return err;
  }
  std::error_code ec;
  fs::rename(tmp_png, png_path, ec);  // a viewer never sees a half-written PNG
  if (ec) return png_path + ": " + ec.message();
  fs::remove(script + ".log", ec);
  return "";
}

}  // namespace alexnet::report
