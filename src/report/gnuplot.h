// Plots with gnuplot as a child process: a generated script (data inline), run as
// `gnuplot script.gp`. Training curves of a run come from its metrics.csv.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace alexnet::report {

// One line of <run>/metrics.csv:
// epoch,step,train_loss,train_top1,val_loss,val_top1,val_top5,lr,images_per_s,train_seconds.
// Missing validation fields (a run without a validation split) are NaN.
struct MetricsRow {
  int64_t epoch = 0;
  int64_t step = 0;
  double train_loss = 0, train_top1 = 0;  // running, with dropout and augmentation active
  double val_loss = 0, val_top1 = 0, val_top5 = 0;
  double lr = 0, images_per_s = 0, train_seconds = 0;
};

// Reads metrics.csv (header by name, so column order does not matter), one row per epoch in
// epoch order. When an epoch appears more than once (a resumed run repeats a partial epoch) the
// last line wins.
Result<std::vector<MetricsRow>> ReadMetricsCsv(const std::string& path);

// Runs `gnuplot` (a program name looked up in PATH, or a path) on `script_path`; its output
// goes to `script_path`.log. A gnuplot that is not installed gives kNotFound (with no path: the
// program is looked up in PATH); a script gnuplot fails on gives kInternal about `script_path`.
Status RunGnuplot(const std::string& gnuplot, const std::string& script_path);

// Writes `script` to `script_path`, runs gnuplot on it, and moves the PNG it wrote to `tmp_png`
// onto `png_path` (so a viewer never sees a half-written picture). The script stays for
// re-running or editing; its .log goes when gnuplot succeeded.
Status RenderGnuplot(const std::string& gnuplot, const std::string& script, const std::string& script_path,
                     const std::string& tmp_png, const std::string& png_path);

// The gnuplot lines that pick pngcairo when this gnuplot has it, else png (gnuplot-nox ships
// both; some builds lack cairo), sized width x height, writing `png_path`.
std::string GnuplotPngTerminal(const std::string& png_path, int width, int height);

// Quotes a string for a gnuplot script ('...' with ' doubled).
std::string GnuplotQuote(const std::string& s);

// A number for a gnuplot data block: 6 significant digits, NaN for a missing value.
std::string GnuplotNumber(double v);

// The run folder as the curves' title names it: a relative path as given ("runs/docs-227"), else
// (an absolute path, or one with "..") the folder's name alone, so that a figure made in a
// temporary or home folder shows no machine's paths: "/tmp/exp/docs-model" -> "docs-model".
std::string RunFolderTitle(const std::string& run_dir);

// <run>/curves.png from <run>/metrics.csv: two panels, loss (train, val) and top-1 (train, val)
// per epoch, titled "run " + RunFolderTitle(<run>). The script is kept as <png without .png>.gp
// so it can be re-run or edited.
Status DrawTrainingCurves(const std::string& metrics_csv, const std::string& png_path,
                          const std::string& gnuplot = "gnuplot");

}  // namespace alexnet::report
