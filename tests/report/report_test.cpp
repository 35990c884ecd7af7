// The report layer: stage pictures and the HTML page of `inspect`, the conv1 filter grid, the
// gnuplot training curves, the epoch hook, and the dropout experiment (its report logic on made-up
// numbers, and a tiny real run on a generated dataset).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "model/summary.h"
#include "report/dropout_experiment.h"
#include "report/experiment.h"
#include "report/epoch_report.h"
#include "report/gnuplot.h"
#include "report/inspect.h"
#include "report/visualize.h"
#include "run_command.h"
#include "shapes_dataset.h"
#include "train/events.h"
#include "util/files.h"
#include "util/format.h"

namespace alexnet::report {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("alexnet_report_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// stdout and stderr together.
std::string RunCommand(const std::string& cmd, int* status) {
  return alexnet::testing::RunCommand(cmd + " 2>&1", status);
}

// A picture with structure: a gradient, a disc and a bar.
fs::path WriteTestImage(const fs::path& dir) {
  cv::Mat img(90, 110, CV_8UC3);
  for (int y = 0; y < img.rows; ++y) {
    for (int x = 0; x < img.cols; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(2 * x), uint8_t(2 * y), 90);
  }
  cv::circle(img, {60, 45}, 22, cv::Scalar(20, 20, 230), cv::FILLED);
  cv::rectangle(img, {10, 70}, {100, 80}, cv::Scalar(240, 240, 240), cv::FILLED);
  const fs::path p = dir / "test image.png";
  cv::imwrite(p.string(), img);
  return p;
}

bool IsSeparator(const cv::Vec3b& v) {
  return v == cv::Vec3b(uchar(kSeparator[0]), uchar(kSeparator[1]), uchar(kSeparator[2]));
}

// Cells of a grid image counted from its pixels: runs of rows (columns) that are not entirely
// separator-coloured.
std::pair<int, int> CountCells(const cv::Mat& img) {
  auto count_runs = [](const std::vector<bool>& sep) {
    int runs = 0;
    for (size_t i = 0; i < sep.size(); ++i) runs += !sep[i] && (i == 0 || sep[i - 1]);
    return runs;
  };
  std::vector<bool> row_sep(img.rows, true), col_sep(img.cols, true);
  for (int y = 0; y < img.rows; ++y) {
    for (int x = 0; x < img.cols; ++x) {
      if (!IsSeparator(img.at<cv::Vec3b>(y, x))) row_sep[y] = col_sep[x] = false;
    }
  }
  return {count_runs(row_sep), count_runs(col_sep)};
}

// ---------------------------------------------------------------------------------------------
// Drawing (no TensorFlow).

TEST(Visualize, GridShapesAreAsSquareAsTheChannelCountAllows) {
  EXPECT_EQ(GridShape(96), std::make_pair(8, 12));
  EXPECT_EQ(GridShape(256), std::make_pair(16, 16));
  EXPECT_EQ(GridShape(384), std::make_pair(16, 24));
  const auto [r, c] = GridShape(97);  // prime: near-square with a few empty cells
  EXPECT_GE(r * c, 97);
  EXPECT_LE(c, 11);
}

TEST(Visualize, FeatureMapGridNormalisesEachChannelAndCountsConstantOnes) {
  const int h = 5, w = 4, c = 6;
  std::vector<float> v(h * w * c);
  for (int i = 0; i < h * w; ++i) {
    for (int ch = 0; ch < c; ++ch) v[i * c + ch] = ch == 2 ? 0.0f : float(i) * (ch + 1) * 1000.0f;
  }
  GridLayout g;
  int constant = -1;
  const cv::Mat img = FeatureMapGrid(v.data(), h, w, c, &g, &constant);
  EXPECT_EQ(constant, 1);
  EXPECT_EQ(g.rows * g.cols, 6);
  EXPECT_EQ(img.cols, g.cols * (g.cell_w + g.sep) + g.sep);
  EXPECT_EQ(img.rows, g.rows * (g.cell_h + g.sep) + g.sep);
  // Channels 0 and 5 differ only in scale: min-max normalisation draws them identically.
  const cv::Rect c0(g.x0, g.y0, g.cell_w, g.cell_h);
  const cv::Rect c5(g.x0 + (5 % g.cols) * (g.cell_w + g.sep), g.y0 + (5 / g.cols) * (g.cell_h + g.sep), g.cell_w,
                    g.cell_h);
  EXPECT_EQ(cv::norm(img(c0), img(c5), cv::NORM_INF), 0.0);
  EXPECT_TRUE(IsNonConstant(img(c0)));
  EXPECT_EQ(CountCells(img), std::make_pair(g.rows, g.cols));
}

TEST(Visualize, BarChartsAndCaptionsAreDrawn) {
  std::vector<float> units(4096);
  for (size_t i = 0; i < units.size(); ++i) units[i] = std::max(0.0f, std::sin(float(i) * 0.01f));
  const cv::Mat bars = UnitBarChart(units, 1024, 220);
  EXPECT_EQ(bars.rows, 220);
  EXPECT_TRUE(IsNonConstant(bars));
  const cv::Mat top = TopClassesChart({{"Trouser", 0.9f}, {"Dress", 0.05f}});
  EXPECT_TRUE(IsNonConstant(top));
  EXPECT_EQ(top.cols, 640);
  // A full bar with a long text after it: the chart widens rather than cut the text off.
  const cv::Mat wide = TopClassesChart({{"Ankle boot  <- true class, predicted, and some more words", 1.0f}});
  EXPECT_GT(wide.cols, 640);
  EXPECT_EQ(wide.at<cv::Vec3b>(wide.rows / 2, wide.cols - 1), cv::Vec3b(255, 255, 255));
  int band = 0;
  const cv::Mat captioned = AddCaption(bars, {"fc6  4096", "second line"}, &band);
  EXPECT_EQ(captioned.rows, bars.rows + band);
  EXPECT_GT(band, 30);
  EXPECT_FALSE(IsNonConstant(cv::Mat(10, 10, CV_8UC3, cv::Scalar(1, 2, 3))));
}

// ---------------------------------------------------------------------------------------------
// inspect on an untrained network (67 x 67 input, 10 classes).

class UntrainedInspect : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(TempDir("inspect"));
    model::ModelOptions o;
    o.num_classes = 10;
    o.input_size = 67;
    model_ = new InspectModel;
    report_ = new InspectReport;
    open_error_ = new std::string;
    auto opened = OpenUntrainedModel(o, 2);
    if (!opened.ok()) {
      *open_error_ = opened.status().message();
      return;
    }
    *model_ = std::move(opened).value();
    auto inspected = InspectImage(*model_, WriteTestImage(*dir_).string(), (*dir_ / "out").string(), {});
    if (inspected.ok()) {
      *report_ = inspected.value();
    } else {
      *open_error_ = inspected.status().message();
    }
  }
  static void TearDownTestSuite() {
    delete model_;
    delete report_;
    delete open_error_;
    fs::remove_all(dir_->parent_path());
    delete dir_;
  }
  static fs::path* dir_;
  static InspectModel* model_;
  static InspectReport* report_;
  static std::string* open_error_;
};
fs::path* UntrainedInspect::dir_;
InspectModel* UntrainedInspect::model_;
InspectReport* UntrainedInspect::report_;
std::string* UntrainedInspect::open_error_;

