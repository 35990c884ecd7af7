#include "report/experiment_plot.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "report/gnuplot.h"
#include "report/seed_statistics.h"

namespace alexnet::report {

namespace fs = std::filesystem;

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
  gp << "# Written by alexnet (report/experiment_plot.cpp): mean over seeds, bars = standard deviation.\n"
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

}  // namespace alexnet::report
