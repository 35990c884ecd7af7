#include "report/experiment_tables.h"

#include <cmath>
#include <utility>

#include "util/format.h"

namespace alexnet::report {

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

}  // namespace alexnet::report