TEST_F(UntrainedInspect, EveryStageOfTheSeedTableHasANonConstantPictureOfTheReportedSize) {
  ASSERT_EQ(*open_error_, "");
  std::vector<std::string> expected = {"input"};
  for (const model::LayerSpec& s : model::AlexNetLayers()) expected.push_back(s.name);
  std::vector<std::string> names;
  for (const StageReport& s : report_->stages) names.push_back(s.name);
  EXPECT_EQ(names, expected);
  for (const StageReport& s : report_->stages) {
    const fs::path png = *dir_ / "out" / s.image;
    ASSERT_TRUE(fs::exists(png)) << png;
    const cv::Mat img = cv::imread(png.string(), cv::IMREAD_COLOR);
    ASSERT_FALSE(img.empty()) << png;
    EXPECT_EQ(img.cols, s.width) << s.name;
    EXPECT_EQ(img.rows, s.height) << s.name;
    EXPECT_GE(img.cols, 200) << s.name;
    EXPECT_TRUE(IsNonConstant(img)) << s.name;
  }
}

TEST_F(UntrainedInspect, ConvStagePicturesHaveOneCellPerChannel) {
  ASSERT_EQ(*open_error_, "");
  for (const StageReport& s : report_->stages) {
    if (s.shape.size() != 3 || s.name == "input") continue;
    const cv::Mat img = cv::imread((*dir_ / "out" / s.image).string(), cv::IMREAD_COLOR);
    // Below the caption: the grid alone.
    const int cols = GridShape(static_cast<int>(s.shape[2])).second;
    std::vector<bool> col_sep(img.cols, true);
    const int y_last_cell_row = img.rows - 3;  // inside the last row of cells (2-pixel border)
    int runs = 0;
    for (int x = 0; x < img.cols; ++x) {
      // The caption may be wider than the grid: white (no viridis colour) is not a cell either.
      const cv::Vec3b v = img.at<cv::Vec3b>(y_last_cell_row, x);
      col_sep[x] = IsSeparator(v) || v == cv::Vec3b(255, 255, 255);
      runs += !col_sep[x] && (x == 0 || col_sep[x - 1]);
    }
    EXPECT_EQ(runs, cols) << s.name;
  }
}

TEST_F(UntrainedInspect, ShapesEqualThoseOfSummary) {
  ASSERT_EQ(*open_error_, "");
  const Result<model::Summary> built = model::BuildSummary(model_->options);
  ASSERT_TRUE(built.ok()) << built.status().message();
  const model::Summary& summary = built.value();
  ASSERT_EQ(report_->stages.size(), summary.rows.size() + 1);
  EXPECT_EQ(report_->stages[0].shape, (std::vector<int64_t>{67, 67, 3}));
  for (size_t i = 0; i < summary.rows.size(); ++i) {
    EXPECT_EQ(report_->stages[i + 1].name, summary.rows[i].name);
    EXPECT_EQ(report_->stages[i + 1].shape, summary.rows[i].out_shape) << summary.rows[i].name;
  }
  EXPECT_EQ(report_->stages.back().shape, (std::vector<int64_t>{10}));
  ASSERT_EQ(report_->prediction.top.size(), 5u);
  float sum = 0;
  for (const auto& [c, p] : report_->prediction.top) sum += p;
  EXPECT_LE(sum, 1.0001f);
}

