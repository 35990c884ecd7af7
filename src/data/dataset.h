// The Dataset interface the loader and the statistics read from, and the shared
// train/validation split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "data/skip_log.h"
#include "util/status.h"

namespace alexnet::data {

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual std::size_t size() const = 0;
  virtual int label(std::size_t i) const = 0;  // 0 .. class_names().size() - 1
  virtual const std::vector<std::string>& class_names() const = 0;
  // Sample i as RGB8 (CV_8UC3, any size), reusing rgb's storage when it can. Must be safe to
  // call from several threads at once. Failure: the Status names the file and the reason.
  virtual Status LoadInto(std::size_t i, cv::Mat& rgb) const = 0;
  // A name for sample i in messages: its path, or "file#index" for array datasets.
  virtual std::string name(std::size_t i) const = 0;
  // One line saying what this is (root folder, split, counts).
  virtual std::string description() const = 0;

  // LoadInto() plus the checks every consumer needs: the image is non-empty CV_8UC3, and an
  // exception from a Dataset implementation becomes an error Status. Loader and statistics
  // use this.
  Status LoadRgb8(std::size_t i, cv::Mat& rgb) const;
  Result<cv::Mat> Load(std::size_t i) const;

  // Files skipped so far by whoever read this dataset (loader, statistics), each once.
  SkipLog& skip_log() const { return skip_log_; }

 private:
  mutable SkipLog skip_log_;
};

enum class Subset { kAll, kTrain, kVal };

// Validation split by a fixed seed, stratified: within each class the samples are shuffled by
// the seed and round(n_c * val_fraction) of them go to validation, so class proportions are
// kept and the split does not change when other classes change.
struct SplitOptions {
  double val_fraction = 0.0;  // 0: no split (kTrain and kAll are then everything)
  std::uint64_t seed = 0;
  Subset subset = Subset::kAll;
};

// Indices (ascending) of the chosen subset of samples with these labels.
Result<std::vector<std::size_t>> SplitIndices(const std::vector<int>& labels, int num_classes,
                                               const SplitOptions& options);

const char* SubsetName(Subset subset);

}  // namespace alexnet::data
