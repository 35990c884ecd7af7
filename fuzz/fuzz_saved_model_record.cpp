// fuzz_saved_model_record: a SavedModel's assets/preprocessing.json as `predict --model` reads it
// (train/serving_record.h): ParseServingRecord on arbitrary bytes.
// Seeds: fuzz/corpus/fuzz_saved_model_record (written by `alexnet export --format saved_model`).
#include <cstddef>
#include <cstdint>
#include <string>

#include "train/serving_record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)alexnet::train::ParseServingRecord(text, "preprocessing.json");  // failures are a Result
  return 0;
}