TEST_F(UntrainedInspect, PageLinksEveryStagePictureAndEveryLinkedFileExists) {
  ASSERT_EQ(*open_error_, "");
  const fs::path html = *dir_ / "out" / "index.html";
  ASSERT_EQ(fs::path(report_->html_path), html);
  const std::string page = Slurp(html);
  std::set<std::string> links;
  const std::regex link_re("(?:src|href)=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), link_re); it != std::sregex_iterator(); ++it) {
    links.insert((*it)[1].str());
  }
  for (const StageReport& s : report_->stages) {
    EXPECT_TRUE(links.count(s.image)) << s.image << " not linked";
    EXPECT_NE(page.find("id=\"" + s.name + "\""), std::string::npos) << s.name;
  }
  for (const std::string& l : links) {
    if (l.rfind("#", 0) == 0) continue;  // an anchor on the page
    EXPECT_EQ(l.find("://"), std::string::npos) << "not self-contained: " << l;
    EXPECT_NE(l.front(), '/') << "absolute path: " << l;
    EXPECT_TRUE(fs::exists(html.parent_path() / l)) << l;
  }
  // The numbers of `alexnet summary` are on the page, and the mean is explained.
  const Result<model::Summary> built = model::BuildSummary(model_->options);
  ASSERT_TRUE(built.ok()) << built.status().message();
  const model::Summary& summary = built.value();
  EXPECT_NE(page.find(FormatCount(summary.total_params)), std::string::npos);
  EXPECT_NE(page.find(FormatCount(summary.rows[0].macs)), std::string::npos);
  EXPECT_NE(page.find("own per-channel mean"), std::string::npos);
}

// Pixels of exactly this colour (bars are drawn without anti-aliasing).
int CountColour(const cv::Mat& img, const cv::Scalar& colour) {
  const cv::Vec3b want{uchar(colour[0]), uchar(colour[1]), uchar(colour[2])};
  int n = 0;
  for (int y = 0; y < img.rows; ++y) {
    for (int x = 0; x < img.cols; ++x) n += img.at<cv::Vec3b>(y, x) == want;
  }
  return n;
}

// fc8's chart: with no true class only the top prediction is marked (orange); with one, the
// true class is green, and the top prediction orange only when it is wrong.
TEST_F(UntrainedInspect, Fc8ChartMarksTheTrueClassGreenAndAWrongTopPredictionOrange) {
  ASSERT_EQ(*open_error_, "");
  ASSERT_FALSE(report_->prediction.known());
  const cv::Mat unlabelled = cv::imread((*dir_ / "out" / "fc8.png").string(), cv::IMREAD_COLOR);
  EXPECT_GT(CountColour(unlabelled, kPredictionColour), 100);
  EXPECT_EQ(CountColour(unlabelled, kTrueClassColour), 0);

  // A class outside the top 5: it gets a bar of its own below them, and the top one is wrong.
  const std::vector<std::pair<int, float>>& top = report_->prediction.top;
  int outside = 0;
  while (std::any_of(top.begin(), top.end(), [&](const auto& t) { return t.first == outside; })) ++outside;
  const std::string image = WriteTestImage(*dir_).string();
  InspectOptions wrong;
  wrong.label = {outside, "a test"};
  const auto w = InspectImage(*model_, image, (*dir_ / "wrong").string(), wrong);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->prediction.true_class, outside);
  EXPECT_GT(w->prediction.true_rank, 5);
  EXPECT_FALSE(w->prediction.correct());
  const cv::Mat wrong_img = cv::imread((*dir_ / "wrong" / "fc8.png").string(), cv::IMREAD_COLOR);
  EXPECT_GT(CountColour(wrong_img, kTrueClassColour), 100);
  EXPECT_GT(CountColour(wrong_img, kPredictionColour), 100);
  EXPECT_GT(wrong_img.rows, unlabelled.rows);  // the true class's extra row and the legend
  const std::string page = Slurp(*dir_ / "wrong" / "index.html");
  EXPECT_NE(page.find("true class, rank " + std::to_string(w->prediction.true_rank)), std::string::npos);

  // The top class as the true one: green, no orange.
  InspectOptions right;
  right.label = {top.front().first, "a test"};
  const auto r = InspectImage(*model_, image, (*dir_ / "right").string(), right);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->prediction.correct());
  const cv::Mat right_img = cv::imread((*dir_ / "right" / "fc8.png").string(), cv::IMREAD_COLOR);
  EXPECT_GT(CountColour(right_img, kTrueClassColour), 100);
  EXPECT_EQ(CountColour(right_img, kPredictionColour), 0);
}

