// fuzz_state: a checkpoint's state.json read as CheckpointManager::Latest does (train/checkpoint.cpp,
// which needs TensorFlow, so its two lines are repeated here): nlohmann::json::parse without
// exceptions, then TrainStateFromJson (train/train_state.h).
// Seeds: fuzz/corpus/fuzz_state (tests/train/testdata/v1/state.json and today's ToJson).
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "train/train_state.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  (void)alexnet::train::TrainStateFromJson(j);  // no try/catch: failures are a Result
  return 0;
}
