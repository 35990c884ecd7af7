// assets/preprocessing.json of a SavedModel written by `alexnet export --format saved_model`
// (saved_model.h): what a reader needs besides the graph. Parsed here, without TensorFlow, so
// that the parser is fuzzed (fuzz/fuzz_saved_model_record.cpp) like the run folder's files.
#pragma once

#include <string>

#include "train/config.h"
#include "util/status.h"

namespace alexnet::train {

inline constexpr char kSavedModelFormat[] = "alexnet-saved-model";

struct ServingRecord {
  TrainConfig config;  // the run's, as recorded, with the record's resize, crop and decode limits
  int classes = 0;
};

// `text`: the file's contents; `path` names it in errors.
Result<ServingRecord> ParseServingRecord(const std::string& text, const std::string& path);

}  // namespace alexnet::train