TEST(TrueLabel, FromExtractsFileNamesImageFoldersAndTheFlag) {
  const std::vector<std::string> fashion = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  TrueLabel l = LabelFromPath("samples/0_Ankle-boot.png", fashion);
  EXPECT_EQ(l.index, 9);
  EXPECT_EQ(l.source, "the file name");
  EXPECT_EQ(LabelFromPath("/x/samples/12_T-shirt-top.png", fashion).index, 0);
  // Every class read back from the name `alexnet extract` gives its image (the one rule both use).
  EXPECT_EQ(FileNameForm("T-shirt/top"), "T-shirt-top");
  for (size_t i = 0; i < fashion.size(); ++i) {
    EXPECT_EQ(LabelFromPath(std::to_string(i) + "_" + FileNameForm(fashion[i]) + ".png", fashion).index, int(i))
        << fashion[i];
  }
  l = LabelFromPath("data/Sneaker/image 7.jpg", fashion);
  EXPECT_EQ(l.index, 7);
  EXPECT_EQ(l.source, "the folder name");
  EXPECT_EQ(LabelFromPath("photos/my boot.jpg", fashion).index, -1);
  EXPECT_EQ(LabelFromPath("x_Ankle-boot.png", fashion).index, -1);  // not extract's <index>_
  // "class 0" and "class-0" read the same: a name that fits two classes names none.
  EXPECT_EQ(LabelFromPath("1_CLASS-0.png", {"class 0", "class-0"}).index, -1);
  EXPECT_EQ(LabelFromPath("1_class-0.png", {"class 0", "class-0"}).index, 1);  // exactly one of them

  auto f = LabelFromFlag("ankle boot", fashion);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->index, 9);
  EXPECT_EQ(f->source, "--label");
  f = LabelFromFlag("3", fashion);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->index, 3);
  f = LabelFromFlag("Zebra", fashion);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("Zebra"), std::string::npos) << f.status().message();
  EXPECT_NE(f.status().message().find("Ankle boot"), std::string::npos) << f.status().message();
  EXPECT_FALSE(LabelFromFlag("10", fashion).ok());
}

TEST_F(UntrainedInspect, MissingImageIsAnErrorNamingTheFile) {
  ASSERT_EQ(*open_error_, "");
  const std::string missing = (*dir_ / "no-such-image.jpg").string();
  const auto r = InspectImage(*model_, missing, (*dir_ / "out2").string(), {});
  ASSERT_FALSE(r.ok());
  const std::string err = r.status().message();
  EXPECT_NE(err.find(missing), std::string::npos) << err;
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << err;
}

TEST_F(UntrainedInspect, FilterGridHas96CellsOf11x11Kernels) {
  ASSERT_EQ(*open_error_, "");
  const auto filters = Conv1FilterImage(model_->session(), 4);
  ASSERT_TRUE(filters.ok()) << filters.status().message();
  const cv::Mat& grid = filters->image;
  const GridLayout& g = filters->layout;
  EXPECT_EQ(g.rows, 8);
  EXPECT_EQ(g.cols, 12);
  EXPECT_EQ(g.cell_w, 44);
  const auto [rows, cols] = CountCells(grid);
  EXPECT_EQ(rows * cols, 96) << rows << " x " << cols;
  for (int i = 0; i < 96; ++i) {
    const cv::Rect cell(g.x0 + (i % g.cols) * (g.cell_w + g.sep), g.y0 + (i / g.cols) * (g.cell_h + g.sep),
                        g.cell_w, g.cell_h);
    ASSERT_TRUE(IsNonConstant(grid(cell))) << "kernel " << i;
  }
}

// ---------------------------------------------------------------------------------------------
// Training curves with gnuplot.

void WriteMetrics(const fs::path& path) {
  std::ofstream f(path);
  f << "epoch,step,train_loss,train_top1,val_loss,val_top1,val_top5,lr,images_per_s,train_seconds\n"
    << "1,10,2.1,0.30,1.9,0.40,0.8,0.01,100,10\n"
    << "2,20,1.5,0.55,1.4,0.52,0.9,0.01,100,20\n"
    << "3,30,1.1,0.70,1.3,0.58,0.93,0.001,100,30\n";
}

bool HaveGnuplot() {
  int status = 0;
  RunCommand("gnuplot --version", &status);
  return status == 0;
}

TEST(Curves, ReadMetricsCsvTakesTheLastLineOfAnEpochAndMissingValidationAsNaN) {
  const fs::path dir = TempDir("metrics");
  {
    std::ofstream f(dir / "metrics.csv");
    f << "epoch,step,train_loss,train_top1,val_loss,val_top1,val_top5,lr,images_per_s,train_seconds\n"
      << "1,10,2.0,0.3,,,,0.01,5,1\n"
      << "1,12,1.9,0.35,,,,0.01,5,2\n"
      << "2,20,1.5,0.5,1.4,0.45,0.9,0.01,5,3\n";
  }
  const auto read = ReadMetricsCsv((dir / "metrics.csv").string());
  ASSERT_TRUE(read.ok()) << read.status().message();
  const std::vector<MetricsRow>& rows = read.value();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].step, 12);
  EXPECT_TRUE(std::isnan(rows[0].val_top1));
  EXPECT_DOUBLE_EQ(rows[1].val_top1, 0.45);
  EXPECT_NE(ReadMetricsCsv((dir / "absent.csv").string()).status().message().find("absent.csv"), std::string::npos);
}

