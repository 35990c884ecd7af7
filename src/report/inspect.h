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
  std::vector<std::pair<int, float>> top;   // (class, probability), most probable first
  std::array<float, 3> mean_rgb{};          // what was subtracted from the input
  std::string mean_note;                    // where that mean came from
  std::string html_path;                    // <out>/index.html
};

struct InspectOptions {
  std::string command;     // shown on the page: how it was made (the tool's command line)
  int grid_width = 1100;   // feature-map grids are upscaled to about this width (smaller files)
  int chart_width = 1024;  // FC bar charts
};

// Runs `image_path` through the network and writes <out>/<stage>.png for every stage and
// <out>/index.html.
Result<InspectReport> InspectImage(const InspectModel& m, const std::string& image_path, const std::string& out_dir,
                                   const InspectOptions& options);

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
