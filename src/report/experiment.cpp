#include "report/experiment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "report/claims.h"
#include "report/dropout_experiment.h"
#include "report/experiment_plot.h"
#include "report/experiment_runs.h"
#include "report/experiment_tables.h"
#include "report/verdict.h"
#include "util/files.h"
#include "util/format.h"

namespace alexnet::report {

namespace fs = std::filesystem;

const std::vector<ExperimentKind>& AllExperimentKinds() {
  static const std::vector<ExperimentKind> kAll = [] {
    std::vector<ExperimentKind> all;
    for (const auto& e : kExperimentNames) all.push_back(e.value);
    return all;
  }();
  return kAll;
}

const char* ExperimentName(ExperimentKind kind) { return NameIn(kExperimentNames, kind); }

// Measured on this project's shared 2-core machine (docs/learn/7-training.md): each experiment takes
// about 5 to 15 minutes. 67 x 67 is the smallest input AlexNet takes (pool5 is then 1 x 1);
// a 2,000-image subset of Fashion-MNIST at a standardised input learns to about 75 % validation
// top-1 in a few epochs. The learning rate is 0.005, not the paper's 0.01: at 0.01 the network
// without LRN diverged (loss NaN at step 4, seed 1), and a comparison needs both sides to train.
ExperimentOptions DefaultExperimentOptions(ExperimentKind kind) {
  ExperimentOptions o;
  o.data.source = "fashion-mnist";
  o.data.train_limit = 2000;
  o.data.val_limit = 1000;
  o.data.resize = 72;
  o.data.crop = 67;
  o.epochs = kind == ExperimentKind::kRelu ? 6 : 5;
  o.out_dir = std::string("runs/experiment-") + ExperimentName(kind);
  if (kind == ExperimentKind::kDropout) {
    // The dropout experiment's own settings (docs/learn/7-training.md, "The dropout experiment"):
    // 1,000 images overfit within minutes. The learning rate is small on purpose: with He init
    // and unscaled 0..255 inputs, lr >= 1e-3 blew the first steps up (NaN, or all ReLUs dead)
    // in our trials and 2e-4 learned fastest. 12 epochs instead of its first version's 20 keep
    // its 2 x 3 runs within 30 minutes; the gap is clear from about epoch 6 on.
    o.data.train_limit = 1000;
    o.epochs = 12;
    o.lr = 2e-4f;
    o.standardize = false;
  }
  return o;
}

namespace {

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string DataFlags(const train::DataSpec& d) {
  const train::DataSpec defaults;
  std::string s = " --data " + d.source;
  if (d.fashion_dir != defaults.fashion_dir) s += " --fashion-dir " + d.fashion_dir;
  return s + " --train-limit " + std::to_string(d.train_limit) + " --val-limit " + std::to_string(d.val_limit) +
         " --val-fraction " + Number(d.val_fraction) + " --resize " + std::to_string(d.resize) + " --crop " +
         std::to_string(d.crop);
}

std::string SeedList(const std::vector<int64_t>& seeds) {
  std::string s;
  for (int64_t seed : seeds) s += (s.empty() ? "" : ",") + std::to_string(seed);
  return s;
}

}  // namespace

std::string ExperimentCommand(ExperimentKind kind, const ExperimentOptions& o) {
  std::string c = std::string("alexnet experiment ") + ExperimentName(kind) + DataFlags(o.data) + " --epochs " +
                  std::to_string(o.epochs) + " --batch " + std::to_string(o.batch) + " --lr " + Number(o.lr) +
                  " --init " + model::InitName(o.init) +
                  (o.standardize ? " --standardize" : " --no-standardize");
  if (kind != ExperimentKind::kRelu) c += " --dropout " + Number(o.dropout);
  if (kind != ExperimentKind::kAugmentation) c += o.augment ? " --augment" : " --no-augment";
  if (kind == ExperimentKind::kRelu) {
    c += " --target-error " + Number(o.target_error) + " --smooth-steps " + std::to_string(o.smooth_steps);
  }
  return c + " --precision " + model::PrecisionName(o.precision) + " --seeds " + SeedList(o.seeds) + " --out " +
         o.out_dir;
}

namespace {

std::string CommandFile(ExperimentKind kind, const ExperimentOptions& o) {
  return o.out_dir + "/" + ExperimentName(kind) + "-command.txt";
}

// The comparison of an experiment folder written before <name>-options.json existed.
Status CheckSameCommand(ExperimentKind kind, const ExperimentOptions& o) {
  const Result<std::string> saved = ReadFile(CommandFile(kind, o));
  if (!saved.ok()) return Status::Ok();  // nothing was started here
  const std::string now = ExperimentCommand(kind, o) + "\n";
  if (*saved == now) return Status::Ok();
  return Status::BadInput(CommandFile(kind, o), "--resume continues only the experiment started here, " +
                                                 saved->substr(0, saved->size() - 1) + ", not " +
                                                 now.substr(0, now.size() - 1));
}

Status CheckNoRunsYet(const Definition& d, const ExperimentOptions& o) {
  for (const Variant& v : d.variants) {
    for (int64_t seed : o.seeds) {
      const std::string dir = o.out_dir + "/" + RunFolderName(v.name, seed);
      if (fs::exists(dir + "/config.json")) {
        return Status::BadInput(dir, "already holds a run: remove it, choose another --out, "
                                  "or add --report-only to redo the report from the existing runs");
      }
    }
  }
  return Status::Ok();
}

// The settings that make an experiment's runs what they are, as saved in <out>/<name>-options.json:
// not where it writes, how many threads it uses, or the command line that asked for them.
nlohmann::json RunDefiningOptions(ExperimentKind kind, const ExperimentOptions& o) {
  train::TrainConfig c;
  c.data = o.data;
  nlohmann::json j = {{"experiment", ExperimentName(kind)},
                      {"data", train::ToJson(c).at("data")},
                      {"epochs", o.epochs},
                      {"batch", o.batch},
                      {"lr", o.lr},
                      {"init", model::InitName(o.init)},
                      {"standardize", o.standardize},
                      {"dropout", o.dropout},
                      {"augment", o.augment},
                      {"precision", model::PrecisionName(o.precision)},
                      {"seeds", o.seeds}};
  if (kind == ExperimentKind::kRelu) {
    j["target_error"] = o.target_error;
    j["smooth_steps"] = o.smooth_steps;
  }
  return j;
}

std::string OptionsFile(ExperimentKind kind, const ExperimentOptions& o) {
  return o.out_dir + "/" + ExperimentName(kind) + "-options.json";
}

// "epochs 5 there, 3 now; lr ..." for the keys whose values differ (data's keys one level down).
std::string Differences(const nlohmann::json& saved, const nlohmann::json& now, const std::string& prefix = "") {
  std::string d;
  for (const auto& [key, value] : now.items()) {
    const nlohmann::json there = saved.contains(key) ? saved.at(key) : nlohmann::json();
    if (there == value) continue;
    const std::string part = value.is_object() && there.is_object()
                                 ? Differences(there, value, prefix + key + ".")
                                 : prefix + key + " " + there.dump() + " there, " + value.dump() + " now";
    d += (d.empty() || part.empty() ? "" : "; ") + part;
  }
  return d;
}

// --resume continues the experiment whose options file is in out_dir, and no other: runs made
// with other settings would be mixed into one table. An experiment folder from before the options
// file had only its command file: compared by that.
Status CheckSameExperiment(ExperimentKind kind, const ExperimentOptions& o) {
  const std::string file = OptionsFile(kind, o);
  const Result<std::string> saved = ReadFile(file);
  if (!saved.ok()) return CheckSameCommand(kind, o);
  const nlohmann::json there = nlohmann::json::parse(*saved, nullptr, /*allow_exceptions=*/false);
  if (there.is_discarded()) return Status::BadInput(file, "not valid JSON: remove it to start the experiment again");
  const nlohmann::json now = RunDefiningOptions(kind, o);
  if (there == now) return Status::Ok();
  return Status::BadInput(file, "--resume continues only the experiment started here, with the same settings: " +
                                 Differences(there, now));
}

// A run folder TrainVariant finished: wall_seconds.txt is the last file it writes.
bool RunFinished(const std::string& dir) { return fs::exists(dir + "/wall_seconds.txt"); }

// Empties the folder of a run that did not finish, unless a live process still trains in it.
Status ClearUnfinishedRun(const std::string& dir) {
  if (!fs::exists(dir)) return Status::Ok();
  ALEXNET_ASSIGN_OR_RETURN(auto lock, RunFolderLock::Acquire(dir));
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return Status::Io(dir, "cannot remove the unfinished run: " + ec.message());
  return Status::Ok();
}

Status TrainAll(const Definition& d, const ExperimentOptions& o, std::ostream& out) {
  ALEXNET_RETURN_IF_ERROR(MakeFolder(o.out_dir));
  ALEXNET_RETURN_IF_ERROR(o.resume ? CheckSameExperiment(d.kind, o) : CheckNoRunsYet(d, o));
  // What reproduces these runs, kept for the report (also when it is redone with --report-only).
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(CommandFile(d.kind, o), ExperimentCommand(d.kind, o) + "\n"));
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(OptionsFile(d.kind, o), RunDefiningOptions(d.kind, o).dump(2) + "\n"));
  const size_t total = d.variants.size() * o.seeds.size();
  size_t index = 0;
  for (int64_t seed : o.seeds) {  // seed-major: a stopped experiment has every variant of the first seeds
    for (const Variant& v : d.variants) {
      const std::string dir = o.out_dir + "/" + RunFolderName(v.name, seed);
      out << "== " << ExperimentName(d.kind) << ": run " << ++index << " of " << total << ": " << v.label
          << ", seed " << seed << " -> " << dir;
      if (o.resume && RunFinished(dir)) {
        out << ": finished before, kept ==" << std::endl;
        continue;
      }
      out << " ==" << std::endl;
      if (o.resume) ALEXNET_RETURN_IF_ERROR(ClearUnfinishedRun(dir));
      ALEXNET_RETURN_IF_ERROR(TrainVariant(o, v, seed, d.train_eval, out));
    }
  }
  return Status::Ok();
}