TEST(Curves, CurvesPngIsDrawnFromMetricsCsv) {
  if (!HaveGnuplot()) GTEST_SKIP() << "gnuplot not installed (bash scripts/setup.sh)";
  const fs::path dir = TempDir("curves");
  WriteMetrics(dir / "metrics.csv");
  const Status drawn = DrawTrainingCurves((dir / "metrics.csv").string(), (dir / "curves.png").string());
  ASSERT_TRUE(drawn.ok()) << drawn.message();
  const cv::Mat img = cv::imread((dir / "curves.png").string());
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 1000);
  EXPECT_EQ(img.rows, 420);
  EXPECT_TRUE(IsNonConstant(img));
  EXPECT_TRUE(fs::exists(dir / "curves.gp"));
  EXPECT_FALSE(fs::exists(dir / "curves.png.tmp.png"));
  // The title names the run folder, not where it happens to be (here a temporary folder).
  const std::string script = Slurp(dir / "curves.gp");
  EXPECT_NE(script.find("set multiplot layout 1,2 title 'run curves'"), std::string::npos) << script;
  EXPECT_EQ(script.find("title '" + dir.parent_path().string()), std::string::npos) << script;
}

TEST(Curves, TheTitleNamesTheRunFolderNotAMachinesPath) {
  EXPECT_EQ(RunFolderTitle("runs/docs-227"), "runs/docs-227");
  EXPECT_EQ(RunFolderTitle("./runs/docs-227/"), "runs/docs-227");
  EXPECT_EQ(RunFolderTitle("/tmp/exp/docs-model"), "docs-model");
  EXPECT_EQ(RunFolderTitle("/tmp/exp/docs-model/"), "docs-model");
  EXPECT_EQ(RunFolderTitle("../elsewhere/run1"), "run1");
  EXPECT_EQ(RunFolderTitle("."), fs::current_path().filename().string());
}

TEST(Curves, MissingGnuplotIsReportedNotFatal) {
  const fs::path dir = TempDir("nognuplot");
  WriteMetrics(dir / "metrics.csv");
  const Status drawn = DrawTrainingCurves((dir / "metrics.csv").string(), (dir / "curves.png").string(),
                                         "alexnet-no-such-gnuplot");
  const std::string err = drawn.message();
  EXPECT_NE(err.find("alexnet-no-such-gnuplot"), std::string::npos) << err;
  EXPECT_EQ(drawn.code(), StatusCode::kNotFound) << err;
  EXPECT_FALSE(fs::exists(dir / "curves.png"));
}

