// inspect, filters, experiment relu|lrn|pooling|augmentation|dropout|all: thin command-line
// wrappers over src/report/.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/validators.h"
#include "report/experiment.h"
#include "report/inspect.h"

namespace alexnet::cli {

namespace fs = std::filesystem;

namespace {

// inspect's flags.
struct InspectFlags {
  std::string run_dir, checkpoint, image, out;
  bool untrained = false;
  model::ModelOptions untrained_model;
  int threads = 0;
  model::Precision precision = model::Precision::kFp32;
  CLI::Option* precision_flag = nullptr;  // given: run in that precision, else the run's
  int grid_width = 1100;
  int chart_width = 1024;
  bool text = false;   // one line per stage on stdout instead of pictures and a page
  std::string label;   // the image's true class ("" = from its path, when the path names one)
};

// filters' flags.
struct FiltersFlags {
  std::string run_dir, checkpoint, out;
  int threads = 0;
  int scale = 5;
};

// experiment all's flags: each experiment's defaults, with these where given.
struct AllOverrides {
  std::string out_dir = "runs/experiment-all";
  std::vector<int64_t> seeds;
  int64_t epochs = 0, train_limit = 0, val_limit = 0;
  std::string data, fashion_dir;
  int workers = 2, threads = 0;
  model::Precision precision = model::Precision::kFp32;
  bool report_only = false, resume = false;
  std::vector<std::pair<std::string, CLI::Option*>> given;  // flag name -> option, to see which were given
};

// ---- running the commands

Result<report::InspectModel> OpenInspectModel(const InspectFlags& c) {
  train::SessionChoice session{c.threads, std::nullopt};
  if (c.precision_flag->count() > 0) session.precision = c.precision;
  if (c.untrained) {
    model::ModelOptions options = c.untrained_model;
    options.precision = c.precision;
    return report::OpenUntrainedModel(options, c.threads);
  }
  return report::OpenRunModel(c.run_dir, c.checkpoint, session);
}

void PrintInspectReport(const report::InspectModel& m, const report::InspectReport& r, const std::string& out) {
  for (const report::StageReport& s : r.stages) {
    std::cout << "  " << s.name << std::string(s.name.size() < 7 ? 7 - s.name.size() : 1, ' ')
              << report::ShapeText(s.shape) << "  ->  " << out << "/" << s.image << "\n";
  }
  std::cout << report::PredictionText(m, r.prediction) << "\npage: " << r.html_path << "\n";
}

// --label, else what the image's path says (a file from `alexnet extract`, an image folder).
Result<report::TrueLabel> TrueLabelOf(const InspectFlags& c, const report::InspectModel& m) {
  if (!c.label.empty()) return report::LabelFromFlag(c.label, m.class_names);
  return report::LabelFromPath(c.image, m.class_names);
}

Status Inspect(const InspectFlags& c, const std::string& command_line) {
  // Check the image first: a typo should not wait for a model to load.
  std::error_code ec;
  if (!fs::exists(c.image, ec)) return Status::NotFound(c.image, "no such image file");
  ALEXNET_ASSIGN_OR_RETURN(const report::InspectModel m, OpenInspectModel(c));
  ALEXNET_ASSIGN_OR_RETURN(const report::TrueLabel label, TrueLabelOf(c, m));
  if (c.text) {
    ALEXNET_ASSIGN_OR_RETURN(const report::StageStatsReport r, report::InspectStageStats(m, c.image, label));
    std::cout << report::StageStatsText(m, c.image, r);
    return Status::Ok();
  }
  report::InspectOptions io;
  io.command = command_line;
  io.grid_width = c.grid_width;
  io.chart_width = c.chart_width;
  io.label = label;
  ALEXNET_ASSIGN_OR_RETURN(const report::InspectReport r, report::InspectImage(m, c.image, c.out, io));
  PrintInspectReport(m, r, c.out);
  return Status::Ok();
}

Status Filters(const FiltersFlags& c) {
  ALEXNET_ASSIGN_OR_RETURN(const report::InspectModel m, report::OpenRunModel(c.run_dir, c.checkpoint, {c.threads, {}}));
  ALEXNET_ASSIGN_OR_RETURN(const report::FilterImage f, report::Conv1FilterImage(m.session(), c.scale));
  const fs::path parent = fs::path(c.out).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  ALEXNET_RETURN_IF_ERROR(report::WritePng(c.out, f.image));
  const report::GridLayout& g = f.layout;
  std::cout << "conv1 kernels of " << m.trained->checkpoint_prefix() << ": " << g.rows << " x " << g.cols
            << " grid of " << g.cell_w << " x " << g.cell_h << " cells -> " << c.out << "\n";
  return Status::Ok();
}

bool Given(const AllOverrides& a, const std::string& flag) {
  for (const auto& [name, option] : a.given) {
    if (name == flag) return option->count() > 0;
  }
  return false;
}

// Each experiment's defaults, in <out>/<name>, with the flags of `experiment all` that were given.
report::ExperimentOptions AllOptionsFor(report::ExperimentKind kind, const AllOverrides& a) {
  report::ExperimentOptions o = report::DefaultExperimentOptions(kind);
  o.out_dir = a.out_dir + "/" + report::ExperimentName(kind);
  if (Given(a, "--seeds")) o.seeds = a.seeds;
  if (Given(a, "--epochs")) o.epochs = a.epochs;
  if (Given(a, "--train-limit")) o.data.train_limit = a.train_limit;
  if (Given(a, "--val-limit")) o.data.val_limit = a.val_limit;
  if (Given(a, "--data")) o.data.source = a.data;
  if (Given(a, "--fashion-dir")) o.data.fashion_dir = a.fashion_dir;
  o.workers = a.workers;
  o.threads = a.threads;
  o.precision = a.precision;
  o.report_only = a.report_only;
  o.resume = a.resume;
  return o;
}

Status RunAll(const AllOverrides& a, const std::string& command_line) {
  std::vector<std::pair<report::ExperimentKind, report::ExperimentOptions>> experiments;
  for (report::ExperimentKind kind : report::AllExperimentKinds()) {
    experiments.emplace_back(kind, AllOptionsFor(kind, a));
  }
  // --report-only redoes the report of runs made by an earlier command line, not by this one.
  const std::string command = a.report_only ? "" : command_line;
  return report::RunAllExperiments(experiments, a.out_dir, command, std::cout);
}

// ---- the flags of `experiment <name>`

void AddExperimentDataFlags(CLI::App* d, report::ExperimentOptions* o) {
  d->add_option("--data", o->data.source, "\"fashion-mnist\" or an image folder root/<class>/<image>")
      ->capture_default_str();
  d->add_option("--fashion-dir", o->data.fashion_dir, "where the Fashion-MNIST idx files are")->capture_default_str();
  d->add_option("--train-limit", o->data.train_limit, "training images (Fashion-MNIST; 0 = all)")
      ->check(kNonNegative)->capture_default_str();
  d->add_option("--val-limit", o->data.val_limit, "validation images (Fashion-MNIST; 0 = all)")
      ->check(kNonNegative)->capture_default_str();
  d->add_option("--val-fraction", o->data.val_fraction, "validation split of the training data")
      ->check(CLI::Range(0.01, 0.9))->capture_default_str();
  d->add_option("--resize", o->data.resize, "S: shorter side resized to S")->check(CLI::PositiveNumber)
      ->capture_default_str();
  d->add_option("--crop", o->data.crop, "C: the network's input side")->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void AddExperimentRunFlags(CLI::App* d, report::ExperimentKind kind, report::ExperimentOptions* o) {
  using report::ExperimentKind;
  d->add_option("--epochs", o->epochs, "epochs per run")->check(CLI::PositiveNumber)->capture_default_str();
  d->add_option("--batch", o->batch, "images per step")->check(CLI::PositiveNumber)->capture_default_str();
  d->add_option("--lr", o->lr, "constant learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  AddInitOption(d, &o->init, "weight initialisation: paper or he");
  d->add_flag("--standardize,!--no-standardize", o->standardize,
              std::string("divide the mean-subtracted input by the pixels' standard deviation (default: ") +
                  (o->standardize ? "on)" : "off)"));
  if (kind == ExperimentKind::kDropout) {
    d->add_option("--dropout", o->dropout, "the rate compared with 0")->check(CLI::Range(0.05f, 0.95f))
        ->capture_default_str();
  } else if (kind != ExperimentKind::kRelu) {  // relu's runs have no regularisation, as the paper's Figure 1
    d->add_option("--dropout", o->dropout, "dropout rate on fc6/fc7 in every run")->check(CLI::Range(0.0f, 0.95f))
        ->capture_default_str();
  }
  if (kind != ExperimentKind::kAugmentation) {
    d->add_flag("--augment,!--no-augment", o->augment,
                std::string("random crops, flips and PCA colour in every run (default: ") +
                    (o->augment ? "on)" : "off)"));
  }
  if (kind == ExperimentKind::kRelu) {
    d->add_option("--target-error", o->target_error, "the training error to reach (the paper: 0.25)")
        ->check(CLI::Range(0.01, 0.99))->capture_default_str();
    d->add_option("--smooth-steps", o->smooth_steps, "training error = the mean over this many steps")
        ->check(CLI::PositiveNumber)->capture_default_str();
  }
}

void AddExperimentOutputFlags(CLI::App* d, report::ExperimentOptions* o) {
  AddPrecisionOption(d, &o->precision, "fp32 or bf16 (convolutions and matrix products; faster where the CPU has it)");
  d->add_option("--seeds", o->seeds, "one run of every variant per seed (comma-separated)")
      ->delimiter(',')->expected(1, 100)->default_str("1,2,3");
  d->add_option("--workers", o->workers, "input pipeline threads")->check(CLI::PositiveNumber)->capture_default_str();
  d->add_option("--threads", o->threads, "TensorFlow threads (0 = all cores)")->capture_default_str();
  d->add_option("--out", o->out_dir, "output folder (a run folder per variant and seed, <name>.md, <name>.png)")
      ->capture_default_str();
  d->add_flag("--report-only", o->report_only, "redo the table and plot from the run folders in --out");
  d->add_flag("--resume", o->resume, "keep the finished runs in --out and train the rest (same settings only)");
}

const char* ExperimentHelp(report::ExperimentKind kind) {
  switch (kind) {
    case report::ExperimentKind::kRelu: return "ReLU vs tanh: steps and seconds to a training error (section 3.1)";
    case report::ExperimentKind::kLrn: return "with and without LRN: validation top-1 and its time (section 3.3)";
    case report::ExperimentKind::kPooling: return "3/2 vs 2/2 max pooling: top-1 and the train/val gap (section 3.4)";
    case report::ExperimentKind::kAugmentation: return "none, crops + flips, + PCA colour (section 4.1)";
    case report::ExperimentKind::kDropout: return "dropout 0.5 vs 0 on fc6/fc7: the train/validation gap (4.2)";
  }
  return "";
}

// `experiment all`'s flags into `a`.
void AddAllFlags(CLI::App* d, AllOverrides* a) {
  a->given = {
      {"--seeds", d->add_option("--seeds", a->seeds, "seeds of every experiment (default: each one's)")
                      ->delimiter(',')->expected(1, 100)},
      {"--epochs", d->add_option("--epochs", a->epochs, "epochs per run (default: each one's)")
                       ->check(CLI::PositiveNumber)},
      {"--train-limit", d->add_option("--train-limit", a->train_limit, "training images (default: each one's)")
                            ->check(kNonNegative)},
      {"--val-limit", d->add_option("--val-limit", a->val_limit, "validation images")->check(kNonNegative)},
      {"--data", d->add_option("--data", a->data, "\"fashion-mnist\" or an image folder")},
      {"--fashion-dir", d->add_option("--fashion-dir", a->fashion_dir, "where the Fashion-MNIST idx files are")},
  };
  d->add_option("--workers", a->workers, "input pipeline threads")->check(CLI::PositiveNumber)->capture_default_str();
  d->add_option("--threads", a->threads, "TensorFlow threads (0 = all cores)")->capture_default_str();
  AddPrecisionOption(d, &a->precision, "fp32 or bf16 in every run");
  d->add_option("--out", a->out_dir, "output folder: <out>/<experiment>/ and <out>/report.md")->capture_default_str();
  d->add_flag("--report-only", a->report_only, "redo every report from the run folders in --out");
  d->add_flag("--resume", a->resume, "keep the finished runs in --out and train the rest (same settings only)");
}

}  // namespace

Command AddInspectCommand(CLI::App* app) {
  CLI::App* i =
      app->add_subcommand("inspect", "one image through the network: a picture of every stage and an HTML page");
  auto p = std::make_shared<InspectFlags>();
  i->add_option("--run", p->run_dir, "run folder written by train");
  i->add_option("--checkpoint", p->checkpoint, "checkpoint folder or prefix (default: the run's best)");
  i->add_flag("--untrained", p->untrained, "an untrained network (paper initialisation) instead of --run");
  i->add_option("--classes", p->untrained_model.num_classes, "with --untrained: number of classes")
      ->check(CLI::PositiveNumber)->capture_default_str();
  i->add_option("--input-size", p->untrained_model.input_size, "with --untrained: input height = width")
      ->check(CLI::PositiveNumber)->capture_default_str();
  AddInitOption(i, &p->untrained_model.init, "with --untrained: paper (N(0, 0.01), biases 1/0) or he");
  AddArchitectureOption(i, &p->untrained_model, "with --untrained: ");
  i->add_option("--seed", p->untrained_model.seed, "with --untrained: initialisation seed")->capture_default_str();
  i->add_option("--grid-width", p->grid_width, "feature-map grids are upscaled to about this width")
      ->check(CLI::Range(100, 8000))->capture_default_str();
  i->add_option("--chart-width", p->chart_width, "width of the FC bar charts")
      ->check(CLI::Range(100, 8000))->capture_default_str();
  i->add_option("--threads", p->threads, "TensorFlow threads (0 = all cores)")->capture_default_str();
  p->precision_flag = AddPrecisionOption(i, &p->precision, "fp32 or bf16 (default: the run's)");
  i->add_option("--label", p->label,
                "the image's true class (name or index), marked in fc8's chart (default: from a file name "
                "such as extract's 0_Ankle-boot.png, or the image's folder)");
  i->add_option("image", p->image, "the image file")->required();
  CLI::Option* out = i->add_option("--out", p->out, "output folder (stage PNGs and index.html)");
  i->add_flag("--text", p->text,
              "print one line per stage (shape, fraction of zeros, min, max, mean, receptive field); no files")
      ->excludes(out);
  Command c{i, [p](const CommandLine& line) { return Inspect(*p, line.shell); }};
  c.usage_error = [p]() -> std::string {
    if (p->untrained == !p->run_dir.empty()) return "give either --run RUN_DIR or --untrained";
    if (!p->text && p->out.empty()) return "give --out DIR (pictures and a page) or --text (numbers only)";
    return "";
  };
  return c;
}

Command AddFiltersCommand(CLI::App* app) {
  CLI::App* f = app->add_subcommand("filters", "conv1's 96 kernels as an 8 x 12 RGB grid (the paper's Figure 3)");
  auto p = std::make_shared<FiltersFlags>();
  f->add_option("--run", p->run_dir, "run folder written by train")->required();
  f->add_option("--checkpoint", p->checkpoint, "checkpoint folder or prefix (default: the run's best)");
  f->add_option("--scale", p->scale, "nearest-neighbour upscale of each 11 x 11 kernel")
      ->check(CLI::Range(1, 32))->capture_default_str();
  f->add_option("--threads", p->threads, "TensorFlow threads (0 = all cores)")->capture_default_str();
  f->add_option("--out", p->out, "output PNG file")->required();
  return {f, [p](const CommandLine&) { return Filters(*p); }};
}

std::vector<Command> AddExperimentCommands(CLI::App* app) {
  CLI::App* experiment =
      app->add_subcommand("experiment", "the paper's design claims, one controlled experiment each");
  experiment->require_subcommand(1);
  std::vector<Command> commands;
  for (report::ExperimentKind kind : report::AllExperimentKinds()) {
    CLI::App* d = experiment->add_subcommand(report::ExperimentName(kind), ExperimentHelp(kind));
    auto o = std::make_shared<report::ExperimentOptions>(report::DefaultExperimentOptions(kind));
    AddExperimentDataFlags(d, o.get());
    AddExperimentRunFlags(d, kind, o.get());
    AddExperimentOutputFlags(d, o.get());
    Command c{d, [kind, o](const CommandLine& line) {
                report::ExperimentOptions options = *o;
                // --report-only redoes the report of runs made by an earlier command line, not by this one.
                if (!options.report_only) options.command = line.shell;
                return report::RunExperiment(kind, options, std::cout);
              }};
    c.name = "experiment";
    commands.push_back(std::move(c));
  }
  CLI::App* all = experiment->add_subcommand("all", "every experiment at its defaults, and one report of them all");
  auto a = std::make_shared<AllOverrides>();
  AddAllFlags(all, a.get());
  Command c{all, [a](const CommandLine& line) { return RunAll(*a, line.shell); }};
  c.name = "experiment all";
  commands.push_back(std::move(c));
  return commands;
}

}  // namespace alexnet::cli