Result<std::vector<RunRecord>> ReadRuns(const Definition& d, const ExperimentOptions& o) {
  std::vector<RunRecord> runs;
  for (const Variant& v : d.variants) {
    for (int64_t seed : o.seeds) {
      ALEXNET_ASSIGN_OR_RETURN(RunRecord r, ReadRunRecord(o.out_dir + "/" + RunFolderName(v.name, seed)));
      r.variant = v.name;
      r.seed = seed;
      runs.push_back(std::move(r));
    }
  }
  return runs;
}

std::string CommandBlock(ExperimentKind kind, const ExperimentOptions& o) {
  std::string md;
  if (!o.command.empty()) md += "Made by:\n\n```\n" + o.command + "\n```\n\n";
  Result<std::string> saved = ReadFile(CommandFile(kind, o));
  md += "Every setting spelled out (the same runs, seeds included):\n\n```\n" +
        (saved.ok() ? *saved : ExperimentCommand(kind, o) + "\n") + "```\n\n";
  return md;
}

std::string SetupParagraph(const train::TrainConfig& used, const Definition& d, const ExperimentOptions& o) {
  std::ostringstream md;
  md << "Setup (the same for every run except what the variant changes): " << used.data.source
     << (used.data.train_limit ? ", a training subset of " + std::to_string(used.data.train_limit) + " images" : "")
     << (used.data.val_limit ? ", " + std::to_string(used.data.val_limit) + " validation images" : "")
     << ", images resized to " << used.data.resize << " and cropped to " << used.data.crop << " x " << used.data.crop
     << " (the paper: ImageNet at 256 and 224), " << (used.model.init == model::Init::kHe ? "He" : "paper")
     << " initialisation" << (used.model.standardize_input ? ", standardised input" : "") << ", batch "
     << used.recipe.batch << ", constant learning rate " << used.recipe.lr << ", momentum " << used.recipe.momentum
     << ", weight decay " << used.recipe.weight_decay << ", dropout " << used.model.dropout_rate << ", "
     << used.recipe.epochs << " epochs, seeds " << SeedList(o.seeds) << " (" << d.variants.size() << " x "
     << o.seeds.size() << " runs). The seed sets the initial weights, the order of the batches, the augmentation "
     << "and dropout; the same seed gives every variant the same start.\n\n";
  return md.str();
}