TEST(EpochHook, DrawsCurvesLogsFiltersToTensorBoardAndReportsAMissingGnuplotOnce) {
  const fs::path dir = TempDir("hook");
  WriteMetrics(dir / "metrics.csv");
  model::SessionConfig sc;
  sc.model.num_classes = 4;
  sc.model.input_size = 67;
  auto created = model::ModelSession::Create(sc);
  ASSERT_TRUE(created.ok()) << created.status().message();
  std::unique_ptr<model::ModelSession> session = std::move(created).value();
  ASSERT_TRUE(session->Initialize().ok());
  train::TrainConfig config;
  config.run.run_dir = dir.string();
  {
    train::EventLog events(dir.string());
    std::ostringstream notices;
    EpochReporter broken(notices, "alexnet-no-such-gnuplot");
    for (int epoch = 1; epoch <= 3; ++epoch) {
      broken(train::EpochEnd{&config, epoch, epoch * 10, session.get(), &events});
    }
    EXPECT_EQ(broken.problems_reported(), 1);  // once, not at every epoch
    if (HaveGnuplot()) {
      EpochReporter working(notices);
      working(train::EpochEnd{&config, 4, 40, session.get(), &events});
      EXPECT_EQ(working.problems_reported(), 0);
      EXPECT_TRUE(fs::exists(dir / "curves.png"));
    }
  }
  std::string events;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("events.out.tfevents", 0) == 0) events += Slurp(e.path());
  }
  EXPECT_NE(events.find("conv1/filters"), std::string::npos);
  EXPECT_NE(events.find("\x89PNG"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The dropout experiment's report on made-up numbers.

DropoutRun FakeRun(float rate, std::vector<std::array<double, 3>> epochs) {  // train, val, val_loss
  DropoutRun r;
  r.rate = rate;
  int64_t n = 0;
  for (const auto& e : epochs) {
    DropoutEpoch d;
    d.epoch = ++n;
    d.train_top1 = e[0];
    d.val_top1 = e[1];
    d.val_loss = e[2];
    d.train_top1_running = e[0] - 0.1;
    r.epochs.push_back(d);
  }
  return r;
}

TEST(DropoutReport, GapsAreTrainingMinusValidationPerEpoch) {
  const DropoutRun with = FakeRun(0.5f, {{0.60, 0.58, 1.0}, {0.80, 0.75, 0.8}});
  const DropoutRun without = FakeRun(0.0f, {{0.70, 0.62, 0.9}, {0.95, 0.83, 1.1}});
  EXPECT_NEAR(with.epochs[1].gap(), 0.05, 1e-12);
  EXPECT_NEAR(without.epochs[1].gap(), 0.12, 1e-12);
  const std::string table = DropoutTable(with, without);
  EXPECT_NE(table.find("| 1 | 0.600 | 0.580 | 0.020 | 0.700 | 0.620 | 0.080 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| 2 | 0.800 | 0.750 | 0.050 | 0.950 | 0.830 | 0.120 |"), std::string::npos) << table;
  const std::string f = DropoutFindings(with, without);
  EXPECT_NE(f.find("0.120 with dropout 0.0 (epoch 2) vs 0.050 with dropout 0.5"), std::string::npos) << f;
  EXPECT_NE(f.find("made the gap smaller by 0.070"), std::string::npos) << f;
  EXPECT_NE(f.find("Mean gap over the last 2 epochs: 0.100 (dropout 0.0) vs 0.035 (dropout 0.5)"),
            std::string::npos) << f;
  EXPECT_NE(f.find("rose from its minimum 0.900"), std::string::npos) << f;
}

TEST(DropoutReport, SaysSoWhenDropoutDidNotHelp) {
  const DropoutRun with = FakeRun(0.5f, {{0.90, 0.70, 1.0}});
  const DropoutRun without = FakeRun(0.0f, {{0.85, 0.75, 1.0}});
  const std::string f = DropoutFindings(with, without);
  EXPECT_NE(f.find("made the gap larger by 0.100"), std::string::npos) << f;
  const DropoutRun same = FakeRun(0.5f, {{0.855, 0.75, 1.0}});
  EXPECT_NE(DropoutFindings(same, without).find("about the same"), std::string::npos);
}

TEST(DropoutReport, ReadsRunFoldersAndMatchesEpochs) {
  const fs::path dir = TempDir("dropout-read");
  WriteMetrics(dir / "metrics.csv");
  {
    std::ofstream f(dir / "train_eval.csv");
    f << "epoch,step,train_top1,train_loss,images\n1,10,0.45,1.8,100\n2,20,0.61,1.2,100\n";
  }
  const auto read = ReadDropoutRun(dir.string(), 0.5f);
  ASSERT_TRUE(read.ok()) << read.status().message();
  const DropoutRun& r = read.value();
  ASSERT_EQ(r.epochs.size(), 2u);  // epoch 3 has no training-subset evaluation
  EXPECT_DOUBLE_EQ(r.epochs[1].train_top1, 0.61);
  EXPECT_DOUBLE_EQ(r.epochs[1].train_top1_running, 0.55);
  EXPECT_NEAR(r.epochs[1].gap(), 0.61 - 0.52, 1e-12);
  EXPECT_EQ(DropoutRunName(0.5f), "dropout-0.5");
  EXPECT_EQ(DropoutRunName(0.0f), "dropout-0.0");
  EXPECT_EQ(DropoutRunName(0.25f), "dropout-0.25");
}

// ---------------------------------------------------------------------------------------------
// A tiny real experiment on generated shapes, then the tool's filters and inspect on its runs.

class TinyExperiment : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(TempDir("experiment"));
    alexnet::testing::WriteShapesDataset(*root_ / "shapes", 16, 5);
    ExperimentOptions o = DefaultExperimentOptions(ExperimentKind::kDropout);
    o.data.source = (*root_ / "shapes").string();
    o.data.train_limit = o.data.val_limit = 0;
    o.data.val_fraction = 0.25;
    o.data.resize = 72;
    o.data.crop = 67;
    o.data.stats_images = 0;
    o.epochs = 2;
    o.batch = 16;
    o.lr = 3e-4f;
    o.standardize = true;
    o.seeds = {1, 2};
    o.threads = 2;
    o.out_dir = (*root_ / "out").string();
    std::ostringstream out;
    const Status st = RunExperiment(ExperimentKind::kDropout, o, out);
    status_ = st.ok() ? 0 : 1;
    output_ = new std::string(out.str() + (st.ok() ? "" : "\nerror: " + st.message()));
  }
  static void TearDownTestSuite() {
    fs::remove_all(root_->parent_path());
    delete root_;
    delete output_;
  }
  static fs::path* root_;
  static std::string* output_;
  static int status_;
};
fs::path* TinyExperiment::root_;
std::string* TinyExperiment::output_;
int TinyExperiment::status_ = -1;

