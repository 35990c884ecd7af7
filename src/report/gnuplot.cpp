#include "report/gnuplot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "util/csv.h"
#include "util/files.h"

extern char** environ;

namespace alexnet::report {

namespace fs = std::filesystem;

namespace {

const char kInstallHint[] = " (install gnuplot: apt-get install gnuplot-nox, or bash scripts/setup.sh)";

// ---- metrics.csv

double NumberOrNaN(const std::string& field) {
  if (field.empty()) return std::nan("");
  char* end = nullptr;
  const double v = std::strtod(field.c_str(), &end);
  return end == field.c_str() ? std::nan("") : v;
}

Status CheckMetricsColumns(const CsvTable& t, const std::string& path) {
  for (const char* need : {"epoch", "train_loss", "train_top1", "val_loss", "val_top1"}) {
    if (t.Column(need) < 0) return Status::BadInput(path, std::string("no column '") + need + "' in the header");
  }
  return Status::Ok();
}

Result<MetricsRow> MetricsRowAt(const CsvTable& t, size_t i, const std::string& path) {
  auto number = [&](const char* column) { return NumberOrNaN(t.Field(i, t.Column(column))); };
  MetricsRow r;
  const double epoch = number("epoch");
  if (!std::isfinite(epoch)) return Status::BadInput(path + ":" + std::to_string(t.row_lines[i]), "no epoch number");
  r.epoch = static_cast<int64_t>(epoch);
  const double step = number("step");
  r.step = std::isfinite(step) ? static_cast<int64_t>(step) : 0;
  r.train_loss = number("train_loss");
  r.train_top1 = number("train_top1");
  r.val_loss = number("val_loss");
  r.val_top1 = number("val_top1");
  r.val_top5 = number("val_top5");
  r.lr = number("lr");
  r.images_per_s = number("images_per_s");
  r.train_seconds = number("train_seconds");
  return r;
}

// ---- running gnuplot

// Starts `gnuplot script_path` with stdin from /dev/null and stdout and stderr into log_path.
// Returns 0 or posix_spawnp's error number.
int Spawn(const std::string& gnuplot, const std::string& script_path, const std::string& log_path, pid_t* pid) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> argv = {const_cast<char*>(gnuplot.c_str()), const_cast<char*>(script_path.c_str()), nullptr};
  const int rc = posix_spawnp(pid, gnuplot.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc;
}

// The last 2000 characters of gnuplot's log (its error is at the end).
std::string LogTail(const std::string& log_path) {
  std::ifstream in(log_path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string log = ss.str();
  return log.size() > 2000 ? log.substr(log.size() - 2000) : log;
}

Status Failed(const std::string& gnuplot, const std::string& script_path, int status) {
  // glibc's posix_spawnp reports a missing program as exit status 127 of the child.
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return Status::NotFound("", "cannot run " + gnuplot + ": not found" + kInstallHint);
  }
  return Status::Error(StatusCode::kInternal, script_path,
                       gnuplot + " failed (" +
                           (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                              : "signal " + std::to_string(WTERMSIG(status))) +
                           "): " + LogTail(script_path + ".log"));
}

// ---- the training curves' script

std::string CurvesData(const std::vector<MetricsRow>& rows) {
  std::ostringstream d;
  d << "$metrics << EOD\n# epoch train_loss val_loss train_top1 val_top1\n";
  for (const MetricsRow& r : rows) {
    d << r.epoch << ' ' << GnuplotNumber(r.train_loss) << ' ' << GnuplotNumber(r.val_loss) << ' '
      << GnuplotNumber(r.train_top1) << ' ' << GnuplotNumber(r.val_top1) << '\n';
  }
  return d.str() + "EOD\n";
}

bool AnyFinite(const std::vector<MetricsRow>& rows, double MetricsRow::*field) {
  for (const MetricsRow& r : rows) {
    if (std::isfinite(r.*field)) return true;
  }
  return false;
}

// Loss (log scale: the first epoch's loss can be ten times the later ones) and top-1, side by side.
std::string CurvesPanels(const std::vector<MetricsRow>& rows, bool has_val) {
  std::ostringstream gp;
  gp << "set grid\nset xlabel 'epoch'\n"
     << "set xrange [" << rows.front().epoch - 0.5 << ":" << rows.back().epoch + 0.5 << "]\n"
     << (rows.back().epoch - rows.front().epoch < 20 ? "set xtics 1\n" : "")
     << "set title 'loss'\nset ylabel 'cross-entropy (log scale)'\nset logscale y\nset key top right\n"
     << "plot $metrics using 1:2 with linespoints lw 2 pt 7 title 'train (running mean over the epoch)'"
     << (has_val ? ", $metrics using 1:3 with linespoints lw 2 pt 5 title 'validation'" : "") << "\n"
     << "set title 'top-1 accuracy'\nset ylabel 'top-1'\nunset logscale y\nset yrange [0:1]\nset key bottom right\n"
     << "plot $metrics using 1:4 with linespoints lw 2 pt 7 title 'train (running mean over the epoch)'"
     << (has_val ? ", $metrics using 1:5 with linespoints lw 2 pt 5 title 'validation (centre crop)'" : "")
     << "\n";
  return gp.str();
}

std::string CurvesScript(const std::string& metrics_csv, const std::vector<MetricsRow>& rows,
                         const std::string& tmp_png, const std::string& png_path) {
  std::ostringstream gp;
  gp << "# Training curves of " << metrics_csv << ", written by alexnet (report/gnuplot.cpp).\n"
     << "# gnuplot writes " << tmp_png << ", which alexnet then renames to " << png_path << ".\n"
     << GnuplotPngTerminal(tmp_png, 1000, 420) << CurvesData(rows)
     << "set multiplot layout 1,2 title "
     << GnuplotQuote("run " + RunFolderTitle(fs::path(metrics_csv).parent_path().string()))
     << "\n"
     << CurvesPanels(rows, AnyFinite(rows, &MetricsRow::val_top1)) << "unset multiplot\nset output\n";
  return gp.str();
}

}  // namespace

std::string RunFolderTitle(const std::string& run_dir) {
  const fs::path p = fs::path(run_dir).lexically_normal();
  bool climbs = false;
  for (const fs::path& part : p) climbs = climbs || part == "..";
  if (p.is_relative() && !climbs && !p.empty() && p != ".") {
    std::string s = p.string();
    if (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
  }
  std::error_code ec;
  fs::path full = fs::absolute(p, ec).lexically_normal();
  if (!full.has_filename()) full = full.parent_path();  // "/tmp/run/" -> "/tmp/run"
  return full.has_filename() ? full.filename().string() : full.string();
}

Result<std::vector<MetricsRow>> ReadMetricsCsv(const std::string& path) {
  ALEXNET_ASSIGN_OR_RETURN(const CsvTable table, ReadCsv(path));
  ALEXNET_RETURN_IF_ERROR(CheckMetricsColumns(table, path));
  std::map<int64_t, MetricsRow> by_epoch;
  for (size_t i = 0; i < table.rows.size(); ++i) {
    ALEXNET_ASSIGN_OR_RETURN(const MetricsRow row, MetricsRowAt(table, i, path));
    by_epoch[row.epoch] = row;
  }
  std::vector<MetricsRow> rows;
  for (const auto& [epoch, row] : by_epoch) rows.push_back(row);
  return rows;
}

Status RunGnuplot(const std::string& gnuplot, const std::string& script_path) {
  pid_t pid = 0;
  if (const int rc = Spawn(gnuplot, script_path, script_path + ".log", &pid); rc != 0) {
    return Status::Error(ErrnoCode(rc), "",
                         "cannot run " + gnuplot + ": " + std::strerror(rc) + (rc == ENOENT ? kInstallHint : ""));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::Internal("waiting for " + gnuplot + ": " + std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  return Failed(gnuplot, script_path, status);
}

Status RenderGnuplot(const std::string& gnuplot, const std::string& script, const std::string& script_path,
                     const std::string& tmp_png, const std::string& png_path) {
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(script_path, script));
  std::error_code ec;
  if (Status st = RunGnuplot(gnuplot, script_path); !st.ok()) {
    fs::remove(tmp_png, ec);
    return st;
  }
  fs::rename(tmp_png, png_path, ec);
  if (ec) return Status::Io(png_path, ec.message());
  fs::remove(script_path + ".log", ec);
  return Status::Ok();
}

std::string GnuplotQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "''";
    else if (c != '\n') q += c;
  }
  return q + "'";
}

std::string GnuplotNumber(double v) {
  if (!std::isfinite(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
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

Status DrawTrainingCurves(const std::string& metrics_csv, const std::string& png_path, const std::string& gnuplot) {
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<MetricsRow> rows, ReadMetricsCsv(metrics_csv));
  if (rows.empty()) return Status::BadInput(metrics_csv, "no epochs recorded yet");
  const std::string tmp_png = png_path + ".tmp.png";
  const std::string script_path = fs::path(png_path).replace_extension(".gp").string();
  return RenderGnuplot(gnuplot, CurvesScript(metrics_csv, rows, tmp_png, png_path), script_path, tmp_png, png_path);
}

}  // namespace alexnet::report