// The runs whose loss became NaN or infinite, each with the trainer's message; "" for none.
std::string DivergedRuns(const std::vector<VariantResult>& results) {
  std::string md;
  for (const VariantResult& vr : results) {
    for (const RunRecord& r : vr.runs) {
      if (r.diverged.empty()) continue;
      md += "- " + vr.variant.label + ", seed " + std::to_string(r.seed) + ": " + r.diverged + "\n";
    }
  }
  return md.empty() ? md : "Runs that diverged (their numbers are missing above, '-'; a result, not a failure):\n\n" +
                               md + "\n";
}

int64_t LongestRun(const std::vector<RunRecord>& runs) {
  int64_t steps = 0;
  for (const RunRecord& r : runs) {
    if (!r.epochs.empty()) steps = std::max(steps, r.epochs.back().step);
  }
  return steps;
}

std::string TimeLine(const std::vector<RunRecord>& runs) {
  double wall = 0, training = 0;
  for (const RunRecord& r : runs) {
    wall += r.wall_seconds;
    if (!r.epochs.empty()) training += r.epochs.back().train_seconds;
  }
  return "Time: " + std::to_string(runs.size()) + " runs, " + FormatDuration(training) +
         " of training and validation, " + FormatDuration(wall) + " in all.\n\n";
}

