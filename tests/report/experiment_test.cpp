// `alexnet experiment relu|lrn|pooling|augmentation|dropout|all` (src/report/experiment.h): the
// numbers over seeds and the comparison with the paper on made-up runs, then each experiment for
// real on a tiny generated dataset (its table, its plot, and the variant in the run's graph), and
// `experiment all`'s report.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "model/session.h"
#include "report/claims.h"
#include "report/experiment.h"
#include "report/experiment_runs.h"
#include "report/experiment_tables.h"
#include "report/run_measures.h"
#include "report/seed_statistics.h"
#include "report/verdict.h"
#include "run_command.h"
#include "shapes_dataset.h"
#include "train/config.h"

namespace alexnet::report {
namespace {

namespace fs = std::filesystem;

fs::path TestRoot() { return fs::temp_directory_path() / ("alexnet_experiment_test_" + std::to_string(::getpid())); }

fs::path TempDir(const std::string& name) {
  const fs::path p = TestRoot() / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// Every run folder keeps two checkpoints of about 170 MB: the process's folder goes when it ends,
// whether its tests passed or not.
class RemoveTestRoot : public ::testing::Environment {
 public:
  void TearDown() override { fs::remove_all(TestRoot()); }
};
const ::testing::Environment* const kRemoveTestRoot = ::testing::AddGlobalTestEnvironment(new RemoveTestRoot);

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------------------------
// Made-up runs: the arithmetic and the sentences.

TEST(ExperimentNumbers, MeanAndSampleStandardDeviationIgnoreMissingSeeds) {
  const Stat s = Summarize({10.0, 12.0, std::nan("")});
  EXPECT_EQ(s.n, 2);
  EXPECT_DOUBLE_EQ(s.mean, 11.0);
  EXPECT_DOUBLE_EQ(s.sd, std::sqrt(2.0));  // ((1 + 1) / (2 - 1))^0.5
  EXPECT_EQ(MeanSd(s, 2), "11.00 ± 1.41 (2 of 3)");
  EXPECT_EQ(MeanSd(Summarize({std::nan("")}), 1), "-");
  EXPECT_EQ(MeanSd(Summarize({5.0}), 1), "5.0 ± 0.0");
}

// Steps of 10 images: 0, 2, 4, 6, 8, 10 correct. Over a window of 2 steps the errors are
// 90 %, 70 %, 50 %, 30 %, 10 % at steps 2 to 6.
RunRecord FakeSteps() {
  RunRecord r;
  for (int i = 0; i < 6; ++i) {
    StepRow s;
    s.step = i + 1;
    s.batch = 10;
    s.correct = 2 * i;
    s.step_seconds = 0.5 + i;  // 0.5, 1.5, 2.5, ...
    r.steps.push_back(s);
  }
  return r;
}

TEST(ExperimentNumbers, StepsToATrainingErrorUseTheSmoothedError) {
  const RunRecord r = FakeSteps();
  const auto curve = SmoothedTrainError(r, 2);
  ASSERT_EQ(curve.size(), 5u);
  EXPECT_EQ(curve.front().first, 2);
  EXPECT_NEAR(curve.front().second, 90.0, 1e-9);
  EXPECT_NEAR(curve.back().second, 10.0, 1e-9);
  const auto [steps, seconds] = StepsAndSecondsTo(r, 30.0, 2);
  EXPECT_EQ(steps, 5);
  EXPECT_NEAR(seconds, 0.5 + 1.5 + 2.5 + 3.5 + 4.5, 1e-9);  // the SGD steps up to step 5
  EXPECT_TRUE(std::isnan(StepsAndSecondsTo(r, 5.0, 2).first));  // never reached
  EXPECT_EQ(MedianStepMs(FakeSteps()), 3500);  // of 500, 1500, ..., 5500 ms: the upper middle
}

TEST(ExperimentNumbers, TheVerdictFollowsTheMeasuredDifference) {
  const Stat better = Summarize({20.0, 20.5, 19.5}), worse = Summarize({22.0, 22.5, 21.5});
  EXPECT_EQ(Judge(Compare(worse, better)), Agreement::kAgrees);
  EXPECT_EQ(Judge(Compare(better, worse)), Agreement::kDisagrees);
  const Stat noisy = Summarize({18.0, 26.0, 22.0});
  EXPECT_EQ(Judge(Compare(noisy, better)), Agreement::kWithinNoise);
  EXPECT_EQ(Judge(Compare(Summarize({22.0}), Summarize({20.0}))), Agreement::kWithinNoise);  // one seed each
  const std::string agrees = Verdict(Compare(worse, better), 1.4, "LRN", "points of top-1 error");
  EXPECT_NE(agrees.find("agrees with the paper in direction: with LRN it was better by 2.00 points"),
            std::string::npos) << agrees;
  EXPECT_NE(agrees.find("of the same order as the paper's 1.4"), std::string::npos) << agrees;
  const std::string disagrees = Verdict(Compare(better, worse), 1.4, "LRN", "points of top-1 error");
  EXPECT_NE(disagrees.find("disagrees with the paper: with LRN it was worse by 2.00"), std::string::npos)
      << disagrees;
  EXPECT_NE(Verdict(Compare(noisy, better), 1.4, "LRN", "points").find("within the seed-to-seed noise"),
            std::string::npos);
}

// A made-up result: per variant, one value per seed for each of the definition's measures.
std::vector<VariantResult> FakeResults(const Definition& d, const std::vector<std::vector<std::vector<double>>>& v) {
  std::vector<VariantResult> results;
  for (size_t i = 0; i < d.variants.size(); ++i) {
    VariantResult r{d.variants[i], std::vector<RunRecord>(v[i][0].size()), {}};
    for (const auto& values : v[i]) r.stats.push_back(Summarize(values));
    results.push_back(r);
  }
  return results;
}

TEST(ExperimentFindings, LrnParagraphSaysWhatTheNumbersSay) {
  const ExperimentOptions o;
  const Definition d = Define(ExperimentKind::kLrn, o);
  ASSERT_EQ(d.measures.size(), 3u);  // last val error, best val error, ms per step
  // LRN better by 2 points and 10 ms slower per step.
  Findings f = d.findings(FakeResults(d, {{{20, 21, 19}, {19, 20, 18}, {110, 110, 110}},
                                          {{22, 23, 21}, {21, 22, 20}, {100, 100, 100}}}),
                          o);
  EXPECT_EQ(f.agreement, Agreement::kAgrees);
  // Two standard errors of the difference: 2 * sqrt(1/3 + 1/3) = 1.63.
  EXPECT_EQ(f.measured, "LRN changed top-1 error by -2.00 points (two standard errors 1.63)");
  EXPECT_NE(f.paragraph.find("20.00 ± 1.00 % with LRN, 22.00 ± 1.00 % without"), std::string::npos) << f.paragraph;
  EXPECT_NE(f.paragraph.find("LRN cost 10.0 ms per step (10 % of a step without it"), std::string::npos)
      << f.paragraph;
  // The other way round: the same sentence machinery says it disagrees.
  f = d.findings(FakeResults(d, {{{24, 25, 23}, {19, 20, 18}, {110, 110, 110}},
                                 {{20, 21, 19}, {21, 22, 20}, {100, 100, 100}}}),
                 o);
  EXPECT_EQ(f.agreement, Agreement::kDisagrees);
  EXPECT_NE(f.paragraph.find("disagrees with the paper"), std::string::npos) << f.paragraph;
}

TEST(ExperimentFindings, ReluParagraphGivesTheRatioPerSeedOrSaysTanhNeverGotThere) {
  ExperimentOptions o;
  const Definition d = Define(ExperimentKind::kRelu, o);
  ASSERT_GE(d.measures.size(), 2u);  // steps, seconds, ...
  auto fill = [&](std::vector<double> steps, std::vector<double> seconds) {
    std::vector<std::vector<double>> m = {steps, seconds};
    while (m.size() < d.measures.size()) m.push_back({1, 1, 1});
    return m;
  };
  Findings f =
      d.findings(FakeResults(d, {fill({100, 120, 110}, {10, 12, 11}), fill({300, 240, 330}, {30, 24, 33})}), o);
  EXPECT_EQ(f.agreement, Agreement::kAgrees);
  // Per seed 300/100, 240/120, 330/110 = 3, 2, 3: mean 2.67, sample sd sqrt(1/3) = 0.58.
  EXPECT_NE(f.paragraph.find("tanh needed 2.67 ± 0.58 times the steps"), std::string::npos) << f.paragraph;
  EXPECT_NE(f.paragraph.find("ReLU got there first in 3 of 3 seeds"), std::string::npos) << f.paragraph;
  EXPECT_NE(f.paragraph.find("not in size"), std::string::npos) << f.paragraph;  // 2.7 is not about 6
  // A seed where tanh never got there counts for ReLU.
  const double never = std::nan("");
  f = d.findings(FakeResults(d, {fill({100, 120, 110}, {10, 12, 11}), fill({never, 130, never}, {never, 13, never})}),
                 o);
  EXPECT_EQ(f.agreement, Agreement::kAgrees);
  EXPECT_NE(f.paragraph.find("tanh in 130 ± 0 (1 of 3) steps"), std::string::npos) << f.paragraph;
  // Seeds that disagree: within noise.
  f = d.findings(FakeResults(d, {fill({100, 120, never}, {10, 12, never}), fill({90, 130, 110}, {9, 13, 11})}), o);
  EXPECT_EQ(f.agreement, Agreement::kWithinNoise);
  EXPECT_NE(f.paragraph.find("ReLU got there first in 1 of 3 seeds, tanh in 2"), std::string::npos) << f.paragraph;
  f = d.findings(FakeResults(d, {fill({300, 240, 330}, {30, 24, 33}), fill({100, 120, 110}, {10, 12, 11})}), o);
  EXPECT_EQ(f.agreement, Agreement::kDisagrees);
}

TEST(ExperimentCommand, SpellsOutEverySettingSoTheRunsCanBeRepeated) {
  ExperimentOptions o = DefaultExperimentOptions(ExperimentKind::kPooling);
  o.seeds = {4, 5, 6};
  const std::string c = ExperimentCommand(ExperimentKind::kPooling, o);
  EXPECT_EQ(c, "alexnet experiment pooling --data fashion-mnist --train-limit 2000 --val-limit 1000 --val-fraction 0.1 "
               "--resize 72 --crop 67 --epochs 5 --batch 64 --lr 0.005 --init he --standardize --dropout 0.5 "
               "--no-augment --precision fp32 --seeds 4,5,6 --out runs/experiment-pooling");
  EXPECT_NE(ExperimentCommand(ExperimentKind::kRelu, DefaultExperimentOptions(ExperimentKind::kRelu))
                .find("--target-error 0.25 --smooth-steps 10"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Each experiment for real, tiny: 48 generated images, 2 epochs, 2 seeds.

ExperimentOptions Tiny(ExperimentKind kind, const fs::path& root) {
  ExperimentOptions o = DefaultExperimentOptions(kind);
  o.data.source = (root / "shapes").string();
  o.data.train_limit = o.data.val_limit = 0;
  o.data.val_fraction = 0.25;
  o.data.resize = 72;
  o.data.crop = 67;
  o.data.stats_images = 0;
  o.epochs = 2;
  o.batch = 12;
  o.lr = 1e-3f;
  o.standardize = true;
  o.seeds = {1, 2};
  o.target_error = 1.0;  // reached at the first step: the plumbing, not the learning, is tested here
  o.smooth_steps = 1;
  o.threads = 2;
  o.out_dir = (root / ExperimentName(kind)).string();
  return o;
}

struct TinyRun {
  fs::path root;
  ExperimentOptions options;
  Status status;
  std::string output;
};

TinyRun RunTiny(ExperimentKind kind) {
  TinyRun t;
  t.root = TempDir(ExperimentName(kind));
  alexnet::testing::WriteShapesDataset(t.root / "shapes", 12, 3);
  t.options = Tiny(kind, t.root);
  std::ostringstream out;
  t.status = RunExperiment(kind, t.options, out);
  t.output = out.str();
  return t;
}

// The op types of the training graph a run folder's config.json builds.
std::map<std::string, int> OpsOfRun(const fs::path& run) {
  std::map<std::string, int> ops;
  const Result<train::TrainConfig> c = train::LoadTrainConfig(run.string());
  EXPECT_TRUE(c.ok()) << c.status().message();
  if (!c.ok()) return ops;
  model::SessionConfig sc;
  sc.model = c->model;
  sc.training = true;
  auto session = model::ModelSession::Create(sc);
  EXPECT_TRUE(session.ok()) << session.status().message();
  if (!session.ok()) return ops;
  for (const tensorflow::NodeDef& n : (*session)->graph_def().node()) {
    ++ops[n.op()];
    if (n.op() == "MaxPool") ops["MaxPool ksize " + std::to_string(n.attr().at("ksize").list().i(1))]++;
  }
  return ops;
}

// The report and the plot exist, the table has a row per variant, every run folder is there.
void ExpectReport(const TinyRun& t, const std::vector<std::string>& rows) {
  ASSERT_TRUE(t.status.ok()) << t.status.message() << "\n" << t.output;
  const fs::path out = t.options.out_dir;
  const std::string md = Slurp(out / (fs::path(out).filename().string() + ".md"));
  EXPECT_NE(md.find("Mean ± standard deviation over the seeds"), std::string::npos) << md;
  EXPECT_NE(md.find("What this says: "), std::string::npos) << md;
  EXPECT_NE(md.find("the dataset ("), std::string::npos) << md;  // the reductions, stated
  EXPECT_NE(md.find("--seeds 1,2"), std::string::npos) << md;    // the command that repeats it
  for (const std::string& row : rows) EXPECT_NE(md.find("| " + row + " | "), std::string::npos) << row << "\n" << md;
  const cv::Mat png = cv::imread((out / (fs::path(out).filename().string() + ".png")).string());
  ASSERT_FALSE(png.empty()) << "no plot in " << out;
  cv::Mat grey;
  cv::cvtColor(png, grey, cv::COLOR_BGR2GRAY);
  double lo = 0, hi = 0;
  cv::minMaxLoc(grey, &lo, &hi);
  EXPECT_LT(lo, hi);  // something was drawn
}

TEST(TinyExperiments, ReluComparesReluWithTanhNetworks) {
  const TinyRun t = RunTiny(ExperimentKind::kRelu);
  ExpectReport(t, {"ReLU", "tanh"});
  const fs::path out = t.options.out_dir;
  EXPECT_TRUE(fs::exists(out / "relu-seed2" / "steps.csv"));
  auto relu = OpsOfRun(out / "relu-seed1"), tanh = OpsOfRun(out / "tanh-seed1");
  EXPECT_EQ(relu["Relu"], 7);
  EXPECT_EQ(relu["Tanh"], 0);
  EXPECT_EQ(tanh["Tanh"], 7);
  EXPECT_EQ(tanh["Relu"], 0);
  const std::string md = Slurp(out / "relu.md");
  // A target of 100 % error is reached at the first step in every run.
  EXPECT_NE(md.find("| ReLU | 1 ± 0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("tanh needed 1.00 ± 0.00 times the steps"), std::string::npos) << md;
}

TEST(TinyExperiments, LrnComparesWithAndWithoutTheLrnNodes) {
  const TinyRun t = RunTiny(ExperimentKind::kLrn);
  ExpectReport(t, {"LRN", "no LRN"});
  EXPECT_EQ(OpsOfRun(fs::path(t.options.out_dir) / "lrn-seed1")["LRN"], 2);
  EXPECT_EQ(OpsOfRun(fs::path(t.options.out_dir) / "no-lrn-seed2")["LRN"], 0);
}

TEST(TinyExperiments, PoolingComparesThreeByTwoWithTwoByTwoWindows) {
  const TinyRun t = RunTiny(ExperimentKind::kPooling);
  ExpectReport(t, {"3/2 (overlapping)", "2/2 (not overlapping)"});
  EXPECT_EQ(OpsOfRun(fs::path(t.options.out_dir) / "pool-3-2-seed1")["MaxPool ksize 3"], 3);
  EXPECT_EQ(OpsOfRun(fs::path(t.options.out_dir) / "pool-2-2-seed1")["MaxPool ksize 2"], 3);
  EXPECT_TRUE(fs::exists(fs::path(t.options.out_dir) / "pool-2-2-seed2" / "train_eval.csv"));  // for the gap
}

TEST(TinyExperiments, AugmentationComparesThreeRecipes) {
  const TinyRun t = RunTiny(ExperimentKind::kAugmentation);
  ExpectReport(t, {"none", "crops + flips", "crops + flips + PCA colour"});
  for (const auto& [run, crops, pca] : {std::tuple{"none-seed1", false, false},
                                        std::tuple{"crops-flips-seed1", true, false},
                                        std::tuple{"crops-flips-pca-seed2", true, true}}) {
    const auto c = train::LoadTrainConfig((fs::path(t.options.out_dir) / run).string());
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->recipe.random_crop, crops) << run;
    EXPECT_EQ(c->recipe.flip, crops) << run;
    EXPECT_EQ(c->recipe.pca_color, pca) << run;
  }
}

// An interrupted experiment continues with --resume: the finished runs are kept as they are, the
// unfinished one is trained again from its start; without --resume the folder is refused, and
// --resume with other settings is refused too.
TEST(TinyExperiments, ResumeKeepsTheFinishedRunsAndRedoesTheUnfinishedOne) {
  TinyRun t = RunTiny(ExperimentKind::kLrn);
  ASSERT_TRUE(t.status.ok()) << t.status.message() << "\n" << t.output;
  const fs::path out = t.options.out_dir;
  // As if the process died during the last run: it has no wall_seconds.txt yet.
  fs::remove(out / "no-lrn-seed2" / "wall_seconds.txt");
  std::ofstream(out / "lrn-seed1" / "marker") << "kept";
  std::ofstream(out / "no-lrn-seed2" / "marker") << "stale";

  std::ostringstream refused;
  const Status again = RunExperiment(ExperimentKind::kLrn, t.options, refused);
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.message().find("already holds a run"), std::string::npos) << again.message();

  ExperimentOptions other = t.options;
  other.resume = true;
  other.lr *= 2;
  std::ostringstream mismatch;
  const Status changed = RunExperiment(ExperimentKind::kLrn, other, mismatch);
  EXPECT_FALSE(changed.ok());
  EXPECT_NE(changed.message().find("--resume continues only the experiment started here"), std::string::npos)
      << changed.message();
  // Compared as the saved options (lrn-options.json), naming what differs, not as command lines.
  EXPECT_NE(changed.message().find("lrn-options.json"), std::string::npos) << changed.message();
  EXPECT_NE(changed.message().find("lr " + nlohmann::json(t.options.lr).dump() + " there, " +
                                   nlohmann::json(other.lr).dump() + " now"),
            std::string::npos)
      << changed.message();

  ExperimentOptions resume = t.options;
  resume.resume = true;
  std::ostringstream log;
  const Status resumed = RunExperiment(ExperimentKind::kLrn, resume, log);
  ASSERT_TRUE(resumed.ok()) << resumed.message() << "\n" << log.str();
  EXPECT_TRUE(fs::exists(out / "lrn-seed1" / "marker"));  // kept, not trained again
  EXPECT_FALSE(fs::exists(out / "no-lrn-seed2" / "marker"));  // trained again from its start
  EXPECT_TRUE(fs::exists(out / "no-lrn-seed2" / "wall_seconds.txt"));
  const std::string text = log.str();
  size_t kept = 0;
  for (size_t at = text.find("finished before, kept"); at != std::string::npos;
       at = text.find("finished before, kept", at + 1)) {
    ++kept;
  }
  EXPECT_EQ(kept, 3u) << text;
  EXPECT_NE(Slurp(out / "lrn.md").find("| no LRN | "), std::string::npos);
}

// A run whose loss becomes NaN is one of the results: the experiment goes on, and the report
// names the run and says why its numbers are missing.
TEST(TinyExperiments, ADivergedRunIsReportedNotFatal) {
  const fs::path root = TempDir("diverged");
  alexnet::testing::WriteShapesDataset(root / "shapes", 12, 3);
  ExperimentOptions o = Tiny(ExperimentKind::kLrn, root);
  o.lr = 1e4f;  // blows up within a few steps
  o.seeds = {1};
  o.epochs = 1;
  std::ostringstream out;
  const Status st = RunExperiment(ExperimentKind::kLrn, o, out);
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << out.str();
  EXPECT_TRUE(fs::exists(root / "lrn" / "lrn-seed1" / "diverged.txt"));
  const std::string md = Slurp(root / "lrn" / "lrn.md");
  EXPECT_NE(md.find("Runs that diverged"), std::string::npos) << md;
  EXPECT_NE(md.find("- LRN, seed 1: the loss became"), std::string::npos) << md;
  EXPECT_NE(md.find("| LRN | - |"), std::string::npos) << md;
}

// `experiment all`: every experiment, one seed, one epoch; one report with a section and a plot
// of each. Then the command line redoes the report from the run folders.
TEST(TinyExperiments, AllWritesOneReportOfEveryExperiment) {
  const fs::path root = TempDir("all");
  alexnet::testing::WriteShapesDataset(root / "shapes", 12, 3);
  std::vector<std::pair<ExperimentKind, ExperimentOptions>> experiments;
  for (ExperimentKind kind : AllExperimentKinds()) {
    ExperimentOptions o = Tiny(kind, root);
    o.out_dir = (root / "all" / ExperimentName(kind)).string();
    o.seeds = {1};
    o.epochs = 1;
    experiments.emplace_back(kind, o);
  }
  std::ostringstream out;
  const Status st = RunAllExperiments(experiments, (root / "all").string(), "alexnet experiment all", out);
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << out.str();
  const std::string md = Slurp(root / "all" / "report.md");
  EXPECT_NE(md.find("| experiment | the paper | measured here | agreement |"), std::string::npos) << md;
  for (ExperimentKind kind : AllExperimentKinds()) {
    const std::string name = ExperimentName(kind);
    EXPECT_NE(md.find("| " + name + " | "), std::string::npos) << name;
    EXPECT_NE(md.find("(" + name + "/" + name + ".png)"), std::string::npos) << name;
    EXPECT_TRUE(fs::exists(root / "all" / name / (name + ".png"))) << name;
    EXPECT_TRUE(fs::exists(root / "all" / name / (name + ".md"))) << name;
  }
  fs::remove(root / "all" / "report.md");
  int status = 0;
  const std::string text = alexnet::testing::RunCommand(
      std::string(ALEXNET_BIN) + " experiment all --report-only --seeds 1 --out " + (root / "all").string() + " 2>&1",
      &status);
  EXPECT_EQ(status, 0) << text;
  EXPECT_TRUE(fs::exists(root / "all" / "report.md")) << text;
}

}  // namespace
}  // namespace alexnet::report
