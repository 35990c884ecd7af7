// A run folder made from weights trained elsewhere (`alexnet import caffe`, `import torchvision`):
// written into <run>.importing/ and renamed to <run> only when complete, so a failed import leaves
// neither folder behind; an existing run is never overwritten. The checkpoint holds the
// parameters only (checkpoints/best, step 0), written one tensor at a time with TensorFlow's
// bundle writer.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tensorflow/core/framework/tensor.h>

#include "data/color_stats.h"
#include "train/config.h"
#include "util/status.h"

namespace alexnet::train {

class ImportStaging {
 public:
  // Refuses an existing run_dir; makes <run_dir>.importing (removing one a killed import left).
  static Result<ImportStaging> Begin(const std::string& run_dir);
  ImportStaging(ImportStaging&& other) noexcept;
  ImportStaging& operator=(ImportStaging&&) = delete;
  ~ImportStaging();  // removes the staging folder unless Finish succeeded

  const std::string& dir() const { return dir_; }

  // Our parameters of `model` in the graph's order (names "conv1/weights", ..., shapes HWIO and
  // [in, out]), each asked of `value` (which fills the tensor) and written to the checkpoint.
  // Returns the number of values written.
  using ParameterValue = std::function<Status(const std::string& name, tensorflow::Tensor* value)>;
  Result<int64_t> WriteCheckpoint(const model::ModelOptions& model, const ParameterValue& value);
  // state.json, color_stats.json, classes.txt, config.json, then the rename.
  Status Finish(const TrainConfig& config, const std::vector<std::string>& classes, const data::ColorStats& stats);

 private:
  ImportStaging(std::string run_dir, std::string dir) : run_dir_(std::move(run_dir)), dir_(std::move(dir)) {}
  std::string run_dir_, dir_;
  bool finished_ = false;
};

// {"path", "file", "bytes", "sha256"} of an input file, for config.json's "imported" record.
Result<nlohmann::json> ImportedFileRecord(const std::string& path);

// Our parameter names and shapes for `model`, in the graph's order (graph.cpp builds the same).
std::vector<std::pair<std::string, std::vector<int64_t>>> ParameterShapes(const std::vector<model::LayerShape>& shapes);

}  // namespace alexnet::train
