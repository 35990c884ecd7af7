// What predict and eval classify images with: a run's checkpoint (trained_model.h) or a
// SavedModel (saved_model.h). The caller decodes and preprocesses the images as the classifier
// says; the classifier turns the batch into probabilities.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tensorflow/core/framework/tensor.h>

#include "data/color_stats.h"
#include "data/decode.h"
#include "data/preprocess.h"
#include "train/config.h"
#include "util/status.h"

namespace alexnet::train {

class Classifier {
 public:
  virtual ~Classifier() = default;
  virtual const std::vector<std::string>& class_names() const = 0;
  // The run's configuration (a SavedModel's as recorded in it): its data, resize, crop, decode limits.
  virtual const TrainConfig& config() const = 0;
  // Resize, crop and which mean the caller subtracts (kNone for a SavedModel, which subtracts its own).
  virtual data::PreprocessOptions preprocess() const = 0;
  virtual const data::Normalization& normalization() const = 0;
  virtual std::shared_ptr<const data::ColorStats> stats() const = 0;  // nullptr when nothing is subtracted
  // The run's decode limits.
  data::DecodeOptions decode() const {
    data::DecodeOptions d;
    if (config().data.max_pixels > 0) d.max_pixels = static_cast<std::uint64_t>(config().data.max_pixels);
    d.strict_jpeg = config().data.strict_decode;
    return d;
  }
  // images [N, C, C, 3] preprocessed as above -> probabilities [N, classes].
  virtual Status Predict(const tensorflow::Tensor& images, tensorflow::Tensor* probabilities) = 0;
  // What was loaded, for messages and reports: a checkpoint prefix or a SavedModel folder.
  virtual const std::string& origin() const = 0;
};

}  // namespace alexnet::train