TEST_F(TinyExperiment, EveryRunIsEvaluatedOnTheTrainingSubsetEveryEpochAndReported) {
  ASSERT_EQ(status_, 0) << *output_;
  const fs::path out = *root_ / "out";
  std::vector<DropoutRun> with, without;
  for (const std::string run : {"dropout-0.5-seed1", "dropout-0.0-seed1", "dropout-0.5-seed2", "dropout-0.0-seed2"}) {
    const bool with_dropout = run.rfind("dropout-0.5", 0) == 0;
    const auto r = ReadDropoutRun((out / run).string(), with_dropout ? 0.5f : 0.0f);
    ASSERT_TRUE(r.ok()) << run << ": " << r.status().message();
    EXPECT_EQ(r->epochs.size(), 2u) << run;
    EXPECT_TRUE(fs::exists(out / run / "curves.png")) << run;  // the epoch hook ran
    const Result<train::TrainConfig> loaded = train::LoadTrainConfig((out / run).string());
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    const train::TrainConfig& c = *loaded;
    EXPECT_FLOAT_EQ(c.model.dropout_rate, with_dropout ? 0.5f : 0.0f);
    EXPECT_EQ(c.model.seed, run.back() == '1' ? 1 : 2);
    EXPECT_TRUE(c.model.standardize_input) << run;  // --standardize reaches every run
    (with_dropout ? with : without).push_back(*r);
  }
  const std::string md = Slurp(out / "dropout.md");
  EXPECT_NE(md.find("He initialisation, standardised input"), std::string::npos) << md;
  EXPECT_NE(md.find("| epoch | train top-1 (dropout 0.5)"), std::string::npos) << md;
  EXPECT_NE(md.find("Gap (training top-1 minus validation top-1) at the last epoch"), std::string::npos);
  // The per-epoch table is of the mean over the seeds.
  const DropoutRun mean = MeanDropoutRun(with);
  ASSERT_EQ(mean.epochs.size(), 2u);
  EXPECT_NEAR(mean.epochs[1].val_top1, (with[0].epochs[1].val_top1 + with[1].epochs[1].val_top1) / 2, 1e-12);
  EXPECT_NE(md.find(DropoutTable(mean, MeanDropoutRun(without))), std::string::npos) << md;
  EXPECT_NE(md.find("| dropout 0.5 | 1 |"), std::string::npos) << md;  // every run's own numbers
  EXPECT_NE(md.find("alexnet experiment dropout --data"), std::string::npos) << md;  // the command, spelled out
  if (HaveGnuplot()) {
    const cv::Mat plot = cv::imread((out / "dropout.png").string());
    EXPECT_TRUE(IsNonConstant(plot));
  }
}

TEST_F(TinyExperiment, ExistingRunsAreNotOverwrittenAndReportOnlyRedoesTheReport) {
  ASSERT_EQ(status_, 0) << *output_;
  ExperimentOptions o;
  o.seeds = {1, 2};
  o.out_dir = (*root_ / "out").string();
  std::ostringstream out;
  const Status again = RunExperiment(ExperimentKind::kDropout, o, out);
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.message().find("already holds a run"), std::string::npos) << again.message();
  fs::remove(*root_ / "out" / "dropout.md");
  o.report_only = true;
  const Status report_only = RunExperiment(ExperimentKind::kDropout, o, out);
  EXPECT_TRUE(report_only.ok()) << report_only.message();
  EXPECT_TRUE(fs::exists(*root_ / "out" / "dropout.md"));
}

TEST_F(TinyExperiment, FiltersCommandWritesA96CellGrid) {
  ASSERT_EQ(status_, 0) << *output_;
  const fs::path png = *root_ / "filters.png";
  int status = 0;
  const std::string out =
      RunCommand(std::string(ALEXNET_BIN) + " filters --run " + (*root_ / "out" / "dropout-0.5-seed1").string() +
                     " --scale 3 --out " + png.string(),
                 &status);
  ASSERT_EQ(status, 0) << out;
  const cv::Mat img = cv::imread(png.string());
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 12 * (33 + 2) + 2);
  EXPECT_EQ(img.rows, 8 * (33 + 2) + 2);
  const auto [rows, cols] = CountCells(img);
  EXPECT_EQ(rows * cols, 96);
}

TEST_F(TinyExperiment, InspectCommandOnATrainedRunMatchesSummaryShapes) {
  ASSERT_EQ(status_, 0) << *output_;
  const fs::path out = *root_ / "inspect";
  const fs::path image = fs::directory_iterator(*root_ / "shapes" / "disc")->path();
  int status = 0;
  const std::string text = RunCommand(std::string(ALEXNET_BIN) + " inspect --run " +
                                          (*root_ / "out" / "dropout-0.5-seed1").string() + " '" + image.string() +
                                          "' --out " + out.string(),
                                      &status);
  ASSERT_EQ(status, 0) << text;
  EXPECT_TRUE(fs::exists(out / "index.html"));
  EXPECT_NE(text.find("pool5  1 x 1 x 256"), std::string::npos) << text;
  EXPECT_NE(text.find("fc8    4 "), std::string::npos) << text;
  const std::string page = Slurp(out / "index.html");
  EXPECT_NE(page.find("color_stats.json"), std::string::npos);  // the training set's mean
}

// ---------------------------------------------------------------------------------------------
// The command line: bad input gives a clear error naming the file, exit status 1.