// The dropout experiment's own report, as before it moved onto this framework: its per-epoch
// table, findings and figure, now of the mean over seeds.
Result<std::string> DropoutSections(const Definition& d, const ExperimentOptions& o, const std::string& png,
                                    const std::string& image_prefix) {
  std::vector<DropoutRun> with, without;
  for (int64_t seed : o.seeds) {
    for (size_t v = 0; v < 2; ++v) {
      const std::string dir = o.out_dir + "/" + RunFolderName(d.variants[v].name, seed);
      if (fs::exists(dir + "/diverged.txt")) continue;  // listed under "Runs that diverged"
      ALEXNET_ASSIGN_OR_RETURN(DropoutRun r, ReadDropoutRun(dir, v == 0 ? o.dropout : 0.0f));
      (v == 0 ? with : without).push_back(std::move(r));
    }
  }
  if (with.empty() || without.empty()) return std::string("(No per-epoch table: every run of one side diverged.)\n\n");
  const DropoutRun mean_with = MeanDropoutRun(with), mean_without = MeanDropoutRun(without);
  std::string md = "Per epoch, the mean over the " + std::to_string(o.seeds.size()) + " seeds:\n\n" +
                   DropoutSections(mean_with, mean_without) + "![dropout experiment](" + image_prefix +
                   "dropout.png)\n\n";
  if (Status st = DrawDropoutPlot(mean_with, mean_without, png, o.gnuplot); !st.ok()) {
    return Status::Error(st.code(), png, "plot not drawn: " + st.message());
  }
  return md;
}

struct Section {
  std::string markdown;
  Findings findings;
};

