// What the smaller `alexnet` subcommands do, as library functions the tests call directly:
// src/cli only parses their flags, calls these and turns the Status into a message and an exit
// code. Results go to `out`; nothing here prints errors or exits.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"
#include "model/layers.h"
#include "train/config.h"
#include "train/open_dataset.h"
#include "train/predict.h"
#include "train/trained_model.h"

namespace alexnet::train {

// `alexnet eval`: top-1/top-5 of a run's checkpoint on the test or validation split (centre crop,
// optionally ten-crop too), per-class accuracy and confusion matrix as CSV, eval.json.
struct EvalRequest {
  std::string run_dir;
  std::string model_dir;    // a SavedModel (saved_model.h) instead of the run; reports then go to ./eval-*
  std::string checkpoint;   // "" = the run's best (else newest)
  Split split = Split::kTest;  // kTest or kVal
  int64_t limit = 0;        // only the first N images (0 = all)
  bool ten_crop = false;
  int batch = 100;          // crops per forward pass
  int workers = 2;
  std::string out_dir;      // "" = <run>/eval-<split>
  SessionChoice session;
  // Other images than the run's own data (an imported run has none): every image of an image
  // folder root/<class>/<image> (the run's class names) or of a list file of "path label" lines
  // (labels: class indices or the run's class names). Then `split` is not used.
  std::string data;
  std::string list_file;
};
// Opens a SavedModel when model_dir is given, else the run's checkpoint.
Result<std::unique_ptr<Classifier>> OpenClassifier(const std::string& run_dir, const std::string& checkpoint,
                                                   const std::string& model_dir, const SessionChoice& session);
// Returns the eval.json written (checkpoint, data, and per mode: images, top-1/top-5 accuracy
// and error, loss, skipped).
Result<nlohmann::json> EvaluateRun(const EvalRequest& request, std::ostream& out);

// `alexnet predict`: the top classes of image files and folders. Unreadable inputs are results
// with an error, not a failure; the model not opening is a failure.
struct PredictRequest {
  std::string run_dir;
  std::string model_dir;    // a SavedModel (saved_model.h) instead of the run
  std::string checkpoint;
  std::vector<std::string> inputs;
  int top = 5;
  int batch = 100;
  SessionChoice session;
};
struct PredictOutcome {
  std::vector<std::string> class_names;
  std::vector<Prediction> results;  // in input order; missing inputs first
  int failed() const;
};
Result<PredictOutcome> PredictRun(const PredictRequest& request);
// Each readable input with its top classes ("  0.9731  Sneaker"), for a terminal.
std::string PredictionsText(const PredictOutcome& outcome);
// [{"path", "top": [{"class", "index", "probability"}]} or {"path", "error"}]
nlohmann::json PredictionsJson(const PredictOutcome& outcome);

// `alexnet export`: the frozen inference graph of a run's checkpoint. Returns the file written
// (`output`, or <run>/alexnet_frozen.pb).
Result<std::string> ExportFrozenGraph(const std::string& run_dir, const std::string& checkpoint,
                                      const std::string& output, std::ostream& out);

// `alexnet extract`: images first..first+count-1 of a split as <index>_<class>.png files; an
// unreadable image is named on `skipped` and left out.
Status ExtractImages(const DataSpec& spec, Split split, int first, int count, const std::string& out_dir,
                     std::ostream& out, std::ostream& skipped);

// `alexnet train-step`: SGD steps on one random batch (a smoke test of the training graph),
// one line per step with loss, time and images/s.
Status RunTrainSteps(const model::ModelOptions& options, int batch, int steps, float lr, std::ostream& out);

// `alexnet bench-input`: the input pipeline's images/s against a 1-thread baseline.
Status BenchInput(const DataSpec& spec, int workers, int images, int batch, std::ostream& out);

}  // namespace alexnet::train