TEST(ReportCli, BadInputNamesTheFileAndExits1) {
  const fs::path dir = TempDir("cli");
  const fs::path image = WriteTestImage(dir);
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"inspect --untrained --classes 10 --input-size 67 " + (dir / "missing.png").string() + " --out " +
           (dir / "o").string(),
       (dir / "missing.png").string()},
      {"inspect --run " + (dir / "no-run").string() + " '" + image.string() + "' --out " + (dir / "o").string(),
       (dir / "no-run").string()},
      {"filters --run " + (dir / "no-run").string() + " --out " + (dir / "f.png").string(),
       (dir / "no-run").string()},
      {"experiment dropout --report-only --out " + (dir / "no-experiment").string(),
       (dir / "no-experiment").string()},
  };
  for (const Case& c : cases) {
    int status = 0;
    const std::string out = RunCommand(std::string(ALEXNET_BIN) + " " + c.args, &status);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << c.args << "\n" << out;
    EXPECT_NE(out.find(c.expect), std::string::npos) << c.args << "\n" << out;
  }
}

// inspect --text at 227 (the paper's input): one line per stage with its numbers, no files.
TEST(ReportCli, InspectTextPrintsEveryStageAndWritesNothing) {
  const fs::path dir = TempDir("cli-text");
  const fs::path image = WriteTestImage(dir);
  const fs::path named = dir / "3_class-3.png";  // as extract names files: the true class is "class 3"
  fs::copy_file(image, named);
  int status = 0;
  const std::string out = alexnet::testing::RunCommand(
      "cd '" + dir.string() + "' && " + ALEXNET_BIN + " inspect --untrained --classes 10 --text '" + named.string() +
          "' 2>'" + (dir / "stderr.txt").string() + "'",
      &status);
  ASSERT_EQ(status, 0) << out << Slurp(dir / "stderr.txt");
  EXPECT_EQ(Slurp(dir / "stderr.txt"), "");
  // Only the two images and the captured stderr: no pictures, no page.
  std::set<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) files.insert(e.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"test image.png", "3_class-3.png", "stderr.txt"}));

  // stage -> its fields: name, shape words..., zeros, min, max, mean, RF
  std::map<std::string, std::vector<std::string>> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (!w.empty()) lines[w[0]] = w;
  }
  std::vector<std::string> stages = {"input"};
  for (const model::LayerSpec& s : model::AlexNetLayers()) stages.push_back(s.name);
  stages.push_back("softmax");
  for (const std::string& name : stages) ASSERT_TRUE(lines.count(name)) << name << " missing:\n" << out;
  auto field = [&](const std::string& stage, int from_end) {
    const std::vector<std::string>& w = lines[stage];
    return w[w.size() - 1 - from_end];
  };
  EXPECT_EQ(lines["input"], (std::vector<std::string>{"input", "227", "x", "227", "x", "3", field("input", 4),
                                                      field("input", 3), field("input", 2), field("input", 1), "1"}));
  EXPECT_EQ(field("conv1", 0), "11") << out;
  EXPECT_EQ(field("pool1", 0), "19") << out;
  EXPECT_EQ(field("pool5", 0), "195") << out;
  EXPECT_EQ(field("fc6", 0), "all") << out;
  EXPECT_EQ(field("softmax", 0), "all") << out;
  EXPECT_NE(out.find("conv1    55 x 55 x 96"), std::string::npos) << out;
  // After a ReLU some values are exactly 0; before one (the input, fc8's logits), practically none.
  for (const char* relu : {"conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7"}) {
    EXPECT_GT(std::stod(field(relu, 4)), 0.0) << relu << "\n" << out;
    EXPECT_GE(std::stod(field(relu, 3)), 0.0) << relu << ": min below 0 after a ReLU\n" << out;
  }
  EXPECT_LT(std::stod(field("input", 4)), 0.05) << out;
  EXPECT_EQ(std::stod(field("fc8", 4)), 0.0) << out;
  EXPECT_NEAR(std::stod(field("softmax", 1)), 0.1, 1e-3) << out;  // 10 probabilities summing to 1
  EXPECT_NE(out.find("true class: class 3 (from the file name)"), std::string::npos) << out;
  // The preprocessing in numbers: the 110 x 90 image's central 90 x 90 square to 256 x 256, the
  // centre 227 x 227 crop at (256 - 227) / 2 = 14 (rounded down).
  EXPECT_NE(out.find("decoded 110 x 90 (width x height) -> its central 90 x 90 square resized to 256 x 256"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("the centre 227 x 227 crop at x = 14, y = 14"), std::string::npos) << out;
}

TEST(ReportCli, InspectUntrainedWritesThePage) {
  const fs::path dir = TempDir("cli-untrained");
  const fs::path image = WriteTestImage(dir);
  int status = 0;
  const std::string out = RunCommand(std::string(ALEXNET_BIN) + " inspect --untrained --classes 10 --input-size 67 '" +
                                         image.string() + "' --out " + (dir / "page").string(),
                                     &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("page: "), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir / "page" / "index.html"));
  EXPECT_TRUE(fs::exists(dir / "page" / "fc8.png"));
  // The page records the real command line, quoted again where a shell needs it (a space in the name).
  ASSERT_NE(image.string().find(' '), std::string::npos);
  const std::string made_by = "Made by: <code>" + std::string(ALEXNET_BIN) +
                              " inspect --untrained --classes 10 --input-size 67 '" + image.string() + "' --out " +
                              (dir / "page").string() + "</code>";
  EXPECT_NE(Slurp(dir / "page" / "index.html").find(made_by), std::string::npos) << made_by;
}

}  // namespace
}  // namespace alexnet::report
