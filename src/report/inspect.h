// `alexnet inspect` and `alexnet filters`: one image through the network, every stage of the
// seed's table drawn as a PNG, and a self-contained HTML page (index.html) that walks through
// the stages with the numbers of `alexnet summary`; conv1's kernels as the paper's Figure 3.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "data/color_stats.h"
#include "data/preprocess.h"
#include "util/status.h"
#include "model/session.h"
#include "report/visualize.h"
#include "train/trained_model.h"

namespace alexnet::report {

// The network being looked into: a trained run, or an untrained one with the paper's
// initialisation.
struct InspectModel {
  std::unique_ptr<train::TrainedModel> trained;    // set by OpenRunModel
  std::unique_ptr<model::ModelSession> untrained;  // set by OpenUntrainedModel
  model::ModelOptions options;
  std::vector<std::string> class_names;
  data::PreprocessOptions preprocess;
  std::shared_ptr<const data::ColorStats> stats;  // null: the mean is taken from the image itself
  std::string description;                        // one line for the page: which model this is

  model::ModelSession* session() const { return trained ? trained->session() : untrained.get(); }
};

// A run folder written by `alexnet train`; checkpoint "" = the run's best (else newest).
// Errors name the folder or file.
Result<InspectModel> OpenRunModel(const std::string& run_dir, const std::string& checkpoint,
                                  const train::SessionChoice& session);

// An untrained network (options.init decides the initialisation; the paper's by default) with
// classes named "class 0", "class 1", ... The input is prepared like a trained run's with
// S = round(input_size * 256 / 227), and the per-channel mean of the image's own S x S square
// is subtracted (there is no training set to take a mean from).
Result<InspectModel> OpenUntrainedModel(const model::ModelOptions& options, int threads);

// The class an image really shows, when known, and how it is known.
struct TrueLabel {
  int index = -1;      // into the model's class names; -1: not known
  std::string source;  // "--label", "the file name", "the folder name"
};

// --label NAME: a class name as the model has it ("Ankle boot"), as `alexnet extract` writes it
// in file names ("Ankle-boot", any case), or a class index. An error lists the classes.
Result<TrueLabel> LabelFromFlag(const std::string& label, const std::vector<std::string>& class_names);

// The class the image's path names, if any: a file written by `alexnet extract`
// (<index>_<class>.png, "0_Ankle-boot.png") or an image folder's root/<class>/<image>. Names
// compare as extract writes them (characters other than letters and digits as '-', any case);
// a name that fits more than one class, or none, gives index -1.
TrueLabel LabelFromPath(const std::string& image_path, const std::vector<std::string>& class_names);

// What the network made of the image.
struct Prediction {
  std::vector<std::pair<int, float>> top;  // (class, probability), most probable first (up to 5)
  int true_class = -1;                     // TrueLabel::index: -1 when not known
  std::string true_source;                 // TrueLabel::source
  float true_probability = 0;
  int true_rank = 0;                       // 1 = the most probable

  bool known() const { return true_class >= 0; }
  bool correct() const { return known() && true_rank == 1; }
};

// One stage of the walk-through, as drawn.
struct StageReport {
  std::string name;             // input, conv1, lrn1, pool1, ..., fc8 (fc8 includes the softmax)
  std::vector<int64_t> shape;   // H, W, C or units, read off the tensor the network produced
  std::string image;            // PNG file name, relative to the output folder
  int width = 0, height = 0;    // of the PNG
  std::string note;             // what to look for (e.g. "7 of 96 channels are zero everywhere")
};

struct InspectReport {
  std::vector<StageReport> stages;          // input first, then the seed's table in order
  Prediction prediction;                    // the top classes, and the true class's rank when known
  std::array<float, 3> mean_rgb{};          // what was subtracted from the input
  std::string mean_note;                    // where that mean came from
  std::string html_path;                    // <out>/index.html
};

struct InspectOptions {
  std::string command;     // shown on the page: how it was made (the tool's command line)
  int grid_width = 1100;   // feature-map grids are upscaled to about this width (smaller files)
  int chart_width = 1024;  // FC bar charts
  TrueLabel label;         // the image's class, when known: fc8's chart marks it
};

// Runs `image_path` through the network and writes <out>/<stage>.png for every stage and
// <out>/index.html.
Result<InspectReport> InspectImage(const InspectModel& m, const std::string& image_path, const std::string& out_dir,
                                   const InspectOptions& options);

// One stage's numbers, for `alexnet inspect --text` (no pictures).
struct StageStats {
  std::string name;              // input, conv1, ..., fc8, softmax
  std::vector<int64_t> shape;    // H, W, C or units
  double zero_fraction = 0;      // of the values exactly 0 (after a ReLU: the units that are off)
  float min = 0, max = 0;
  double mean = 0;
  model::ReceptiveField field;   // of one unit, in input pixels (model/layers.h)
};

struct StageStatsReport {
  std::vector<StageStats> stages;  // input, the seed's table in order, softmax
  Prediction prediction;
  std::string mean_note;           // what was subtracted from the input
  std::string geometry_note;       // decoded size -> S x S square -> C x C crop, in numbers
  std::array<float, 3> mean_rgb{};  // the mean subtracted, RGB, 0..255
};

// Runs `image_path` through the network and measures every stage's output; writes nothing.
Result<StageStatsReport> InspectStageStats(const InspectModel& m, const std::string& image_path,
                                           const TrueLabel& label = {});

// The report as text: a header, one line per stage (shape, zero fraction, min, max, mean,
// receptive field), the most probable classes and the true class when known.
std::string StageStatsText(const InspectModel& m, const std::string& image_path, const StageStatsReport& r);

// "most probable: Sneaker 0.559, Ankle boot 0.406, Sandal 0.028", then, when the true class is
// known, "\ntrue class: Ankle boot (from the file name): 0.406, rank 2"; no final newline.
std::string PredictionText(const InspectModel& m, const Prediction& p);

// conv1's 96 kernels (11 x 11 x 3) as an 8 x 12 RGB grid (the paper's Figure 3), from the
// session's current weights, and where its cells are.
struct FilterImage {
  cv::Mat image;
  GridLayout layout;
};
Result<FilterImage> Conv1FilterImage(model::ModelSession* session, int scale = 5);

// "55 x 55 x 96", "4096".
std::string ShapeText(const std::vector<int64_t>& shape);

}  // namespace alexnet::report