Result<Section> BuildSection(const Definition& d, const ExperimentOptions& o, const std::string& heading,
                             const std::string& image_prefix) {
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<RunRecord> runs, ReadRuns(d, o));
  const std::vector<VariantResult> results = Tabulate(d.variants, runs, d.measures);
  ALEXNET_ASSIGN_OR_RETURN(const train::TrainConfig used,
                           train::LoadTrainConfig(o.out_dir + "/" + RunFolderName(d.variants[0].name, o.seeds[0])));
  const std::string name = ExperimentName(d.kind);
  const std::string png = o.out_dir + "/" + name + ".png";
  Section s;
  s.findings = d.findings(results, o);
  std::ostringstream md;
  md << heading << " " << d.title << "\n\nThe paper: " << d.claim << "\n\n"
     << CommandBlock(d.kind, o) << SetupParagraph(used, d, o) << "Mean ± standard deviation over the seeds:\n\n"
     << ResultsTable(results, d.measures) << "\n";
  if (d.panels.empty()) {
    ALEXNET_ASSIGN_OR_RETURN(const std::string dropout, DropoutSections(d, o, png, image_prefix));
    md << dropout;
  } else {
    ALEXNET_RETURN_IF_ERROR(DrawExperimentPlot(d.title, results, d.panels, png, o.gnuplot).With("plot not drawn"));
    md << "![" << name << "](" << image_prefix << name << ".png)\n\n";
  }
  md << "What this says: " << s.findings.paragraph << " "
     << SettingDifferences(used, LongestRun(runs), o.seeds.size()) << "\n\nEvery run:\n\n"
     << PerSeedTable(results, d.measures) << "\n" << DivergedRuns(results) << TimeLine(runs);
  s.markdown = md.str();
  return s;
}

}  // namespace

Result<std::string> ExperimentReport(ExperimentKind kind, const ExperimentOptions& o, const std::string& heading,
                                     const std::string& image_prefix, std::ostream& out) {
  ALEXNET_ASSIGN_OR_RETURN(const Section s, BuildSection(Define(kind, o), o, heading, image_prefix));
  out << "\n" << ExperimentName(kind) << ": " << s.findings.measured << " (" << AgreementText(s.findings.agreement)
      << ")\n";
  return s.markdown;
}

Status RunExperiment(ExperimentKind kind, const ExperimentOptions& o, std::ostream& out) {
  if (o.seeds.empty()) return Status::BadInput("", "no seeds given");
  const Definition d = Define(kind, o);
  if (!o.report_only) ALEXNET_RETURN_IF_ERROR(TrainAll(d, o, out));
  ALEXNET_ASSIGN_OR_RETURN(const std::string md, ExperimentReport(kind, o, "#", "", out));
  const std::string md_path = o.out_dir + "/" + ExperimentName(kind) + ".md";
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(md_path, md));
  out << "report: " << md_path << "\nplot: " << o.out_dir << "/" << ExperimentName(kind) << ".png\n";
  return Status::Ok();
}

namespace {

// One line per experiment: the paper's claim, what was measured, and whether they agree.
std::string SummaryTable(const std::vector<std::pair<ExperimentKind, ExperimentOptions>>& experiments,
                         const std::vector<Findings>& findings) {
  std::string md = "| experiment | the paper | measured here | agreement |\n|---|---|---|---|\n";
  for (size_t i = 0; i < experiments.size(); ++i) {
    const Definition d = Define(experiments[i].first, experiments[i].second);
    md += "| " + std::string(ExperimentName(d.kind)) + " | " + d.claim + " | " + findings[i].measured + " | " +
          AgreementText(findings[i].agreement) + " |\n";
  }
  return md;
}

}  // namespace

Status RunAllExperiments(const std::vector<std::pair<ExperimentKind, ExperimentOptions>>& experiments,
                         const std::string& out_dir, const std::string& command, std::ostream& out) {
  // Each experiment's own page first (training it unless report_only), so that an experiment
  // that fails later leaves the earlier ones complete.
  for (const auto& [kind, o] : experiments) ALEXNET_RETURN_IF_ERROR(RunExperiment(kind, o, out));
  std::string sections;
  std::vector<Findings> findings;
  for (const auto& [kind, o] : experiments) {
    ALEXNET_ASSIGN_OR_RETURN(const Section s,
                             BuildSection(Define(kind, o), o, "##",
                                          fs::path(o.out_dir).lexically_relative(out_dir).string() + "/"));
    sections += s.markdown;
    findings.push_back(s.findings);
  }
  std::string md = "# The paper's design claims, measured\n\n";
  if (!command.empty()) md += "Made by:\n\n```\n" + command + "\n```\n\n";
  md += SummaryTable(experiments, findings) + "\n" + sections;
  ALEXNET_RETURN_IF_ERROR(WriteFileAtomic(out_dir + "/report.md", md));
  out << "\nreport: " << out_dir << "/report.md\n";
  return Status::Ok();
}

}  // namespace alexnet::report
